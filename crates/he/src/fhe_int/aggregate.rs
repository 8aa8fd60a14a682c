//! The aggregator's step for path A — verify, expand, multi-operand sum per group — and the
//! encrypted checks on the totals, of which only the verdict (or one chosen value) is
//! decrypted.

use std::collections::HashSet;

use tfhe::prelude::*;
use tfhe::safe_serialization::{safe_deserialize_conformant, safe_serialize};
use tfhe::shortint::parameters::PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128;
use tfhe::{
    FheBool, FheBoolConformanceParams, FheUint, FheUint8Id, FheUint16ConformanceParams,
    FheUint16Id, FheUint32ConformanceParams, FheUint32Id, FheUint64ConformanceParams, FheUint64Id,
    FheUintId, set_server_key,
};

use super::encrypt::{Contribution, metadata, values_per_list};
use super::keys::{AggregatorKeys, KeyHolder};
use super::params::{IntParams, Width};
use crate::codec::{Reader, format_err, read_whole};
use crate::error::{HeError, Result, clip};

/// Partial sums kept per group before they are folded into one (bounds memory for long
/// inputs: a list is summed as soon as it is expanded).
const FOLD_AT: usize = 64;

/// Encrypted totals, one per group, in the declared sum width.
#[derive(Clone)]
pub struct EncryptedTotals {
    keys_id: [u8; 32],
    params: IntParams,
    rows: u64,
    sums: Sums,
}

#[derive(Clone)]
enum Sums {
    U16(Vec<FheUint<FheUint16Id>>),
    U32(Vec<FheUint<FheUint32Id>>),
    U64(Vec<FheUint<FheUint64Id>>),
}

/// Runs `$body` with `$v` bound to the typed vector inside `$sums`.
macro_rules! with_sums {
    ($sums:expr, $v:ident => $body:expr) => {
        match $sums {
            Sums::U16($v) => $body,
            Sums::U32($v) => $body,
            Sums::U64($v) => $body,
        }
    };
}

/// Runs `$body` (a `Vec` of the same type) on the typed vector inside `$sums`, keeping the
/// variant.
macro_rules! map_sums {
    ($sums:expr, $v:ident => $body:expr) => {
        match $sums {
            Sums::U16($v) => Sums::U16($body),
            Sums::U32($v) => Sums::U32($body),
            Sums::U64($v) => Sums::U64($body),
        }
    };
}

/// Verifies every contribution's proofs and sums it per group with tfhe's multi-operand sum.
/// A contribution that fails any check (keys, session, duplicate holder, counts, a proof, an
/// element of another width) is refused with an error naming it.
pub fn aggregate(
    keys: &AggregatorKeys,
    params: &IntParams,
    session: &str,
    contributions: &[Contribution],
) -> Result<EncryptedTotals> {
    set_server_key(keys.server.clone());
    let id = keys.public.id();
    let mut holders = HashSet::new();
    let mut rows = 0u64;
    for c in contributions {
        let who = format!("contribution of holder `{}`", clip(&c.holder));
        if c.keys_id != id {
            return Err(HeError::KeyMismatch {
                what: who,
                found: hex::encode(c.keys_id),
                expected: hex::encode(id),
            });
        }
        if c.session != session {
            return Err(HeError::SpecMismatch {
                what: who,
                reason: format!("made for session `{}`", clip(&c.session)),
            });
        }
        if !holders.insert(c.holder.as_str()) {
            return Err(HeError::Duplicate { what: who });
        }
        rows += c.rows;
        if rows > params.max_rows() {
            return Err(HeError::CountExceeded {
                what: "aggregate".into(),
                count: rows,
                limit: params.max_rows(),
                unit: "rows",
            });
        }
        let want =
            (c.rows as usize * params.groups()).div_ceil(values_per_list(params.value_width()));
        if c.lists.len() != want {
            return Err(format_err(
                &who,
                format!("{} lists for {} rows", c.lists.len(), c.rows),
            ));
        }
    }
    let sums = match params.sum_width() {
        Width::U16 => Sums::U16(sum_all::<FheUint16Id>(
            keys,
            params,
            session,
            contributions,
        )?),
        Width::U32 => Sums::U32(sum_all::<FheUint32Id>(
            keys,
            params,
            session,
            contributions,
        )?),
        Width::U64 => Sums::U64(sum_all::<FheUint64Id>(
            keys,
            params,
            session,
            contributions,
        )?),
        Width::U8 => unreachable!("sum width is at least 16 bits"),
    };
    Ok(EncryptedTotals {
        keys_id: id,
        params: *params,
        rows,
        sums,
    })
}

