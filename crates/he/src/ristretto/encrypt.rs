//! Holders' side: encrypt each value of a column under the joint key, with a range proof.
//!
//! Exponential ("lifted") ElGamal: value `x` becomes `(r·G, x·G + r·K)` for the joint key `K`,
//! so ciphertexts add to an encryption of the sum. Each ciphertext carries a zero-knowledge proof
//! that `x` is within the declared range (see [`super::range`]), bound to the [`SumSpec`] and the
//! key set, so one holder cannot poison the total with a huge or negative value.

use std::fmt;

use elastic_elgamal::group::Ristretto;
use elastic_elgamal::{Ciphertext, RangeProof};
use rand::rngs::StdRng;
use rand::{CryptoRng, RngCore, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use trustspace_data::{Record, Schema};

use super::codec;
use super::keys::{KeyId, KeySet, check_key};
use super::range::SumSpec;
use super::rng::Bridge;
use super::wire::{self, MAX_COLUMN_DOC_BYTES, MAX_VALUES_PER_DOC};
use crate::error::{HeError, Result};

/// One encrypted input: its ciphertext and the proof that the value is in range.
#[derive(Clone)]
pub struct EncryptedValue {
    pub(crate) ciphertext: Ciphertext<Ristretto>,
    pub(crate) proof: RangeProof<Ristretto>,
}

impl fmt::Debug for EncryptedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedValue")
            .field(
                "ciphertext",
                &hex::encode(&codec::ciphertext_bytes(&self.ciphertext)[..8]),
            )
            .finish_non_exhaustive()
    }
}

impl EncryptedValue {
    /// The ciphertext's 64 bytes (`r·G`, `x·G + r·K`).
    pub fn ciphertext_bytes(&self) -> [u8; 64] {
        codec::ciphertext_bytes(&self.ciphertext)
    }

    /// Replaces the ciphertext, keeping the proof: lets tests show that a proof does not
    /// transfer to another ciphertext.
    #[doc(hidden)] // for tests of the checks; cannot pass any verification
    pub fn with_ciphertext(&self, bytes: &[u8; 64]) -> Result<Self> {
        Ok(EncryptedValue {
            ciphertext: codec::ciphertext(bytes, "replacement ciphertext")?,
            proof: self.proof.clone(),
        })
    }
}

/// A holder's encrypted column: header (key set, sum spec, label) and the encrypted values.
#[derive(Debug, Clone)]
pub struct EncryptedColumn {
    pub(crate) key_id: KeyId,
    pub(crate) spec_id: [u8; 32],
    pub(crate) label: String,
    pub(crate) values: Vec<EncryptedValue>,
}

impl EncryptedColumn {
    /// The key set the values are encrypted under.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The sum spec's digest the proofs are bound to.
    pub fn spec_id(&self) -> [u8; 32] {
        self.spec_id
    }

    /// The sum's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The encrypted values.
    pub fn values(&self) -> &[EncryptedValue] {
        &self.values
    }

