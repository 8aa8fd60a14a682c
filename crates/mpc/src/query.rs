//! Evaluation of a [`Plan`] by the three parties on secret-shared rows, revealing only the result.
//!
//! Data holders share, per row, the columns the query reads: numeric columns as ring values, and
//! categorical columns used for grouping, equality or `COUNT(DISTINCT)` as one-hot indicator
//! vectors over their declared dictionary (so equality and grouping cost no comparisons).
//! Every row is evaluated inside MPC (no pre-aggregation), so the same engine serves any
//! partitioning of rows among holders.
//!
//! What is revealed, to the result's recipients only: the output rows. In addition, `AVG`,
//! `VAR` and `STDDEV` reveal the `SUM`, `COUNT` (and sum of squares) they are computed from
//! (the division happens after opening, exactly), and a selected `SUM` reveals whether the
//! selection is empty (SQL's `NULL`; see [`RowCount`] and [`result`]); the parties learn
//! nothing. Aggregates used only in `HAVING` or `ORDER BY` stay secret, as do groups that are
//! empty or fail `HAVING` and groups outside the `LIMIT`. The output order is the `ORDER BY`
//! rank ([`rank`]: ties go to the group first in the GROUP BY column's dictionary), or the
//! dictionary order without `ORDER BY`.
//!
//! Ranges: every comparison and sum is checked against the columns' declared bounds before any
//! work: a comparison whose difference could reach 2^63, or a sum that could overflow 64 bits,
//! is refused with an error instead of answering wrongly.

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use trustspace_data::{Kind as ColKind, Record, Schema};

use crate::engine::Party;
use crate::error::{MpcError, Result};
use crate::share::{Kind, Shares, split};
use crate::sql::{AggFn, Cmp, Having, Operand, Plan, Pred, ring_bounds, ring_of};
use crate::transport::Transport;

mod rank;
pub mod result;

use result::CountOpening;
pub use result::{NULL, RowCount, avg_units, fixed, format};

/// Largest number of groups an `ORDER BY ... LIMIT` ranks (ranking costs groups² comparisons,
/// and as many products for `ORDER BY AVG`).
pub const MAX_RANKED_GROUPS: usize = 2048;
const LIMIT_63: i128 = 1 << 63;

/// A query's answer: labelled columns and formatted rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryResult {
    /// Column labels, in SELECT order.
    pub columns: Vec<String>,
    /// Rows of formatted values, SQL's `NULL` as the text [`NULL`] (`SUM`, `AVG`, `MIN`, `MAX`,
    /// `VAR`/`STDDEV` over no rows; see [`result`]).
    pub rows: Vec<Vec<String>>,
}

/// Which columns the holders must share, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// Columns shared as ring values, ascending.
    pub values: Vec<usize>,
    /// Categorical/bool columns shared one-hot, ascending.
    pub onehot: Vec<usize>,
}

/// The declared domain size of a categorical (or bool) column; 0 for other columns.
pub(crate) fn domain(schema: &Schema, col: usize) -> usize {
    match schema.columns()[col].kind() {
        ColKind::Categorical { values } => values.len(),
        ColKind::Bool => 2,
        _ => 0,
    }
}

fn collect_pred(
    p: &Pred,
    schema: &Schema,
    values: &mut BTreeSet<usize>,
    onehot: &mut BTreeSet<usize>,
) {
    match p {
        Pred::Cmp(op, a, b) => {
            let cat = |c: usize| domain(schema, c) > 0;
            match (op, a, b) {
                (Cmp::Eq | Cmp::Ne, Operand::Col(c), Operand::Lit(_))
                | (Cmp::Eq | Cmp::Ne, Operand::Lit(_), Operand::Col(c))
                    if cat(*c) =>
                {
                    onehot.insert(*c);
                }
                _ => {
                    for o in [a, b] {
                        if let Operand::Col(c) = o {
                            values.insert(*c);
                        }
                    }
                }
            }
        }
        Pred::In(c, _, _) => {
            if domain(schema, *c) > 0 {
                onehot.insert(*c);
            } else {
                values.insert(*c);
            }
        }
        Pred::And(x, y) | Pred::Or(x, y) => {
            collect_pred(x, schema, values, onehot);
            collect_pred(y, schema, values, onehot);
        }
        Pred::Not(x) => collect_pred(x, schema, values, onehot),
        Pred::Const(_) => {}
    }
}

