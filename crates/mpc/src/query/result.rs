//! The opened result as SQL values: what a revealed group's output opens about its row count,
//! and the formatting of every aggregate, with SQL's `NULL`.
//!
//! SQL semantics over a selection with no rows (a query without GROUP BY whose `WHERE` matches
//! nothing, or an empty table): `COUNT` and `COUNT(DISTINCT)` are 0; `SUM`, `AVG`, `MIN`, `MAX`,
//! `VAR`/`STDDEV` (and `HHI`) are `NULL`, printed as the text [`NULL`]. With GROUP BY, empty
//! groups do not appear at all, as in SQL. Sample `VAR`/`STDDEV` of one row are `NULL` too.
//!
//! Only what the selected aggregates need is opened ([`RowCount`]): the count when `COUNT`,
//! `AVG`, `VAR` or `STDDEV` is selected; otherwise, if a `SUM` is selected, only whether the
//! selection is empty (computed in MPC, one comparison) — the fact SQL's `NULL` reveals; and
//! nothing about the count otherwise (`MIN`/`MAX` carry their own out-of-range sentinel for no
//! rows, `COUNT(DISTINCT)` is 0 exactly then).

use trustspace_data::{Kind as ColKind, Schema};

use super::{Opened, OpenedGroup, QueryResult};
use crate::error::{Check, MpcError, RangeCheck, Result};
use crate::sql::{Agg, Output, Plan, ring_bounds};

/// SQL's `NULL` as it appears in [`QueryResult::rows`].
pub const NULL: &str = "NULL";

/// What a revealed group's opened output says about its number of rows passing the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowCount {
    /// The count (opened because a selected `COUNT`, `AVG`, `VAR` or `STDDEV` needs it).
    Exact(i64),
    /// Only whether there are any (opened for a selected `SUM`, which is `NULL` over no rows);
    /// with GROUP BY, every revealed group has rows.
    NonEmpty(bool),
    /// Nothing (no selected aggregate needs it).
    Hidden,
}

/// What the output opens about the row count, by the selected aggregates ([`RowCount`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CountOpening {
    /// The count.
    Exact,
    /// `[count > 0]`.
    NonEmpty,
    /// Zero.
    Hidden,
}

/// Which aggregates are selected (their values are opened; the others, used only by HAVING or
/// ORDER BY, stay secret).
pub(crate) fn selected(plan: &Plan) -> Vec<bool> {
    let mut out = vec![false; plan.aggs.len()];
    for (o, _) in &plan.outputs {
        if let Output::Agg(i) = o {
            out[*i] = true;
        }
    }
    out
}

/// What a plan's output opens about each revealed group's row count.
pub(crate) fn count_opening(plan: &Plan) -> CountOpening {
    let sel = selected(plan);
    let selected = || {
        plan.aggs
            .iter()
            .zip(&sel)
            .filter(|(_, s)| **s)
            .map(|(a, _)| a)
    };
    if selected().any(|a| {
        matches!(
            a,
            Agg::Count | Agg::Avg(_) | Agg::Var { .. } | Agg::Stddev { .. }
        )
    }) {
        CountOpening::Exact
    } else if selected().any(|a| matches!(a, Agg::Sum(_))) {
        CountOpening::NonEmpty
    } else {
        CountOpening::Hidden
    }
}

/// Reads a revealed group's count word as [`count_opening`] says it was opened.
pub(crate) fn row_count(plan: &Plan, word: u64) -> Result<RowCount> {
    Ok(match count_opening(plan) {
        CountOpening::Exact => RowCount::Exact(word as i64),
        CountOpening::NonEmpty if word <= 1 => RowCount::NonEmpty(word == 1),
        CountOpening::NonEmpty => {
            return Err(MpcError::CheatingDetected {
                check: Check::Output,
                detail: "result: an emptiness flag is not 0 or 1".into(),
            });
        }
        CountOpening::Hidden => RowCount::Hidden,
    })
}

