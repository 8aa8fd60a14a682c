//! The holder's step for path A: values (one-hot by group) into proven compact lists under the
//! compact public key.

use rayon::prelude::*;
use tfhe::ProvenCompactCiphertextList;
use tfhe::integer::ciphertext::IntegerProvenCompactCiphertextListConformanceParams;
use tfhe::safe_serialization::{safe_deserialize_conformant, safe_serialize};
use tfhe::shortint::parameters::PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128;
use tfhe::zk::ZkComputeLoad;

use super::keys::{LIST_BITS, PublicKeys};
use super::params::{IntParams, Width};
use crate::codec::{check_label, format_err, read_whole};
use crate::column::ColumnValues;
use crate::error::{HeError, Result, clip};

pub use crate::codec::MAX_LABEL_BYTES;

/// Largest serialized proven list accepted.
pub const MAX_LIST_BYTES: u64 = 64 << 20;

/// Values one proven list holds for a width: as many as fit the CRS's [`LIST_BITS`].
pub fn values_per_list(width: Width) -> usize {
    LIST_BITS / width.bits() as usize
}

/// A holder's contribution: `rows` rows, each `groups` values wide (its value in its group's
/// slot, zero elsewhere), row-major, in proven lists of [`values_per_list`] values.
#[derive(Clone)]
pub struct Contribution {
    pub(crate) keys_id: [u8; 32],
    pub(crate) session: String,
    pub(crate) holder: String,
    pub(crate) rows: u64,
    pub(crate) lists: Vec<ProvenCompactCiphertextList>,
}

impl Contribution {
    /// Rows contributed.
    pub fn rows(&self) -> u64 {
        self.rows
    }
    /// The holder's name.
    pub fn holder(&self) -> &str {
        &self.holder
    }
    /// Proven lists.
    pub fn lists(&self) -> &[ProvenCompactCiphertextList] {
        &self.lists
    }
    /// The lists, mutable (to test that the aggregator refuses altered inputs).
    pub fn lists_mut(&mut self) -> &mut Vec<ProvenCompactCiphertextList> {
        &mut self.lists
    }
}

/// What each list's proof is bound to.
pub(crate) fn metadata(
    keys_id: &[u8; 32],
    params: &IntParams,
    session: &str,
    holder: &str,
    rows: u64,
    index: usize,
) -> Vec<u8> {
    let mut m = Vec::with_capacity(96 + session.len() + holder.len());
    m.extend_from_slice(b"trustspace-he/fhe-int/list/v1");
    m.extend_from_slice(keys_id);
    m.extend_from_slice(&params.to_bytes());
    for text in [session, holder] {
        m.extend_from_slice(&(text.len() as u32).to_le_bytes());
        m.extend_from_slice(text.as_bytes());
    }
    m.extend_from_slice(&rows.to_le_bytes());
    m.extend_from_slice(&(index as u64).to_le_bytes());
    m
}

/// Encrypts a plain sum's values (`params.groups()` must be 1).
pub fn encrypt_values(
    keys: &PublicKeys,
    params: &IntParams,
    session: &str,
    holder: &str,
    values: &[u64],
) -> Result<Contribution> {
    encrypt_grouped(
        keys,
        params,
        session,
        holder,
        values,
        &vec![0; values.len()],
    )
}

/// Encrypts a dataset column as a plain sum.
pub fn encrypt_column(
    keys: &PublicKeys,
    params: &IntParams,
    session: &str,
    holder: &str,
    column: &ColumnValues,
) -> Result<Contribution> {
    if column.max > params.value_width().max_value() {
        return Err(HeError::SpecMismatch {
            what: format!("column `{}`", column.column),
            reason: format!(
                "its values reach {}, the sum was declared for {:?}",
                column.max,
                params.value_width()
            ),
        });
    }
    encrypt_values(keys, params, session, holder, &column.values)
}

