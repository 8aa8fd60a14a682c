//! `ORDER BY` an aggregate, `AVG` included: against SQLite, exact averages, ties broken by
//! dictionary order; refusals of what cannot be ranked.

use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::{self, avg_units, fixed};
use trustspace_mpc::{MpcError, RangeCheck};

use super::{Row, dataset, encode, run_local, schema, sqlite};

#[test]
fn order_by_avg_or_any_ranked_aggregate_matches_sqlite() {
    let s = schema();
    for seed in 70..73u64 {
        let (holders, db) = dataset(seed);
        // AVG by expression and by alias, both directions, with and without HAVING; SQLite
        // ties are broken by the group's dictionary order, as the engine does (CATS is sorted).
        for (q, sqlite_q, avg_col, scale) in [
            (
                "SELECT grp, AVG(x) FROM t GROUP BY grp ORDER BY AVG(x) DESC LIMIT 2",
                "SELECT grp, SUM(x), COUNT(*) FROM t GROUP BY grp ORDER BY AVG(x) DESC, grp LIMIT 2",
                1,
                0,
            ),
            (
                "SELECT grp, AVG(amount) AS avg_amount FROM t GROUP BY grp ORDER BY avg_amount ASC LIMIT 3",
                "SELECT grp, SUM(amount), COUNT(*) FROM t GROUP BY grp ORDER BY AVG(amount) ASC, grp LIMIT 3",
                1,
                2,
            ),
            (
                "SELECT grp, COUNT(*), AVG(x) AS a FROM t WHERE flag = false GROUP BY grp HAVING COUNT(*) > 3 ORDER BY a DESC LIMIT 9",
                "SELECT grp, COUNT(*), SUM(x), COUNT(*) FROM t WHERE flag = 0 GROUP BY grp HAVING COUNT(*) > 3 ORDER BY AVG(x) DESC, grp LIMIT 9",
                2,
                0,
            ),
        ] {
            let got = run_local(&s, &holders, q, Mode::SemiHonest).unwrap();
            let want: Vec<Vec<String>> = sqlite(&db, sqlite_q)
                .into_iter()
                .map(|r| {
                    let (sum, n): (i128, i128) =
                        (r[avg_col].parse().unwrap(), r[avg_col + 1].parse().unwrap());
                    let mut out = r[..avg_col].to_vec();
                    out.push(fixed(avg_units(sum, n), scale));
                    out
                })
                .collect();
            assert!(!want.is_empty());
            assert_eq!(got.rows, want, "seed {seed}: {q}");
        }
        // The other ranked aggregates, each by expression, ASC and DESC.
        for key in [
            "SUM(x)",
            "MIN(x)",
            "MAX(x)",
            "COUNT(*)",
            "COUNT(DISTINCT grp)",
        ] {
            for dir in ["ASC", "DESC"] {
                let q =
                    format!("SELECT grp, {key} FROM t GROUP BY grp ORDER BY {key} {dir} LIMIT 3");
                let got = run_local(&s, &holders, &q, Mode::SemiHonest).unwrap();
                let want = sqlite(
                    &db,
                    &format!(
                        "SELECT grp, {key} FROM t GROUP BY grp ORDER BY {key} {dir}, grp LIMIT 3"
                    ),
                );
                assert_eq!(got.rows, want, "seed {seed}: {q}");
            }
        }
    }
}

#[test]
fn order_by_avg_ranks_exact_averages_and_breaks_ties_by_dictionary_order() {
    let s = schema();
    let row = |grp: usize, x: i64| {
        encode(
            &s,
            &Row {
                grp,
                x,
                amount: 0,
                flag: false,
                big: 0,
            },
        )
    };
    // a: 1, 2 (1.5, shown as 2); b: 2 (2); c: 4, 2 (3); d: 3 (3): c and d tie at 3.
    let holders = vec![
        vec![row(0, 1), row(1, 2), row(2, 4)],
        vec![row(0, 2), row(3, 3), row(2, 2)],
    ];
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE t (grp TEXT, x INTEGER);
         INSERT INTO t VALUES ('a', 1), ('b', 2), ('c', 4), ('a', 2), ('d', 3), ('c', 2);",
    )
    .unwrap();
    for (q, want) in [
        (
            "SELECT grp, AVG(x) FROM t GROUP BY grp ORDER BY AVG(x) DESC LIMIT 3",
            vec![["c", "3"], ["d", "3"], ["b", "2"]],
        ),
        (
            "SELECT grp, AVG(x) AS m FROM t GROUP BY grp ORDER BY m LIMIT 4",
            vec![["a", "2"], ["b", "2"], ["c", "3"], ["d", "3"]],
        ),
    ] {
        for mode in [Mode::SemiHonest, Mode::Malicious] {
            let got = run_local(&s, &holders, q, mode).unwrap();
            assert_eq!(got.rows, want, "{q}");
        }
        // SQLite agrees, with the engine's tie-break (the dictionary order) made explicit.
        let sqlite_q = q.replace(" LIMIT", ", grp LIMIT");
        let order: Vec<String> = sqlite(&db, &sqlite_q)
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(
            order,
            want.iter().map(|r| r[0]).collect::<Vec<_>>(),
            "{sqlite_q}"
        );
    }
    // ORDER BY AVG compares SUM × COUNT products: refused before any work where they could
    // pass 2^62 (x is a 32-bit column: fine for 1,000 rows, not for a million).
    let plan = trustspace_mpc::sql::plan(
        "SELECT grp, AVG(x) FROM t GROUP BY grp ORDER BY AVG(x) DESC LIMIT 1",
        &s,
    )
    .unwrap();
    assert!(matches!(query::check_ranges(&plan, &s, 1000), Ok(())));
    match query::check_ranges(&plan, &s, 1_000_000) {
        Err(MpcError::Range {
            check: RangeCheck::AvgProducts { agg: 0 },
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // What cannot be ranked is refused at plan time, saying what can.
    for q in [
        "SELECT grp, VAR(x) FROM t GROUP BY grp ORDER BY VAR(x) DESC LIMIT 2",
        "SELECT grp, STDDEV_POP(x) AS sd FROM t GROUP BY grp ORDER BY sd LIMIT 2",
    ] {
        match trustspace_mpc::sql::plan(q, &s) {
            Err(MpcError::Unsupported(m)) => assert!(
                m.contains("ORDER BY supports COUNT, SUM, AVG, MIN, MAX and COUNT(DISTINCT)"),
                "{q}: {m}"
            ),
            other => panic!("{q}: {other:?}"),
        }
    }
}
