//! Networked sessions over mutually authenticated TLS on loopback (the three parties as threads
//! here; crates/cli/tests/mpc.rs runs them as processes): answers equal the in-process engine,
//! bad clients are refused while the session goes on, a dead party fails the others, and
//! tampered shares are caught.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use trustspace_data::Record;
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_mpc::engine::{Mode, Party};
use trustspace_mpc::query::{
    self, SharedTable, Strategy, contribute, evaluate, format, open_output,
};
use trustspace_mpc::service::{PartyService, QuerySpec, SessionReport, participate};
use trustspace_mpc::transport::memory::mesh;
use trustspace_mpc::transport::tls::{ClientLink, ClientLinkConfig, PartyConfig};
use trustspace_mpc::{Check, MpcError, Peer, TlsStep};

use crate::common::{HOLDERS, consortium, free_addrs};

fn encounters(rows: usize) -> (trustspace_data::Schema, Vec<Vec<Record>>) {
    let mut spec = Spec::new(Table::Encounters, rows as u64, 9);
    spec.holders = 3;
    let g = Generator::new(spec).unwrap();
    let holders = (0..3).map(|h| g.holder_records(h).collect()).collect();
    (g.schema().clone(), holders)
}

fn spec(schema: &trustspace_data::Schema, sql: &str, mode: Mode, strategy: Strategy) -> QuerySpec {
    QuerySpec {
        sql: sql.into(),
        schema: schema.to_toml(),
        holders: HOLDERS.iter().map(|s| s.to_string()).collect(),
        recipients: vec!["hospital-a".into(), "analyst".into()],
        mode,
        strategy,
    }
}

fn client(dir: &Path, name: &str, addrs: &[String]) -> ClientLinkConfig {
    let mut c = ClientLinkConfig::for_dir(dir, name, addrs, 20);
    c.connect_timeout_secs = 5;
    c
}

/// A holder joining `q` with its rows, on its own thread.
fn holder(
    dir: &Path,
    name: &str,
    addrs: &[String],
    q: &QuerySpec,
    rows: &[Record],
) -> thread::JoinHandle<Result<Option<query::QueryResult>, MpcError>> {
    let (cfg, q, r) = (client(dir, name, addrs), q.clone(), rows.to_vec());
    thread::spawn(move || participate(&cfg, &q, Some(&r)))
}

/// Starts three parties (threads), each serving one session.
fn parties(
    dir: &Path,
    addrs: &[String],
    join: Duration,
) -> Vec<thread::JoinHandle<Result<SessionReport, MpcError>>> {
    (0..3)
        .map(|i| {
            let mut cfg = PartyConfig::for_dir(dir, i, addrs, 10);
            cfg.connect_timeout_secs = 10;
            thread::spawn(move || PartyService::start(&cfg, join)?.serve())
        })
        .collect()
}

#[test]
fn a_networked_session_answers_like_the_engine_and_only_recipients_get_it() {
    let (dir, addrs) = (consortium(), free_addrs());
    let (schema, rows) = encounters(900);
    let sql = "SELECT medication, COUNT(*) AS n, AVG(cost), MAX(age) FROM encounters \
               WHERE age BETWEEN 30 AND 70 AND consent = true GROUP BY medication \
               HAVING COUNT(*) > 3 ORDER BY n DESC LIMIT 4";
    for (mode, strategy) in [
        (Mode::SemiHonest, Strategy::Partials),
        (Mode::Malicious, Strategy::Rows),
    ] {
        let want = query::run_local(&schema, &rows, sql, mode, strategy).unwrap();
        assert!(!want.rows.is_empty());
        let ps = parties(dir, &addrs, Duration::from_secs(30));
        let q = spec(&schema, sql, mode, strategy);
        let clients: Vec<_> = HOLDERS
            .iter()
            .enumerate()
            .map(|(h, name)| holder(dir, name, &addrs, &q, &rows[h]))
            .collect();
        let analyst = participate(&client(dir, "analyst", &addrs), &q, None).unwrap();
        let got: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        assert_eq!(
            got[0].as_ref().unwrap().as_ref(),
            Some(&want),
            "recipient holder"
        );
        assert_eq!(
            got[1].as_ref().unwrap(),
            &None,
            "holders that are not recipients"
        );
        assert_eq!(got[2].as_ref().unwrap(), &None);
        assert_eq!(analyst.as_ref(), Some(&want));
        for p in ps {
            let r = p.join().unwrap().unwrap();
            assert_eq!(r.holders.iter().map(|h| h.1).sum::<u64>(), 900);
        }
    }
}

