//! Healthcare tables: hospital encounters, and diagnoses/medications shaped like the
//! SMCQL/Secrecy benchmark tables.
//!
//! ## Reference policy (encounters)
//! Clean rows satisfy all of these; a planted [`Violation`] breaks exactly one:
//! - `age >= MIN_AGE` (an adult cohort) — [`Violation::Minor`];
//! - `consent == true` — [`Violation::NoConsent`];
//! - the diagnosis is not in an excluded chapter ([`EXCLUDED_CHAPTERS`]: mental and behavioural
//!   disorders, which this data-sharing agreement does not cover) — [`Violation::ExcludedDiagnosis`];
//! - `discharge >= admission` — [`Violation::DischargeBeforeAdmission`];
//! - `if medication == "aspirin" then daily_dose <= ASPIRIN_MAX_DAILY_MG` — [`Violation::AspirinOverdose`];
//! - `cost <= COST_LIMIT` — [`Violation::CostAboveLimit`].
//!
//! Clean rows also keep `length_of_stay == discharge - admission`.
//!
//! ## SMCQL-shaped tables
//! `diagnoses` and `medications` come in fixed blocks per patient (4 diagnoses, 2 medications),
//! drawn from a per-patient profile shared by both tables, so that the classic queries have real
//! answers: *comorbidity* (top-10 diagnoses among C. difficile patients), *recurrent C. diff*
//! (a second C. diff diagnosis 15–56 days after the first; about a third of C. diff patients),
//! and *aspirin count* (heart-disease patients prescribed aspirin after their diagnosis). C.
//! difficile is ICD-10-CM A04.7; at the three-character level of the dictionary it is `A04`.

use rand::Rng;
use rand_chacha::ChaCha12Rng;

use super::{RowSource, Spec, Streams, Violation, icd10, weighted};
use crate::schema::{ColumnSpec, Schema, TypeName};
use crate::value::Value;

/// Reference policy: least age of the cohort.
pub const MIN_AGE: u64 = 18;
/// Reference policy: ICD-10 chapters whose diagnoses may not be shared (5: mental, behavioural
/// and neurodevelopmental disorders).
pub const EXCLUDED_CHAPTERS: &[u8] = &[5];
/// Reference policy: most aspirin per day, in mg.
pub const ASPIRIN_MAX_DAILY_MG: u64 = 4000;
/// Reference policy: most cost of one encounter, in cents (500,000.00).
pub const COST_LIMIT: i128 = 50_000_000;
/// The C. difficile category.
pub const C_DIFF: &str = "A04";
/// Heart-disease categories (ischaemic heart diseases) used by the aspirin-count query.
pub const HEART_DISEASE: &[&str] = &["I20", "I21", "I25"];

/// Medications in the `medication` dictionary; `none` means no medication (dose 0).
pub const MEDICATIONS: &[&str] = &[
    "none",
    "aspirin",
    "metformin",
    "lisinopril",
    "atorvastatin",
    "amoxicillin",
    "vancomycin",
    "metronidazole",
    "ibuprofen",
    "acetaminophen",
    "omeprazole",
    "warfarin",
    "insulin_glargine",
];

/// Frequent inpatient diagnoses and their relative weights; the rest of the dictionary (minus
/// excluded chapters) forms a uniform long tail.
const COMMON: &[(&str, u32)] = &[
    ("I10", 90),
    ("E11", 70),
    ("I25", 50),
    ("J18", 45),
    ("N39", 40),
    ("I50", 40),
    ("E78", 38),
    ("J44", 35),
    ("A41", 30),
    ("I48", 30),
    ("N18", 25),
    ("K57", 18),
    ("I21", 15),
    ("M17", 15),
    ("A04", 12),
    ("I20", 10),
    ("J45", 10),
    ("K21", 10),
    ("E66", 10),
    ("R07", 10),
];

fn med(name: &str) -> u32 {
    MEDICATIONS
        .iter()
        .position(|m| *m == name)
        .expect("known medication") as u32
}

fn date_col(name: &str) -> ColumnSpec {
    ColumnSpec::new(name, TypeName::Date)
        .with_min("2000-01-01")
        .with_max("2099-12-31")
}