/// The columns a plan reads.
pub fn inputs(plan: &Plan, schema: &Schema) -> Inputs {
    let (mut values, mut onehot) = (BTreeSet::new(), BTreeSet::new());
    if let Some(f) = &plan.filter {
        collect_pred(f, schema, &mut values, &mut onehot);
    }
    if let Some(g) = plan.group_by {
        onehot.insert(g);
    }
    for a in &plan.aggs {
        match (a.func, a.column) {
            (AggFn::Count, _) | (_, None) => {}
            (AggFn::CountDistinct, Some(c)) => {
                onehot.insert(c);
            }
            (_, Some(c)) => {
                values.insert(c);
            }
        }
    }
    Inputs {
        values: values.into_iter().collect(),
        onehot: onehot.into_iter().collect(),
    }
}

/// A holder's rows encoded for sharing: for each value column its ring values, then for each
/// one-hot column its indicator vectors (one per dictionary entry), all of length `rows`.
pub fn encode_rows(schema: &Schema, inp: &Inputs, records: &[Record]) -> Result<Vec<Vec<u64>>> {
    let mut out = Vec::new();
    for &c in &inp.values {
        let col = &schema.columns()[c];
        out.push(
            records
                .iter()
                .map(|r| Ok(ring_of(col, r[c])? as u64))
                .collect::<Result<Vec<_>>>()?,
        );
    }
    for &c in &inp.onehot {
        let col = &schema.columns()[c];
        let d = domain(schema, c);
        let idx: Vec<usize> = records
            .iter()
            .map(|r| Ok(ring_of(col, r[c])? as usize))
            .collect::<Result<Vec<_>>>()?;
        for h in 0..d {
            out.push(idx.iter().map(|&i| u64::from(i == h)).collect());
        }
    }
    Ok(out)
}

/// Splits encoded columns into the three parties' shares (a holder's step).
pub fn share_columns<R: RngCore + CryptoRng>(
    columns: &[Vec<u64>],
    rng: &mut R,
) -> [Vec<Shares>; 3] {
    let mut out: [Vec<Shares>; 3] = Default::default();
    for c in columns {
        let [a, b, d] = split(Kind::Arithmetic, c, rng);
        out[0].push(a);
        out[1].push(b);
        out[2].push(d);
    }
    out
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
    if let Some(p) = &plan.filter {
        walk(p, &mut |a, b| {
            if span(a, b)? >= LIMIT_63 {
                return Err(MpcError::Query(
                    "a comparison whose operands' declared ranges differ by 2^63 or more".into(),
                ));
            }
            Ok(())
        })?;
    }
    let n = rows as i128;
    // Aggregates compared in HAVING or ORDER BY must stay within ±2^62, so that differences
    // (and the ranking's sink values) stay within ±2^63.
    let mut compared = BTreeSet::new();
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
    let mut lits = Vec::new();
    if let Some(h) = &plan.having {
        having_aggs(h, &mut compared, &mut lits);
    }
    if let Some((i, _)) = plan.order {
        compared.insert(i);
    }
    const LIMIT_62: i128 = 1 << 62;
    if lits
        .iter()
        .any(|l| (*l as i128).abs() * n.max(1) >= LIMIT_62)
    {
        return Err(MpcError::Query("a HAVING bound beyond ±2^62 / rows".into()));
    }
    for (i, a) in plan.aggs.iter().enumerate() {
        if compared.contains(&i) {
            let m = match a.column {
                Some(c) => {
                    let (lo, hi) = bounds(c)?;
                    (lo as i128).abs().max((hi as i128).abs()) + 1
                }
                None => 1,
            };
            let worst = match a.func {
                AggFn::Min | AggFn::Max => m,
                _ => n.max(1) * m,
            };
            if worst >= LIMIT_62 {
                return Err(MpcError::Query(format!(
                    "{} is compared in HAVING/ORDER BY and could exceed 2^62 for {rows} rows",
                    a.to_sql(schema)
                )));
            }
            // ORDER BY AVG compares SUM_g × COUNT_h of two groups (disjoint rows, so
            // COUNT_g × COUNT_h ≤ rows²/4), and a sink one beyond the range × COUNT.
            if a.func == AggFn::Avg
                && plan.order.is_some_and(|(o, _)| o == i)
                && (n * n / 4 + 1).max(n) * m >= LIMIT_62
            {
                return Err(MpcError::Query(format!(
                    "ORDER BY {} compares SUM × COUNT products, which could exceed 2^62 for \
                     {rows} rows",
                    a.to_sql(schema)
                )));
            }
        }
    }
    for a in &plan.aggs {
        if let Some(c) = a.column {
            let (lo, hi) = bounds(c)?;
            let m = (lo as i128).abs().max((hi as i128).abs());
            let worst = match a.func {
                // Per-key totals in units (each holder rounds up by at most one unit per key),
                // kept below 2^62 so the in-MPC check S < 2^31 compares correctly.
                AggFn::Hhi { unit, .. } => 2 * n * (m / unit as i128 + 1),
                AggFn::Var { .. } | AggFn::Stddev { .. } => n * m * m,
                AggFn::Min | AggFn::Max => 2 * m + 2,
                _ => n * m,
            };
            if worst >= LIMIT_63 {
                let hint = if matches!(a.func, AggFn::Hhi { .. }) {
                    "; choose a larger unit"
                } else {
                    ""
                };
                return Err(MpcError::Query(format!(
                    "{} could overflow 64 bits for {rows} rows (declared range {lo}..{hi}){hint}",
                    a.to_sql(schema)
                )));
            }
        }
    }
    Ok(())
}

