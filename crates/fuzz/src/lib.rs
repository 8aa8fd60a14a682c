//! Fuzz targets: one function per decoder of untrusted input, each taking arbitrary bytes.
//!
//! A target feeds the bytes to a decoder (a file loader's parser, a wire message's decoder, the
//! SQL front end, an HTTP handler) and panics only when a property breaks: the decoder itself
//! panicked, or it accepted an input whose re-encoding does not decode to the same value (or,
//! for canonical formats, is not the same bytes). A decoder that refuses bad input with an
//! error is the expected outcome, not a finding.
//!
//! The same functions run in two places:
//! - `cargo test -p trustspace-fuzz` replays the committed corpus (`fuzz/corpus/<target>/`) and
//!   a seeded mutation smoke over it (seconds per target): CI's fuzz smoke;
//! - `scripts/fuzz.sh` builds the AFL++ driver (`src/bin/afl.rs`, feature `afl`) with
//!   cargo-afl and runs each target for a number of executions.

mod ceremony;
mod data;
mod he;
#[cfg(feature = "tfhe")]
mod he_tfhe;
mod ledger;
mod mpc;
mod props;
mod zk;

/// One fuzz target: a decoder of untrusted bytes and the properties checked on what it accepts.
pub struct Target {
    /// The target's name: its corpus folder and the driver's `TRUSTSPACE_FUZZ_TARGET`.
    pub name: &'static str,
    /// What it decodes, for `scripts/fuzz.sh --list`.
    pub about: &'static str,
    /// Runs the decoder on one input; panics only when a property breaks.
    pub run: fn(&[u8]),
}

/// Every target, grouped by the crate whose decoder it exercises.
pub fn targets() -> impl Iterator<Item = &'static Target> {
    [
        data::TARGETS,
        zk::TARGETS,
        mpc::TARGETS,
        he::TARGETS,
        #[cfg(feature = "tfhe")]
        he_tfhe::TARGETS,
        ledger::TARGETS,
        ceremony::TARGETS,
    ]
    .into_iter()
    .flatten()
}

/// Builds the contexts `target` decodes against (keys made once per process), so that a
/// fork-server fuzzer makes them before it forks rather than in every child.
pub fn prepare(target: &Target) {
    #[cfg(feature = "tfhe")]
    if he_tfhe::TARGETS.iter().any(|t| t.name == target.name) {
        he_tfhe::prepare();
    }
    #[cfg(not(feature = "tfhe"))]
    let _ = target;
}

/// The target called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Target> {
    targets().find(|t| t.name == name)
}
