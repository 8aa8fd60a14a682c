//! The parties' evaluation ([`evaluate`]): the per-group aggregates, then which groups appear
//! (non-empty, passing `HAVING`, within the `ORDER BY ... LIMIT`), and each party's share of
//! the output vector, masked so that hidden groups read 0. The parties open nothing.

use trustspace_data::Schema;

use super::aggregate::{AggState, GroupAggs, combine_partials, repeat, row_aggregates};
use super::result::{self, CountOpening};
use super::{MAX_RANKED_GROUPS, SharedTable, Strategy, rank};
use crate::engine::Party;
use crate::error::{MpcError, Result};
use crate::share::{Kind, Shares};
use crate::sql::{Cmp, Having, Plan};
use crate::transport::Transport;

/// Runs the plan at one party on its shares of the holders' contributions and returns this
/// party's share of the query's output ([`super::open_output`] reconstructs it at a recipient).
/// The parties open nothing: which groups appear, their values and their order stay secret
/// until a recipient combines the three output shares.
///
/// In [`crate::engine::Mode::Malicious`] the parties first cross-check that every holder's
/// replicated shares agree, and at the end check every multiplication
/// ([`crate::engine::Party::verify`]) before the output share is returned.
pub fn evaluate<T: Transport>(
    p: &mut Party<T>,
    plan: &Plan,
    schema: &Schema,
    table: &SharedTable,
) -> Result<Shares> {
    let all: Vec<&Shares> = table.columns.iter().collect();
    p.check_consistent(&Shares::concat(&all), "holder inputs")?;
    let groups = crate::partial::groups(plan, schema);
    if groups == 0 {
        return Err(MpcError::Query("GROUP BY over an empty domain".into()));
    }
    let aggs = match table.strategy {
        Strategy::Rows => row_aggregates(p, plan, schema, table)?,
        Strategy::Partials => combine_partials(p, plan, schema, table)?,
    };
    let out = output(p, plan, schema, &aggs, groups)?;
    // Malicious mode: every product behind the output is checked before it leaves.
    p.verify()?;
    Ok(out)
}

/// The shared 0/1 indicator of the groups passing `h`.
fn having_value<T: Transport>(
    p: &mut Party<T>,
    h: &Having,
    aggs: &GroupAggs,
    groups: usize,
) -> Result<Shares> {
    let me = p.me();
    Ok(match h {
        Having::Cmp(op, i, lit) => {
            let lit_v = Shares::public(Kind::Arithmetic, me, &vec![*lit as u64; groups]);
            // AVG op L  <=>  SUM op L * COUNT (COUNT > 0 for revealed groups).
            let (x, y) = match &aggs.per[*i] {
                AggState::Count => (aggs.count.clone(), lit_v),
                AggState::Sum(s) | AggState::Extreme(s) | AggState::Distinct(s) => {
                    (s.clone(), lit_v)
                }
                AggState::Avg { sum, .. } => (sum.clone(), aggs.count.scale(*lit as u64)),
                AggState::Spread { .. } | AggState::Hhi { .. } => {
                    return Err(MpcError::Unsupported("HAVING on VAR/STDDEV".into()));
                }
            };
            let both = p.less_than(&Shares::concat(&[&x, &y]), &Shares::concat(&[&y, &x]))?;
            let (lt, gt) = (both.slice(0..groups), both.slice(groups..2 * groups));
            let one = |s: &Shares| s.public_minus(me, 1);
            match op {
                Cmp::Lt => lt,
                Cmp::Gt => gt,
                Cmp::Le => one(&gt),
                Cmp::Ge => one(&lt),
                Cmp::Eq => one(&lt.add(&gt)),
                Cmp::Ne => lt.add(&gt),
            }
        }
        Having::And(x, y) => {
            let (x, y) = (
                having_value(p, x, aggs, groups)?,
                having_value(p, y, aggs, groups)?,
            );
            p.mul(&x, &y)?
        }
        Having::Or(x, y) => {
            let (x, y) = (
                having_value(p, x, aggs, groups)?,
                having_value(p, y, aggs, groups)?,
            );
            let xy = p.mul(&x, &y)?;
            x.add(&y).sub(&xy)
        }
        Having::Not(x) => having_value(p, x, aggs, groups)?.public_minus(me, 1),
    })
}

