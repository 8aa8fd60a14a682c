//! The three-party query service as real processes on loopback: `mpc-party` ×3 and `mpc-query`
//! per participant. Answers equal the in-process engine; a client with a foreign certificate is
//! refused; a killed party makes the others fail within the timeout.

mod common;

use common::{exe, ok, p, run};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use trustspace_data::Schema;
use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::{Strategy, run_local};

const HOLDERS: &str = "hospital-a,hospital-b,hospital-c";

/// A base port with three free consecutive loopback ports after it.
fn base_port() -> u16 {
    for _ in 0..200 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = l.local_addr().unwrap().port();
        drop(l);
        if base > 65000 {
            continue;
        }
        if (0..3).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no three free consecutive ports");
}

/// Generated encounters for three holders, and a deployment with short timeouts.
fn setup(dir: &Path, clients: &str) -> String {
    ok(run(
        "dataspace",
        &[
            "gen",
            "--table",
            "encounters",
            "--rows",
            "1200",
            "--holders",
            "3",
            "--out",
            &p(dir, "data"),
        ],
    ));
    let port = base_port().to_string();
    ok(run(
        "mpc-party",
        &[
            "keygen",
            "--dir",
            &p(dir, "mpc"),
            "--clients",
            clients,
            "--base-port",
            &port,
            "--timeout",
            "5",
        ],
    ));
    // Clients give up on an unreachable party after 3 s.
    for entry in std::fs::read_dir(dir.join("mpc")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let mut v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            v["connect_timeout_secs"] = 3.into();
            std::fs::write(&path, v.to_string()).unwrap();
        }
    }
    port
}

fn party(dir: &Path, i: usize) -> Child {
    Command::new(exe("mpc-party"))
        .args([
            "run",
            "--config",
            &p(dir, &format!("mpc/party-{i}.json")),
            "--sessions",
            "1",
        ])
        .args(["--join-timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn query(dir: &Path, config: &str, holder: Option<usize>, sql: &str, extra: &[&str]) -> Child {
    let mut c = Command::new(exe("mpc-query"));
    c.args(["--config", config])
        .args(["--schema", &p(dir, "data/encounters.schema.toml")])
        .args([
            "--sql",
            sql,
            "--holders",
            HOLDERS,
            "--recipients",
            "hospital-a",
        ])
        .args(extra);
    if let Some(h) = holder {
        c.args(["--data", &p(dir, &format!("data/encounters-holder{h}.csv"))]);
    }
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Waits for a child at most `limit`; kills it and fails if it is still running.
fn finish(mut c: Child, limit: Duration) -> Output {
    let t = Instant::now();
    while c.try_wait().unwrap().is_none() {
        if t.elapsed() > limit {
            c.kill().unwrap();
            panic!(
                "process still running after {limit:?}: {}",
                text(&c.wait_with_output().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    c.wait_with_output().unwrap()
}

#[test]
fn three_party_processes_answer_like_the_engine_and_refuse_a_foreign_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let port = setup(dir, HOLDERS);
    // A second consortium whose "hospital-a" the parties must not accept.
    ok(run(
        "mpc-party",
        &[
            "keygen",
            "--dir",
            &p(dir, "other"),
            "--clients",
            "hospital-a",
            "--base-port",
            &port,
        ],
    ));
    let sql = "SELECT medication, COUNT(*) AS n, AVG(cost), MIN(age) FROM encounters \
               WHERE age >= 40 AND consent = true GROUP BY medication HAVING COUNT(*) > 4 \
               ORDER BY n DESC LIMIT 5";
    let schema_text = std::fs::read_to_string(dir.join("data/encounters.schema.toml")).unwrap();
    let schema = Schema::from_toml(&schema_text, "schema").unwrap();
    let holders: Vec<Vec<_>> = (0..3)
        .map(|h| {
            trustspace_data::load::open(
                &dir.join(format!("data/encounters-holder{h}.csv")),
                &schema,
            )
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
        })
        .collect();
    let want = run_local(&schema, &holders, sql, Mode::Malicious, Strategy::Rows).unwrap();
    for strategy in ["rows", "partials"] {
        let parties: Vec<Child> = (0..3).map(|i| party(dir, i)).collect();
        if strategy == "rows" {
            let impostor = query(dir, &p(dir, "other/hospital-a.json"), Some(0), sql, &[]);
            let o = finish(impostor, Duration::from_secs(30));
            assert_eq!(o.status.code(), Some(2), "{}", text(&o));
            assert!(text(&o).contains("TLS"), "{}", text(&o));
        }
        let extra = ["--mode", "malicious", "--strategy", strategy, "--json"];
        let qs: Vec<Child> = (0..3)
            .map(|h| {
                let cfg = p(dir, &format!("mpc/hospital-{}.json", ["a", "b", "c"][h]));
                query(dir, &cfg, Some(h), sql, &extra)
            })
            .collect();
        let outs: Vec<Output> = qs
            .into_iter()
            .map(|q| finish(q, Duration::from_secs(120)))
            .collect();
        for o in &outs {
            assert!(o.status.success(), "{}", text(o));
        }
        let got: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_slice(&outs[0].stdout).unwrap();
        let got_rows: Vec<Vec<String>> = got
            .iter()
            .map(|r| {
                want.columns
                    .iter()
                    .map(|c| r[c].as_str().unwrap().to_string())
                    .collect()
            })
            .collect();
        assert_eq!(got_rows, want.rows, "{strategy}");
        assert!(text(&outs[1]).contains("the result went to hospital-a"));
        for party in parties {
            let o = finish(party, Duration::from_secs(30));
            assert!(o.status.success(), "{}", text(&o));
            // The parties log the query and row counts, never the result.
            assert!(!text(&o).contains(&want.rows[0][2]), "{}", text(&o));
        }
    }
}

#[test]
fn a_killed_party_makes_the_others_and_the_clients_fail_within_the_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir, HOLDERS);
    let mut parties: Vec<Child> = (0..3).map(|i| party(dir, i)).collect();
    // Let the mesh come up, then kill party 2 (SIGKILL: no goodbye).
    std::thread::sleep(Duration::from_secs(2));
    parties[2].kill().unwrap();
    parties[2].wait().unwrap();
    let t = Instant::now();
    let sql = "SELECT COUNT(*) FROM encounters";
    let qs: Vec<Child> = (0..3)
        .map(|h| {
            let cfg = p(dir, &format!("mpc/hospital-{}.json", ["a", "b", "c"][h]));
            query(dir, &cfg, Some(h), sql, &[])
        })
        .collect();
    for q in qs {
        let o = finish(q, Duration::from_secs(30));
        assert!(!o.status.success(), "{}", text(&o));
    }
    for party in parties.drain(..2) {
        let o = finish(party, Duration::from_secs(30));
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("party-2"), "{}", text(&o));
    }
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
}
