//! Homomorphic sums on tfhe: path A (encrypted integers, high-level API) and path B (packed
//! additive LWE sums, `core_crypto`).
//!
//! `cargo bench --bench he_tfhe` — sizes: `TRUSTSPACE_BENCH_VALUES=10000,1000000` (path B,
//! default), `TRUSTSPACE_BENCH_TFHE_A=100,1000` (path A, default); path B's encryption sample:
//! `TRUSTSPACE_BENCH_TFHE_SAMPLE_LISTS=4` lists of 2048 values; the add chain only up to
//! `TRUSTSPACE_BENCH_TFHE_CHAIN_MAX` values (default: every size), as it is the slow one;
//! `TRUSTSPACE_BENCH_TFHE_SKIP_A` skips path A.
//!
//! | group | id | measures | throughput |
//! |---|---|---|---|
//! | `he_tfhe_a_sum` | `multi_sum/<n>` | aggregator: tfhe's multi-operand sum of n `u32` values (in the `u64` sum width) | values/s |
//! | `he_tfhe_a_sum` | `add_chain/<n>` | the same sum as a sequential chain of `+` | values/s |
//! | `he_tfhe_a_sum` | `add/u64` | one step of that chain: clean `u64` accumulator + next operand | — |
//! | `he_tfhe_a_check` | `gt/u64`, `max/4` | encrypted `total > limit`; largest of 4 group totals | — |
//! | `he_tfhe_a_verify_expand` | `u32/<k>` | aggregator: verify a proven list of k `u32` and expand it | values/s |
//! | `he_encrypt` | `tfhe_b/<sample>` | holder: pack, encrypt and prove (ZK PKE v2) | values/s |
//! | `he_encrypt` | `tfhe_b_unproven/<sample>` | the same encryption without the proof | values/s |
//! | `he_verify` | `tfhe_b/<sample>` | aggregator: verify a column's list proofs and add it | values/s |
//! | `he_aggregate` | `tfhe_b/<n>` | aggregator: add ⌈n/2048⌉ lists slot-wise (packed form) | values/s |
//! | `he_decrypt` | `tfhe_b/<n>` | key holder: expand, decrypt and round 2048 slots | — |
//!
//! Group names are shared with `he_ristretto`, so criterion's reports put the backends side by
//! side. Path B's encryption and verification cost the same per list whatever n is, so they
//! are measured on a sample; aggregation and decryption run at full size n (the sample's
//! lists repeated: additions are the same work whatever the values). Bytes per value
//! (ciphertext, proof) are printed to stderr.

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tfhe::core_crypto::algorithms::slice_algorithms::slice_wrapping_add_assign;
use tfhe::core_crypto::prelude::*;
use tfhe::prelude::*;
use tfhe::{FheUint32, FheUint64, set_server_key};
use trustspace::he::fhe_int::{self, IntParams};
use trustspace::he::lwe_sum::{self, Aggregator, SumParams, decrypt_total, encrypt_values};

