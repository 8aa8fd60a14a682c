//! Secret-shared query results against an independent evaluation of the same SQL on the union of
//! the rows (embedded SQLite), over random datasets split among holders — including empty groups,
//! negative values, fixed-point rounding, and refusals of what could overflow. By topic:
//! aggregates and refusals ([`aggregates`]), `HHI` ([`hhi`]), literals against declared ranges
//! ([`literals`]), `NULL` and what the recipient opens ([`nulls`]), `ORDER BY` ([`order`]).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use trustspace_data::{Record, Schema, Value};
use trustspace_mpc::MpcError;
use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::{self, QueryResult, Strategy, fixed};

mod aggregates;
mod hhi;
mod literals;
mod nulls;
mod order;

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