/// How data holders contribute their rows to a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Each holder evaluates `WHERE` and `GROUP BY` on its own rows and shares only partial
    /// aggregates ([`crate::partial`]); the parties combine them and evaluate `HAVING`,
    /// `ORDER BY` and `LIMIT` in MPC. Same answer and same leakage as [`Strategy::Rows`] (the
    /// holder already knows its rows), with work in MPC independent of the row count. Default.
    #[default]
    Partials,
    /// Each holder shares every row the query reads; filtering, grouping and aggregation all
    /// run in MPC (cost grows with the rows).
    Rows,
}

impl Strategy {
    /// Parses `partials` or `rows`.
    pub fn parse(s: &str) -> Result<Strategy> {
        match s {
            "partials" => Ok(Strategy::Partials),
            "rows" => Ok(Strategy::Rows),
            other => Err(MpcError::Config(format!(
                "unknown strategy {other:?} (partials or rows)"
            ))),
        }
    }
}

/// One holder's contribution as one compute party holds it: the holder's row count and its
/// shares of the vectors the query needs ([`expected_lengths`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// The holder's row count (public to the parties).
    pub rows: u64,
    /// Shares, one per vector.
    pub columns: Vec<Shares>,
}

/// The vector lengths a contribution of `rows` rows must have under `strategy`.
pub fn expected_lengths(
    plan: &Plan,
    schema: &Schema,
    strategy: Strategy,
    rows: usize,
) -> Vec<usize> {
    match strategy {
        Strategy::Partials => crate::partial::layout(plan, schema)
            .into_iter()
            .map(|(_, len)| len)
            .collect(),
        Strategy::Rows => {
            let inp = inputs(plan, schema);
            let n = inp.values.len() + inp.onehot.iter().map(|&c| domain(schema, c)).sum::<usize>();
            vec![rows; n]
        }
    }
}

/// A data holder's step: encodes its rows for `plan` under `strategy` and splits them into the
/// three parties' contributions (element `i` goes to party `i`).
pub fn contribute<R: RngCore + CryptoRng>(
    plan: &Plan,
    schema: &Schema,
    strategy: Strategy,
    records: &[Record],
    rng: &mut R,
) -> Result<[Contribution; 3]> {
    let cols = match strategy {
        Strategy::Partials => crate::partial::aggregate(plan, schema, records)?,
        Strategy::Rows => encode_rows(schema, &inputs(plan, schema), records)?,
    };
    let rows = records.len() as u64;
    Ok(share_columns(&cols, rng).map(|columns| Contribution { rows, columns }))
}

/// Checks that a contribution has the shape the plan needs (a party's step, for every holder).
pub fn check_contribution(
    plan: &Plan,
    schema: &Schema,
    strategy: Strategy,
    c: &Contribution,
) -> Result<()> {
    let rows = usize::try_from(c.rows)
        .map_err(|_| MpcError::Input(format!("row count {} too large", c.rows)))?;
    let want = expected_lengths(plan, schema, strategy, rows);
    if c.columns.len() != want.len() {
        return Err(MpcError::Input(format!(
            "{} vectors where the query needs {}",
            c.columns.len(),
            want.len()
        )));
    }
    for (k, (s, &n)) in c.columns.iter().zip(&want).enumerate() {
        if s.kind != Kind::Arithmetic || s.a.len() != n || s.b.len() != n {
            return Err(MpcError::Input(format!(
                "vector {k} has {} elements where the query needs {n}",
                s.a.len()
            )));
        }
    }
    Ok(())
}

/// One party's view of the shared table: every holder's contribution, vector by vector.
pub struct SharedTable {
    /// How the holders contributed.
    pub strategy: Strategy,
    /// Number of holders.
    pub holders: usize,
    /// Rows over all holders.
    pub rows: usize,
    /// Vector `k` of every holder, concatenated in holder order.
    pub columns: Vec<Shares>,
}

