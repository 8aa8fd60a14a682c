//! A setup ceremony's phase 2 over the reference healthcare policy's keys (chunk and final
//! circuits): one contribution, and the verification of a chain of one contribution, at the
//! chunk sizes in the bench names (1,024 records, the main job's, is about 2^19 constraints).
//!
//! `cargo bench --bench ceremony` (sizes: `TRUSTSPACE_BENCH_CHUNK=64,1024`)

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;
use trustspace::ceremony::KeysCeremony;
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::zk::{Compiled, Policy, reference, setup};

fn chunks() -> Vec<u64> {
    std::env::var("TRUSTSPACE_BENCH_CHUNK")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![64, 1024])
}

fn bench(c: &mut Criterion) {
    let g = Generator::new(Spec::new(Table::Encounters, 1, 1)).expect("spec");
    let schema = g.schema().clone();
    let policy = Policy::from_toml(&reference::healthcare_policy(), "reference", None, &schema)
        .expect("policy");
    let mut group = c.benchmark_group("ceremony_healthcare");
    group.sample_size(10);
    for chunk in chunks() {
        let compiled = Compiled::new(&schema, &policy, chunk).expect("compiled");
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (pk, _) = setup(&compiled, &mut rng).expect("setup");
        let initial = KeysCeremony::new(pk);
        let mut one = initial.clone();
        one.contribute(&mut rng);
        group.bench_function(BenchmarkId::new("contribute", chunk), |b| {
            b.iter_batched(
                || initial.clone(),
                |mut state| black_box(state.contribute(&mut rng)),
                criterion::BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("verify_one", chunk), |b| {
            b.iter(|| one.verify(&initial, &mut rng).expect("an honest chain"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
