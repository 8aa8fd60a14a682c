//! Policies: what a dataset must satisfy, written in TOML over a schema, compiled into a [`Plan`]
//! of predicates on canonical encodings that the circuit (and a native evaluator beside it)
//! enforce.
//!
//! ```toml
//! name = "hospital data-sharing agreement"
//!
//! [[record]]                       # every record must satisfy `require`
//! require = { column = "age", between = [18, 120] }
//!
//! [[record]]
//! require = { column = "consent", eq = "true" }
//!
//! [[record]]                       # a conditional rule
//! when = { column = "medication", in = ["aspirin"] }
//! require = { column = "daily_dose", le = 4000 }
//!
//! [[record]]                       # a column comparison
//! require = { column = "discharge", ge_column = "admission" }
//!
//! [[aggregate]]
//! name = "total cost"
//! sum = "cost"
//! max = "250000000.00"
//! reveal = true                    # publish the total as a public output of the proof
//!
//! [[aggregate]]
//! name = "flagged share"
//! count = true
//! where = { column = "aml_flag", eq = "true" }
//! max_share = "0.01"               # at most 1% of records
//! ```
//!
//! A predicate names a column and exactly one operator: `eq`, `ne`, `lt`, `le`, `gt`, `ge` (a
//! value), `between` (two values, inclusive), `in` / `not_in` (a list) or `in_file` /
//! `not_in_file` (a file of one value per line, relative to the policy file), or
//! `eq_column` … `ge_column` (another column). Values are written as the column's values are in
//! data files. Sets compile to sorted disjoint intervals of encodings; up to
//! [`MAX_INLINE_INTERVALS`] intervals are checked directly (cost linear in that small number),
//! more go into a Merkle tree of intervals checked with one path per record (cost logarithmic
//! in the set size), which is allowed in `require` only.
//!
//! Aggregates: `sum = "column"` or `count = true`, optionally filtered by `where`, bounded by
//! `min`/`max` (absolute), `min_share`/`max_share` (counts: fraction of all records) or
//! `min_mean`/`max_mean` (sums: the sum over the filtered count, in the column's units), and
//! optionally `reveal`ed. The mean of an empty selection satisfies any mean bound only if the
//! sum is 0 too (the check is `sum <= max_mean * count`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use trustspace_data::error::TomlError;
use trustspace_data::{Record, Schema};

use crate::error::{Result, ZkError};

/// Sets with at most this many intervals are checked inline; larger ones use an interval tree.
pub const MAX_INLINE_INTERVALS: usize = 16;
/// Largest policy file.
pub const MAX_POLICY_BYTES: u64 = 16 << 20;
/// Most entries in one set.
pub const MAX_SET_ENTRIES: usize = 1 << 20;
/// Most rules plus aggregates.
pub const MAX_RULES: usize = 256;

mod compile;
mod spec;

use compile::{CompileError, Compiler};
use spec::PolicyFile;
pub use spec::{AggregateSpec, PredicateSpec, RuleSpec};

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn eval(self, a: u64, b: u64) -> bool {
        match self {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A compiled predicate on one record's encodings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Atom {
    /// `column op constant`.
    Const {
        /// Column index.
        column: usize,
        /// Operator.
        op: Op,
        /// Encoded constant.
        value: u64,
    },
    /// `left op right`.
    Columns {
        /// Left column index.
        left: usize,
        /// Operator.
        op: Op,
        /// Right column index.
        right: usize,
    },
    /// `column` lies in one of the inclusive encoding intervals (sorted, disjoint, at most
    /// [`MAX_INLINE_INTERVALS`]); an empty list is never satisfied.
    Intervals {
        /// Column index.
        column: usize,
        /// `(lo, hi)` inclusive.
        ranges: Vec<(u64, u64)>,
    },
    /// `column` lies in one of many intervals, proven by a Merkle path into the interval tree.
    Tree {
        /// Column index.
        column: usize,
        /// `(lo, hi)` inclusive, sorted, disjoint; the tree's leaves in order.
        ranges: Vec<(u64, u64)>,
    },
}

impl Atom {
    /// Evaluates natively.
    pub fn eval(&self, r: &Record) -> bool {
        match self {
            Atom::Const { column, op, value } => op.eval(r[*column], *value),
            Atom::Columns { left, op, right } => op.eval(r[*left], r[*right]),
            Atom::Intervals { column, ranges } | Atom::Tree { column, ranges } => {
                let x = r[*column];
                let i = ranges.partition_point(|&(lo, _)| lo <= x);
                i > 0 && x <= ranges[i - 1].1
            }
        }
    }
}

/// A compiled per-record rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Name for messages.
    pub name: String,
    /// Condition.
    pub when: Option<Atom>,
    /// Requirement.
    pub require: Atom,
}

