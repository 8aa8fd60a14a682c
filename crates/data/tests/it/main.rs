//! The integration tests of `trustspace-data`, in one test binary: schemas and encodings,
//! loaders, writers, generators, property tests of every codec, and the golden files that pin
//! the on-disk formats and digests.

mod golden;
mod load;
mod props;
mod schema;
mod synth;
mod write;
