//! Threshold decryption of a total: each authority sends a partial decryption with a
//! Chaum–Pedersen (DLEQ) proof; anyone combines t verified partials and reads the total.
//!
//! Authority i's partial for a total `(R, B)` is `D_i = x_i·R` with a proof that
//! `log_G(X_i) = log_R(D_i)` for its public share key `X_i` (elastic-elgamal's
//! `ActiveParticipant::decrypt_share` / `PublicKeySet::verify_share`; the proof transcript
//! binds the key set and i). [`decrypt_total`] verifies every partial, excludes — and reports —
//! those that are for another key set or total, duplicated, out of range or whose proof fails,
//! and interpolates the first t valid ones (Lagrange in the exponent) to `x·R`; then
//! `B - x·R = S·G` and the [`DlogTable`] finds `S`. Fewer than t valid partials decrypt nothing.

use std::collections::BTreeSet;
use std::fmt;

use elastic_elgamal::group::Ristretto;
use elastic_elgamal::{CandidateDecryption, LogEqualityProof};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use super::aggregate::EncryptedTotal;
use super::codec;
use super::dlog::DlogTable;
use super::keys::{Authority, KeyId, KeySet, check_key};
use super::range::format_units;
use super::rng::Bridge;
use super::wire::{self, MAX_SMALL_DOC_BYTES};
use crate::error::{Excluded, Exclusion, HeError, Result};

/// One authority's partial decryption of one total, with its DLEQ proof.
#[derive(Clone)]
pub struct PartialDecryption {
    key_id: KeyId,
    total: [u8; 32],
    authority: u32,
    share: [u8; 32],
    proof: LogEqualityProof<Ristretto>,
}

impl fmt::Debug for PartialDecryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartialDecryption")
            .field("authority", &self.authority)
            .field("total", &hex::encode(&self.total[..8]))
            .finish_non_exhaustive()
    }
}

impl PartialDecryption {
    /// The authority that claims it.
    pub fn authority(&self) -> u32 {
        self.authority
    }

    /// The partial decryption's point (`x_i·R`), canonical encoding.
    pub fn share_bytes(&self) -> [u8; 32] {
        self.share
    }

    /// The same partial with another point or claimed author, proof unchanged: lets tests play
    /// an authority that sends a wrong partial.
    #[doc(hidden)] // for tests of the checks; cannot pass any verification
    pub fn tampered(&self, authority: u32, share: [u8; 32]) -> Self {
        PartialDecryption {
            authority,
            share,
            ..self.clone()
        }
    }
}

impl Authority {
    /// This authority's partial decryption of `total`, with its DLEQ proof. Refuses a total
    /// under another key set, and an empty total.
    pub fn partial_decrypt<R: RngCore + CryptoRng>(
        &self,
        total: &EncryptedTotal,
        rng: &mut R,
    ) -> Result<PartialDecryption> {
        check_key("encrypted total", &total.key_id, &self.key_set().id())?;
        if total.count == 0 {
            return Err(HeError::InvalidParameter {
                what: "total",
                reason: "it sums no inputs".into(),
            });
        }
        let (share, proof) = self
            .participant()
            .decrypt_share(total.ciphertext, &mut Bridge(rng));
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&share.to_bytes());
        Ok(PartialDecryption {
            key_id: self.key_set().id(),
            total: total.digest(),
            authority: self.index(),
            share: bytes,
            proof,
        })
    }
}

/// A decrypted total, in the column's units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Total {
    /// The sum in integer units of 10^-scale (cents for a scale-2 decimal).
    pub units: i128,
    /// Decimal places of the units.
    pub scale: u32,
    /// Number of inputs summed.
    pub count: u64,
    /// Authorities whose partials were combined.
    pub used: Vec<u32>,
    /// Partials left out, and why (wrong proof, duplicate, other total, ...).
    pub excluded: Vec<Excluded>,
}

impl Total {
    /// The sum as a decimal string (`1234` units at scale 2 is `12.34`).
    pub fn to_decimal_string(&self) -> String {
        format_units(self.units, self.scale)
    }
}

