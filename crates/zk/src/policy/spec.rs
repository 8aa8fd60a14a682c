//! A policy file as written: the TOML shapes of predicates, per-record rules and aggregates,
//! before [`super::Policy`] compiles them against a schema.

use serde::{Deserialize, Serialize};
use trustspace_data::schema::Bound;

/// A predicate as written in a policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredicateSpec {
    /// The column tested.
    pub column: String,
    /// `column == value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eq: Option<Bound>,
    /// `column != value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ne: Option<Bound>,
    /// `column < value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<Bound>,
    /// `column <= value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub le: Option<Bound>,
    /// `column > value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<Bound>,
    /// `column >= value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ge: Option<Bound>,
    /// `lo <= column <= hi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<[Bound; 2]>,
    /// `column` is one of the values.
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub in_set: Option<Vec<Bound>>,
    /// `column` is none of the values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in: Option<Vec<Bound>>,
    /// `in`, values read from a file (one per line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_file: Option<String>,
    /// `not_in`, values read from a file (one per line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in_file: Option<String>,
    /// `column == other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eq_column: Option<String>,
    /// `column != other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ne_column: Option<String>,
    /// `column < other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt_column: Option<String>,
    /// `column <= other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub le_column: Option<String>,
    /// `column > other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt_column: Option<String>,
    /// `column >= other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ge_column: Option<String>,
}

/// A per-record rule as written: `require`, or `when` ⇒ `require`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A name for error messages (defaults to a description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Condition; the rule applies to records that satisfy it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<PredicateSpec>,
    /// What every (applicable) record must satisfy.
    pub require: PredicateSpec,
}

/// An aggregate rule as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateSpec {
    /// Name, shown in results and errors.
    pub name: String,
    /// Sum of this column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// Count of records.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub count: bool,
    /// Only records satisfying this predicate.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub filter: Option<PredicateSpec>,
    /// Inclusive lower bound of the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Bound>,
    /// Inclusive upper bound of the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Bound>,
    /// Lower bound of count / records (a decimal fraction such as "0.25").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_share: Option<String>,
    /// Upper bound of count / records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_share: Option<String>,
    /// Lower bound of sum / filtered count, in the column's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_mean: Option<Bound>,
    /// Upper bound of sum / filtered count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mean: Option<Bound>,
    /// Publish the value(s) as public outputs of the proof.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reveal: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyFile {
    pub(super) name: String,
    #[serde(default)]
    pub(super) record: Vec<RuleSpec>,
    #[serde(default)]
    pub(super) aggregate: Vec<AggregateSpec>,
}
