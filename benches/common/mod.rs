//! Shared set-up of the benchmark suites: the `healthcare` and `finance` suites measure the same
//! four workloads of a data-space deployment ([`suite`]) on their own tables, policy and queries.
//!
//! Throughputs are per record, row or value of the size in the id, whatever the step (so a
//! decryption's "values/s" is the n values its total covers).
//!
//! | group | id | measures |
//! |---|---|---|
//! | `<suite>_compliance` | `commit/<n>` | one holder commits to n records (Merkle/Poseidon) |
//! | | `prove/<n>` | Groth16 proofs that the n committed records comply, every chunk |
//! | | `verify/<n>` | the regulator checks the proofs against the commitment |
//! | `<suite>_ledger` | `register/<n>` | append one dataset entry: signed, co-signed by 2 of 3 validators, synced |
//! | | `verify_against_ledger/<n>` | proofs checked against the registered commitment and policy, evidence built |
//! | | `verify_evidence/<n>` | the offline re-check of an evidence file |
//! | `<suite>_mpc` | `<query>/<n>` | one networked query: three holders share n rows, three party processes on loopback TLS answer |
//! | `<suite>_he` | `ristretto_encrypt/<n>` | three holders encrypt n values with range proofs |
//! | | `ristretto_aggregate/<n>` | the untrusted aggregator checks every proof and adds |
//! | | `ristretto_decrypt/<n>` | two of three key holders decrypt partially; the total is combined |
//! | | `tfhe_threshold_encrypt/3x<n>` | one holder encrypts and proves its subtotal of n/3 values (tfhe path A) |
//! | | `tfhe_threshold_check/3x<n>` | the aggregator verifies the three subtotals, sums, compares with the limit |
#![allow(dead_code)] // each bench binary uses its own part of this module

pub mod net;

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use trustspace::data::Record;
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::ledger::{Body, DatasetEntry, Entry, Identity, Ledger, LedgerView, PolicyEntry};
use trustspace::mpc::engine::Mode;
use trustspace::mpc::query::Strategy;
use trustspace::zk::circuit::ChunkCircuit;
use trustspace::zk::{Compiled, Policy, commit_with, prove_all, setup, verify};

