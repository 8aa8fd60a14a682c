//! The parties' per-group aggregates, typed per aggregate ([`AggState`]): from the holders'
//! partial aggregates ([`combine_partials`], [`super::Strategy::Partials`]) or from shared rows
//! ([`row_aggregates`], [`super::Strategy::Rows`]).

use trustspace_data::Schema;

use super::filter::Eval;
use super::{SharedTable, inputs};
use crate::engine::Party;
use crate::error::{MpcError, Result};
use crate::partial::{self, Part};
use crate::share::{Kind, Shares};
use crate::sql::{Agg, Plan, domain};
use crate::transport::Transport;

/// One aggregate's secret per-group values (one shared word per group), by what the aggregate
/// needs: each variant holds exactly its values, so no consumer asks whether one is there.
pub(super) enum AggState {
    /// `COUNT`: the groups' counts are [`GroupAggs::count`].
    Count,
    /// `SUM`: the per-group sums.
    Sum(Shares),
    /// `AVG` of `column`: the per-group sums (divided by the count after opening).
    Avg {
        /// The averaged column (its range bounds the ranking's sink).
        column: usize,
        /// The sums.
        sum: Shares,
    },
    /// `VAR` / `STDDEV`: the per-group sums and sums of squares.
    Spread {
        /// Σx.
        sum: Shares,
        /// Σx².
        squares: Shares,
    },
    /// `HHI`: the market total `S` in units (`-1` when it reaches 2^31) and `Q = Σ s_k²`
    /// (0 then).
    Hhi {
        /// S.
        total: Shares,
        /// Q.
        squares: Shares,
    },
    /// `MIN` / `MAX`: the per-group extremes (a sentinel beyond the range for no rows).
    Extreme(Shares),
    /// `COUNT(DISTINCT)`: the per-group numbers of distinct values.
    Distinct(Shares),
}

/// Per-group secret aggregates: the row counts, and each aggregate's values in plan order.
pub(super) struct GroupAggs {
    /// Matching rows per group.
    pub(super) count: Shares,
    /// One state per [`Plan::aggs`] entry.
    pub(super) per: Vec<AggState>,
}

/// Sums each of `blocks` consecutive blocks of `n` values.
pub(super) fn sum_blocks(s: &Shares, blocks: usize, n: usize) -> Shares {
    let parts: Vec<Shares> = (0..blocks)
        .map(|g| s.slice(g * n..(g + 1) * n).sum())
        .collect();
    Shares::concat(&parts.iter().collect::<Vec<_>>())
}

/// `s`, `times` times over.
pub(super) fn repeat(s: &Shares, times: usize) -> Shares {
    Shares::concat(&vec![s; times])
}

/// Elementwise min (or max) of two vectors: `v + [u < v](u - v)`.
fn select<T: Transport>(p: &mut Party<T>, u: &Shares, v: &Shares, max: bool) -> Result<Shares> {
    let lt = if max {
        p.less_than(v, u)?
    } else {
        p.less_than(u, v)?
    };
    let d = p.mul(&lt, &u.sub(v))?;
    Ok(v.add(&d))
}

/// The holders' partial-aggregate vectors, in [`partial::layout`] order, taken one by one.
struct Vectors<'a> {
    t: &'a SharedTable,
    layout: std::iter::Enumerate<std::vec::IntoIter<(Part, usize)>>,
}

impl Vectors<'_> {
    /// The next vector: its index in the table and its length per holder.
    fn next(&mut self) -> Result<(usize, usize)> {
        self.layout
            .next()
            .map(|(c, (_, len))| (c, len))
            .ok_or_else(|| MpcError::Input("fewer partial aggregates than the query needs".into()))
    }

    /// Holder `h`'s block of vector `c`.
    fn block(&self, c: usize, len: usize, h: usize) -> Shares {
        self.t.columns[c].slice(h * len..(h + 1) * len)
    }

    /// The next vector, summed over the holders.
    fn total(&mut self) -> Result<(Shares, usize)> {
        let (c, len) = self.next()?;
        let sum = (0..self.t.holders).fold(Shares::zeros(Kind::Arithmetic, len), |acc, h| {
            acc.add(&self.block(c, len, h))
        });
        Ok((sum, len))
    }
}

