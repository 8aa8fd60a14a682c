//! Secret-shared query results against an independent evaluation of the same SQL on the union of
//! the rows (embedded SQLite), over random datasets split among holders — including empty groups,
//! negative values, fixed-point rounding, and refusals of what could overflow.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use trustspace_data::{Record, Schema, Value};
use trustspace_mpc::MpcError;
use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::{self, QueryResult, Strategy, avg_units, fixed};

/// Runs the query with both strategies (every row in MPC, and holders' partial aggregates):
/// they must agree, on the answer or on the refusal.
fn run_local(
    s: &Schema,
    holders: &[Vec<Record>],
    sql: &str,
    mode: Mode,
) -> Result<QueryResult, MpcError> {
    let rows = query::run_local(s, holders, sql, mode, Strategy::Rows);
    let parts = query::run_local(s, holders, sql, mode, Strategy::Partials);
    match (&rows, &parts) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{sql}: strategies disagree"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{sql}"),
        _ => panic!("{sql}: rows {rows:?} vs partials {parts:?}"),
    }
    parts
}

const CATS: [&str; 5] = ["a", "b", "c", "d", "never"];

fn schema() -> Schema {
    Schema::from_toml(
        r#"name = "t"
[[columns]]
name = "grp"
type = "categorical"
values = ["a", "b", "c", "d", "never"]
[[columns]]
name = "x"
type = "int"
bits = 32
[[columns]]
name = "amount"
type = "decimal"
scale = 2
bits = 40
signed = true
[[columns]]
name = "flag"
type = "bool"
[[columns]]
name = "big"
type = "int"
bits = 64
"#,
        "t.toml",
    )
    .unwrap()
}

struct Row {
    grp: usize,
    x: i64,
    amount: i64,
    flag: bool,
    big: i64,
}

fn encode(s: &Schema, r: &Row) -> Record {
    let c = s.columns();
    vec![
        c[0].encode(&Value::Category(r.grp as u32)).unwrap(),
        c[1].encode(&Value::Int(r.x)).unwrap(),
        c[2].encode(&Value::Decimal(r.amount as i128)).unwrap(),
        c[3].encode(&Value::Bool(r.flag)).unwrap(),
        c[4].encode(&Value::Int(r.big)).unwrap(),
    ]
}

fn dataset(seed: u64) -> (Vec<Vec<Record>>, rusqlite::Connection) {
    let s = schema();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE t (grp TEXT, x INTEGER, amount INTEGER, flag INTEGER, big INTEGER)",
    )
    .unwrap();
    // Two to five holders, the last one possibly empty; group "never" stays empty.
    let k = 2 + (seed % 4) as usize;
    let holders = (0..k)
        .map(|h| {
            let n = if h == k - 1 {
                rng.gen_range(0..3)
            } else {
                rng.gen_range(20..60)
            };
            (0..n)
                .map(|_| {
                    let r = Row {
                        grp: rng.gen_range(0..4),
                        x: rng.gen_range(-1000..1000),
                        amount: rng.gen_range(-50_000..50_000),
                        flag: rng.gen_bool(0.3),
                        big: rng.gen_range(i64::MAX - 1000..=i64::MAX),
                    };
                    db.execute(
                        "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
                        rusqlite::params![CATS[r.grp], r.x, r.amount, r.flag as i64, r.big],
                    )
                    .unwrap();
                    encode(&s, &r)
                })
                .collect()
        })
        .collect();
    (holders, db)
}