#[test]
fn strangers_and_malformed_joins_are_refused_and_the_session_goes_on() {
    let (dir, addrs) = (consortium(), free_addrs());
    let (schema, rows) = encounters(300);
    let q = spec(
        &schema,
        "SELECT COUNT(*), SUM(cost) FROM encounters",
        Mode::SemiHonest,
        Strategy::Partials,
    );
    let ps = parties(dir, &addrs, Duration::from_secs(30));
    let first = holder(dir, "hospital-a", &addrs, &q, &rows[0]);
    // A client the query does not name is refused before it connects.
    match participate(&client(dir, "mallory", &addrs), &q, None) {
        Err(MpcError::NotParticipant { name }) => assert_eq!(name, "mallory"),
        r => panic!("{r:?}"),
    }
    // Mallory names herself in a copy of the query: the session she asks for is another one,
    // which waits for its own participants and does not disturb the real one.
    let mut q_mallory = q.clone();
    q_mallory.recipients.push("mallory".into());
    let mallory = {
        let cfg = client(dir, "mallory", &addrs);
        thread::spawn(move || participate(&cfg, &q_mallory, None))
    };
    // Garbage instead of a join.
    let mut raw = ClientLink::connect(&client(dir, "analyst", &addrs), 0).unwrap();
    raw.send(b"\x00\xffnot json".to_vec()).unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&raw.recv().unwrap()).unwrap();
    assert_eq!(answer["type"], "error", "{answer}");
    let reason = answer["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("not a control message"), "{answer}");
    drop(raw);
    // The named participants complete the session.
    let rest: Vec<_> = [1, 2]
        .into_iter()
        .map(|h| holder(dir, HOLDERS[h], &addrs, &q, &rows[h]))
        .collect();
    let got = participate(&client(dir, "analyst", &addrs), &q, None).unwrap();
    let want = query::run_local(&schema, &rows, &q.sql, Mode::SemiHonest, Strategy::Rows).unwrap();
    assert_eq!(got, Some(want));
    first.join().unwrap().unwrap();
    for r in rest {
        r.join().unwrap().unwrap();
    }
    for p in ps {
        p.join().unwrap().unwrap();
    }
    // The parties served their one session and left: Mallory's never started.
    match mallory.join().unwrap() {
        Err(MpcError::Disconnected { .. } | MpcError::Remote { .. }) => {}
        r => panic!("mallory: {r:?}"),
    }
}

/// Three parties (threads) serving until each has answered `answered` sessions, returning
/// every outcome. (A party whose clients all left on another party's refusal saw no contest
/// and has nothing to report for it.)
fn services(
    dir: &Path,
    addrs: &[String],
    join: Duration,
    answered: usize,
) -> Vec<thread::JoinHandle<Vec<Result<SessionReport, MpcError>>>> {
    (0..3)
        .map(|i| {
            let mut cfg = PartyConfig::for_dir(dir, i, addrs, 10);
            cfg.connect_timeout_secs = 10;
            thread::spawn(move || {
                let mut s = PartyService::start(&cfg, join).unwrap();
                let mut outcomes = Vec::new();
                while outcomes
                    .iter()
                    .filter(|o: &&Result<_, _>| o.is_ok())
                    .count()
                    < answered
                {
                    outcomes.push(s.serve());
                }
                outcomes
            })
        })
        .collect()
}

