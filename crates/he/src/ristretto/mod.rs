//! Threshold additive encryption on ristretto255: exponential ElGamal under a key that n
//! authorities share, any t of whom decrypt the *total* — and only the total.
//!
//! Built on [elastic-elgamal](https://docs.rs/elastic-elgamal) (ElGamal, Feldman sharing,
//! DLEQ and range proofs) over curve25519-dalek; this module is the protocol glue and the
//! dataset-facing API. The roles and their steps:
//!
//! | role | step | here |
//! |---|---|---|
//! | authorities | distributed key generation, with complaints | [`dkg::DkgParticipant`] → [`Authority`], [`KeySet`] |
//! | holder | encrypt a column, each value with a range proof | [`encrypt_column`] → [`EncryptedColumn`] |
//! | aggregator | check proofs, refuse bad inputs, add | [`aggregate()`] / [`Aggregator`] → [`EncryptedTotal`] |
//! | authority | partial decryption with a DLEQ proof | [`Authority::partial_decrypt`] → [`PartialDecryption`] |
//! | anyone | verify partials, combine t, read the total | [`decrypt_total`] with a [`DlogTable`] → [`Total`] |
//!
//! Everything exchanged has a JSON encoding ([`wire`]).
//!
//! ```
//! use rand::SeedableRng;
//! use trustspace_he::ristretto::{self, DlogTable, SumSpec, ValueRange};
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let (key, authorities) = ristretto::dkg::run_local(3, 2, &mut rng)?;
//! let spec = SumSpec::new("doc example", ValueRange::unsigned(1000)?)?;
//! let a = ristretto::encrypt_encodings(&key, &spec, &[10, 20], &mut rng)?;
//! let b = ristretto::encrypt_encodings(&key, &spec, &[1000], &mut rng)?;
//! let total = ristretto::aggregate(&key, &spec, &[a, b])?;
//! let partials = [
//!     authorities[0].partial_decrypt(&total, &mut rng)?,
//!     authorities[2].partial_decrypt(&total, &mut rng)?,
//! ];
//! let table = DlogTable::new(3000)?;
//! assert_eq!(ristretto::decrypt_total(&key, &total, &partials, &table)?.units, 1030);
//! # Ok::<(), trustspace_he::HeError>(())
//! ```

pub mod aggregate;
mod codec;
pub mod decrypt;
pub mod dkg;
pub mod dlog;
pub mod encrypt;
pub mod keys;
pub mod range;
mod rng;
pub mod wire;

pub use aggregate::{Aggregator, EncryptedTotal, Verified, aggregate};
pub use decrypt::{PartialDecryption, Total, decrypt_total};
pub use dlog::DlogTable;
pub use encrypt::{
    EncryptedColumn, EncryptedValue, encrypt_column, encrypt_encodings, encrypt_value,
};
pub use keys::{Authority, KeyId, KeySet, MAX_AUTHORITIES};
pub use range::{MAX_RANGE_BITS, MAX_TOTAL, SumSpec, ValueRange};
