//! Path A — encrypted integers on tfhe's high-level API, for when the aggregator must
//! *compute* on the total, not only add.
//!
//! Holders encrypt under the [`CompactPublicKey`](tfhe::CompactPublicKey) into compact lists
//! proven with tfhe's `zk-pok` (so malformed or out-of-width inputs are refused); the
//! aggregator verifies, expands, and sums each group with tfhe's multi-operand sum; it can
//! then evaluate a check on the totals — `total > limit`, the largest group total — so that
//! only a verdict, or one chosen value, is ever decrypted. GROUP BY runs over a public group
//! domain: each row is one-hot encrypted across the domain, so neither a row's value nor its
//! group is seen.
//!
//! Widths are chosen from the declaration ([`IntParams`]): values in the narrowest width that
//! holds the declared maximum (and proven to fit it), sums in the narrowest width that holds
//! `max_rows × (2^value_bits − 1)`; a declaration whose worst case passes 64 bits is refused.
//!
//! | role | step | here |
//! |---|---|---|
//! | key holder | keys | [`generate`] → [`KeyHolder`], [`AggregatorKeys`], [`PublicKeys`] |
//! | holder | encrypt and prove | [`encrypt_column`], [`encrypt_values`], [`encrypt_grouped`] → [`Contribution`] |
//! | aggregator | verify, sum, check | [`aggregate()`] → [`EncryptedTotals`] → [`EncryptedTotals::exceeds`], [`EncryptedTotals::max_total`] |
//! | key holder | decrypt the verdict / value | [`KeyHolder::decrypt_verdict`], [`KeyHolder::decrypt_value`] |
//!
//! tfhe's `ClientKey` does not implement zeroization; the key holder's process should be the
//! only one that ever loads it.

pub mod aggregate;
pub mod encrypt;
pub mod keys;
pub mod params;

pub use aggregate::{EncryptedTotals, EncryptedValue, EncryptedVerdict, aggregate};
pub use encrypt::{Contribution, encrypt_column, encrypt_grouped, encrypt_values, values_per_list};
pub use keys::{AggregatorKeys, KeyHolder, PARAMETER_SET, PublicKeys, config, generate};
pub use params::{IntParams, Width};
