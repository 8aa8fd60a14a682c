//! Finance tables: payment transactions, loan exposures, and per-company revenues.
//!
//! ## Reference policies
//! - transactions: `AMOUNT_MIN <= amount <= AMOUNT_MAX` — [`Violation::AmountOutOfRange`];
//!   `counterparty` not on the [`blocklist`] of [`BLOCKLIST_LEN`] sanctioned counterparties —
//!   [`Violation::BlockedCounterparty`]; the share of rows with `aml_flag` at most
//!   [`MAX_FLAGGED_PER_MILLE`] per mille (clean data flags every 200th row, [`FLAGGED_PER_MILLE`]
//!   per mille, so any holder's contiguous share of 100 rows or more complies; an aggregate rule,
//!   so it is not planted per row).
//! - exposures: `exposure <= LARGE_EXPOSURE_LIMIT` — [`Violation::ExposureAboveLimit`].
//! - revenues: none; the table serves market-concentration (HHI) queries. Revenue follows a
//!   heavy-tailed distribution so a few companies dominate, as in real markets.

use rand::Rng;
use rand_chacha::ChaCha12Rng;
use std::collections::HashSet;

use super::{RowSource, Spec, Streams, Violation, weighted};
use crate::schema::{ColumnSpec, Schema, TypeName};
use crate::value::Value;

/// Reference policy: least transaction amount, in cents (0.01).
pub const AMOUNT_MIN: i128 = 1;
/// Reference policy: greatest transaction amount, in cents (1,000,000.00).
pub const AMOUNT_MAX: i128 = 100_000_000;
/// Counterparty ids are drawn from `0..COUNTERPARTIES`.
pub const COUNTERPARTIES: u64 = 1_000_000;
/// Entries on the sanctions blocklist.
pub const BLOCKLIST_LEN: usize = 10_000;
/// Clean data flags this many transactions per thousand for AML review.
pub const FLAGGED_PER_MILLE: u32 = 5;
/// One transaction in this many is flagged (`FLAGGED_PER_MILLE` per thousand).
const FLAG_SPACING: u64 = 1000 / FLAGGED_PER_MILLE as u64;
/// Reference policy: most flagged transactions per thousand (1%).
pub const MAX_FLAGGED_PER_MILLE: u32 = 10;
/// Reference policy: largest single exposure, in cents (25,000,000.00).
pub const LARGE_EXPOSURE_LIMIT: i128 = 2_500_000_000;

/// ISO 4217 currencies in the `currency` dictionary, with relative weights.
const CURRENCIES: &[(&str, u32)] = &[
    ("EUR", 40),
    ("USD", 25),
    ("GBP", 8),
    ("CHF", 5),
    ("JPY", 4),
    ("CNY", 6),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 3),
    ("CZK", 2),
    ("HUF", 1),
];

/// ISO 3166-1 alpha-2 countries in the `country` dictionary, with relative weights.
const COUNTRIES: &[(&str, u32)] = &[
    ("DE", 20),
    ("FR", 14),
    ("IT", 9),
    ("ES", 8),
    ("NL", 6),
    ("BE", 4),
    ("AT", 3),
    ("PL", 4),
    ("SE", 3),
    ("DK", 2),
    ("FI", 2),
    ("IE", 2),
    ("PT", 2),
    ("CZ", 2),
    ("HU", 1),
    ("GR", 1),
    ("RO", 1),
    ("LU", 2),
    ("CH", 4),
    ("NO", 2),
    ("GB", 8),
    ("US", 10),
    ("CA", 2),
    ("JP", 2),
    ("CN", 4),
    ("SG", 2),
    ("HK", 1),
    ("AE", 1),
    ("IN", 1),
    ("BR", 1),
];

/// NACE Rev. 2 sections (A agriculture … U extraterritorial organisations).
pub const SECTORS: &[&str] = &[
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S",
    "T", "U",
];

