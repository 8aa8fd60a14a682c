//! The integration tests of `trustspace-zk`, in one test binary (one link, shared fixtures):
//! end-to-end proofs and everything a verifier refuses, policy compile errors, and the golden
//! files that pin the on-disk formats and every digest.

mod e2e;
mod golden;
mod policy;
