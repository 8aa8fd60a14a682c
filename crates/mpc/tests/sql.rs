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

/// A table whose columns declare ranges narrower than their encodings: `age` uint 0..=120 in
/// 8 bits, `temp` int -50..=60 in 16 bits, `price` signed decimal -100.00..=1000.00, `day` a
/// date 2020-01-01..=2024-12-31.
fn bounded_schema() -> Schema {
    Schema::from_toml(
        r#"name = "p"
[[columns]]
name = "grp"
type = "categorical"
values = ["a", "b", "c", "d", "never"]
[[columns]]
name = "age"
type = "uint"
bits = 8
max = 120
[[columns]]
name = "temp"
type = "int"
bits = 16
min = -50
max = 60
[[columns]]
name = "price"
type = "decimal"
scale = 2
bits = 32
signed = true
min = "-100.00"
max = "1000.00"
[[columns]]
name = "day"
type = "date"
min = "2020-01-01"
max = "2024-12-31"
"#,
        "p.toml",
    )
    .unwrap()
}

/// Random rows of [`bounded_schema`] over three holders, and the same rows in SQLite (`price`
/// in cents, `day` as ISO text).
fn bounded_dataset(seed: u64) -> (Vec<Vec<Record>>, rusqlite::Connection) {
    let s = bounded_schema();
    let c = s.columns();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE p (grp TEXT, age INTEGER, temp INTEGER, price INTEGER, day TEXT)",
    )
    .unwrap();
    let holders = (0..3)
        .map(|_| {
            (0..rng.gen_range(15..40))
                .map(|_| {
                    let grp = rng.gen_range(0..4usize);
                    // The declared bounds included, so that boundary literals are exercised.
                    let age: u64 = if rng.gen_bool(0.1) {
                        120
                    } else {
                        rng.gen_range(0..=120)
                    };
                    let temp: i64 = rng.gen_range(-50..=60);
                    let price: i128 = rng.gen_range(-10_000..=100_000);
                    // 2020-01-01 ..= 2024-12-31 in days since 1970.
                    let day: i32 = rng.gen_range(18_262..=20_088);
                    let r = vec![
                        c[0].encode(&Value::Category(grp as u32)).unwrap(),
                        c[1].encode(&Value::Uint(age)).unwrap(),
                        c[2].encode(&Value::Int(temp)).unwrap(),
                        c[3].encode(&Value::Decimal(price)).unwrap(),
                        c[4].encode(&Value::Date(day)).unwrap(),
                    ];
                    db.execute(
                        "INSERT INTO p VALUES (?1, ?2, ?3, ?4, ?5)",
                        rusqlite::params![
                            CATS[grp],
                            age as i64,
                            temp,
                            price as i64,
                            c[4].format(r[4]).unwrap()
                        ],
                    )
                    .unwrap();
                    r
                })
                .collect()
        })
        .collect();
    (holders, db)
}