    /// Mutable access to the values, to splice in values from elsewhere (tests of the
    /// aggregator's checks, batching several holders' values).
    #[doc(hidden)] // for tests of the checks; cannot pass any verification
    pub fn values_mut(&mut self) -> &mut Vec<EncryptedValue> {
        &mut self.values
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Encrypts one shifted value `x <= span` with its range proof.
fn encrypt_shifted<R: RngCore + CryptoRng>(
    key: &KeySet,
    spec: &SumSpec,
    x: u64,
    rng: &mut R,
) -> EncryptedValue {
    let mut transcript = spec.transcript(&key.id());
    let (ciphertext, proof) = RangeProof::new(
        key.encryption_key(),
        spec.prepared(),
        x,
        &mut transcript,
        &mut Bridge(rng),
    );
    EncryptedValue {
        ciphertext: ciphertext.into(),
        proof,
    }
}

/// Encrypts one canonical encoding `enc` (in the spec's declared range) with its range proof.
pub fn encrypt_value<R: RngCore + CryptoRng>(
    key: &KeySet,
    spec: &SumSpec,
    enc: u64,
    rng: &mut R,
) -> Result<EncryptedValue> {
    let x = spec
        .range()
        .shift(enc)
        .ok_or_else(|| HeError::ValueOutOfRange {
            input: "value".into(),
            range: spec.describe_range(),
        })?;
    Ok(encrypt_shifted(key, spec, x, rng))
}

/// Values per parallel work unit; each unit draws from its own generator seeded from the caller's.
const CHUNK: usize = 64;

/// Encrypts canonical encodings (each in the spec's declared range), in parallel.
pub fn encrypt_encodings<R: RngCore + CryptoRng>(
    key: &KeySet,
    spec: &SumSpec,
    encodings: &[u64],
    rng: &mut R,
) -> Result<EncryptedColumn> {
    let describe = |i: usize| match spec.column() {
        Some((name, _)) => format!("record {i}, column `{name}`"),
        None => format!("value {i}"),
    };
    let shifted = encodings
        .iter()
        .enumerate()
        .map(|(i, &enc)| {
            spec.range()
                .shift(enc)
                .ok_or_else(|| HeError::ValueOutOfRange {
                    input: describe(i),
                    range: spec.describe_range(),
                })
        })
        .collect::<Result<Vec<u64>>>()?;
    let seeds: Vec<[u8; 32]> = (0..shifted.len().div_ceil(CHUNK))
        .map(|_| {
            let mut s = [0u8; 32];
            rng.fill_bytes(&mut s);
            s
        })
        .collect();
    let values: Vec<EncryptedValue> = shifted
        .par_chunks(CHUNK)
        .zip(seeds.into_par_iter())
        .flat_map_iter(|(chunk, seed)| {
            let mut rng = StdRng::from_seed(seed);
            chunk
                .iter()
                .map(|&x| encrypt_shifted(key, spec, x, &mut rng))
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(EncryptedColumn {
        key_id: key.id(),
        spec_id: spec.id(),
        label: spec.label().to_string(),
        values,
    })
}

/// Encrypts `column` of every record, each value with its range proof: the holder's step.
/// `spec` must have been built for this schema and column ([`SumSpec::for_column`]).
pub fn encrypt_column<R: RngCore + CryptoRng>(
    schema: &Schema,
    records: &[Record],
    column: &str,
    key: &KeySet,
    spec: &SumSpec,
    rng: &mut R,
) -> Result<EncryptedColumn> {
    let index = schema
        .index_of(column)
        .ok_or_else(|| HeError::UnknownColumn {
            column: column.to_string(),
        })?;
    if spec.column() != Some((column, index)) || spec.schema_digest() != Some(schema.digest()) {
        return Err(HeError::SpecMismatch {
            what: "sum spec".into(),
            reason: format!(
                "it was not built for column `{column}` of schema `{}`",
                schema.name()
            ),
        });
    }
    let encodings = crate::column::record_values(records, index, column)?;
    encrypt_encodings(key, spec, &encodings, rng)
}

// ---- wire encoding ----

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueDoc {
    ciphertext: String,
    range_proof: RangeProof<Ristretto>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnDoc {
    version: u32,
    kind: String,
    key_id: String,
    sum_spec: String,
    label: String,
    values: Vec<ValueDoc>,
}

impl EncryptedColumn {
    /// Encodes as a versioned JSON document (ciphertexts hex, range proofs as elastic-elgamal's
    /// base64url fields). Columns above [`MAX_VALUES_PER_DOC`] values are sent in several
    /// documents, each aggregated on its own.
    pub fn to_json(&self) -> Result<String> {
        if self.values.len() > MAX_VALUES_PER_DOC {
            return Err(HeError::TooLarge {
                what: "encrypted column document".into(),
                size: self.values.len() as u64,
                limit: MAX_VALUES_PER_DOC as u64,
                unit: "values (split the column)",
            });
        }
        Ok(wire::to_json(&ColumnDoc {
            version: wire::VERSION,
            kind: wire::KIND_COLUMN.into(),
            key_id: self.key_id.to_string(),
            sum_spec: hex::encode(self.spec_id),
            label: self.label.clone(),
            values: self
                .values
                .iter()
                .map(|v| ValueDoc {
                    ciphertext: hex::encode(codec::ciphertext_bytes(&v.ciphertext)),
                    range_proof: v.proof.clone(),
                })
                .collect(),
        }))
    }

    /// Decodes an encrypted column document: size-limited, canonical points only. The proofs
    /// are checked by the aggregator, against its own spec and key set.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let what = "encrypted column document";
        let d: ColumnDoc = codec::json(bytes, what, MAX_COLUMN_DOC_BYTES)?;
        wire::check_header(d.version, &d.kind, wire::KIND_COLUMN, what)?;
        if d.values.len() > MAX_VALUES_PER_DOC {
            return Err(HeError::TooLarge {
                what: what.into(),
                size: d.values.len() as u64,
                limit: MAX_VALUES_PER_DOC as u64,
                unit: "values",
            });
        }
        let values = d
            .values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let what = format!("ciphertext of value {i}");
                let bytes = codec::hex_array::<64>(&v.ciphertext, &what)?;
                Ok(EncryptedValue {
                    ciphertext: codec::ciphertext(&bytes, &what)?,
                    proof: v.range_proof,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(EncryptedColumn {
            key_id: KeyId(codec::hex_array(&d.key_id, "key id")?),
            spec_id: codec::hex_array(&d.sum_spec, "sum spec id")?,
            label: d.label,
            values,
        })
    }

    /// Checks the header against the key set and spec in use.
    pub(crate) fn check_header(&self, key: &KeySet, spec: &SumSpec) -> Result<()> {
        check_key("encrypted column", &self.key_id, &key.id())?;
        if self.spec_id != spec.id() {
            return Err(HeError::SpecMismatch {
                what: format!(
                    "encrypted column labelled {:?}",
                    crate::error::clip(&self.label)
                ),
                reason: format!(
                    "it was made for another sum (spec {}), this aggregation is {:?} (spec {})",
                    &hex::encode(self.spec_id)[..16],
                    spec.label(),
                    &hex::encode(spec.id())[..16]
                ),
            });
        }
        Ok(())
    }
}
