//! Three MPC compute parties as separate OS processes on loopback, over mutually authenticated
//! TLS: the bench binary re-executes itself as each party ([`run_party_if_child`] at the top of
//! its `main`), and the driver talks to them as a client.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::data::{Record, Schema};
use trustspace::mpc::engine::{Mode, Party};
use trustspace::mpc::pki::keygen;
use trustspace::mpc::query::Strategy;
use trustspace::mpc::service::{PartyService, QuerySpec, participate};
use trustspace::mpc::share::Kind;
use trustspace::mpc::transport::tls::{ClientLink, ClientLinkConfig, PartyConfig, TlsTransport};

/// Set in a child process: `CONFIG_PATH` of the party it runs.
const PARTY_ENV: &str = "TRUSTSPACE_MPC_BENCH_PARTY";
/// Client names of the three data holders; the first receives the results.
const HOLDERS: [&str; 3] = ["holder-a", "holder-b", "holder-c"];

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
                let mut service = PartyService::with_mesh(&cfg, net, Duration::from_secs(600));
                service.serve().expect("session");
                net = service
                    .into_mesh()
                    .expect("the mesh outlives a successful session");
            }
            other => panic!("unknown op {other}"),
        }
    }
}

/// Three party processes and the driver's links to them.
pub struct Deployment {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    addrs: Vec<String>,
    children: Vec<Child>,
    links: Vec<ClientLink>,
}

impl Deployment {
    /// Generates the TLS keys and starts the three party processes.
    pub fn start() -> Deployment {
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
    pub fn op(&mut self, op: &str, n: usize, iters: u64) -> Duration {
        self.tell(&json!({"op": op, "n": n, "iters": iters}));
        self.wait();
        let t = Instant::now();
        self.tell(&json!({"go": true}));
        self.wait();
        t.elapsed()
    }

    /// Wall time of one networked session: every holder shares its rows, the recipient
    /// (the first holder) reconstructs the result.
    pub fn query(&mut self, spec: &QuerySpec, holders: &[Vec<Record>]) -> Duration {
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

/// `rows` generated rows of `table`, split across the three holders.
pub fn generated(table: Table, rows: usize) -> (Schema, Vec<Vec<Record>>) {
    let mut spec = Spec::new(table, rows as u64, 5);
    spec.holders = 3;
    let g = Generator::new(spec).expect("generator");
    let holders = (0..3).map(|h| g.holder_records(h).collect()).collect();
    (g.schema().clone(), holders)
}

/// A semi-honest query of the three holders, answered to the first.
pub fn spec(schema: &Schema, sql: &str, strategy: Strategy) -> QuerySpec {
    QuerySpec {
        sql: sql.into(),
        schema: schema.to_toml(),
        holders: HOLDERS.iter().map(|s| s.to_string()).collect(),
        recipients: vec![HOLDERS[0].into()],
        mode: Mode::SemiHonest,
        strategy,
    }
}

/// In a party process (the driver set [`PARTY_ENV`]), runs the party and returns true; the
/// caller's `main` then returns.
pub fn run_party_if_child() -> bool {
    match std::env::var_os(PARTY_ENV) {
        Some(config) => {
            party_main(Path::new(&config));
            true
        }
        None => false,
    }
}