fn time_col(name: &str) -> ColumnSpec {
    ColumnSpec::new(name, TypeName::Timestamp)
        .with_min("2000-01-01T00:00:00Z")
        .with_max("2099-12-31T23:59:59Z")
}

/// Schema of `encounters`.
pub fn encounters_schema() -> Schema {
    let zips: Vec<String> = (0..1000).map(|z| format!("{z:03}")).collect();
    Schema::new(
        "encounters",
        vec![
            ColumnSpec::uint("encounter_id", 40),
            ColumnSpec::uint("patient_id", 32),
            ColumnSpec::uint("age", 8).with_max("120"),
            ColumnSpec::categorical("sex", ["F", "M", "U"]),
            ColumnSpec::categorical("zip3", zips),
            ColumnSpec::categorical("diagnosis", icd10::codes()),
            date_col("admission"),
            date_col("discharge"),
            ColumnSpec::uint("length_of_stay", 16),
            ColumnSpec::decimal("cost", 2, 40),
            ColumnSpec::new("consent", TypeName::Bool),
            ColumnSpec::categorical("medication", MEDICATIONS.iter().copied()),
            ColumnSpec::uint("daily_dose", 20).with_max("100000"),
        ],
    )
    .expect("built-in schema is valid")
}

/// Schema of `diagnoses` (SMCQL/Secrecy shape).
pub fn diagnoses_schema() -> Schema {
    Schema::new(
        "diagnoses",
        vec![
            ColumnSpec::uint("patient_id", 32),
            ColumnSpec::categorical("diagnosis", icd10::codes()),
            time_col("diagnosed_at"),
        ],
    )
    .expect("built-in schema is valid")
}

/// Schema of `medications` (SMCQL/Secrecy shape).
pub fn medications_schema() -> Schema {
    Schema::new(
        "medications",
        vec![
            ColumnSpec::uint("patient_id", 32),
            ColumnSpec::categorical("medication", MEDICATIONS.iter().copied()),
            ColumnSpec::uint("daily_dose", 20).with_max("100000"),
            time_col("prescribed_at"),
        ],
    )
    .expect("built-in schema is valid")
}

/// Diagnosis pickers over the bundled dictionary.
struct Dx {
    common: Vec<(u32, u32)>,
    allowed: Vec<u32>,
    excluded: Vec<u32>,
}

impl Dx {
    fn new() -> Dx {
        let idx = |c: &str| icd10::index_of(c).expect("common code is in the dictionary");
        let (mut allowed, mut excluded) = (Vec::new(), Vec::new());
        for (i, c) in icd10::categories().iter().enumerate() {
            if EXCLUDED_CHAPTERS.contains(&c.chapter) {
                excluded.push(i as u32);
            } else {
                allowed.push(i as u32);
            }
        }
        Dx {
            common: COMMON.iter().map(|(c, w)| (idx(c), *w)).collect(),
            allowed,
            excluded,
        }
    }
    /// 70% from the frequent list, 30% uniform over the allowed long tail.
    fn draw(&self, rng: &mut ChaCha12Rng) -> u32 {
        if rng.gen_range(0..10) < 7 {
            *weighted(rng, &self.common)
        } else {
            self.allowed[rng.gen_range(0..self.allowed.len())]
        }
    }
    fn code(c: &str) -> u32 {
        icd10::index_of(c).expect("code is in the dictionary")
    }
}

/// A patient's stable attributes, shared by every table that mentions the patient.
struct Profile {
    age: u64,
    sex: u32,
    zip3: u32,
    cdiff: bool,
    recurrent: bool,
    heart: bool,
    /// Day (since 1970) of the first recorded event.
    first_day: i64,
}

/// Days since 1970-01-01 of 2018-01-01, the start of the generated period.
const PERIOD_START: i64 = 17_532;

