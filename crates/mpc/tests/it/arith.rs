//! Property tests of the share arithmetic and the accumulators: replicated shares reconstruct
//! to the secret and expose a tampered replica, local operations are linear over Z_2^64 (the
//! ring wraps exactly as `u64` and two's-complement `i64` do), the engine's products and
//! openings are exact, and the holders' partial aggregates and the parties' per-group
//! aggregates agree with plain arithmetic on the revealed values.

use std::time::Duration;

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use trustspace_data::{Record, Schema, Value};
use trustspace_mpc::engine::{Mode, Party};
use trustspace_mpc::partial;
use trustspace_mpc::query::{self, Strategy as Contributions};
use trustspace_mpc::share::{Kind, Shares, reconstruct, split};
use trustspace_mpc::sql::plan;
use trustspace_mpc::transport::memory::{self, MemoryTransport};

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Arithmetic), Just(Kind::Boolean)]
}

/// Two vectors of the same length.
fn pair() -> impl Strategy<Value = (Vec<u64>, Vec<u64>)> {
    prop::collection::vec((any::<u64>(), any::<u64>()), 0..24).prop_map(|v| v.into_iter().unzip())
}

fn shared(kind: Kind, values: &[u64], seed: u64) -> [Shares; 3] {
    split(kind, values, &mut ChaCha20Rng::seed_from_u64(seed))
}

/// The reconstruction of `f` applied to each party's shares.
fn each(parts: &[Shares; 3], f: impl Fn(usize, &Shares) -> Shares) -> Vec<u64> {
    let out: [Shares; 3] = std::array::from_fn(|i| f(i, &parts[i]));
    reconstruct(&out).expect("local operations keep the replicas consistent")
}

/// Runs `f` as each of the three parties (semi-honest) over an in-process mesh.
fn run3<R: Send>(f: impl Fn(&mut Party<MemoryTransport>) -> R + Sync) -> Vec<R> {
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = memory::mesh(Duration::from_secs(30))
            .into_iter()
            .map(|net| s.spawn(move || f(&mut Party::new(net, Mode::SemiHonest).expect("set-up"))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("party thread"))
            .collect()
    })
}

proptest! {
    #[test]
    fn shares_reconstruct_to_the_secret_and_a_changed_replica_is_caught(
        values in prop::collection::vec(any::<u64>(), 1..24),
        kind in kind(),
        seed in any::<u64>(),
        (party, index, bit) in (0usize..3, any::<prop::sample::Index>(), 0u32..64),
    ) {
        let parts = shared(kind, &values, seed);
        prop_assert_eq!(reconstruct(&parts), Some(values.clone()));
        let mut bad = parts.clone();
        let k = index.index(values.len());
        bad[party].a[k] ^= 1 << bit;
        prop_assert_eq!(reconstruct(&bad), None);
    }

    #[test]
    fn local_operations_are_linear_in_the_ring(
        (x, y) in pair(),
        c in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let (sx, sy) = (
            shared(Kind::Arithmetic, &x, seed),
            shared(Kind::Arithmetic, &y, seed ^ 1),
        );
        let zip = |f: fn(u64, u64) -> u64| -> Vec<u64> {
            x.iter().zip(&y).map(|(a, b)| f(*a, *b)).collect()
        };
        prop_assert_eq!(each(&sx, |i, s| s.add(&sy[i])), zip(u64::wrapping_add));
        prop_assert_eq!(each(&sx, |i, s| s.sub(&sy[i])), zip(u64::wrapping_sub));
        let scaled: Vec<u64> = x.iter().map(|a| a.wrapping_mul(c)).collect();
        prop_assert_eq!(each(&sx, |_, s| s.scale(c)), scaled);
        // c·x + y: linear combinations stay linear.
        let combo: Vec<u64> = x.iter().zip(&y).map(|(a, b)| a.wrapping_mul(c).wrapping_add(*b)).collect();
        prop_assert_eq!(each(&sx, |i, s| s.scale(c).add(&sy[i])), combo);
        let plus: Vec<u64> = x.iter().map(|a| a.wrapping_add(c)).collect();
        prop_assert_eq!(each(&sx, |i, s| s.add_public(i, &vec![c; s.len()])), plus);
        let minus: Vec<u64> = x.iter().map(|a| c.wrapping_sub(*a)).collect();
        prop_assert_eq!(each(&sx, |i, s| s.public_minus(i, c)), minus);
        let total = x.iter().fold(0u64, |t, a| t.wrapping_add(*a));
        prop_assert_eq!(each(&sx, |_, s| s.sum()), vec![total]);
    }

    #[test]
    fn boolean_operations_are_xor_and_and(
        (x, y) in pair(),
        mask in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let (sx, sy) = (
            shared(Kind::Boolean, &x, seed),
            shared(Kind::Boolean, &y, seed ^ 1),
        );
        let xor: Vec<u64> = x.iter().zip(&y).map(|(a, b)| a ^ b).collect();
        prop_assert_eq!(each(&sx, |i, s| s.add(&sy[i])), xor);
        let and: Vec<u64> = x.iter().map(|a| a & mask).collect();
        prop_assert_eq!(each(&sx, |_, s| s.scale(mask)), and);
        let flipped: Vec<u64> = x.iter().map(|a| a ^ mask).collect();
        prop_assert_eq!(each(&sx, |i, s| s.add_public(i, &vec![mask; s.len()])), flipped);
    }

    #[test]
    fn signed_values_wrap_as_twos_complement(
        v in prop::collection::vec((any::<i64>(), any::<i64>()), 1..16),
        c in any::<i64>(),
        seed in any::<u64>(),
    ) {
        let (x, y): (Vec<i64>, Vec<i64>) = v.into_iter().unzip();
        let ring = |s: &[i64]| s.iter().map(|a| *a as u64).collect::<Vec<_>>();
        let (sx, sy) = (
            shared(Kind::Arithmetic, &ring(&x), seed),
            shared(Kind::Arithmetic, &ring(&y), seed ^ 1),
        );
        let signed = |w: Vec<u64>| w.into_iter().map(|a| a as i64).collect::<Vec<_>>();
        let sum: Vec<i64> = x.iter().zip(&y).map(|(a, b)| a.wrapping_add(*b)).collect();
        prop_assert_eq!(signed(each(&sx, |i, s| s.add(&sy[i]))), sum);
        let neg: Vec<i64> = x.iter().map(|a| a.wrapping_neg()).collect();
        prop_assert_eq!(signed(each(&sx, |_, s| s.scale(u64::MAX))), neg);
        let prod: Vec<i64> = x.iter().map(|a| a.wrapping_mul(c)).collect();
        prop_assert_eq!(signed(each(&sx, |_, s| s.scale(c as u64))), prod);
    }
}

