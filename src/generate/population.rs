//! Schools and users of the scenario.

use super::rng::Rng;

/// Type of a structure, as in the referential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A primary school.
    Ecole,
    /// A middle school.
    College,
}

impl Kind {
    /// The type written in `structures.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ecole => "ECOLE",
            Kind::College => "COLLEGE",
        }
    }
}

/// One school.
#[derive(Clone, Debug)]
pub struct Structure {
    /// Entcore id.
    pub id: [u8; 36],
    /// National school code.
    pub uai: String,
    /// Display name.
    pub name: String,
    /// ECOLE or COLLEGE.
    pub kind: Kind,
    /// Class ids.
    pub classes: Vec<[u8; 36]>,
}

/// One user.
#[derive(Clone, Debug)]
pub struct User {
    /// Entcore id.
    pub id: [u8; 36],
    /// Profile code (see [`crate::parse::Profile`]).
    pub profile: u8,
    /// Indexes of the user's structures (empty for platform admins).
    pub structures: Vec<u32>,
    /// Class index within the first structure.
    pub class: u16,
    /// Uses the mobile app rather than the web.
    pub mobile: bool,
}

/// A set of users who share a login budget.
#[derive(Clone, Debug)]
pub struct Group {
    /// The segment its users' structures belong to (`None`: no structure).
    pub kind: Option<Kind>,
    /// Its users, as a range of [`Population::users`].
    pub users: std::ops::Range<usize>,
    /// The first `march_active` users log in in March; the others do not.
    pub march_active: usize,
    /// Every March-active user logs in at least once in March: the
    /// published distinct counts rest on it.
    pub march_required: bool,
    /// Share of its segment's login budget.
    pub share: f64,
    /// Running sums of the users' activity weights.
    pub cumulative: Vec<f64>,
}

/// Everything the scenario is made of.
#[derive(Clone, Debug)]
pub struct Population {
    /// Schools.
    pub structures: Vec<Structure>,
    /// Users, grouped.
    pub users: Vec<User>,
    /// Groups of users.
    pub groups: Vec<Group>,
}

/// The published March 2020 figures for schools (ECOLE) at scale 1.
pub const MARCH_CONNECTIONS: u64 = 1_780_781;
/// Distinct pupils of schools with a LOGIN in March 2020, at scale 1.
pub const MARCH_PUPILS: u64 = 31_640;
/// Distinct parents of schools with a LOGIN in March 2020, at scale 1.
pub const MARCH_PARENTS: u64 = 22_437;

/// Scales a count, keeping at least `min`.
pub fn scaled(n: u64, scale: f64, min: u64) -> u64 {
    ((n as f64 * scale).round() as u64).max(min)
}

const TOWNS: [&str; 20] = [
    "Amiens",
    "Abbeville",
    "Albert",
    "Péronne",
    "Montdidier",
    "Doullens",
    "Ham",
    "Roye",
    "Corbie",
    "Friville-Escarbotin",
    "Rue",
    "Poix-de-Picardie",
    "Moreuil",
    "Villers-Bretonneux",
    "Flixecourt",
    "Longueau",
    "Camon",
    "Rivery",
    "Salouël",
    "Nesle",
];
const PATRONS: [&str; 16] = [
    "Jules Ferry",
    "Jean Moulin",
    "Victor Hugo",
    "Louise Michel",
    "Jean Jaurès",
    "Jules Verne",
    "Marie Curie",
    "Pierre et Marie Curie",
    "Jacques Prévert",
    "Saint-Exupéry",
    "Condorcet",
    "Édouard Branly",
    "Les Tilleuls",
    "Le Petit Prince",
    "Françoise Dolto",
    "Paul Éluard",
];

/// A UAI of the Somme: `080`, four digits, and the check letter of the
/// national scheme (the seven digits modulo 23, in a 23-letter alphabet).
fn uai(rng: &mut Rng, used: &mut std::collections::HashSet<u64>) -> String {
    const KEY: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    let n = loop {
        let n = 800_000 + rng.below(10_000);
        if used.insert(n) {
            break n;
        }
    };
    format!("{n:07}{}", KEY[(n % 23) as usize] as char)
}

/// One line of the population's plan: a profile in a segment (`None`:
/// platform staff), its March-active and inactive users, whether every
/// active one must connect in March, and its share of the segment's
/// activity budget.
type PlanLine = (u8, Option<Kind>, u64, u64, bool, f64);

/// The schools and colleges at `scale`, with their classes.
fn structures(rng: &mut Rng, scale: f64) -> Vec<Structure> {
    let mut used = std::collections::HashSet::new();
    let mut structures = Vec::new();
    let counts = [(Kind::Ecole, scaled(400, scale, 4)), (Kind::College, scaled(40, scale, 2))];
    for (kind, n) in counts {
        for i in 0..n {
            let town = TOWNS[rng.below(TOWNS.len() as u64) as usize];
            let patron = PATRONS[rng.below(PATRONS.len() as u64) as usize];
            let name = match kind {
                Kind::Ecole => format!("École primaire {patron} n°{}, {town}", i + 1),
                Kind::College => format!("Collège {patron}, {town}"),
            };
            // About 25 pupils a class, dormant accounts included.
            let classes =
                (0..if kind == Kind::Ecole { 4 } else { 16 }).map(|_| rng.uuid()).collect();
            structures.push(Structure {
                id: rng.uuid(),
                uai: uai(rng, &mut used),
                name,
                kind,
                classes,
            });
        }
    }
    structures
}

