//! Errors of the EVM client.

use thiserror::Error;

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
    #[error("{call} reverted: {reason}")]
    Reverted {
        /// The function called.
        call: String,
        /// The decoded revert reason.
        reason: String,
    },
    /// The RPC's answer does not check out against the block the caller trusts: a forged
    /// header, state proof or storage value.
    #[error("the RPC's answer does not verify: {0}")]
    Untrusted(String),
    /// An entry is not registered on chain.
    #[error("not registered on chain: {0}")]
    NotRegistered(String),
    /// The chain's entries and the local bundle or keys disagree.
    #[error("mismatch with the chain: {0}")]
    Mismatch(String),
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
