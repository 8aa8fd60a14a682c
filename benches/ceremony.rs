//! A setup ceremony. Phase 1: one contribution to powers of tau and the verification of the
//! file, at the powers in the bench names (`TRUSTSPACE_BENCH_POWER=16`). Phase 2's start from
//! phase 1 (the Lagrange basis by group FFTs, then the queries) and the verifier's check of a
//! start, at the chunk sizes in the names (`TRUSTSPACE_BENCH_START=16`). Phase 2 over states of
//! the reference healthcare policy's circuits' sizes (chunk and final): one contribution, the
//! verification of a chain of one contribution, and the conversion of the final state into
//! arkworks' proving keys (`TRUSTSPACE_BENCH_CHUNK=64,1024`; 1,024 records is about 2^19
//! constraints).
//!
//! `cargo bench --bench ceremony`

use ark_bn254::{Bn254, G1Affine};
use ark_ec::AffineRepr;
use ark_groth16::ProvingKey;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;
use trustspace::ceremony::{KeysCeremony, Phase1, Phase2};
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::zk::{Compiled, Policy, reference, setup};

/// The comma-separated numbers of environment variable `var`, or `default`.
fn sizes(var: &str, default: &[u64]) -> Vec<u64> {
    std::env::var(var)
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn phase1(c: &mut Criterion) {
    let mut group = c.benchmark_group("ceremony_phase1");
    group.sample_size(10);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for power in sizes("TRUSTSPACE_BENCH_POWER", &[16]) {
        let fresh = Phase1::new(power as u32).expect("power");
        group.bench_function(BenchmarkId::new("contribute", power), |b| {
            b.iter_batched(
                || fresh.clone(),
                |mut state| {
                    state.contribute(&mut rng, None).expect("contribution");
                    black_box(state)
                },
                criterion::BatchSize::LargeInput,
            )
        });
        let mut one = fresh.clone();
        one.contribute(&mut rng, None).expect("contribution");
        group.bench_function(BenchmarkId::new("verify", power), |b| {
            b.iter(|| one.verify(&mut rng).expect("an honest file"))
        });
    }
    group.finish();
}

fn start(c: &mut Criterion) {
    let g = Generator::new(Spec::new(Table::Encounters, 1, 1)).expect("spec");
    let schema = g.schema().clone();
    let policy = Policy::from_toml(&reference::healthcare_policy(), "reference", None, &schema)
        .expect("policy");
    let mut group = c.benchmark_group("ceremony_start");
    group.sample_size(10);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for chunk in sizes("TRUSTSPACE_BENCH_START", &[16]) {
        let compiled = Compiled::new(&schema, &policy, chunk).expect("compiled");
        let power = KeysCeremony::power_needed(&compiled).expect("circuits");
        let mut phase1 = Phase1::new(power).expect("power");
        phase1.contribute(&mut rng, None).expect("contribution");
        group.bench_function(BenchmarkId::new("from_phase1", chunk), |b| {
            b.iter(|| KeysCeremony::from_phase1(&compiled, &phase1.powers).expect("start"))
        });
        let (initial, _) = KeysCeremony::from_phase1(&compiled, &phase1.powers).expect("start");
        group.bench_function(BenchmarkId::new("check_start", chunk), |b| {
            b.iter(|| {
                initial
                    .check_start(&compiled, &phase1.powers, &mut rng)
                    .expect("the start")
            })
        });
    }
    group.finish();
}

/// A phase-2 state of `pk`'s circuit's sizes, its points `pk`'s (a start computed from phase 1
/// at 2^19 takes minutes; contributing and verifying a chain cost the same on any points).
fn sized_like(pk: &ProvingKey<Bn254>) -> Phase2 {
    let mut h = pk.h_query.clone();
    h.push(G1Affine::zero());
    Phase2 {
        variables: pk.a_query.len(),
        public: pk.vk.gamma_abc_g1.len() - 1,
        domain: h.len(),
        alpha_g1: pk.vk.alpha_g1,
        beta_g1: pk.beta_g1,
        beta_g2: pk.vk.beta_g2,
        gamma_g2: pk.vk.gamma_g2,
        delta_g1: pk.delta_g1,
        delta_g2: pk.vk.delta_g2,
        ic: pk.vk.gamma_abc_g1.clone(),
        coefs: Vec::new(),
        a: pk.a_query.clone(),
        b_g1: pk.b_g1_query.clone(),
        b_g2: pk.b_g2_query.clone(),
        c: pk.l_query.clone(),
        h,
        cs_hash: [1; 64],
        contributions: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let g = Generator::new(Spec::new(Table::Encounters, 1, 1)).expect("spec");
    let schema = g.schema().clone();
    let policy = Policy::from_toml(&reference::healthcare_policy(), "reference", None, &schema)
        .expect("policy");
    let mut group = c.benchmark_group("ceremony_healthcare");
    group.sample_size(10);
    for chunk in sizes("TRUSTSPACE_BENCH_CHUNK", &[64, 1024]) {
        let compiled = Compiled::new(&schema, &policy, chunk).expect("compiled");
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (pk, _) = setup(&compiled, &mut rng).expect("setup");
        let initial = KeysCeremony {
            chunk: sized_like(&pk.chunk),
            final_: pk.final_.as_ref().map(sized_like),
        };
        let mut one = initial.clone();
        one.contribute(&mut rng, None).expect("contribution");
        group.bench_function(BenchmarkId::new("contribute", chunk), |b| {
            b.iter_batched(
                || initial.clone(),
                |mut state| black_box(state.contribute(&mut rng, None)),
                criterion::BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("verify_one", chunk), |b| {
            b.iter(|| one.verify(&initial, &mut rng).expect("an honest chain"))
        });
        group.bench_function(BenchmarkId::new("proving_keys", chunk), |b| {
            b.iter(|| black_box(one.states().map(Phase2::proving_key).count()))
        });
    }
    group.finish();
}

criterion_group!(benches, phase1, start, bench);
criterion_main!(benches);
