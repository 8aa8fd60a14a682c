//! Finance workloads: compliance of payment transactions with the reference policy (amount
//! range, sanctions blocklist of 10,000 counterparties, flagged share at most 1%).
//!
//! `cargo bench --bench finance` (sizes: `TRUSTSPACE_BENCH_RECORDS=1024,4096`)

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use trustspace::data::synth::Table;

fn finance(c: &mut Criterion) {
    common::zk(
        c,
        "finance_compliance",
        Table::Transactions,
        &trustspace::zk::reference::finance_policy(7),
        256,
        &common::sizes(&[1024]),
    );
}

criterion_group!(benches, finance);
criterion_main!(benches);