/// Combines the holders' partial aggregates ([`crate::partial`]): the vectors come in
/// [`partial::layout`] order, the count first, then each aggregate's.
pub(super) fn combine_partials<T: Transport>(
    p: &mut Party<T>,
    plan: &Plan,
    schema: &Schema,
    t: &SharedTable,
) -> Result<GroupAggs> {
    let groups = partial::groups(plan, schema);
    let mut v = Vectors {
        t,
        layout: partial::layout(plan, schema).into_iter().enumerate(),
    };
    let (count, _) = v.total()?;
    let mut per = Vec::with_capacity(plan.aggs.len());
    for a in &plan.aggs {
        per.push(match *a {
            Agg::Count => AggState::Count,
            Agg::Sum(_) => AggState::Sum(v.total()?.0),
            Agg::Avg(column) => AggState::Avg {
                column,
                sum: v.total()?.0,
            },
            Agg::Var { .. } | Agg::Stddev { .. } => AggState::Spread {
                sum: v.total()?.0,
                squares: v.total()?.0,
            },
            Agg::Min(_) | Agg::Max(_) => {
                // A tournament across holders: ceil(log2(holders)) comparison rounds.
                let max = matches!(a, Agg::Max(_));
                let (c, len) = v.next()?;
                let mut cur: Vec<Shares> = (0..t.holders).map(|h| v.block(c, len, h)).collect();
                while cur.len() > 1 {
                    let half = cur.len() / 2;
                    let u = Shares::concat(&cur[..half].iter().collect::<Vec<_>>());
                    let w = Shares::concat(&cur[half..2 * half].iter().collect::<Vec<_>>());
                    let m = select(p, &u, &w, max)?;
                    let mut next: Vec<Shares> =
                        (0..half).map(|j| m.slice(j * len..(j + 1) * len)).collect();
                    if cur.len() % 2 == 1 {
                        next.push(cur[cur.len() - 1].clone());
                    }
                    cur = next;
                }
                // One holder at least (a shared table is never empty).
                AggState::Extreme(
                    cur.pop()
                        .ok_or_else(|| MpcError::Query("no data holder contributed".into()))?,
                )
            }
            Agg::Hhi { .. } => {
                // s_k per group; S = Σ s_k and Q = Σ s_k²; then S < 2^31 (so Q ≤ S² < 2^62)
                // is checked in MPC: on overflow the output carries S = -1 and Q = 0.
                let (s, len) = v.total()?;
                let sq = p.mul(&s, &s)?;
                let keys = len / groups;
                let (big_s, q) = (sum_blocks(&s, groups, keys), sum_blocks(&sq, groups, keys));
                let limit = Shares::public(Kind::Arithmetic, p.me(), &vec![1 << 31; groups]);
                let ok = p.less_than(&big_s, &limit)?;
                let both = p.mul(
                    &Shares::concat(&[&ok, &ok]),
                    &Shares::concat(&[&big_s.add_public(p.me(), &vec![1; groups]), &q]),
                )?;
                AggState::Hhi {
                    total: both
                        .slice(0..groups)
                        .add_public(p.me(), &vec![u64::MAX; groups]),
                    squares: both.slice(groups..2 * groups),
                }
            }
            Agg::CountDistinct(_) => {
                // A value is present if any holder has it: 0 < Σ presence.
                let (counts, len) = v.total()?;
                let present = p.less_than(&Shares::zeros(Kind::Arithmetic, len), &counts)?;
                AggState::Distinct(sum_blocks(&present, groups, len / groups))
            }
        });
    }
    Ok(GroupAggs { count, per })
}

