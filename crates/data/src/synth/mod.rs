//! Deterministic synthetic data for the reference workloads, used by tests, examples and
//! benchmarks.
//!
//! A [`Spec`] names a [`Table`], a row count, a seed, a number of data holders and a number of
//! planted policy violations. Row `i` of the logical table is generated from its own ChaCha12
//! stream (key derived from the seed and the table, stream `i`), so any row is computed alone, in
//! any order, in parallel, and a split across holders (contiguous ranges) yields exactly the rows
//! of the unsplit table. Same spec, same bytes; integer arithmetic only, so the output does not
//! depend on the platform's floating point.
//!
//! Clean rows satisfy the table's *reference policy* (see [`healthcare`] and [`finance`]); each
//! planted violation breaks exactly one rule of it, on a row chosen by the seed, and
//! [`Generator::violations`] lists them so compliance tests know the expected answer.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use crate::error::{DataError, GeneratorProblem};
use crate::load::Record;
use crate::schema::Schema;
use crate::value::Value;

pub mod finance;
pub mod healthcare;
pub mod icd10;

/// The tables the generators produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// Hospital encounters: one row per admission ([`healthcare`]).
    Encounters,
    /// SMCQL/Secrecy-shaped diagnoses: patient, ICD-10 category, time ([`healthcare`]).
    Diagnoses,
    /// SMCQL/Secrecy-shaped medications: patient, medication, dose, time ([`healthcare`]).
    Medications,
    /// Payment transactions ([`finance`]).
    Transactions,
    /// Loan exposures ([`finance`]).
    Exposures,
    /// Per-company revenue records for market concentration ([`finance`]).
    Revenues,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 6] = [
        Table::Encounters,
        Table::Diagnoses,
        Table::Medications,
        Table::Transactions,
        Table::Exposures,
        Table::Revenues,
    ];

    /// The table's name, as used in schemas, file names and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Table::Encounters => "encounters",
            Table::Diagnoses => "diagnoses",
            Table::Medications => "medications",
            Table::Transactions => "transactions",
            Table::Exposures => "exposures",
            Table::Revenues => "revenues",
        }
    }

    /// The table named `name`.
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The table's schema.
    pub fn schema(self) -> Schema {
        match self {
            Table::Encounters => healthcare::encounters_schema(),
            Table::Diagnoses => healthcare::diagnoses_schema(),
            Table::Medications => healthcare::medications_schema(),
            Table::Transactions => finance::transactions_schema(),
            Table::Exposures => finance::exposures_schema(),
            Table::Revenues => finance::revenues_schema(),
        }
    }

    /// The violations that can be planted in this table, one per rule of its reference policy
    /// (empty for tables without one).
    pub fn violation_kinds(self) -> &'static [Violation] {
        match self {
            Table::Encounters => &[
                Violation::Minor,
                Violation::NoConsent,
                Violation::ExcludedDiagnosis,
                Violation::DischargeBeforeAdmission,
                Violation::AspirinOverdose,
                Violation::CostAboveLimit,
            ],
            Table::Transactions => &[Violation::AmountOutOfRange, Violation::BlockedCounterparty],
            Table::Exposures => &[Violation::ExposureAboveLimit],
            Table::Diagnoses | Table::Medications | Table::Revenues => &[],
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A planted breach of one rule of a table's reference policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Violation {
    /// Encounters: `age` below [`healthcare::MIN_AGE`].
    Minor,
    /// Encounters: `consent` is false.
    NoConsent,
    /// Encounters: `diagnosis` in an excluded ICD-10 chapter ([`healthcare::EXCLUDED_CHAPTERS`]).
    ExcludedDiagnosis,
    /// Encounters: `discharge` before `admission`.
    DischargeBeforeAdmission,
    /// Encounters: aspirin with `daily_dose` above [`healthcare::ASPIRIN_MAX_DAILY_MG`].
    AspirinOverdose,
    /// Encounters: `cost` above [`healthcare::COST_LIMIT`].
    CostAboveLimit,
    /// Transactions: `amount` outside [`finance::AMOUNT_MIN`] ..= [`finance::AMOUNT_MAX`].
    AmountOutOfRange,
    /// Transactions: `counterparty` on the blocklist ([`finance::blocklist`]).
    BlockedCounterparty,
    /// Exposures: `exposure` above [`finance::LARGE_EXPOSURE_LIMIT`].
    ExposureAboveLimit,
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The table.
    pub table: Table,
    /// Rows of the logical table (all holders together).
    pub rows: u64,
    /// Seed: same spec, same rows.
    pub seed: u64,
    /// Data holders the rows are split across (contiguous, near-equal ranges); at least 1.
    pub holders: u32,
    /// Rows that break the reference policy, each breaking exactly one rule.
    pub violations: u64,
}

impl Spec {
    /// A single-holder spec with no violations.
    pub fn new(table: Table, rows: u64, seed: u64) -> Spec {
        Spec {
            table,
            rows,
            seed,
            holders: 1,
            violations: 0,
        }
    }
}

/// Per-row randomness: a ChaCha12 stream per (seed, domain, index).
#[derive(Debug, Clone)]
pub(crate) struct Streams {
    key: [u8; 32],
}

