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
use trustspace_data::schema::Bound;
use trustspace_data::{Column, Kind, Record, Schema};

use crate::error::{Result, ZkError};

/// Sets with at most this many intervals are checked inline; larger ones use an interval tree.
pub const MAX_INLINE_INTERVALS: usize = 16;
/// Largest policy file.
pub const MAX_POLICY_BYTES: u64 = 16 << 20;
/// Most entries in one set.
pub const MAX_SET_ENTRIES: usize = 1 << 20;
/// Most rules plus aggregates.
pub const MAX_RULES: usize = 256;

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
struct PolicyFile {
    name: String,
    #[serde(default)]
    record: Vec<RuleSpec>,
    #[serde(default)]
    aggregate: Vec<AggregateSpec>,
}

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
        let err = |reason: String| ZkError::Policy {
            source_name: source_name.to_string(),
            reason,
        };
        let file: PolicyFile = toml::from_str(text).map_err(|e| err(e.message().to_string()))?;
        let c = Compiler { schema, base };
        let plan = c
            .compile(&file.name, &file.record, &file.aggregate)
            .map_err(err)?;
        Ok(Policy::from_plan(plan))
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

struct Compiler<'a> {
    schema: &'a Schema,
    base: Option<&'a Path>,
}

type CResult<T> = std::result::Result<T, String>;

fn text(b: &Bound) -> String {
    match b {
        Bound::Int(i) => i.to_string(),
        Bound::Text(s) => s.clone(),
    }
}

fn type_max(c: &Column) -> u64 {
    if c.width() == 64 {
        u64::MAX
    } else {
        (1u64 << c.width()) - 1
    }
}

/// Sorted, merged inclusive intervals of a set of encodings.
fn intervals(mut values: Vec<u64>) -> Vec<(u64, u64)> {
    values.sort_unstable();
    values.dedup();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some((_, hi)) if hi.checked_add(1) == Some(v) => *hi = v,
            _ => out.push((v, v)),
        }
    }
    out
}

/// The complement of sorted disjoint intervals within `0..=max`.
fn complement(ranges: &[(u64, u64)], max: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut next = Some(0u64);
    for &(lo, hi) in ranges {
        if let Some(n) = next {
            if lo > n {
                out.push((n, lo - 1));
            }
        }
        next = hi.checked_add(1);
    }
    if let Some(n) = next {
        if n <= max {
            out.push((n, max));
        }
    }
    out
}

