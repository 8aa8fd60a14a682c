//! Errors of the EVM client.
//!
//! Where a caller may branch on *which* check failed, the cause is data: a revert's decoded
//! [`Revert`] (the registry's custom errors as their ABI types), a lying RPC's [`Forgery`], an
//! absent entry's [`Absent`] and a disagreement's [`ChainMismatch`]. Each displays as the reason
//! the message has always given.

use alloy_primitives::{Address, B256, U256};
use std::fmt;
use thiserror::Error;

use crate::TrustspaceRegistry::TrustspaceRegistryErrors;
use crate::state::BlockRef;

/// Everything that can go wrong talking to a chain or checking what it says.
#[derive(Debug, Error)]
pub enum EvmError {
    /// The JSON-RPC endpoint could not be reached or answered with something not JSON-RPC.
    #[error("RPC {method}: {reason}")]
    Rpc {
        /// The JSON-RPC method.
        method: String,
        /// What went wrong.
        reason: String,
    },
    /// A contract call or transaction reverted.
    #[error("{call} reverted: {revert}")]
    Reverted {
        /// The function called.
        call: String,
        /// Why, decoded.
        revert: Revert,
    },
    /// The RPC's answer does not check out against the block the caller trusts: a forged
    /// header, state proof or storage value.
    #[error("the RPC's answer does not verify: {0}")]
    Untrusted(Forgery),
    /// An entry (or the block, account or contract holding it) is not on chain.
    #[error("not registered on chain: {0}")]
    NotRegistered(Absent),
    /// The chain's entries and the local bundle or keys disagree.
    #[error("mismatch with the chain: {0}")]
    Mismatch(ChainMismatch),
    /// A value cannot be encoded for the EVM or a file has a bad format.
    #[error("{what}: {reason}")]
    Format {
        /// What was being encoded or decoded.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// Proof verification failed.
    #[error(transparent)]
    Zk(#[from] trustspace_zk::ZkError),
}

/// Result with [`EvmError`].
pub type Result<T> = std::result::Result<T, EvmError>;

/// Why a call or transaction reverted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revert {
    /// One of the registry's or the verifiers' custom errors.
    Registry(TrustspaceRegistryErrors),
    /// `Error(string)`.
    Message(String),
    /// Revert data that is neither (shown as hex).
    Data(Vec<u8>),
    /// The node refused without revert data (its message, e.g. insufficient funds).
    Node(String),
    /// The transaction was mined but failed (receipt status 0).
    FailedOnChain {
        /// The transaction.
        tx: B256,
    },
    /// `verifyBundle` returned false instead of reverting.
    ReturnedFalse,
}

impl Revert {
    /// Decodes revert data: the registry's and verifiers' custom errors, `Error(string)`, or the
    /// bytes as they are.
    pub fn from_data(d: &[u8]) -> Revert {
        use alloy_sol_types::SolInterface;
        if let Ok(e) = TrustspaceRegistryErrors::abi_decode(d) {
            return Revert::Registry(e);
        }
        if let Ok(s) = <alloy_sol_types::Revert as alloy_sol_types::SolError>::abi_decode(d) {
            return Revert::Message(s.reason);
        }
        Revert::Data(d.to_vec())
    }
}

impl fmt::Display for Revert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TrustspaceRegistryErrors as E;
        match self {
            Revert::Registry(E::AlreadyRegistered(x)) => write!(
                f,
                "AlreadyRegistered({}): the entry exists and is never overwritten",
                x.key
            ),
            Revert::Registry(E::NotRegistered(x)) => write!(f, "NotRegistered({})", x.key),
            Revert::Registry(E::InvalidEntry(x)) => write!(f, "InvalidEntry: {}", x.reason),
            Revert::Registry(E::Mismatch(x)) => write!(f, "Mismatch: {}", x.reason),
            Revert::Registry(E::InputNotInField(x)) => write!(
                f,
                "InputNotInField({}): a public input is not below the BN254 scalar field modulus",
                x.value
            ),
            Revert::Registry(E::ProofInvalid(x)) => write!(
                f,
                "ProofInvalid({}): proof {} does not verify",
                x.index, x.index
            ),
            Revert::Registry(E::WrongInputCount(x)) => write!(
                f,
                "WrongInputCount: {} inputs, the key takes {}",
                x.given, x.expected
            ),
            Revert::Message(s) | Revert::Node(s) => f.write_str(s),
            Revert::Data(d) => write!(f, "revert data 0x{}", hex::encode(d)),
            Revert::FailedOnChain { tx } => write!(f, "transaction {tx} failed on chain"),
            Revert::ReturnedFalse => f.write_str("returned false"),
        }
    }
}