impl SharedTable {
    /// Joins the holders' contributions (each checked with [`check_contribution`]).
    pub fn new(
        plan: &Plan,
        schema: &Schema,
        strategy: Strategy,
        contributions: &[Contribution],
    ) -> Result<SharedTable> {
        if contributions.is_empty() {
            return Err(MpcError::Query("no data holder contributed".into()));
        }
        let mut rows = 0usize;
        for (h, c) in contributions.iter().enumerate() {
            check_contribution(plan, schema, strategy, c)
                .map_err(|e| MpcError::Input(format!("holder {h}: {e}")))?;
            rows = rows
                .checked_add(c.rows as usize)
                .ok_or_else(|| MpcError::Input("row count overflows".into()))?;
        }
        let ncols = contributions[0].columns.len();
        let columns = (0..ncols)
            .map(|k| {
                let parts: Vec<&Shares> = contributions.iter().map(|c| &c.columns[k]).collect();
                Shares::concat(&parts)
            })
            .collect();
        Ok(SharedTable {
            strategy,
            holders: contributions.len(),
            rows,
            columns,
        })
    }
}

struct Eval<'a, T: Transport> {
    p: &'a mut Party<T>,
    schema: &'a Schema,
    inp: &'a Inputs,
    t: &'a SharedTable,
}

impl<T: Transport> Eval<'_, T> {
    fn me(&self) -> usize {
        self.p.me()
    }

    fn value(&self, c: usize) -> &Shares {
        let i = self
            .inp
            .values
            .iter()
            .position(|&v| v == c)
            .expect("planned");
        &self.t.columns[i]
    }

    fn onehot(&self, c: usize, h: usize) -> &Shares {
        let mut i = self.inp.values.len();
        for &o in &self.inp.onehot {
            if o == c {
                return &self.t.columns[i + h];
            }
            i += domain(self.schema, o);
        }
        unreachable!("planned one-hot column")
    }

    fn constant(&self, v: i64, n: usize) -> Shares {
        Shares::public(Kind::Arithmetic, self.me(), &vec![v as u64; n])
    }

    fn operand(&self, o: Operand, n: usize) -> Shares {
        match o {
            Operand::Col(c) => self.value(c).clone(),
            Operand::Lit(v) => self.constant(v, n),
        }
    }

    /// Leaves that need comparisons, in evaluation order: pairs (x, y) for `x < y`.
    fn leaves(&self, p: &Pred, out: &mut Vec<(Operand, Operand)>) {
        match p {
            Pred::Cmp(op, a, b) => {
                if self.is_onehot_eq(*op, *a, *b) {
                    return;
                }
                match op {
                    Cmp::Lt | Cmp::Ge => out.push((*a, *b)),
                    Cmp::Gt | Cmp::Le => out.push((*b, *a)),
                    Cmp::Eq | Cmp::Ne => {
                        out.push((*a, *b));
                        out.push((*b, *a));
                    }
                }
            }
            Pred::In(c, vals, _) => {
                if domain(self.schema, *c) == 0 {
                    for v in vals {
                        out.push((Operand::Col(*c), Operand::Lit(*v)));
                        out.push((Operand::Lit(*v), Operand::Col(*c)));
                    }
                }
            }
            Pred::And(x, y) | Pred::Or(x, y) => {
                self.leaves(x, out);
                self.leaves(y, out);
            }
            Pred::Not(x) => self.leaves(x, out),
            Pred::Const(_) => {}
        }
    }

    fn is_onehot_eq(&self, op: Cmp, a: Operand, b: Operand) -> bool {
        matches!(op, Cmp::Eq | Cmp::Ne)
            && matches!((a, b), (Operand::Col(c), Operand::Lit(_)) | (Operand::Lit(_), Operand::Col(c)) if domain(self.schema, c) > 0)
    }

    fn indicator(&self, c: usize, v: i64, n: usize) -> Shares {
        let d = domain(self.schema, c);
        if v < 0 || v as usize >= d {
            Shares::zeros(Kind::Arithmetic, n)
        } else {
            self.onehot(c, v as usize).clone()
        }
    }

    /// Evaluates a predicate given the comparison results in leaf order.
    fn combine(
        &mut self,
        p: &Pred,
        lts: &mut std::slice::Iter<'_, Shares>,
        n: usize,
    ) -> Result<Shares> {
        let me = self.me();
        let one = |s: &Shares| s.public_minus(me, 1);
        Ok(match p {
            Pred::Cmp(op, a, b) if self.is_onehot_eq(*op, *a, *b) => {
                let (c, v) = match (a, b) {
                    (Operand::Col(c), Operand::Lit(v)) | (Operand::Lit(v), Operand::Col(c)) => {
                        (*c, *v)
                    }
                    _ => unreachable!(),
                };
                let eq = self.indicator(c, v, n);
                if *op == Cmp::Eq { eq } else { one(&eq) }
            }
            Pred::Cmp(op, _, _) => {
                let mut next = || lts.next().cloned().expect("one result per leaf");
                match op {
                    Cmp::Lt | Cmp::Gt => next(),
                    Cmp::Ge | Cmp::Le => one(&next()),
                    Cmp::Eq => one(&next().add(&next())),
                    Cmp::Ne => next().add(&next()),
                }
            }
            Pred::In(c, vals, negated) => {
                let mut any = Shares::zeros(Kind::Arithmetic, n);
                for v in vals {
                    let eq = if domain(self.schema, *c) > 0 {
                        self.indicator(*c, *v, n)
                    } else {
                        let (x, y) = (
                            lts.next().cloned().expect("leaf"),
                            lts.next().cloned().expect("leaf"),
                        );
                        one(&x.add(&y))
                    };
                    any = any.add(&eq); // the values are distinct: disjoint events
                }
                if *negated { one(&any) } else { any }
            }
            Pred::And(x, y) => {
                let (x, y) = (self.combine(x, lts, n)?, self.combine(y, lts, n)?);
                self.p.mul(&x, &y)?
            }
            Pred::Or(x, y) => {
                let (x, y) = (self.combine(x, lts, n)?, self.combine(y, lts, n)?);
                let xy = self.p.mul(&x, &y)?;
                x.add(&y).sub(&xy)
            }
            Pred::Not(x) => one(&self.combine(x, lts, n)?),
            Pred::Const(b) => self.constant(i64::from(*b), n),
        })
    }

    fn filter(&mut self, plan: &Plan) -> Result<Shares> {
        let n = self.t.rows;
        let Some(pred) = &plan.filter else {
            return Ok(self.constant(1, n));
        };
        let mut leaves = Vec::new();
        self.leaves(pred, &mut leaves);
        let results = if leaves.is_empty() {
            Vec::new()
        } else {
            // All comparisons of the WHERE clause in one batch: one sign-bit computation.
            let xs: Vec<Shares> = leaves.iter().map(|(a, _)| self.operand(*a, n)).collect();
            let ys: Vec<Shares> = leaves.iter().map(|(_, b)| self.operand(*b, n)).collect();
            let x = Shares::concat(&xs.iter().collect::<Vec<_>>());
            let y = Shares::concat(&ys.iter().collect::<Vec<_>>());
            let lt = self.p.less_than(&x, &y)?;
            (0..leaves.len())
                .map(|i| lt.slice(i * n..(i + 1) * n))
                .collect()
        };
        let mut it = results.iter();
        self.combine(pred, &mut it, n)
    }
}

