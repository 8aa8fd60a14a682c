//! Finance workloads of a data-space deployment (three banks): compliance of payment
//! transactions with the reference policy (amount range, sanctions blocklist of 10,000
//! counterparties, flagged share at most 1%), registering and verifying against the ledger, the
//! market-concentration (HHI) and filtered-average queries in MPC, and the encrypted AML-flag
//! sum and threshold check. What each id measures: `benches/common/mod.rs`.
//!
//! `cargo bench --bench finance` (sizes: `TRUSTSPACE_BENCH_RECORDS=1024`,
//! `TRUSTSPACE_BENCH_HHI=100000`, `TRUSTSPACE_BENCH_ROWS=30000`,
//! `TRUSTSPACE_BENCH_VALUES=3072`; a filter after `--` picks groups, e.g. `-- finance_mpc`)

mod common;

use common::{Query, Workload, sizes_from};
use criterion::Criterion;
use trustspace::data::synth::Table;
use trustspace::mpc::engine::Mode;
use trustspace::mpc::query::Strategy;

fn main() {
    if common::net::run_party_if_child() {
        return;
    }
    let workload = Workload {
        name: "finance",
        table: Table::Transactions,
        policy: trustspace::zk::reference::finance_policy(7),
        chunk: 256,
        records: sizes_from("TRUSTSPACE_BENCH_RECORDS", &[1024]),
        queries: vec![
            // Market concentration over per-company revenue summed across the banks (the
            // generator registers about one company per ten revenue rows); only the index and
            // the market total open.
            Query {
                name: "hhi",
                table: Table::Revenues,
                sql: |n| {
                    format!(
                        "SELECT HHI(revenue, company, {}, 10000.00) FROM revenues",
                        (n / 10).max(5)
                    )
                },
                strategy: Strategy::Partials,
                mode: Mode::SemiHonest,
                rows: sizes_from("TRUSTSPACE_BENCH_HHI", &[100_000]),
            },
            // The average unflagged payment, every row shared (the filter is evaluated in MPC).
            // Amounts are declared up to 2^48 - 1 cents, so the query refuses a sum over more
            // than 2^63 / 2^48 = 32,768 rows (it could overflow the ring): 30,000 rows.
            Query {
                name: "avg_where",
                table: Table::Transactions,
                sql: |_| {
                    "SELECT COUNT(*), SUM(amount), AVG(amount) FROM transactions \
                     WHERE aml_flag = false"
                        .into()
                },
                strategy: Strategy::Rows,
                mode: Mode::SemiHonest,
                rows: sizes_from("TRUSTSPACE_BENCH_ROWS", &[30_000]),
            },
        ],
        he_column: "aml_flag",
        he_values: sizes_from("TRUSTSPACE_BENCH_VALUES", &[3072]),
        // At most 1% of transactions flagged (the main job's step 5b).
        threshold_per_row: (1, 100),
    };
    let mut c = Criterion::default().configure_from_args();
    common::suite(&mut c, &workload);
    c.final_summary();
}
