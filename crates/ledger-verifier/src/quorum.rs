//! How the ledger's server delivers a proposal to its validators: to all of them at once, each
//! in proposals of at most [`MAX_PROPOSAL`] entries, so a long batch or a validator that
//! missed many entries gets them in bounded requests. Every chunk but the last is proposed
//! under the checkpoint of the log prefix it ends (a validator signs it, and the server drops
//! that signature: it is consistent with the log, so it can do no harm); the last under the
//! round's checkpoint. A validator's answer is never trusted: a signature counts only if it is
//! by the key the server expects ([`signed_by`]).

use crate::entry::Entry;
use crate::error::{LedgerError, Result};
use crate::keys::PublicKey;
use crate::log::{Checkpoint, CheckpointSignature, LogTree};
use crate::replica::MAX_PROPOSAL;
use crate::validator::{CosignAnswer, Cosigner, Proposal};

/// Whether `sig` is a valid signature of `checkpoint` by `key`, the validator asked.
pub(crate) fn signed_by(
    sig: &CheckpointSignature,
    key: &PublicKey,
    checkpoint: &Checkpoint,
) -> bool {
    sig.validator == *key && key.verify(&checkpoint.signing_message(), &sig.signature)
}

/// The checkpoints entries `from..last.size` are delivered under: one per chunk of at most
/// [`MAX_PROPOSAL`] entries, each of the prefix of `tree` it ends (dated as `last`), and
/// `last` for the final chunk.
pub(crate) fn chunk_checkpoints(tree: &LogTree, from: u64, last: &Checkpoint) -> Vec<Checkpoint> {
    let max = MAX_PROPOSAL as u64;
    let mut ends = Vec::new();
    let mut at = from;
    while last.size - at > max {
        at += max;
        ends.push(at);
    }
    let mut checkpoints: Vec<Checkpoint> = ends
        .into_iter()
        .map(|size| Checkpoint {
            size,
            root: prefix_root(tree, size),
            ..last.clone()
        })
        .collect();
    checkpoints.push(last.clone());
    checkpoints
}

/// The root of the first `size` entries of `tree` (linear in `size`).
pub(crate) fn prefix_root(tree: &LogTree, size: u64) -> [u8; 32] {
    let mut prefix = LogTree::new();
    for index in 0..size {
        prefix.push(tree.leaf(index).expect("a prefix of the log"));
    }
    prefix.root()
}

/// Has `v` sign `last`, the checkpoint of `tree`, proposing it the entries `from..` in chunks
/// (each fetched with `entries(from, to)`). A validator that is behind `from` is sent the
/// entries from where it stands; one whose copy already holds a prefix of the entries
/// proposed (it signed part of them in an earlier round) is sent the rest. Returns the answer
/// to the last chunk, or the first answer that is not a signature.
pub(crate) fn deliver(
    v: &mut dyn Cosigner,
    from: u64,
    tree: &LogTree,
    last: &Checkpoint,
    entries: &dyn Fn(u64, u64) -> Result<Vec<Entry>>,
) -> Result<CosignAnswer> {
    let mut start = from;
    // The first delivery, then at most one restart from where the validator stands.
    for restarted in [false, true] {
        let answer = deliver_chunks(v, start, &chunk_checkpoints(tree, start, last), entries)?;
        match answer {
            CosignAnswer::Behind { size } if !restarted && size < start => start = size,
            CosignAnswer::Ahead { size, root }
                if !restarted
                    && size > start
                    && size <= last.size
                    && prefix_root(tree, size) == root =>
            {
                start = size
            }
            other => return Ok(other),
        }
    }
    Ok(CosignAnswer::Behind { size: start })
}

/// Proposes entries `from..` to `v` chunk by chunk under `checkpoints` (from
/// [`chunk_checkpoints`]).
fn deliver_chunks(
    v: &mut dyn Cosigner,
    from: u64,
    checkpoints: &[Checkpoint],
    entries: &dyn Fn(u64, u64) -> Result<Vec<Entry>>,
) -> Result<CosignAnswer> {
    let mut at = from;
    let mut answer = CosignAnswer::Behind { size: from };
    for cp in checkpoints {
        answer = v.propose(&Proposal {
            from: at,
            entries: entries(at, cp.size)?,
            checkpoint: cp.clone(),
        })?;
        if !matches!(answer, CosignAnswer::Signed(_)) {
            break;
        }
        at = cp.size;
    }
    Ok(answer)
}

/// Every validator's answer to `ask`, asked at once (a slow validator delays the round by its
/// own time only).
pub(crate) fn ask_all<T: Send>(
    validators: &mut [Box<dyn Cosigner>],
    ask: impl Fn(&mut dyn Cosigner) -> Result<T> + Sync,
) -> Vec<Result<T>> {
    let ask = &ask;
    std::thread::scope(|s| {
        let asked: Vec<_> = validators
            .iter_mut()
            .map(|v| s.spawn(move || ask(v.as_mut())))
            .collect();
        asked
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(LedgerError::malformed("validator", "its client panicked"))
                })
            })
            .collect()
    })
}
