//! The device a visit is made from, as the national audience measure
//! counts them (`ordinateur`, `smartphone`, `tablette`, `autresappareil`),
//! read from the user agent.
//!
//! The rules are ours, written for the four classes and nothing else, in
//! the order the tokens decide: a crawler or a television is neither of
//! the three named devices; an iPad, an Android without `Mobile` (Google's
//! rule for tablets), Kindle and Silk are tablets; iPhone, iPod, Android
//! with `Mobile`, Windows Phone and any other `Mobile` token are
//! smartphones; the ENT's mobile apps count by the device they run on (an
//! iOS app's `CFNetwork` agent names no device: it counts as a
//! smartphone, where most app use is); Windows, macOS, Linux and ChromeOS
//! desktops are computers. Safari on iPadOS asks for desktop sites by
//! default and then sends exactly the agent of Safari on macOS: it counts
//! as a computer, as every reader of user agents alone counts it. The
//! parsing crates considered (`woothee`, `uaparser`) either fold tablets
//! into smartphones or carry a regex database far larger than these
//! rules, without knowing the ENT's apps.

use crate::hash::FastMap;

/// A device class of the national measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Device {
    /// A desktop or laptop computer.
    Computer = 0,
    /// A phone.
    Smartphone = 1,
    /// A tablet.
    Tablet = 2,
    /// Anything else: no user agent, consoles, televisions, crawlers.
    Other = 3,
}

impl Device {
    /// Every device, in the column order of the national datasets.
    pub const ALL: [Device; 4] =
        [Device::Computer, Device::Smartphone, Device::Tablet, Device::Other];

    /// The name the national datasets give it, which the tables write.
    pub fn name(self) -> &'static str {
        match self {
            Device::Computer => "ordinateur",
            Device::Smartphone => "smartphone",
            Device::Tablet => "tablette",
            Device::Other => "autresappareil",
        }
    }

    /// The device of a name written by [`Device::name`]; anything else is
    /// `Other`.
    pub fn from_name(name: &str) -> Device {
        Device::ALL.into_iter().find(|d| d.name() == name).unwrap_or(Device::Other)
    }

    /// The device's small integer code (0..4).
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Tokens of agents that are not people at a device of their own:
/// crawlers (which name a `+http` page about themselves), monitoring and
/// command-line clients.
const ROBOTS: [&str; 12] = [
    "bot/",
    "bot;",
    "crawler",
    "spider",
    "slurp",
    "+http",
    "facebookexternalhit",
    "curl/",
    "wget/",
    "python-",
    "java/",
    "headlesschrome",
];
/// Tokens of televisions and game consoles.
const SCREENS: [&str; 9] = [
    "smart-tv",
    "smarttv",
    "googletv",
    "android tv",
    "appletv",
    "crkey",
    "playstation",
    "xbox",
    "nintendo",
];
/// Tokens of tablets other than iPads and Android tablets.
const TABLETS: [&str; 4] = ["kindle", "silk/", "playbook", "tablet"];
/// Tokens of phones, once iPads and Android tablets are set apart.
const PHONES: [&str; 5] = ["iphone", "ipod", "windows phone", "mobile", "okhttp/"];
/// Tokens of desktop systems.
const DESKTOPS: [&str; 5] = ["windows nt", "macintosh", "x11", "linux", "cros"];

/// A worker's memory of the agents it has classified: logs repeat a few
/// thousand agents millions of times. Past [`AgentCache::LIMIT`] agents
/// (a hostile log can hold millions) it starts over.
#[derive(Clone, Debug, Default)]
pub struct AgentCache {
    seen: FastMap<Vec<u8>, Device>,
}

impl AgentCache {
    /// Most agents remembered.
    pub const LIMIT: usize = 1 << 16;

    /// The device of `agent`, classified on first sight.
    #[inline]
    pub fn device(&mut self, agent: &[u8]) -> Device {
        if let Some(&d) = self.seen.get(agent) {
            return d;
        }
        if self.seen.len() >= AgentCache::LIMIT {
            self.seen.clear();
        }
        let d = classify(agent);
        self.seen.insert(agent.to_vec(), d);
        d
    }
}

/// The device of a user agent (its bytes as logged).
pub fn classify(agent: &[u8]) -> Device {
    let lower = String::from_utf8_lossy(agent).to_ascii_lowercase();
    let has = |tokens: &[&str]| tokens.iter().any(|t| lower.contains(t));
    let android = lower.contains("android");
    if lower.trim().is_empty() || lower == "-" || has(&ROBOTS) || has(&SCREENS) {
        Device::Other
    } else if lower.contains("ipad") || (android && !lower.contains("mobile")) || has(&TABLETS) {
        Device::Tablet
    } else if android || has(&PHONES) || lower.contains("cfnetwork") {
        Device::Smartphone
    } else if has(&DESKTOPS) {
        Device::Computer
    } else {
        Device::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real-world user agents, each with the device it must count as:
    /// `fixtures/user_agents.csv` (`device;agent`).
    #[test]
    fn the_corpus_of_real_agents_is_classified_as_expected() {
        let corpus = include_str!("../fixtures/user_agents.csv");
        let mut seen = [0; 4];
        let mut wrong = Vec::new();
        for line in corpus.lines().skip(1).filter(|l| !l.is_empty()) {
            let (want, agent) = line.split_once(';').expect("device;agent");
            let want = Device::ALL.into_iter().find(|d| d.name() == want).expect(want);
            seen[usize::from(want.code())] += 1;
            let got = classify(agent.as_bytes());
            if got != want {
                wrong.push(format!("{agent}: {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        assert!(seen.iter().sum::<usize>() >= 30, "{seen:?}");
        assert!(seen.iter().all(|&n| n >= 4), "every device has cases: {seen:?}");
    }

    #[test]
    fn names_read_back() {
        for d in Device::ALL {
            assert_eq!(Device::from_name(d.name()), d);
        }
        assert_eq!(classify(b""), Device::Other);
    }
}
