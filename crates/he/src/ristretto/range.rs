//! Declared ranges and the sum specification that holders and the aggregator share.
//!
//! Each input is a column's canonical encoding `enc` (see `trustspace_data::schema`), declared to
//! lie in `min..=max` (the column's `min`/`max`, or its type's bounds). What is encrypted and
//! range-proved is the shifted value `x = enc - min`, in `0..=span` with `span = max - min`; the
//! proof is elastic-elgamal's [`RangeProof`](elastic_elgamal::RangeProof): the range
//! `0..span+1` is decomposed into digits (`RangeDecomposition::optimal`) and each digit's
//! ciphertext carries a ring (OR) proof that it is one of the digit's admissible values,
//! so the proof shows `x ∈ [0, span]` exactly, not merely `x < 2^k`.
//!
//! The total in the column's units (integers of 10^-scale for decimals) is recovered exactly as
//! `Σx + count·(min - zero)`, where `zero` is the encoding of the value 0 (`2^(bits-1)` for
//! signed integers and signed decimals, 0 otherwise). The sum bound — the largest `Σx` can be —
//! is `count × span`; it sizes the discrete-log table and must stay within [`MAX_TOTAL`].

use std::fmt;
use std::sync::Arc;

use elastic_elgamal::group::Ristretto;
use elastic_elgamal::{PreparedRange, RangeDecomposition};
use merlin::Transcript;
use sha2::{Digest, Sha256};
use trustspace_data::{Column, Kind, Schema};

use super::keys::KeyId;
use crate::error::{HeError, Result};

/// Widest declared range a proof can cover: `span < 2^MAX_RANGE_BITS`. Planning the proof of a
/// 2^48 range takes seconds (once per [`SumSpec`]); each proof grows with the range's digits.
pub const MAX_RANGE_BITS: u32 = 48;

/// Largest total (`count × span`) this crate decrypts: 2^48 − 1. The discrete-log table for it
/// has 2^22 baby steps and 2^26 giant steps; the default sizes are in [`super::dlog`].
pub const MAX_TOTAL: u64 = (1 << 48) - 1;

/// Longest sum label, in bytes.
pub const MAX_LABEL_BYTES: usize = 1024;

/// A declared range of canonical encodings, and how an encoding maps to the column's units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRange {
    min: u64,
    max: u64,
    zero: u64,
    scale: u32,
}

impl ValueRange {
    /// Non-negative integers `0..=max`, in units of 1.
    pub fn unsigned(max: u64) -> Result<Self> {
        ValueRange::new(0, max, 0, 0, "explicit range")
    }

    /// The range a column declares: its `min`/`max` encodings, or its type's bounds.
    /// Unsigned and signed integers, decimals (at their scale) and booleans can be summed.
    pub fn for_column(column: &Column) -> Result<Self> {
        let (zero, scale) = match column.kind() {
            Kind::Uint { .. } | Kind::Bool => (0, 0),
            Kind::Int { bits } => (1u64 << (bits - 1), 0),
            Kind::Decimal {
                scale,
                bits,
                signed,
            } => (if *signed { 1u64 << (bits - 1) } else { 0 }, *scale),
            other => {
                return Err(HeError::UnsupportedColumn {
                    column: column.name().to_string(),
                    kind: other.label().into(),
                });
            }
        };
        ValueRange::new(
            column.min_encoded(),
            column.max_encoded(),
            zero,
            scale,
            &format!("column `{}`", column.name()),
        )
    }

    fn new(min: u64, max: u64, zero: u64, scale: u32, what: &str) -> Result<Self> {
        if max <= min {
            return Err(HeError::UnusableRange {
                what: what.to_string(),
                reason: "it admits a single value (or none): nothing to hide or sum".into(),
            });
        }
        let span = max - min;
        if span >= 1 << MAX_RANGE_BITS {
            return Err(HeError::UnusableRange {
                what: what.to_string(),
                reason: format!(
                    "it spans {span} + 1 values, wider than a range proof covers \
                     (2^{MAX_RANGE_BITS}); declare a tighter `min`/`max` in the schema"
                ),
            });
        }
        Ok(ValueRange {
            min,
            max,
            zero,
            scale,
        })
    }

    /// Smallest allowed encoding.
    pub fn min_encoded(&self) -> u64 {
        self.min
    }

    /// Largest allowed encoding.
    pub fn max_encoded(&self) -> u64 {
        self.max
    }

    /// `max - min`: the largest shifted value, and each input's contribution to the sum bound.
    pub fn span(&self) -> u64 {
        self.max - self.min
    }

    /// Decimal places of the column's units (0 for integers).
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// The value, in column units, that shifted value 0 stands for: `min - zero`.
    pub fn offset_units(&self) -> i128 {
        i128::from(self.min) - i128::from(self.zero)
    }