/// The users of each profile and segment at `scale`.
fn plan(scale: f64) -> [PlanLine; 10] {
    let pupils = scaled(MARCH_PUPILS, scale, 1);
    let parents = scaled(MARCH_PARENTS, scale, 1);
    let n = |count| scaled(count, scale, 1);
    [
        (0, Some(Kind::Ecole), pupils, n(4_300), true, 0.40),
        (1, Some(Kind::Ecole), parents, n(3_600), true, 0.47),
        (2, Some(Kind::Ecole), n(2_100), 0, false, 0.11),
        (3, Some(Kind::Ecole), n(380), 0, false, 0.015),
        (4, Some(Kind::Ecole), n(120), 0, false, 0.005),
        (0, Some(Kind::College), n(13_000), n(1_500), false, 0.55),
        (1, Some(Kind::College), n(9_000), n(1_200), false, 0.33),
        (2, Some(Kind::College), n(1_100), 0, false, 0.1),
        (3, Some(Kind::College), n(200), 0, false, 0.02),
        (3, None, n(40), 0, false, 1.0),
    ]
}

/// A random pick among `ids`.
fn pick(rng: &mut Rng, ids: &[u32]) -> u32 {
    ids[rng.below(ids.len() as u64) as usize]
}

/// A new user of `profile` in a structure of `kind`.
fn user(rng: &mut Rng, profile: u8, kind: Option<Kind>, ecoles: &[u32], colleges: &[u32]) -> User {
    let home = match kind {
        Some(Kind::Ecole) => vec![pick(rng, ecoles)],
        Some(Kind::College) => vec![pick(rng, colleges)],
        None => vec![],
    };
    let mut user = User {
        id: rng.uuid(),
        profile,
        structures: home,
        class: rng.below(16) as u16,
        mobile: rng.chance(if profile == 1 { 0.55 } else { 0.3 }),
    };
    // Parents with a child in a second school; teachers in two schools.
    // Only ECOLE users get a second structure, so the segment a user
    // counts in never changes.
    if kind == Some(Kind::Ecole) && (profile == 1 || profile == 2) {
        let x = rng.unit();
        if x < 0.08 {
            user.structures.push(pick(rng, colleges));
        } else if x < 0.11 {
            user.structures.push(pick(rng, ecoles));
        }
    }
    user
}

impl Population {
    /// The class of `user`: in their first structure, the one their events
    /// name (pupils) or the directory gives (parents: their child's;
    /// teachers: the one they teach most).
    pub fn class_of(&self, user: &User) -> Option<&[u8; 36]> {
        let classes = &self.structures[*user.structures.first()? as usize].classes;
        Some(&classes[usize::from(user.class) % classes.len()])
    }

    /// Builds the population at `scale` (1.0 reproduces the published
    /// figures).
    pub fn new(rng: &mut Rng, scale: f64) -> Population {
        let structures = structures(rng, scale);
        let of_kind = |kind| -> Vec<u32> {
            (0..structures.len() as u32).filter(|&s| structures[s as usize].kind == kind).collect()
        };
        let (ecoles, colleges) = (of_kind(Kind::Ecole), of_kind(Kind::College));
        let mut pop = Population { structures, users: Vec::new(), groups: Vec::new() };
        for (profile, kind, active, inactive, required, share) in plan(scale) {
            let start = pop.users.len();
            for _ in 0..active + inactive {
                pop.users.push(user(rng, profile, kind, &ecoles, &colleges));
            }
            let end = pop.users.len();
            // Activity is skewed: a few heavy users, many occasional ones.
            let weights: Vec<f64> = (start..end).map(|_| 0.2 + rng.unit().powi(3) * 4.0).collect();
            pop.groups.push(Group {
                kind,
                users: start..end,
                march_active: active as usize,
                march_required: required,
                share,
                cumulative: super::calendar::cumulative(&weights),
            });
        }
        pop.link_parents();
        pop
    }

    /// Gives each parent the class of a pupil of their first school, their
    /// child (without drawing from the generator, so that the rest of the
    /// scenario does not change).
    fn link_parents(&mut self) {
        let mut pupils: Vec<Vec<u16>> = vec![Vec::new(); self.structures.len()];
        for u in self.users.iter().filter(|u| u.profile == 0) {
            if let Some(&s) = u.structures.first() {
                pupils[s as usize].push(u.class);
            }
        }
        for (i, u) in self.users.iter_mut().enumerate().filter(|(_, u)| u.profile == 1) {
            if let Some(classes) = u.structures.first().map(|&s| &pupils[s as usize])
                && !classes.is_empty()
            {
                u.class = classes[i % classes.len()];
            }
        }
    }
}