proptest! {
    // Each case runs three party threads.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn the_engines_products_and_openings_are_exact(
        (x, y) in pair(),
        kind in kind(),
        seed in any::<u64>(),
    ) {
        let (sx, sy) = (shared(kind, &x, seed), shared(kind, &y, seed ^ 1));
        let opened = run3(|p| {
            let me = p.me();
            let z = p.mul(&sx[me], &sy[me]).expect("product");
            (p.open(&sx[me]).expect("open x"), p.open(&z).expect("open z"))
        });
        let want: Vec<u64> = x
            .iter()
            .zip(&y)
            .map(|(a, b)| match kind {
                Kind::Arithmetic => a.wrapping_mul(*b),
                Kind::Boolean => a & b,
            })
            .collect();
        for (ox, oz) in opened {
            prop_assert_eq!(&ox, &x);
            prop_assert_eq!(&oz, &want);
        }
    }
}

const CATS: [&str; 3] = ["a", "b", "c"];

fn table() -> Schema {
    Schema::from_toml(
        "name = \"t\"\n[[columns]]\nname = \"grp\"\ntype = \"categorical\"\n\
         values = [\"a\", \"b\", \"c\"]\n[[columns]]\nname = \"x\"\ntype = \"int\"\nbits = 16\n\
         min = -500\nmax = 500\n",
        "t.toml",
    )
    .expect("schema")
}

/// Holders' rows: (group, x).
fn holders() -> impl Strategy<Value = Vec<Vec<(usize, i64)>>> {
    prop::collection::vec(
        prop::collection::vec((0usize..3, -500i64..=500), 0..10),
        1..4,
    )
}

fn records(s: &Schema, rows: &[(usize, i64)]) -> Vec<Record> {
    let c = s.columns();
    rows.iter()
        .map(|&(g, x)| {
            vec![
                c[0].encode(&Value::Category(g as u32)).expect("category"),
                c[1].encode(&Value::Int(x)).expect("in range"),
            ]
        })
        .collect()
}

/// Per group: count, sum, min, max of the rows with `x > lit`.
fn plain(rows: &[(usize, i64)], lit: i64) -> Vec<(i64, i64, i64, i64)> {
    let mut out = vec![(0, 0, i64::MAX, i64::MIN); 3];
    for &(g, x) in rows.iter().filter(|(_, x)| *x > lit) {
        let o = &mut out[g];
        *o = (o.0 + 1, o.1 + x, o.2.min(x), o.3.max(x));
    }
    out
}

proptest! {
    // Each case runs two queries by MPC (three party threads each).
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn partial_and_shared_aggregates_agree_with_plain_arithmetic(
        data in holders(),
        lit in -600i64..600,
    ) {
        let s = table();
        let sql = format!(
            "SELECT grp, COUNT(*), SUM(x), MIN(x), MAX(x) FROM t WHERE x > {lit} GROUP BY grp"
        );
        let p = plan(&sql, &s).expect("plan");
        let recs: Vec<Vec<Record>> = data.iter().map(|h| records(&s, h)).collect();
        // Each holder's partial aggregates (layout: count, sum, min, max; a sentinel beyond
        // the range for an empty group) are its rows' plain aggregates.
        for (h, r) in data.iter().zip(&recs) {
            let parts = partial::aggregate(&p, &s, r).expect("partials");
            let want = plain(h, lit);
            let col = |f: fn(&(i64, i64, i64, i64)) -> i64| -> Vec<u64> {
                want.iter().map(|w| f(w) as u64).collect()
            };
            prop_assert_eq!(&parts[0], &col(|w| w.0));
            prop_assert_eq!(&parts[1], &col(|w| w.1));
            prop_assert_eq!(&parts[2], &col(|w| if w.0 == 0 { 501 } else { w.2 }));
            prop_assert_eq!(&parts[3], &col(|w| if w.0 == 0 { -501 } else { w.3 }));
        }
        // The parties' combination, revealed: the groups with rows, in dictionary order.
        let all: Vec<(usize, i64)> = data.concat();
        let expect: Vec<Vec<String>> = plain(&all, lit)
            .iter()
            .enumerate()
            .filter(|(_, w)| w.0 > 0)
            .map(|(g, w)| {
                vec![CATS[g].to_string(), w.0.to_string(), w.1.to_string(), w.2.to_string(), w.3.to_string()]
            })
            .collect();
        for strategy in [Contributions::Partials, Contributions::Rows] {
            let got = query::run_local(&s, &recs, &sql, Mode::SemiHonest, strategy)
                .expect("query");
            prop_assert_eq!(&got.rows, &expect, "{:?}", strategy);
        }
    }
}
