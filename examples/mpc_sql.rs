//! Three hospitals ask one SQL question of their joint encounters without pooling them: the
//! rows are secret-shared among three compute parties (here threads in this process; in a
//! deployment `mpc-party` processes over mutual TLS, see the README), which answer in MPC and
//! open nothing but the result.
//!
//! `cargo run --release --example mpc_sql [records per hospital]`

use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::mpc::engine::Mode;
use trustspace::mpc::query::{Strategy, run_local};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let records: u64 = std::env::args().nth(1).map_or(Ok(2000), |s| s.parse())?;
    let mut spec = Spec::new(Table::Encounters, 3 * records, 1);
    spec.holders = 3;
    let data = Generator::new(spec)?;
    let holders: Vec<Vec<_>> = (0..3).map(|h| data.holder_records(h).collect()).collect();

    let sql = "SELECT medication, COUNT(*) AS n, AVG(cost), MAX(length_of_stay) \
               FROM encounters WHERE age BETWEEN 40 AND 65 AND consent = true \
               GROUP BY medication HAVING COUNT(*) > 5 ORDER BY n DESC LIMIT 5";
    // Malicious-with-abort: a party that deviates is caught before any result leaves.
    let result = run_local(
        data.schema(),
        &holders,
        sql,
        Mode::Malicious,
        Strategy::Partials,
    )?;
    println!("{}", result.columns.join(" | "));
    for row in &result.rows {
        println!("{}", row.join(" | "));
    }
    Ok(())
}
