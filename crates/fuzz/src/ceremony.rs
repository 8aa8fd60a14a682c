//! Fuzz targets of trustspace-ceremony's decoders: snarkjs's `.ptau` (phase 1) and `.zkey`
//! (phase 2) files.

use trustspace_ceremony::{Phase1, Phase2};

use crate::Target;
use crate::props::round_trips;

/// This crate's targets.
pub(crate) const TARGETS: &[Target] = &[
    Target {
        name: "ceremony_ptau",
        about: "Phase1::from_ptau (snarkjs's powers of tau: sizes, points, records); round trip",
        run: ptau,
    },
    Target {
        name: "ceremony_zkey",
        about: "Phase2::from_zkey (a phase-2 state: sizes, points, coefficients, records); round trip",
        run: zkey,
    },
];

/// Inputs above this are ignored (the corpus's files are a few tens of kilobytes).
const MAX_INPUT: usize = 1 << 20;

fn ptau(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    // A file may hold sections this crate does not read (a prepared file's Lagrange
    // evaluations), so the property is on the state read, not on the bytes.
    if let Ok(state) = Phase1::from_ptau(data) {
        round_trips("ptau", &state, Phase1::to_ptau, |b| Phase1::from_ptau(b));
    }
}

fn zkey(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    // Sections may come in any order (snarkjs's `zkey new` and `zkey contribute` differ), so
    // the property is on the state read, not on the bytes.
    if let Ok(state) = Phase2::from_zkey(data) {
        round_trips("zkey", &state, Phase2::to_zkey, |b| Phase2::from_zkey(b));
        // Whatever was accepted converts to arkworks' form without a panic.
        let pk = state.proving_key();
        assert_eq!(pk.a_query.len(), state.variables);
    }
}
