//! What names a circuit: the [`CircuitDigests`] that keys and bundles carry (so a key or proof
//! for another schema, policy or chunk size is refused as a mismatch, not as an invalid proof),
//! the [`CIRCUIT_VERSION`] they include, and the [`shape_digest`] that version is tied to.
//!
//! The circuits are generated from code, so a change of that code changes what a key proves
//! without changing any input of the circuit digests. [`CIRCUIT_VERSION`] is part of them, and a
//! test pins it together with the shape digest (a hash of the constraint matrices) of a fixed
//! policy: a change of the circuits fails that test until the version is bumped and the new
//! shape recorded ([`CIRCUIT_SHAPES`]).

use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisMode,
};
use serde::{Deserialize, Serialize};

use crate::canon::{self, Canon};
use crate::circuit::{ChunkCircuit, Compiled, FinalCircuit};
use crate::error::Result;

/// Bumped whenever the circuits' construction changes, so old keys are refused. Tied to the
/// circuits' shape by [`CIRCUIT_SHAPES`] (checked by a test).
pub const CIRCUIT_VERSION: u32 = 2;

/// Every circuit version with the [`shape_digest`] (hex) of its circuits for the fixed policy
/// `tests/golden/policy.toml` over `tests/golden/schema.toml` in chunks of
/// [`SHAPE_CHUNK_SIZE`], oldest first; the last entry is [`CIRCUIT_VERSION`]'s. When the
/// circuits change, append the new version and shape: a test checks that the last entry is the
/// current version and the current shape, and that versions and shapes never repeat.
pub const CIRCUIT_SHAPES: &[(u32, &str)] = &[
    (
        1,
        "6f30d2ed5cf4b91fa0959f7545d45d5a4a0ab3ed69e7e6a1748cafd1fe90ec2f",
    ),
    // Domains in the circuit, chunk roots bound to the owner, domain-separated Poseidon.
    (
        2,
        "63ace74780fb355e5f60461c414f90f653def9150ca7b593bb20679fcc1d328e",
    ),
];

/// The chunk size of the circuits [`CIRCUIT_SHAPES`] records.
pub const SHAPE_CHUNK_SIZE: u64 = 16;

/// Digests naming the chunk circuit and (for policies with aggregates) the final circuit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitDigests {
    /// SHA-256 of the chunk circuit's definition, hex.
    pub chunk: String,
    /// SHA-256 of the final circuit's definition, hex.
    #[serde(rename = "final", default, skip_serializing_if = "Option::is_none")]
    pub final_: Option<String>,
}

/// One circuit's digest ([`canon::CIRCUIT`]): which circuit, the circuit version, the policy
/// digest (which covers the schema) and the chunk size.
fn digest(which: &str, compiled: &Compiled) -> String {
    let mut c = canon::CIRCUIT.start();
    c.str(which)
        .u32(CIRCUIT_VERSION)
        .raw(&compiled.policy().digest())
        .u64(compiled.chunk_size());
    hex::encode(c.sha256())
}

/// The circuit digests of a compiled policy: a function of the circuit version, the policy
/// digest (which covers the schema) and the chunk size.
pub fn circuit_digest(compiled: &Compiled) -> CircuitDigests {
    CircuitDigests {
        chunk: digest("chunk", compiled),
        final_: (compiled.counters() > 0).then(|| digest("final", compiled)),
    }
}

/// Synthesizes a circuit as key generation does and writes its shape: variable and constraint
/// counts and every constraint matrix (coefficients and variable indices).
fn write_shape(c: &mut Canon, circuit: impl ConstraintSynthesizer<Fr>) -> Result<()> {
    let cs: ConstraintSystemRef<Fr> = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();
    canon::idx(c, cs.num_instance_variables());
    canon::idx(c, cs.num_witness_variables());
    canon::idx(c, cs.num_constraints());
    let matrices = cs.to_matrices()?;
    c.seq(matrices.iter(), |c, (label, matrices)| {
        c.str(label).seq(matrices.iter(), |c, matrix| {
            c.seq(matrix.iter(), |c, row| {
                c.seq(row.iter(), |c, (coeff, var)| {
                    canon::fr(c, coeff);
                    canon::idx(c, *var);
                });
            });
        });
    });
    Ok(())
}

/// SHA-256 of the shape of a compiled policy's circuits ([`canon::SHAPE`]): the chunk
/// circuit's and, with aggregates, the final circuit's constraint matrices. Any change to how
/// the circuits are built changes it.
pub fn shape_digest(compiled: &Compiled) -> Result<[u8; 32]> {
    let mut c = canon::SHAPE.start();
    write_shape(&mut c, ChunkCircuit::for_setup(compiled))?;
    if compiled.counters() > 0 {
        write_shape(&mut c, FinalCircuit::for_setup(compiled))?;
    }
    Ok(c.sha256())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use trustspace_data::Schema;

    /// The fixed policy and schema the shapes are recorded for.
    fn shape_fixture() -> Compiled {
        let schema =
            Schema::from_toml(include_str!("../tests/golden/schema.toml"), "schema").unwrap();
        let policy = Policy::from_toml(
            include_str!("../tests/golden/policy.toml"),
            "policy",
            None,
            &schema,
        )
        .unwrap();
        Compiled::new(&schema, &policy, SHAPE_CHUNK_SIZE).unwrap()
    }

    #[test]
    fn circuit_version_is_tied_to_the_circuit_shape() {
        let shape = hex::encode(shape_digest(&shape_fixture()).unwrap());
        let &(version, recorded) = CIRCUIT_SHAPES.last().unwrap();
        assert_eq!(
            (version, recorded),
            (CIRCUIT_VERSION, shape.as_str()),
            "the circuits' shape changed: bump CIRCUIT_VERSION and append \
             ({}, \"{shape}\") to CIRCUIT_SHAPES, together (old keys must be refused)",
            CIRCUIT_VERSION + 1
        );
        for w in CIRCUIT_SHAPES.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "versions must increase: {CIRCUIT_SHAPES:?}"
            );
        }
        let mut shapes: Vec<_> = CIRCUIT_SHAPES.iter().map(|s| s.1).collect();
        shapes.sort_unstable();
        shapes.dedup();
        assert_eq!(
            shapes.len(),
            CIRCUIT_SHAPES.len(),
            "a shape is recorded twice"
        );
    }

    #[test]
    fn the_shape_sees_a_changed_policy() {
        // The shape covers the constraints, so another rule (same schema) is another shape.
        let a = shape_fixture();
        let schema = Schema::from_toml(include_str!("../tests/golden/schema.toml"), "s").unwrap();
        let text = include_str!("../tests/golden/policy.toml").replace("[18, 120]", "[21, 120]");
        let policy = Policy::from_toml(&text, "p", None, &schema).unwrap();
        let b = Compiled::new(&schema, &policy, SHAPE_CHUNK_SIZE).unwrap();
        assert_ne!(shape_digest(&a).unwrap(), shape_digest(&b).unwrap());
    }
}
