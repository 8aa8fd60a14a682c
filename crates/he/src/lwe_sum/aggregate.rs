//! The aggregator's step (verify every list's proof, add lists slot-wise in the packed
//! form) and the key holder's (decrypt the slots, round, add them up).

use std::collections::HashSet;

use rayon::prelude::*;
use tfhe::core_crypto::algorithms::slice_algorithms::slice_wrapping_add_assign;
use tfhe::core_crypto::prelude::*;

use super::encrypt::{EncryptedColumn, MAX_LABEL_BYTES, metadata};
use super::keys::{PublicSetup, SecretKey};
use super::params::pke_params;
use crate::codec::format_err;
use crate::codec::{Reader, put_text, put_words};
use crate::error::{HeError, Result, clip};

const SUM_MAGIC: &[u8; 8] = b"TSLWESM1";

/// Adds verified columns of one session into one compact list whose slot j holds the sum of
/// every list's slot j.
pub struct Aggregator<'a> {
    setup: &'a PublicSetup,
    session: String,
    acc: Vec<u64>,
    lists: u64,
    values: u64,
    holders: HashSet<String>,
}

impl<'a> Aggregator<'a> {
    /// An empty aggregate for `session` under `setup`.
    pub fn new(setup: &'a PublicSetup, session: &str) -> Self {
        let words = pke_params().encryption_lwe_dimension.0 + setup.params().slots();
        Aggregator {
            setup,
            session: session.to_string(),
            acc: vec![0; words],
            lists: 0,
            values: 0,
            holders: HashSet::new(),
        }
    }

    /// Checks a column completely — setup, session, list numbering, counts against the
    /// declared maxima, every proof (in parallel) — and adds it; a column that fails any check
    /// is refused whole and the aggregate is unchanged.
    pub fn add_column(&mut self, column: &EncryptedColumn) -> Result<()> {
        let p = self.setup.params();
        let who = format!("column of holder `{}`", clip(&column.holder));
        if column.setup_id != self.setup.id() {
            return Err(HeError::KeyMismatch {
                what: who,
                found: hex::encode(column.setup_id),
                expected: hex::encode(self.setup.id()),
            });
        }
        if column.session != self.session {
            return Err(HeError::SpecMismatch {
                what: who,
                reason: format!("made for session `{}`", clip(&column.session)),
            });
        }
        if self.holders.contains(&column.holder) {
            return Err(HeError::Duplicate { what: who });
        }
        let columns = self.holders.len() as u64 + 1;
        if columns > p.max_columns() {
            return Err(HeError::CountExceeded {
                what: "aggregate".into(),
                count: columns,
                limit: p.max_columns(),
                unit: "columns",
            });
        }
        let lists = self.lists + column.lists.len() as u64;
        if lists > p.max_lists() {
            return Err(HeError::CountExceeded {
                what: "aggregate".into(),
                count: lists,
                limit: p.max_lists(),
                unit: "lists",
            });
        }
        let values = self.values + column.len();
        if values > p.max_values() {
            return Err(HeError::CountExceeded {
                what: "aggregate".into(),
                count: values,
                limit: p.max_values(),
                unit: "values",
            });
        }
        let id = self.setup.id();
        column.lists.par_iter().enumerate().try_for_each(|(i, l)| {
            let input = format!("{who}, list {i}");
            if l.index as usize != i || l.count == 0 || l.count as usize > p.slots() {
                return Err(format_err(&input, "list index or count out of place"));
            }
            let meta = metadata(&id, &column.session, &column.holder, l.index, l.count);
            let outcome = verify_lwe_compact_ciphertext_list(
                &l.list,
                self.setup.public_key(),
                &l.proof,
                self.setup.crs(),
                &meta,
            );
            if outcome.is_invalid() {
                return Err(HeError::InvalidRangeProof {
                    input,
                    holder: None,
                    index: i,
                    reason: "the list is not a well-formed encryption of in-range values \
                                 under this key and for this session"
                        .into(),
                });
            }
            Ok(())
        })?;
        for l in &column.lists {
            slice_wrapping_add_assign(&mut self.acc, l.list.as_ref());
        }
        self.lists = lists;
        self.values = values;
        self.holders.insert(column.holder.clone());
        Ok(())
    }

    /// The aggregate so far.
    pub fn total(&self) -> EncryptedSum {
        EncryptedSum {
            setup_id: self.setup.id(),
            session: self.session.clone(),
            lists: self.lists,
            values: self.values,
            words: self.acc.clone(),
        }
    }
}