fn sum_all<S: FheUintId>(
    keys: &AggregatorKeys,
    params: &IntParams,
    session: &str,
    contributions: &[Contribution],
) -> Result<Vec<FheUint<S>>> {
    let g = params.groups();
    let per_list = values_per_list(params.value_width());
    let mut partials: Vec<Vec<FheUint<S>>> = (0..g).map(|_| Vec::new()).collect();
    for (position, c) in contributions.iter().enumerate() {
        for (index, list) in c.lists.iter().enumerate() {
            let input = format!("contribution of holder `{}`, list {index}", clip(&c.holder));
            let meta = metadata(&keys.public.id(), params, session, &c.holder, c.rows, index);
            let expander = list
                .verify_and_expand(&keys.public.crs, &keys.public.compact, &meta)
                .map_err(|e| HeError::InvalidRangeProof {
                    input: input.clone(),
                    holder: Some(position),
                    index,
                    reason: clip(&e.to_string()),
                })?;
            let first = index * per_list;
            let expected = (c.rows as usize * g - first).min(per_list);
            if expander.len() != expected {
                return Err(format_err(
                    &input,
                    format!("{} values, expected {expected}", expander.len()),
                ));
            }
            let mut by_group: Vec<Vec<FheUint<S>>> = (0..g).map(|_| Vec::new()).collect();
            for i in 0..expander.len() {
                let value = expand_as::<S>(&expander, i, params.value_width())
                    .map_err(|reason| format_err(&input, format!("value {i}: {reason}")))?;
                by_group[(first + i) % g].push(value);
            }
            for (group, values) in by_group.into_iter().enumerate() {
                if !values.is_empty() {
                    partials[group].push(multi_sum(values));
                }
                if partials[group].len() >= FOLD_AT {
                    let folded = multi_sum(std::mem::take(&mut partials[group]));
                    partials[group].push(folded);
                }
            }
        }
    }
    Ok(partials
        .into_iter()
        .map(|p| {
            if p.is_empty() {
                FheUint::<S>::encrypt_trivial(0u64)
            } else {
                multi_sum(p)
            }
        })
        .collect())
}

/// tfhe's multi-operand sum (one carry propagation for all operands, not a chain of `+`).
fn multi_sum<S: FheUintId>(mut values: Vec<FheUint<S>>) -> FheUint<S> {
    if values.len() == 1 {
        return values.pop().expect("one value");
    }
    values.iter().sum()
}

/// Element `i` as the declared value width, widened to the sum width (no bootstrap: the
/// extra blocks are zero).
fn expand_as<S: FheUintId>(
    expander: &tfhe::CompactCiphertextListExpander,
    i: usize,
    width: Width,
) -> std::result::Result<FheUint<S>, String> {
    fn get<V: FheUintId, S: FheUintId>(
        expander: &tfhe::CompactCiphertextListExpander,
        i: usize,
    ) -> std::result::Result<FheUint<S>, String> {
        match expander.get::<FheUint<V>>(i) {
            Ok(Some(v)) => Ok(v.cast_into()),
            Ok(None) => Err("missing".into()),
            Err(e) => Err(format!(
                "not of the declared width ({})",
                clip(&e.to_string())
            )),
        }
    }
    match width {
        Width::U8 => get::<FheUint8Id, S>(expander, i),
        Width::U16 => get::<FheUint16Id, S>(expander, i),
        Width::U32 => get::<FheUint32Id, S>(expander, i),
        Width::U64 => get::<FheUint64Id, S>(expander, i),
    }
}

/// An encrypted yes/no answer: only this is decrypted when a check is all that is asked.
#[derive(Clone)]
pub struct EncryptedVerdict {
    keys_id: [u8; 32],
    value: FheBool,
}

/// One encrypted value in the sum width (a group's total, the largest total).
#[derive(Clone)]
pub struct EncryptedValue {
    keys_id: [u8; 32],
    sums: Sums,
}

impl EncryptedTotals {
    /// Rows summed.
    pub fn rows(&self) -> u64 {
        self.rows
    }
    /// The declaration the totals were computed under.
    pub fn params(&self) -> &IntParams {
        &self.params
    }

    fn check_group(&self, group: usize) -> Result<()> {
        if group >= self.params.groups() {
            return Err(HeError::InvalidParameter {
                what: "group",
                reason: format!("{group} is outside the domain of {}", self.params.groups()),
            });
        }
        Ok(())
    }

    /// Encrypted `total[group] > limit`, evaluated by the aggregator.
    pub fn exceeds(
        &self,
        keys: &AggregatorKeys,
        group: usize,
        limit: u64,
    ) -> Result<EncryptedVerdict> {
        self.check_group(group)?;
        set_server_key(keys.server.clone());
        let value = with_sums!(&self.sums, v => {
            if limit >= self.params.sum_width().max_value() {
                // No total of this width exceeds it.
                FheBool::encrypt_trivial(false)
            } else {
                v[group].gt(limit)
            }
        });
        Ok(EncryptedVerdict {
            keys_id: self.keys_id,
            value,
        })
    }

