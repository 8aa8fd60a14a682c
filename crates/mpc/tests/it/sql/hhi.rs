//! `HHI`: against a plain computation, per market and per sector; its refusals.

use trustspace_data::{Record, Schema, Value};
use trustspace_mpc::engine::Mode;
use trustspace_mpc::query::{self, Strategy, avg_units, fixed};
use trustspace_mpc::{MpcError, RangeCheck};

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
    assert!(
        matches!(
            e,
            MpcError::Range {
                check: RangeCheck::MarketTotal,
                ..
            }
        ),
        "{e}"
    );
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
    // Three arguments; no keys; a zero unit; a categorical value column.
    let e = trustspace_mpc::sql::plan("SELECT HHI(revenue, company) FROM revenues", &s);
    assert!(matches!(e, Err(MpcError::Unsupported(_))), "{e:?}");
    for bad in [
        "SELECT HHI(revenue, company, 0, 1.00) FROM revenues",
        "SELECT HHI(revenue, sector, 300, 0.00) FROM revenues",
        "SELECT HHI(sector, company, 300, 1) FROM revenues",
    ] {
        let e = trustspace_mpc::sql::plan(bad, &s);
        assert!(matches!(e, Err(MpcError::Query(_))), "{bad}: {e:?}");
    }
}