/// Verifies and adds `columns`: the whole aggregator step in one call.
pub fn aggregate(
    setup: &PublicSetup,
    session: &str,
    columns: &[EncryptedColumn],
) -> Result<EncryptedSum> {
    let mut agg = Aggregator::new(setup, session);
    for (position, c) in columns.iter().enumerate() {
        agg.add_column(c).map_err(|e| match e {
            HeError::InvalidRangeProof {
                input,
                index,
                reason,
                ..
            } => HeError::InvalidRangeProof {
                input,
                holder: Some(position),
                index,
                reason,
            },
            other => other,
        })?;
    }
    Ok(agg.total())
}

/// The aggregate: one compact list of slot sums, and how many lists and values went in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedSum {
    setup_id: [u8; 32],
    session: String,
    lists: u64,
    values: u64,
    words: Vec<u64>,
}

impl EncryptedSum {
    /// Values summed.
    pub fn values(&self) -> u64 {
        self.values
    }
    /// Lists summed.
    pub fn lists(&self) -> u64 {
        self.lists
    }
    /// The session.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// Encodes the aggregate for the key holder.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.words.len() * 8);
        out.extend_from_slice(SUM_MAGIC);
        out.extend_from_slice(&self.setup_id);
        put_text(&mut out, &self.session);
        out.extend_from_slice(&self.lists.to_le_bytes());
        out.extend_from_slice(&self.values.to_le_bytes());
        put_words(&mut out, &self.words);
        out
    }

    /// Decodes an aggregate for `setup`, with sizes from the setup.
    pub fn from_bytes(bytes: &[u8], setup: &PublicSetup) -> Result<Self> {
        let mut r = Reader::new(bytes, "encrypted sum");
        r.magic(SUM_MAGIC)?;
        let setup_id = *r.array::<32>()?;
        let session = r.text(MAX_LABEL_BYTES)?;
        let lists = r.u64()?;
        let values = r.u64()?;
        let words = r.words(pke_params().encryption_lwe_dimension.0 + setup.params().slots())?;
        r.end()?;
        Ok(EncryptedSum {
            setup_id,
            session,
            lists,
            values,
            words,
        })
    }
}

/// Decrypts the aggregate's total: every slot is decrypted and rounded to the nearest
/// multiple of Δ, and the slot sums are added. Refused: another setup's aggregate or key,
/// counts above the declared maxima, and any slot whose noise is beyond the budget's bound
/// (a wrong key, or dishonest noise, would otherwise yield a silently wrong total).
///
/// The key holder sees the slot sums on the way (each a sum over all holders' values at that
/// position); only the total is returned.
pub fn decrypt_total(secret: &SecretKey, setup: &PublicSetup, sum: &EncryptedSum) -> Result<u128> {
    let p = setup.params();
    for (what, id) in [
        ("encrypted sum", sum.setup_id),
        ("secret key", secret.setup_id()),
    ] {
        if id != setup.id() {
            return Err(HeError::KeyMismatch {
                what: what.into(),
                found: hex::encode(id),
                expected: hex::encode(setup.id()),
            });
        }
    }
    if sum.lists > p.max_lists() || sum.values > p.max_values() {
        return Err(HeError::CountExceeded {
            what: "encrypted sum".into(),
            count: sum.lists.max(sum.values),
            limit: p.max_lists(),
            unit: "lists or values",
        });
    }
    let pke = pke_params();
    let list = LweCompactCiphertextList::from_container(
        sum.words.clone(),
        pke.encryption_lwe_dimension.to_lwe_size(),
        LweCiphertextCount(p.slots()),
        pke.ciphertext_modulus,
    );
    let expanded = list.par_expand_into_lwe_ciphertext_list();
    let mut plain = PlaintextList::new(0u64, PlaintextCount(p.slots()));
    decrypt_lwe_ciphertext_list(secret.key(), &expanded, &mut plain);
    let delta_log = p.delta_log();
    let slot_max = u128::from(sum.lists) * ((1u128 << p.value_bits()) - 1);
    let mut total = 0u128;
    for (j, x) in plain.iter().enumerate() {
        let x = *x.0;
        let rounded = x.wrapping_add(1u64 << (delta_log - 1)) >> delta_log;
        let noise = x.wrapping_sub(rounded << delta_log) as i64;
        if (noise.unsigned_abs() as f64) > p.slot_noise_bound() {
            return Err(HeError::NoiseBudget {
                reason: format!(
                    "slot {j} decrypts 2^{:.1} away from any encoding (bound 2^{:.1}): \
                     wrong key, or an input with dishonest noise",
                    (noise.unsigned_abs() as f64).log2(),
                    p.slot_noise_bound().log2()
                ),
            });
        }
        if u128::from(rounded) > slot_max {
            return Err(HeError::TotalNotFound {
                bound: u64::try_from(slot_max).unwrap_or(u64::MAX),
            });
        }
        total += u128::from(rounded);
    }
    Ok(total)
}