/// Verifies `partials`, combines `t` valid ones and decrypts `total` with `table`.
///
/// Refuses a total whose bound (`count × span`) exceeds the table's, since its value might not
/// be found. Partials that do not verify are excluded and listed in [`Total::excluded`] (or in
/// [`HeError::NotEnoughPartials`] when fewer than t remain).
pub fn decrypt_total(
    key: &KeySet,
    total: &EncryptedTotal,
    partials: &[PartialDecryption],
    table: &DlogTable,
) -> Result<Total> {
    check_key("encrypted total", &total.key_id, &key.id())?;
    if total.bound() > u128::from(table.max_total()) {
        return Err(HeError::TotalBound {
            what: format!("total {:?}", crate::error::clip(&total.label)),
            bound: total.bound(),
            limit: u128::from(table.max_total()),
            hint: "build a DlogTable for at least count × span",
        });
    }
    let digest = total.digest();
    let n = key.authorities();
    let mut seen = BTreeSet::new();
    let mut valid = Vec::new();
    let mut excluded = Vec::new();
    for p in partials {
        let reason = if p.key_id != key.id() {
            Some(Exclusion::OtherKeySet {
                key_id: p.key_id.to_string(),
            })
        } else if p.total != digest {
            Some(Exclusion::OtherTotal)
        } else if p.authority >= n {
            Some(Exclusion::NoSuchAuthority { authorities: n })
        } else if !seen.insert(p.authority) {
            Some(Exclusion::Duplicate)
        } else {
            match CandidateDecryption::<Ristretto>::from_bytes(&p.share) {
                None => Some(Exclusion::NonCanonicalShare),
                Some(c) => match key.inner().verify_share(
                    c,
                    total.ciphertext,
                    p.authority as usize,
                    &p.proof,
                ) {
                    Ok(d) => {
                        valid.push((p.authority as usize, d));
                        None
                    }
                    Err(e) => {
                        // A later, honest partial from the same authority may still be used.
                        seen.remove(&p.authority);
                        Some(Exclusion::InvalidProof {
                            reason: e.to_string(),
                        })
                    }
                },
            }
        };
        if let Some(reason) = reason {
            excluded.push(Excluded {
                authority: p.authority,
                reason,
            });
        }
    }
    let t = key.threshold() as usize;
    if valid.len() < t {
        return Err(HeError::NotEnoughPartials {
            valid: valid.len(),
            needed: t,
            excluded,
        });
    }
    valid.truncate(t);
    let used = valid.iter().map(|(i, _)| *i as u32).collect();
    let combined =
        key.inner()
            .params()
            .combine_shares(valid)
            .ok_or_else(|| HeError::NotEnoughPartials {
                valid: 0,
                needed: t,
                excluded: Vec::new(),
            })?;
    let point = combined.decrypt_to_element(total.ciphertext);
    let max = u64::try_from(total.bound()).unwrap_or(u64::MAX);
    let shifted = table
        .find(&point)
        .filter(|&s| s <= max)
        .ok_or(HeError::TotalNotFound { bound: max })?;
    let units = i128::from(total.count)
        .checked_mul(total.offset_units)
        .and_then(|o| o.checked_add(i128::from(shifted)))
        .ok_or_else(|| HeError::Format {
            what: "encrypted total".into(),
            reason: "count × offset overflows".into(),
        })?;
    Ok(Total {
        units,
        scale: total.scale,
        count: total.count,
        used,
        excluded,
    })
}

// ---- wire encoding ----

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialDoc {
    version: u32,
    kind: String,
    key_id: String,
    total: String,
    authority: u32,
    share: String,
    proof: String,
}

impl PartialDecryption {
    /// Encodes as a versioned JSON document (points and proof in hex).
    pub fn to_json(&self) -> String {
        wire::to_json(&PartialDoc {
            version: wire::VERSION,
            kind: wire::KIND_PARTIAL.into(),
            key_id: self.key_id.to_string(),
            total: hex::encode(self.total),
            authority: self.authority,
            share: hex::encode(self.share),
            proof: hex::encode(self.proof.to_bytes()),
        })
    }

    /// Decodes a partial decryption document: canonical point and scalars, size-limited.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let what = "partial decryption document";
        let d: PartialDoc = codec::json(bytes, what, MAX_SMALL_DOC_BYTES)?;
        wire::check_header(d.version, &d.kind, wire::KIND_PARTIAL, what)?;
        let share = codec::hex_array::<32>(&d.share, "partial decryption share")?;
        codec::point(&share, "partial decryption share")?;
        let proof = codec::hex_array::<64>(&d.proof, "DLEQ proof")?;
        Ok(PartialDecryption {
            key_id: KeyId(codec::hex_array(&d.key_id, "key id")?),
            total: codec::hex_array(&d.total, "total digest")?,
            authority: d.authority,
            share,
            proof: codec::dleq_proof(&proof, "DLEQ proof")?,
        })
    }
}
