//! The aggregator's side: check every input's range proof, refuse those that fail, add the rest.
//!
//! The aggregator holds no key. It verifies each holder's column against its own [`SumSpec`] and
//! [`KeySet`] (a column made for another sum, range or key set is refused whole, as is a column
//! with any value whose proof fails), then adds the ciphertexts: two point additions per value.
//! The result, an [`EncryptedTotal`], is what the authorities decrypt.
//!
//! Authorities decrypt whatever total they are handed; the ciphertext does not show how many
//! inputs it sums. Since inputs and totals are public, an authority that does not trust the
//! aggregator to have summed many inputs re-runs the aggregation over the published columns
//! (cheap: additions only) and compares before it sends a partial decryption.

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::Identity;
use elastic_elgamal::Ciphertext;
use elastic_elgamal::group::Ristretto;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::codec;
use super::encrypt::{EncryptedColumn, EncryptedValue};
use super::keys::{KeyId, KeySet, check_key};
use super::range::{MAX_TOTAL, SumSpec};
use super::wire::{self, MAX_SMALL_DOC_BYTES};
use crate::error::{HeError, Result, clip};

/// A column whose header and every range proof have been checked by [`Aggregator::verify`].
#[derive(Debug, Clone, Copy)]
pub struct Verified<'a> {
    column: &'a EncryptedColumn,
    key_id: KeyId,
    spec_id: [u8; 32],
}

impl Verified<'_> {
    /// Number of values in the column.
    pub fn len(&self) -> usize {
        self.column.values.len()
    }

    /// Whether the column is empty.
    pub fn is_empty(&self) -> bool {
        self.column.values.is_empty()
    }
}

/// Sums verified columns into an encrypted total.
#[derive(Clone)]
pub struct Aggregator {
    key: KeySet,
    spec: SumSpec,
    acc: Ciphertext<Ristretto>,
    count: u64,
    columns: u64,
}

impl fmt::Debug for Aggregator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aggregator")
            .field("spec", &self.spec)
            .field("count", &self.count)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

/// Ciphertexts per parallel work unit when summing.
const CHUNK: usize = 4096;

/// Componentwise point sums of a run of ciphertexts.
fn sum_chunk(values: &[EncryptedValue]) -> (RistrettoPoint, RistrettoPoint) {
    let mut r = RistrettoPoint::identity();
    let mut b = RistrettoPoint::identity();
    for v in values {
        r += v.ciphertext.random_element();
        b += v.ciphertext.blinded_element();
    }
    (r, b)
}

impl Aggregator {
    /// An empty aggregation of inputs under `key` for `spec`.
    pub fn new(key: &KeySet, spec: &SumSpec) -> Self {
        Aggregator {
            key: key.clone(),
            spec: spec.clone(),
            acc: Ciphertext::zero(),
            count: 0,
            columns: 0,
        }
    }