impl Rule {
    /// Whether a record satisfies the rule.
    pub fn holds(&self, r: &Record) -> bool {
        !self.when.as_ref().is_none_or(|w| w.eval(r)) || self.require.eval(r)
    }
}

/// A running total the chunks accumulate: a sum of a column, or a count, over a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// Summed column; `None` counts records.
    pub column: Option<usize>,
    /// Only records satisfying this.
    pub filter: Option<Atom>,
}

impl Counter {
    /// This record's contribution.
    pub fn contribution(&self, r: &Record) -> u128 {
        if self.filter.as_ref().is_some_and(|f| !f.eval(r)) {
            return 0;
        }
        self.column.map_or(1, |c| u128::from(r[c]))
    }
}

/// A term of a linear bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Term {
    /// A counter's final value.
    Counter(usize),
    /// The number of records.
    Records,
    /// The constant 1.
    One,
}

/// `Σ coeff·term (left) <= Σ coeff·term (right)`, all coefficients non-negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inequality {
    /// The aggregate it comes from.
    pub name: String,
    /// Left side.
    pub left: Vec<(u128, Term)>,
    /// Right side.
    pub right: Vec<(u128, Term)>,
}

impl Inequality {
    /// Evaluates with counter values and the record count.
    pub fn holds(&self, counters: &[u128], records: u64) -> bool {
        let side = |s: &[(u128, Term)]| -> u128 {
            s.iter()
                .map(|(k, t)| {
                    k * match t {
                        Term::Counter(i) => counters[*i],
                        Term::Records => u128::from(records),
                        Term::One => 1,
                    }
                })
                .sum()
        };
        side(&self.left) <= side(&self.right)
    }
}

/// A revealed value: a counter published as a public output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reveal {
    /// Aggregate name (with `.sum` / `.count` for means).
    pub name: String,
    /// The counter.
    pub counter: usize,
    /// Decimal places of the value's units (a sum of a decimal column); 0 for counts.
    pub scale: u32,
}

/// A compiled policy: what the circuits enforce and the native evaluator checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Policy name.
    pub name: String,
    /// The schema it was compiled against.
    pub schema_digest: [u8; 32],
    /// Per-record rules.
    pub rules: Vec<Rule>,
    /// Accumulated counters.
    pub counters: Vec<Counter>,
    /// Aggregate bounds checked at the end.
    pub bounds: Vec<Inequality>,
    /// Counters published.
    pub reveals: Vec<Reveal>,
}

/// A policy compiled against a schema, with its canonical digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    plan: Plan,
    digest: [u8; 32],
}

impl Policy {
    /// Reads and compiles a policy file; set files are resolved relative to it.
    pub fn load(path: &Path, schema: &Schema) -> Result<Policy> {
        use std::io::Read;
        let io = |source| ZkError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(MAX_POLICY_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_POLICY_BYTES {
            return Err(ZkError::Policy {
                source_name: path.display().to_string(),
                reason: format!("larger than {MAX_POLICY_BYTES} bytes"),
            });
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        Policy::from_toml(&text, &path.display().to_string(), Some(dir), schema)
    }

    /// Compiles policy TOML; `base` resolves `in_file` / `not_in_file` (none: they are refused).
    pub fn from_toml(
        text: &str,
        source_name: &str,
        base: Option<&Path>,
        schema: &Schema,
    ) -> Result<Policy> {
        let source_name = source_name.to_string();
        let file: PolicyFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                return Err(ZkError::PolicyToml {
                    source_name,
                    error: TomlError::new(text, &e),
                });
            }
        };
        let c = Compiler { schema, base };
        match c.compile(&file.name, &file.record, &file.aggregate) {
            Ok(plan) => Ok(Policy::from_plan(plan)),
            Err(CompileError::Invalid(reason)) => Err(ZkError::Policy {
                source_name,
                reason,
            }),
            Err(CompileError::ShareOutOfRange {
                aggregate,
                key,
                value,
            }) => Err(ZkError::ShareOutOfRange {
                source_name,
                aggregate,
                key,
                value,
            }),
        }
    }

    fn from_plan(plan: Plan) -> Policy {
        let mut h = Sha256::new();
        h.update(b"trustspace-policy-v1\0");
        h.update(serde_json::to_vec(&plan).expect("plans serialize"));
        Policy {
            digest: h.finalize().into(),
            plan,
        }
    }

    /// The compiled plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// SHA-256 digest of the compiled plan (which includes the schema digest): two policy files
    /// that compile to the same checks have the same digest.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The first rule a record breaks, if any.
    pub fn first_broken(&self, r: &Record) -> Option<&Rule> {
        self.plan.rules.iter().find(|rule| !rule.holds(r))
    }
}
