//! Healthcare workloads of a data-space deployment (three hospitals): compliance of encounters
//! with the reference policy (age range, consent, allowed ICD-10 chapters, aspirin dose
//! conditional, total-cost bound, revealed), registering and verifying against the ledger, the
//! comorbidity and cohort-average queries in MPC, and the encrypted length-of-stay sum and
//! threshold check. What each id measures: `benches/common/mod.rs`.
//!
//! `cargo bench --bench healthcare` (sizes: `TRUSTSPACE_BENCH_RECORDS=4096`,
//! `TRUSTSPACE_BENCH_COHORT=32768`, `TRUSTSPACE_BENCH_ROWS=100000`,
//! `TRUSTSPACE_BENCH_VALUES=3072`; a filter after `--` picks groups, e.g. `-- healthcare_mpc`)

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
        name: "healthcare",
        table: Table::Encounters,
        policy: trustspace::zk::reference::healthcare_policy(),
        chunk: 1024,
        records: sizes_from("TRUSTSPACE_BENCH_RECORDS", &[4096]),
        queries: vec![
            // SMCQL/Secrecy comorbidity: the ten most frequent of 1,957 ICD-10-CM categories;
            // the ranking runs in MPC and only the top ten open.
            Query {
                name: "comorbidity",
                table: Table::Diagnoses,
                sql: |_| {
                    "SELECT diagnosis, COUNT(*) AS n FROM diagnoses GROUP BY diagnosis \
                     ORDER BY n DESC LIMIT 10"
                        .into()
                },
                strategy: Strategy::Partials,
                mode: Mode::SemiHonest,
                rows: sizes_from("TRUSTSPACE_BENCH_COHORT", &[32_768]),
            },
            // A cohort average with a filter, every row shared (the filter is evaluated in MPC).
            Query {
                name: "avg_where",
                table: Table::Encounters,
                sql: |_| {
                    "SELECT COUNT(*), AVG(cost) FROM encounters WHERE age >= 65 AND consent = true"
                        .into()
                },
                strategy: Strategy::Rows,
                mode: Mode::SemiHonest,
                rows: sizes_from("TRUSTSPACE_BENCH_ROWS", &[100_000]),
            },
        ],
        he_column: "length_of_stay",
        he_values: sizes_from("TRUSTSPACE_BENCH_VALUES", &[3072]),
        // Capacity planned at 5 bed-days per encounter (the main job's step 5b).
        threshold_per_row: (5, 1),
    };
    let mut c = Criterion::default().configure_from_args();
    common::suite(&mut c, &workload);
    c.final_summary();
}