fn sqlite(db: &rusqlite::Connection, sql: &str) -> Vec<Vec<String>> {
    let mut st = db.prepare(sql).unwrap();
    let cols = st.column_count();
    st.query_map([], |row| {
        (0..cols)
            .map(|i| {
                let v: rusqlite::types::Value = row.get(i)?;
                Ok(match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Null => "NULL".into(),
                    other => format!("{other:?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Reformats SQLite columns given in raw units: `dec2` → decimal at scale 2; `avg(sum,count)`.
fn money(units: &str) -> String {
    fixed(units.parse().unwrap(), 2)
}

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
        matches!(e, MpcError::Query(ref m) if m.contains("overflow")),
        "{e}"
    );
    let e = run_local(
        &s,
        &holders,
        "SELECT COUNT(*) FROM t WHERE big > -5",
        Mode::SemiHonest,
    )
    .unwrap_err();
    assert!(matches!(e, MpcError::Query(_)), "{e}");
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

#[test]
fn hhi_matches_a_plain_computation_per_market_and_per_sector() {
    use trustspace_data::synth::{Generator, Spec, Table};
    let mut spec = Spec::new(Table::Revenues, 3000, 3);
    spec.holders = 3;
    let g = Generator::new(spec).unwrap();
    let s = g.schema().clone();
    let holders: Vec<Vec<Record>> = (0..3).map(|h| g.holder_records(h).collect()).collect();
    let (company, sector, revenue) = (
        s.index_of("company").unwrap(),
        s.index_of("sector").unwrap(),
        s.index_of("revenue").unwrap(),
    );
    let keys = 300usize; // the generator's 3000 / 10 companies
    let unit = 1_000_000i128; // 10,000.00 in cents
    let sectors = s.columns()[sector].dictionary().unwrap().to_vec();
    // Plain: each holder totals per (sector, company), rounds to units; totals add up.
    let mut units = vec![vec![0i128; keys]; sectors.len()];
    for h in &holders {
        let mut local = vec![vec![0i128; keys]; sectors.len()];
        for r in h {
            let Value::Uint(c) = s.columns()[company].decode(r[company]).unwrap() else {
                panic!()
            };
            let Value::Category(sec) = s.columns()[sector].decode(r[sector]).unwrap() else {
                panic!()
            };
            let Value::Decimal(v) = s.columns()[revenue].decode(r[revenue]).unwrap() else {
                panic!()
            };
            local[sec as usize][c as usize] += v;
        }
        for (u, l) in units.iter_mut().zip(&local) {
            for (a, b) in u.iter_mut().zip(l) {
                *a += (b + unit / 2) / unit;
            }
        }
    }
    let hhi = |per_key: &[i128]| -> String {
        let total: i128 = per_key.iter().sum();
        let q: i128 = per_key.iter().map(|x| x * x).sum();
        fixed(avg_units(1_000_000 * q, total * total), 2)
    };
    let market: Vec<i128> = (0..keys)
        .map(|k| units.iter().map(|u| u[k]).sum())
        .collect();
    let got = query::run_local(
        &s,
        &holders,
        "SELECT HHI(revenue, company, 300, 10000.00) AS hhi FROM revenues",
        Mode::SemiHonest,
        Strategy::Partials,
    )
    .unwrap();
    assert_eq!(got.rows, vec![vec![hhi(&market)]]);
    let index: f64 = got.rows[0][0].parse().unwrap();
    assert!(index > 0.0 && index <= 10_000.0, "{index}");

    let got = query::run_local(
        &s,
        &holders,
        "SELECT sector, HHI(revenue, company, 300, 10000.00) FROM revenues GROUP BY sector",
        Mode::Malicious,
        Strategy::Partials,
    )
    .unwrap();
    let want: Vec<Vec<String>> = sectors
        .iter()
        .zip(&units)
        .filter(|(_, u)| u.iter().sum::<i128>() > 0)
        .map(|(name, u)| vec![name.clone(), hhi(u)])
        .collect();
    assert!(want.len() > 1);
    assert_eq!(got.rows, want);

    // Counted in cents, the declared revenue range could overflow: refused before any work.
    let e = query::run_local(
        &s,
        &holders,
        "SELECT HHI(revenue, company, 300, 0.01) FROM revenues",
        Mode::SemiHonest,
        Strategy::Partials,
    )
    .unwrap_err();
    assert!(e.to_string().contains("larger unit"), "{e}");
    // Within the declared range but a real total of 2^31 units or more: caught inside MPC (only
    // that fact reaches the recipient), at the boundary exactly.
    let small = Schema::from_toml(
        "name = \"m\"\n[[columns]]\nname = \"firm\"\ntype = \"uint\"\nbits = 8\n\
         [[columns]]\nname = \"v\"\ntype = \"uint\"\nbits = 40\n",
        "m.toml",
    )
    .unwrap();
    let rows_of = |vals: &[(u64, u64)]| -> Vec<Record> {
        vals.iter()
            .map(|&(f, v)| {
                vec![
                    small.columns()[0].encode(&Value::Uint(f)).unwrap(),
                    small.columns()[1].encode(&Value::Uint(v)).unwrap(),
                ]
            })
            .collect()
    };
    let sql = "SELECT HHI(v, firm, 4, 1) FROM m";
    let under = vec![rows_of(&[(0, (1 << 31) - 2)]), rows_of(&[(1, 1)])];
    let got = query::run_local(&small, &under, sql, Mode::SemiHonest, Strategy::Partials).unwrap();
    let (a, b) = (((1i128 << 31) - 2), 1i128);
    assert_eq!(
        got.rows[0][0],
        fixed(avg_units(1_000_000 * (a * a + b * b), (a + b) * (a + b)), 2)
    );
    let over = vec![rows_of(&[(0, (1 << 31) - 1)]), rows_of(&[(1, 1)])];
    let e = query::run_local(&small, &over, sql, Mode::SemiHonest, Strategy::Partials).unwrap_err();
    assert!(e.to_string().contains("2^31 units"), "{e}");
    // Keys outside the declared registry, the rows strategy, bad arguments.
    let e = query::run_local(
        &s,
        &holders,
        "SELECT HHI(revenue, company, 10, 10000.00) FROM revenues",
        Mode::SemiHonest,
        Strategy::Partials,
    )
    .unwrap_err();
    assert!(
        matches!(e, MpcError::Input(ref m) if m.contains("outside 0..10")),
        "{e}"
    );
    assert!(matches!(
        query::run_local(
            &s,
            &holders,
            "SELECT HHI(revenue, company, 300, 10000.00) FROM revenues",
            Mode::SemiHonest,
            Strategy::Rows,
        ),
        Err(MpcError::Unsupported(_))
    ));
    for bad in [
        "SELECT HHI(revenue, company) FROM revenues",
        "SELECT HHI(revenue, company, 0, 1.00) FROM revenues",
        "SELECT HHI(revenue, sector, 300, 0.00) FROM revenues",
        "SELECT HHI(sector, company, 300, 1) FROM revenues",
    ] {
        assert!(
            trustspace_mpc::sql::plan(bad, &s).is_err(),
            "{bad} should be refused"
        );
    }
}
