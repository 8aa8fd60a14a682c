//! Three hospitals add up their patients' lengths of stay under encryption, and a regulator
//! learns only whether the total passes a capacity limit — not the total, not any hospital's
//! share. Then the same data, packed, for a plain sum at scale.
//!
//! Path A (tfhe integers): each hospital encrypts its rows under the regulator's compact
//! public key, with a proof that every value fits its declared width; an untrusted aggregator
//! verifies, sums with tfhe's multi-operand sum, and evaluates `total > limit` under
//! encryption; the regulator decrypts the one-bit verdict. Path B (packed LWE): the same
//! columns, 2048 values to a ciphertext list, proven in range, added slot-wise; the key holder
//! decrypts the total.
//!
//! `cargo run --release --example he_threshold [records per hospital]`

use std::time::Instant;

use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::he::column::unsigned_column;
use trustspace::he::{fhe_int, lwe_sum};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let records: u64 = std::env::args().nth(1).map_or(Ok(40), |s| s.parse())?;
    let mut spec = Spec::new(Table::Encounters, 3 * records, 7);
    spec.holders = 3;
    let data = Generator::new(spec)?;
    let columns = (0..3)
        .map(|h| {
            let rows: Vec<_> = data.holder_records(h).collect();
            unsigned_column(data.schema(), &rows, "length_of_stay")
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_stay = columns[0].max;
    let total: u64 = columns.iter().flat_map(|c| &c.values).sum();

    // Path A: the regulator's keys; the aggregator gets the server key, hospitals the public key.
    let t = Instant::now();
    let (regulator, aggregator, public) = fhe_int::generate()?;
    println!("path A keys in {:.1} s", t.elapsed().as_secs_f64());
    let params = fhe_int::IntParams::new(3 * records, max_stay, 1)?;
    let t = Instant::now();
    let contributions = columns
        .iter()
        .enumerate()
        .map(|(h, c)| {
            fhe_int::encrypt_column(&public, &params, "capacity", &format!("hospital-{h}"), c)
        })
        .collect::<Result<Vec<_>, _>>()?;
    println!(
        "3 hospitals encrypted and proved {} values in {:.1} s",
        3 * records,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let totals = fhe_int::aggregate(&aggregator, &params, "capacity", &contributions)?;
    // The capacity limit: the expected bed-days, so the verdict is not a foregone conclusion.
    let limit = 3 * records * 5;
    let verdict = totals.exceeds(&aggregator, 0, limit)?;
    println!(
        "aggregator: verified, summed ({:?} → {:?}) and compared in {:.1} s",
        params.value_width(),
        params.sum_width(),
        t.elapsed().as_secs_f64()
    );
    let over = regulator.decrypt_verdict(&verdict)?;
    println!("regulator learns: total bed-days > {limit}? {over}");
    assert_eq!(
        over,
        total > limit,
        "the verdict matches the plaintext check"
    );

    // Path B: a plain sum of the same columns, packed.
    let t = Instant::now();
    let params = lwe_sum::SumParams::new(3 * records, 64 - max_stay.leading_zeros(), 3)?;
    let (key, setup) = lwe_sum::generate(params)?;
    let encrypted = columns
        .iter()
        .enumerate()
        .map(|(h, c)| lwe_sum::encrypt_column(&setup, "bed-days", &format!("hospital-{h}"), c))
        .collect::<Result<Vec<_>, _>>()?;
    let sum = lwe_sum::aggregate(&setup, "bed-days", &encrypted)?;
    let decrypted = lwe_sum::decrypt_total(&key, &setup, &sum)?;
    println!(
        "path B: total bed-days {decrypted} (Δ = 2^{}, failure ≤ 2^{:.0}) in {:.1} s",
        params.delta_log(),
        params.failure_log2().max(-1000.0),
        t.elapsed().as_secs_f64()
    );
    assert_eq!(decrypted, u128::from(total));
    Ok(())
}
