//! The three-party query service with the parties as real processes on loopback
//! (`mpc-party run` ×3, each test on its own ports): answers equal the in-process engine and a
//! client with a foreign certificate is refused (through `mpc-query`, the binary); a killed party
//! makes the others fail within the timeout; a contested session is refused at once and the next
//! query answers on its first try, round after round; a stopped party is noticed and the others
//! exit promptly (the holders in-process, through the library).

use crate::common::{exe, p, printed, text, timing};
use clap::Parser;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use trustspace_cli::cmd::mpc_query::{self, Answered, SessionFailed};
use trustspace_cli::cmd::{dataspace, mpc_party};
use trustspace_cli::workflow::FileFormat;
use trustspace_data::Schema;
use trustspace_data::synth::{Spec, Table};
use trustspace_mpc::MpcError;
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

/// Generated encounters for three holders, and a deployment with short timeouts; returns the
/// parties' base port.
fn setup(dir: &Path, clients: &[&str]) -> u16 {
    let spec = Spec {
        table: Table::Encounters,
        rows: 1200,
        seed: 1,
        holders: 3,
        violations: 0,
    };
    dataspace::generate(spec, FileFormat::Csv, &dir.join("data"), &mut Vec::new()).unwrap();
    let port = base_port();
    mpc_party::keygen(&dir.join("mpc"), clients, port, 5, &mut Vec::new()).unwrap();
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

fn holders() -> Vec<&'static str> {
    HOLDERS.split(',').collect()
}

fn party(dir: &Path, i: usize) -> Child {
    party_serving(dir, i, Some(1))
}