fn profile(streams: &Streams, patient: u64) -> Profile {
    let mut r = streams.rng(patient);
    // Older patients are admitted more: the larger of two uniform draws.
    let age = r.gen_range(MIN_AGE..=95).max(r.gen_range(MIN_AGE..=95));
    let sex = match r.gen_range(0..1000) {
        0..=509 => 0,
        510..=994 => 1,
        _ => 2,
    };
    let cdiff = r.gen_range(0..100) < 4;
    Profile {
        age,
        sex,
        zip3: r.gen_range(10..1000),
        cdiff,
        recurrent: cdiff && r.gen_range(0..100) < 35,
        heart: r.gen_range(0..100) < 12,
        first_day: PERIOD_START + r.gen_range(0..6 * 365),
    }
}

/// The medication usually given for a diagnosis, with a daily dose in mg.
fn therapy(code: &str, rng: &mut ChaCha12Rng) -> (u32, u64) {
    let pick = |rng: &mut ChaCha12Rng, doses: &[u64]| doses[rng.gen_range(0..doses.len())];
    match code {
        "I20" | "I21" | "I25" => (med("aspirin"), pick(rng, &[81, 100, 162, 325])),
        "A04" => {
            if rng.gen_bool(0.5) {
                (med("vancomycin"), 500)
            } else {
                (med("metronidazole"), 1500)
            }
        }
        "E11" => (med("metformin"), pick(rng, &[500, 1000, 1500, 2000])),
        "I10" => (med("lisinopril"), pick(rng, &[10, 20, 40])),
        "E78" => (med("atorvastatin"), pick(rng, &[10, 20, 40, 80])),
        "J18" | "A41" | "N39" => (med("amoxicillin"), pick(rng, &[1500, 3000])),
        "I48" => (med("warfarin"), pick(rng, &[2, 5, 10])),
        _ => match rng.gen_range(0..10) {
            0 => (med("ibuprofen"), pick(rng, &[1200, 2400])),
            1 => (med("acetaminophen"), pick(rng, &[2000, 3000])),
            2 => (med("omeprazole"), pick(rng, &[20, 40])),
            3 => (med("aspirin"), pick(rng, &[81, 325, 1000, 3000])),
            _ => (med("none"), 0),
        },
    }
}

/// Row source of `encounters`.
pub(crate) struct Encounters {
    dx: Dx,
    patients: u64,
    profiles: Streams,
}

impl Encounters {
    pub(crate) fn new(spec: Spec) -> Self {
        Encounters {
            dx: Dx::new(),
            // About three encounters per patient.
            patients: (spec.rows / 3).max(1),
            profiles: Streams::new(spec.seed, "patients"),
        }
    }
}

impl RowSource for Encounters {
    fn row(&self, index: u64, r: &mut ChaCha12Rng, violation: Option<Violation>) -> Vec<Value> {
        let patient = r.gen_range(0..self.patients);
        let p = profile(&self.profiles, patient);
        let mut age = p.age;
        let mut diagnosis = self.dx.draw(r);
        let admission = p.first_day + r.gen_range(0..365);
        // Geometric length of stay, mean ~2.3 days, capped at 60.
        let mut los = 0;
        while los < 60 && r.gen_range(0..10) < 7 {
            los += 1;
        }
        let mut discharge = admission + los;
        let per_day = r.gen_range(150_000..=450_000i128);
        let mut cost = per_day * (i128::from(los as u32) + 1) + r.gen_range(0..=2_000_000i128);
        let mut consent = true;
        let code = &icd10::categories()[diagnosis as usize].code;
        let (mut medication, mut dose) = therapy(code, r);
        match violation {
            None => {}
            Some(Violation::Minor) => age = r.gen_range(1..MIN_AGE),
            Some(Violation::NoConsent) => consent = false,
            Some(Violation::ExcludedDiagnosis) => {
                diagnosis = self.dx.excluded[r.gen_range(0..self.dx.excluded.len())]
            }
            Some(Violation::DischargeBeforeAdmission) => {
                discharge = admission - r.gen_range(1..=10);
                los = 0;
            }
            Some(Violation::AspirinOverdose) => {
                medication = med("aspirin");
                dose = r.gen_range(ASPIRIN_MAX_DAILY_MG + 1..=8000);
            }
            Some(Violation::CostAboveLimit) => {
                cost = COST_LIMIT + r.gen_range(1..=COST_LIMIT);
            }
            Some(other) => unreachable!("{other:?} is not an encounters violation"),
        }
        vec![
            Value::Uint(index),
            Value::Uint(patient),
            Value::Uint(age),
            Value::Category(p.sex),
            Value::Category(p.zip3),
            Value::Category(diagnosis),
            Value::Date(admission as i32),
            Value::Date(discharge as i32),
            Value::Uint(los as u64),
            Value::Decimal(cost),
            Value::Bool(consent),
            Value::Category(medication),
            Value::Uint(dose),
        ]
    }
}