fn env_sizes(var: &str, default: &[u64]) -> Vec<u64> {
    std::env::var(var)
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn path_a(c: &mut Criterion) {
    let sizes = env_sizes("TRUSTSPACE_BENCH_TFHE_A", &[100, 1000]);
    let chain_max = env_sizes("TRUSTSPACE_BENCH_TFHE_CHAIN_MAX", &[u64::MAX])[0];
    let t = Instant::now();
    let (holder, aggregator, public) = fhe_int::generate().expect("keys");
    eprintln!(
        "he_tfhe: path A keys and CRS in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let max_n = sizes.iter().copied().max().unwrap_or(100);
    let params = IntParams::new(max_n, u64::from(u32::MAX), 1).expect("params");

    // Verify and expand one proven list (the per-value input cost of the aggregator).
    let per_list = fhe_int::values_per_list(params.value_width()) as u64;
    let values: Vec<u64> = (0..per_list)
        .map(|_| u64::from(rng.r#gen::<u32>()))
        .collect();
    let contribution =
        fhe_int::encrypt_values(&public, &params, "bench", "h", &values).expect("encrypt");
    let mut g = c.benchmark_group("he_tfhe_a_verify_expand");
    g.sample_size(10);
    g.throughput(Throughput::Elements(per_list));
    g.bench_function(BenchmarkId::new("u32", per_list), |b| {
        b.iter(|| {
            black_box(
                fhe_int::aggregate(
                    &aggregator,
                    &params,
                    "bench",
                    std::slice::from_ref(&contribution),
                )
                .expect("agg"),
            )
        })
    });
    g.finish();

    set_server_key(aggregator.server_key().clone());
    // The sum proper, on ciphertexts already expanded and widened to the sum width.
    let client = holder.client_key();
    let all: Vec<FheUint64> = (0..max_n)
        .map(|_| {
            let v = FheUint32::encrypt(rng.r#gen::<u32>(), client);
            v.cast_into()
        })
        .collect();
    let mut g = c.benchmark_group("he_tfhe_a_sum");
    g.sample_size(10);
    // One step of the chain: a clean accumulator (the sum of up to 100 values, every block a
    // bootstrapped output, as mid-chain) plus the next operand. A chain over n values is n - 1
    // of these in a row, which prices the chain at sizes where running it ten times would take
    // hours.
    let total = all[..100.min(all.len())].iter().sum::<FheUint64>();
    g.bench_function(BenchmarkId::new("add", "u64"), |b| {
        b.iter(|| black_box(&total + &all[0]))
    });
    for &n in &sizes {
        let operands = &all[..n as usize];
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::new("multi_sum", n), |b| {
            b.iter(|| black_box(operands.iter().sum::<FheUint64>()))
        });
        if n > chain_max {
            continue;
        }
        g.bench_function(BenchmarkId::new("add_chain", n), |b| {
            b.iter(|| {
                let mut acc = operands[0].clone();
                for v in &operands[1..] {
                    acc = &acc + v;
                }
                black_box(acc)
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("he_tfhe_a_check");
    g.sample_size(10);
    g.bench_function("gt/u64", |b| b.iter(|| black_box(total.gt(1u64 << 38))));
    let groups: Vec<FheUint64> = all[..4].to_vec();
    g.bench_function("max/4", |b| {
        b.iter(|| {
            let mut best = groups[0].clone();
            for t in &groups[1..] {
                best = best.max(t);
            }
            black_box(best)
        })
    });
    g.finish();
}

fn path_b(c: &mut Criterion) {
    let sizes = env_sizes("TRUSTSPACE_BENCH_VALUES", &[10_000, 1_000_000]);
    let sample_lists = env_sizes("TRUSTSPACE_BENCH_TFHE_SAMPLE_LISTS", &[4])[0];
    let threads = rayon::current_num_threads();
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    for n in sizes {
        let params = SumParams::new(n, 16, 3).expect("params");
        let t = Instant::now();
        let (sk, setup) = lwe_sum::generate(params).expect("setup");
        eprintln!(
            "he_tfhe: path B n = {n}: Δ = 2^{}, ≤ {} lists, failure ≤ 2^{:.0}; key + CRS in {:.1} s, setup {:.1} MB",
            params.delta_log(),
            params.max_lists(),
            params.failure_log2(),
            t.elapsed().as_secs_f64(),
            setup.to_bytes().len() as f64 / 1e6
        );
        let sample = (sample_lists * params.slots() as u64).min(n);
        let values: Vec<u64> = (0..sample).map(|_| rng.gen_range(0..1u64 << 16)).collect();

        let mut g = c.benchmark_group("he_encrypt");
        g.sample_size(10);
        g.throughput(Throughput::Elements(sample));
        g.bench_function(BenchmarkId::new("tfhe_b", format!("{sample}@{n}")), |b| {
            b.iter(|| black_box(encrypt_values(&setup, "bench", "h", &values).expect("encrypt")))
        });
        g.bench_function(
            BenchmarkId::new("tfhe_b_unproven", format!("{sample}@{n}")),
            |b| b.iter(|| black_box(encrypt_unproven(&setup, &values))),
        );
        g.finish();

        let column = encrypt_values(&setup, "bench", "h", &values).expect("encrypt");
        let bytes = column.to_bytes().expect("bytes");
        let words: usize = column.lists().iter().map(|l| l.words().len()).sum();
        eprintln!(
            "he_tfhe: path B n = {n}: {:.2} bytes per value on the wire ({:.2} ciphertext, {:.2} proof and framing), {threads} threads",
            bytes.len() as f64 / sample as f64,
            (words * 8) as f64 / sample as f64,
            (bytes.len() - words * 8) as f64 / sample as f64
        );

        let mut g = c.benchmark_group("he_verify");
        g.sample_size(10);
        g.throughput(Throughput::Elements(sample));
        g.bench_function(BenchmarkId::new("tfhe_b", format!("{sample}@{n}")), |b| {
            b.iter(|| {
                let mut agg = Aggregator::new(&setup, "bench");
                agg.add_column(&column).expect("valid");
                black_box(agg.total())
            })
        });
        g.finish();

        // Packed aggregation at full size: ⌈n/slots⌉ lists added slot-wise.
        let lists = n.div_ceil(params.slots() as u64) as usize;
        let pool: Vec<&[u64]> = column.lists().iter().map(|l| l.words()).collect();
        let mut g = c.benchmark_group("he_aggregate");
        g.sample_size(10);
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::new("tfhe_b", n), |b| {
            b.iter(|| {
                let mut acc = vec![0u64; pool[0].len()];
                for i in 0..lists {
                    slice_wrapping_add_assign(&mut acc, pool[i % pool.len()]);
                }
                black_box(acc)
            })
        });
        g.finish();

        let total = lwe_sum::aggregate(&setup, "bench", &[column]).expect("aggregate");
        assert_eq!(
            decrypt_total(&sk, &setup, &total).expect("decrypt"),
            values.iter().map(|&v| u128::from(v)).sum::<u128>()
        );
        let mut g = c.benchmark_group("he_decrypt");
        g.sample_size(10);
        g.bench_function(BenchmarkId::new("tfhe_b", n), |b| {
            b.iter(|| black_box(decrypt_total(&sk, &setup, &total).expect("decrypt")))
        });
        g.finish();
    }
}

/// Compact-list encryption of `values` under the setup's public key with no proof: what the
/// holder's step costs without the ZK proof (for comparison with schemes that prove nothing).
fn encrypt_unproven(
    setup: &lwe_sum::PublicSetup,
    values: &[u64],
) -> Vec<LweCompactCiphertextListOwned<u64>> {
    use rayon::prelude::*;
    let p = setup.params();
    let pk = setup.public_key();
    let noise = p.noise_distribution();
    values
        .par_chunks(p.slots())
        .map(|chunk| {
            let mut plain: Vec<u64> = chunk.iter().map(|v| v << p.delta_log()).collect();
            plain.resize(p.slots(), 0);
            let mut list = LweCompactCiphertextList::new(
                0u64,
                p.lwe_dimension().to_lwe_size(),
                LweCiphertextCount(p.slots()),
                CiphertextModulus::new_native(),
            );
            let mut seeder = new_seeder();
            let seeder = seeder.as_mut();
            let mut generator =
                EncryptionRandomGenerator::<DefaultRandomGenerator>::new(seeder.seed(), seeder);
            encrypt_lwe_compact_ciphertext_list_with_compact_public_key(
                pk,
                &mut list,
                &PlaintextList::from_container(plain),
                noise,
                noise,
                generator.noise_generator_mut(),
            );
            list
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    if std::env::var("TRUSTSPACE_BENCH_TFHE_SKIP_A").is_err() {
        path_a(c);
    }
    path_b(c);
}

criterion_group!(tfhe_benches, benches);
criterion_main!(tfhe_benches);