/// Encrypts rows for a GROUP BY: row i adds `values[i]` to group `groups[i]` (an index into
/// the public group domain). Each row becomes `params.groups()` encrypted values, so the
/// aggregator learns neither a row's value nor its group.
pub fn encrypt_grouped(
    keys: &PublicKeys,
    params: &IntParams,
    session: &str,
    holder: &str,
    values: &[u64],
    groups: &[usize],
) -> Result<Contribution> {
    check_label("session", session)?;
    check_label("holder", holder)?;
    if values.len() != groups.len() {
        return Err(HeError::InvalidParameter {
            what: "groups",
            reason: format!("{} group indices for {} values", groups.len(), values.len()),
        });
    }
    let rows = values.len() as u64;
    if rows > params.max_rows() {
        return Err(HeError::CountExceeded {
            what: format!("contribution of holder `{}`", clip(holder)),
            count: rows,
            limit: params.max_rows(),
            unit: "rows",
        });
    }
    let width = params.value_width();
    let g = params.groups();
    let mut slots = vec![0u64; values.len() * g];
    for (i, (&v, &group)) in values.iter().zip(groups).enumerate() {
        if v > width.max_value() {
            return Err(HeError::ValueOutOfRange {
                input: format!("row {i}"),
                range: format!("0..={}", width.max_value()),
            });
        }
        if group >= g {
            return Err(HeError::InvalidParameter {
                what: "groups",
                reason: format!("row {i} names group {group}, the domain has {g}"),
            });
        }
        slots[i * g + group] = v;
    }
    let id = keys.id();
    let lists = slots
        .par_chunks(values_per_list(width))
        .enumerate()
        .map(|(index, chunk)| {
            let meta = metadata(&id, params, session, holder, rows, index);
            let mut builder = ProvenCompactCiphertextList::builder(&keys.compact);
            for &v in chunk {
                match width {
                    Width::U8 => builder.push(v as u8),
                    Width::U16 => builder.push(v as u16),
                    Width::U32 => builder.push(v as u32),
                    Width::U64 => builder.push(v),
                };
            }
            builder
                .build_with_proof_packed(&keys.crs, &meta, ZkComputeLoad::Proof)
                .map_err(|e| HeError::tfhe("encrypt and prove", e))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Contribution {
        keys_id: id,
        session: session.to_string(),
        holder: holder.to_string(),
        rows,
        lists,
    })
}

const CONTRIBUTION_MAGIC: &[u8; 8] = b"TSFHECT1";

impl Contribution {
    /// Encodes the contribution (labels, rows, then each list by tfhe's safe serialization).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = CONTRIBUTION_MAGIC.to_vec();
        out.extend_from_slice(&self.keys_id);
        for text in [&self.session, &self.holder] {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out.extend_from_slice(&self.rows.to_le_bytes());
        out.extend_from_slice(&(self.lists.len() as u32).to_le_bytes());
        for l in &self.lists {
            let mut bytes = Vec::new();
            safe_serialize(l, &mut bytes, MAX_LIST_BYTES)
                .map_err(|e| HeError::tfhe("list serialization", e))?;
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(&bytes);
        }
        Ok(out)
    }

    /// Decodes an untrusted contribution: size limits, and each list checked for conformance
    /// to the pinned parameters and the CRS (proofs are verified by the aggregator).
    pub fn from_bytes(bytes: &[u8], keys: &PublicKeys, params: &IntParams) -> Result<Self> {
        let mut r = crate::codec::Reader::new(bytes, "contribution");
        r.magic(CONTRIBUTION_MAGIC)?;
        let keys_id = *r.array::<32>()?;
        let session = r.text(MAX_LABEL_BYTES)?;
        let holder = r.text(MAX_LABEL_BYTES)?;
        let rows = r.u64()?;
        if rows > params.max_rows() {
            return Err(HeError::CountExceeded {
                what: "contribution".into(),
                count: rows,
                limit: params.max_rows(),
                unit: "rows",
            });
        }
        let n = r.u32()? as usize;
        let expected =
            (rows as usize * params.groups()).div_ceil(values_per_list(params.value_width()));
        if n != expected {
            return Err(format_err(
                "contribution",
                format!("{n} lists for {rows} rows"),
            ));
        }
        let conformance =
            IntegerProvenCompactCiphertextListConformanceParams::from_crs_and_parameters(
                PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128,
                &keys.crs,
            );
        let mut lists = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.u64()?;
            if len > MAX_LIST_BYTES {
                return Err(HeError::TooLarge {
                    what: "proven list".into(),
                    size: len,
                    limit: MAX_LIST_BYTES,
                    unit: "bytes",
                });
            }
            // The list fills its declared length exactly: no bytes hidden after it.
            let list: ProvenCompactCiphertextList =
                read_whole("proven list", r.bytes(len as usize)?, |r| {
                    safe_deserialize_conformant(r, MAX_LIST_BYTES, &conformance)
                })?;
            lists.push(list);
        }
        r.end()?;
        Ok(Contribution {
            keys_id,
            session,
            holder,
            rows,
            lists,
        })
    }
}
