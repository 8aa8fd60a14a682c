//! Fuzz targets of trustspace-ceremony's decoders: a phase-2 state file.

use trustspace_ceremony::Phase2;

use crate::Target;
use crate::props::canonical;

/// This crate's targets.
pub(crate) const TARGETS: &[Target] = &[Target {
    name: "ceremony_phase2",
    about: "Phase2::from_bytes (a ceremony's state file: every point checked); canonical",
    run: phase2,
}];

/// Inputs above this are ignored (the corpus's states are a few kilobytes).
const MAX_INPUT: usize = 1 << 20;

fn phase2(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(state) = Phase2::from_bytes(data) else {
        return;
    };
    canonical("phase-2 state", data, &state.to_bytes());
}
