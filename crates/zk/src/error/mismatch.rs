//! [`Mismatch`]: a key, bundle, commitment or record set that belongs to another circuit,
//! policy, schema or dataset, by what does not match.

use trustspace_data::error::escape_controls;

/// What does not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Mismatch {
    /// The bundle's circuit digests are not the verifying keys'.
    #[error("the bundle was proven for other circuits than these verifying keys")]
    BundleCircuits,
    /// The bundle's policy digest is not the verifying keys'.
    #[error("the bundle proves another policy")]
    BundlePolicy,
    /// The bundle names another commitment than the trusted one.
    #[error("the bundle is bound to another commitment")]
    BundleCommitment,
    /// The commitment's schema or chunk size is not the verifying keys'.
    #[error("the commitment's schema or chunk size differs from the keys'")]
    CommitmentParameters,
    /// The bundle has another number of chunk proofs than the commitment has chunks.
    #[error("{proofs} chunk proofs for {chunks} chunks")]
    ChunkProofCount {
        /// Chunk proofs in the bundle.
        proofs: usize,
        /// Chunks in the commitment.
        chunks: u64,
    },
    /// A chunk proof's position or public inputs are wrong.
    #[error("chunk {chunk}: {problem}")]
    Chunk {
        /// The chunk (its position in the bundle).
        chunk: u64,
        /// What is wrong.
        problem: ChunkMismatch,
    },
    /// Another number of chunk roots than the commitment has chunks.
    #[error("{roots} chunk roots for a commitment of {chunks} chunks")]
    ChunkRootCount {
        /// Roots given.
        roots: usize,
        /// Chunks in the commitment.
        chunks: u64,
    },
    /// The chunk roots do not combine into the commitment's root.
    #[error("the chunk roots do not combine into the committed root")]
    ChunkRoots,
    /// The policy has aggregates but the bundle has no final proof.
    #[error("the policy has aggregates but the bundle no final proof")]
    MissingFinalProof,
    /// The bundle has a final proof the policy does not need.
    #[error("the bundle has a final proof the policy does not need")]
    UnexpectedFinalProof,
    /// The final proof has another number of public inputs than its key takes.
    #[error("final proof: {found} public inputs, the key takes {expected}")]
    FinalInputCount {
        /// Inputs given.
        found: usize,
        /// Inputs the key takes.
        expected: usize,
    },
    /// The final proof's policy digest, accumulator or record count does not continue the
    /// chunks.
    #[error("final proof: public inputs do not continue the chunks")]
    FinalInputs,
    /// The revealed values are not the ones the policy reveals.
    #[error("final proof: revealed values do not match the policy")]
    RevealedValues,
    /// A revealed value is not a decimal integer.
    #[error("revealed `{}` is not an integer", escape_controls(.name))]
    RevealedNotInteger {
        /// The revealed value's name.
        name: String,
    },
    /// A revealed value's name or value differs from the final proof's public input.
    #[error("revealed `{}` differs from the proof's public input", escape_controls(.name))]
    RevealedDiffers {
        /// The revealed value's name.
        name: String,
    },
    /// The policy was compiled against another schema than the circuit's.
    #[error("the policy was compiled for another schema")]
    PolicySchema,
    /// The proving keys are for other circuits.
    #[error("the proving keys were generated for another schema, policy or chunk size")]
    ProvingKeys,
    /// The commitment's chunk size is not the circuit's.
    #[error("the commitment has chunks of {commitment} records, the keys {keys}")]
    ChunkSize {
        /// The commitment's chunk size.
        commitment: u64,
        /// The circuit's chunk size.
        keys: u64,
    },
    /// The commitment is to data of another schema than the policy's.
    #[error("the commitment is to data of another schema")]
    CommitmentSchema,
    /// Parts to merge are for different circuits, commitments or policies.
    #[error("parts are for different circuits, commitments or policies")]
    PartsDiffer,
    /// Two parts to merge hold a final proof.
    #[error("two parts hold a final proof")]
    TwoFinalProofs,
    /// A chunk is proven by two parts.
    #[error("chunk {chunk} is proven twice")]
    ChunkProvenTwice {
        /// The chunk.
        chunk: u64,
    },
    /// No part proves a chunk.
    #[error("chunk {chunk} is missing")]
    ChunkMissing {
        /// The chunk.
        chunk: u64,
    },
    /// The parts cover fewer chunks than the commitment has.
    #[error("the parts cover {covered} of {chunks} chunks")]
    PartsCoverage {
        /// Chunks covered.
        covered: usize,
        /// Chunks in the commitment.
        chunks: u64,
    },
}

/// What is wrong with one chunk proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkMismatch {
    /// Its index is not its position.
    #[error("out of order")]
    OutOfOrder,
    /// It has another number of public inputs than the key takes.
    #[error("{found} public inputs, the key takes {expected}")]
    InputCount {
        /// Inputs given.
        found: usize,
        /// Inputs the key takes.
        expected: usize,
    },
    /// Its first public input is not the policy digest.
    #[error("public input 0 is not the policy digest")]
    PolicyInput,
    /// Its active-record count is not the commitment's.
    #[error("active-record count differs from the commitment's")]
    ActiveCount,
    /// Its owner input is not the commitment's owner.
    #[error("owner input differs from the commitment's owner")]
    Owner,
    /// Its input accumulator is not the previous chunk's output.
    #[error("accumulator does not continue the previous chunk's")]
    Accumulator,
}