/// Party `i`, serving `sessions` sessions (or until killed).
fn party_serving(dir: &Path, i: usize, sessions: Option<u64>) -> Child {
    let mut c = Command::new(exe("mpc-party"));
    c.args(["run", "--config", &p(dir, &format!("mpc/party-{i}.json"))]);
    if let Some(n) = sessions {
        c.args(["--sessions", &n.to_string()]);
    }
    c.args(["--join-timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn config(dir: &Path, h: usize) -> String {
    p(dir, &format!("mpc/hospital-{}.json", ["a", "b", "c"][h]))
}

/// `mpc-query` arguments for holder `h` (or a client of `config` holding no data).
fn query_args(
    dir: &Path,
    config: &str,
    holder: Option<usize>,
    sql: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut a: Vec<String> = [
        "--config",
        config,
        "--schema",
        &p(dir, "data/encounters.schema.toml"),
        "--sql",
        sql,
        "--holders",
        HOLDERS,
        "--recipients",
        "hospital-a",
    ]
    .map(String::from)
    .to_vec();
    a.extend(extra.iter().map(|s| s.to_string()));
    if let Some(h) = holder {
        a.extend([
            "--data".into(),
            p(dir, &format!("data/encounters-holder{h}.csv")),
        ]);
    }
    a
}

/// `mpc-query` as a process.
fn query(dir: &Path, config: &str, holder: Option<usize>, sql: &str, extra: &[&str]) -> Child {
    Command::new(exe("mpc-query"))
        .args(query_args(dir, config, holder, sql, extra))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Each holder's `mpc-query` in-process, all at once: their results and what they printed.
fn query_all(
    dir: &Path,
    sql: impl Fn(usize) -> &'static str,
    extra: &[&str],
) -> Vec<(anyhow::Result<Answered>, String)> {
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..3)
            .map(|h| {
                let args = query_args(dir, &config(dir, h), Some(h), sql(h), extra);
                s.spawn(move || {
                    let cli = mpc_query::Cli::try_parse_from(
                        std::iter::once("mpc-query".to_string()).chain(args),
                    )
                    .unwrap();
                    let mut out = Vec::new();
                    let r = mpc_query::run(&cli, &mut out);
                    (r, printed(&out))
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// The session failure of an in-process query.
fn session_failure(r: &anyhow::Result<Answered>) -> &SessionFailed {
    match r {
        Err(e) => e
            .downcast_ref::<SessionFailed>()
            .unwrap_or_else(|| panic!("not a session failure: {e:#}")),
        Ok(a) => panic!("answered: {a:?}"),
    }
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
    let port = setup(dir, &holders());
    // A second consortium whose "hospital-a" the parties must not accept.
    mpc_party::keygen(
        &dir.join("other"),
        &["hospital-a"],
        port,
        120,
        &mut Vec::new(),
    )
    .unwrap();
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
            .map(|h| query(dir, &config(dir, h), Some(h), sql, &extra))
            .collect();
        let outs: Vec<Output> = qs
            .into_iter()
            .map(|q| finish(q, Duration::from_secs(120)))
            .collect();
        for o in &outs {
            assert_eq!(o.status.code(), Some(0), "{}", text(o));
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
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
            // The parties log the query and row counts, never the result.
            assert!(!text(&o).contains(&want.rows[0][2]), "{}", text(&o));
        }
    }
}

#[test]
fn a_killed_party_makes_the_others_and_the_clients_fail_within_the_timeout() {
    let _timing = timing();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir, &holders());
    let mut parties: Vec<Child> = (0..3).map(|i| party(dir, i)).collect();
    // Let the mesh come up, then kill party 2 (SIGKILL: no goodbye).
    std::thread::sleep(Duration::from_secs(2));
    parties[2].kill().unwrap();
    parties[2].wait().unwrap();
    let t = Instant::now();
    let results = query_all(dir, |_| "SELECT COUNT(*) FROM encounters", &[]);
    // Each holder fails for a peer's sake (gone, silent, refused), never for its own input.
    for (r, out) in &results {
        let e = r
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("answered: {out}"));
        let cause = e
            .downcast_ref::<SessionFailed>()
            .map(|s| &s.error)
            .or_else(|| e.downcast_ref::<MpcError>());
        assert!(
            matches!(
                cause,
                Some(
                    MpcError::Disconnected { .. }
                        | MpcError::Timeout { .. }
                        | MpcError::Tls { .. }
                        | MpcError::Remote { .. }
                        | MpcError::Aborted { .. }
                )
            ),
            "{e:#}"
        );
    }
    // Both survivors fail (exit 1) for a peer's sake. The first to notice names party-2; the
    // other may instead see that survivor leave first (the failure cascades), so it names
    // either peer, never itself.
    let mut named_killed = 0;
    for (i, party) in parties.drain(..2).enumerate() {
        let o = finish(party, Duration::from_secs(30));
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        let other = format!("party-{}", 1 - i);
        assert!(out.contains("party-2") || out.contains(&other), "{out}");
        named_killed += usize::from(out.contains("party-2"));
    }
    assert!(named_killed >= 1, "no survivor named the killed party");
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
}

/// Rounds of the contested-session soak (`TRUSTSPACE_MPC_SOAK_ROUNDS`, default 50).
fn soak_rounds() -> usize {
    std::env::var("TRUSTSPACE_MPC_SOAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

#[test]
fn contested_sessions_are_refused_at_once_and_never_leave_a_wrong_answer_behind() {
    let _timing = timing();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir, &holders());
    let parties: Vec<Child> = (0..3).map(|i| party_serving(dir, i, None)).collect();
    let all = "SELECT COUNT(*) AS n FROM encounters";
    let filtered = "SELECT COUNT(*) AS n FROM encounters WHERE age > 50";
    for round in 0..soak_rounds() {
        let mode = if round % 2 == 0 {
            "semi-honest"
        } else {
            "malicious"
        };
        let extra = ["--mode", mode, "--json"];
        // hospital-c asks another query than hospitals a and b.
        let start = Instant::now();
        let contested = query_all(dir, |h| if h == 2 { filtered } else { all }, &extra);
        for (h, (r, _)) in contested.iter().enumerate() {
            let f = session_failure(r);
            assert_eq!(
                mpc_query::exit_code(r.as_ref().unwrap_err()).0,
                1,
                "round {round}: {f}"
            );
            let MpcError::Contested { disagreeing, .. } = &f.error else {
                panic!("round {round}: not contested: {f}");
            };
            if h < 2 {
                assert_eq!(disagreeing, &["hospital-c"], "round {round}: {f}");
            } else {
                let mut d = disagreeing.clone();
                d.sort();
                assert_eq!(d, ["hospital-a", "hospital-b"], "round {round}: {f}");
            }
        }
        // A contest, not a timeout, ended it (the in-process test of the service pins the
        // 1 s bound).
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        // The correct query, once, answers 1200 on its first try.
        let answered = query_all(dir, |_| all, &extra);
        for (r, out) in &answered {
            assert!(r.is_ok(), "round {round}: {out} {:?}", r.as_ref().err());
        }
        let Ok(Answered::Result(result)) = &answered[0].0 else {
            panic!("round {round}: hospital-a got no result");
        };
        assert_eq!(result.rows, [["1200"]], "round {round}");
        let got: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(&answered[0].1).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["n"], "1200", "round {round}");
    }
    for mut party in parties {
        assert!(party.try_wait().unwrap().is_none(), "a party stopped");
        party.kill().unwrap();
        let o = party.wait_with_output().unwrap();
        assert!(!text(&o).contains("inconsistent"), "{}", text(&o));
    }
}

#[test]
fn a_stopped_party_is_noticed_and_the_others_exit_promptly() {
    let _timing = timing();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir, &holders());
    let mut parties: Vec<Child> = (0..3).map(|i| party(dir, i)).collect();
    std::thread::sleep(Duration::from_secs(2));
    // SIGSTOP: the process keeps its sockets open but answers nothing.
    let pid = parties[2].id().to_string();
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let t = Instant::now();
    let holders = std::thread::spawn({
        let dir = dir.to_path_buf();
        move || query_all(&dir, |_| "SELECT COUNT(*) FROM encounters", &[])
    });
    // Parties 0 and 1 notice party 2's silence at their 5 s timeout and exit within about a
    // second of it (no lingering on the stopped peer's sockets).
    for party in parties.drain(..2) {
        let o = finish(party, Duration::from_secs(30));
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("party-2"), "{}", text(&o));
    }
    let took = t.elapsed();
    assert!(took < Duration::from_secs(8), "{took:?}");
    // The holders cannot finish a handshake with party 2 and say so.
    for (r, out) in holders.join().unwrap() {
        let e = r
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("answered: {out}"));
        assert!(
            matches!(e.downcast_ref(), Some(MpcError::Tls { peer, .. }) if peer.to_string() == "party-2"),
            "{e:#}"
        );
        assert_eq!(mpc_query::exit_code(e).0, 2, "{e:#}");
    }
    let mut stopped = parties.pop().unwrap();
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    stopped.kill().unwrap();
    stopped.wait().unwrap();
}
