//! The policy file as written: the TOML shapes of predicates, per-record rules and aggregates,
//! parsed and checked for what needs no schema (one operator per predicate, one measure per
//! aggregate), before [`super::compile`] resolves them against a schema into a
//! [`Plan`](super::Plan).

use serde::{Deserialize, Serialize};
use trustspace_data::error::TomlError;
use trustspace_data::schema::Bound;

use super::plan::Op;
use crate::error::{AggregateProblem, PredicateProblem, ZkError};

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

/// A whole policy file as written, before it is compiled against a schema
/// ([`Policy::compile`](super::Policy::compile)); [`PolicyFile::to_toml`] writes it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// The policy's name.
    pub name: String,
    /// Per-record rules.
    #[serde(default)]
    pub record: Vec<RuleSpec>,
    /// Aggregate rules.
    #[serde(default)]
    pub aggregate: Vec<AggregateSpec>,
}

impl PolicyFile {
    /// Parses policy TOML; a syntax or shape error is located by line and column
    /// ([`ZkError::PolicyToml`]).
    pub fn from_toml(text: &str, source_name: &str) -> Result<PolicyFile, ZkError> {
        toml::from_str(text).map_err(|e| ZkError::PolicyToml {
            source_name: source_name.to_string(),
            error: TomlError::new(text, &e),
        })
    }

    /// The policy as TOML that [`PolicyFile::from_toml`] reads back as this same value.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a policy file is representable in TOML")
    }
}

/// The one operator of a predicate, as written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Operator<'a> {
    /// `column op value`.
    Const(Op, &'a Bound),
    /// `column op other_column`.
    Column(Op, &'a str),
    /// `lo <= column <= hi`.
    Between(&'a Bound, &'a Bound),
    /// `column` in a set: listed values and/or a file of values.
    In(Option<&'a Vec<Bound>>, Option<&'a String>),
    /// `column` not in a set.
    NotIn(Option<&'a Vec<Bound>>, Option<&'a String>),
}

impl PredicateSpec {
    /// The predicate's operator; exactly one must be given (`in` and `in_file` together count
    /// as one set, as do `not_in` and `not_in_file`).
    pub(super) fn operator(&self) -> Result<Operator<'_>, PredicateProblem> {
        let consts = [
            (Op::Eq, &self.eq),
            (Op::Ne, &self.ne),
            (Op::Lt, &self.lt),
            (Op::Le, &self.le),
            (Op::Gt, &self.gt),
            (Op::Ge, &self.ge),
        ];
        let cols = [
            (Op::Eq, &self.eq_column),
            (Op::Ne, &self.ne_column),
            (Op::Lt, &self.lt_column),
            (Op::Le, &self.le_column),
            (Op::Gt, &self.gt_column),
            (Op::Ge, &self.ge_column),
        ];
        let in_set = self.in_set.is_some() || self.in_file.is_some();
        let not_in = self.not_in.is_some() || self.not_in_file.is_some();
        let found = consts.iter().filter(|(_, v)| v.is_some()).count()
            + cols.iter().filter(|(_, v)| v.is_some()).count()
            + usize::from(self.between.is_some())
            + usize::from(in_set)
            + usize::from(not_in);
        if found != 1 {
            return Err(PredicateProblem::OperatorCount {
                column: self.column.clone(),
                found,
            });
        }
        let op = consts
            .iter()
            .find_map(|(op, v)| v.as_ref().map(|b| Operator::Const(*op, b)))
            .or_else(|| {
                cols.iter()
                    .find_map(|(op, v)| v.as_deref().map(|c| Operator::Column(*op, c)))
            })
            .or_else(|| {
                self.between
                    .as_ref()
                    .map(|[lo, hi]| Operator::Between(lo, hi))
            })
            .unwrap_or(if in_set {
                Operator::In(self.in_set.as_ref(), self.in_file.as_ref())
            } else {
                Operator::NotIn(self.not_in.as_ref(), self.not_in_file.as_ref())
            });
        Ok(op)
    }
}

/// What an aggregate accumulates.
#[derive(Debug, Clone, Copy)]
pub(super) enum Measure<'a> {
    /// The sum of a column.
    Sum(&'a str),
    /// The number of records.
    Count,
}

impl AggregateSpec {
    /// The aggregate's measure; exactly one of `sum` and `count` must be given.
    pub(super) fn measure(&self) -> Result<Measure<'_>, AggregateProblem> {
        match (&self.sum, self.count) {
            (Some(col), false) => Ok(Measure::Sum(col)),
            (None, true) => Ok(Measure::Count),
            _ => Err(AggregateProblem::Measure),
        }
    }
}
