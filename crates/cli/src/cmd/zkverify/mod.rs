//! `zkverify`: verify a proof bundle — against a commitment you hold, against a ledger
//! ([`ledger`]), from an offline evidence file, or against a registry on an EVM chain
//! ([`chain`]). [`verify`] returns the [`Outcome`] or the [`Failure`] with its cause as data;
//! [`render`] prints either, as text or JSON.
//!
//! Exit codes: 0 valid; 1 not valid (invalid proof; a bundle for another commitment, policy or
//! circuit; unknown dataset or policy; checkpoint without quorum; fork; key mismatch; ...);
//! 2 bad input (unreadable or malformed files, unreachable ledger, usage errors).

pub mod ceremony;
pub mod chain;
pub mod failure;
pub mod ledger;

use clap::Parser;
use serde::Serialize;
use std::io::{self, Write};
use std::path::PathBuf;
use trustspace_data::error::escape_controls;
use trustspace_ledger_verifier::log::LedgerConfig;
use trustspace_ledger_verifier::{Evidence, verify_evidence};
use trustspace_zk::bundle::{ProofBundle, Revealed};
use trustspace_zk::{Commitment, VerifyingKeys};

pub use failure::{Cause, Failure, Kind};

/// `zkverify`'s arguments (a field's doc comment is its `--help` text).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "zkverify",
    version,
    about = "Verify a trustspace proof bundle",
    after_help = "Examples:\n  zkverify --keys run/verifying.json --commitment run/commitment.json run/bundle.json\n  zkverify --ledger led/ --trust led/config.json --keys run/verifying.json --evidence-out ev.json run/bundle.json\n  zkverify --ledger http://127.0.0.1:7800 --trust config.json --seen seen.json --keys vk.json bundle.json\n  zkverify --evidence ev.json --trust config.json --keys vk.json\n  zkverify --evidence ev.json --trust config.json --policy-digest <64 hex digits>\n  zkverify --chain http://127.0.0.1:8545 --registry 0x... --block 0x<block hash> --onchain --keys vk.json bundle.json\n\nExit codes: 0 valid; 1 invalid proof, mismatch, or ledger check failed; 2 bad input."
)]
pub struct Cli {
    /// Verifying keys from `zkprove setup`: the keys you verify with (against a ledger or a
    /// chain, the registered keys must be these); with --evidence, the keys you pin (the
    /// evidence's policy must be registered with these).
    #[arg(long, required_unless_present = "evidence")]
    pub keys: Option<PathBuf>,
    /// Pin a policy: its digest (64 hex digits); the policy verified against must be this one.
    #[arg(long)]
    pub policy_digest: Option<String>,
    /// Pin a policy issuer: its key file or public key (64 hex digits); the policy must be
    /// registered by this key. With --chain: an EVM account (`0x` and 40 hex digits).
    #[arg(long)]
    pub issuer: Option<String>,
    /// The commitment the verifier trusts (without a ledger).
    #[arg(long, conflicts_with_all = ["ledger", "evidence", "trust", "seen"])]
    pub commitment: Option<PathBuf>,
    /// Verify against a ledger: a directory or an `http://` URL.
    #[arg(long, requires = "trust", conflicts_with = "evidence")]
    pub ledger: Option<String>,
    /// Verify an evidence file offline.
    #[arg(long, requires = "trust")]
    pub evidence: Option<PathBuf>,
    /// The ledger configuration you trust (validators and threshold).
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// A file holding the last checkpoint you accepted: the ledger must prove it extends it;
    /// updated after a successful verification against a ledger.
    #[arg(long)]
    pub seen: Option<PathBuf>,
    /// With --ledger: after a successful verification, record the verdict on the ledger, signed
    /// with this key (from `ledger keygen`).
    #[arg(long, requires = "ledger")]
    pub record: Option<PathBuf>,
    /// With --ledger: write an evidence file that re-verifies offline.
    #[arg(long, requires = "ledger")]
    pub evidence_out: Option<PathBuf>,
    /// Verify against a trustspace registry on an EVM chain: its JSON-RPC URL. The registry's
    /// storage is proven with eth_getProof against the block header, which is hashed locally.
    #[arg(
        long,
        requires = "registry",
        conflicts_with_all = ["ledger", "evidence", "commitment", "seen"]
    )]
    pub chain: Option<String>,
    /// With --chain: the registry contract's address.
    #[arg(long, requires = "chain")]
    pub registry: Option<String>,
    /// With --chain: the block to verify at. A block hash is the trust anchor (the header must
    /// hash to it); a number or `latest` (the default) only checks the header against its own
    /// hash, which is printed for you to compare with a source you trust.
    #[arg(long, requires = "chain")]
    pub block: Option<String>,
    /// With --chain: also ask the registry contract (eth_call of verifyBundle at that block) and
    /// require its answer to agree.
    #[arg(long, requires = "chain")]
    pub onchain: bool,
    /// With --chain: accept a block given by number or `latest` (default: only a block hash,
    /// the trust anchor, is accepted; anything else exits 1). The header is then only checked
    /// against its own hash, which is printed for you to compare with a source you trust.
    #[arg(long, requires = "chain")]
    pub allow_untrusted_block: bool,
    /// Require that this organisation contributed to the setup ceremony that made the keys:
    /// its ledger key (key file or 64 hex digits) signed a contribution in the ceremony record
    /// the keys carry (repeat for several). The record is checked with the keys: every
    /// contribution's proof of knowledge, and δ the product of their secrets. With
    /// --evidence, give --keys too.
    #[arg(long)]
    pub require_contributor: Vec<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// The proof bundle (not with --evidence).
    #[arg(required_unless_present = "evidence", conflicts_with = "evidence")]
    pub bundle: Option<PathBuf>,
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Records that comply.
    pub records: u64,
    /// The totals the policy reveals, in the columns' units.
    pub revealed: Vec<Revealed>,
    /// With a ledger or evidence file: what the ledger established.
    pub ledger: Option<ledger::LedgerCheck>,
    /// With a chain: what the registry established.
    pub chain: Option<chain::ChainCheck>,
    /// What the verdict is bound to, in every mode.
    pub binding: Binding,
    /// The setup ceremony recorded in the keys, checked (keys a ceremony made).
    pub ceremony: Option<ceremony::CeremonyCheck>,
}