#[test]
fn a_contested_session_is_refused_at_once_and_the_next_query_answers_on_its_first_try() {
    let (dir, addrs) = (consortium(), free_addrs());
    let (schema, rows) = encounters(300);
    let rounds = 4;
    let ps = services(dir, &addrs, Duration::from_secs(30), rounds);
    for round in 0..rounds {
        let mode = if round % 2 == 0 {
            Mode::SemiHonest
        } else {
            Mode::Malicious
        };
        let mut q = spec(
            &schema,
            "SELECT COUNT(*) AS n FROM encounters",
            mode,
            Strategy::Partials,
        );
        q.recipients = vec!["hospital-a".into(), "hospital-c".into()];
        let mut filtered = q.clone();
        filtered.sql = "SELECT COUNT(*) AS n FROM encounters WHERE age > 50".into();
        // hospital-c asks another query than hospitals a and b.
        let contested: Vec<_> = (0..3)
            .map(|h| {
                let cfg = client(dir, HOLDERS[h], &addrs);
                let q = if h == 2 { filtered.clone() } else { q.clone() };
                let r = rows[h].clone();
                thread::spawn(move || {
                    let start = Instant::now();
                    let out = participate(&cfg, &q, Some(&r));
                    (start, Instant::now(), out)
                })
            })
            .collect();
        let outs: Vec<_> = contested.into_iter().map(|c| c.join().unwrap()).collect();
        let last_start = outs.iter().map(|o| o.0).max().unwrap();
        for (h, (_, end, out)) in outs.into_iter().enumerate() {
            match out {
                Err(MpcError::Contested {
                    disagreeing,
                    reason,
                    ..
                }) => {
                    let want: Vec<&str> = if h == 2 {
                        vec!["hospital-a", "hospital-b"]
                    } else {
                        vec!["hospital-c"]
                    };
                    assert_eq!(disagreeing, want, "round {round}, {}: {reason}", HOLDERS[h]);
                }
                r => panic!(
                    "round {round}, {}: expected a contest, got {r:?}",
                    HOLDERS[h]
                ),
            }
            let late = end.saturating_duration_since(last_start);
            assert!(late < Duration::from_secs(1), "told after {late:?}");
        }
        // The correct query, once: it answers, and correctly.
        let want = query::run_local(&schema, &rows, &q.sql, mode, Strategy::Partials).unwrap();
        let retries: Vec<_> = (0..3)
            .map(|h| holder(dir, HOLDERS[h], &addrs, &q, &rows[h]))
            .collect();
        let got: Vec<_> = retries.into_iter().map(|c| c.join().unwrap()).collect();
        assert_eq!(
            got[0].as_ref().unwrap().as_ref(),
            Some(&want),
            "round {round}"
        );
        assert_eq!(got[1].as_ref().unwrap(), &None);
        assert_eq!(got[2].as_ref().unwrap().as_ref(), Some(&want));
    }
    let mut contests = 0;
    for p in ps {
        for o in p.join().unwrap() {
            match o {
                Err(MpcError::Contested { .. }) => contests += 1,
                Ok(r) => assert_eq!(r.holders.iter().map(|h| h.1).sum::<u64>(), 300),
                Err(e) => panic!("a party failed otherwise: {e}"),
            }
        }
    }
    assert!(
        contests >= rounds,
        "{contests} contests seen by the parties"
    );
}

