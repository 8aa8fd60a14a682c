//! `zkverify --ledger` (and what `--evidence` reports): the bundle verified against a ledger
//! trusting only its configuration and, with `--seen`, the last checkpoint accepted; optionally
//! an evidence file written and the verdict recorded on the ledger.

use super::{Cause, Cli, Failure, Outcome, required};
use crate::unix_now;
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;
use trustspace_data::error::escape_untrusted;
use trustspace_ledger_verifier::log::{Checkpoint, LedgerConfig};
use trustspace_ledger_verifier::{
    Body, CosignedCheckpoint, Entry, Evidence, Identity, LedgerError, LedgerView, Pin, PinKind,
    PublicKey, TrustFailure, Verdict, VerdictEntry,
};
use trustspace_zk::VerifyingKeys;
use trustspace_zk::bundle::ProofBundle;

/// The dataset entry a bundle was verified against.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct DatasetRef {
    /// Its index.
    pub index: u64,
    /// Its name.
    pub name: String,
    /// Who registered it.
    pub owner: PublicKey,
    /// When (seconds since the epoch, as signed by the owner).
    pub registered_at: u64,
}

/// The policy entry a bundle was verified against.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct PolicyRef {
    /// Its index.
    pub index: u64,
    /// Its name (chosen by its issuer: the digest identifies it).
    pub name: String,
    /// Its digest, hex.
    pub digest: String,
    /// Its verifying keys' digest, hex.
    pub keys_digest: String,
    /// Who registered it.
    pub issuer: PublicKey,
}

/// What the ledger established.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct LedgerCheck {
    /// Entries under the checkpoint everything was proven against.
    pub checkpoint_size: u64,
    /// Its root, hex.
    pub checkpoint_root: String,
    /// The dataset entry.
    pub dataset: DatasetRef,
    /// The policy entry.
    pub policy: PolicyRef,
    /// With `--record`: the verdict's entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_entry: Option<u64>,
}

impl LedgerCheck {
    /// The summary of a verdict.
    pub fn of(v: &Verdict) -> LedgerCheck {
        LedgerCheck {
            checkpoint_size: v.checkpoint.size,
            checkpoint_root: hex::encode(v.checkpoint.root),
            dataset: DatasetRef {
                index: v.dataset_index,
                name: v.dataset_name.clone(),
                owner: v.owner,
                registered_at: v.registered_at,
            },
            policy: PolicyRef {
                index: v.policy_index,
                name: v.policy_name.clone(),
                digest: v.policy_digest.clone(),
                keys_digest: v.keys_digest.clone(),
                issuer: v.issuer,
            },
            verdict_entry: None,
        }
    }

    /// The text lines `zkverify` prints for it (names JSON-quoted).
    pub fn render(&self, out: &mut dyn Write) -> io::Result<()> {
        if let Some(i) = self.verdict_entry {
            writeln!(out, "  verdict recorded on the ledger as entry {i}")?;
        }
        writeln!(
            out,
            "  on the ledger: dataset entry {} ({}), policy entry {} ({}), checkpoint of {} entries",
            self.dataset.index,
            quoted(&self.dataset.name),
            self.policy.index,
            quoted(&self.policy.name),
            self.checkpoint_size
        )?;
        writeln!(
            out,
            "  policy digest {}, verifying keys {}",
            self.policy.digest, self.policy.keys_digest
        )?;
        writeln!(
            out,
            "  issued by {}, dataset owned by {}",
            self.policy.issuer, self.dataset.owner
        )
    }
}

/// A name a registrant chose, quoted and escaped for a terminal (JSON quoting leaves DEL, C1
/// controls and bidirectional overrides as they are).
fn quoted(name: &str) -> String {
    escape_untrusted(&serde_json::Value::from(name).to_string())
}

/// What an offline verification (`--evidence`) pins: the verifier's keys (`--keys`), else a
/// policy digest (`--policy-digest`), else an issuer (`--issuer`), else what the configuration
/// pins; with nothing pinned anywhere, bad input (exit 2).
pub fn evidence_pin(cli: &Cli, config: &LedgerConfig) -> Result<Pin, Failure> {
    let arg = |e: anyhow::Error| Failure::bad_input(Cause::Argument(format!("{e:#}")));
    if let Some(k) = &cli.keys {
        return Ok(Pin::Keys(VerifyingKeys::load(k)?.digest()));
    }
    if let Some(d) = &cli.policy_digest {
        return Ok(Pin::Policy(
            crate::cmd::digest_arg(d, "--policy-digest").map_err(arg)?,
        ));
    }
    if let Some(i) = &cli.issuer {
        return Ok(Pin::Issuer(crate::cmd::public_key(i).map_err(arg)?));
    }
    if config.policies.is_empty() && config.keys.is_empty() {
        return Err(Failure::bad_input(Cause::Argument(
            "nothing pinned: give --keys, --policy-digest or --issuer (or a trust configuration \
             that lists its policies or keys)"
                .into(),
        )));
    }
    Ok(Pin::Configuration)
}