/// Sizes from the comma-separated environment variable `var`, or `default`.
pub fn sizes_from<T: std::str::FromStr + Clone>(var: &str, default: &[T]) -> Vec<T> {
    std::env::var(var)
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// One secret-shared query of a suite.
pub struct Query {
    /// Bench id prefix.
    pub name: &'static str,
    /// The table the holders contribute.
    pub table: Table,
    /// The SQL for `n` rows in all.
    pub sql: fn(usize) -> String,
    /// How holders contribute.
    pub strategy: Strategy,
    /// Security mode.
    pub mode: Mode,
    /// Row counts (all holders together).
    pub rows: Vec<usize>,
}

/// A deployment's workloads.
pub struct Workload {
    /// Group prefix (`healthcare`, `finance`).
    pub name: &'static str,
    /// The table proven compliant and summed homomorphically.
    pub table: Table,
    /// The policy, TOML.
    pub policy: String,
    /// Records per proof chunk.
    pub chunk: u64,
    /// Record counts of one holder's dataset (compliance and ledger).
    pub records: Vec<u64>,
    /// The MPC queries.
    pub queries: Vec<Query>,
    /// The column summed homomorphically.
    pub he_column: &'static str,
    /// Values summed (all holders together).
    pub he_values: Vec<u64>,
    /// The threshold check's limit per row (numerator, denominator).
    pub threshold_per_row: (u64, u64),
}

/// Runs every workload of `w`.
pub fn suite(c: &mut Criterion, w: &Workload) {
    compliance_and_ledger(c, w);
    mpc(c, w);
    he(c, w);
}

/// Seconds since the Unix epoch (entries' timestamps).
fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Compliance proving and verification, and the ledger's part: registration and verification
/// of proofs against what is registered.
fn compliance_and_ledger(c: &mut Criterion, w: &Workload) {
    let schema = w.table.schema();
    let policy = Policy::from_toml(&w.policy, "reference", None, &schema).expect("policy");
    let compiled = Compiled::new(&schema, &policy, w.chunk).expect("compiled");
    let cs = ConstraintSystem::new_ref();
    ChunkCircuit::for_setup(&compiled)
        .generate_constraints(cs.clone())
        .expect("synthesis");
    eprintln!(
        "{}: chunk of {} records = {} constraints ({:.1} per record)",
        w.name,
        w.chunk,
        cs.num_constraints(),
        cs.num_constraints() as f64 / w.chunk as f64
    );
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (pk, vk) = setup(&compiled, &mut rng).expect("setup");

    let dir = tempfile::tempdir().expect("temp dir");
    let regulator = Identity::generate();
    let ledger = Ledger::init(dir.path(), "bench", 3, 2, vec![regulator.public()]).expect("ledger");
    let config = ledger.config().clone();
    let holder = Identity::generate();
    let policy_name = policy.plan().name.clone();
    ledger
        .append(vec![
            Entry::sign(
                Body::Policy(PolicyEntry::for_keys(&vk, &policy_name)),
                now_s(),
                &regulator,
            )
            .expect("entry"),
        ])
        .expect("register policy");
    let register = |commitment: trustspace::zk::Commitment| {
        ledger
            .append(vec![
                Entry::sign(
                    Body::Dataset(DatasetEntry {
                        commitment,
                        name: format!("{}/bench", w.name),
                        metadata: Vec::new(),
                    }),
                    now_s(),
                    &holder,
                )
                .expect("entry"),
            ])
            .expect("register")
    };
    let fresh = AtomicU64::new(1);

    for &n in &w.records {
        let records: Vec<Record> = Generator::new(Spec::new(w.table, n, 7))
            .expect("spec")
            .records()
            .collect();
        let opening = trustspace::zk::Opening::generate(&mut rng);
        let mut g = c.benchmark_group(format!("{}_compliance", w.name));
        g.sample_size(10);
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::new("commit", n), |b| {
            b.iter(|| {
                commit_with(
                    &schema,
                    records.clone(),
                    w.chunk,
                    &holder.public().to_bytes(),
                    &opening,
                )
                .expect("commit")
            })
        });
        let commitment = commit_with(
            &schema,
            records.clone(),
            w.chunk,
            &holder.public().to_bytes(),
            &opening,
        )
        .expect("commit");
        g.bench_function(BenchmarkId::new("prove", n), |b| {
            b.iter(|| {
                black_box(
                    prove_all(&compiled, &pk, &commitment, &opening, &records, &mut rng)
                        .expect("prove"),
                )
            })
        });
        let bundle =
            prove_all(&compiled, &pk, &commitment, &opening, &records, &mut rng).expect("prove");
        g.bench_function(BenchmarkId::new("verify", n), |b| {
            b.iter(|| verify(&bundle, &vk, &commitment).expect("valid"))
        });
        g.finish();

        let mut g = c.benchmark_group(format!("{}_ledger", w.name));
        g.sample_size(10);
        // Each append registers a distinct commitment (the ledger refuses a second registration
        // of one); the ledger cannot tell a root from another, so the cost is the real one.
        g.bench_function(BenchmarkId::new("register", n), |b| {
            b.iter_batched(
                || {
                    let mut c = commitment.clone();
                    c.root = ark_bn254::Fr::from(fresh.fetch_add(1, Ordering::Relaxed));
                    c
                },
                register,
                BatchSize::PerIteration,
            )
        });
        register(commitment.clone());
        g.bench_function(BenchmarkId::new("verify_against_ledger", n), |b| {
            b.iter(|| {
                black_box(
                    trustspace::ledger::verify(&bundle, &vk, &ledger, &config, None)
                        .expect("valid"),
                )
            })
        });
        let (verdict, evidence) =
            trustspace::ledger::verify(&bundle, &vk, &ledger, &config, None).expect("valid");
        assert_eq!(verdict.records, n);
        let pin = trustspace::ledger::Pin::Keys(vk.digest());
        g.bench_function(BenchmarkId::new("verify_evidence", n), |b| {
            b.iter(|| {
                trustspace::ledger::verify_evidence(&evidence, &config, &pin, None).expect("ok")
            })
        });
        g.finish();
    }
}

/// The suite's queries through three party processes.
fn mpc(c: &mut Criterion, w: &Workload) {
    if w.queries.is_empty() {
        return;
    }
    let mut d = net::Deployment::start();
    let mut g = c.benchmark_group(format!("{}_mpc", w.name));
    g.sample_size(10);
    for q in &w.queries {
        for &n in &q.rows {
            let (schema, holders) = net::generated(q.table, n);
            let mut spec = net::spec(&schema, &(q.sql)(n), q.strategy);
            spec.mode = q.mode;
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function(BenchmarkId::new(q.name, n), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| d.query(&spec, &holders)).sum())
            });
        }
    }
    g.finish();
}

