//! [`PolicyError`]: why a policy does not compile against a schema, by rule or aggregate,
//! column and cause. Names and values from the policy and schema files are untrusted: the
//! messages escape their control characters.

use std::path::PathBuf;
use trustspace_data::Reason;
use trustspace_data::error::escape_controls;

/// Why a policy does not compile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy file is larger than the limit.
    #[error("larger than {limit} bytes")]
    TooLarge {
        /// The limit (`policy::MAX_POLICY_BYTES`).
        limit: u64,
    },
    /// More rules and aggregates than the limit.
    #[error("more than {limit} rules")]
    TooManyRules {
        /// Rules plus aggregates in the file.
        count: usize,
        /// The limit (`policy::MAX_RULES`).
        limit: usize,
    },
    /// A per-record rule does not compile.
    #[error("rule {rule}: {problem}")]
    Rule {
        /// The rule's position in the file, from 1.
        rule: usize,
        /// Which predicate of the rule.
        part: RulePart,
        /// What is wrong with it.
        problem: PredicateProblem,
    },
    /// An aggregate does not compile.
    #[error("aggregate `{}`: {problem}", escape_controls(.aggregate))]
    Aggregate {
        /// The aggregate's name.
        aggregate: String,
        /// What is wrong with it.
        problem: AggregateProblem,
    },
}

/// The predicates of a per-record rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulePart {
    /// The condition (`when`).
    When,
    /// The requirement (`require`).
    Require,
}

/// Why a predicate does not compile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PredicateProblem {
    /// The schema has no such column.
    #[error("unknown column `{}`", escape_controls(.column))]
    UnknownColumn {
        /// The name as written.
        column: String,
    },
    /// A predicate names no operator, or several.
    #[error("a predicate on `{}` needs exactly one operator, found {found}", escape_controls(.column))]
    OperatorCount {
        /// The predicate's column.
        column: String,
        /// Operators found.
        found: usize,
    },
    /// A value is not a valid value of its column.
    #[error("column `{}`: {reason}", escape_controls(.column))]
    Value {
        /// The column.
        column: String,
        /// Why the value is refused.
        reason: Reason,
    },
    /// Two columns compared whose encodings are not comparable.
    #[error(
        "columns `{}` and `{}` are not comparable (their encodings differ)",
        escape_controls(.left),
        escape_controls(.right)
    )]
    NotComparable {
        /// The predicate's column.
        left: String,
        /// The other column.
        right: String,
    },
    /// `between` with its lower end above its upper end.
    #[error(
        "`between` on `{}`: {} is above {}",
        escape_controls(.column),
        escape_controls(.lo),
        escape_controls(.hi)
    )]
    EmptyBetween {
        /// The column.
        column: String,
        /// The lower end as written.
        lo: String,
        /// The upper end as written.
        hi: String,
    },
    /// A set file in a policy that was not read from a file (nothing to resolve it against).
    #[error("set files are only allowed in policies read from a file")]
    SetFileNotAllowed,
    /// A set file cannot be read.
    #[error("set file {}: {source}", escape_controls(&.path.display().to_string()))]
    SetFileRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of a set file is not a valid value of the column.
    #[error("{}:{line}: {reason}", escape_controls(&.path.display().to_string()))]
    SetFileValue {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// Why the value is refused.
        reason: Reason,
    },
    /// A set with more entries than the limit.
    #[error("set of {entries} entries, above {limit}")]
    SetTooLarge {
        /// Entries in the set.
        entries: usize,
        /// The limit (`policy::MAX_SET_ENTRIES`).
        limit: usize,
    },
    /// A large set (an interval tree) where only a boolean predicate is allowed (`when`,
    /// `where`).
    #[error(
        "`{}` compiles to {intervals} intervals; sets of more than {limit} intervals are allowed in `require` only",
        escape_controls(.predicate)
    )]
    TooManyIntervals {
        /// The predicate, described.
        predicate: String,
        /// Intervals it compiles to.
        intervals: usize,
        /// The most intervals checked inline (`policy::MAX_INLINE_INTERVALS`).
        limit: usize,
    },
}

/// Why an aggregate does not compile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AggregateProblem {
    /// Its filter, its summed column or one of its bounds does not compile.
    #[error(transparent)]
    Predicate(#[from] PredicateProblem),
    /// Neither or both of `sum` and `count`.
    #[error("give exactly one of `sum = \"column\"` or `count = true`")]
    Measure,
    /// `sum` of a column that is not unsigned numeric.
    #[error("`sum` needs an unsigned numeric column; `{}` is not", escape_controls(.column))]
    NotSummable {
        /// The column.
        column: String,
    },
    /// A bound on a count that is not a non-negative integer.
    #[error("count bound {value:?} is not a non-negative integer")]
    CountBound {
        /// The bound as written.
        value: String,
    },
    /// `min_share` / `max_share` on a sum.
    #[error("`min_share`/`max_share` apply to counts")]
    ShareOnSum,
    /// `min_mean` / `max_mean` on a count.
    #[error("`min_mean`/`max_mean` apply to sums")]
    MeanOnCount,
    /// A share that is not a decimal fraction of at most 6 digits each side of the point.
    #[error(
        "{value:?} is not a decimal fraction such as \"0.01\" (at most 6 digits each side of the point)"
    )]
    Fraction {
        /// The share as written.
        value: String,
    },
    /// A share outside `[0, 1]`: a share is a fraction of all records, so such a bound could
    /// never bind (a maximum) or never hold (a minimum).
    #[error(
        "`{key}` = {value:?} is outside 0..=1 (a share is a fraction of all records, such as \"0.01\")"
    )]
    ShareOutOfRange {
        /// `min_share` or `max_share`.
        key: &'static str,
        /// The share as written.
        value: String,
    },
}