/// Per-group secret aggregates (one shared value per group).
struct GroupAggs {
    count: Shares,
    sum: Vec<Option<Shares>>,
    sumsq: Vec<Option<Shares>>,
    extreme: Vec<Option<Shares>>,
    distinct: Vec<Option<Shares>>,
}

fn sum_blocks(s: &Shares, blocks: usize, n: usize) -> Shares {
    let parts: Vec<Shares> = (0..blocks)
        .map(|g| s.slice(g * n..(g + 1) * n).sum())
        .collect();
    Shares::concat(&parts.iter().collect::<Vec<_>>())
}

fn repeat(s: &Shares, times: usize) -> Shares {
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

/// Runs the plan at one party on its shares of the holders' contributions and returns this
/// party's share of the query's output ([`open_output`] reconstructs it at a recipient). The
/// parties open nothing: which groups appear, their values and their order stay secret until
/// a recipient combines the three output shares.
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

/// Combines the holders' partial aggregates ([`crate::partial`]).
fn combine_partials<T: Transport>(
    p: &mut Party<T>,
    plan: &Plan,
    schema: &Schema,
    t: &SharedTable,
) -> Result<GroupAggs> {
    let groups = crate::partial::groups(plan, schema);
    let k = plan.aggs.len();
    let mut aggs = GroupAggs {
        count: Shares::zeros(Kind::Arithmetic, groups),
        sum: vec![None; k],
        sumsq: vec![None; k],
        extreme: vec![None; k],
        distinct: vec![None; k],
    };
    let block = |c: usize, len: usize, h: usize| t.columns[c].slice(h * len..(h + 1) * len);
    let total = |c: usize, len: usize| {
        (0..t.holders).fold(Shares::zeros(Kind::Arithmetic, len), |acc, h| {
            acc.add(&block(c, len, h))
        })
    };
    for (c, (part, len)) in crate::partial::layout(plan, schema).into_iter().enumerate() {
        use crate::partial::Part;
        match part {
            Part::Count => aggs.count = total(c, len),
            Part::Sum(i) => aggs.sum[i] = Some(total(c, len)),
            Part::SumSq(i) => aggs.sumsq[i] = Some(total(c, len)),
            Part::Extreme(i) => {
                // A tournament across holders: ceil(log2(holders)) comparison rounds.
                let max = plan.aggs[i].func == AggFn::Max;
                let mut cur: Vec<Shares> = (0..t.holders).map(|h| block(c, len, h)).collect();
                while cur.len() > 1 {
                    let half = cur.len() / 2;
                    let u = Shares::concat(&cur[..half].iter().collect::<Vec<_>>());
                    let v = Shares::concat(&cur[half..2 * half].iter().collect::<Vec<_>>());
                    let m = select(p, &u, &v, max)?;
                    let mut next: Vec<Shares> =
                        (0..half).map(|j| m.slice(j * len..(j + 1) * len)).collect();
                    if cur.len() % 2 == 1 {
                        next.push(cur[cur.len() - 1].clone());
                    }
                    cur = next;
                }
                aggs.extreme[i] = cur.pop();
            }
            Part::KeySums(i) => {
                // s_k per group; S = Σ s_k and Q = Σ s_k²; then S < 2^31 (so Q ≤ S² < 2^62)
                // is checked in MPC: on overflow the output carries S = -1 and Q = 0.
                let s = total(c, len);
                let sq = p.mul(&s, &s)?;
                let keys = len / groups;
                let (big_s, q) = (sum_blocks(&s, groups, keys), sum_blocks(&sq, groups, keys));
                let limit = Shares::public(Kind::Arithmetic, p.me(), &vec![1 << 31; groups]);
                let ok = p.less_than(&big_s, &limit)?;
                let both = p.mul(
                    &Shares::concat(&[&ok, &ok]),
                    &Shares::concat(&[&big_s.add_public(p.me(), &vec![1; groups]), &q]),
                )?;
                aggs.sum[i] = Some(
                    both.slice(0..groups)
                        .add_public(p.me(), &vec![u64::MAX; groups]),
                );
                aggs.sumsq[i] = Some(both.slice(groups..2 * groups));
            }
            Part::Present(i) => {
                // A value is present if any holder has it: 0 < Σ presence.
                let counts = total(c, len);
                let present = p.less_than(&Shares::zeros(Kind::Arithmetic, len), &counts)?;
                aggs.distinct[i] = Some(sum_blocks(&present, groups, len / groups));
            }
        }
    }
    Ok(aggs)
}

/// Filters, groups and aggregates shared rows ([`Strategy::Rows`]).
fn row_aggregates<T: Transport>(
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
            let ind: Vec<&Shares> = (0..groups).map(|h| e.onehot(g, h)).collect();
            let ind = Shares::concat(&ind);
            e.p.mul(&repeat(&f, groups), &ind)?
        }
    };
    let count = sum_blocks(&fg, groups, n);
    let mut aggs = GroupAggs {
        count,
        sum: vec![None; plan.aggs.len()],
        sumsq: vec![None; plan.aggs.len()],
        extreme: vec![None; plan.aggs.len()],
        distinct: vec![None; plan.aggs.len()],
    };
    for (i, a) in plan.aggs.iter().enumerate() {
        let Some(c) = a.column else { continue };
        match a.func {
            AggFn::Count => {}
            AggFn::Sum
            | AggFn::Avg
            | AggFn::Var { .. }
            | AggFn::Stddev { .. }
            | AggFn::Min
            | AggFn::Max => {
                let x = repeat(e.value(c), groups);
                let fx = e.p.mul(&fg, &x)?;
                match a.func {
                    AggFn::Min | AggFn::Max => {
                        // Rows outside the filter/group become a sentinel beyond the range
                        // (and with no rows at all, every group is the sentinel: NULL).
                        let s = crate::partial::sentinel(schema, c, a.func == AggFn::Max)? as u64;
                        aggs.extreme[i] = Some(if n == 0 {
                            e.constant(s as i64, groups)
                        } else {
                            let masked = fx.sub(&fg.scale(s)).add_public(me, &vec![s; fx.len()]);
                            reduce(e.p, masked, groups, n, a.func == AggFn::Max)?
                        });
                    }
                    _ => {
                        aggs.sum[i] = Some(sum_blocks(&fx, groups, n));
                        if matches!(a.func, AggFn::Var { .. } | AggFn::Stddev { .. }) {
                            let fxx = e.p.mul(&fx, &x)?;
                            aggs.sumsq[i] = Some(sum_blocks(&fxx, groups, n));
                        }
                    }
                }
            }
            AggFn::Hhi { .. } => {
                return Err(MpcError::Unsupported(
                    "HHI with the rows strategy (holders share per-key totals: use partials)"
                        .into(),
                ));
            }
            AggFn::CountDistinct => {
                let d = domain(schema, c);
                // For each group and each value of c: how many filtered rows have it.
                let ind: Vec<&Shares> = (0..d).map(|h| e.onehot(c, h)).collect();
                let ind = repeat(&Shares::concat(&ind), groups);
                let per: Vec<Shares> = (0..groups)
                    .map(|g| repeat(&fg.slice(g * n..(g + 1) * n), d))
                    .collect();
                let fgr = Shares::concat(&per.iter().collect::<Vec<_>>());
                let hits = e.p.mul(&fgr, &ind)?;
                let counts = sum_blocks(&hits, groups * d, n);
                let zero = Shares::zeros(Kind::Arithmetic, counts.len());
                let present = e.p.less_than(&zero, &counts)?;
                aggs.distinct[i] = Some(sum_blocks(&present, groups, d));
            }
        }
    }
    Ok(aggs)
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