/// What a verdict is bound to, whatever the mode: the policy, the verifying keys and the
/// dataset's owner (the issuer, where there is one, is in the ledger or chain check).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The policy's digest, hex.
    pub policy_digest: String,
    /// The verifying keys' digest ([`VerifyingKeys::digest`]), hex.
    pub keys_digest: String,
    /// The dataset's owner: a ledger public key, an EVM account, or (against a commitment you
    /// hold) the commitment's owner field, hex.
    pub owner: String,
}

impl Binding {
    /// The binding of a verification with `keys` for a dataset owned by `owner`.
    pub fn new(keys: &VerifyingKeys, owner: String) -> Binding {
        Binding {
            policy_digest: hex::encode(keys.policy_digest),
            keys_digest: hex::encode(keys.digest()),
            owner,
        }
    }
}

/// `--policy-digest`, where the keys verified with are the verifier's own: they must be for
/// the pinned policy.
fn check_policy_pin(cli: &Cli, keys: &VerifyingKeys) -> Result<(), Failure> {
    let Some(d) = &cli.policy_digest else {
        return Ok(());
    };
    let d = crate::cmd::digest_arg(d, "--policy-digest")
        .map_err(|e| Failure::bad_input(Cause::Argument(format!("{e:#}"))))?;
    if d != keys.policy_digest {
        return Err(Failure::invalid(Cause::OtherPolicy {
            digest: hex::encode(keys.policy_digest),
        }));
    }
    Ok(())
}

/// A required argument clap should have enforced.
fn required<'a, T: ?Sized>(value: Option<&'a T>, what: &str) -> Result<&'a T, Failure> {
    value.ok_or_else(|| Failure::bad_input(Cause::Argument(format!("{what} is required"))))
}

/// Verifies as the arguments say.
pub fn verify(cli: &Cli) -> Result<Outcome, Failure> {
    let keys = cli.keys.as_deref().map(VerifyingKeys::load).transpose()?;
    let mut outcome = verify_with(cli, keys.as_ref())?;
    outcome.ceremony = match &keys {
        Some(keys) => ceremony::check(cli, keys)?,
        None if cli.require_contributor.is_empty() => None,
        None => {
            return Err(Failure::bad_input(Cause::Argument(
                "--require-contributor: give --keys (the keys the evidence's policy is \
                 registered with)"
                    .into(),
            )));
        }
    };
    Ok(outcome)
}

