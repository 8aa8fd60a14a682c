//! Who made the keys: contributors sign their phase-2 contributions with their ledger
//! identities, and the ceremony's public record ([`CeremonyRecord`]) travels inside the
//! verifying keys it made — so the ledger entry that registers the keys registers the record
//! (it is part of their digest), and a verifier holding the keys checks, with them alone:
//!
//! - every contribution's public key: its transcript follows the circuit's hash and the
//!   contributions before it, its proof of knowledge pairs, δ steps from 1 through each one to
//!   exactly the keys' δ (so δ is the product of these contributions' secrets), a beacon's key
//!   is its beacon's;
//! - every signature: over the contribution's hash ([`KeysCeremony::contribution_hash`]), by
//!   the key it names.
//!
//! A verifier that requires an organisation among the contributors requires its key to have
//! signed one: if that organisation destroyed its secret, nobody knows δ. The record does not
//! carry the `L` and `H` queries or phase 1: `zkprove ceremony verify` checks those from the
//! files, against the phase-1 file named by [`CeremonyRecord::phase1`].

use ark_bn254::{G1Affine, G2Affine};
use ark_ec::AffineRepr;
use trustspace_ledger_verifier::{Identity, PublicKey};
use trustspace_zk::keys::{CircuitRecord, ContributorRecord};
use trustspace_zk::{CeremonyRecord, VerifyingKeys};

use crate::binfile::{Reader, malformed};
use crate::encoding::{G1_LEN, G2_LEN, g1_from_lem, g1_lem, g2_from_lem, g2_lem};
use crate::error::{CeremonyError, Check};
use crate::keys::KeysCeremony;
use crate::phase2::{Contribution, Phase2};
use crate::record::{MAX_BEACON_EXP, Source};

/// Domain separation of a contributor's signature.
const SIGNATURE_TAG: &[u8] = b"trustspace/ceremony/contribution/v1";
/// The most contributions a record may list (a verifier checks each with pairings).
pub const MAX_CONTRIBUTIONS: usize = 256;
const WHAT: &str = "ceremony record";

/// A contributor's signature of contribution `index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Which contribution (0-based).
    pub index: usize,
    /// Who signed.
    pub signer: PublicKey,
    /// Its ed25519 signature over the contribution's hash.
    pub signature: [u8; 64],
}

/// A contribution as a checked record shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contributor {
    /// The name in its record, if any (untrusted text: escape it before printing).
    pub name: Option<String>,
    /// Where its secret came from.
    pub source: Source,
    /// Who signed it, if anyone did.
    pub signer: Option<PublicKey>,
}

fn message(hash: &[u8; 64]) -> Vec<u8> {
    [SIGNATURE_TAG, hash].concat()
}

impl KeysCeremony {
    /// Signs contribution `index` with `identity` (its contributor's ledger key).
    pub fn sign(&self, index: usize, identity: &Identity) -> crate::Result<Signature> {
        let hash = self
            .contribution_hash(index)
            .ok_or(CeremonyError::NoSuchContribution(index))?;
        Ok(Signature {
            index,
            signer: identity.public(),
            signature: identity.sign(&message(&hash)),
        })
    }