/// One revealed group's opened values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedGroup {
    /// Index of the group's key in the GROUP BY column's dictionary (0 without GROUP BY).
    pub group: usize,
    /// What the output opened about the number of rows in the group that pass the filter.
    pub rows: RowCount,
    /// Per aggregate: its value (a sum for AVG/VAR/STDDEV) and the sum of squares (or 0); `(0, 0)`
    /// for an aggregate that is not selected (used only by HAVING or ORDER BY).
    pub values: Vec<(i64, i64)>,
}

/// Opened values: the revealed groups, in output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The groups.
    pub groups: Vec<OpenedGroup>,
}

fn having_value<T: Transport>(
    p: &mut Party<T>,
    h: &Having,
    aggs: &GroupAggs,
    plan: &Plan,
    groups: usize,
) -> Result<Shares> {
    let me = p.me();
    Ok(match h {
        Having::Cmp(op, i, lit) => {
            let a = plan.aggs[*i];
            let lit_v = Shares::public(Kind::Arithmetic, me, &vec![*lit as u64; groups]);
            // AVG op L  <=>  SUM op L * COUNT (COUNT > 0 for revealed groups).
            let (x, y) = match a.func {
                AggFn::Count => (aggs.count.clone(), lit_v),
                AggFn::Sum => (aggs.sum[*i].clone().expect("sum"), lit_v),
                AggFn::Avg => (
                    aggs.sum[*i].clone().expect("sum"),
                    aggs.count.scale(*lit as u64),
                ),
                AggFn::Min | AggFn::Max => (aggs.extreme[*i].clone().expect("extreme"), lit_v),
                AggFn::CountDistinct => (aggs.distinct[*i].clone().expect("distinct"), lit_v),
                _ => return Err(MpcError::Unsupported("HAVING on VAR/STDDEV".into())),
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
                having_value(p, x, aggs, plan, groups)?,
                having_value(p, y, aggs, plan, groups)?,
            );
            p.mul(&x, &y)?
        }
        Having::Or(x, y) => {
            let (x, y) = (
                having_value(p, x, aggs, plan, groups)?,
                having_value(p, y, aggs, plan, groups)?,
            );
            let xy = p.mul(&x, &y)?;
            x.add(&y).sub(&xy)
        }
        Having::Not(x) => having_value(p, x, aggs, plan, groups)?.public_minus(me, 1),
    })
}

