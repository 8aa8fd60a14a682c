//! Step 5, the homomorphic sum: the holders run a key generation among themselves (any 2 of 3
//! can decrypt); each encrypts its values of the workload's column with range proofs; an
//! untrusted aggregator checks every proof and adds; two holders decrypt the total only.

use super::HOLDERS;
use super::printer::Printer;
use super::workload::Workload;
use anyhow::{Context, Result};
use rand_chacha::ChaCha20Rng;
use std::time::Instant;
use trustspace_data::{Record, Schema};
use trustspace_he::ristretto::{self, DlogTable, SumSpec};

/// Row 5 of the closing table.
#[derive(Clone, Debug, PartialEq)]
pub struct SumRow {
    /// `hospital` or `bank`.
    pub who: &'static str,
    /// The column summed.
    pub column: &'static str,
    /// The decrypted total, in the column's units.
    pub total: String,
    /// Encrypted values summed.
    pub count: u64,
    /// Wall time, seconds.
    pub secs: f64,
}

/// Step 5: the sum of the workload's column over every holder's rows.
pub(super) fn run(
    w: &Workload,
    schema: &Schema,
    holder_rows: &[Vec<Record>],
    rng: &mut ChaCha20Rng,
    p: &mut Printer<'_>,
) -> Result<SumRow> {
    let t = Instant::now();
    // The holders run the key generation among themselves: any 2 of the 3 can decrypt.
    let (key, authorities) = ristretto::dkg::run_local(HOLDERS, 2, rng)?;
    let spec = SumSpec::for_column(schema, w.he_column, "main job")?;
    let mut columns = Vec::new();
    for (h, rows) in holder_rows.iter().enumerate() {
        let pb = p.spinner(format!(
            "{}-{h} encrypting {} values with range proofs",
            w.who,
            rows.len()
        ));
        columns.push(ristretto::encrypt_column(
            schema,
            rows,
            w.he_column,
            &key,
            &spec,
            rng,
        )?);
        pb.finish_and_clear();
    }
    // The aggregator checks every proof and adds; it holds no key share.
    let total = ristretto::aggregate(&key, &spec, &columns)?;
    let partials = [
        authorities[0].partial_decrypt(&total, rng)?,
        authorities[2].partial_decrypt(&total, rng)?,
    ];
    let max = u64::try_from(total.bound()).context("total bound")?;
    let table = DlogTable::new(max)?;
    let sum = ristretto::decrypt_total(&key, &total, &partials, &table)?;
    let row = SumRow {
        who: w.who,
        column: w.he_column,
        total: trustspace_data::format_units(sum.units, sum.scale),
        count: sum.count,
        secs: t.elapsed().as_secs_f64(),
    };
    p.summed(&row)?;
    Ok(row)
}
