//! Shared set-up of the workload benchmarks: generate, commit, set up keys, prove once.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use criterion::{BenchmarkId, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;
use trustspace::data::Record;
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::zk::circuit::ChunkCircuit;
use trustspace::zk::{Compiled, Policy, commit_with, prove_all, setup, verify};

/// Dataset sizes: `TRUSTSPACE_BENCH_RECORDS` (comma-separated) or the default.
pub fn sizes(default: &[u64]) -> Vec<u64> {
    std::env::var("TRUSTSPACE_BENCH_RECORDS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// Compliance proving and verification of `table` under `policy_text`, per dataset size.
pub fn zk(
    c: &mut Criterion,
    group: &str,
    table: Table,
    policy_text: &str,
    chunk: u64,
    sizes: &[u64],
) {
    let schema = table.schema();
    let policy = Policy::from_toml(policy_text, "reference", None, &schema).expect("policy");
    let compiled = Compiled::new(&schema, &policy, chunk).expect("compiled");
    let cs = ConstraintSystem::new_ref();
    ChunkCircuit::for_setup(&compiled)
        .generate_constraints(cs.clone())
        .expect("synthesis");
    eprintln!(
        "{group}: chunk of {chunk} records = {} constraints ({:.1} per record)",
        cs.num_constraints(),
        cs.num_constraints() as f64 / chunk as f64
    );
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (pk, vk) = setup(&compiled, &mut rng).expect("setup");
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    for &n in sizes {
        let records: Vec<Record> = Generator::new(Spec::new(table, n, 7))
            .expect("spec")
            .records()
            .collect();
        let opening = trustspace::zk::Opening::generate(&mut rng);
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::new("commit", n), |b| {
            b.iter(|| commit_with(&schema, records.clone(), chunk, &opening).expect("commit"))
        });
        let commitment = commit_with(&schema, records.clone(), chunk, &opening).expect("commit");
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
    }
    g.finish();
}
