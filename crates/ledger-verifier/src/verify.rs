//! Verification of proof bundles against the ledger, online or from an evidence file.
//!
//! The steps, each with its own error: the checkpoint carries a quorum of the trusted validators
//! ([`LedgerError::NoQuorum`], [`LedgerError::UnknownSigner`], ...); it extends any checkpoint
//! the verifier saw before ([`LedgerError::StaleCheckpoint`], [`LedgerError::Fork`]); the dataset
//! and policy entries are signed and included under it ([`LedgerError::NotIncluded`]); the
//! bundle's commitment, policy and circuits equal the registered ones
//! ([`LedgerError::UnknownDataset`], [`LedgerError::Mismatch`]); the verifying keys are the
//! registered ones ([`LedgerError::KeyMismatch`]); and the Groth16 proofs verify
//! ([`LedgerError::Proof`]).

use serde::{Deserialize, Serialize};
use std::path::Path;
use trustspace_zk::bundle::{MAX_BUNDLE_BYTES, Revealed};
use trustspace_zk::encode::fr_to_hex;
use trustspace_zk::{ProofBundle, VerifyingKeys};

use crate::entry::{Body, Entry, EntryKey, IndexedEntry};
use crate::error::{ForkCause, InclusionFailure, LedgerError, MismatchCause, RemoteCause, Result};
use crate::keys::{PublicKey, read_limited};
use crate::log::{Checkpoint, ConsistencyProof, CosignedCheckpoint, InclusionProof, LedgerConfig};
use crate::trust::{Pin, check_policy};
use crate::view::LedgerView;

/// Evidence file format version (2: owner-bound commitments and version 2 entries).
pub const EVIDENCE_VERSION: u32 = 2;

/// Largest evidence file, bytes: the largest proof bundle and 1 MiB for everything else.
pub const MAX_EVIDENCE_BYTES: u64 = MAX_BUNDLE_BYTES + (1 << 20);

/// Everything needed to re-check a verdict with no access to the ledger: the bundle, the keys,
/// the registered entries, their inclusion proofs and the checkpoint they are included under.
/// The trust anchor ([`LedgerConfig`]) is not in it: the verifier brings its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Format version ([`EVIDENCE_VERSION`]).
    pub version: u32,
    /// The co-signed checkpoint.
    pub checkpoint: CosignedCheckpoint,
    /// The dataset entry.
    pub dataset: IndexedEntry,
    /// Its inclusion proof.
    pub dataset_inclusion: InclusionProof,
    /// The policy entry.
    pub policy: IndexedEntry,
    /// Its inclusion proof.
    pub policy_inclusion: InclusionProof,
    /// Consistency proof from an older checkpoint the producer's verifier had seen, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<ConsistencyProof>,
    /// The proof bundle.
    pub bundle: ProofBundle,
    /// The verifying keys (the verifying-key file's JSON).
    pub verifying_keys: serde_json::Value,
}

impl Evidence {
    /// Writes the evidence as JSON ([`Evidence::to_bytes`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_bytes()).map_err(|e| LedgerError::io(path, e))
    }

    /// The evidence file's bytes: pretty JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = serde_json::to_vec_pretty(self).expect("plain data serializes");
        text.push(b'\n');
        text
    }

    /// Reads an evidence file (at most [`MAX_EVIDENCE_BYTES`]; everything in it is validated
    /// when verified).
    pub fn load(path: &Path) -> Result<Evidence> {
        let bytes = read_limited(path, MAX_EVIDENCE_BYTES)?;
        Evidence::from_bytes(&bytes, &path.display().to_string())
    }

    /// Decodes an evidence file's bytes (JSON, at most [`MAX_EVIDENCE_BYTES`]); `what` names
    /// it in errors. Only the format is checked here: [`verify_evidence`] checks the content.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Evidence> {
        if bytes.len() as u64 > MAX_EVIDENCE_BYTES {
            return Err(LedgerError::malformed(
                what,
                format!("larger than the limit of {} bytes", MAX_EVIDENCE_BYTES),
            ));
        }
        // The version first: an older file is refused by its version, not by a field its
        // format lacked.
        #[derive(Deserialize)]
        struct Versioned {
            version: Option<u32>,
        }
        let version = match serde_json::from_slice(bytes) {
            Ok(Versioned { version: Some(v) }) => v,
            _ => EVIDENCE_VERSION,
        };
        if version != EVIDENCE_VERSION {
            return Err(LedgerError::malformed(
                what,
                format!("unsupported evidence version {version}"),
            ));
        }
        let e: Evidence = serde_json::from_slice(bytes)
            .map_err(|e| LedgerError::malformed(what, e.to_string()))?;
        if has_fraction(&e.verifying_keys) {
            // A verifying-key file holds integers only; a fractional number is not one, and
            // serde_json's parsing of it may be off by one unit in the last place, so the file
            // would not re-encode to what it holds.
            return Err(LedgerError::malformed(
                what,
                "verifying keys hold a number that is not an integer",
            ));
        }
        Ok(e)
    }
}

