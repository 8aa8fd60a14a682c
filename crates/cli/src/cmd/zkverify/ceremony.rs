//! `zkverify --require-contributor` (and what every verification reports of keys a setup
//! ceremony made): the ceremony record carried in the verifying keys, checked with them alone
//! ([`trustspace_ceremony::provenance::check_record`]), and the organisations the verifier
//! requires among its contributors.

use super::{Cause, Cli, Failure};
use crate::cmd::zkprove::ceremony::{ContributionRecord, source_text};
use serde::Serialize;
use std::io::{self, Write};
use trustspace_ceremony::provenance::check_record;
use trustspace_data::error::escape_untrusted;
use trustspace_zk::VerifyingKeys;

/// The setup ceremony that made the keys, as their record shows it once checked.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct CeremonyCheck {
    /// The phase-1 file's last challenge, hex (which powers of tau).
    pub phase1: String,
    /// Every phase-2 contribution, in order.
    pub contributors: Vec<ContributionRecord>,
}

impl CeremonyCheck {
    /// Prints the contributors, one line each.
    pub fn render(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "  setup ceremony: {} phase-2 contributions (phase 1 {}…)",
            self.contributors.len(),
            &self.phase1[..16.min(self.phase1.len())]
        )?;
        for (i, c) in self.contributors.iter().enumerate() {
            writeln!(
                out,
                "    #{} {} {}, signed by {}",
                i + 1,
                c.name.as_deref().unwrap_or("(unnamed)"),
                c.source,
                c.signer.as_deref().unwrap_or("nobody")
            )?;
        }
        Ok(())
    }
}

/// Checks `keys`' ceremony record when they carry one, and that every `--require-contributor`
/// signed a contribution; keys without a record pass unless a contributor is required.
pub fn check(cli: &Cli, keys: &VerifyingKeys) -> Result<Option<CeremonyCheck>, Failure> {
    let Some(record) = &keys.ceremony else {
        if cli.require_contributor.is_empty() {
            return Ok(None);
        }
        return Err(Failure::invalid(Cause::Ceremony(
            "the keys carry no setup ceremony record: no contributor can be required".into(),
        )));
    };
    let contributors =
        check_record(keys).map_err(|e| Failure::invalid(Cause::Ceremony(e.to_string())))?;
    for required in &cli.require_contributor {
        let key = crate::cmd::public_key(required).map_err(|e| {
            Failure::bad_input(Cause::Argument(format!("--require-contributor: {e:#}")))
        })?;
        if !contributors.iter().any(|c| c.signer == Some(key)) {
            return Err(Failure::invalid(Cause::Ceremony(format!(
                "{key} signed no contribution to the setup ceremony that made the keys"
            ))));
        }
    }
    Ok(Some(CeremonyCheck {
        phase1: record.phase1.clone(),
        contributors: contributors
            .into_iter()
            .map(|c| ContributionRecord {
                name: c.name.as_deref().map(escape_untrusted),
                source: source_text(&c.source),
                signer: c.signer.map(|k| k.to_hex()),
            })
            .collect(),
    }))
}