/// The verification itself, with the keys given by `--keys` (if any).
fn verify_with(cli: &Cli, keys: Option<&VerifyingKeys>) -> Result<Outcome, Failure> {
    if let Some(path) = &cli.evidence {
        let config = LedgerConfig::load(required(cli.trust.as_deref(), "--trust")?)?;
        let seen = ledger::load_seen(cli.seen.as_deref(), &config)?;
        let ev = Evidence::load(path)?;
        let pin = ledger::evidence_pin(cli, &config)?;
        let v = verify_evidence(&ev, &config, &pin, seen.as_ref())?;
        ledger::check_pins(cli, &v)?;
        return Ok(ledger::outcome(&v, ledger::LedgerCheck::of(&v)));
    }
    let keys = required(keys, "--keys")?;
    check_policy_pin(cli, keys)?;
    let bundle = ProofBundle::load(required(cli.bundle.as_deref(), "the bundle")?)?;
    if let Some(url) = &cli.chain {
        return chain::verify_chain(cli, url, &bundle, keys);
    }
    if let Some(location) = &cli.ledger {
        return ledger::verify_ledger(cli, location, &bundle, keys);
    }
    let Some(commitment) = &cli.commitment else {
        return Err(Failure::bad_input(Cause::Argument(
            "give --commitment, --ledger with --trust, or --evidence with --trust".into(),
        )));
    };
    if cli.issuer.is_some() {
        return Err(Failure::bad_input(Cause::Argument(
            "--issuer: against a commitment you hold there is no issuer (the keys you give \
             are what you trust)"
                .into(),
        )));
    }
    let commitment = Commitment::load(commitment)?;
    let v = trustspace_zk::verify(&bundle, keys, &commitment)?;
    let revealed = keys.format_all(&v.revealed);
    Ok(Outcome {
        records: v.records,
        revealed,
        ledger: None,
        chain: None,
        binding: Binding::new(keys, hex::encode(commitment.owner)),
        ceremony: None,
    })
}

#[derive(Serialize)]
struct ValidDoc<'a> {
    valid: bool,
    records: u64,
    revealed: &'a [Revealed],
    ledger: &'a Option<ledger::LedgerCheck>,
    chain: &'a Option<chain::ChainCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ceremony: &'a Option<ceremony::CeremonyCheck>,
    #[serde(flatten)]
    binding: &'a Binding,
    seconds: f64,
}

#[derive(Serialize)]
struct InvalidDoc {
    valid: bool,
    error: String,
    exit_code: u8,
}

/// Prints a result as `zkverify` does: JSON (`json`) to `out`; or text, a valid result to
/// `out` and a failure to `err` (`INVALID: ` or `error: `). `secs` is the time it took.
pub fn render(
    result: &Result<Outcome, Failure>,
    json: bool,
    secs: f64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    if json {
        // Through a `Value`: keys in sorted order, as the output has always had them.
        let v = match result {
            Ok(o) => serde_json::to_value(ValidDoc {
                valid: true,
                records: o.records,
                revealed: &o.revealed,
                ledger: &o.ledger,
                chain: &o.chain,
                ceremony: &o.ceremony,
                binding: &o.binding,
                seconds: secs,
            }),
            Err(f) => serde_json::to_value(InvalidDoc {
                valid: false,
                error: escape_controls(&f.to_string()).into_owned(),
                exit_code: f.exit_code(),
            }),
        }
        .map_err(io::Error::other)?;
        let text = serde_json::to_string_pretty(&v).map_err(io::Error::other)?;
        return writeln!(out, "{text}");
    }
    match result {
        Ok(o) => {
            writeln!(
                out,
                "VALID: {} records comply with the policy ({secs:.3} s)",
                o.records
            )?;
            for x in &o.revealed {
                // Names come from the verifying keys' issuer: escaped all the same.
                writeln!(
                    out,
                    "  revealed {} = {}",
                    trustspace_data::error::escape_untrusted(&x.name),
                    x.value
                )?;
            }
            if let Some(c) = &o.chain {
                c.render(out)?;
            }
            if let Some(l) = &o.ledger {
                l.render(out)?;
            }
            if o.ledger.is_none() && o.chain.is_none() {
                let b = &o.binding;
                writeln!(
                    out,
                    "  policy digest {}, verifying keys {}",
                    b.policy_digest, b.keys_digest
                )?;
                writeln!(out, "  dataset owned by {}", b.owner)?;
            }
            if let Some(c) = &o.ceremony {
                c.render(out)?;
            }
            Ok(())
        }
        // Messages may quote input: no control character reaches the terminal.
        Err(f) if f.kind() == Kind::Invalid => {
            writeln!(err, "INVALID: {}", escape_controls(&f.to_string()))
        }
        Err(f) => writeln!(err, "error: {}", escape_controls(&f.to_string())),
    }
}

/// `zkverify` end to end: verifies, renders, and returns the exit code (0, 1 or 2).
pub fn main(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let started = std::time::Instant::now();
    let result = verify(cli);
    let secs = started.elapsed().as_secs_f64();
    let code = match &result {
        Ok(_) => 0,
        Err(f) => f.exit_code(),
    };
    match render(&result, cli.json, secs, out, err) {
        Ok(()) => code,
        // The verdict could not be printed: a caller must not take silence for validity.
        Err(_) => code.max(2),
    }
}
