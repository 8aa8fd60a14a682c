//! # trustspace-ceremony
//!
//! A Groth16 proving key is only as trustworthy as whoever made it: the setup's secrets (the
//! "toxic waste") let their holder prove anything. A ceremony makes the keys sound as long as
//! **any one** contributor was honest and destroyed its secret.
//!
//! - [`phase1`]: the universal phase (powers of tau over BN254 with the α and β terms), with
//!   snarkjs's records, hash chain and checks, read and written as snarkjs's `.ptau`
//!   ([`ptau`]): a public Perpetual Powers of Tau file is used as is, and ours verify with
//!   `snarkjs powersoftau verify`. Contributions, a closing random beacon, whole-file checks.
//! - [`start`]: a circuit's initial phase-2 parameters computed from the powers (the QAP at τ in
//!   the exponent through the Lagrange basis, γ = δ = 1), so that nobody knows their trapdoor.
//! - [`phase2`]: the per-circuit phase (Bowe–Gabizon–Miers 2017), exactly as snarkjs runs it.
//!   Each contributor multiplies δ by a secret of its own (and divides the `L` and `H` queries
//!   by it), and publishes a proof of knowledge of that secret bound to the running transcript;
//!   a public beacon can close the chain; anyone verifies the whole chain from the initial
//!   state to the final keys. A state is a snarkjs `.zkey` ([`zkey`]).
//! - [`provenance`]: contributors' signatures with their ledger identities, and the ceremony's
//!   public record carried in the verifying keys it made (so registering the keys on the
//!   ledger registers it), checked with the keys alone.
//! - [`keys`]: a ceremony over a policy's circuits (one chain per circuit), started from phase
//!   1 and turned into the keys `zkprove prove` and `zkverify` use.
//! - [`sampling`]: scalars and points drawn from a hash as snarkjs draws them (the G2 point a
//!   proof of knowledge is checked against, beacons); [`record`]: what a contribution's record
//!   says of itself (its name, a beacon), in both phases' files.
//! - [`r1cs`] and [`zkey`]: a circuit written as iden3's `.r1cs` (snarkjs runs its phase 2 on
//!   it, and `snarkjs zkey verify` checks our ceremonies against it) and a phase-2 state read
//!   and written as snarkjs's Groth16 `.zkey`.
//! - [`encoding`] and [`binfile`]: snarkjs's point encodings and iden3's container format, with
//!   every point of a file checked on the curve and in its subgroup.

#![forbid(unsafe_code)]

/// The crate's README (its front page in the repository); its example is compiled and run by
/// `cargo test` as a doc test, so the front page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod binfile;
pub mod encoding;
pub mod error;
pub mod keys;
pub mod phase1;
pub mod phase2;
pub mod provenance;
pub mod ptau;
pub mod r1cs;
pub mod record;
pub mod sampling;
pub mod start;
pub mod zkey;

pub use error::{CeremonyError, Check, Result};
pub use keys::KeysCeremony;
pub use phase1::{Phase1, Phase1Report, Powers};
pub use phase2::{Contribution, Phase2};
