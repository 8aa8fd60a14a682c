//! The one client API over a ledger, embedded ([`crate::store::Ledger`]) or remote
//! ([`crate::http::RemoteLedger`]).

use serde::{Deserialize, Serialize};

use crate::entry::{Entry, EntryKey};
use crate::error::Result;
use crate::log::{ConsistencyProof, CosignedCheckpoint, InclusionProof};

/// Proofs about entries and history, all against one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    /// The checkpoint every proof below is against.
    pub checkpoint: CosignedCheckpoint,
    /// Inclusion proofs of the requested entries, in request order.
    pub inclusions: Vec<InclusionProof>,
    /// Consistency proof from the requested older size, if one was requested.
    pub consistency: Option<ConsistencyProof>,
}

/// What an append returns: where the entries landed and the checkpoint that includes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Index of the first appended entry.
    pub first_index: u64,
    /// Number of entries appended.
    pub count: u64,
    /// The new checkpoint.
    pub checkpoint: CosignedCheckpoint,
}

/// A ledger as its clients see it. Nothing returned is trusted by the verifier: checkpoints are
/// checked against the configured quorum and everything else against a checkpoint.
pub trait LedgerView {
    /// The latest checkpoint.
    fn checkpoint(&self) -> Result<CosignedCheckpoint>;
    /// The entry at `index`.
    fn entry(&self, index: u64) -> Result<Entry>;
    /// The index of the entry registered under `key`, if any.
    fn find(&self, key: &EntryKey) -> Result<Option<u64>>;
    /// Inclusion proofs of `indices` and (given an older size) a consistency proof, all against
    /// the latest checkpoint.
    fn audit(&self, indices: &[u64], from: Option<u64>) -> Result<Audit>;
    /// Appends signed entries; all or none are recorded.
    fn append(&self, entries: Vec<Entry>) -> Result<Receipt>;
}
