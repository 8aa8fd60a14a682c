//! # trustspace-evm
//!
//! trustspace commitments and Groth16 proofs on EVM chains (Ethereum, FISCO BCOS, ChainMaker:
//! anything with the BN254 precompiles of EIP-196/197).
//!
//! - [`encode`]: verifying keys rendered as Solidity verifier contracts, proofs and public
//!   inputs as EVM calldata, and snarkjs-compatible JSON.
//! - [`rpc`]: a small blocking JSON-RPC client and the [`rpc::Registry`] client: deploy,
//!   register, read, verify on chain.
//! - [`state`]: reading the registry without trusting the RPC: a block header hashed locally and
//!   compared with the block the caller trusts, `eth_getProof` account and storage proofs checked
//!   against its state root.
//!
//! This is its own crate, not an implementation of `trustspace_ledger_verifier::view::LedgerView` in
//! `trustspace-ledger-verifier`: the embedded ledger's trust anchor is a cosigned checkpoint of
//! an append-only Merkle log, a chain's is a block hash and Merkle-Patricia state proofs, so the
//! two share no proof type; and the alloy crates stay out of the builds of everything that does
//! not talk to a chain.
//!
//! The ABI bindings come from alloy's `sol!`; RLP, header hashing and trie proofs from
//! `alloy-rlp`, `alloy-consensus` and `alloy-trie`. Transport is the workspace's blocking `ureq`
//! rather than alloy's async provider stack (tokio, reqwest, hyper), which would more than
//! double this crate's compile time for a handful of JSON-RPC calls.

#![forbid(unsafe_code)]

/// The crate's README (its front page in the repository); its example is compiled and run by
/// `cargo test` as a doc test, so the front page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod encode;
pub mod error;
pub mod rpc;
pub mod state;

pub use error::{Absent, ChainMismatch, EvmError, Forgery, Result, Revert};

alloy_sol_types::sol! {
    /// The registry's ABI (contracts/src/TrustspaceRegistry.sol) and the verifiers' (the
    /// template in contracts/templates).
    #[derive(Debug, PartialEq, Eq)]
    interface TrustspaceRegistry {
        /// A Groth16 proof; `b` in EIP-197 order (imaginary part first).
        struct Proof { uint256[2] a; uint256[2][2] b; uint256[2] c; }
        /// A bundle's proofs and the public inputs the registry cannot derive.
        struct Bundle {
            uint256[] chunkRoots;
            uint256[] accs;
            Proof[] chunkProofs;
            Proof finalProof;
            uint256[] revealed;
        }
        function registerDataset(bytes32 root, bytes32 schemaDigest, uint256 records, uint256 chunkSize, bytes32 metadataHash, uint256[] chunkRoots) external;
        function registerPolicy(bytes32 policyDigest, bytes32 vkDigest, bytes32 schemaDigest, uint256 chunkSize, uint256 genesis, address chunkVerifier, address finalVerifier) external;
        function verifyBundle(bytes32 root, address owner, bytes32 vkDigest, Bundle b) external returns (bool);
        function datasetKey(bytes32 root, address owner) external pure returns (bytes32);
        function verdicts(bytes32 datasetKey, bytes32 vkDigest) external view returns (bool verified, bytes32 revealedHash, uint256 blockNumber, address submitter);
        function verifyProof(uint256[2] a, uint256[2][2] b, uint256[2] c, uint256[] input) external view returns (bool);
        function vkDigest() external pure returns (bytes32);
        error AlreadyRegistered(bytes32 key);
        error NotRegistered(bytes32 key);
        error InvalidEntry(string reason);
        error Mismatch(string reason);
        error InputNotInField(uint256 value);
        error ProofInvalid(uint256 index);
        error WrongInputCount(uint256 given, uint256 expected);
    }
}

/// The registry's compiled artifact (contracts/out, checked against a fresh solc compile by
/// `npm --prefix contracts test`).
pub const REGISTRY_ARTIFACT: &str = include_str!("../../../contracts/out/TrustspaceRegistry.json");
/// The verifier contract template rendered by [`encode::render_verifier`].
pub const VERIFIER_TEMPLATE: &str =
    include_str!("../../../contracts/templates/Groth16Verifier.sol.tmpl");
/// The verifier interface the rendered contracts import.
pub const VERIFIER_INTERFACE: &str = include_str!("../../../contracts/src/IGroth16Verifier.sol");