    /// Checks a column: its key set and sum spec, then every value's range proof (in parallel).
    /// Any failure refuses the whole column, naming the first failing value.
    pub fn verify<'a>(&self, column: &'a EncryptedColumn) -> Result<Verified<'a>> {
        column.check_header(&self.key, &self.spec)?;
        let key_id = self.key.id();
        let failure = column
            .values
            .par_iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let mut transcript = self.spec.transcript(&key_id);
                v.proof
                    .verify(
                        self.key.encryption_key(),
                        self.spec.prepared(),
                        v.ciphertext,
                        &mut transcript,
                    )
                    .err()
                    .map(|e| (i, e))
            })
            .min_by_key(|(i, _)| *i);
        if let Some((i, e)) = failure {
            return Err(HeError::InvalidRangeProof {
                input: format!(
                    "column labelled {:?}, value {i} of {}",
                    clip(&column.label),
                    column.values.len()
                ),
                holder: None,
                index: i,
                reason: e.to_string(),
            });
        }
        Ok(Verified {
            column,
            key_id,
            spec_id: self.spec.id(),
        })
    }

    /// Adds a verified column's ciphertexts. Refuses a column verified for another key set or
    /// spec, and one that would let the total's bound (`count × span`) pass [`MAX_TOTAL`].
    pub fn add(&mut self, verified: Verified<'_>) -> Result<()> {
        self.add_all(&[verified])
    }

    /// Adds several verified columns at once, summing all their ciphertexts in parallel. All
    /// or nothing: any column verified for another key set or spec, or a bound past
    /// [`MAX_TOTAL`], refuses the whole batch.
    pub fn add_all(&mut self, verified: &[Verified<'_>]) -> Result<()> {
        let mut count = self.count;
        for v in verified {
            check_key("verified column", &v.key_id, &self.key.id())?;
            if v.spec_id != self.spec.id() {
                return Err(HeError::SpecMismatch {
                    what: "verified column".into(),
                    reason: "it was verified for another sum spec".into(),
                });
            }
            count += v.len() as u64;
        }
        let bound = u128::from(count) * u128::from(self.spec.range().span());
        if bound > u128::from(MAX_TOTAL) {
            return Err(HeError::TotalBound {
                what: format!("aggregation {:?}", self.spec.label()),
                bound,
                limit: u128::from(MAX_TOTAL),
                hint: "split the inputs into several totals or declare a tighter range",
            });
        }
        let (r, b) = verified
            .par_iter()
            .flat_map_iter(|v| v.column.values.chunks(CHUNK))
            .map(sum_chunk)
            .reduce(
                || (RistrettoPoint::identity(), RistrettoPoint::identity()),
                |(r1, b1), (r2, b2)| (r1 + r2, b1 + b2),
            );
        self.acc += Ciphertext::from_elements(r, b);
        self.count = count;
        self.columns += verified.len() as u64;
        Ok(())
    }

    /// Verifies and adds a column.
    pub fn add_column(&mut self, column: &EncryptedColumn) -> Result<()> {
        let v = self.verify(column)?;
        self.add(v)
    }

    /// Values added so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The encrypted total of everything added so far.
    pub fn total(&self) -> EncryptedTotal {
        EncryptedTotal {
            key_id: self.key.id(),
            spec_id: self.spec.id(),
            label: self.spec.label().to_string(),
            count: self.count,
            span: self.spec.range().span(),
            offset_units: self.spec.range().offset_units(),
            scale: self.spec.range().scale(),
            ciphertext: self.acc,
        }
    }
}

/// Verifies and sums every column; any refused column fails the whole aggregation (use
/// [`Aggregator`] directly to skip refused holders and go on).
pub fn aggregate(
    key: &KeySet,
    spec: &SumSpec,
    columns: &[EncryptedColumn],
) -> Result<EncryptedTotal> {
    let mut agg = Aggregator::new(key, spec);
    for (i, c) in columns.iter().enumerate() {
        agg.add_column(c).map_err(|e| match e {
            HeError::InvalidRangeProof {
                input,
                index,
                reason,
                ..
            } => HeError::InvalidRangeProof {
                input: format!("holder {i}: {input}"),
                holder: Some(i),
                index,
                reason,
            },
            other => other,
        })?;
    }
    Ok(agg.total())
}

/// The encrypted sum of `count` inputs, with what is needed to turn it into column units.
#[derive(Debug, Clone)]
pub struct EncryptedTotal {
    pub(crate) key_id: KeyId,
    pub(crate) spec_id: [u8; 32],
    pub(crate) label: String,
    pub(crate) count: u64,
    pub(crate) span: u64,
    pub(crate) offset_units: i128,
    pub(crate) scale: u32,
    pub(crate) ciphertext: Ciphertext<Ristretto>,
}

impl PartialEq for EncryptedTotal {
    fn eq(&self, other: &Self) -> bool {
        self.label == other.label && self.digest() == other.digest()
    }
}

