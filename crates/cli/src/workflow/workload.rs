//! What each scenario of the main job runs: its holders, tables, policy, chunk size, the column
//! summed under encryption, the threshold it is checked against, and the secret-shared queries.

use super::{HOLDERS, Options, Scenario};
use trustspace_data::synth::Table;
use trustspace_mpc::engine::Mode;

/// One scenario's workload.
#[derive(Clone, Debug)]
pub struct Workload {
    /// What a holder is: `hospital` or `bank`.
    pub who: &'static str,
    /// The tables each holder generates; the first is proven, queried and summed.
    pub tables: [Table; 3],
    /// The published policy (TOML) for the first table.
    pub policy: String,
    /// Largest chunk size (records per chunk proof).
    pub chunk_max: u64,
    /// The column summed under encryption and checked against the threshold.
    pub he_column: &'static str,
    /// The threshold check's limit per row, as a fraction (numerator, denominator).
    pub threshold_per_row: (u64, u64),
    /// The secret-shared queries: the table, the SQL and the security mode.
    pub queries: Vec<(Table, String, Mode)>,
}

/// The workload of the scenario `o` asks for.
pub fn workload(o: &Options) -> Workload {
    match o.scenario {
        Scenario::Healthcare => Workload {
            who: "hospital",
            tables: [Table::Encounters, Table::Diagnoses, Table::Medications],
            policy: trustspace_zk::reference::healthcare_policy(),
            chunk_max: 512,
            he_column: "length_of_stay",
            // Capacity planned at 5 bed-days per encounter.
            threshold_per_row: (5, 1),
            queries: vec![
                (
                    Table::Encounters,
                    "SELECT medication, COUNT(*) AS n, AVG(cost) FROM encounters \
                     WHERE age >= 65 AND consent = true GROUP BY medication \
                     ORDER BY n DESC LIMIT 5"
                        .into(),
                    Mode::Malicious,
                ),
                (
                    Table::Diagnoses,
                    "SELECT diagnosis, COUNT(*) AS n FROM diagnoses GROUP BY diagnosis \
                     ORDER BY n DESC LIMIT 10"
                        .into(),
                    Mode::SemiHonest,
                ),
            ],
        },
        Scenario::Finance => Workload {
            who: "bank",
            tables: [Table::Transactions, Table::Exposures, Table::Revenues],
            policy: trustspace_zk::reference::finance_policy(o.seed),
            chunk_max: 256,
            he_column: "aml_flag",
            // At most 1% of transactions flagged.
            threshold_per_row: (1, 100),
            queries: vec![
                (
                    Table::Transactions,
                    "SELECT currency, COUNT(*) AS n, SUM(amount), AVG(amount) FROM transactions \
                     WHERE aml_flag = false GROUP BY currency ORDER BY n DESC LIMIT 5"
                        .into(),
                    Mode::Malicious,
                ),
                (
                    Table::Revenues,
                    // The generator registers about one company per ten revenue rows.
                    format!(
                        "SELECT HHI(revenue, company, {}, 10000.00) AS hhi FROM revenues",
                        (o.records * u64::from(HOLDERS) / 10).max(5)
                    ),
                    Mode::Malicious,
                ),
            ],
        },
    }
}
