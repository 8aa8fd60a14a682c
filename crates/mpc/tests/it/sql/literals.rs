//! Literals against a column's declared range: folded to SQL's answer when the range decides
//! the comparison; bad literals refused with a readable message.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use trustspace_data::{Record, Schema, Value};
use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::{self, Strategy};
use trustspace_mpc::{MpcError, RangeCheck};

use super::{CATS, dataset, run_local, schema, sqlite};

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
        matches!(
            e,
            MpcError::Range {
                check: RangeCheck::Overflow { agg: 0 },
                ref reason,
            } if reason.starts_with("SUM(big) could overflow 64 bits")
        ),
        "{e}"
    );
}