/// How an RPC's answer fails to check out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Forgery {
    /// The header returned for a trusted block hash hashes to something else.
    HeaderNotTrusted {
        /// The block hash the caller trusts.
        trusted: B256,
        /// The returned header's hash, computed locally.
        computed: B256,
    },
    /// The header does not hash to the hash the RPC claims for it.
    HeaderHashClaim {
        /// The RPC's `hash` field.
        claimed: B256,
        /// The header's hash, computed locally.
        computed: B256,
    },
    /// Another block than the number asked for.
    WrongBlock {
        /// The number asked for.
        asked: u64,
        /// The number returned.
        returned: u64,
    },
    /// `eth_getProof` answered for another account.
    ProofForOtherAccount {
        /// The account asked for.
        asked: Address,
        /// The account answered for.
        answered: Address,
    },
    /// The account proof does not verify against the header's state root.
    AccountProof {
        /// The account.
        address: Address,
        /// The header's state root.
        state_root: B256,
        /// The block's hash.
        block_hash: B256,
        /// The trie library's reason.
        reason: String,
    },
    /// Not one storage proof per slot asked for.
    StorageProofCount {
        /// Proofs returned.
        proofs: usize,
        /// Slots asked for.
        slots: usize,
    },
    /// A storage proof for another slot than the one asked for.
    StorageProofForOtherSlot {
        /// The slot asked for.
        asked: B256,
        /// The slot answered for.
        answered: B256,
    },
    /// A storage proof that does not verify the claimed value against the storage root.
    StorageProof {
        /// The slot.
        slot: B256,
        /// The value the RPC claims.
        claimed: U256,
        /// The trie library's reason.
        reason: String,
    },
}

impl fmt::Display for Forgery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Forgery::HeaderNotTrusted { trusted, computed } => write!(
                f,
                "the header the RPC returned for block {trusted} hashes to {computed}"
            ),
            Forgery::HeaderHashClaim { claimed, computed } => write!(
                f,
                "the header the RPC returned hashes to {computed}, not to the hash it claims ({claimed})"
            ),
            Forgery::WrongBlock { asked, returned } => write!(
                f,
                "asked for block {asked}, the RPC returned block {returned}"
            ),
            Forgery::ProofForOtherAccount { asked, answered } => {
                write!(f, "eth_getProof answered for {answered} instead of {asked}")
            }
            Forgery::AccountProof {
                address,
                state_root,
                block_hash,
                reason,
            } => write!(
                f,
                "account proof of {address} against state root {state_root} of block {block_hash}: {reason}"
            ),
            Forgery::StorageProofCount { proofs, slots } => {
                write!(f, "{proofs} storage proofs for {slots} slots")
            }
            Forgery::StorageProofForOtherSlot { asked, answered } => write!(
                f,
                "storage proof for slot {answered} where {asked} was asked"
            ),
            Forgery::StorageProof {
                slot,
                claimed,
                reason,
            } => write!(
                f,
                "storage proof of slot {slot} (claimed value {claimed:#x}): {reason}"
            ),
        }
    }
}

/// What is not on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Absent {
    /// The RPC does not know the block.
    Block(BlockRef),
    /// No account at the address (proven absent from the state trie).
    Account {
        /// The address.
        address: Address,
        /// The block.
        block: u64,
    },
    /// An account without code at the address.
    Contract {
        /// The address.
        address: Address,
        /// The block.
        block: u64,
    },
    /// No dataset registered under the root with its owner.
    Dataset {
        /// The registry's key ([`crate::rpc::dataset_key`]: the root with its owner).
        key: B256,
        /// The block read.
        block: u64,
        /// Its hash.
        block_hash: B256,
    },
    /// No policy registered under the verifying-keys digest.
    Policy {
        /// The digest ([`VerifyingKeys::digest`](trustspace_zk::VerifyingKeys::digest), the ledger's too).
        keys_digest: [u8; 32],
        /// The block read.
        block: u64,
        /// Its hash.
        block_hash: B256,
    },
}

impl fmt::Display for Absent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Absent::Block(b) => write!(f, "block {b:?} is unknown to the RPC"),
            Absent::Account { address, block } => write!(
                f,
                "no account at {address} in block {block} (proven absent)"
            ),
            Absent::Contract { address, block } => {
                write!(f, "no contract at {address} in block {block}")
            }
            Absent::Dataset {
                key,
                block,
                block_hash,
            } => write!(
                f,
                "no dataset with this root and owner (key {key}) in the registry at block \
                 {block} ({block_hash})"
            ),
            Absent::Policy {
                keys_digest,
                block,
                block_hash,
            } => write!(
                f,
                "no policy with verifying-keys digest 0x{} in the registry at block {block} ({block_hash})",
                hex::encode(keys_digest)
            ),
        }
    }
}

/// How the chain's entries and the local bundle or keys disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainMismatch {
    /// The registered policy's digest, schema or chunk size differs from the keys'.
    PolicyParameters,
    /// The bundle's chunk roots are not the ones registered with the dataset.
    ChunkRoots,
    /// The commitment names another owner than the account registering it (its proofs would
    /// fail: the registry binds them to the registering account).
    NotTheOwner,
    /// The commitment's owner is not an EVM account (a ledger key): no registry files it.
    OwnerNotAnAccount,
}

impl fmt::Display for ChainMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChainMismatch::PolicyParameters => {
                "the registered policy's digest, schema or chunk size differs from the keys'"
            }
            ChainMismatch::ChunkRoots => {
                "the bundle's chunk roots are not the ones registered with the dataset"
            }
            ChainMismatch::NotTheOwner => {
                "the commitment names another owner than the account registering it"
            }
            ChainMismatch::OwnerNotAnAccount => {
                "the commitment's owner is not an EVM account (its first 12 bytes are not zero)"
            }
        })
    }
}
