//! A circuit as iden3's `.r1cs` file (what circom writes and snarkjs reads), so that snarkjs
//! can run its own phase 2 on our circuits and check ours: section 1 the header (field size,
//! the scalar field's modulus, wire counts, constraint count), section 2 the constraints (three
//! linear combinations each: term count, then wire and coefficient, canonical little-endian),
//! section 3 each wire's label.
//!
//! Wires are arkworks' variables in its order: wire 0 the constant one, then the instance
//! (public inputs), then the witness. snarkjs's keys then list the variables in the order
//! arkworks' keys do.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField, Zero};
use ark_relations::gr1cs::{ConstraintSystemRef, Matrix, R1CS_PREDICATE_LABEL};
use std::collections::BTreeMap;

use crate::binfile;
use crate::error::CeremonyError;

const MAGIC: &[u8; 4] = b"r1cs";
const VERSION: u32 = 1;

fn field_le(v: &Fr) -> Vec<u8> {
    v.into_bigint().to_bytes_le()
}

/// A finalized constraint system's R1CS matrices A, B and C (rows of (coefficient, variable)).
fn r1cs_matrices(cs: &ConstraintSystemRef<Fr>) -> crate::Result<[Matrix<Fr>; 3]> {
    let matrices = cs
        .to_matrices()
        .ok()
        .and_then(|mut m| m.remove(R1CS_PREDICATE_LABEL))
        .ok_or(CeremonyError::NotACircuit)?;
    <[Matrix<Fr>; 3]>::try_from(matrices).map_err(|_| CeremonyError::NotACircuit)
}

/// One constraint's A, B and C combinations as iden3 writes them: one term (wire,
/// coefficient) per wire, in wire order, without zeros.
pub(crate) type Row = [Vec<(usize, Fr)>; 3];

/// The constraints of `cs` (synthesized for setup and finalized), each as a [`Row`].
pub(crate) fn rows(cs: &ConstraintSystemRef<Fr>) -> crate::Result<Vec<Row>> {
    let [a, b, c] = &r1cs_matrices(cs)?;
    let normal = |terms: &[(Fr, usize)]| {
        let mut merged: BTreeMap<usize, Fr> = BTreeMap::new();
        for (k, var) in terms {
            *merged.entry(*var).or_insert_with(Fr::zero) += k;
        }
        merged.retain(|_, k| !k.is_zero());
        merged.into_iter().collect::<Vec<_>>()
    };
    Ok((0..cs.num_constraints())
        .map(|row| [normal(&a[row]), normal(&b[row]), normal(&c[row])])
        .collect())
}

/// `cs` (synthesized for setup and finalized) as a `.r1cs` file.
pub fn to_r1cs(cs: &ConstraintSystemRef<Fr>) -> crate::Result<Vec<u8>> {
    let rows = rows(cs)?;
    let constraints = cs.num_constraints();
    let instance = cs.num_instance_variables();
    let wires = instance + cs.num_witness_variables();
    let count = |n: usize| u32::try_from(n).map_err(|_| CeremonyError::NotACircuit);
    let mut header = 32u32.to_le_bytes().to_vec();
    header.extend_from_slice(&Fr::MODULUS.to_bytes_le());
    header.extend_from_slice(&count(wires)?.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes()); // public outputs
    header.extend_from_slice(&count(instance - 1)?.to_le_bytes()); // public inputs
    header.extend_from_slice(&0u32.to_le_bytes()); // private inputs
    header.extend_from_slice(&(wires as u64).to_le_bytes()); // labels
    header.extend_from_slice(&count(constraints)?.to_le_bytes());
    let mut body = Vec::new();
    for row in &rows {
        for terms in row {
            body.extend_from_slice(&count(terms.len())?.to_le_bytes());
            for (var, k) in terms {
                body.extend_from_slice(&count(*var)?.to_le_bytes());
                body.extend_from_slice(&field_le(k));
            }
        }
    }
    let labels: Vec<u8> = (0..wires as u64).flat_map(u64::to_le_bytes).collect();
    Ok(binfile::write(
        MAGIC,
        VERSION,
        &[(1, &header), (2, &body), (3, &labels)],
    ))
}
