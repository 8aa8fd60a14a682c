//! SQL's `NULL` over no rows, as SQLite gives it, and what a recipient opens about the row
//! count.

use trustspace_data::{Record, Schema};
use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::{self, Strategy};

use super::{dataset, run_local, schema, sqlite};

#[test]
fn sum_avg_min_max_of_no_rows_are_null_as_in_sqlite() {
    let s = schema();
    for seed in 50..52u64 {
        let (holders, db) = dataset(seed);
        // x is within -1000..1000: nothing passes (the literal is within x's declared range, so
        // this is evaluated by the parties, not folded).
        for q in [
            "SELECT COUNT(*), SUM(x), AVG(x), MIN(x), MAX(x), COUNT(DISTINCT grp), SUM(amount) FROM t WHERE x > 5000",
            "SELECT SUM(x) FROM t WHERE x > 5000",
            "SELECT SUM(x), MIN(amount) FROM t WHERE x > 5000 OR x < -5000",
            "SELECT SUM(x) FROM t WHERE x > 0",
            "SELECT grp, SUM(x) FROM t WHERE x > 900 GROUP BY grp",
        ] {
            let got = run_local(&s, &holders, q, Mode::SemiHonest).unwrap();
            let mut want = sqlite(&db, q);
            if q.contains("SUM(amount)") {
                want[0][6] = "NULL".into();
            }
            if q.contains("MIN(amount)") {
                want[0][1] = "NULL".into();
            }
            if q.contains("GROUP BY") {
                want = sqlite(&db, &format!("{q} ORDER BY grp"));
            }
            assert_eq!(got.rows, want, "seed {seed}: {q}");
        }
    }
    // A table with no rows at all.
    let (empty, db) = (vec![Vec::new(), Vec::new()], dataset(0).1);
    db.execute_batch("DELETE FROM t").unwrap();
    for q in [
        "SELECT COUNT(*), SUM(x), AVG(x), MIN(x), MAX(x) FROM t",
        "SELECT COUNT(*), SUM(x), AVG(x), MIN(x), MAX(x) FROM t WHERE x > 0 AND grp = 'a'",
    ] {
        let got = run_local(&s, &empty, q, Mode::SemiHonest).unwrap();
        assert_eq!(got.rows, sqlite(&db, q));
        assert_eq!(got.rows, vec![vec!["0", "NULL", "NULL", "NULL", "NULL"]]);
    }
    let q = "SELECT grp, SUM(x), MIN(x) FROM t WHERE x > 0 GROUP BY grp";
    let got = run_local(&s, &empty, q, Mode::SemiHonest).unwrap();
    assert_eq!(got.rows, Vec::<Vec<String>>::new());
}

/// Runs `sql` with three in-process parties and returns what the recipient opens.
fn open(s: &Schema, holders: &[Vec<Record>], sql: &str) -> query::Opened {
    use std::time::Duration;
    use trustspace_mpc::engine::Party;
    let plan = trustspace_mpc::sql::plan(sql, s).unwrap();
    let mut parts: [Vec<query::Contribution>; 3] = Default::default();
    for h in holders {
        let [a, b, c] =
            query::contribute(&plan, s, Strategy::Partials, h, &mut rand::rngs::OsRng).unwrap();
        parts[0].push(a);
        parts[1].push(b);
        parts[2].push(c);
    }
    let nets = trustspace_mpc::transport::memory::mesh(Duration::from_secs(30));
    let outs: Vec<_> = std::thread::scope(|sc| {
        let hs: Vec<_> = nets
            .into_iter()
            .zip(&parts)
            .map(|(net, c)| {
                let plan = &plan;
                sc.spawn(move || {
                    let t = query::SharedTable::new(plan, s, Strategy::Partials, c).unwrap();
                    let mut p = Party::new(net, Mode::SemiHonest).unwrap();
                    query::evaluate(&mut p, plan, s, &t).unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let shares: [_; 3] = outs.try_into().unwrap();
    query::open_output(&plan, s, &shares).unwrap()
}

#[test]
fn the_recipient_opens_the_count_only_when_the_query_needs_it() {
    use query::RowCount;
    let s = schema();
    let (holders, db) = dataset(60);
    // SUM alone: only whether the selection is empty, not how many rows it has.
    let o = open(&s, &holders, "SELECT SUM(x) FROM t WHERE x > 0");
    assert_eq!(o.groups.len(), 1);
    assert_eq!(o.groups[0].rows, RowCount::NonEmpty(true));
    let o = open(&s, &holders, "SELECT SUM(x) FROM t WHERE x > 5000");
    assert_eq!(o.groups[0].rows, RowCount::NonEmpty(false));
    // With GROUP BY, a revealed group has rows: its SUM is never NULL.
    let o = open(&s, &holders, "SELECT grp, SUM(x) FROM t GROUP BY grp");
    assert_eq!(o.groups.len(), 4);
    assert!(o.groups.iter().all(|g| g.rows == RowCount::NonEmpty(true)));
    // MIN alone: nothing about the count (MIN's NULL is its own sentinel).
    let o = open(&s, &holders, "SELECT MIN(x) FROM t WHERE x > 0");
    assert_eq!(o.groups[0].rows, RowCount::Hidden);
    // AVG needs the count; so does COUNT.
    let n: i64 = sqlite(&db, "SELECT COUNT(*) FROM t WHERE x > 0")[0][0]
        .parse()
        .unwrap();
    let o = open(&s, &holders, "SELECT AVG(x) FROM t WHERE x > 0");
    assert_eq!(o.groups[0].rows, RowCount::Exact(n));
    // An aggregate used only in HAVING or ORDER BY is not opened.
    let o = open(
        &s,
        &holders,
        "SELECT grp, MIN(x) FROM t GROUP BY grp HAVING SUM(x) > -100000 ORDER BY SUM(amount) DESC LIMIT 2",
    );
    assert_eq!(o.groups.len(), 2);
    for g in &o.groups {
        assert_eq!(g.rows, RowCount::Hidden);
        // aggs: MIN(x), SUM(x), SUM(amount): only MIN(x) opened.
        assert_ne!(g.values[0], (0, 0));
        assert_eq!(&g.values[1..], &[(0, 0), (0, 0)]);
    }
}