fn names(items: &[(&'static str, u32)]) -> Vec<&'static str> {
    items.iter().map(|(n, _)| *n).collect()
}

fn money(name: &str, bits: u32) -> ColumnSpec {
    ColumnSpec::decimal(name, 2, bits)
}

/// Schema of `transactions`.
pub fn transactions_schema() -> Schema {
    Schema::new(
        "transactions",
        vec![
            ColumnSpec::uint("transaction_id", 40),
            ColumnSpec::uint("account", 32),
            ColumnSpec::uint("counterparty", 32),
            money("amount", 48),
            ColumnSpec::categorical("currency", names(CURRENCIES)),
            ColumnSpec::new("executed_at", TypeName::Timestamp)
                .with_min("2000-01-01T00:00:00Z")
                .with_max("2099-12-31T23:59:59Z"),
            ColumnSpec::categorical("country", names(COUNTRIES)),
            ColumnSpec::new("aml_flag", TypeName::Bool),
        ],
    )
    .expect("built-in schema is valid")
}

/// Schema of `exposures`.
pub fn exposures_schema() -> Schema {
    Schema::new(
        "exposures",
        vec![
            ColumnSpec::uint("exposure_id", 40),
            ColumnSpec::uint("borrower", 32),
            money("exposure", 48),
            money("collateral_value", 48),
            // Basel risk weights, 0% to 1250%.
            ColumnSpec::decimal("risk_weight", 2, 11).with_max("12.50"),
            ColumnSpec::categorical("sector", SECTORS.iter().copied()),
        ],
    )
    .expect("built-in schema is valid")
}

/// Schema of `revenues`.
pub fn revenues_schema() -> Schema {
    Schema::new(
        "revenues",
        vec![
            ColumnSpec::uint("company", 32),
            ColumnSpec::categorical("sector", SECTORS.iter().copied()),
            ColumnSpec::uint("year", 12)
                .with_min("2000")
                .with_max("2099"),
            money("revenue", 56),
        ],
    )
    .expect("built-in schema is valid")
}

/// The sanctions blocklist for a seed: [`BLOCKLIST_LEN`] distinct counterparty ids from
/// `0..COUNTERPARTIES`, sorted. Clean transactions never name one.
pub fn blocklist(seed: u64) -> Vec<u64> {
    let mut r = Streams::new(seed, "blocklist").rng(0);
    let mut ids: Vec<u64> =
        rand::seq::index::sample(&mut r, COUNTERPARTIES as usize, BLOCKLIST_LEN)
            .into_iter()
            .map(|i| i as u64)
            .collect();
    ids.sort_unstable();
    ids
}

/// A heavy-tailed amount in cents: most small, a few large.
fn tiered(r: &mut ChaCha12Rng, tiers: &[((i128, i128), u32)]) -> i128 {
    let (lo, hi) = *weighted(r, tiers);
    r.gen_range(lo..=hi)
}

/// Row source of `transactions`.
pub(crate) struct Transactions {
    currencies: Vec<(u32, u32)>,
    countries: Vec<(u32, u32)>,
    blocked: Vec<u64>,
    blocked_set: HashSet<u64>,
    accounts: u64,
}

impl Transactions {
    pub(crate) fn new(spec: Spec) -> Self {
        let blocked = blocklist(spec.seed);
        let indexed = |items: &[(&str, u32)]| {
            items
                .iter()
                .enumerate()
                .map(|(i, (_, w))| (i as u32, *w))
                .collect()
        };
        Transactions {
            currencies: indexed(CURRENCIES),
            countries: indexed(COUNTRIES),
            blocked_set: blocked.iter().copied().collect(),
            blocked,
            // About fifty transactions per account.
            accounts: (spec.rows / 50).max(1),
        }
    }
}

impl RowSource for Transactions {
    fn row(&self, index: u64, r: &mut ChaCha12Rng, violation: Option<Violation>) -> Vec<Value> {
        let account = r.gen_range(0..self.accounts);
        let mut counterparty = loop {
            let c = r.gen_range(0..COUNTERPARTIES);
            if !self.blocked_set.contains(&c) {
                break c;
            }
        };
        let mut amount = tiered(
            r,
            &[
                ((100, 50_000), 60),
                ((50_000, 1_000_000), 30),
                ((1_000_000, 20_000_000), 9),
                ((20_000_000, AMOUNT_MAX), 1),
            ],
        );
        let currency = *weighted(r, &self.currencies);
        let country = *weighted(r, &self.countries);
        // 2024, uniformly over the year.
        let executed = 19_723 * 86_400 + r.gen_range(0..366 * 86_400);
        // Evenly spaced, not random: every window of rows (a whole table, or any holder's
        // contiguous share of it) flags at most one row in FLAG_SPACING, so clean data meets the
        // 1% bound at every size from 100 rows up (a random 0.5% rate breaks it in small samples).
        let flag = index % FLAG_SPACING == FLAG_SPACING - 1;
        match violation {
            None => {}
            Some(Violation::AmountOutOfRange) => {
                amount = if r.gen_bool(0.5) {
                    0
                } else {
                    AMOUNT_MAX + r.gen_range(1..=50 * AMOUNT_MAX)
                }
            }
            Some(Violation::BlockedCounterparty) => {
                counterparty = self.blocked[r.gen_range(0..self.blocked.len())]
            }
            Some(other) => unreachable!("{other:?} is not a transactions violation"),
        }
        vec![
            Value::Uint(index),
            Value::Uint(account),
            Value::Uint(counterparty),
            Value::Decimal(amount),
            Value::Category(currency),
            Value::Timestamp(executed),
            Value::Category(country),
            Value::Bool(flag),
        ]
    }
}

/// Row source of `exposures`.
pub(crate) struct Exposures {
    borrowers: u64,
}

impl Exposures {
    pub(crate) fn new(spec: Spec) -> Self {
        Exposures {
            borrowers: (spec.rows / 3).max(1),
        }
    }
}

impl RowSource for Exposures {
    fn row(&self, index: u64, r: &mut ChaCha12Rng, violation: Option<Violation>) -> Vec<Value> {
        let borrower = r.gen_range(0..self.borrowers);
        let mut exposure = tiered(
            r,
            &[
                ((1_000_000, 10_000_000), 50),
                ((10_000_000, 100_000_000), 35),
                ((100_000_000, 1_000_000_000), 13),
                ((1_000_000_000, LARGE_EXPOSURE_LIMIT), 2),
            ],
        );
        if let Some(v) = violation {
            assert_eq!(
                v,
                Violation::ExposureAboveLimit,
                "not an exposures violation"
            );
            exposure = LARGE_EXPOSURE_LIMIT + r.gen_range(1..=3 * LARGE_EXPOSURE_LIMIT);
        }
        let collateral = exposure * r.gen_range(0..=120) / 100;
        let risk_weight = [0, 20, 35, 50, 75, 100, 150][r.gen_range(0..7)];
        vec![
            Value::Uint(index),
            Value::Uint(borrower),
            Value::Decimal(exposure),
            Value::Decimal(collateral),
            Value::Decimal(risk_weight),
            Value::Category(r.gen_range(0..SECTORS.len()) as u32),
        ]
    }
}

/// Row source of `revenues`.
pub(crate) struct Revenues {
    companies: u64,
    sizes: Streams,
}

impl Revenues {
    pub(crate) fn new(spec: Spec) -> Self {
        Revenues {
            // About ten revenue records (years, business lines) per company.
            companies: (spec.rows / 10).max(5),
            sizes: Streams::new(spec.seed, "companies"),
        }
    }
}

impl RowSource for Revenues {
    fn row(&self, _index: u64, r: &mut ChaCha12Rng, _: Option<Violation>) -> Vec<Value> {
        let company = r.gen_range(0..self.companies);
        // A company's size class and sector are stable across its records: a few giants,
        // many small firms.
        let mut c = self.sizes.rng(company);
        let scale = *weighted(
            &mut c,
            &[
                (1_000_000_000i128, 1),
                (100_000_000, 9),
                (10_000_000, 30),
                (1_000_000, 60),
            ],
        );
        let sector = c.gen_range(0..SECTORS.len()) as u32;
        let revenue = scale * r.gen_range(50..=150) / 100 * 100;
        vec![
            Value::Uint(company),
            Value::Category(sector),
            Value::Uint(r.gen_range(2020..=2024)),
            Value::Decimal(revenue),
        ]
    }
}
