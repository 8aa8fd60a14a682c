//! Ledger workloads: durable appends to the embedded ledger (validators co-sign every append),
//! and inclusion/consistency proofs — size and verification time — in a log of 10^6 entries.
//!
//! `cargo bench --bench ledger` (log size: `TRUSTSPACE_BENCH_ENTRIES`, default 1000000)

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use trustspace::ledger::log::{Checkpoint, LogTree};
use trustspace::ledger::{Body, Entry, Identity, Ledger, LedgerView, PolicyEntry};

fn entries(n: u64, counter: &AtomicU64, who: &Identity) -> Vec<Entry> {
    (0..n)
        .map(|_| {
            let k = counter.fetch_add(1, Ordering::Relaxed);
            let mut digest = [0u8; 32];
            digest[..8].copy_from_slice(&k.to_be_bytes());
            let body = Body::Policy(PolicyEntry {
                policy_digest: digest,
                chunk_circuit: [1; 32],
                final_circuit: None,
                vk_digest: [2; 32],
                name: format!("bench-{k}"),
            });
            Entry::sign(body, k, who).expect("entry")
        })
        .collect()
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let who = Identity::from_seed(&[1; 32]);
    let ledger = Ledger::init(dir.path(), "bench", 3, 2, vec![who.public()]).expect("ledger");
    let counter = AtomicU64::new(0);
    let mut g = c.benchmark_group("ledger_append");
    g.sample_size(20);
    for batch in [1u64, 100, 1000] {
        g.throughput(Throughput::Elements(batch));
        g.bench_function(BenchmarkId::new("entries_per_append", batch), |b| {
            b.iter_batched(
                || entries(batch, &counter, &who),
                |e| ledger.append(e).expect("append"),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn proofs(c: &mut Criterion) {
    let n: u64 = std::env::var("TRUSTSPACE_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut tree = LogTree::new();
    for i in 0..n {
        let mut d = [0u8; 32];
        d[..8].copy_from_slice(&i.to_le_bytes());
        tree.push(d);
    }
    let checkpoint = |size: u64, root: [u8; 32]| Checkpoint {
        log_id: "bench".into(),
        size,
        root,
        timestamp_ms: 0,
    };
    let half = n / 2;
    let mut old = LogTree::new();
    for i in 0..half {
        let mut d = [0u8; 32];
        d[..8].copy_from_slice(&i.to_le_bytes());
        old.push(d);
    }
    let new_cp = checkpoint(n, tree.root());
    let old_cp = checkpoint(half, old.root());
    let index = n / 3;
    let leaf = tree.leaf(index).expect("leaf");
    let inclusion = tree.prove_inclusion(index).expect("proof");
    let consistency = tree.prove_consistency(half).expect("proof");
    eprintln!(
        "log of {n} entries: inclusion proof {} hashes ({} bytes), consistency proof {}->{n} {} hashes ({} bytes)",
        inclusion.hashes.len(),
        inclusion.hashes.len() * 32,
        half,
        consistency.hashes.len(),
        consistency.hashes.len() * 32
    );
    let mut g = c.benchmark_group("ledger_proofs");
    g.bench_function(BenchmarkId::new("inclusion_prove", n), |b| {
        b.iter(|| tree.prove_inclusion(black_box(index)).expect("proof"))
    });
    g.bench_function(BenchmarkId::new("inclusion_verify", n), |b| {
        b.iter(|| inclusion.verify(black_box(&leaf), &new_cp).expect("valid"))
    });
    g.bench_function(BenchmarkId::new("consistency_prove", n), |b| {
        b.iter(|| tree.prove_consistency(black_box(half)).expect("proof"))
    });
    g.bench_function(BenchmarkId::new("consistency_verify", n), |b| {
        b.iter(|| consistency.verify(&old_cp, &new_cp).expect("valid"))
    });
    g.finish();
}

criterion_group!(benches, append, proofs);
criterion_main!(benches);