    /// The shifted value of `enc`, or `None` when it is outside the range.
    pub(crate) fn shift(&self, enc: u64) -> Option<u64> {
        (self.min..=self.max).contains(&enc).then(|| enc - self.min)
    }

    fn describe(&self) -> String {
        let lo = self.offset_units();
        let hi = lo + i128::from(self.span());
        format!(
            "[{}, {}]",
            format_units(lo, self.scale),
            format_units(hi, self.scale)
        )
    }
}

impl fmt::Display for ValueRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Formats integer `units` of 10^-scale as a decimal (`-1234` at scale 2 is `-12.34`).
pub use trustspace_data::format_units;

/// What a sum is over: a label (dataset, column, round), the declared range, and for columns the
/// schema and column it was built for. Every range proof is bound to the spec's digest and the
/// key set, so an input made for another sum, range or key does not verify.
#[derive(Clone)]
pub struct SumSpec {
    label: String,
    column: Option<(String, usize)>,
    schema_digest: Option<[u8; 32]>,
    range: ValueRange,
    id: [u8; 32],
    prepared: Arc<PreparedRange<Ristretto>>,
}

impl fmt::Debug for SumSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SumSpec")
            .field("label", &self.label)
            .field("column", &self.column)
            .field("range", &self.range)
            .field("id", &hex::encode(&self.id[..8]))
            .finish()
    }
}

impl SumSpec {
    /// The sum of `column` of `schema`, over the column's declared range, under `label`.
    pub fn for_column(schema: &Schema, column: &str, label: &str) -> Result<Self> {
        let index = schema
            .index_of(column)
            .ok_or_else(|| HeError::UnknownColumn {
                column: column.to_string(),
            })?;
        let range = ValueRange::for_column(&schema.columns()[index])?;
        SumSpec::build(
            label,
            Some((column.to_string(), index)),
            Some(schema.digest()),
            range,
        )
    }

    /// A sum over `range`, not tied to a schema, under `label`.
    pub fn new(label: &str, range: ValueRange) -> Result<Self> {
        SumSpec::build(label, None, None, range)
    }

    fn build(
        label: &str,
        column: Option<(String, usize)>,
        schema_digest: Option<[u8; 32]>,
        range: ValueRange,
    ) -> Result<Self> {
        if label.is_empty() || label.len() > MAX_LABEL_BYTES {
            return Err(HeError::InvalidParameter {
                what: "label",
                reason: format!("must be 1..={MAX_LABEL_BYTES} bytes, is {}", label.len()),
            });
        }
        let mut h = Sha256::new();
        h.update(b"trustspace-he/ristretto/sum-spec/v1");
        h.update((label.len() as u64).to_le_bytes());
        h.update(label.as_bytes());
        match &column {
            Some((name, index)) => {
                h.update([1]);
                h.update((name.len() as u64).to_le_bytes());
                h.update(name.as_bytes());
                h.update((*index as u64).to_le_bytes());
            }
            None => h.update([0]),
        }
        h.update(schema_digest.unwrap_or([0; 32]));
        for v in [range.min, range.max, range.zero, u64::from(range.scale)] {
            h.update(v.to_le_bytes());
        }
        let decomposition = RangeDecomposition::optimal(range.span() + 1);
        Ok(SumSpec {
            label: label.to_string(),
            column,
            schema_digest,
            id: h.finalize().into(),
            prepared: Arc::new(PreparedRange::from(decomposition)),
            range,
        })
    }

    /// The label every proof is bound to.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The declared range of each input.
    pub fn range(&self) -> &ValueRange {
        &self.range
    }

    /// The column (name, position) this spec sums, if built from a schema.
    pub fn column(&self) -> Option<(&str, usize)> {
        self.column.as_ref().map(|(n, i)| (n.as_str(), *i))
    }

    /// The digest of label, column, schema and range that names this spec.
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// The most inputs one total can hold before `count × span` passes [`MAX_TOTAL`].
    pub fn max_count(&self) -> u64 {
        MAX_TOTAL / self.range.span()
    }

    /// Size in bytes of one input: the ciphertext (64) plus its range proof (partial
    /// ciphertexts and ring responses, 32 bytes per element or scalar).
    pub fn bytes_per_input(&self) -> u64 {
        64 + 32 * self.prepared.decomposition().proof_size()
    }

    pub(crate) fn schema_digest(&self) -> Option<[u8; 32]> {
        self.schema_digest
    }

    pub(crate) fn prepared(&self) -> &PreparedRange<Ristretto> {
        &self.prepared
    }

    pub(crate) fn describe_range(&self) -> String {
        self.range.describe()
    }

    /// The proof transcript: bound to this spec and the key set.
    pub(crate) fn transcript(&self, key: &KeyId) -> Transcript {
        let mut t = Transcript::new(b"trustspace-he/ristretto/range-proof/v1");
        t.append_message(b"sum-spec", &self.id);
        t.append_message(b"key-set", &key.0);
        t
    }
}