    /// The ceremony's public record for its keys: `phase1` the phase-1 file's last challenge,
    /// `signatures` the contributors' (each checked; at most one per contribution).
    pub fn record(
        &self,
        phase1: &[u8; 64],
        signatures: &[Signature],
    ) -> crate::Result<CeremonyRecord> {
        let mut contributors: Vec<ContributorRecord> = self
            .chunk
            .contributions
            .iter()
            .map(|c| ContributorRecord {
                name: c.name.clone(),
                beacon: match &c.source {
                    Source::Secret => None,
                    Source::Beacon {
                        hash,
                        iterations_exp,
                    } => Some((hex(hash), *iterations_exp)),
                },
                signer: None,
                signature: None,
            })
            .collect();
        for s in signatures {
            let hash = self
                .contribution_hash(s.index)
                .ok_or(CeremonyError::NoSuchContribution(s.index))?;
            if !s.signer.verify(&message(&hash), &s.signature) {
                return Err(CeremonyError::Contribution {
                    index: s.index,
                    check: Check::Signature,
                });
            }
            let c = &mut contributors[s.index];
            if c.signer.is_some() {
                return Err(malformed(
                    WHAT,
                    &format!("contribution {} signed twice", s.index),
                ));
            }
            c.signer = Some(s.signer.to_hex());
            c.signature = Some(hex(&s.signature));
        }
        Ok(CeremonyRecord {
            phase1: hex(phase1),
            circuits: self
                .states()
                .map(|state| CircuitRecord {
                    circuit_hash: hex(&state.cs_hash),
                    contributions: state.contributions.iter().map(public_key_hex).collect(),
                })
                .collect(),
            contributors,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str, what: &str) -> crate::Result<Vec<u8>> {
    let bad = || malformed(WHAT, &format!("{what} is not hex"));
    if text.len() % 2 != 0 {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

fn fixed<const N: usize>(text: &str, what: &str) -> crate::Result<[u8; N]> {
    unhex(text, what)?
        .try_into()
        .map_err(|_| malformed(WHAT, &format!("{what} is not {N} bytes")))
}

/// A contribution's public key in a record: δ after it, `s`, `s·d`, `r·d`, its transcript.
fn public_key_hex(c: &Contribution) -> String {
    let mut out = Vec::with_capacity(3 * G1_LEN + G2_LEN + 64);
    g1_lem(&c.delta_after, &mut out);
    g1_lem(&c.s, &mut out);
    g1_lem(&c.s_delta, &mut out);
    g2_lem(&c.r_delta, &mut out);
    out.extend_from_slice(&c.transcript);
    hex(&out)
}

fn public_key(text: &str, index: usize, source: &Source) -> crate::Result<Contribution> {
    let bytes = unhex(text, "a contribution")?;
    let mut r = Reader {
        rest: &bytes,
        what: WHAT,
    };
    let bad = |e| malformed(WHAT, &format!("contribution {index}: {e}"));
    let g1 = |r: &mut Reader<'_>| -> crate::Result<G1Affine> {
        g1_from_lem(r.take(G1_LEN)?).map_err(bad)
    };
    let delta_after = g1(&mut r)?;
    let s = g1(&mut r)?;
    let s_delta = g1(&mut r)?;
    let r_delta: G2Affine = g2_from_lem(r.take(G2_LEN)?).map_err(bad)?;
    let transcript: [u8; 64] = r.take(64)?.try_into().expect("64 bytes");
    r.finish()?;
    Ok(Contribution {
        delta_after,
        s,
        s_delta,
        r_delta,
        transcript,
        source: source.clone(),
        name: None,
    })
}

/// Checks `keys`' ceremony record (see the module's doc) and returns its contributors, in
/// order. Keys without a record are refused ([`CeremonyError::NoRecord`]).
pub fn check_record(keys: &VerifyingKeys) -> crate::Result<Vec<Contributor>> {
    let record = keys.ceremony.as_ref().ok_or(CeremonyError::NoRecord)?;
    let vks: Vec<_> = std::iter::once(&keys.chunk).chain(&keys.final_).collect();
    if record.circuits.len() != vks.len() {
        return Err(malformed(WHAT, "not one part per circuit of the keys"));
    }
    let count = record.contributors.len();
    if count > MAX_CONTRIBUTIONS {
        return Err(malformed(WHAT, "too many contributions"));
    }
    fixed::<64>(&record.phase1, "the phase-1 challenge")?;
    let mut contributors = Vec::with_capacity(count);
    for (index, c) in record.contributors.iter().enumerate() {
        let source = match &c.beacon {
            None => Source::Secret,
            Some((value, iterations_exp)) => {
                let hash = unhex(value, "a beacon")?;
                if hash.is_empty() || hash.len() > 255 || *iterations_exp > MAX_BEACON_EXP {
                    return Err(malformed(
                        WHAT,
                        &format!("contribution {index}: a bad beacon"),
                    ));
                }
                Source::Beacon {
                    hash,
                    iterations_exp: *iterations_exp,
                }
            }
        };
        contributors.push((source, c));
    }
    // Each circuit's chain, checked as `Phase2::verify` checks a chain, from δ = 1 to the keys'.
    let mut states = Vec::with_capacity(vks.len());
    for (part, vk) in record.circuits.iter().zip(&vks) {
        if part.contributions.len() != count {
            return Err(malformed(
                WHAT,
                "not one public key per contribution and circuit",
            ));
        }
        let mut state = Phase2 {
            variables: 0,
            public: 0,
            domain: 0,
            alpha_g1: vk.alpha_g1,
            beta_g1: G1Affine::generator(),
            beta_g2: vk.beta_g2,
            gamma_g2: vk.gamma_g2,
            delta_g1: G1Affine::generator(),
            delta_g2: G2Affine::generator(),
            ic: Vec::new(),
            coefs: Vec::new(),
            a: Vec::new(),
            b_g1: Vec::new(),
            b_g2: Vec::new(),
            c: Vec::new(),
            h: Vec::new(),
            cs_hash: fixed::<64>(&part.circuit_hash, "a circuit hash")?,
            contributions: Vec::new(),
        };
        let initial = state.clone();
        for (index, (text, (source, _))) in part.contributions.iter().zip(&contributors).enumerate()
        {
            state.contributions.push(public_key(text, index, source)?);
        }
        state.delta_g1 = state
            .contributions
            .last()
            .map_or(G1Affine::generator(), |c| c.delta_after);
        state.delta_g2 = vk.delta_g2;
        // With no L or H to compare, the chain and δ in G1 against the keys' δ in G2.
        state.verify(&initial, &mut rand::rngs::OsRng)?;
        states.push(state);
    }
    let ceremony = KeysCeremony {
        chunk: states.remove(0),
        final_: states.pop(),
    };
    contributors
        .into_iter()
        .enumerate()
        .map(|(index, (source, c))| {
            let signer = match (&c.signer, &c.signature) {
                (None, None) => None,
                (Some(signer), Some(signature)) => {
                    let signer = PublicKey::from_hex(signer).map_err(|_| {
                        malformed(WHAT, &format!("contribution {index}: a bad signer key"))
                    })?;
                    let signature = fixed::<64>(signature, "a signature")?;
                    let hash = ceremony
                        .contribution_hash(index)
                        .expect("every circuit has the contribution");
                    if !signer.verify(&message(&hash), &signature) {
                        return Err(CeremonyError::Contribution {
                            index,
                            check: Check::Signature,
                        });
                    }
                    Some(signer)
                }
                _ => {
                    return Err(malformed(
                        WHAT,
                        &format!("contribution {index}: a signer without a signature"),
                    ));
                }
            };
            Ok(Contributor {
                name: c.name.clone(),
                source,
                signer,
            })
        })
        .collect()
}
