//! The range checks made before any work ([`check_ranges`]): every comparison and sum of a plan
//! must stay within 64 bits for the given number of rows, judged by the columns' declared
//! bounds; otherwise the query is refused ([`MpcError::Range`]) rather than answered wrongly.

use std::collections::BTreeSet;
use trustspace_data::Schema;

use crate::error::{MpcError, RangeCheck, Result};
use crate::sql::{Agg, Having, Operand, Plan, Pred, ring_bounds};

const LIMIT_63: i128 = 1 << 63;
const LIMIT_62: i128 = 1 << 62;

fn refuse(check: RangeCheck, reason: String) -> MpcError {
    MpcError::Range { check, reason }
}

/// Calls `f` on every pair of operands `p` compares.
fn walk(p: &Pred, f: &mut dyn FnMut(Operand, Operand) -> Result<()>) -> Result<()> {
    match p {
        Pred::Cmp(_, a, b) => f(*a, *b),
        Pred::In(c, vals, _) => vals
            .iter()
            .try_for_each(|v| f(Operand::Col(*c), Operand::Lit(*v))),
        Pred::And(x, y) | Pred::Or(x, y) => {
            walk(x, f)?;
            walk(y, f)
        }
        Pred::Not(x) => walk(x, f),
        Pred::Const(_) => Ok(()),
    }
}

/// The aggregates a `HAVING` compares (into `out`) and its literals (into `lits`).
fn having_aggs(h: &Having, out: &mut BTreeSet<usize>, lits: &mut Vec<i64>) {
    match h {
        Having::Cmp(_, i, lit) => {
            out.insert(*i);
            lits.push(*lit);
        }
        Having::And(x, y) | Having::Or(x, y) => {
            having_aggs(x, out, lits);
            having_aggs(y, out, lits);
        }
        Having::Not(x) => having_aggs(x, out, lits),
    }
}

/// Checks, before any work, that every comparison and sum stays within 64 bits for `rows` rows.
pub fn check_ranges(plan: &Plan, schema: &Schema, rows: usize) -> Result<()> {
    let bounds = |c: usize| ring_bounds(&schema.columns()[c]);
    let span = |a: Operand, b: Operand| -> Result<i128> {
        let r = |o: Operand| -> Result<(i128, i128)> {
            Ok(match o {
                Operand::Col(c) => {
                    let (lo, hi) = bounds(c)?;
                    (lo as i128, hi as i128)
                }
                Operand::Lit(v) => (v as i128, v as i128),
            })
        };
        let ((alo, ahi), (blo, bhi)) = (r(a)?, r(b)?);
        Ok((ahi - blo).abs().max((bhi - alo).abs()))
    };
    if let Some(p) = &plan.filter {
        walk(p, &mut |a, b| {
            if span(a, b)? >= LIMIT_63 {
                return Err(refuse(
                    RangeCheck::Comparison,
                    "a comparison whose operands' declared ranges differ by 2^63 or more".into(),
                ));
            }
            Ok(())
        })?;
    }
    // Products saturate: a row count announced by a holder may be anything up to 2^64 - 1, and
    // a saturated product is beyond every limit, so it is refused as it should be.
    let n = rows as i128;
    // Aggregates compared in HAVING or ORDER BY must stay within ±2^62, so that differences
    // (and the ranking's sink values) stay within ±2^63.
    let mut compared = BTreeSet::new();
    let mut lits = Vec::new();
    if let Some(h) = &plan.having {
        having_aggs(h, &mut compared, &mut lits);
    }
    if let Some((i, _)) = plan.order {
        compared.insert(i);
    }
    if lits
        .iter()
        .any(|l| (*l as i128).abs().saturating_mul(n.max(1)) >= LIMIT_62)
    {
        return Err(refuse(
            RangeCheck::HavingBound,
            "a HAVING bound beyond ±2^62 / rows".into(),
        ));
    }
    for (i, a) in plan.aggs.iter().enumerate() {
        if compared.contains(&i) {
            let m = match a.column() {
                Some(c) => {
                    let (lo, hi) = bounds(c)?;
                    (lo as i128).abs().max((hi as i128).abs()) + 1
                }
                None => 1,
            };
            let worst = match a {
                Agg::Min(_) | Agg::Max(_) => m,
                _ => n.max(1).saturating_mul(m),
            };
            if worst >= LIMIT_62 {
                return Err(refuse(
                    RangeCheck::Compared { agg: i },
                    format!(
                        "{} is compared in HAVING/ORDER BY and could exceed 2^62 for {rows} rows",
                        a.to_sql(schema)
                    ),
                ));
            }
            // ORDER BY AVG compares SUM_g × COUNT_h of two groups (disjoint rows, so
            // COUNT_g × COUNT_h ≤ rows²/4), and a sink one beyond the range × COUNT.
            if matches!(a, Agg::Avg(_))
                && plan.order.is_some_and(|(o, _)| o == i)
                && (n.saturating_mul(n) / 4 + 1).max(n).saturating_mul(m) >= LIMIT_62
            {
                return Err(refuse(
                    RangeCheck::AvgProducts { agg: i },
                    format!(
                        "ORDER BY {} compares SUM × COUNT products, which could exceed 2^62 for \
                         {rows} rows",
                        a.to_sql(schema)
                    ),
                ));
            }
        }
    }
    for (i, a) in plan.aggs.iter().enumerate() {
        if let Some(c) = a.column() {
            let (lo, hi) = bounds(c)?;
            let m = (lo as i128).abs().max((hi as i128).abs());
            let worst = match *a {
                // Per-key totals in units (each holder rounds up by at most one unit per key),
                // kept below 2^62 so the in-MPC check S < 2^31 compares correctly.
                Agg::Hhi { unit, .. } => (2 * n).saturating_mul(m / i128::from(unit.max(1)) + 1),
                Agg::Var { .. } | Agg::Stddev { .. } => n.saturating_mul(m).saturating_mul(m),
                Agg::Min(_) | Agg::Max(_) => 2 * m + 2,
                _ => n.saturating_mul(m),
            };
            if worst >= LIMIT_63 {
                let hint = if matches!(a, Agg::Hhi { .. }) {
                    "; choose a larger unit"
                } else {
                    ""
                };
                return Err(refuse(
                    RangeCheck::Overflow { agg: i },
                    format!(
                        "{} could overflow 64 bits for {rows} rows (declared range {lo}..{hi}){hint}",
                        a.to_sql(schema)
                    ),
                ));
            }
        }
    }
    Ok(())
}