/// Whether a JSON value holds a number that is not an integer (iteratively: any depth).
fn has_fraction(v: &serde_json::Value) -> bool {
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        match v {
            serde_json::Value::Number(n) if !(n.is_u64() || n.is_i64()) => return true,
            serde_json::Value::Array(items) => todo.extend(items),
            serde_json::Value::Object(fields) => todo.extend(fields.values()),
            _ => {}
        }
    }
    false
}

/// What a successful verification establishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The checkpoint everything was proven against.
    pub checkpoint: Checkpoint,
    /// Index of the dataset entry.
    pub dataset_index: u64,
    /// Dataset name as registered.
    pub dataset_name: String,
    /// Who registered the dataset.
    pub owner: PublicKey,
    /// When the owner registered it (seconds since the Unix epoch, as signed by the owner).
    pub registered_at: u64,
    /// Index of the policy entry.
    pub policy_index: u64,
    /// Policy name as registered (chosen by its issuer: the digest is what identifies it).
    pub policy_name: String,
    /// The policy's digest, hex.
    pub policy_digest: String,
    /// The digest of its verifying keys, hex.
    pub keys_digest: String,
    /// Who registered the policy (an issuer the configuration allows).
    pub issuer: PublicKey,
    /// Commitment root, hex.
    pub root: String,
    /// Records covered by the proofs.
    pub records: u64,
    /// Revealed aggregates.
    pub revealed: Vec<Revealed>,
}

/// Verifies `bundle` against the ledger reached through `view`, trusting only `config` (and,
/// if given, a checkpoint seen before, which the ledger must prove it extends), with `keys`
/// the verifier's own (pinned: the registered keys must be these). Returns the verdict and the
/// evidence file that re-checks it offline.
pub fn verify(
    bundle: &ProofBundle,
    keys: &VerifyingKeys,
    view: &dyn LedgerView,
    config: &LedgerConfig,
    seen: Option<&Checkpoint>,
) -> Result<(Verdict, Evidence)> {
    let d = view
        .find(&EntryKey::dataset(&bundle.commitment))?
        .ok_or_else(|| LedgerError::UnknownDataset(fr_to_hex(&bundle.commitment.root)))?;
    let p = view
        .find(&EntryKey::policy(bundle.policy_digest))?
        .ok_or_else(|| LedgerError::UnknownPolicy(hex::encode(bundle.policy_digest)))?;
    let dataset = view.entry(d)?;
    let policy = view.entry(p)?;
    let audit = view.audit(&[d, p], seen.map(|c| c.size))?;
    let [dataset_inclusion, policy_inclusion]: [InclusionProof; 2] = audit
        .inclusions
        .try_into()
        .map_err(|_| LedgerError::Remote {
            url: "ledger".into(),
            cause: RemoteCause::BadAnswer,
            reason: "the audit did not return two inclusion proofs".into(),
        })?;
    let evidence = Evidence {
        version: EVIDENCE_VERSION,
        checkpoint: audit.checkpoint,
        dataset: IndexedEntry {
            index: d,
            entry: dataset.to_hex()?,
        },
        dataset_inclusion,
        policy: IndexedEntry {
            index: p,
            entry: policy.to_hex()?,
        },
        policy_inclusion,
        consistency: audit.consistency,
        bundle: bundle.clone(),
        verifying_keys: keys.to_json(),
    };
    let verdict = verify_evidence(&evidence, config, &Pin::Keys(keys.digest()), seen)?;
    Ok((verdict, evidence))
}

