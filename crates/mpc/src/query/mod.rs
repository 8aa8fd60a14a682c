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
//! rank (`rank`: ties go to the group first in the GROUP BY column's dictionary), or the
//! dictionary order without `ORDER BY`.
//!
//! Ranges: every comparison and sum is checked against the columns' declared bounds before any
//! work ([`check_ranges`]): a comparison whose difference could reach 2^63, or a sum that could
//! overflow 64 bits, is refused with an error instead of answering wrongly.
//!
//! By role: a holder's input (`input`: what to share, [`contribute`], the parties'
//! [`SharedTable`]); the range checks (`ranges`); the parties' evaluation (`filter` for
//! `WHERE` on shared rows, `aggregate` for the per-group aggregates, `rank` for `ORDER BY`, and
//! `eval`, whose [`evaluate`] puts them together into each party's output share); the reveal to
//! recipients (`reveal`: [`open_output`]); and the result's formatting ([`result`]).
//!
//! [`Plan`]: crate::sql::Plan

use rand::rngs::OsRng;
use trustspace_data::{Record, Schema};

use crate::engine::{Mode, Party};
use crate::error::{MpcError, Result};
use crate::share::Shares;

mod aggregate;
mod eval;
mod filter;
mod input;
mod ranges;
mod rank;
pub mod result;
mod reveal;

pub use eval::evaluate;
pub use input::{
    Contribution, Inputs, SharedTable, Strategy, check_contribution, contribute, encode_rows,
    expected_lengths, inputs, share_columns,
};
pub use ranges::check_ranges;
pub use result::{NULL, RowCount, avg_units, fixed, format};
pub use reveal::{Opened, OpenedGroup, open_output};

/// Largest number of groups an `ORDER BY ... LIMIT` ranks (ranking costs groups² comparisons,
/// and as many products for `ORDER BY AVG`).
pub const MAX_RANKED_GROUPS: usize = 2048;

/// A query's answer: labelled columns and formatted rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryResult {
    /// Column labels, in SELECT order.
    pub columns: Vec<String>,
    /// Rows of formatted values, SQL's `NULL` as the text [`NULL`] (`SUM`, `AVG`, `MIN`, `MAX`,
    /// `VAR`/`STDDEV` over no rows; see [`result`]).
    pub rows: Vec<Vec<String>>,
}

/// Runs `sql` over the union of the holders' rows with three parties in this process (threads
/// over the in-process transport): the library path for a pipeline that hosts all three parties,
/// and the reference for the networked deployment ([`crate::service`]), which runs the same
/// [`contribute`], [`evaluate`] and [`open_output`] in separate processes.
pub fn run_local(
    schema: &Schema,
    holders: &[Vec<Record>],
    sql: &str,
    mode: Mode,
    strategy: Strategy,
) -> Result<QueryResult> {
    let plan = crate::sql::plan(sql, schema)?;
    let rows: usize = holders.iter().map(Vec::len).sum();
    check_ranges(&plan, schema, rows)?;
    // Each holder encodes and splits its own rows; party i receives part i of every holder.
    let mut parts: [Vec<Contribution>; 3] = Default::default();
    for h in holders {
        let [a, b, c] = contribute(&plan, schema, strategy, h, &mut OsRng)?;
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
    let shares: Vec<Shares> = results.into_iter().collect::<Result<_>>()?;
    let shares: [Shares; 3] = shares
        .try_into()
        .map_err(|_| MpcError::Config("the in-process mesh has three parties".into()))?;
    format(&plan, schema, &open_output(&plan, schema, &shares)?)
}