#[test]
fn a_missing_participant_or_a_dead_party_fails_everyone_within_the_timeout() {
    let (dir, addrs) = (consortium(), free_addrs());
    let (schema, rows) = encounters(90);
    let q = spec(
        &schema,
        "SELECT COUNT(*) FROM encounters",
        Mode::SemiHonest,
        Strategy::Partials,
    );
    // hospital-c never comes: every party gives up at the join timeout and says who is missing.
    let ps = parties(dir, &addrs, Duration::from_secs(2));
    let t = Instant::now();
    let a = holder(dir, "hospital-a", &addrs, &q, &rows[0]);
    match a.join().unwrap() {
        Err(MpcError::Remote { reason, .. }) => {
            assert!(reason.contains("hospital-c"), "{reason}")
        }
        r => panic!("{r:?}"),
    }
    // The first party to give up says who is missing; the others either do the same or, if
    // hospital-a left first, stop when that party's thread ends and takes its mesh with it.
    let mut said = 0;
    for p in ps {
        match p.join().unwrap().unwrap_err() {
            MpcError::Incomplete { missing, .. }
                if missing.iter().any(|m| m == "analyst")
                    && missing.iter().any(|m| m == "hospital-c") =>
            {
                said += 1
            }
            MpcError::Disconnected { peer, .. } if peer.is_party() => {}
            e => panic!("{e}"),
        }
    }
    assert!(said >= 1);
    assert!(t.elapsed() < Duration::from_secs(15));

    // Party 2 builds the mesh, then dies: the others fail at once when they reach it.
    let mut handles = Vec::new();
    for i in 0..3 {
        let mut cfg = PartyConfig::for_dir(dir, i, &addrs, 3);
        cfg.connect_timeout_secs = 10;
        handles.push(thread::spawn(move || {
            let mut service = PartyService::start(&cfg, Duration::from_secs(20))?;
            if i == 2 {
                return Err(MpcError::Config("party 2 died".into()));
            }
            service.serve()
        }));
    }
    let t = Instant::now();
    // Clients reach parties 0 and 1; party 2 is gone, so the client fails too.
    let clients: Vec<_> = (0..3)
        .map(|h| holder(dir, HOLDERS[h], &addrs, &q, &rows[h]))
        .chain(std::iter::once({
            let (cfg, q) = (client(dir, "analyst", &addrs), q.clone());
            thread::spawn(move || participate(&cfg, &q, None))
        }))
        .collect();
    for c in clients {
        match c.join().unwrap() {
            // Party 2 cannot be reached, or a party that noticed refused the session.
            Err(
                MpcError::Disconnected { .. }
                | MpcError::Remote { .. }
                | MpcError::Timeout { .. }
                | MpcError::Tls {
                    step: TlsStep::Closed,
                    ..
                },
            ) => {}
            r => panic!("a client went on without party 2: {r:?}"),
        }
    }
    // The first of parties 0 and 1 to notice names party 2; the other names party 2 too, or
    // the first, whose thread (serving one session) has ended by then.
    let mut named_2 = 0;
    for (i, h) in handles.into_iter().enumerate() {
        let e = h.join().unwrap().unwrap_err();
        if i < 2 {
            match &e {
                MpcError::Disconnected { peer, .. } | MpcError::Timeout { peer, .. }
                    if *peer == Peer::Party(2) =>
                {
                    named_2 += 1
                }
                MpcError::Disconnected { peer, .. } if *peer == Peer::Party(1 - i) => {}
                e => panic!("party {i}: {e}"),
            }
        }
    }
    assert!(named_2 >= 1);
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
}

