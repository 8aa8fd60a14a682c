//! Threshold additive encryption on ristretto255: the cost of each role's step, per dataset size.
//!
//! `cargo bench --bench he_ristretto` (sizes: `TRUSTSPACE_BENCH_VALUES=10000,1000000`, the
//! default; encryption sample: `TRUSTSPACE_BENCH_ENCRYPT_SAMPLE=64`).
//!
//! The workload: a 20-bit `uint` column (`0 ..= 2^20-1`, so 10^6 values make a 40-bit total),
//! 5 authorities with threshold 3 from an in-process DKG.
//!
//! | group | id | measures | throughput |
//! |---|---|---|---|
//! | `he_encrypt` | `ristretto/<sample>` | holder: encrypt values, each with its range proof | values/s |
//! | `he_verify` | `ristretto/<sample>` | aggregator: check the range proofs of a column | values/s |
//! | `he_aggregate` | `ristretto/<n>` | aggregator: add n verified ciphertexts | ciphertexts/s |
//! | `he_partial_decrypt` | `ristretto/<n>` | one authority's partial decryption with DLEQ proof | — |
//! | `he_decrypt` | `ristretto/<n>` | verify t partials, combine, baby-step giant-step | — |
//!
//! Encryption and proof checking cost the same for every value, so they are measured on a sample
//! (`TRUSTSPACE_BENCH_ENCRYPT_SAMPLE` values) rather than at 10^6, where one run would take
//! tens of minutes; multiply by n for a full column. Aggregation and decryption run at full
//! size n: the n ciphertexts are the sample's, verified once and repeated (sums are the same
//! work whatever the values). The discrete-log table for the bound `n × (2^20-1)` is built once
//! and reused; its build time and size, and the bytes per ciphertext (binary, and JSON as
//! exchanged), are printed to stderr.
//!
//! The group names are shared with the tfhe path B bench to come (ids `tfhe_b/<n>`), so
//! criterion's reports put the two backends side by side.

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use trustspace::data::{ColumnSpec, Record, Schema};
use trustspace::he::ristretto::{
    Aggregator, DlogTable, SumSpec, Verified, decrypt_total, dkg, encrypt_column,
};

/// Dataset sizes: `TRUSTSPACE_BENCH_VALUES` (comma-separated) or 10^4 and 10^6.
fn sizes() -> Vec<u64> {
    std::env::var("TRUSTSPACE_BENCH_VALUES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 1_000_000])
}

/// Values encrypted per measured encryption run.
fn encrypt_sample() -> u64 {
    std::env::var("TRUSTSPACE_BENCH_ENCRYPT_SAMPLE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(64)
}

/// Distinct encrypted values behind the full-size aggregation (repeated to reach n).
const AGGREGATE_BLOCK: u64 = 512;

fn he_ristretto(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let schema = Schema::new("bench", vec![ColumnSpec::uint("amount", 20)]).expect("schema");
    let records = |n: u64, rng: &mut ChaCha20Rng| -> Vec<Record> {
        (0..n).map(|_| vec![rng.gen_range(0..1u64 << 20)]).collect()
    };

    let t = Instant::now();
    let (key, authorities) = dkg::run_local(5, 3, &mut rng).expect("dkg");
    eprintln!(
        "he_ristretto: 3-of-5 DKG (all rounds, one process) {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let spec = SumSpec::for_column(&schema, "amount", "bench/amount").expect("spec");
    eprintln!(
        "he_ristretto: range [0, 2^20-1], proof plan {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    // Encryption and proof checking, on a sample.
    let sample = encrypt_sample();
    let sample_records = records(sample, &mut rng);
    let mut g = c.benchmark_group("he_encrypt");
    g.sample_size(10);
    g.throughput(Throughput::Elements(sample));
    g.bench_function(BenchmarkId::new("ristretto", sample), |b| {
        b.iter(|| {
            black_box(
                encrypt_column(&schema, &sample_records, "amount", &key, &spec, &mut rng)
                    .expect("encrypt"),
            )
        })
    });
    g.finish();
    let sample_column =
        encrypt_column(&schema, &sample_records, "amount", &key, &spec, &mut rng).expect("enc");
    let aggregator = Aggregator::new(&key, &spec);
    let mut g = c.benchmark_group("he_verify");
    g.sample_size(10);
    g.throughput(Throughput::Elements(sample));
    g.bench_function(BenchmarkId::new("ristretto", sample), |b| {
        b.iter(|| black_box(aggregator.verify(&sample_column).expect("valid")))
    });
    g.finish();

    let json = sample_column.to_json().expect("json");
    eprintln!(
        "he_ristretto: bytes per ciphertext with its range proof: {} binary, {:.0} JSON",
        spec.bytes_per_input(),
        json.len() as f64 / sample as f64
    );

    // Aggregation and decryption at full size.
    let block_records = records(
        AGGREGATE_BLOCK.min(sizes().into_iter().max().unwrap_or(1)),
        &mut rng,
    );
    let block =
        encrypt_column(&schema, &block_records, "amount", &key, &spec, &mut rng).expect("enc");
    let verified_block = aggregator.verify(&block).expect("valid");
    for n in sizes() {
        let blocks = n / block.len() as u64;
        let rest = (n % block.len() as u64) as usize;
        let mut tail = block.clone();
        tail.values_mut().truncate(rest);
        let verified_tail = aggregator.verify(&tail).expect("valid");
        let mut verified: Vec<Verified<'_>> = vec![verified_block; blocks as usize];
        verified.push(verified_tail);

        let mut g = c.benchmark_group("he_aggregate");
        g.sample_size(10);
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::new("ristretto", n), |b| {
            b.iter(|| {
                let mut a = Aggregator::new(&key, &spec);
                a.add_all(&verified).expect("add");
                black_box(a.total())
            })
        });
        g.finish();

        let mut agg = Aggregator::new(&key, &spec);
        agg.add_all(&verified).expect("add");
        let total = agg.total();
        let bound = u64::try_from(total.bound()).expect("bound");
        let t = Instant::now();
        let table = DlogTable::new(bound).expect("table");
        eprintln!(
            "he_ristretto: n = {n}: total bound {bound} (2^{:.1}); table {table:?} built in \
             {:.2} s, {:.1} MB",
            (bound as f64).log2(),
            t.elapsed().as_secs_f64(),
            table.size_bytes() as f64 / 1e6
        );

        let mut g = c.benchmark_group("he_partial_decrypt");
        g.sample_size(10);
        g.bench_function(BenchmarkId::new("ristretto", n), |b| {
            b.iter(|| black_box(authorities[0].partial_decrypt(&total, &mut rng).expect("p")))
        });
        g.finish();

        let partials: Vec<_> = authorities[..3]
            .iter()
            .map(|a| a.partial_decrypt(&total, &mut rng).expect("partial"))
            .collect();
        let expected = {
            let block_sum: i128 = block_records.iter().map(|r| i128::from(r[0])).sum();
            let tail_sum: i128 = block_records[..rest].iter().map(|r| i128::from(r[0])).sum();
            block_sum * i128::from(blocks) + tail_sum
        };
        let got = decrypt_total(&key, &total, &partials, &table).expect("decrypt");
        assert_eq!(got.units, expected, "decrypted total");
        let mut g = c.benchmark_group("he_decrypt");
        g.sample_size(10);
        g.bench_function(BenchmarkId::new("ristretto", n), |b| {
            b.iter(|| black_box(decrypt_total(&key, &total, &partials, &table).expect("total")))
        });
        g.finish();
    }
}

criterion_group!(benches, he_ristretto);
criterion_main!(benches);