impl Compiler<'_> {
    fn column(&self, name: &str) -> CResult<(usize, &Column)> {
        let i = self
            .schema
            .index_of(name)
            .ok_or_else(|| format!("unknown column `{name}`"))?;
        Ok((i, &self.schema.columns()[i]))
    }

    fn value(&self, c: &Column, b: &Bound) -> CResult<u64> {
        c.parse(&text(b))
            .map_err(|r| format!("column `{}`: {r}", c.name()))
    }

    fn set_values(
        &self,
        c: &Column,
        list: Option<&Vec<Bound>>,
        file: Option<&String>,
    ) -> CResult<Vec<u64>> {
        let mut out = Vec::new();
        if let Some(list) = list {
            for b in list {
                out.push(self.value(c, b)?);
            }
        }
        if let Some(f) = file {
            let base = self
                .base
                .ok_or("set files are only allowed in policies read from a file")?;
            let path = base.join(f);
            let content = std::fs::read_to_string(&path)
                .map_err(|e| format!("set file {}: {e}", path.display()))?;
            for (n, line) in content.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                out.push(
                    c.parse(line)
                        .map_err(|r| format!("{}:{}: {r}", path.display(), n + 1))?,
                );
            }
        }
        if out.len() > MAX_SET_ENTRIES {
            return Err(format!(
                "set of {} entries, above {MAX_SET_ENTRIES}",
                out.len()
            ));
        }
        Ok(out)
    }

    /// Compiles a predicate; `tree_ok` allows large sets (a proof of membership, not a boolean).
    fn atom(&self, p: &PredicateSpec, tree_ok: bool) -> CResult<(Atom, String)> {
        let (col, c) = self.column(&p.column)?;
        let consts = [
            (Op::Eq, &p.eq),
            (Op::Ne, &p.ne),
            (Op::Lt, &p.lt),
            (Op::Le, &p.le),
            (Op::Gt, &p.gt),
            (Op::Ge, &p.ge),
        ];
        let cols = [
            (Op::Eq, &p.eq_column),
            (Op::Ne, &p.ne_column),
            (Op::Lt, &p.lt_column),
            (Op::Le, &p.le_column),
            (Op::Gt, &p.gt_column),
            (Op::Ge, &p.ge_column),
        ];
        let n = consts.iter().filter(|(_, v)| v.is_some()).count()
            + cols.iter().filter(|(_, v)| v.is_some()).count()
            + usize::from(p.between.is_some())
            + usize::from(p.in_set.is_some() || p.in_file.is_some())
            + usize::from(p.not_in.is_some() || p.not_in_file.is_some());
        if n != 1 {
            return Err(format!(
                "a predicate on `{}` needs exactly one operator, found {n}",
                p.column
            ));
        }
        for (op, v) in consts {
            if let Some(b) = v {
                let value = self.value(c, b)?;
                return Ok((
                    Atom::Const {
                        column: col,
                        op,
                        value,
                    },
                    format!("{} {} {}", p.column, op.symbol(), text(b)),
                ));
            }
        }
        for (op, v) in cols {
            if let Some(other) = v {
                let (right, rc) = self.column(other)?;
                let numeric = |c: &Column| !matches!(c.kind(), Kind::Categorical { .. });
                let same_kind =
                    std::mem::discriminant(c.kind()) == std::mem::discriminant(rc.kind());
                let comparable = same_kind
                    && (numeric(c)
                        || matches!(op, Op::Eq | Op::Ne) && c.dictionary() == rc.dictionary())
                    && match (c.kind(), rc.kind()) {
                        (
                            Kind::Decimal {
                                scale: a,
                                signed: sa,
                                bits: ba,
                            },
                            Kind::Decimal {
                                scale: b,
                                signed: sb,
                                bits: bb,
                            },
                        ) => a == b && sa == sb && (!sa || ba == bb),
                        (Kind::Int { bits: a }, Kind::Int { bits: b }) => a == b,
                        _ => true,
                    };
                if !comparable {
                    return Err(format!(
                        "columns `{}` and `{other}` are not comparable (their encodings differ)",
                        p.column
                    ));
                }
                return Ok((
                    Atom::Columns {
                        left: col,
                        op,
                        right,
                    },
                    format!("{} {} {other}", p.column, op.symbol()),
                ));
            }
        }
        let (ranges, desc) = if let Some([lo, hi]) = &p.between {
            let (a, b) = (self.value(c, lo)?, self.value(c, hi)?);
            if a > b {
                return Err(format!(
                    "`between` on `{}`: {} is above {}",
                    p.column,
                    text(lo),
                    text(hi)
                ));
            }
            (
                vec![(a, b)],
                format!("{} between {} and {}", p.column, text(lo), text(hi)),
            )
        } else if p.in_set.is_some() || p.in_file.is_some() {
            let v = self.set_values(c, p.in_set.as_ref(), p.in_file.as_ref())?;
            let d = format!("{} in a set of {}", p.column, v.len());
            (intervals(v), d)
        } else {
            let v = self.set_values(c, p.not_in.as_ref(), p.not_in_file.as_ref())?;
            let d = format!("{} not in a set of {}", p.column, v.len());
            (complement(&intervals(v), type_max(c)), d)
        };
        if ranges.len() <= MAX_INLINE_INTERVALS {
            Ok((
                Atom::Intervals {
                    column: col,
                    ranges,
                },
                desc,
            ))
        } else if tree_ok {
            Ok((
                Atom::Tree {
                    column: col,
                    ranges,
                },
                desc,
            ))
        } else {
            Err(format!(
                "`{desc}` compiles to {} intervals; sets of more than {MAX_INLINE_INTERVALS} intervals are allowed in `require` only",
                ranges.len()
            ))
        }
    }

    fn scaled_fraction(&self, s: &str) -> CResult<(u128, u128)> {
        // A non-negative decimal fraction as num/den, exactly.
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        let ok = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if i.is_empty() || !ok(i) || !ok(f) || f.len() > 6 || i.len() > 6 {
            return Err(format!(
                "{s:?} is not a decimal fraction such as \"0.01\" (at most 6 digits each side of the point)"
            ));
        }
        let den = 10u128.pow(f.len() as u32);
        let num = format!("{i}{f}")
            .parse::<u128>()
            .map_err(|e| e.to_string())?;
        Ok((num, den))
    }

    fn compile(&self, name: &str, rules: &[RuleSpec], aggs: &[AggregateSpec]) -> CResult<Plan> {
        if rules.len() + aggs.len() > MAX_RULES {
            return Err(format!("more than {MAX_RULES} rules"));
        }
        let mut plan = Plan {
            name: name.to_string(),
            schema_digest: self.schema.digest(),
            rules: Vec::new(),
            counters: Vec::new(),
            bounds: Vec::new(),
            reveals: Vec::new(),
        };
        for (i, r) in rules.iter().enumerate() {
            let (require, rd) = self
                .atom(&r.require, true)
                .map_err(|e| format!("rule {}: {e}", i + 1))?;
            let when = match &r.when {
                Some(w) => Some(
                    self.atom(w, false)
                        .map_err(|e| format!("rule {}: {e}", i + 1))?,
                ),
                None => None,
            };
            let desc = match &when {
                Some((_, wd)) => format!("if {wd} then {rd}"),
                None => rd,
            };
            plan.rules.push(Rule {
                name: r.name.clone().unwrap_or(desc),
                when: when.map(|w| w.0),
                require,
            });
        }
        for a in aggs {
            let e = |m: String| format!("aggregate `{}`: {m}", a.name);
            let filter = match &a.filter {
                Some(f) => Some(self.atom(f, false).map_err(e)?.0),
                None => None,
            };
            let mut counter = |column: Option<usize>, filter: Option<Atom>| {
                let c = Counter { column, filter };
                match plan.counters.iter().position(|x| *x == c) {
                    Some(i) => i,
                    None => {
                        plan.counters.push(c);
                        plan.counters.len() - 1
                    }
                }
            };
            let (value, sum_col) = match (&a.sum, a.count) {
                (Some(col), false) => {
                    let (i, c) = self.column(col).map_err(e)?;
                    if !matches!(
                        c.kind(),
                        Kind::Uint { .. } | Kind::Decimal { signed: false, .. } | Kind::Bool
                    ) {
                        return Err(e(format!(
                            "`sum` needs an unsigned numeric column; `{col}` is not"
                        )));
                    }
                    (counter(Some(i), filter.clone()), Some(c))
                }
                (None, true) => (counter(None, filter.clone()), None),
                _ => {
                    return Err(e(
                        "give exactly one of `sum = \"column\"` or `count = true`".into(),
                    ));
                }
            };
            let bound_value = |b: &Bound| -> CResult<u128> {
                match sum_col {
                    Some(c) => self.value(c, b).map(u128::from).map_err(e),
                    None => text(b).parse::<u64>().map(u128::from).map_err(|_| {
                        e(format!(
                            "count bound {:?} is not a non-negative integer",
                            text(b)
                        ))
                    }),
                }
            };
            let mut push = |left: Vec<(u128, Term)>, right: Vec<(u128, Term)>, what: &str| {
                plan.bounds.push(Inequality {
                    name: format!("{} {what}", a.name),
                    left,
                    right,
                });
            };
            if let Some(b) = &a.max {
                push(
                    vec![(1, Term::Counter(value))],
                    vec![(bound_value(b)?, Term::One)],
                    "max",
                );
            }
            if let Some(b) = &a.min {
                push(
                    vec![(bound_value(b)?, Term::One)],
                    vec![(1, Term::Counter(value))],
                    "min",
                );
            }
            let share = a.min_share.is_some() || a.max_share.is_some();
            let mean = a.min_mean.is_some() || a.max_mean.is_some();
            if share && sum_col.is_some() {
                return Err(e("`min_share`/`max_share` apply to counts".into()));
            }
            if mean && sum_col.is_none() {
                return Err(e("`min_mean`/`max_mean` apply to sums".into()));
            }
            if let Some(s) = &a.max_share {
                let (num, den) = self.scaled_fraction(s).map_err(e)?;
                push(
                    vec![(den, Term::Counter(value))],
                    vec![(num, Term::Records)],
                    "max_share",
                );
            }
            if let Some(s) = &a.min_share {
                let (num, den) = self.scaled_fraction(s).map_err(e)?;
                push(
                    vec![(num, Term::Records)],
                    vec![(den, Term::Counter(value))],
                    "min_share",
                );
            }
            let mut count_of_filter = None;
            if mean {
                // Without a filter the count is the public record count: no counter needed.
                let n = if filter.is_none() {
                    Term::Records
                } else {
                    let n = counter(None, filter.clone());
                    count_of_filter = Some(n);
                    Term::Counter(n)
                };
                if let Some(b) = &a.max_mean {
                    push(
                        vec![(1, Term::Counter(value))],
                        vec![(bound_value(b)?, n)],
                        "max_mean",
                    );
                }
                if let Some(b) = &a.min_mean {
                    push(
                        vec![(bound_value(b)?, n)],
                        vec![(1, Term::Counter(value))],
                        "min_mean",
                    );
                }
            }
            if a.reveal {
                let suffix = if sum_col.is_some() { "sum" } else { "count" };
                let scale = match sum_col.map(Column::kind) {
                    Some(Kind::Decimal { scale, .. }) => *scale,
                    _ => 0,
                };
                plan.reveals.push(Reveal {
                    name: format!("{}.{suffix}", a.name),
                    counter: value,
                    scale,
                });
                if let Some(n) = count_of_filter {
                    plan.reveals.push(Reveal {
                        name: format!("{}.count", a.name),
                        counter: n,
                        scale: 0,
                    });
                }
            }
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_complements() {
        assert_eq!(
            intervals(vec![5, 3, 4, 9, 9, 0]),
            vec![(0, 0), (3, 5), (9, 9)]
        );
        assert_eq!(
            complement(&[(0, 0), (3, 5), (9, 9)], 15),
            vec![(1, 2), (6, 8), (10, 15)]
        );
        assert_eq!(complement(&[], 7), vec![(0, 7)]);
        assert_eq!(complement(&[(0, u64::MAX)], u64::MAX), vec![]);
        assert_eq!(complement(&[(3, u64::MAX)], u64::MAX), vec![(0, 2)]);
    }
}