    /// The encrypted largest group total.
    pub fn max_total(&self, keys: &AggregatorKeys) -> EncryptedValue {
        set_server_key(keys.server.clone());
        let sums = map_sums!(&self.sums, v => {
            let mut best = v[0].clone();
            for t in &v[1..] {
                best = best.max(t);
            }
            vec![best]
        });
        EncryptedValue {
            keys_id: self.keys_id,
            sums,
        }
    }

    /// The encrypted total of one group.
    pub fn total(&self, group: usize) -> Result<EncryptedValue> {
        self.check_group(group)?;
        let sums = map_sums!(&self.sums, v => vec![v[group].clone()]);
        Ok(EncryptedValue {
            keys_id: self.keys_id,
            sums,
        })
    }
}

impl KeyHolder {
    fn check(&self, keys_id: [u8; 32], what: &str) -> Result<()> {
        if keys_id != self.id() {
            return Err(HeError::KeyMismatch {
                what: what.into(),
                found: hex::encode(keys_id),
                expected: hex::encode(self.id()),
            });
        }
        Ok(())
    }

    /// Decrypts a verdict.
    pub fn decrypt_verdict(&self, verdict: &EncryptedVerdict) -> Result<bool> {
        self.check(verdict.keys_id, "verdict")?;
        Ok(verdict.value.decrypt(&self.client))
    }

    /// Decrypts one chosen value.
    pub fn decrypt_value(&self, value: &EncryptedValue) -> Result<u64> {
        self.check(value.keys_id, "encrypted value")?;
        Ok(with_sums!(&value.sums, v => v[0].decrypt(&self.client)))
    }

    /// Decrypts every group's total (the GROUP BY result).
    pub fn decrypt_totals(&self, totals: &EncryptedTotals) -> Result<Vec<u64>> {
        self.check(totals.keys_id, "encrypted totals")?;
        Ok(with_sums!(&totals.sums, v => v.iter().map(|t| t.decrypt(&self.client)).collect()))
    }
}

const VERDICT_MAGIC: &[u8; 8] = b"TSFHEVD1";
const VALUE_MAGIC: &[u8; 8] = b"TSFHEVL1";
const MAX_RESULT_BYTES: u64 = 16 << 20;

fn ser<T>(value: &T) -> Result<Vec<u8>>
where
    T: serde::Serialize + tfhe::Versionize + tfhe::named::Named,
{
    let mut out = Vec::new();
    safe_serialize(value, &mut out, MAX_RESULT_BYTES)
        .map_err(|e| HeError::tfhe("serialization", e))?;
    Ok(out)
}

impl EncryptedVerdict {
    /// Encodes the verdict for the key holder.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = VERDICT_MAGIC.to_vec();
        out.extend_from_slice(&self.keys_id);
        out.extend(ser(&self.value)?);
        Ok(out)
    }

    /// Decodes a verdict (size limit, conformance to the pinned parameters).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "verdict");
        r.magic(VERDICT_MAGIC)?;
        let keys_id = *r.array::<32>()?;
        let params = FheBoolConformanceParams::from(PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128);
        // Whole: bytes after tfhe's encoding are refused (nothing rides along with a result).
        let value = read_whole("verdict", r.rest(), |r| {
            safe_deserialize_conformant(r, MAX_RESULT_BYTES, &params)
        })?;
        Ok(EncryptedVerdict { keys_id, value })
    }
}

impl EncryptedValue {
    /// Encodes the value for the key holder.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = VALUE_MAGIC.to_vec();
        out.extend_from_slice(&self.keys_id);
        let (tag, body) = match &self.sums {
            Sums::U16(v) => (16u8, ser(&v[0])?),
            Sums::U32(v) => (32, ser(&v[0])?),
            Sums::U64(v) => (64, ser(&v[0])?),
        };
        out.push(tag);
        out.extend(body);
        Ok(out)
    }

    /// Decodes a value (size limit, conformance to the pinned parameters and its width).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        // Whole: bytes after tfhe's encoding are refused (nothing rides along with a result).
        macro_rules! read {
            ($params:ty, $bytes:expr) => {
                read_whole("encrypted value", $bytes, |r| {
                    safe_deserialize_conformant(
                        r,
                        MAX_RESULT_BYTES,
                        &<$params>::from(PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128),
                    )
                })?
            };
        }
        let mut r = Reader::new(bytes, "encrypted value");
        r.magic(VALUE_MAGIC)?;
        let keys_id = *r.array::<32>()?;
        let tag = r.array::<1>()?[0];
        let body = r.rest();
        let sums = match tag {
            16 => Sums::U16(vec![read!(FheUint16ConformanceParams, body)]),
            32 => Sums::U32(vec![read!(FheUint32ConformanceParams, body)]),
            64 => Sums::U64(vec![read!(FheUint64ConformanceParams, body)]),
            other => return Err(format_err("encrypted value", format!("width tag {other}"))),
        };
        Ok(EncryptedValue { keys_id, sums })
    }
}