impl Streams {
    pub(crate) fn new(seed: u64, domain: &str) -> Streams {
        let mut h = Sha256::new();
        h.update(b"trustspace-synth-v1\0");
        h.update(domain.as_bytes());
        h.update([0]);
        h.update(seed.to_le_bytes());
        Streams {
            key: h.finalize().into(),
        }
    }
    pub(crate) fn rng(&self, index: u64) -> ChaCha12Rng {
        let mut rng = ChaCha12Rng::from_seed(self.key);
        rng.set_stream(index);
        rng
    }
}

/// Picks an item by integer weight (deterministic: no floating point).
pub(crate) fn weighted<'a, T>(rng: &mut ChaCha12Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    unreachable!("x < total")
}

/// Generates one table's rows.
pub(crate) trait RowSource: Send + Sync {
    /// Row `index`, drawing from `rng`, breaking the rule `violation` if given.
    fn row(&self, index: u64, rng: &mut ChaCha12Rng, violation: Option<Violation>) -> Vec<Value>;
}

/// A configured generator: the schema, the planted violations, and rows on demand.
pub struct Generator {
    spec: Spec,
    schema: Schema,
    planted: BTreeMap<u64, Violation>,
    rows: Streams,
    source: Box<dyn RowSource>,
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("spec", &self.spec)
            .field("violations", &self.planted.len())
            .finish()
    }
}

/// Most rows a generator produces (2^32: far past any benchmark, and patient, account and
/// company ids stay within their `uint 32` columns).
pub const MAX_ROWS: u64 = 1 << 32;
/// Most violations that can be planted (they are kept in memory).
pub const MAX_VIOLATIONS: u64 = 10_000_000;

impl Generator {
    /// Checks the spec and prepares the generator.
    pub fn new(spec: Spec) -> Result<Generator, DataError> {
        let bad = |p| Err(DataError::Generator(p));
        if spec.rows == 0 || spec.rows > MAX_ROWS {
            return bad(GeneratorProblem::Rows {
                got: spec.rows,
                max: MAX_ROWS,
            });
        }
        if spec.holders == 0 || u64::from(spec.holders) > spec.rows {
            return bad(GeneratorProblem::Holders {
                rows: spec.rows,
                got: spec.holders,
            });
        }
        let kinds = spec.table.violation_kinds();
        if spec.violations > 0 && kinds.is_empty() {
            return bad(GeneratorProblem::NoReferencePolicy {
                table: spec.table.name(),
            });
        }
        if spec.violations > spec.rows || spec.violations > MAX_VIOLATIONS {
            return bad(GeneratorProblem::Violations {
                rows: spec.rows,
                max: MAX_VIOLATIONS,
                got: spec.violations,
            });
        }
        let mut pick = Streams::new(spec.seed, &format!("{}/violations", spec.table)).rng(0);
        let mut rows: Vec<u64> =
            rand::seq::index::sample(&mut pick, spec.rows as usize, spec.violations as usize)
                .into_iter()
                .map(|i| i as u64)
                .collect();
        rows.sort_unstable();
        let planted = rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| (r, kinds[i % kinds.len()]))
            .collect();
        let source: Box<dyn RowSource> = match spec.table {
            Table::Encounters => Box::new(healthcare::Encounters::new(spec)),
            Table::Diagnoses => Box::new(healthcare::Diagnoses::new(spec)),
            Table::Medications => Box::new(healthcare::Medications::new(spec)),
            Table::Transactions => Box::new(finance::Transactions::new(spec)),
            Table::Exposures => Box::new(finance::Exposures::new(spec)),
            Table::Revenues => Box::new(finance::Revenues::new(spec)),
        };
        Ok(Generator {
            schema: spec.table.schema(),
            rows: Streams::new(spec.seed, spec.table.name()),
            spec,
            planted,
            source,
        })
    }

    /// The spec.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The table's schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The planted violations: logical row index and the rule it breaks, in row order.
    pub fn violations(&self) -> impl Iterator<Item = (u64, Violation)> + '_ {
        self.planted.iter().map(|(&r, &v)| (r, v))
    }

    /// The logical rows held by `holder` (0-based): a contiguous range, sizes differing by at
    /// most one.
    pub fn holder_range(&self, holder: u32) -> Range<u64> {
        let n = u64::from(self.spec.holders);
        let h = u64::from(holder.min(self.spec.holders));
        let at = |h: u64| (u128::from(self.spec.rows) * u128::from(h) / u128::from(n)) as u64;
        at(h)..at((h + 1).min(n))
    }

    /// Logical row `index`, canonically encoded.
    pub fn record(&self, index: u64) -> Record {
        let mut rng = self.rows.rng(index);
        let values = self
            .source
            .row(index, &mut rng, self.planted.get(&index).copied());
        values
            .iter()
            .zip(self.schema.columns())
            .map(|(v, c)| {
                c.encode(v).unwrap_or_else(|r| {
                    panic!(
                        "generator bug: {} row {index} column `{}`: {r}",
                        self.spec.table,
                        c.name()
                    )
                })
            })
            .collect()
    }

    /// Every row of `holder`, lazily.
    pub fn holder_records(&self, holder: u32) -> impl Iterator<Item = Record> + '_ {
        self.holder_range(holder).map(|i| self.record(i))
    }

    /// Every row of the logical table, lazily.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        (0..self.spec.rows).map(|i| self.record(i))
    }
}
