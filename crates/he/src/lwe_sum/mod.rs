//! Path B — additive LWE sums at scale, on tfhe's `core_crypto` (no bootstrapping).
//!
//! Holders pack values [`SumParams::slots`] to a compact list (one mask shared by all the
//! list's bodies), encrypt under the LWE compact public key of the pinned parameter set
//! ([`PARAMETER_SET`]) and attach tfhe's zero-knowledge proof that the list is well formed,
//! its noise bounded and every value below `2^value_bits`. The aggregator verifies every proof
//! and adds lists *in the packed form*, slot-wise; the key holder decrypts the slots and adds
//! them. The encoding Δ comes from the declared count and width, and the parameters are
//! refused unless decryption fails with probability ≤ 2^-64 ([`params`] derives the bound).
//!
//! | role | step | here |
//! |---|---|---|
//! | key holder | key, public key, CRS | [`generate`] → [`SecretKey`], [`PublicSetup`] |
//! | holder | encrypt and prove a column | [`encrypt_column`] / [`encrypt_values`] → [`EncryptedColumn`] |
//! | aggregator | verify, add | [`aggregate()`] / [`Aggregator`] → [`EncryptedSum`] |
//! | key holder | decrypt the total | [`decrypt_total`] |
//!
//! What the key holder learns besides the total: the slot sums (slot j of the aggregate is
//! the sum of every list's j-th value). With many lists per slot these are sums of many
//! holders' values; where even that is too much, use [`crate::fhe_int`] (the aggregator folds
//! everything into one ciphertext) or [`crate::ristretto`].

pub mod aggregate;
pub mod encrypt;
pub mod keys;
pub mod params;

pub use aggregate::{Aggregator, EncryptedSum, aggregate, decrypt_total};
pub use encrypt::{EncryptedColumn, EncryptedList, encrypt_column, encrypt_values};
pub use keys::{PublicSetup, SecretKey, generate};
pub use params::{PARAMETER_SET, SumParams};