/// Verifies an evidence file with no access to the ledger, trusting only `config`, what the
/// verifier pins (`pin`: the evidence names its policy and carries its keys, so they must be
/// what the verifier trusts) and, if given, a checkpoint seen before (the evidence must then
/// carry a consistency proof from it, unless it is that checkpoint).
pub fn verify_evidence(
    ev: &Evidence,
    config: &LedgerConfig,
    pin: &Pin,
    seen: Option<&Checkpoint>,
) -> Result<Verdict> {
    let cp = &ev.checkpoint.checkpoint;
    ev.checkpoint.verify(config)?;
    if let Some(seen) = seen {
        if cp.size < seen.size {
            return Err(LedgerError::StaleCheckpoint {
                offered: cp.size,
                seen: seen.size,
            });
        }
        if cp.size == seen.size {
            // The very checkpoint seen before extends itself, whatever proof the evidence
            // carries; another root for its size is a fork.
            if cp.root != seen.root || cp.log_id != seen.log_id {
                return Err(LedgerError::Fork {
                    old_size: seen.size,
                    new_size: cp.size,
                    cause: ForkCause::TwoRootsForOneSize,
                });
            }
        } else {
            let proof = ev.consistency.as_ref().ok_or(LedgerError::Fork {
                old_size: seen.size,
                new_size: cp.size,
                cause: ForkCause::NoProofInEvidence,
            })?;
            proof.verify(seen, cp)?;
        }
    }
    let (dataset, d_index) = included(&ev.dataset, &ev.dataset_inclusion, cp)?;
    let (policy, p_index) = included(&ev.policy, &ev.policy_inclusion, cp)?;
    let Body::Dataset(d) = &dataset.body else {
        return Err(LedgerError::Mismatch(MismatchCause::NotADatasetEntry {
            index: d_index,
        }));
    };
    let Body::Policy(p) = &policy.body else {
        return Err(LedgerError::Mismatch(MismatchCause::NotAPolicyEntry {
            index: p_index,
        }));
    };
    check_policy(config, pin, p_index, &policy.submitter, p).map_err(LedgerError::Untrusted)?;
    if d.commitment.owner != dataset.submitter.to_bytes() {
        return Err(LedgerError::Mismatch(MismatchCause::Owner {
            dataset_index: d_index,
        }));
    }
    let bundle = &ev.bundle;
    if bundle.commitment != d.commitment {
        return Err(LedgerError::Mismatch(MismatchCause::Commitment {
            dataset_index: d_index,
        }));
    }
    if bundle.policy_digest != p.policy_digest {
        return Err(LedgerError::Mismatch(MismatchCause::Policy {
            policy_index: p_index,
        }));
    }
    if !p.matches_circuits(&bundle.circuit) {
        return Err(LedgerError::Mismatch(MismatchCause::Circuits {
            policy_index: p_index,
        }));
    }
    let keys = VerifyingKeys::from_json(ev.verifying_keys.clone(), "evidence verifying keys")?;
    if keys.digest() != p.vk_digest {
        return Err(LedgerError::KeyMismatch {
            policy_index: p_index,
        });
    }
    let verified = trustspace_zk::verify(bundle, &keys, &d.commitment)?;
    let revealed = keys.format_all(&verified.revealed);
    Ok(Verdict {
        checkpoint: cp.clone(),
        dataset_index: d_index,
        dataset_name: d.name.clone(),
        owner: dataset.submitter,
        registered_at: dataset.timestamp,
        policy_index: p_index,
        policy_name: p.name.clone(),
        policy_digest: hex::encode(p.policy_digest),
        keys_digest: hex::encode(p.vk_digest),
        issuer: policy.submitter,
        root: fr_to_hex(&d.commitment.root),
        records: verified.records,
        revealed,
    })
}

/// Decodes an entry, checks its signature and its inclusion at its index under `cp`.
fn included(e: &IndexedEntry, proof: &InclusionProof, cp: &Checkpoint) -> Result<(Entry, u64)> {
    let entry = Entry::from_hex(&e.entry)?;
    entry.check_signature()?;
    if proof.index != e.index {
        return Err(LedgerError::NotIncluded {
            index: e.index,
            size: cp.size,
            cause: InclusionFailure::OtherIndex,
        });
    }
    proof.verify(&entry.digest()?, cp)?;
    Ok((entry, e.index))
}
