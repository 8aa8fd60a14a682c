//! Holder-side pre-aggregation: a data holder owns whole rows, so it may evaluate `WHERE` and
//! `GROUP BY` on its own rows in the clear and secret-share only its *partial aggregates*; the
//! parties combine the partials of all holders inside MPC and evaluate `HAVING`, `ORDER BY` and
//! `LIMIT` there. This is [`crate::query::Strategy::Partials`].
//!
//! Every aggregate of the SQL subset decomposes over a horizontal partition of the rows:
//! `COUNT`, `SUM` (and so `AVG`), the sum of squares (for `VAR`/`STDDEV`) add up; `MIN`/`MAX`
//! combine by a secret comparison across holders (a holder's empty group carries a sentinel
//! beyond the column's range); `COUNT(DISTINCT c)` combines per-holder presence bitmaps over the
//! declared domain of `c` (a value is present if any holder has it).
//!
//! The parties see only shares of fixed-length vectors whose length depends on the query and the
//! schema, never on the data; they learn each holder's row count (announced for the overflow
//! checks, as in row-level sharing).

use trustspace_data::{Record, Schema};

use crate::error::{MpcError, Result};
use crate::sql::{Agg, Cmp, Operand, Plan, Pred, domain, ring_bounds, ring_of};

/// The number of groups a plan aggregates into (the GROUP BY column's domain, or 1).
pub fn groups(plan: &Plan, schema: &Schema) -> usize {
    plan.group_by.map_or(1, |g| domain(schema, g))
}

/// One partial-aggregate vector of a plan, in [`layout`] order, with the columns it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Matching rows per group.
    Count,
    /// Σ of a column per group (`SUM`, `AVG`, `VAR`, `STDDEV`).
    Sum(usize),
    /// Σ of squares of a column per group (`VAR`, `STDDEV`).
    SumSq(usize),
    /// Min (`max == false`) or max of a column per group (sentinel if the group is empty).
    Extreme {
        /// The column.
        column: usize,
        /// `MAX` rather than `MIN`.
        max: bool,
    },
    /// Presence of each of the `domain` values of a categorical column, per group
    /// (`groups × domain`).
    Present {
        /// The column.
        column: usize,
        /// Its domain size.
        domain: usize,
    },
    /// Per-key totals of the `value` column in whole `unit`s, per group (`groups × keys`).
    KeySums {
        /// The value column.
        value: usize,
        /// The key column.
        key: usize,
        /// Number of keys.
        keys: u32,
        /// Value units per counted unit.
        unit: i64,
    },
}

/// The vectors aggregate `a` contributes, in order, with their lengths for `g` groups.
fn parts(a: Agg, g: usize, schema: &Schema) -> Vec<(Part, usize)> {
    match a {
        Agg::Count => vec![],
        Agg::Sum(c) | Agg::Avg(c) => vec![(Part::Sum(c), g)],
        Agg::Var { column, .. } | Agg::Stddev { column, .. } => {
            vec![(Part::Sum(column), g), (Part::SumSq(column), g)]
        }
        Agg::Min(column) => vec![(Part::Extreme { column, max: false }, g)],
        Agg::Max(column) => vec![(Part::Extreme { column, max: true }, g)],
        Agg::CountDistinct(column) => {
            let domain = domain(schema, column);
            vec![(Part::Present { column, domain }, g * domain)]
        }
        Agg::Hhi {
            value,
            key,
            keys,
            unit,
        } => vec![(
            Part::KeySums {
                value,
                key,
                keys,
                unit,
            },
            g * keys as usize,
        )],
    }
}

/// The partial-aggregate vectors a plan needs, with their lengths: [`Part::Count`] first, then
/// each aggregate's vectors in the plan's order (`SUM`/`AVG`: its sums; `VAR`/`STDDEV`: sums,
/// then sums of squares; `MIN`/`MAX`: extremes; `COUNT(DISTINCT)`: presence; `HHI`: key sums;
/// `COUNT`: none).
pub fn layout(plan: &Plan, schema: &Schema) -> Vec<(Part, usize)> {
    let g = groups(plan, schema);
    let mut out = vec![(Part::Count, g)];
    for a in &plan.aggs {
        out.extend(parts(*a, g, schema));
    }
    out
}

/// The sentinel an empty group carries for `MIN` (one above the column's range) or `MAX`
/// (one below), so that it never wins against a real value.
pub fn sentinel(schema: &Schema, col: usize, max: bool) -> Result<i64> {
    let (lo, hi) = ring_bounds(&schema.columns()[col])?;
    Ok(if max {
        lo.wrapping_sub(1)
    } else {
        hi.wrapping_add(1)
    })
}

