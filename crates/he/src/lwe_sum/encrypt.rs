//! The holder's step: pack values `slots` to a compact list (one shared mask, a body per
//! value), encrypt under the compact public key and prove each list well formed and in range.

use rayon::prelude::*;
use tfhe::core_crypto::prelude::*;
use tfhe::safe_serialization::{safe_deserialize_conformant, safe_serialize};
use tfhe::zk::{
    CompactPkeProof, CompactPkeProofConformanceParams, CompactPkeZkScheme, ZkComputeLoad,
};

use super::keys::PublicSetup;
use super::params::pke_params;
use crate::codec::{Reader, put_text, put_words};
use crate::codec::{check_label, read_whole};
use crate::column::ColumnValues;
use crate::error::{HeError, Result};

pub use crate::codec::MAX_LABEL_BYTES;

/// Largest serialized proof accepted for one list.
pub const MAX_PROOF_BYTES: u64 = 1 << 20;

const COLUMN_MAGIC: &[u8; 8] = b"TSLWECL1";

/// One proven compact list: up to `slots` values (the rest zero), its proof, and how many
/// values it claims to hold (bound into the proof).
#[derive(Clone)]
pub struct EncryptedList {
    pub(crate) index: u32,
    pub(crate) count: u32,
    pub(crate) list: LweCompactCiphertextListOwned<u64>,
    pub(crate) proof: CompactPkeProof,
}

impl EncryptedList {
    /// Values the list holds (the rest of its slots are zero).
    pub fn count(&self) -> u32 {
        self.count
    }
    /// The list's ciphertext words (mask, then bodies).
    pub fn words(&self) -> &[u64] {
        self.list.as_ref()
    }
    /// The words, mutable (to test that the aggregator refuses altered lists).
    pub fn words_mut(&mut self) -> &mut [u64] {
        self.list.as_mut()
    }
}

/// A holder's encrypted column: lists made for one setup, one session and one holder.
#[derive(Clone)]
pub struct EncryptedColumn {
    pub(crate) setup_id: [u8; 32],
    pub(crate) session: String,
    pub(crate) holder: String,
    pub(crate) lists: Vec<EncryptedList>,
}

impl EncryptedColumn {
    /// Values the column holds.
    pub fn len(&self) -> u64 {
        self.lists.iter().map(|l| u64::from(l.count)).sum()
    }
    /// Whether the column holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The holder's name.
    pub fn holder(&self) -> &str {
        &self.holder
    }
    /// The lists.
    pub fn lists(&self) -> &[EncryptedList] {
        &self.lists
    }
    /// The lists, mutable (to test that the aggregator refuses altered inputs).
    pub fn lists_mut(&mut self) -> &mut Vec<EncryptedList> {
        &mut self.lists
    }
}

/// What a proof is bound to: the setup, the session, the holder, the list's place and count.
/// A proof made for one of these verifies for no other.
pub(crate) fn metadata(
    setup_id: &[u8; 32],
    session: &str,
    holder: &str,
    index: u32,
    count: u32,
) -> Vec<u8> {
    let mut m = Vec::with_capacity(64 + session.len() + holder.len());
    m.extend_from_slice(b"trustspace-he/lwe-sum/list/v1");
    m.extend_from_slice(setup_id);
    put_text(&mut m, session);
    put_text(&mut m, holder);
    m.extend_from_slice(&index.to_le_bytes());
    m.extend_from_slice(&count.to_le_bytes());
    m
}