fn at(day: i64, r: &mut ChaCha12Rng) -> Value {
    Value::Timestamp(day * 86_400 + r.gen_range(6 * 3600..22 * 3600))
}

/// Row source of `diagnoses`: four rows per patient.
pub(crate) struct Diagnoses {
    dx: Dx,
    c_diff: u32,
    profiles: Streams,
}

impl Diagnoses {
    pub(crate) fn new(spec: Spec) -> Self {
        Diagnoses {
            dx: Dx::new(),
            c_diff: Dx::code(C_DIFF),
            profiles: Streams::new(spec.seed, "patients"),
        }
    }
}

impl Diagnoses {
    /// A diagnosis other than C. diff: in this table C. diff comes only from the patient's
    /// profile, so the C. diff cohort is exactly the profiled one.
    fn other(&self, r: &mut ChaCha12Rng) -> u32 {
        loop {
            let dx = self.dx.draw(r);
            if dx != self.c_diff {
                return dx;
            }
        }
    }
}

impl RowSource for Diagnoses {
    fn row(&self, index: u64, r: &mut ChaCha12Rng, _: Option<Violation>) -> Vec<Value> {
        let (patient, slot) = (index / 4, index % 4);
        let p = profile(&self.profiles, patient);
        let heart =
            |r: &mut ChaCha12Rng| Dx::code(HEART_DISEASE[r.gen_range(0..HEART_DISEASE.len())]);
        let (dx, day) = match slot {
            0 if p.cdiff => (Dx::code(C_DIFF), p.first_day),
            0 if p.heart => (heart(r), p.first_day),
            1 if p.recurrent => (Dx::code(C_DIFF), p.first_day + r.gen_range(15..=56)),
            1 if p.heart && p.cdiff => (heart(r), p.first_day + r.gen_range(1..=365)),
            0 => (self.other(r), p.first_day),
            _ => (self.other(r), p.first_day + r.gen_range(1..=730)),
        };
        vec![Value::Uint(patient), Value::Category(dx), at(day, r)]
    }
}

/// Row source of `medications`: two rows per patient.
pub(crate) struct Medications {
    profiles: Streams,
}

impl Medications {
    pub(crate) fn new(spec: Spec) -> Self {
        Medications {
            profiles: Streams::new(spec.seed, "patients"),
        }
    }
}

impl RowSource for Medications {
    fn row(&self, index: u64, r: &mut ChaCha12Rng, _: Option<Violation>) -> Vec<Value> {
        let (patient, slot) = (index / 2, index % 2);
        let p = profile(&self.profiles, patient);
        let (m, dose, day) = match slot {
            // Most heart patients get aspirin after the diagnosis; some had it before.
            0 if p.heart && r.gen_range(0..100) < 75 => {
                let day = if r.gen_range(0..10) == 0 {
                    p.first_day - r.gen_range(1..=100)
                } else {
                    p.first_day + r.gen_range(0..=30)
                };
                (med("aspirin"), [81, 100, 325][r.gen_range(0..3)], day)
            }
            0 if p.cdiff => (med("vancomycin"), 500, p.first_day + r.gen_range(0..=3)),
            _ => {
                let code = COMMON[r.gen_range(0..COMMON.len())].0;
                let (m, dose) = therapy(code, r);
                (m, dose, p.first_day + r.gen_range(0..=730))
            }
        };
        vec![
            Value::Uint(patient),
            Value::Category(m),
            Value::Uint(dose),
            at(day, r),
        ]
    }
}
