//! Aggregates with filters, GROUP BY, HAVING, ORDER BY and LIMIT against SQLite, in both
//! modes; what could overflow or is unsupported is refused by name.

use trustspace_data::{Record, Value};
use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::{avg_units, fixed};
use trustspace_mpc::{MpcError, RangeCheck};

use super::{CATS, dataset, money, run_local, schema, sqlite};

#[test]
fn aggregates_with_filters_match_sqlite() {
    let s = schema();
    for seed in 0..3u64 {
        let (holders, db) = dataset(seed);
        // COUNT, SUM (decimal), MIN/MAX, with every predicate form.
        let q = "SELECT COUNT(*), SUM(amount), MIN(x), MAX(amount) FROM t \
                 WHERE (x BETWEEN -200 AND 500 OR flag = true) AND NOT grp IN ('c') AND amount <> 0 AND x >= -900";
        let got = run_local(&s, &holders, q, Mode::SemiHonest).unwrap();
        let want = sqlite(
            &db,
            "SELECT COUNT(*), COALESCE(SUM(amount), 0), MIN(x), MAX(amount) FROM t \
             WHERE (x BETWEEN -200 AND 500 OR flag = 1) AND NOT grp IN ('c') AND amount <> 0 AND x >= -900",
        );
        let w = &want[0];
        let expect = vec![
            w[0].clone(),
            money(&w[1]),
            w[2].clone(),
            if w[3] == "NULL" {
                w[3].clone()
            } else {
                money(&w[3])
            },
        ];
        assert_eq!(got.rows, vec![expect], "seed {seed}");

        // AVG exact to the column's scale (rounded half away from zero), and x < column.
        let got = run_local(
            &s,
            &holders,
            "SELECT AVG(amount), AVG(x) FROM t WHERE x < amount",
            Mode::SemiHonest,
        )
        .unwrap();
        let w = &sqlite(
            &db,
            "SELECT SUM(amount), SUM(x), COUNT(*) FROM t WHERE x < amount",
        )[0];
        let expect = if w[2] == "0" {
            vec!["NULL".to_string(), "NULL".to_string()]
        } else {
            let n: i128 = w[2].parse().unwrap();
            vec![
                fixed(avg_units(w[0].parse().unwrap(), n), 2),
                avg_units(w[1].parse().unwrap(), n).to_string(),
            ]
        };
        assert_eq!(got.rows, vec![expect], "seed {seed}");
    }
}

#[test]
fn group_by_having_order_limit_match_sqlite() {
    let s = schema();
    for seed in 10..13u64 {
        let (holders, db) = dataset(seed);
        // Every non-empty group (the empty group "never" must not appear), in group order.
        let got = run_local(
            &s,
            &holders,
            "SELECT grp, COUNT(*), SUM(x), COUNT(DISTINCT grp) FROM t WHERE flag = false GROUP BY grp",
            Mode::SemiHonest,
        )
        .unwrap();
        let want: Vec<Vec<String>> = sqlite(
            &db,
            "SELECT grp, COUNT(*), SUM(x), COUNT(DISTINCT grp) FROM t WHERE flag = 0 GROUP BY grp ORDER BY grp",
        );
        assert_eq!(got.rows, want, "seed {seed}");
        assert!(got.rows.iter().all(|r| r[0] != "never"));

        // HAVING and top-k.
        let got = run_local(
            &s,
            &holders,
            "SELECT grp, COUNT(*) AS n FROM t GROUP BY grp HAVING COUNT(*) > 5 AND SUM(x) > -5000 ORDER BY n DESC LIMIT 2",
            Mode::SemiHonest,
        )
        .unwrap();
        let mut want = sqlite(
            &db,
            "SELECT grp, COUNT(*) AS n FROM t GROUP BY grp HAVING COUNT(*) > 5 AND SUM(x) > -5000",
        );
        // Ties broken by group order, as the engine does.
        want.sort_by_key(|r| {
            (
                -r[1].parse::<i64>().unwrap(),
                CATS.iter().position(|c| *c == r[0]),
            )
        });
        want.truncate(2);
        assert_eq!(got.rows, want, "seed {seed}");
    }
}

#[test]
fn malicious_mode_gives_the_same_answers() {
    let s = schema();
    let (holders, db) = dataset(21);
    let got = run_local(
        &s,
        &holders,
        "SELECT COUNT(*) FROM t WHERE x > 0",
        Mode::Malicious,
    )
    .unwrap();
    assert_eq!(got.rows, sqlite(&db, "SELECT COUNT(*) FROM t WHERE x > 0"));
}