/// Encrypts `values` (each below `2^value_bits`) for `session`, as `holder`: lists are
/// encrypted and proven in parallel.
pub fn encrypt_values(
    setup: &PublicSetup,
    session: &str,
    holder: &str,
    values: &[u64],
) -> Result<EncryptedColumn> {
    check_label("session", session)?;
    check_label("holder", holder)?;
    let p = setup.params();
    if values.len() as u64 > p.max_values() {
        return Err(HeError::CountExceeded {
            what: format!("column of holder `{}`", crate::error::clip(holder)),
            count: values.len() as u64,
            limit: p.max_values(),
            unit: "values",
        });
    }
    let limit = 1u64 << p.value_bits();
    if let Some(i) = values.iter().position(|&v| v >= limit) {
        return Err(HeError::ValueOutOfRange {
            input: format!("value {i}"),
            range: format!("0..2^{}", p.value_bits()),
        });
    }
    let id = setup.id();
    let lists = values
        .par_chunks(p.slots())
        .enumerate()
        .map(|(i, chunk)| {
            encrypt_list(
                setup,
                &metadata(&id, session, holder, i as u32, chunk.len() as u32),
                i,
                chunk,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(EncryptedColumn {
        setup_id: id,
        session: session.to_string(),
        holder: holder.to_string(),
        lists,
    })
}

/// Encrypts a dataset column (see [`crate::column::unsigned_column`]), refusing one whose
/// declared maximum does not fit the setup's value width.
pub fn encrypt_column(
    setup: &PublicSetup,
    session: &str,
    holder: &str,
    column: &ColumnValues,
) -> Result<EncryptedColumn> {
    if column.value_bits() > setup.params().value_bits() {
        return Err(HeError::SpecMismatch {
            what: format!("column `{}`", column.column),
            reason: format!(
                "its values take up to {} bits, the sum was declared for {}",
                column.value_bits(),
                setup.params().value_bits()
            ),
        });
    }
    encrypt_values(setup, session, holder, &column.values)
}

fn encrypt_list(
    setup: &PublicSetup,
    meta: &[u8],
    index: usize,
    chunk: &[u64],
) -> Result<EncryptedList> {
    let p = setup.params();
    let pke = pke_params();
    let mut messages = chunk.to_vec();
    messages.resize(p.slots(), 0);
    let mut list = LweCompactCiphertextList::new(
        0u64,
        pke.encryption_lwe_dimension.to_lwe_size(),
        LweCiphertextCount(p.slots()),
        pke.ciphertext_modulus,
    );
    let mut seeder = new_seeder();
    let seeder = seeder.as_mut();
    let mut generator =
        EncryptionRandomGenerator::<DefaultRandomGenerator>::new(seeder.seed(), seeder);
    let proof = encrypt_and_prove_lwe_compact_ciphertext_list_with_compact_public_key(
        setup.public_key(),
        &mut list,
        &messages,
        1u64 << p.delta_log(),
        pke.encryption_noise_distribution,
        pke.encryption_noise_distribution,
        generator.noise_generator_mut(),
        setup.crs(),
        meta,
        ZkComputeLoad::Proof,
    )
    .map_err(|e| HeError::tfhe("encrypt and prove", e))?;
    Ok(EncryptedList {
        index: index as u32,
        count: chunk.len() as u32,
        list,
        proof,
    })
}

impl EncryptedColumn {
    /// Encodes the column: labels, then per list its index, count, proof (tfhe's safe
    /// serialization) and ciphertext words.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        out.extend_from_slice(COLUMN_MAGIC);
        out.extend_from_slice(&self.setup_id);
        put_text(&mut out, &self.session);
        put_text(&mut out, &self.holder);
        out.extend_from_slice(&(self.lists.len() as u32).to_le_bytes());
        for l in &self.lists {
            out.extend_from_slice(&l.index.to_le_bytes());
            out.extend_from_slice(&l.count.to_le_bytes());
            let mut proof = Vec::new();
            safe_serialize(&l.proof, &mut proof, MAX_PROOF_BYTES)
                .map_err(|e| HeError::tfhe("proof serialization", e))?;
            out.extend_from_slice(&(proof.len() as u32).to_le_bytes());
            out.extend_from_slice(&proof);
            put_words(&mut out, l.list.as_ref());
        }
        Ok(out)
    }

    /// Decodes a column from an untrusted holder for `setup`: sizes come from the setup, not
    /// from the bytes; proofs are deserialized with a size limit and conformance checks.
    /// (Proofs are *verified* by the aggregator.)
    pub fn from_bytes(bytes: &[u8], setup: &PublicSetup) -> Result<Self> {
        let p = setup.params();
        let mut r = Reader::new(bytes, "encrypted column");
        r.magic(COLUMN_MAGIC)?;
        let setup_id = *r.array::<32>()?;
        let session = r.text(MAX_LABEL_BYTES)?;
        let holder = r.text(MAX_LABEL_BYTES)?;
        let n_lists = u64::from(r.u32()?);
        if n_lists > p.max_lists() {
            return Err(HeError::CountExceeded {
                what: "encrypted column".into(),
                count: n_lists,
                limit: p.max_lists(),
                unit: "lists",
            });
        }
        let words = pke_params().encryption_lwe_dimension.0 + p.slots();
        let conformance = CompactPkeProofConformanceParams::new(CompactPkeZkScheme::V2);
        let mut lists = Vec::with_capacity(n_lists as usize);
        for _ in 0..n_lists {
            let index = r.u32()?;
            let count = r.u32()?;
            let proof_len = r.u32()?;
            if u64::from(proof_len) > MAX_PROOF_BYTES {
                return Err(HeError::TooLarge {
                    what: "list proof".into(),
                    size: proof_len.into(),
                    limit: MAX_PROOF_BYTES,
                    unit: "bytes",
                });
            }
            // The proof fills its declared length exactly: no bytes hidden after it.
            let proof: CompactPkeProof =
                read_whole("list proof", r.bytes(proof_len as usize)?, |r| {
                    safe_deserialize_conformant(r, MAX_PROOF_BYTES, &conformance)
                })?;
            let list = LweCompactCiphertextList::from_container(
                r.words(words)?,
                pke_params().encryption_lwe_dimension.to_lwe_size(),
                LweCiphertextCount(p.slots()),
                pke_params().ciphertext_modulus,
            );
            lists.push(EncryptedList {
                index,
                count,
                list,
                proof,
            });
        }
        r.end()?;
        Ok(EncryptedColumn {
            setup_id,
            session,
            holder,
            lists,
        })
    }
}
