//! Regressions of what the fuzz targets (`crates/fuzz/src/mpc.rs`) found in the decoders of
//! untrusted input, each asserting the error the input now gets.

use trustspace_data::Schema;
use trustspace_mpc::MpcError;
use trustspace_mpc::error::{Peer, RangeCheck};
use trustspace_mpc::fuzzing::decode_words;
use trustspace_mpc::query::check_ranges;
use trustspace_mpc::sql::{MAX_NESTING, plan};

fn schema() -> Schema {
    Schema::from_toml(
        "name = \"t\"\n[[columns]]\nname = \"flag\"\ntype = \"bool\"\n\
         [[columns]]\nname = \"big\"\ntype = \"int\"\nbits = 64\n",
        "t.toml",
    )
    .expect("schema")
}

/// `mpc_sql`: the range checks multiplied the row count by squared column bounds in `i128`
/// without a limit. For `VAR` over a 64-bit column, `rows · 2^63 · 2^63` overflows from two
/// rows on: a panic with overflow checks, and without them a wrapped negative bound that let
/// the query through. A holder announces its row count, so any count must be refused cleanly.
#[test]
fn range_checks_refuse_any_row_count_without_overflowing() {
    let s = schema();
    let var = plan("SELECT VAR(big) AS v FROM t", &s).expect("plan");
    for rows in [1, 2, 3, 1 << 40, usize::MAX] {
        assert!(
            matches!(
                check_ranges(&var, &s, rows),
                Err(MpcError::Range {
                    check: RangeCheck::Overflow { agg: 0 },
                    ..
                })
            ),
            "VAR(big) over {rows} rows"
        );
    }
    assert!(
        check_ranges(&var, &s, 0).is_ok(),
        "no rows: nothing to overflow"
    );
    // An aggregate of a 64-bit column compared in HAVING / ORDER BY, over the largest row
    // count a holder can announce: `rows · (2^63 + 1)` overflowed `i128` too.
    let ranked = plan(
        "SELECT flag, SUM(big) FROM t GROUP BY flag HAVING SUM(big) > 0 \
         ORDER BY SUM(big) DESC LIMIT 1",
        &s,
    )
    .expect("plan");
    assert!(matches!(
        check_ranges(&ranked, &s, usize::MAX),
        Err(MpcError::Range {
            check: RangeCheck::Compared { agg: 0 },
            ..
        })
    ));
}

/// `mpc_wire_words`: an engine message expected to hold `n` ring elements was checked against
/// `n * 8` bytes, which overflows for `n` above `usize::MAX / 8` (a panic with overflow
/// checks; the engine's own lengths never get there, so this was latent).
#[test]
fn an_engine_message_of_an_impossible_length_is_malformed() {
    for n in [usize::MAX / 8 + 1, usize::MAX] {
        assert!(matches!(
            decode_words(&[0; 8], n, 2),
            Err(MpcError::Malformed {
                peer: Peer::Party(2),
                ..
            })
        ));
    }
}

/// `mpc_sql`: `FROM ((((… t WHERE ((((…` (42 parentheses) overflowed a 2 MiB thread stack in
/// the parser where sqlparser is built unoptimised (the workspace's test profile): an abort of
/// the party parsing a client's join, not an error. The parser now stops at
/// [`MAX_NESTING`] levels.
#[test]
fn sql_nested_deeper_than_the_limit_is_unsupported_not_a_stack_overflow() {
    let nested = [
        format!(" FROM{} t WHERE {}", "(".repeat(18), "(".repeat(24)),
        format!(
            "SELECT COUNT(*) FROM {} t WHERE {}",
            "(".repeat(30),
            "(".repeat(30)
        ),
        format!(
            "SELECT COUNT(*) FROM t WHERE x IN {}",
            "(SELECT x FROM t WHERE x IN ".repeat(40)
        ),
        format!(
            "SELECT COUNT(*) FROM t WHERE {}flag = true{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        ),
    ];
    let outcomes = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let s = schema();
            nested.map(|sql| plan(&sql, &s).map(|_| ()))
        })
        .expect("thread")
        .join()
        .expect("no stack overflow");
    for r in outcomes {
        assert!(
            matches!(&r, Err(MpcError::Unsupported(m)) if m.contains("nesting deeper than")),
            "{r:?}"
        );
    }
    // What the SQL subset writes still plans.
    let s = schema();
    let ok = "SELECT COUNT(*) FROM t WHERE ((flag = true AND (big > 0 OR NOT (big < -5)))) \
              OR (NOT (flag = false) AND big IN (1, 2, 3))";
    assert!(plan(ok, &s).is_ok());
}