/// This party's share of the output vector: the indicator of the groups that appear
/// (non-empty, passing HAVING, within LIMIT), then, each multiplied by that indicator so that
/// hidden groups read 0: the count word ([`RowCount`]: the count, `[count > 0]` or 0, by what
/// the selected aggregates need), per aggregate its main value and sum of squares (zero for an
/// aggregate that is not selected: one used only by HAVING or ORDER BY stays secret), and the
/// rank when ordered.
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
        let hv = having_value(p, h, aggs, plan, groups)?;
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
    for ((i, a), sel) in plan.aggs.iter().enumerate().zip(result::selected(plan)) {
        let (main, sq) = match a.func {
            _ if !sel => (None, None),
            AggFn::Count => (Some(aggs.count.clone()), None),
            AggFn::Sum | AggFn::Avg => (aggs.sum[i].clone(), None),
            AggFn::Var { .. } | AggFn::Stddev { .. } | AggFn::Hhi { .. } => {
                (aggs.sum[i].clone(), aggs.sumsq[i].clone())
            }
            AggFn::Min | AggFn::Max => (aggs.extreme[i].clone(), None),
            AggFn::CountDistinct => (aggs.distinct[i].clone(), None),
        };
        cols.push(main);
        cols.push(sq);
    }
    cols.push(rank);
    let open: Vec<&Shares> = cols.iter().flatten().collect();
    let masked = p.mul(&repeat(&pass, open.len()), &Shares::concat(&open))?;
    let zero = Shares::zeros(Kind::Arithmetic, groups);
    let mut next = 0..;
    let out: Vec<Shares> = cols
        .iter()
        .map(|c| match c {
            Some(_) => {
                let k = next.next().expect("unbounded");
                masked.slice(k * groups..(k + 1) * groups)
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

/// Reconstructs the query's output at a recipient from the three parties' output shares
/// ([`evaluate`]). Each share component is sent by the two parties holding it; if the copies
/// differ, or the output is not well formed, a party lied and this fails.
pub fn open_output(plan: &Plan, schema: &Schema, parts: &[Shares; 3]) -> Result<Opened> {
    let words = crate::share::reconstruct(parts).ok_or_else(|| MpcError::CheatingDetected {
        check: "result: the parties' shares of the output disagree".into(),
    })?;
    let groups = crate::partial::groups(plan, schema);
    let per = 1 + 2 * plan.aggs.len() + usize::from(plan.order.is_some());
    if words.len() != groups * (1 + per) {
        return Err(MpcError::CheatingDetected {
            check: format!(
                "result: {} output words where the query has {}",
                words.len(),
                groups * (1 + per)
            ),
        });
    }
    let (pass, vals) = words.split_at(groups);
    if pass.iter().any(|&b| b > 1) {
        return Err(MpcError::CheatingDetected {
            check: "result: a group indicator is not 0 or 1".into(),
        });
    }
    let col = |j: usize, g: usize| vals[j * groups + g] as i64;
    let mut rows: Vec<(i64, OpenedGroup)> = (0..groups)
        .filter(|&g| pass[g] == 1)
        .map(|g| {
            let rank = if plan.order.is_some() {
                col(per - 1, g)
            } else {
                0
            };
            let group = OpenedGroup {
                group: g,
                rows: result::row_count(plan, vals[g])?,
                values: (0..plan.aggs.len())
                    .map(|i| (col(1 + 2 * i, g), col(2 + 2 * i, g)))
                    .collect(),
            };
            Ok((rank, group))
        })
        .collect::<Result<_>>()?;
    rows.sort_by_key(|(rank, g)| (*rank, g.group));
    Ok(Opened {
        groups: rows.into_iter().map(|(_, g)| g).collect(),
    })
}

/// Runs `sql` over the union of the holders' rows with three parties in this process (threads
/// over the in-process transport): the library path for a pipeline that hosts all three parties,
/// and the reference for the networked deployment ([`crate::service`]), which runs the same
/// [`contribute`], [`evaluate`] and [`open_output`] in separate processes.
pub fn run_local(
    schema: &Schema,
    holders: &[Vec<Record>],
    sql: &str,
    mode: crate::engine::Mode,
    strategy: Strategy,
) -> Result<QueryResult> {
    let plan = crate::sql::plan(sql, schema)?;
    let rows: usize = holders.iter().map(Vec::len).sum();
    check_ranges(&plan, schema, rows)?;
    // Each holder encodes and splits its own rows; party i receives part i of every holder.
    let mut parts: [Vec<Contribution>; 3] = Default::default();
    for h in holders {
        let [a, b, c] = contribute(&plan, schema, strategy, h, &mut rand::rngs::OsRng)?;
        parts[0].push(a);
        parts[1].push(b);
        parts[2].push(c);
    }
    let nets = crate::transport::memory::mesh(std::time::Duration::from_secs(60));
    let results: Vec<Result<Shares>> = std::thread::scope(|s| {
        let handles: Vec<_> = nets
            .into_iter()
            .zip(&parts)
            .map(|(net, contributions)| {
                let plan = &plan;
                s.spawn(move || {
                    let table = SharedTable::new(plan, schema, strategy, contributions)?;
                    let mut p = Party::new(net, mode)?;
                    evaluate(&mut p, plan, schema, &table)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(MpcError::Config("a party thread panicked".into())))
            })
            .collect()
    });
    let mut out = results.into_iter();
    let shares: [Shares; 3] = [
        out.next().expect("three")?,
        out.next().expect("three")?,
        out.next().expect("three")?,
    ];
    format(&plan, schema, &open_output(&plan, schema, &shares)?)
}
