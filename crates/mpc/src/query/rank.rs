//! `ORDER BY aggregate [ASC|DESC] [LIMIT k]`: ranking the groups inside MPC.
//!
//! Each group gets a secret rank: the number of groups whose key beats its own, plus the number
//! of groups *before it in the GROUP BY column's dictionary* whose key equals its own. So ties go
//! to the group whose key is declared first, in either direction, and the ranks of the groups
//! that appear are 0, 1, 2, ... in output order. Groups that do not appear (empty, failing
//! HAVING) take a sink key beyond every real key, so they rank after all that do.
//!
//! Keys are compared exactly, never rounded: `COUNT`, `SUM`, `MIN`, `MAX`, `COUNT(DISTINCT)` as
//! they are; `AVG` as fractions, `S_g / C_g < S_h / C_h` iff `S_g · C_h < S_h · C_g` (the counts
//! of the groups that appear are positive), one secret product per ordered pair of groups.
//! [`super::check_ranges`] keeps every key, product and difference within 64 bits. One batch of
//! `groups · (groups − 1)` comparisons ranks everything.

use trustspace_data::Schema;

use super::aggregate::{AggState, GroupAggs};
use crate::engine::Party;
use crate::error::{MpcError, Result};
use crate::share::{Kind, Shares};
use crate::sql::{Plan, ring_bounds};
use crate::transport::Transport;

/// This party's shares of every group's rank by aggregate `i` (descending if `desc`); `pass`
/// marks the groups that appear.
pub(super) fn ranks<T: Transport>(
    p: &mut Party<T>,
    plan: &Plan,
    schema: &Schema,
    aggs: &GroupAggs,
    pass: &Shares,
    (i, desc): (usize, bool),
) -> Result<Shares> {
    let me = p.me();
    let groups = pass.len();
    // Ordered pairs (g, h), h != g, at g·(groups − 1) + (h, or h − 1 past g): with ~2,000 groups
    // there are ~4 million, so vectors are built element by element.
    let m = groups * groups.saturating_sub(1);
    let idx = |g: usize, h: usize| g * (groups - 1) + if h < g { h } else { h - 1 };
    let pairs = |v: &Shares, first: bool| {
        let (mut a, mut b) = (Vec::with_capacity(m), Vec::with_capacity(m));
        for g in 0..groups {
            for h in (0..groups).filter(|&h| h != g) {
                let j = if first { g } else { h };
                a.push(v.a[j]);
                b.push(v.b[j]);
            }
        }
        Shares {
            kind: Kind::Arithmetic,
            a,
            b,
        }
    };
    let public = |v: u64| vec![v; groups];
    // x at (g, h) is a value whose order against x at (h, g) is the order of g's key against h's.
    let x = match &aggs.per[i] {
        AggState::Avg { column, sum } => {
            // Groups that do not appear average one step beyond the column's range.
            let (lo, hi) = ring_bounds(&schema.columns()[*column])?;
            let sink = if desc {
                lo.wrapping_sub(1)
            } else {
                hi.wrapping_add(1)
            } as u64;
            // S' = pass·(S − sink) + sink, C' = pass·(C − 1) + 1.
            let both = p.mul(
                &Shares::concat(&[pass, pass]),
                &Shares::concat(&[
                    &sum.add_public(me, &public(sink.wrapping_neg())),
                    &aggs.count.add_public(me, &public(u64::MAX)),
                ]),
            )?;
            let s = both.slice(0..groups).add_public(me, &public(sink));
            let c = both.slice(groups..2 * groups).add_public(me, &public(1));
            // S'_g · C'_h
            p.mul(&pairs(&s, true), &pairs(&c, false))?
        }
        state => {
            let key = match state {
                AggState::Count => &aggs.count,
                AggState::Sum(s) | AggState::Extreme(s) | AggState::Distinct(s) => s,
                _ => {
                    return Err(MpcError::Unsupported(format!(
                        "ORDER BY {}: ORDER BY supports COUNT, SUM, AVG, MIN, MAX and \
                         COUNT(DISTINCT)",
                        plan.aggs[i].to_sql(schema)
                    )));
                }
            };
            // Groups that do not appear sink below every real key (keys are within ±2^62).
            let sink: u64 = if desc {
                (-(1i64 << 62)) as u64
            } else {
                1 << 62
            };
            let k = p
                .mul(pass, &key.add_public(me, &public(sink.wrapping_neg())))?
                .add_public(me, &public(sink));
            pairs(&k, true)
        }
    };
    // y at (g, h) is x at (h, g); lt at (g, h) is [key_g < key_h].
    let mut y = x.clone();
    for g in 0..groups {
        for h in (0..groups).filter(|&h| h != g) {
            y.a[idx(g, h)] = x.a[idx(h, g)];
            y.b[idx(g, h)] = x.b[idx(h, g)];
        }
    }
    let lt = p.less_than(&x, &y)?;
    drop((x, y));
    // rank_g = Σ_h beats(g, h) + Σ_{h<g} (1 − [g<h] − [h<g]); the public part is g.
    let mut ranks = Shares::zeros(Kind::Arithmetic, groups);
    for g in 0..groups {
        for h in (0..groups).filter(|&h| h != g) {
            let (gh, hg) = (idx(g, h), idx(h, g));
            let beats = if desc { gh } else { hg };
            ranks.a[g] = ranks.a[g].wrapping_add(lt.a[beats]);
            ranks.b[g] = ranks.b[g].wrapping_add(lt.b[beats]);
            if h < g {
                ranks.a[g] = ranks.a[g].wrapping_sub(lt.a[gh]).wrapping_sub(lt.a[hg]);
                ranks.b[g] = ranks.b[g].wrapping_sub(lt.b[gh]).wrapping_sub(lt.b[hg]);
            }
        }
    }
    Ok(ranks.add_public(me, &(0..groups as u64).collect::<Vec<_>>()))
}
