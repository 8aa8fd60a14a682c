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
    let mut checkpoints = Vec::with_capacity(ends.len() + 1);
    let mut prefix = LogTree::new();
    let mut next = ends.iter().peekable();
    for index in 0..at {
        prefix.push(tree.leaf(index).expect("a prefix of the log"));
        if next.peek() == Some(&&(index + 1)) {
            next.next();
            checkpoints.push(Checkpoint {
                size: index + 1,
                root: prefix.root(),
                ..last.clone()
            });
        }
    }
    checkpoints.push(last.clone());
    checkpoints
}

/// Proposes entries `from..` to `v` chunk by chunk under `checkpoints` (from
/// [`chunk_checkpoints`]), fetching each chunk with `entries(from, to)`; the answer to the last
/// chunk, or the first answer that is not a signature.
pub(crate) fn deliver(
    v: &mut dyn Cosigner,
    from: u64,
    checkpoints: &[Checkpoint],
    entries: &dyn Fn(u64, u64) -> Result<Vec<Entry>>,
) -> Result<CosignAnswer> {
    let mut at = from;
    let mut answer = Err(LedgerError::malformed("proposal", "nothing to propose"));
    for cp in checkpoints {
        answer = v.propose(&Proposal {
            from: at,
            entries: entries(at, cp.size)?,
            checkpoint: cp.clone(),
        });
        if !matches!(answer, Ok(CosignAnswer::Signed(_))) {
            break;
        }
        at = cp.size;
    }
    answer
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
