//! Secret-shared computation, three parties as threads over the in-process transport (the
//! networked deployment adds the TLS links): multiplication and comparison throughput, and
//! SQL aggregates with a WHERE filter.
//!
//! `cargo bench --bench mpc` (rows: `TRUSTSPACE_BENCH_ROWS=10000,100000`)

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::time::{Duration, Instant};
use trustspace::data::Record;
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::mpc::engine::{Mode, Party};
use trustspace::mpc::query::{Strategy, run_local};
use trustspace::mpc::share::{Kind, Shares, split};
use trustspace::mpc::transport::memory;

fn sizes(default: &[usize]) -> Vec<usize> {
    std::env::var("TRUSTSPACE_BENCH_ROWS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// Time of `op` at three parties (the slowest), on fresh shares of `n` random values.
fn three(
    n: usize,
    mode: Mode,
    op: fn(&mut Party<memory::MemoryTransport>, &Shares, &Shares),
) -> Duration {
    let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
    let lim = 1i64 << 40;
    let x: Vec<u64> = (0..n).map(|_| rng.gen_range(-lim..lim) as u64).collect();
    let y: Vec<u64> = (0..n).map(|_| rng.gen_range(-lim..lim) as u64).collect();
    let (sx, sy) = (
        split(Kind::Arithmetic, &x, &mut rng),
        split(Kind::Arithmetic, &y, &mut rng),
    );
    std::thread::scope(|s| {
        let handles: Vec<_> = memory::mesh(Duration::from_secs(600))
            .into_iter()
            .enumerate()
            .map(|(i, net)| {
                let (a, b) = (&sx[i], &sy[i]);
                s.spawn(move || {
                    let mut p = Party::new(net, mode).expect("set-up");
                    let t = Instant::now();
                    op(&mut p, a, b);
                    t.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("party"))
            .max()
            .expect("three")
    })
}

fn primitives(c: &mut Criterion) {
    let mut g = c.benchmark_group("mpc_primitives");
    g.sample_size(10);
    for n in [100_000usize, 1_000_000] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("multiply", n), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        three(n, Mode::SemiHonest, |p, a, b| {
                            drop(p.mul(a, b).expect("mul"))
                        })
                    })
                    .sum()
            })
        });
        g.bench_function(BenchmarkId::new("less_than", n), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        three(n, Mode::SemiHonest, |p, a, b| {
                            drop(p.less_than(a, b).expect("lt"))
                        })
                    })
                    .sum()
            })
        });
    }
    g.finish();
}

fn queries(c: &mut Criterion) {
    let mut g = c.benchmark_group("mpc_sql");
    g.sample_size(10);
    for n in sizes(&[10_000, 100_000]) {
        let mut spec = Spec::new(Table::Encounters, n as u64, 5);
        spec.holders = 3;
        let generator = Generator::new(spec).expect("spec");
        let schema = generator.schema().clone();
        let holders: Vec<Vec<Record>> = (0..3)
            .map(|h| generator.holder_records(h).collect())
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        for (name, sql) in [(
            "sum_count_avg_where",
            "SELECT SUM(cost), COUNT(*), AVG(cost) FROM encounters WHERE age >= 65 AND length_of_stay > 3",
        )] {
            for (mode, label) in [
                (Mode::SemiHonest, "semi_honest"),
                (Mode::Malicious, "malicious"),
            ] {
                g.bench_function(BenchmarkId::new(format!("{name}/{label}"), n), |b| {
                    b.iter(|| {
                        run_local(&schema, &holders, sql, mode, Strategy::Rows).expect("query")
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, primitives, queries);
criterion_main!(benches);
