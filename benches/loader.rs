//! Loader throughput: streaming validation of generated healthcare encounters (CSV and JSON
//! Lines) and generation itself, at the row counts in the bench names.
//!
//! `cargo bench --bench loader`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::data::write::{write_csv, write_jsonl};

const ROWS: u64 = 100_000;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let g = Generator::new(Spec::new(Table::Encounters, ROWS, 1)).expect("spec");
    let csv = dir.path().join("encounters.csv");
    let jsonl = dir.path().join("encounters.jsonl");
    write_csv(
        std::fs::File::create(&csv).expect("create"),
        g.schema(),
        g.records(),
    )
    .expect("write");
    write_jsonl(
        std::fs::File::create(&jsonl).expect("create"),
        g.schema(),
        g.records(),
    )
    .expect("write");

    let mut group = c.benchmark_group("healthcare_encounters");
    group.throughput(Throughput::Elements(ROWS));
    group.sample_size(10);
    for (name, path) in [("validate_csv", &csv), ("validate_jsonl", &jsonl)] {
        group.bench_function(BenchmarkId::new(name, ROWS), |b| {
            b.iter(|| {
                let v = trustspace::data::validate(path, g.schema(), 0).expect("valid");
                assert_eq!(v.accepted, ROWS);
                black_box(v)
            })
        });
    }
    group.bench_function(BenchmarkId::new("generate", ROWS), |b| {
        b.iter(|| g.records().map(|r| r[0]).sum::<u64>())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