fn holds(p: &Pred, v: &dyn Fn(usize) -> i64) -> bool {
    let val = |o: Operand| match o {
        Operand::Col(c) => v(c),
        Operand::Lit(l) => l,
    };
    match p {
        Pred::Cmp(op, a, b) => {
            let (x, y) = (val(*a), val(*b));
            match op {
                Cmp::Eq => x == y,
                Cmp::Ne => x != y,
                Cmp::Lt => x < y,
                Cmp::Le => x <= y,
                Cmp::Gt => x > y,
                Cmp::Ge => x >= y,
            }
        }
        Pred::In(c, vals, negated) => vals.contains(&v(*c)) != *negated,
        Pred::And(x, y) => holds(x, v) && holds(y, v),
        Pred::Or(x, y) => holds(x, v) || holds(y, v),
        Pred::Not(x) => !holds(x, v),
        Pred::Const(b) => *b,
    }
}

/// A holder's partial aggregates over its own rows, as ring words in [`layout`] order.
pub fn aggregate(plan: &Plan, schema: &Schema, records: &[Record]) -> Result<Vec<Vec<u64>>> {
    let g = groups(plan, schema);
    let lay = layout(plan, schema);
    let mut out: Vec<Vec<u64>> = Vec::with_capacity(lay.len());
    for (part, len) in &lay {
        out.push(match *part {
            Part::Extreme { column, max } => vec![sentinel(schema, column, max)? as u64; *len],
            _ => vec![0; *len],
        });
    }
    // Per-key totals in exact integers, rounded to units at the end.
    let mut key_sums: Vec<Vec<i128>> = lay.iter().map(|_| Vec::new()).collect();
    for ((part, len), acc) in lay.iter().zip(key_sums.iter_mut()) {
        if matches!(part, Part::KeySums { .. }) {
            *acc = vec![0; *len];
        }
    }
    let ncols = schema.columns().len();
    let mut vals = vec![0i64; ncols];
    for r in records {
        for (c, slot) in vals.iter_mut().enumerate() {
            *slot = ring_of(&schema.columns()[c], r[c])?;
        }
        let get = |c: usize| vals[c];
        if let Some(f) = &plan.filter
            && !holds(f, &get)
        {
            continue;
        }
        let grp = match plan.group_by {
            None => 0,
            Some(c) => usize::try_from(vals[c])
                .ok()
                .filter(|&x| x < g)
                .ok_or_else(|| {
                    MpcError::Input(format!(
                        "column {}: value outside its domain",
                        schema.columns()[c].name()
                    ))
                })?,
        };
        for (((part, _), slot), acc) in lay.iter().zip(out.iter_mut()).zip(key_sums.iter_mut()) {
            match *part {
                Part::Count => slot[grp] += 1,
                Part::Sum(c) => {
                    let x = vals[c];
                    slot[grp] = slot[grp].wrapping_add(x as u64);
                }
                Part::SumSq(c) => {
                    let x = vals[c];
                    slot[grp] = slot[grp].wrapping_add(x.wrapping_mul(x) as u64);
                }
                Part::Extreme { column, max } => {
                    let x = vals[column];
                    let cur = slot[grp] as i64;
                    let better = if max { x > cur } else { x < cur };
                    if better {
                        slot[grp] = x as u64;
                    }
                }
                Part::Present { column, domain: d } => {
                    let x = usize::try_from(vals[column])
                        .ok()
                        .filter(|&x| x < d)
                        .ok_or_else(|| {
                            MpcError::Input(format!(
                                "column {}: value outside its domain",
                                schema.columns()[column].name()
                            ))
                        })?;
                    slot[grp * d + x] = 1;
                }
                Part::KeySums {
                    value, key, keys, ..
                } => {
                    let k = usize::try_from(vals[key])
                        .ok()
                        .filter(|&k| k < keys as usize)
                        .ok_or_else(|| {
                            MpcError::Input(format!(
                                "column {}: key {} outside 0..{keys}",
                                schema.columns()[key].name(),
                                vals[key]
                            ))
                        })?;
                    acc[grp * keys as usize + k] += i128::from(vals[value]);
                }
            }
        }
    }
    for ((part, _), (slot, acc)) in lay.iter().zip(out.iter_mut().zip(&key_sums)) {
        if let Part::KeySums { unit, .. } = *part {
            let unit = i128::from(unit);
            for (w, &total) in slot.iter_mut().zip(acc) {
                // Values are non-negative: round half up to whole units.
                *w = ((total + unit / 2) / unit) as u64;
            }
        }
    }
    Ok(out)
}