/// Runs the parties in-process on the given contributions (party 1's copy optionally tampered).
fn evaluate_all(
    schema: &trustspace_data::Schema,
    sql: &str,
    mode: Mode,
    strategy: Strategy,
    rows: &[Vec<Record>],
    tamper: impl Fn(&mut [Vec<query::Contribution>; 3]),
) -> Result<Vec<Vec<String>>, MpcError> {
    let plan = trustspace_mpc::sql::plan(sql, schema)?;
    let mut parts: [Vec<query::Contribution>; 3] = Default::default();
    for r in rows {
        let [a, b, c] = contribute(&plan, schema, strategy, r, &mut rand::rngs::OsRng)?;
        parts[0].push(a);
        parts[1].push(b);
        parts[2].push(c);
    }
    tamper(&mut parts);
    let nets = mesh(Duration::from_secs(10));
    let outs: Vec<Result<_, MpcError>> = thread::scope(|s| {
        let hs: Vec<_> = nets
            .into_iter()
            .zip(&parts)
            .map(|(net, c)| {
                let plan = &plan;
                s.spawn(move || {
                    let t = SharedTable::new(plan, schema, strategy, c)?;
                    let mut p = Party::new(net, mode)?;
                    evaluate(&mut p, plan, schema, &t)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut shares = Vec::new();
    for o in outs {
        shares.push(o?);
    }
    let shares: [_; 3] = shares.try_into().unwrap();
    Ok(format(&plan, schema, &open_output(&plan, schema, &shares)?)?.rows)
}

#[test]
fn a_tampered_holder_share_is_caught_in_malicious_mode() {
    let (schema, rows) = encounters(120);
    let sql = "SELECT SUM(cost) FROM encounters WHERE age > 50";
    for strategy in [Strategy::Partials, Strategy::Rows] {
        let tamper = |p: &mut [Vec<query::Contribution>; 3]| {
            // Party 1's copy of one replicated component of holder 0's last vector.
            let v = p[1][0].columns.last_mut().unwrap();
            v.a[0] = v.a[0].wrapping_add(1);
        };
        match evaluate_all(&schema, sql, Mode::Malicious, strategy, &rows, tamper) {
            // The parties' cross-check of the holders' inputs.
            Err(MpcError::CheatingDetected {
                check: Check::Replicas,
                ..
            }) => {}
            r => panic!("{strategy:?}: expected an abort, got {r:?}"),
        }
        // Untampered, malicious mode answers.
        let honest = evaluate_all(&schema, sql, Mode::Malicious, strategy, &rows, |_| {}).unwrap();
        assert_eq!(honest.len(), 1);
    }
}

#[test]
fn a_recipient_catches_a_party_that_lies_about_its_output_share() {
    let (schema, rows) = encounters(60);
    let plan = trustspace_mpc::sql::plan("SELECT COUNT(*) FROM encounters", &schema).unwrap();
    let mut parts: [Vec<query::Contribution>; 3] = Default::default();
    for r in &rows {
        let [a, b, c] = contribute(
            &plan,
            &schema,
            Strategy::Partials,
            r,
            &mut rand::rngs::OsRng,
        )
        .unwrap();
        parts[0].push(a);
        parts[1].push(b);
        parts[2].push(c);
    }
    let nets = mesh(Duration::from_secs(10));
    let outs: Vec<_> = thread::scope(|s| {
        let hs: Vec<_> = nets
            .into_iter()
            .zip(&parts)
            .map(|(net, c)| {
                let (plan, schema) = (&plan, &schema);
                s.spawn(move || {
                    let t = SharedTable::new(plan, schema, Strategy::Partials, c).unwrap();
                    let mut p = Party::new(net, Mode::SemiHonest).unwrap();
                    evaluate(&mut p, plan, schema, &t).unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut shares: [_; 3] = outs.try_into().unwrap();
    let opened = open_output(&plan, &schema, &shares).unwrap();
    assert_eq!(opened.groups[0].rows, query::RowCount::Exact(60));
    // Party 2 shifts its share of the count: the copy party 1 holds disagrees.
    shares[2].a[1] = shares[2].a[1].wrapping_add(5);
    match open_output(&plan, &schema, &shares) {
        Err(MpcError::CheatingDetected {
            check: Check::Output,
            ..
        }) => {}
        r => panic!("{r:?}"),
    }
}

#[test]
fn two_sessions_completing_at_once_do_not_cross() {
    let (dir, addrs) = (consortium(), free_addrs());
    let (schema, rows) = encounters(300);
    let rounds = 3;
    let ps = services(dir, &addrs, Duration::from_secs(30), 2 * rounds);
    for round in 0..rounds {
        // Hospitals a and b ask one query; hospital-c, for the analyst, another: disjoint
        // participants, joining at the same moment.
        let mut ab = spec(
            &schema,
            "SELECT COUNT(*) AS n FROM encounters",
            Mode::SemiHonest,
            Strategy::Partials,
        );
        ab.holders = vec!["hospital-a".into(), "hospital-b".into()];
        ab.recipients = vec!["hospital-a".into()];
        let mut c = spec(
            &schema,
            "SELECT SUM(cost) FROM encounters",
            Mode::Malicious,
            Strategy::Rows,
        );
        c.holders = vec!["hospital-c".into()];
        c.recipients = vec!["analyst".into()];
        let want_ab = query::run_local(&schema, &rows[..2], &ab.sql, ab.mode, ab.strategy).unwrap();
        let want_c = query::run_local(&schema, &rows[2..], &c.sql, c.mode, c.strategy).unwrap();
        let runs: Vec<_> = [(0, &ab), (1, &ab), (2, &c)]
            .into_iter()
            .map(|(h, q)| holder(dir, HOLDERS[h], &addrs, q, &rows[h]))
            .collect();
        let analyst = participate(&client(dir, "analyst", &addrs), &c, None);
        let got: Vec<_> = runs.into_iter().map(|r| r.join().unwrap()).collect();
        assert_eq!(
            got[0].as_ref().unwrap().as_ref(),
            Some(&want_ab),
            "round {round}"
        );
        assert_eq!(got[1].as_ref().unwrap(), &None);
        assert_eq!(got[2].as_ref().unwrap(), &None);
        assert_eq!(analyst.unwrap(), Some(want_c), "round {round}");
    }
    for p in ps {
        for o in p.join().unwrap() {
            o.unwrap();
        }
    }
}