/// This party's share of the output vector: the indicator of the groups that appear
/// (non-empty, passing HAVING, within LIMIT), then, each multiplied by that indicator so that
/// hidden groups read 0: the count word ([`super::RowCount`]: the count, `[count > 0]` or 0, by
/// what the selected aggregates need), per aggregate its main value and sum of squares (zero
/// for an aggregate that is not selected: one used only by HAVING or ORDER BY stays secret),
/// and the rank when ordered.
fn output<T: Transport>(
    p: &mut Party<T>,
    plan: &Plan,
    schema: &Schema,
    aggs: &GroupAggs,
    groups: usize,
) -> Result<Shares> {
    let me = p.me();
    // Which groups appear: non-empty (with GROUP BY), passing HAVING.
    let mut pass = if plan.group_by.is_some() {
        let zero = Shares::zeros(Kind::Arithmetic, groups);
        p.less_than(&zero, &aggs.count)?
    } else {
        Shares::public(Kind::Arithmetic, me, &vec![1; groups])
    };
    if let Some(h) = &plan.having {
        let hv = having_value(p, h, aggs, groups)?;
        pass = p.mul(&pass, &hv)?;
    }
    let mut rank = None;
    if let Some(order) = plan.order {
        if groups > MAX_RANKED_GROUPS {
            return Err(MpcError::Unsupported(format!(
                "ORDER BY over more than {MAX_RANKED_GROUPS} groups"
            )));
        }
        let ranks = rank::ranks(p, plan, schema, aggs, &pass, order)?;
        if let Some(limit) = plan.limit {
            let lim = Shares::public(Kind::Arithmetic, me, &vec![limit as u64; groups]);
            let within = p.less_than(&ranks, &lim)?;
            pass = p.mul(&pass, &within)?;
        }
        rank = Some(ranks);
    }
    // Columns to open, masked by `pass`; `None` reads 0.
    let count_word = match result::count_opening(plan) {
        CountOpening::Exact => Some(aggs.count.clone()),
        // With GROUP BY a group that appears has rows: the masked 1 is `pass` itself.
        CountOpening::NonEmpty if plan.group_by.is_some() => {
            Some(Shares::public(Kind::Arithmetic, me, &vec![1; groups]))
        }
        CountOpening::NonEmpty => {
            let zero = Shares::zeros(Kind::Arithmetic, groups);
            Some(p.less_than(&zero, &aggs.count)?)
        }
        CountOpening::Hidden => None,
    };
    let mut cols = vec![count_word];
    for (state, sel) in aggs.per.iter().zip(result::selected(plan)) {
        let (main, sq) = match state {
            _ if !sel => (None, None),
            AggState::Count => (Some(aggs.count.clone()), None),
            AggState::Sum(s)
            | AggState::Avg { sum: s, .. }
            | AggState::Extreme(s)
            | AggState::Distinct(s) => (Some(s.clone()), None),
            AggState::Spread { sum, squares }
            | AggState::Hhi {
                total: sum,
                squares,
            } => (Some(sum.clone()), Some(squares.clone())),
        };
        cols.push(main);
        cols.push(sq);
    }
    cols.push(rank);
    let open: Vec<&Shares> = cols.iter().flatten().collect();
    let masked = p.mul(&repeat(&pass, open.len()), &Shares::concat(&open))?;
    let zero = Shares::zeros(Kind::Arithmetic, groups);
    let mut k = 0;
    let out: Vec<Shares> = cols
        .iter()
        .map(|c| match c {
            Some(_) => {
                k += 1;
                masked.slice((k - 1) * groups..k * groups)
            }
            None => zero.clone(),
        })
        .collect();
    let mut parts = vec![&pass];
    // Without ORDER BY the output has no rank column.
    let len = out.len() - usize::from(plan.order.is_none());
    parts.extend(&out[..len]);
    Ok(Shares::concat(&parts))
}
