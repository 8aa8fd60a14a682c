//! The reference policies the benchmarks, examples and tests use, over the generators' tables
//! (`trustspace_data::synth`), matching the rules the generators plant violations of.
//!
//! - healthcare (`encounters`): age range, consent, allowed ICD-10 chapters, the aspirin dose
//!   conditional, and a bound on the total cost (budget per encounter × encounters; revealed);
//! - finance (`transactions`): amount range, a sanctions blocklist of 10,000 counterparties,
//!   and at most 1% of transactions flagged for AML review.

use trustspace_data::synth::{finance, healthcare, icd10};

/// The agreement's cost budget per encounter (50,000.00; the generator's clean data averages
/// about 20,000.00). The reference policy bounds the *total* cost by this budget times the number
/// of encounters (`sum <= budget * count`), so one published policy fits every holder's dataset,
/// whatever its size; a fixed total would fail for clean data beyond ~50,000 encounters.
pub const COST_BUDGET_PER_ENCOUNTER: &str = "50000.00";

/// The healthcare reference policy (TOML), over the `encounters` schema.
pub fn healthcare_policy() -> String {
    let allowed: Vec<String> = icd10::categories()
        .iter()
        .filter(|c| !healthcare::EXCLUDED_CHAPTERS.contains(&c.chapter))
        .map(|c| format!("{:?}", c.code))
        .collect();
    format!(
        r#"name = "hospital data-sharing agreement (reference)"

[[record]]
name = "adults only"
require = {{ column = "age", between = [{min_age}, 120] }}

[[record]]
name = "patient consent"
require = {{ column = "consent", eq = "true" }}

[[record]]
name = "diagnoses from the allowed ICD-10 chapters"
require = {{ column = "diagnosis", in = [{allowed}] }}

[[record]]
name = "aspirin daily dose"
when = {{ column = "medication", in = ["aspirin"] }}
require = {{ column = "daily_dose", le = {dose} }}

[[aggregate]]
name = "total cost"
sum = "cost"
max_mean = "{COST_BUDGET_PER_ENCOUNTER}"
reveal = true
"#,
        min_age = healthcare::MIN_AGE,
        allowed = allowed.join(", "),
        dose = healthcare::ASPIRIN_MAX_DAILY_MG,
    )
}

/// The finance reference policy (TOML), over the `transactions` schema, with the blocklist of
/// the generator seed `seed`.
pub fn finance_policy(seed: u64) -> String {
    let blocked: Vec<String> = finance::blocklist(seed)
        .iter()
        .map(u64::to_string)
        .collect();
    let cents = |c: i128| format!("{}.{:02}", c / 100, c % 100);
    format!(
        r#"name = "payments compliance (reference)"

[[record]]
name = "amount range"
require = {{ column = "amount", between = ["{min}", "{max}"] }}

[[record]]
name = "sanctions blocklist"
require = {{ column = "counterparty", not_in = [{blocked}] }}

[[aggregate]]
name = "flagged for AML review"
count = true
where = {{ column = "aml_flag", eq = "true" }}
max_share = "0.{share:02}"
"#,
        min = cents(finance::AMOUNT_MIN),
        max = cents(finance::AMOUNT_MAX),
        blocked = blocked.join(", "),
        share = finance::MAX_FLAGGED_PER_MILLE / 10,
    )
}