#[test]
fn literals_outside_a_columns_declared_range_fold_to_sqls_answer() {
    let s = bounded_schema();
    let (holders, db) = bounded_dataset(40);
    // (the engine's WHERE, SQLite's WHERE where it differs: prices in cents)
    let cases: &[(&str, Option<&str>)] = &[
        // Above the declared max (120), mirrored, and every operator.
        ("age > 150", None),
        ("age >= 150", None),
        ("age < 150", None),
        ("age <= 150", None),
        ("age = 150", None),
        ("age <> 150", None),
        ("150 < age", None),
        ("150 > age", None),
        ("150 = age", None),
        ("150 <> age", None),
        // Below an unsigned column's 0, above its 8-bit width, beyond 64 bits.
        ("age > -1", None),
        ("age < -1", None),
        ("-1 <> age", None),
        ("age < 300", None),
        ("age >= 300", None),
        ("age < 99999999999999999999999", None),
        ("age > -99999999999999999999999", None),
        // Signed: below min -50, above max 60, beyond the 16-bit width.
        ("temp > -51", None),
        ("temp <= -51", None),
        ("temp >= 61", None),
        ("temp < -40000", None),
        ("temp <> 40000", None),
        // Decimal and date.
        ("price > 1000.01", Some("price > 100001")),
        ("price < -100.01", Some("price < -10001")),
        ("price >= -200.50", Some("price >= -20050")),
        ("price = 5000.00", Some("price = 500000")),
        ("day > '2030-01-01'", None),
        ("day < '2019-06-01'", None),
        ("day >= '2019-06-01'", None),
        ("day <> '2025-01-01'", None),
        // The declared bounds themselves.
        ("age >= 0", None),
        ("age <= 120", None),
        ("age > 120", None),
        ("age = 120", None),
        ("temp < -50", None),
        ("temp = 60", None),
        // IN, BETWEEN, and constants under AND / OR / NOT.
        ("age IN (150, 30, 40, 120)", None),
        ("age IN (150, 200)", None),
        ("age NOT IN (150, 200)", None),
        ("age NOT IN (150, 30)", None),
        ("age BETWEEN 100 AND 200", None),
        ("age BETWEEN 130 AND 140", None),
        ("age NOT BETWEEN 130 AND 140", None),
        ("age > 150 OR temp > 0", None),
        ("age > 150 AND temp > 0", None),
        ("NOT (age > 150) AND temp > 0", None),
        ("NOT (age < 150)", None),
        ("(age > 150 OR age < 150) AND grp = 'a'", None),
        ("age > 150 OR NOT (temp < -60)", None),
        (
            "NOT (age > 150 OR temp < 0) AND price > 1000.01",
            Some("NOT (age > 150 OR temp < 0) AND price > 100001"),
        ),
    ];
    for (w, sqlite_w) in cases {
        let q = format!("SELECT COUNT(*), SUM(age), MIN(temp), MAX(age) FROM p WHERE {w}");
        let got =
            run_local(&s, &holders, &q, Mode::SemiHonest).unwrap_or_else(|e| panic!("{q}: {e}"));
        let want = sqlite(
            &db,
            &format!(
                "SELECT COUNT(*), SUM(age), MIN(temp), MAX(age) FROM p WHERE {}",
                sqlite_w.unwrap_or(w)
            ),
        );
        assert_eq!(got.rows, want, "{q}");
        // Grouped: a constant-false filter leaves no group; others match SQLite per group.
        let q = format!("SELECT grp, COUNT(*), SUM(temp) FROM p WHERE {w} GROUP BY grp");
        let got =
            run_local(&s, &holders, &q, Mode::SemiHonest).unwrap_or_else(|e| panic!("{q}: {e}"));
        let want = sqlite(
            &db,
            &format!(
                "SELECT grp, COUNT(*), SUM(temp) FROM p WHERE {} GROUP BY grp ORDER BY grp",
                sqlite_w.unwrap_or(w)
            ),
        );
        assert_eq!(got.rows, want, "{q}");
    }
    // Folded at plan time: no comparison is left for the parties.
    let filter = |w: &str| {
        trustspace_mpc::sql::plan(&format!("SELECT COUNT(*) FROM p WHERE {w}"), &s)
            .unwrap()
            .filter
    };
    use trustspace_mpc::sql::{Cmp, Operand, Pred};
    assert_eq!(filter("age > 150"), Some(Pred::Const(false)));
    assert_eq!(filter("150 > age"), None);
    assert_eq!(filter("age > 150 OR temp < -60"), Some(Pred::Const(false)));
    assert_eq!(filter("NOT (age = 150)"), None);
    assert_eq!(
        filter("age < 150 AND temp > 0"),
        Some(Pred::Cmp(Cmp::Gt, Operand::Col(2), Operand::Lit(0)))
    );
    assert_eq!(filter("age IN (150, 200)"), Some(Pred::Const(false)));
    assert_eq!(filter("age IN (150, 7)"), Some(Pred::In(1, vec![7], false)));
    // Folding relies on the declared range, which loaders enforce: a holder's record outside
    // it (an 8-bit encoding of 150 for `age`) is refused when the holder encodes its rows.
    let mut bad = holders[0].clone();
    bad[0][1] = 150;
    for strategy in [Strategy::Rows, Strategy::Partials] {
        let plan = trustspace_mpc::sql::plan("SELECT SUM(age) FROM p WHERE age > 100", &s).unwrap();
        match query::contribute(&plan, &s, strategy, &bad, &mut rand::rngs::OsRng) {
            Err(MpcError::Input(m)) => assert_eq!(
                m, "column age: 150 is outside the declared range 0 ..= 120",
                "{strategy:?}"
            ),
            other => panic!("{strategy:?}: {:?}", other.map(|_| ())),
        }
    }
    // In malicious mode too, and with every aggregate over the empty selection.
    let got = run_local(
        &s,
        &holders,
        "SELECT COUNT(*), SUM(price), AVG(temp), MIN(day), MAX(price), COUNT(DISTINCT grp) FROM p WHERE day > '2030-01-01'",
        Mode::Malicious,
    )
    .unwrap();
    assert_eq!(
        got.rows,
        vec![vec!["0", "NULL", "NULL", "NULL", "NULL", "0"]]
    );
}

#[test]
fn a_bad_literal_is_refused_with_a_readable_message() {
    let s = bounded_schema();
    for (w, reason) in [
        (
            "age > 'abc'",
            "malformed value \"abc\": expected an integer",
        ),
        ("age > 1.5", "malformed value \"1.5\""),
        ("price > 1.005", "1.005 has more than 2 decimal places"),
        ("day > '2024-13-01'", "expected an ISO-8601 date"),
        ("grp = 'zzz'", "\"zzz\" is not in the column's dictionary"),
    ] {
        let sql = format!("SELECT COUNT(*) FROM p WHERE {w}");
        match trustspace_mpc::sql::plan(&sql, &s) {
            Err(e @ MpcError::Query(_)) => {
                let m = e.to_string();
                assert!(m.contains(reason), "{sql}: {m}");
                // Display text, not a Rust Debug dump such as `Malformed { expected: ... }`.
                assert!(!m.contains('{') && !m.contains("Malformed"), "{sql}: {m}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    // SQL quoted in a message has its control characters escaped.
    match trustspace_mpc::sql::plan("SELECT COUNT(*) FROM p WHERE age LIKE 'x\u{1b}[2J'", &s) {
        Err(MpcError::Unsupported(m)) => {
            assert!(m.contains("x\\u{1b}[2J") && !m.contains('\u{1b}'), "{m:?}")
        }
        other => panic!("{other:?}"),
    }
    // Overflow refusals name the aggregate in SQL, not as a Rust value.
    let t = schema();
    let (holders, _) = dataset(31);
    let e = run_local(&t, &holders, "SELECT SUM(big) FROM t", Mode::SemiHonest).unwrap_err();
    assert!(
        matches!(e, MpcError::Query(ref m) if m.starts_with("SUM(big) could overflow 64 bits")),
        "{e}"
    );
}

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
    assert!(query::check_ranges(&plan, &s, 1000).is_ok());
    match query::check_ranges(&plan, &s, 1_000_000) {
        Err(MpcError::Query(m)) => assert!(
            m.starts_with("ORDER BY AVG(x) compares SUM × COUNT products"),
            "{m}"
        ),
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
