//! Fuzz targets of trustspace-ceremony's decoders: a phase-2 state file, snarkjs's `.ptau`
//! (phase 1) and `.zkey` files.

use trustspace_ceremony::zkey::Zkey;
use trustspace_ceremony::{Phase1, Phase2};

use crate::Target;
use crate::props::{canonical, round_trips};

/// This crate's targets.
pub(crate) const TARGETS: &[Target] = &[
    Target {
        name: "ceremony_phase2",
        about: "Phase2::from_bytes (a ceremony's state file: every point checked); canonical",
        run: phase2,
    },
    Target {
        name: "ceremony_ptau",
        about: "Phase1::from_ptau (snarkjs's powers of tau: sizes, points, records); round trip",
        run: ptau,
    },
    Target {
        name: "ceremony_zkey",
        about: "Zkey::from_bytes (snarkjs's Groth16 key: header, sizes, every point checked)",
        run: zkey,
    },
];

/// Inputs above this are ignored (the corpus's files are a few tens of kilobytes).
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
    if let Ok(key) = Zkey::from_bytes(data) {
        // Whatever was accepted converts to arkworks' form without a panic.
        let pk = key.proving_key();
        assert_eq!(pk.a_query.len(), key.variables);
    }
}