#[test]
fn what_could_overflow_or_is_unsupported_is_refused_by_name() {
    let s = schema();
    let (holders, _) = dataset(30);
    // Values near 2^63: their sum cannot be represented; a comparison could wrap.
    let e = run_local(&s, &holders, "SELECT SUM(big) FROM t", Mode::SemiHonest).unwrap_err();
    assert!(
        matches!(
            e,
            MpcError::Range {
                check: RangeCheck::Overflow { agg: 0 },
                ..
            }
        ),
        "{e}"
    );
    let e = run_local(
        &s,
        &holders,
        "SELECT COUNT(*) FROM t WHERE big > -5",
        Mode::SemiHonest,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            MpcError::Range {
                check: RangeCheck::Comparison,
                ..
            }
        ),
        "{e}"
    );
    // COUNT over such a column is fine, and so is MAX.
    let got = run_local(&s, &holders, "SELECT COUNT(*) FROM t", Mode::SemiHonest).unwrap();
    assert_eq!(
        got.rows[0][0],
        holders.iter().map(Vec::len).sum::<usize>().to_string()
    );
    for (sql, construct) in [
        ("SELECT x FROM t", "only aggregates"),
        ("SELECT COUNT(*) FROM t JOIN u ON t.x = u.x", "JOIN"),
        ("SELECT COUNT(*) FROM t WHERE x LIKE 'a%'", "predicate"),
        ("SELECT MEDIAN(x) FROM t", "aggregate"),
        (
            "SELECT COUNT(*) FROM t UNION SELECT COUNT(*) FROM t",
            "set operations",
        ),
        ("SELECT SUM(x) FROM t GROUP BY x", "GROUP BY x"),
        ("SELECT COUNT(DISTINCT x) FROM t", "COUNT(DISTINCT)"),
    ] {
        match run_local(&s, &holders, sql, Mode::SemiHonest) {
            Err(MpcError::Unsupported(m)) => assert!(m.contains(construct), "{sql}: {m}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    assert!(matches!(
        run_local(&s, &holders, "SELECT COUNT(*) FROM nope", Mode::SemiHonest),
        Err(MpcError::Query(_))
    ));
    assert!(matches!(
        run_local(&s, &holders, "SELECT SUM(nope) FROM t", Mode::SemiHonest),
        Err(MpcError::Query(_))
    ));
}

#[test]
fn the_readme_query_runs_on_generated_encounters() {
    use trustspace_data::synth::{Generator, Spec, Table};
    let mut spec = Spec::new(Table::Encounters, 600, 4);
    spec.holders = 3;
    let g = Generator::new(spec).unwrap();
    let s = g.schema().clone();
    let holders: Vec<Vec<Record>> = (0..3).map(|h| g.holder_records(h).collect()).collect();
    let sql = "SELECT medication, COUNT(*) AS n, AVG(cost) FROM encounters WHERE age BETWEEN 40 AND 65 \
               GROUP BY medication HAVING COUNT(*) > 5 ORDER BY n DESC LIMIT 3";
    let got = run_local(&s, &holders, sql, Mode::Malicious).unwrap();
    // Plain evaluation of the same query.
    let (age, med, cost) = (
        s.index_of("age").unwrap(),
        s.index_of("medication").unwrap(),
        s.index_of("cost").unwrap(),
    );
    let names = s.columns()[med].dictionary().unwrap().to_vec();
    let value = |c: usize, r: &Record| s.columns()[c].decode(r[c]).unwrap();
    let mut groups: Vec<(usize, i128, i128)> = (0..names.len()).map(|m| (m, 0, 0)).collect();
    for r in holders.iter().flatten() {
        let Value::Uint(a) = value(age, r) else {
            panic!("age")
        };
        let Value::Category(m) = value(med, r) else {
            panic!("medication")
        };
        let Value::Decimal(c) = value(cost, r) else {
            panic!("cost")
        };
        if (40..=65).contains(&a) {
            groups[m as usize].1 += 1;
            groups[m as usize].2 += c;
        }
    }
    groups.retain(|g| g.1 > 5);
    groups.sort_by_key(|g| (-g.1, g.0));
    groups.truncate(3);
    let want: Vec<Vec<String>> = groups
        .iter()
        .map(|(m, n, c)| {
            vec![
                names[*m].clone(),
                n.to_string(),
                fixed(avg_units(*c, *n), 2),
            ]
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got.rows, want);
    assert_eq!(got.columns, vec!["medication", "n", "AVG(cost)"]);
}