impl Eq for EncryptedTotal {}

impl EncryptedTotal {
    /// Number of inputs summed.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The key set it is encrypted under.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The sum's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The largest the shifted sum can be: `count × span`. The discrete-log table must cover it.
    pub fn bound(&self) -> u128 {
        u128::from(self.count) * u128::from(self.span)
    }

    /// The ciphertext's 64 bytes.
    pub fn ciphertext_bytes(&self) -> [u8; 64] {
        codec::ciphertext_bytes(&self.ciphertext)
    }

    /// The digest that partial decryptions name, so a partial for another total is told apart.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"trustspace-he/ristretto/total/v1");
        h.update(self.key_id.0);
        h.update(self.spec_id);
        h.update(self.count.to_le_bytes());
        h.update(self.span.to_le_bytes());
        h.update(self.offset_units.to_le_bytes());
        h.update(self.scale.to_le_bytes());
        h.update(codec::ciphertext_bytes(&self.ciphertext));
        h.finalize().into()
    }

    /// Encodes as a versioned JSON document.
    pub fn to_json(&self) -> String {
        wire::to_json(&TotalDoc {
            version: wire::VERSION,
            kind: wire::KIND_TOTAL.into(),
            key_id: self.key_id.to_string(),
            sum_spec: hex::encode(self.spec_id),
            label: self.label.clone(),
            count: self.count,
            span: self.span,
            offset_units: self.offset_units.to_string(),
            scale: self.scale,
            ciphertext: hex::encode(codec::ciphertext_bytes(&self.ciphertext)),
        })
    }

    /// Decodes a total document: canonical points, a bound within [`MAX_TOTAL`].
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let what = "encrypted total document";
        let d: TotalDoc = codec::json(bytes, what, MAX_SMALL_DOC_BYTES)?;
        wire::check_header(d.version, &d.kind, wire::KIND_TOTAL, what)?;
        let offset_units: i128 = d.offset_units.parse().map_err(|_| HeError::Format {
            what: what.into(),
            reason: format!("offset_units {:?} is not an integer", clip(&d.offset_units)),
        })?;
        let ct = codec::hex_array::<64>(&d.ciphertext, "total ciphertext")?;
        let t = EncryptedTotal {
            key_id: KeyId(codec::hex_array(&d.key_id, "key id")?),
            spec_id: codec::hex_array(&d.sum_spec, "sum spec id")?,
            label: d.label,
            count: d.count,
            span: d.span,
            offset_units,
            scale: d.scale,
            // The randomness of an empty total is the identity; any other total has r != 0.
            ciphertext: codec::ciphertext_allowing_identity(&ct, "total ciphertext")?,
        };
        if t.bound() > u128::from(MAX_TOTAL) {
            return Err(HeError::TotalBound {
                what: what.into(),
                bound: t.bound(),
                limit: u128::from(MAX_TOTAL),
                hint: "no such total can be decrypted",
            });
        }
        if t.span == 0 || t.span >= 1 << super::range::MAX_RANGE_BITS {
            return Err(HeError::Format {
                what: what.into(),
                reason: format!(
                    "span {} is outside 1..2^{}",
                    t.span,
                    super::range::MAX_RANGE_BITS
                ),
            });
        }
        if t.offset_units.unsigned_abs() > u128::from(u64::MAX) {
            return Err(HeError::Format {
                what: what.into(),
                reason: "offset_units is beyond any column's encodings".into(),
            });
        }
        if t.scale > 18 {
            return Err(HeError::Format {
                what: what.into(),
                reason: format!("scale {} is above 18", t.scale),
            });
        }
        Ok(t)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TotalDoc {
    version: u32,
    kind: String,
    key_id: String,
    sum_spec: String,
    label: String,
    count: u64,
    span: u64,
    offset_units: String,
    scale: u32,
    ciphertext: String,
}
