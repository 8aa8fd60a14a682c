//! The three compute parties as separate OS processes on loopback, over mutually authenticated
//! TLS (this bench binary re-executes itself as each party): multiplication and comparison
//! throughput, and end-to-end queries — holders encode, share and send their rows, the parties
//! evaluate, the recipient reconstructs.
//!
//! `cargo bench --bench mpc_net` (rows: `TRUSTSPACE_BENCH_ROWS=10000,100000,1000000`;
//! comorbidity rows: `TRUSTSPACE_BENCH_COHORT=32768,131072`; HHI rows: `TRUSTSPACE_BENCH_HHI=100000`)

use criterion::{BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::data::{Record, Schema};
use trustspace::mpc::engine::{Mode, Party};
use trustspace::mpc::query::Strategy;
use trustspace::mpc::service::{QuerySpec, participate, serve_session};
use trustspace::mpc::share::Kind;
use trustspace::mpc::transport::tls::{
    ClientLink, ClientLinkConfig, PartyConfig, TlsTransport, keygen,
};

/// Set in a child process: `CONFIG_PATH` of the party it runs.
const PARTY_ENV: &str = "TRUSTSPACE_MPC_BENCH_PARTY";
const HOLDERS: [&str; 3] = ["hospital-a", "hospital-b", "hospital-c"];

fn sizes(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// A party process: builds the mesh, takes commands from the bench driver (a client).
fn party_main(config: &Path) {
    let cfg = PartyConfig::load(config).expect("party config");
    let mut net = TlsTransport::connect(&cfg).expect("mesh");
    let mut ctl = net
        .accept_client(Duration::from_secs(60))
        .expect("driver connects");
    ctl.set_timeout(Duration::from_secs(3600));
    let reply =
        |ctl: &mut ClientLink, v: Value| ctl.send(v.to_string().into_bytes()).expect("reply");
    loop {
        let cmd: Value = match ctl.recv() {
            Ok(b) => serde_json::from_slice(&b).expect("command"),
            Err(_) => return, // the driver is gone
        };
        match cmd["op"].as_str().expect("op") {
            "mul" | "lt" | "lt_checked" => {
                let n = cmd["n"].as_u64().expect("n") as usize;
                let iters = cmd["iters"].as_u64().expect("iters");
                let mode = if cmd["op"] == "lt_checked" {
                    Mode::Malicious
                } else {
                    Mode::SemiHonest
                };
                let mut p = Party::new(&mut net, mode).expect("party");
                let mut rng = ChaCha20Rng::seed_from_u64(7);
                let lim = 1i64 << 40;
                let vals: Vec<u64> = (0..n).map(|_| rng.gen_range(-lim..lim) as u64).collect();
                let mine = (p.me() == 0).then_some(vals.as_slice());
                let x = p.input(Kind::Arithmetic, 0, mine, n).expect("input");
                let y = p.input(Kind::Arithmetic, 0, mine, n).expect("input");
                reply(&mut ctl, json!({"ready": true}));
                let _go = ctl.recv().expect("go");
                for _ in 0..iters {
                    if cmd["op"] == "mul" {
                        p.mul(&x, &y).expect("mul");
                    } else {
                        p.less_than(&x, &y).expect("less_than");
                        // Malicious mode: the comparison's ANDs and products are checked.
                        p.verify().expect("verify");
                    }
                }
                reply(&mut ctl, json!({"done": true}));
            }
            "query" => {
                reply(&mut ctl, json!({"ready": true}));
                serve_session(&mut net, Duration::from_secs(600)).expect("session");
            }
            other => panic!("unknown op {other}"),
        }
    }
}

/// Three party processes and the driver's links to them.
struct Deployment {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    addrs: Vec<String>,
    children: Vec<Child>,
    links: Vec<ClientLink>,
}

impl Deployment {
    fn start() -> Deployment {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let mut clients = vec!["driver"];
        clients.extend(HOLDERS);
        keygen(&dir, 3, &clients).expect("keygen");
        let held: Vec<std::net::TcpListener> = (0..3)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("loopback"))
            .collect();
        let addrs: Vec<String> = held
            .iter()
            .map(|l| l.local_addr().expect("addr").to_string())
            .collect();
        drop(held);
        let exe = std::env::current_exe().expect("own path");
        let children = (0..3)
            .map(|i| {
                let cfg = PartyConfig::for_dir(&dir, i, &addrs, 600);
                let path = dir.join(format!("party-{i}.json"));
                std::fs::write(&path, serde_json::to_vec(&cfg).expect("json")).expect("write");
                Command::new(&exe)
                    .env(PARTY_ENV, &path)
                    .spawn()
                    .expect("spawn party")
            })
            .collect();
        let driver = ClientLinkConfig::for_dir(&dir, "driver", &addrs, 3600);
        let links = (0..3)
            .map(|i| ClientLink::connect(&driver, i).expect("driver link"))
            .collect();
        Deployment {
            _tmp: tmp,
            dir,
            addrs,
            children,
            links,
        }
    }

    fn tell(&mut self, v: &Value) {
        for l in &mut self.links {
            l.send(v.to_string().into_bytes()).expect("command");
        }
    }

    fn wait(&mut self) {
        for l in &mut self.links {
            l.recv().expect("party answers");
        }
    }

    /// Wall time of `iters` operations on `n` elements (after the inputs are shared).
    fn op(&mut self, op: &str, n: usize, iters: u64) -> Duration {
        self.tell(&json!({"op": op, "n": n, "iters": iters}));
        self.wait();
        let t = Instant::now();
        self.tell(&json!({"go": true}));
        self.wait();
        t.elapsed()
    }

    /// Wall time of one networked session: every holder shares its rows, the recipient
    /// (hospital-a) reconstructs the result.
    fn query(&mut self, spec: &QuerySpec, holders: &[Vec<Record>]) -> Duration {
        self.tell(&json!({"op": "query"}));
        self.wait();
        let t = Instant::now();
        std::thread::scope(|s| {
            let hs: Vec<_> = HOLDERS
                .iter()
                .zip(holders)
                .map(|(name, rows)| {
                    let cfg = ClientLinkConfig::for_dir(&self.dir, name, &self.addrs, 600);
                    s.spawn(move || participate(&cfg, spec, Some(rows)).expect("session"))
                })
                .collect();
            let out: Vec<_> = hs.into_iter().map(|h| h.join().expect("holder")).collect();
            assert!(out[0].as_ref().is_some_and(|r| !r.rows.is_empty()));
        });
        t.elapsed()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.links.clear();
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn generated(table: Table, rows: usize) -> (Schema, Vec<Vec<Record>>) {
    let mut spec = Spec::new(table, rows as u64, 5);
    spec.holders = 3;
    let g = Generator::new(spec).expect("generator");
    let holders = (0..3).map(|h| g.holder_records(h).collect()).collect();
    (g.schema().clone(), holders)
}

fn spec(schema: &Schema, sql: &str, strategy: Strategy) -> QuerySpec {
    QuerySpec {
        sql: sql.into(),
        schema: schema.to_toml(),
        holders: HOLDERS.iter().map(|s| s.to_string()).collect(),
        recipients: vec!["hospital-a".into()],
        mode: Mode::SemiHonest,
        strategy,
    }
}

fn benches(c: &mut Criterion) {
    let mut d = Deployment::start();

    let mut g = c.benchmark_group("mpc_net/ops");
    g.sample_size(10);
    for n in sizes("TRUSTSPACE_BENCH_OPS", &[1_000_000]) {
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
    for n in sizes("TRUSTSPACE_BENCH_ROWS", &[10_000, 100_000, 1_000_000]) {
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
    for n in sizes("TRUSTSPACE_BENCH_COHORT", &[32_768, 131_072]) {
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
    for n in sizes("TRUSTSPACE_BENCH_HHI", &[100_000]) {
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
    if let Some(config) = std::env::var_os(PARTY_ENV) {
        party_main(Path::new(&config));
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
