//! The three compute parties as separate OS processes on loopback, over mutually authenticated
//! TLS (this bench binary re-executes itself as each party): multiplication and comparison
//! throughput, and end-to-end queries — holders encode, share and send their rows, the parties
//! evaluate, the recipient reconstructs.
//!
//! `cargo bench --bench mpc_net` (rows: `TRUSTSPACE_BENCH_ROWS=10000,100000,1000000`;
//! comorbidity rows: `TRUSTSPACE_BENCH_COHORT=32768,131072`; HHI rows: `TRUSTSPACE_BENCH_HHI=100000`)

mod common;

use common::net::{Deployment, generated, spec};
use common::sizes_from;
use criterion::{BenchmarkId, Criterion, Throughput};
use trustspace::data::synth::Table;
use trustspace::mpc::engine::Mode;
use trustspace::mpc::query::Strategy;

fn benches(c: &mut Criterion) {
    let mut d = Deployment::start();

    let mut g = c.benchmark_group("mpc_net/ops");
    g.sample_size(10);
    for n in sizes_from("TRUSTSPACE_BENCH_OPS", &[1_000_000]) {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("multiply", n), |b| {
            b.iter_custom(|iters| d.op("mul", n, iters))
        });
        g.bench_function(BenchmarkId::new("less_than", n), |b| {
            b.iter_custom(|iters| d.op("lt", n, iters))
        });
        g.bench_function(BenchmarkId::new("less_than_malicious", n), |b| {
            b.iter_custom(|iters| d.op("lt_checked", n, iters))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("mpc_net/sum_count_avg_where");
    g.sample_size(10);
    let sql =
        "SELECT COUNT(*), SUM(cost), AVG(cost) FROM encounters WHERE age >= 65 AND consent = true";
    for n in sizes_from("TRUSTSPACE_BENCH_ROWS", &[10_000, 100_000, 1_000_000]) {
        let (schema, holders) = generated(Table::Encounters, n);
        g.throughput(Throughput::Elements(n as u64));
        for (name, strategy, mode) in [
            ("rows", Strategy::Rows, Mode::SemiHonest),
            ("rows_malicious", Strategy::Rows, Mode::Malicious),
            ("partials", Strategy::Partials, Mode::SemiHonest),
        ] {
            if mode == Mode::Malicious && n > 100_000 {
                continue;
            }
            let mut q = spec(&schema, sql, strategy);
            q.mode = mode;
            g.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| d.query(&q, &holders)).sum())
            });
        }
    }
    g.finish();

    // SMCQL/Secrecy comorbidity: the ten most frequent diagnoses of the cohort's diagnosis rows
    // (all 1,957 ICD-10-CM categories are groups; ranking is in MPC, only the top ten open).
    let mut g = c.benchmark_group("mpc_net/comorbidity");
    g.sample_size(10);
    let sql = "SELECT diagnosis, COUNT(*) AS n FROM diagnoses GROUP BY diagnosis ORDER BY n DESC LIMIT 10";
    for n in sizes_from("TRUSTSPACE_BENCH_COHORT", &[32_768, 131_072]) {
        let (schema, holders) = generated(Table::Diagnoses, n);
        let q = spec(&schema, sql, Strategy::Partials);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("partials", n), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| d.query(&q, &holders)).sum())
        });
    }
    g.finish();

    // Market concentration: HHI over per-company revenue summed across the holders (10 rows per
    // company in the generated table); only the index and the market total open.
    let mut g = c.benchmark_group("mpc_net/hhi");
    g.sample_size(10);
    for n in sizes_from("TRUSTSPACE_BENCH_HHI", &[100_000]) {
        let (schema, holders) = generated(Table::Revenues, n);
        let sql = format!(
            "SELECT HHI(revenue, company, {}, 10000.00) FROM revenues",
            (n / 10).max(5)
        );
        let q = spec(&schema, &sql, Strategy::Partials);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("partials", n), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| d.query(&q, &holders)).sum())
        });
    }
    g.finish();
}

fn main() {
    if common::net::run_party_if_child() {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
