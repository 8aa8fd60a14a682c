//! Canonical, versioned byte encodings of everything this crate digests: the policy (its
//! compiled plan), the circuits, the verifying keys, a bundle's statement, and a circuit's
//! shape. A digest that is registered (on a ledger, in a key file, in a proof's public input)
//! must not change when a struct is refactored, so none is taken over `serde` output.
//!
//! The primitives are those of [`trustspace_data::canon`] (re-exported as [`Canon`]): a tag
//! and a `u32` version first, integers fixed-width big-endian, strings as UTF-8 with a `u32`
//! length, sequences with a `u32` count, options as `0` or `1` then the value. This crate adds
//! `fr`: a BN254 scalar as its 32-byte big-endian canonical integer (`raw(32)`), and writes
//! indices (`idx`) as `u64`. Each digest is SHA-256 of its encoding.
//!
//! | digest | tag, version | fields, in order |
//! |---|---|---|
//! | [`Policy::digest`](crate::Policy::digest) | [`POLICY`] | `str name, raw(32) schema digest, seq(rule), seq(counter), seq(bound), seq(reveal)` |
//! | [`circuit_digest`](crate::digests::circuit_digest) | [`CIRCUIT`] | `str circuit ("chunk" or "final"), u32 CIRCUIT_VERSION, raw(32) policy digest, u64 chunk size` |
//! | [`VerifyingKeys::digest`](crate::VerifyingKeys::digest) | [`VERIFYING_KEYS`] | `str chunk circuit digest, option(str) final circuit digest, raw(32) policy digest, raw(32) schema digest, u64 chunk size, seq(str) revealed names, seq(u32) revealed scales, u64 counters, bytes chunk key, option(bytes) final key` (keys compressed, as ark-serialize writes them) |
//! | [`ProofBundle::statement_digest`](crate::ProofBundle::statement_digest) | [`STATEMENT`] | `str chunk circuit digest, option(str) final circuit digest, u32 commitment version, fr root, raw(32) schema digest, u64 records, u64 chunk size, raw(32) owner, raw(32) policy digest, seq(u64 index, seq(fr) public inputs) chunks, option(seq(fr)) final public inputs` |
//! | [`owner_fr`](crate::commit::owner_fr) | [`OWNER`] | `raw(32) owner` (reduced modulo the field) |
//! | [`shape_digest`](crate::digests::shape_digest) | [`SHAPE`] | per circuit (chunk, then final if any): `u64 instance variables, u64 witness variables, u64 constraints, seq(str label, seq(matrix))`, a matrix being `seq(row)`, a row `seq(fr coefficient, idx variable)` |
//!
//! Plan parts: a rule is `str name, option(atom) when, atom require`; a counter
//! `option(idx column), option(atom) filter`; a bound `str name, seq(term) left, seq(term)
//! right` with a term `u128 coefficient` then `u8 1, idx counter` | `u8 2` (records) | `u8 3`
//! (one); a reveal `str name, idx counter, u32 scale`. An atom is `u8 1, idx column, op, u64
//! value` (constant) | `u8 2, idx left, op, idx right` (columns) | `u8 3, idx column,
//! seq(u64 lo, u64 hi)` (inline intervals) | `u8 4, idx column, seq(u64 lo, u64 hi)` (interval
//! tree); an op is a `u8`: 1 `==`, 2 `!=`, 3 `<`, 4 `<=`, 5 `>`, 6 `>=`.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};

pub use trustspace_data::canon::Canon;

/// A digest's domain: its tag and the version of its field list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Domain {
    /// Domain-separation tag.
    pub tag: &'static str,
    /// Version of the encoding (bumped whenever the fields or their order change).
    pub version: u32,
}

impl Domain {
    /// Starts an encoding in this domain.
    pub fn start(self) -> Canon {
        Canon::new(self.tag, self.version)
    }
}

/// The policy digest (version 1 hashed `serde_json` of the plan).
pub const POLICY: Domain = Domain {
    tag: "trustspace.zk.policy",
    version: 2,
};
/// The circuit digests.
pub const CIRCUIT: Domain = Domain {
    tag: "trustspace.zk.circuit",
    version: 2,
};
/// The verifying-key digest.
pub const VERIFYING_KEYS: Domain = Domain {
    tag: "trustspace.zk.verifying-keys",
    version: 2,
};
/// The statement digest of a bundle (version 1 hashed `serde_json` of its parts; version 3
/// added the commitment's owner).
pub const STATEMENT: Domain = Domain {
    tag: "trustspace.zk.statement",
    version: 3,
};
/// A dataset owner as a field element ([`owner_fr`](crate::commit::owner_fr)): `raw(32) owner`.
pub const OWNER: Domain = Domain {
    tag: "trustspace.zk.owner",
    version: 1,
};
/// The shape of a circuit (its constraint matrices), which the circuit version is tied to.
pub const SHAPE: Domain = Domain {
    tag: "trustspace.zk.circuit-shape",
    version: 1,
};

/// Writes a field element: its canonical integer, 32 bytes big-endian.
pub fn fr(c: &mut Canon, x: &Fr) {
    c.raw(&x.into_bigint().to_bytes_be());
}

/// Writes an index or a count held in a `usize` as `u64`.
pub fn idx(c: &mut Canon, i: usize) {
    c.u64(i as u64);
}
