//! The integration tests of `trustspace-data`, in one test binary: schemas and encodings,
//! loaders, generators, and the golden files that pin the on-disk formats and digests.

mod golden;
mod load;
mod schema;
mod synth;
