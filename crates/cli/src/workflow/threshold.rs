//! Step 5b, the encrypted threshold check (tfhe path A): each holder encrypts its own subtotal
//! of the column under the regulator's compact public key, with a proof that it fits the
//! declared width; the untrusted aggregator verifies, sums (multi-operand) and compares with the
//! limit under encryption; the regulator decrypts the verdict alone. The limit is the workload's
//! threshold per row times the rows (healthcare: bed-days against planned capacity; finance: AML
//! flags against the tolerated rate).

use super::HOLDERS;
use super::printer::Printer;
use super::workload::Workload;
use anyhow::Result;
use std::time::Instant;
use trustspace_data::{Record, Schema};
use trustspace_he::column::unsigned_column;
use trustspace_he::fhe_int::{self, IntParams, Width};

/// Row 5b of the closing table.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdRow {
    /// `hospital` or `bank`.
    pub who: &'static str,
    /// The column checked.
    pub column: &'static str,
    /// The limit its total was compared with.
    pub limit: u64,
    /// Whether the total exceeds the limit: the one bit the regulator learns.
    pub verdict: bool,
    /// Width of each encrypted input.
    pub value_width: Width,
    /// Width of the encrypted sum.
    pub sum_width: Width,
    /// Wall time, seconds.
    pub secs: f64,
}

/// Step 5b: the check of the workload's column against its threshold.
pub(super) fn run(
    w: &Workload,
    schema: &Schema,
    holder_rows: &[Vec<Record>],
    p: &mut Printer<'_>,
) -> Result<ThresholdRow> {
    let t = Instant::now();
    let pb = p
        .spinner("regulator generating tfhe keys (client, server, compact public key, CRS)".into());
    let (regulator, aggregator, public) = fhe_int::generate()?;
    pb.finish_and_clear();
    let columns = holder_rows
        .iter()
        .map(|rows| unsigned_column(schema, rows, w.he_column))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let rows: u64 = columns.iter().map(|c| c.values.len() as u64).sum();
    let max_subtotal = columns
        .iter()
        .try_fold(1, |m, c| c.max_total().map(|t| m.max(t)))?;
    let params = IntParams::new(HOLDERS.into(), max_subtotal, 1)?;
    let (num, den) = w.threshold_per_row;
    let limit = rows * num / den;
    let mut contributions = Vec::new();
    for (h, c) in columns.iter().enumerate() {
        let pb = p.spinner(format!("{}-{h} encrypting and proving its subtotal", w.who));
        let subtotal: u64 = c.values.iter().sum();
        contributions.push(fhe_int::encrypt_values(
            &public,
            &params,
            "main job threshold",
            &format!("{}-{h}", w.who),
            &[subtotal],
        )?);
        pb.finish_and_clear();
    }
    let pb = p.spinner("aggregator verifying, summing and comparing under encryption".into());
    let totals = fhe_int::aggregate(&aggregator, &params, "main job threshold", &contributions)?;
    let verdict = totals.exceeds(&aggregator, 0, limit)?;
    pb.finish_and_clear();
    let row = ThresholdRow {
        who: w.who,
        column: w.he_column,
        limit,
        verdict: regulator.decrypt_verdict(&verdict)?,
        value_width: params.value_width(),
        sum_width: params.sum_width(),
        secs: t.elapsed().as_secs_f64(),
    };
    p.threshold_checked(&row)?;
    Ok(row)
}
