//! Healthcare workloads: compliance of hospital encounters with the reference policy (age range,
//! consent, allowed ICD-10 chapters, aspirin dose conditional, total-cost bound, revealed).
//!
//! `cargo bench --bench healthcare` (sizes: `TRUSTSPACE_BENCH_RECORDS=4096,65536`)

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use trustspace::data::synth::Table;

fn healthcare(c: &mut Criterion) {
    common::zk(
        c,
        "healthcare_compliance",
        Table::Encounters,
        &trustspace::zk::reference::healthcare_policy(),
        1024,
        &common::sizes(&[4096]),
    );
}

criterion_group!(benches, healthcare);
criterion_main!(benches);
