//! The integration tests of `trustspace-zk`, in one test binary (one link, shared fixtures):
//! end-to-end proofs and everything a verifier refuses, policy compile errors, the golden
//! files that pin the on-disk formats and every digest, and property tests of every codec
//! (the decoders of untrusted files, the canonical encodings behind the digests, packing).

/// The owner the tests' datasets are committed for.
pub const OWNER: [u8; 32] = [0x0e; 32];

mod canon;
mod codec;
mod e2e;
mod golden;
mod pack;
mod policy;
