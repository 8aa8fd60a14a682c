//! The compiler: a policy spec ([`super::spec`]) resolved against a schema into a
//! [`Plan`]: columns resolved to indices, values encoded, sets turned into intervals, aggregates
//! into counters and linear bounds. Every failure is a [`PolicyError`] naming the rule or
//! aggregate, the column and the cause.

use std::path::Path;
use trustspace_data::schema::Bound;
use trustspace_data::{Column, Kind, Schema};

use super::plan::{Atom, Counter, Inequality, Op, Plan, Reveal, Rule, Term};
use super::spec::{AggregateSpec, Measure, Operator, PredicateSpec, RuleSpec};
use super::{MAX_INLINE_INTERVALS, MAX_RULES, MAX_SET_ENTRIES};
use crate::error::{AggregateProblem, PolicyError, PredicateProblem, RulePart};

/// Compiles policy specs against a schema; `base` resolves set files.
pub(super) struct Compiler<'a> {
    pub(super) schema: &'a Schema,
    pub(super) base: Option<&'a Path>,
}

type PResult<T> = std::result::Result<T, PredicateProblem>;
type AResult<T> = std::result::Result<T, AggregateProblem>;

/// A bound as written, for descriptions and messages.
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
    fn column(&self, name: &str) -> PResult<(usize, &Column)> {
        let i = self
            .schema
            .index_of(name)
            .ok_or_else(|| PredicateProblem::UnknownColumn {
                column: name.to_string(),
            })?;
        Ok((i, &self.schema.columns()[i]))
    }

    fn value(&self, c: &Column, b: &Bound) -> PResult<u64> {
        c.parse(&text(b)).map_err(|reason| PredicateProblem::Value {
            column: c.name().to_string(),
            reason,
        })
    }

    fn set_values(
        &self,
        c: &Column,
        list: Option<&Vec<Bound>>,
        file: Option<&String>,
    ) -> PResult<Vec<u64>> {
        let mut out = Vec::new();
        if let Some(list) = list {
            for b in list {
                out.push(self.value(c, b)?);
            }
        }
        if let Some(f) = file {
            let base = self.base.ok_or(PredicateProblem::SetFileNotAllowed)?;
            let path = base.join(f);
            let content = match std::fs::read_to_string(&path) {
                Ok(content) => content,
                Err(source) => return Err(PredicateProblem::SetFileRead { path, source }),
            };
            for (n, line) in content.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                match c.parse(line) {
                    Ok(v) => out.push(v),
                    Err(reason) => {
                        return Err(PredicateProblem::SetFileValue {
                            path,
                            line: n + 1,
                            reason,
                        });
                    }
                }
            }
        }
        if out.len() > MAX_SET_ENTRIES {
            return Err(PredicateProblem::SetTooLarge {
                entries: out.len(),
                limit: MAX_SET_ENTRIES,
            });
        }
        Ok(out)
    }

    /// Whether `op` may compare columns `c` and `rc`: the same encoding (same kind and, where
    /// it matters, width, scale and signedness), and for categoricals only `==`/`!=` over the
    /// same dictionary.
    fn comparable(c: &Column, rc: &Column, op: Op) -> bool {
        let numeric = |c: &Column| !matches!(c.kind(), Kind::Categorical { .. });
        let same_kind = std::mem::discriminant(c.kind()) == std::mem::discriminant(rc.kind());
        same_kind
            && (numeric(c) || matches!(op, Op::Eq | Op::Ne) && c.dictionary() == rc.dictionary())
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
            }
    }

    /// Compiles a predicate; `tree_ok` allows large sets (a proof of membership, not a boolean).
    /// Returns the atom and a description (the default name of a rule).
    fn atom(&self, p: &PredicateSpec, tree_ok: bool) -> PResult<(Atom, String)> {
        let (col, c) = self.column(&p.column)?;
        let (ranges, desc) = match p.operator()? {
            Operator::Const(op, b) => {
                let value = self.value(c, b)?;
                let desc = format!("{} {} {}", p.column, op.symbol(), text(b));
                return Ok((
                    Atom::Const {
                        column: col,
                        op,
                        value,
                    },
                    desc,
                ));
            }
            Operator::Column(op, other) => {
                let (right, rc) = self.column(other)?;
                if !Self::comparable(c, rc, op) {
                    return Err(PredicateProblem::NotComparable {
                        left: p.column.clone(),
                        right: other.to_string(),
                    });
                }
                let desc = format!("{} {} {other}", p.column, op.symbol());
                return Ok((
                    Atom::Columns {
                        left: col,
                        op,
                        right,
                    },
                    desc,
                ));
            }
            Operator::Between(lo, hi) => {
                let (a, b) = (self.value(c, lo)?, self.value(c, hi)?);
                if a > b {
                    return Err(PredicateProblem::EmptyBetween {
                        column: p.column.clone(),
                        lo: text(lo),
                        hi: text(hi),
                    });
                }
                (
                    vec![(a, b)],
                    format!("{} between {} and {}", p.column, text(lo), text(hi)),
                )
            }
            Operator::In(list, file) => {
                let v = self.set_values(c, list, file)?;
                let d = format!("{} in a set of {}", p.column, v.len());
                (intervals(v), d)
            }
            Operator::NotIn(list, file) => {
                let v = self.set_values(c, list, file)?;
                let d = format!("{} not in a set of {}", p.column, v.len());
                (complement(&intervals(v), type_max(c)), d)
            }
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
            Err(PredicateProblem::TooManyIntervals {
                predicate: desc,
                intervals: ranges.len(),
                limit: MAX_INLINE_INTERVALS,
            })
        }
    }

    /// A non-negative decimal fraction as `(numerator, denominator)`, exactly.
    fn scaled_fraction(s: &str) -> AResult<(u128, u128)> {
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        let ok = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        let bad = || AggregateProblem::Fraction {
            value: s.to_string(),
        };
        if i.is_empty() || !ok(i) || !ok(f) || f.len() > 6 || i.len() > 6 {
            return Err(bad());
        }
        let den = 10u128.pow(f.len() as u32);
        let num = format!("{i}{f}").parse::<u128>().map_err(|_| bad())?;
        Ok((num, den))
    }

    /// Compiles a whole policy.
    pub(super) fn compile(
        &self,
        name: &str,
        rules: &[RuleSpec],
        aggs: &[AggregateSpec],
    ) -> std::result::Result<Plan, PolicyError> {
        let count = rules.len() + aggs.len();
        if count > MAX_RULES {
            return Err(PolicyError::TooManyRules {
                count,
                limit: MAX_RULES,
            });
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
            let at = |part| {
                move |problem| PolicyError::Rule {
                    rule: i + 1,
                    part,
                    problem,
                }
            };
            let (require, rd) = self.atom(&r.require, true).map_err(at(RulePart::Require))?;
            let when = match &r.when {
                Some(w) => Some(self.atom(w, false).map_err(at(RulePart::When))?),
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
            self.aggregate(&mut plan, a)
                .map_err(|problem| PolicyError::Aggregate {
                    aggregate: a.name.clone(),
                    problem,
                })?;
        }
        Ok(plan)
    }

    /// Compiles one aggregate into the plan's counters, bounds and reveals.
    fn aggregate(&self, plan: &mut Plan, a: &AggregateSpec) -> AResult<()> {
        let filter = match &a.filter {
            Some(f) => Some(self.atom(f, false)?.0),
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
        let (value, sum_col) = match a.measure()? {
            Measure::Sum(col) => {
                let (i, c) = self.column(col)?;
                if !matches!(
                    c.kind(),
                    Kind::Uint { .. } | Kind::Decimal { signed: false, .. } | Kind::Bool
                ) {
                    return Err(AggregateProblem::NotSummable {
                        column: col.to_string(),
                    });
                }
                (counter(Some(i), filter.clone()), Some(c))
            }
            Measure::Count => (counter(None, filter.clone()), None),
        };
        let bound_value = |b: &Bound| -> AResult<u128> {
            match sum_col {
                Some(c) => Ok(u128::from(self.value(c, b)?)),
                None => text(b)
                    .parse::<u64>()
                    .map(u128::from)
                    .map_err(|_| AggregateProblem::CountBound { value: text(b) }),
            }
        };
        let mut bounds = Vec::new();
        let mut push = |left: Vec<(u128, Term)>, right: Vec<(u128, Term)>, what: &str| {
            bounds.push(Inequality {
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
            return Err(AggregateProblem::ShareOnSum);
        }
        if mean && sum_col.is_none() {
            return Err(AggregateProblem::MeanOnCount);
        }
        // A share is a fraction of the records: outside [0, 1] it could never bind (a
        // maximum) or never hold (a minimum), which is a mistake in the policy.
        let fraction = |key: &'static str, s: &String| {
            let (num, den) = Self::scaled_fraction(s)?;
            if num > den {
                return Err(AggregateProblem::ShareOutOfRange {
                    key,
                    value: s.clone(),
                });
            }
            Ok((num, den))
        };
        if let Some(s) = &a.max_share {
            let (num, den) = fraction("max_share", s)?;
            push(
                vec![(den, Term::Counter(value))],
                vec![(num, Term::Records)],
                "max_share",
            );
        }
        if let Some(s) = &a.min_share {
            let (num, den) = fraction("min_share", s)?;
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
        plan.bounds.extend(bounds);
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
        Ok(())
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
