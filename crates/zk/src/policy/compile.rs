//! Compiling a policy file against a schema: columns resolved, values encoded, sets turned into
//! intervals, aggregates into counters and linear bounds.

use std::path::Path;
use trustspace_data::error::escape_controls;
use trustspace_data::schema::Bound;
use trustspace_data::{Column, Kind, Schema};

use super::spec::{AggregateSpec, PredicateSpec, RuleSpec};
use super::{
    Atom, Counter, Inequality, MAX_INLINE_INTERVALS, MAX_RULES, MAX_SET_ENTRIES, Op, Plan, Reveal,
    Rule, Term,
};

/// Compiles policy specs against a schema; `base` resolves set files.
pub(super) struct Compiler<'a> {
    pub(super) schema: &'a Schema,
    pub(super) base: Option<&'a Path>,
}

type CResult<T> = std::result::Result<T, String>;

/// Why a policy does not compile: a share bound outside `[0, 1]` (typed, for callers to match),
/// or anything else, described.
pub(super) enum CompileError {
    Invalid(String),
    ShareOutOfRange {
        aggregate: String,
        key: &'static str,
        value: String,
    },
}

impl From<String> for CompileError {
    fn from(reason: String) -> Self {
        CompileError::Invalid(reason)
    }
}

/// Untrusted text (names and values from a policy or schema file) for an error message.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(text)
}

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
    fn column(&self, name: &str) -> CResult<(usize, &Column)> {
        let i = self
            .schema
            .index_of(name)
            .ok_or_else(|| format!("unknown column `{}`", shown(name)))?;
        Ok((i, &self.schema.columns()[i]))
    }

    fn value(&self, c: &Column, b: &Bound) -> CResult<u64> {
        c.parse(&text(b))
            .map_err(|r| format!("column `{}`: {r}", shown(c.name())))
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
                .map_err(|e| format!("set file {}: {e}", shown(&path.display().to_string())))?;
            for (n, line) in content.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                out.push(c.parse(line).map_err(|r| {
                    format!("{}:{}: {r}", shown(&path.display().to_string()), n + 1)
                })?);
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
                shown(&p.column)
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
                        "columns `{}` and `{}` are not comparable (their encodings differ)",
                        shown(&p.column),
                        shown(other)
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
                    shown(&p.column),
                    shown(&text(lo)),
                    shown(&text(hi))
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
                "`{}` compiles to {} intervals; sets of more than {MAX_INLINE_INTERVALS} intervals are allowed in `require` only",
                shown(&desc),
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

    pub(super) fn compile(
        &self,
        name: &str,
        rules: &[RuleSpec],
        aggs: &[AggregateSpec],
    ) -> std::result::Result<Plan, CompileError> {
        if rules.len() + aggs.len() > MAX_RULES {
            return Err(format!("more than {MAX_RULES} rules").into());
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
            let e = |m: String| format!("aggregate `{}`: {m}", shown(&a.name));
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
                            "`sum` needs an unsigned numeric column; `{}` is not",
                            shown(col)
                        ))
                        .into());
                    }
                    (counter(Some(i), filter.clone()), Some(c))
                }
                (None, true) => (counter(None, filter.clone()), None),
                _ => {
                    return Err(e(
                        "give exactly one of `sum = \"column\"` or `count = true`".into()
                    )
                    .into());
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
                return Err(e("`min_share`/`max_share` apply to counts".into()).into());
            }
            if mean && sum_col.is_none() {
                return Err(e("`min_mean`/`max_mean` apply to sums".into()).into());
            }
            // A share is a fraction of the records: outside [0, 1] it could never bind (a
            // maximum) or never hold (a minimum), which is a mistake in the policy.
            let fraction = |key: &'static str, s: &String| {
                let (num, den) = self.scaled_fraction(s).map_err(e)?;
                if num > den {
                    return Err(CompileError::ShareOutOfRange {
                        aggregate: a.name.clone(),
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