/// Checks a verdict against the pins given besides the one verified with (`--policy-digest`,
/// `--issuer`).
pub fn check_pins(cli: &Cli, v: &Verdict) -> Result<(), Failure> {
    let arg = |e: anyhow::Error| Failure::bad_input(Cause::Argument(format!("{e:#}")));
    let not = |pin| {
        Failure::from(LedgerError::Untrusted(TrustFailure::NotPinned {
            policy_index: v.policy_index,
            pin,
        }))
    };
    if let Some(d) = &cli.policy_digest {
        let d = crate::cmd::digest_arg(d, "--policy-digest").map_err(arg)?;
        if hex::encode(d) != v.policy_digest {
            return Err(not(PinKind::Policy));
        }
    }
    if let Some(i) = &cli.issuer
        && crate::cmd::public_key(i).map_err(arg)? != v.issuer
    {
        return Err(not(PinKind::Issuer));
    }
    Ok(())
}

/// The checkpoint in `path` (if given and present), checked against `config`.
pub fn load_seen(
    path: Option<&Path>,
    config: &LedgerConfig,
) -> Result<Option<Checkpoint>, Failure> {
    let Some(p) = path.filter(|p| p.exists()) else {
        return Ok(None);
    };
    let bad = |reason: String| {
        Failure::bad_input(Cause::File {
            path: p.to_path_buf(),
            reason,
        })
    };
    let bytes = std::fs::read(p).map_err(|e| bad(e.to_string()))?;
    let cp: CosignedCheckpoint = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    cp.verify(config)?;
    Ok(Some(cp.checkpoint))
}

/// Appends a signed verdict for `bundle` naming the entries it was verified against.
fn record_verdict(
    view: &dyn LedgerView,
    key: &Path,
    bundle: &ProofBundle,
    ev: &Evidence,
) -> Result<u64, Failure> {
    let id = Identity::load(key)?;
    let digest = |hex: &str| -> Result<[u8; 32], Failure> { Ok(Entry::from_hex(hex)?.digest()?) };
    let body = Body::Verdict(VerdictEntry::new(
        bundle,
        (ev.dataset.index, digest(&ev.dataset.entry)?),
        (ev.policy.index, digest(&ev.policy.entry)?),
        true,
    ));
    let receipt = view.append(vec![Entry::sign(body, unix_now(), &id)?])?;
    Ok(receipt.first_index)
}

/// `zkverify --ledger LOCATION`.
pub(super) fn verify_ledger(
    cli: &Cli,
    location: &str,
    bundle: &ProofBundle,
    keys: &VerifyingKeys,
) -> Result<Outcome, Failure> {
    let config = LedgerConfig::load(required(cli.trust.as_deref(), "--trust")?)?;
    let seen = load_seen(cli.seen.as_deref(), &config)?;
    let view = trustspace_ledger_verifier::http::open(location)?;
    let (v, ev) =
        trustspace_ledger_verifier::verify(bundle, keys, view.as_ref(), &config, seen.as_ref())?;
    check_pins(cli, &v)?;
    if let Some(out) = &cli.evidence_out {
        ev.save(out)?;
    }
    let mut check = LedgerCheck::of(&v);
    if let Some(key) = &cli.record {
        check.verdict_entry = Some(record_verdict(view.as_ref(), key, bundle, &ev)?);
    }
    if let Some(p) = &cli.seen {
        let text = serde_json::to_string_pretty(&ev.checkpoint).map_err(|e| {
            Failure::bad_input(Cause::File {
                path: p.clone(),
                reason: e.to_string(),
            })
        })?;
        std::fs::write(p, text).map_err(|e| {
            Failure::bad_input(Cause::File {
                path: p.clone(),
                reason: e.to_string(),
            })
        })?;
    }
    Ok(outcome(&v, check))
}

/// The outcome of a ledger or evidence verification with its summary `check`.
pub fn outcome(v: &Verdict, check: LedgerCheck) -> Outcome {
    Outcome {
        records: v.records,
        revealed: v.revealed.clone(),
        ledger: Some(check),
        chain: None,
        binding: super::Binding {
            policy_digest: v.policy_digest.clone(),
            keys_digest: v.keys_digest.clone(),
            owner: v.owner.to_string(),
        },
        ceremony: None,
    }
}
