//! A holder's input: which columns a plan reads and how they are shared ([`inputs`],
//! [`encode_rows`], [`share_columns`]), the [`Strategy`] and the [`Contribution`] each party
//! receives ([`contribute`]), and the parties' view of all the contributions, checked
//! ([`SharedTable`]).

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use trustspace_data::{Record, Schema};

use crate::error::{MpcError, Result};
use crate::share::{Kind, Shares, split};
use crate::sql::{Agg, Cmp, Operand, Plan, Pred, domain, ring_of};

/// Which columns the holders must share, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// Columns shared as ring values, ascending.
    pub values: Vec<usize>,
    /// Categorical/bool columns shared one-hot, ascending.
    pub onehot: Vec<usize>,
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
        match *a {
            Agg::Count => {}
            Agg::CountDistinct(c) => {
                onehot.insert(c);
            }
            Agg::Sum(c)
            | Agg::Avg(c)
            | Agg::Min(c)
            | Agg::Max(c)
            | Agg::Var { column: c, .. }
            | Agg::Stddev { column: c, .. }
            | Agg::Hhi { value: c, .. } => {
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