/// Filters, groups and aggregates shared rows ([`super::Strategy::Rows`]).
pub(super) fn row_aggregates<T: Transport>(
    p: &mut Party<T>,
    plan: &Plan,
    schema: &Schema,
    table: &SharedTable,
) -> Result<GroupAggs> {
    let n = table.rows;
    let inp = inputs(plan, schema);
    let mut e = Eval {
        p,
        schema,
        inp: &inp,
        t: table,
    };
    let f = e.filter(plan)?;
    let me = e.me();
    let groups = plan.group_by.map_or(1, |g| domain(schema, g));
    // fg: the filter restricted to each group, concatenated (n rows per group).
    let fg = match plan.group_by {
        None => f.clone(),
        Some(g) => {
            let ind = (0..groups)
                .map(|h| e.onehot(g, h))
                .collect::<Result<Vec<_>>>()?;
            let ind = Shares::concat(&ind);
            e.p.mul(&repeat(&f, groups), &ind)?
        }
    };
    let count = sum_blocks(&fg, groups, n);
    let mut per = Vec::with_capacity(plan.aggs.len());
    for a in &plan.aggs {
        per.push(match *a {
            Agg::Count => AggState::Count,
            Agg::Sum(c) | Agg::Avg(c) => {
                let fx = e.p.mul(&fg, &repeat(e.value(c)?, groups))?;
                let sum = sum_blocks(&fx, groups, n);
                if matches!(a, Agg::Avg(_)) {
                    AggState::Avg { column: c, sum }
                } else {
                    AggState::Sum(sum)
                }
            }
            Agg::Var { column: c, .. } | Agg::Stddev { column: c, .. } => {
                let x = repeat(e.value(c)?, groups);
                let fx = e.p.mul(&fg, &x)?;
                let fxx = e.p.mul(&fx, &x)?;
                AggState::Spread {
                    sum: sum_blocks(&fx, groups, n),
                    squares: sum_blocks(&fxx, groups, n),
                }
            }
            Agg::Min(c) | Agg::Max(c) => {
                let max = matches!(a, Agg::Max(_));
                let fx = e.p.mul(&fg, &repeat(e.value(c)?, groups))?;
                // Rows outside the filter/group become a sentinel beyond the range (and with
                // no rows at all, every group is the sentinel: NULL).
                let s = partial::sentinel(schema, c, max)? as u64;
                AggState::Extreme(if n == 0 {
                    e.constant(s as i64, groups)
                } else {
                    let masked = fx.sub(&fg.scale(s)).add_public(me, &vec![s; fx.len()]);
                    reduce(e.p, masked, groups, n, max)?
                })
            }
            Agg::Hhi { .. } => {
                return Err(MpcError::Unsupported(
                    "HHI with the rows strategy (holders share per-key totals: use partials)"
                        .into(),
                ));
            }
            Agg::CountDistinct(c) => {
                let d = domain(schema, c);
                // For each group and each value of c: how many filtered rows have it.
                let ind = (0..d).map(|h| e.onehot(c, h)).collect::<Result<Vec<_>>>()?;
                let ind = repeat(&Shares::concat(&ind), groups);
                let rows: Vec<Shares> = (0..groups)
                    .map(|g| repeat(&fg.slice(g * n..(g + 1) * n), d))
                    .collect();
                let fgr = Shares::concat(&rows.iter().collect::<Vec<_>>());
                let hits = e.p.mul(&fgr, &ind)?;
                let counts = sum_blocks(&hits, groups * d, n);
                let zero = Shares::zeros(Kind::Arithmetic, counts.len());
                let present = e.p.less_than(&zero, &counts)?;
                AggState::Distinct(sum_blocks(&present, groups, d))
            }
        });
    }
    Ok(GroupAggs { count, per })
}

/// Tournament min/max within each block of `n` values.
fn reduce<T: Transport>(
    p: &mut Party<T>,
    v: Shares,
    blocks: usize,
    n: usize,
    max: bool,
) -> Result<Shares> {
    let mut cur: Vec<Shares> = (0..blocks).map(|g| v.slice(g * n..(g + 1) * n)).collect();
    let mut len = n;
    while len > 1 {
        let half = len / 2;
        let us: Vec<Shares> = cur.iter().map(|c| c.slice(0..half)).collect();
        let vs: Vec<Shares> = cur.iter().map(|c| c.slice(half..2 * half)).collect();
        let m = select(
            p,
            &Shares::concat(&us.iter().collect::<Vec<_>>()),
            &Shares::concat(&vs.iter().collect::<Vec<_>>()),
            max,
        )?;
        cur = cur
            .iter()
            .enumerate()
            .map(|(g, c)| {
                let mut next = m.slice(g * half..(g + 1) * half);
                if len % 2 == 1 {
                    next = Shares::concat(&[&next, &c.slice(len - 1..len)]);
                }
                next
            })
            .collect();
        len = half + len % 2;
    }
    if n == 0 {
        return Err(MpcError::Query("MIN/MAX over an empty table".into()));
    }
    Ok(Shares::concat(&cur.iter().collect::<Vec<_>>()))
}

/// Properties of the local accumulators: block sums and repeats of shared vectors reconstruct to
/// the plain block sums (wrapping in the ring) and repeats.
#[cfg(test)]
mod props {
    use proptest::prelude::*;
    use rand::SeedableRng;

    use super::*;
    use crate::share::{reconstruct, split};

    fn blocks() -> impl Strategy<Value = (usize, usize, Vec<u64>)> {
        (1usize..5, 0usize..6).prop_flat_map(|(blocks, n)| {
            (
                Just(blocks),
                Just(n),
                prop::collection::vec(any::<u64>(), blocks * n),
            )
        })
    }

    proptest! {
        #[test]
        fn block_sums_and_repeats_are_plain_arithmetic(
            (count, n, values) in blocks(),
            times in 0usize..4,
            seed in any::<u64>(),
        ) {
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
            let parts = split(Kind::Arithmetic, &values, &mut rng);
            let sums: [Shares; 3] = std::array::from_fn(|i| sum_blocks(&parts[i], count, n));
            let want: Vec<u64> = (0..count)
                .map(|g| values[g * n..(g + 1) * n].iter().fold(0u64, |s, v| s.wrapping_add(*v)))
                .collect();
            prop_assert_eq!(reconstruct(&sums), Some(want));
            let repeated: [Shares; 3] = std::array::from_fn(|i| repeat(&parts[i], times));
            prop_assert_eq!(reconstruct(&repeated), Some(values.repeat(times)));
        }
    }
}