/// Formats opened values as the query's result table (SQL's `NULL` as [`NULL`]).
pub fn format(plan: &Plan, schema: &Schema, opened: &Opened) -> Result<QueryResult> {
    let columns = plan.outputs.iter().map(|(_, l)| l.clone()).collect();
    let mut rows = Vec::new();
    for OpenedGroup {
        group: g,
        rows: count,
        values: vals,
    } in &opened.groups
    {
        let mut row = Vec::new();
        for (out, _) in &plan.outputs {
            row.push(match out {
                Output::GroupKey => {
                    let c = plan.group_by.ok_or_else(|| {
                        MpcError::Query("a group key output without GROUP BY".into())
                    })?;
                    match schema.columns()[c].kind() {
                        ColKind::Categorical { values } => values[*g].clone(),
                        _ => (*g == 1).to_string(),
                    }
                }
                Output::Agg(i) => format_agg(schema, plan.aggs[*i], *count, vals[*i])?,
            });
        }
        rows.push(row);
    }
    Ok(QueryResult { columns, rows })
}

fn scale_of(schema: &Schema, c: Option<usize>) -> u32 {
    match c.map(|c| schema.columns()[c].kind()) {
        Some(ColKind::Decimal { scale, .. }) => *scale,
        _ => 0,
    }
}

/// `units / 10^scale` as exact decimal text.
pub use trustspace_data::format_units as fixed;

/// `num / den` rounded half away from zero, in units of 10^-scale (num, den in column units).
pub fn avg_units(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den.abs() {
        q + num.signum() * den.signum()
    } else {
        q
    }
}

fn format_agg(schema: &Schema, a: Agg, rows: RowCount, (v, sq): (i64, i64)) -> Result<String> {
    let scale = scale_of(schema, a.column());
    let count = || match rows {
        RowCount::Exact(n) => Ok(n),
        _ => Err(MpcError::Query(format!(
            "{} needs the row count, which was not opened",
            a.to_sql(schema)
        ))),
    };
    Ok(match a {
        Agg::Hhi { .. } => {
            if v == -1 {
                return Err(MpcError::Range {
                    check: RangeCheck::MarketTotal,
                    reason: "HHI: the market total reaches 2^31 units; choose a larger unit".into(),
                });
            }
            if v == 0 {
                NULL.into()
            } else {
                // 10,000 × Q / S², to two decimals, exact.
                let (q, s) = (sq as i128, v as i128);
                fixed(avg_units(1_000_000 * q, s * s), 2)
            }
        }
        Agg::Count | Agg::CountDistinct(_) => v.to_string(),
        Agg::Sum(_) => match rows {
            RowCount::Exact(0) | RowCount::NonEmpty(false) => NULL.into(),
            _ => fixed(v as i128, scale),
        },
        Agg::Avg(_) => {
            let count = count()?;
            if count == 0 {
                NULL.into()
            } else {
                fixed(avg_units(v as i128, count as i128), scale)
            }
        }
        Agg::Min(c) | Agg::Max(c) => {
            let col = &schema.columns()[c];
            let (lo, hi) = ring_bounds(col)?;
            if v < lo || v > hi {
                NULL.into()
            } else {
                format_value(col, v)?
            }
        }
        Agg::Var { pop, .. } | Agg::Stddev { pop, .. } => {
            let n = count()? as i128;
            let d = if pop { n } else { n - 1 };
            if d <= 0 {
                NULL.into()
            } else {
                // n·Σx² − (Σx)², exact, over n·d, in units of 10^-2·scale.
                let num = n * sq as i128 - (v as i128) * (v as i128);
                let var = num as f64 / (n * d) as f64 / 10f64.powi(2 * scale as i32);
                let out = if matches!(a, Agg::Stddev { .. }) {
                    var.sqrt()
                } else {
                    var
                };
                format!("{out:.6}")
            }
        }
    })
}

fn format_value(col: &trustspace_data::Column, v: i64) -> Result<String> {
    use trustspace_data::Value;
    let value = match col.kind() {
        ColKind::Uint { .. } => Value::Uint(v as u64),
        ColKind::Int { .. } => Value::Int(v),
        ColKind::Decimal { .. } => Value::Decimal(v as i128),
        ColKind::Bool => Value::Bool(v != 0),
        ColKind::Date => Value::Date(v as i32),
        ColKind::Timestamp => Value::Timestamp(v),
        ColKind::Categorical { .. } => Value::Category(v as u32),
        other => {
            return Err(MpcError::Query(format!(
                "column {}: unsupported type {}",
                col.name(),
                other.label()
            )));
        }
    };
    let enc = col
        .encode(&value)
        .map_err(|e| MpcError::Query(format!("column {}: {e}", col.name())))?;
    col.format(enc)
        .map_err(|e| MpcError::Query(format!("column {}: {e}", col.name())))
}