/// Homomorphic sums of the suite's column: the threshold-ElGamal sum the main job's step 5 runs
/// (2 of 3 holders decrypt), and the tfhe threshold check of its step 5b.
fn he(c: &mut Criterion, w: &Workload) {
    use trustspace::he::column::unsigned_column;
    use trustspace::he::fhe_int::{self, IntParams};
    use trustspace::he::ristretto::{self, DlogTable, SumSpec};
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (key, authorities) = ristretto::dkg::run_local(3, 2, &mut rng).expect("dkg");
    let t = Instant::now();
    let (regulator, aggregator, public) = fhe_int::generate().expect("keys");
    eprintln!(
        "{}_he: tfhe keys, compact public key and CRS in {:.1} s",
        w.name,
        t.elapsed().as_secs_f64()
    );
    let mut g = c.benchmark_group(format!("{}_he", w.name));
    g.sample_size(10);
    for &n in &w.he_values {
        let (schema, holders) = net::generated(w.table, n as usize);
        let spec = SumSpec::for_column(&schema, w.he_column, "bench").expect("spec");
        let plain: Vec<_> = holders
            .iter()
            .map(|rows| unsigned_column(&schema, rows, w.he_column).expect("column"))
            .collect();
        let subtotals: Vec<u64> = plain.iter().map(|c| c.values.iter().sum()).collect();
        let expected: u64 = subtotals.iter().sum();
        let encrypt = |rng: &mut ChaCha20Rng| -> Vec<_> {
            holders
                .iter()
                .map(|rows| {
                    ristretto::encrypt_column(&schema, rows, w.he_column, &key, &spec, rng)
                        .expect("encrypt")
                })
                .collect()
        };
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::new("ristretto_encrypt", n), |b| {
            b.iter(|| black_box(encrypt(&mut rng)))
        });
        let columns = encrypt(&mut rng);
        g.bench_function(BenchmarkId::new("ristretto_aggregate", n), |b| {
            b.iter(|| black_box(ristretto::aggregate(&key, &spec, &columns).expect("sum")))
        });
        let total = ristretto::aggregate(&key, &spec, &columns).expect("sum");
        let table = DlogTable::new(u64::try_from(total.bound()).expect("bound")).expect("table");
        g.bench_function(BenchmarkId::new("ristretto_decrypt", n), |b| {
            b.iter(|| {
                let partials = [
                    authorities[0].partial_decrypt(&total, &mut rng).expect("p"),
                    authorities[2].partial_decrypt(&total, &mut rng).expect("p"),
                ];
                black_box(ristretto::decrypt_total(&key, &total, &partials, &table).expect("t"))
            })
        });
        let partials = [
            authorities[0].partial_decrypt(&total, &mut rng).expect("p"),
            authorities[1].partial_decrypt(&total, &mut rng).expect("p"),
        ];
        let got = ristretto::decrypt_total(&key, &total, &partials, &table).expect("total");
        assert_eq!(got.units, i128::from(expected), "decrypted total");

        // tfhe path A: three subtotals, a multi-operand sum and a comparison under encryption.
        let max_subtotal = plain
            .iter()
            .try_fold(1, |m, c| c.max_total().map(|t| m.max(t)))
            .expect("subtotal bound");
        let params = IntParams::new(3, max_subtotal, 1).expect("params");
        let (num, den) = w.threshold_per_row;
        let limit = n * num / den;
        let contribute = |h: usize| {
            fhe_int::encrypt_values(
                &public,
                &params,
                "bench",
                &format!("holder-{h}"),
                &[subtotals[h]],
            )
            .expect("encrypt")
        };
        g.bench_function(
            BenchmarkId::new("tfhe_threshold_encrypt", format!("3x{n}")),
            |b| b.iter(|| black_box(contribute(0))),
        );
        let contributions: Vec<_> = (0..3).map(contribute).collect();
        let check = || {
            fhe_int::aggregate(&aggregator, &params, "bench", &contributions)
                .expect("aggregate")
                .exceeds(&aggregator, 0, limit)
                .expect("compare")
        };
        g.bench_function(
            BenchmarkId::new("tfhe_threshold_check", format!("3x{n}")),
            |b| b.iter(|| black_box(check())),
        );
        let verdict = regulator.decrypt_verdict(&check()).expect("verdict");
        assert_eq!(verdict, expected > limit, "threshold verdict");
    }
    g.finish();
}
