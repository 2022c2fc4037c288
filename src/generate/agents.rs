//! The user agents of the scenario: each user keeps one kind of device
//! (a computer, a phone, a tablet, the ENT's app on a phone or a tablet,
//! now and then a television), drawn once from their profile, and each
//! request sends one of that kind's agents.

use super::population::User;
use super::rng::splitmix;

/// Desktop and laptop browsers.
const COMPUTER: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.132 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:74.0) Gecko/20100101 Firefox/74.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.132 Safari/537.36 Edg/80.0.361.66",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.116 Safari/537.36",
    "Mozilla/5.0 (X11; CrOS x86_64 12871.102.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.141 Safari/537.36",
];
/// Phone browsers.
const PHONE: [&str; 4] = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 13_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 9; SM-A505FN) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.119 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; SM-G973F) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/11.1 Chrome/75.0.3770.143 Mobile Safari/537.36",
    "Mozilla/5.0 (Android 10; Mobile; rv:68.0) Gecko/68.0 Firefox/68.0",
];
/// Tablet browsers.
const TABLET: [&str; 3] = [
    "Mozilla/5.0 (iPad; CPU OS 12_4_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 9; SM-T510) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.119 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 9; Lenovo TB-X505F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.117 Safari/537.36",
];
/// The ENT's app on a phone: iOS (whose agent names no device) and
/// Android.
const APP_PHONE: [&str; 2] = ["ENT%20Mobile/2 CFNetwork/1121.2.2 Darwin/19.3.0", "okhttp/3.12.1"];
/// The ENT's app on a tablet.
const APP_TABLET: [&str; 1] = ["ENT Mobile/2.5.1 (iPad; iOS 13.3.1; Scale/2.00)"];
/// Televisions and consoles.
const SCREEN: [&str; 2] = [
    "Mozilla/5.0 (SMART-TV; LINUX; Tizen 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Version/5.0 TV Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.18363",
];

/// The agents of each user's kind of device, by profile (pupil, parent,
/// teacher, staff, guest): the percentiles where computer, phone and
/// tablet end for users of the web (the rest use a television).
const WEB_SHARES: [[u64; 3]; 5] =
    [[45, 80, 98], [35, 88, 99], [80, 92, 100], [90, 96, 100], [60, 90, 100]];

/// The agents `user` (of index `index`) sends.
fn kind(user: &User, index: u32) -> &'static [&'static str] {
    let mut x = u64::from(index) ^ 0xA6E7_u64 << 32;
    let percentile = splitmix(&mut x) % 100;
    if user.mobile {
        return if percentile < 85 { &APP_PHONE } else { &APP_TABLET };
    }
    let [computer, phone, tablet] = WEB_SHARES[usize::from(user.profile.min(4))];
    match percentile {
        p if p < computer => &COMPUTER,
        p if p < phone => &PHONE,
        p if p < tablet => &TABLET,
        _ => &SCREEN,
    }
}

/// One agent of `user`'s device, picked by `draw` (any random number).
pub(super) fn agent(user: &User, index: u32, draw: u64) -> &'static str {
    let kinds = kind(user, index);
    kinds[(draw % kinds.len() as u64) as usize]
}
