//! Policies: what a dataset must satisfy, written in TOML over a schema, compiled into a [`Plan`]
//! of predicates on canonical encodings that the circuit (and a native evaluator beside it)
//! enforce. Three roles, one module each:
//!
//! - `spec`: the TOML file as written ([`RuleSpec`], [`AggregateSpec`], [`PredicateSpec`]),
//!   parsed and checked for what needs no schema;
//! - `plan`: the intermediate representation ([`Plan`]): column indices, encoded values,
//!   intervals, counters and linear bounds; its canonical encoding is the policy digest;
//! - `compile`: the compiler from spec to plan against a schema, failing with a typed
//!   [`PolicyError`] (which rule or aggregate, which column, why).
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

use std::path::Path;
use trustspace_data::{Record, Schema};

use crate::error::{PolicyError, Result, ZkError};

/// Sets with at most this many intervals are checked inline; larger ones use an interval tree.
pub const MAX_INLINE_INTERVALS: usize = 16;
/// Largest policy file.
pub const MAX_POLICY_BYTES: u64 = 16 << 20;
/// Most entries in one set.
pub const MAX_SET_ENTRIES: usize = 1 << 20;
/// Most rules plus aggregates.
pub const MAX_RULES: usize = 256;

mod compile;
mod plan;
mod spec;

use compile::Compiler;
pub use plan::{Atom, Counter, Inequality, Op, Plan, Reveal, Rule, Term};
pub use spec::{AggregateSpec, PolicyFile, PredicateSpec, RuleSpec};

/// A policy compiled against a schema, with its canonical digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    plan: Plan,
    digest: [u8; 32],
}

impl Policy {
    /// Reads and compiles a policy file (a bounded read, then [`Policy::from_toml`]); set files
    /// are resolved relative to it.
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
        let dir = path.parent().unwrap_or(Path::new("."));
        Policy::from_toml(&text, &path.display().to_string(), Some(dir), schema)
    }

    /// Compiles policy TOML (at most [`MAX_POLICY_BYTES`]); `base` resolves `in_file` /
    /// `not_in_file` (none: they are refused). The decoder of untrusted policies.
    pub fn from_toml(
        text: &str,
        source_name: &str,
        base: Option<&Path>,
        schema: &Schema,
    ) -> Result<Policy> {
        if text.len() as u64 > MAX_POLICY_BYTES {
            return Err(ZkError::Policy {
                source_name: source_name.to_string(),
                reason: Box::new(PolicyError::TooLarge {
                    limit: MAX_POLICY_BYTES,
                }),
            });
        }
        let file = PolicyFile::from_toml(text, source_name)?;
        Policy::compile(&file, source_name, base, schema)
    }

    /// Compiles a parsed policy file ([`PolicyFile::from_toml`]) against a schema; `base`
    /// resolves `in_file` / `not_in_file` (none: they are refused).
    pub fn compile(
        file: &PolicyFile,
        source_name: &str,
        base: Option<&Path>,
        schema: &Schema,
    ) -> Result<Policy> {
        let plan = Compiler { schema, base }
            .compile(&file.name, &file.record, &file.aggregate)
            .map_err(|reason| ZkError::Policy {
                source_name: source_name.to_string(),
                reason: Box::new(reason),
            })?;
        Ok(Policy {
            digest: plan.digest(),
            plan,
        })
    }

    /// The compiled plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The policy digest: SHA-256 of the plan's canonical encoding ([`Plan::digest`], layout in
    /// [`crate::canon`]), which includes the schema digest. Two policy files that compile to the
    /// same checks have the same digest.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The first rule a record breaks, if any.
    pub fn first_broken(&self, r: &Record) -> Option<&Rule> {
        self.plan.rules.iter().find(|rule| !rule.holds(r))
    }
}
