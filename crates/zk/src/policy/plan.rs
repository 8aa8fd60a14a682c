//! The plan: the intermediate representation a policy compiles to, between the TOML spec
//! ([`super::spec`]) and the circuits. Columns are indices, values are canonical encodings,
//! sets are sorted disjoint intervals, aggregates are counters and linear inequalities over
//! them. The circuits enforce a plan; the native evaluator here checks the same predicates
//! (so a non-compliant dataset is refused before any proof), and [`Plan::digest`] names it.

use serde::{Deserialize, Serialize};
use trustspace_data::Record;

use crate::canon::{self, Canon};

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
    pub(super) fn symbol(self) -> &'static str {
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

impl Op {
    /// The operator's code in the canonical encoding.
    fn code(self) -> u8 {
        match self {
            Op::Eq => 1,
            Op::Ne => 2,
            Op::Lt => 3,
            Op::Le => 4,
            Op::Gt => 5,
            Op::Ge => 6,
        }
    }
}

impl Atom {
    fn encode(&self, c: &mut Canon) {
        let ranges = |c: &mut Canon, ranges: &[(u64, u64)]| {
            c.seq(ranges.iter(), |c, &(lo, hi)| {
                c.u64(lo).u64(hi);
            });
        };
        match self {
            Atom::Const { column, op, value } => {
                c.u8(1);
                canon::idx(c, *column);
                c.u8(op.code()).u64(*value);
            }
            Atom::Columns { left, op, right } => {
                c.u8(2);
                canon::idx(c, *left);
                c.u8(op.code());
                canon::idx(c, *right);
            }
            Atom::Intervals { column, ranges: r } => {
                c.u8(3);
                canon::idx(c, *column);
                ranges(c, r);
            }
            Atom::Tree { column, ranges: r } => {
                c.u8(4);
                canon::idx(c, *column);
                ranges(c, r);
            }
        }
    }
}

fn encode_terms(c: &mut Canon, terms: &[(u128, Term)]) {
    c.seq(terms.iter(), |c, (k, t)| {
        c.u128(*k);
        match t {
            Term::Counter(i) => {
                c.u8(1);
                canon::idx(c, *i);
            }
            Term::Records => {
                c.u8(2);
            }
            Term::One => {
                c.u8(3);
            }
        }
    });
}

impl Plan {
    /// The plan's canonical encoding ([`canon::POLICY`]; layout in [`crate::canon`]).
    pub fn canonical(&self) -> Canon {
        let mut c = canon::POLICY.start();
        c.str(&self.name).raw(&self.schema_digest);
        c.seq(self.rules.iter(), |c, r| {
            c.str(&r.name).option(r.when.as_ref(), |c, a| a.encode(c));
            r.require.encode(c);
        });
        c.seq(self.counters.iter(), |c, k| {
            c.option(k.column, canon::idx)
                .option(k.filter.as_ref(), |c, a| a.encode(c));
        });
        c.seq(self.bounds.iter(), |c, b| {
            c.str(&b.name);
            encode_terms(c, &b.left);
            encode_terms(c, &b.right);
        });
        c.seq(self.reveals.iter(), |c, r| {
            c.str(&r.name);
            canon::idx(c, r.counter);
            c.u32(r.scale);
        });
        c
    }

    /// SHA-256 of [`Plan::canonical`]: the policy digest. It covers the schema digest, so a
    /// policy names the schema it was compiled against; two policy files that compile to the
    /// same checks have the same digest.
    pub fn digest(&self) -> [u8; 32] {
        self.canonical().sha256()
    }
}
