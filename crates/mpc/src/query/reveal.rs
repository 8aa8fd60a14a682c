//! The reveal to recipients: a recipient reconstructs the output from the three parties'
//! shares ([`open_output`]), checking the copies agree and the output is well formed, and
//! reads the groups that appear, in output order ([`Opened`]).

use trustspace_data::Schema;

use super::result::{self, RowCount};
use crate::error::{Check, MpcError, Result};
use crate::share::Shares;
use crate::sql::Plan;

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

/// Reconstructs the query's output at a recipient from the three parties' output shares
/// ([`super::evaluate`]). Each share component is sent by the two parties holding it; if the
/// copies differ, or the output is not well formed, a party lied and this fails.
pub fn open_output(plan: &Plan, schema: &Schema, parts: &[Shares; 3]) -> Result<Opened> {
    let words = crate::share::reconstruct(parts).ok_or_else(|| MpcError::CheatingDetected {
        check: Check::Output,
        detail: "result: the parties' shares of the output disagree".into(),
    })?;
    let groups = crate::partial::groups(plan, schema);
    let per = 1 + 2 * plan.aggs.len() + usize::from(plan.order.is_some());
    if words.len() != groups * (1 + per) {
        return Err(MpcError::CheatingDetected {
            check: Check::Output,
            detail: format!(
                "result: {} output words where the query has {}",
                words.len(),
                groups * (1 + per)
            ),
        });
    }
    let (pass, vals) = words.split_at(groups);
    if pass.iter().any(|&b| b > 1) {
        return Err(MpcError::CheatingDetected {
            check: Check::Output,
            detail: "result: a group indicator is not 0 or 1".into(),
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
