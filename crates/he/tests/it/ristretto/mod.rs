//! The threshold ristretto backend end to end, by topic: sums, the aggregator's checks,
//! threshold decryption, the DKG, and the exchange format.

mod aggregation;
mod decryption;
mod dkg;
mod sums;
mod wire;

use rand_chacha::ChaCha20Rng;
use trustspace_data::{ColumnSpec, Record, Schema, TypeName};
use trustspace_he::ristretto::{
    Authority, DlogTable, EncryptedTotal, KeySet, PartialDecryption, decrypt_total,
};

/// A schema with a column of every summable type (and a date, which is not).
fn schema() -> Schema {
    Schema::new(
        "visits",
        vec![
            ColumnSpec::uint("id", 32),
            ColumnSpec::uint("age", 8).with_max("120"),
            ColumnSpec::decimal("balance", 2, 32)
                .signed()
                .with_min("-500.00")
                .with_max("999.99"),
            ColumnSpec::int("delta", 16)
                .with_min("-300")
                .with_max("300"),
            ColumnSpec::new("consent", TypeName::Bool),
            ColumnSpec::new("seen", TypeName::Date),
        ],
    )
    .expect("schema")
}

/// Records from text values, so that encodings come from the data crate's own parser.
fn records(schema: &Schema, rows: &[[&str; 6]]) -> Vec<Record> {
    rows.iter()
        .map(|row| {
            row.iter()
                .zip(schema.columns())
                .map(|(text, col)| col.parse(text).expect("valid field"))
                .collect()
        })
        .collect()
}

/// The partial decryptions of `total` by the authorities `who`.
fn partials(
    authorities: &[Authority],
    who: &[usize],
    total: &EncryptedTotal,
    r: &mut ChaCha20Rng,
) -> Vec<PartialDecryption> {
    who.iter()
        .map(|&i| authorities[i].partial_decrypt(total, r).expect("partial"))
        .collect()
}

/// Decrypts `total` with the partials of `who`, with a table just large enough.
fn decrypt_with(
    key: &KeySet,
    authorities: &[Authority],
    who: &[usize],
    total: &EncryptedTotal,
    r: &mut ChaCha20Rng,
) -> i128 {
    let table = DlogTable::new(u64::try_from(total.bound()).unwrap()).expect("table");
    let ps = partials(authorities, who, total, r);
    decrypt_total(key, total, &ps, &table)
        .expect("decrypts")
        .units
}
