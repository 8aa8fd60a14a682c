//! Integration tests of trustspace-he, in one binary (one link; fixtures made once): the
//! ristretto backend by topic, the golden documents of every HE format, and the tfhe paths.

mod common;
#[cfg(feature = "tfhe")]
mod fhe_int;
mod fuzz_corpus;
mod golden;
#[cfg(feature = "tfhe")]
mod lwe_sum;
mod props;
mod ristretto;
