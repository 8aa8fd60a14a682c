//! The two Poseidon instances of the commitment scheme, natively and as constraint gadgets, kept
//! side by side so they cannot drift (tests check they agree).
//!
//! Both are arkworks' Poseidon sponge over the BN254 scalar field with x^5 S-boxes, 8 full
//! rounds, round constants and MDS matrix from the reference Grain LFSR
//! ([`find_poseidon_ark_and_mds`]), and the partial-round counts of the Poseidon paper's
//! 128-bit-security table for BN254 (as used by circomlib):
//!
//! - **leaf** (t = 17, rate 16, 68 partial rounds): one permutation over a fresh salt in the
//!   capacity lane and 16 packed field elements. Hashing several packed records per leaf with
//!   one salt is what keeps commitment cost per record low (one permutation per 16 elements).
//! - **node** (t = 3, rate 2, 57 partial rounds): the 2-to-1 hash of Merkle nodes, and the
//!   general sponge for short messages (accumulators, digests).
//!
//! Every call of the node instance is domain-separated by its purpose and arity ([`Domain`]):
//! the sponge's capacity lane starts at `purpose · 2^32 + arity` instead of 0, so no two uses
//! (a commitment tree node, a chunk root bound to its owner, the commitment root, an
//! accumulator, an interval-tree leaf or node) can collide, even if an arity changes. The tag is
//! a constant, so it costs no constraint. The leaf instance has one use (its capacity lane holds
//! the leaf's salt) and a width of its own, so nothing else shares its permutation.

use ark_bn254::Fr;
use ark_crypto_primitives::sponge::constraints::CryptographicSpongeVar;
use ark_crypto_primitives::sponge::poseidon::constraints::PoseidonSpongeVar;
use ark_crypto_primitives::sponge::poseidon::{
    PoseidonConfig, PoseidonSponge, find_poseidon_ark_and_mds,
};
use ark_crypto_primitives::sponge::{CryptographicSponge, FieldBasedCryptographicSponge};
use ark_ff::PrimeField;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use std::sync::OnceLock;

/// Field elements absorbed by one leaf hash.
pub const LEAF_INPUTS: usize = 16;

fn config(rate: usize, partial_rounds: u64) -> PoseidonConfig<Fr> {
    const FULL_ROUNDS: u64 = 8;
    let (ark, mds) = find_poseidon_ark_and_mds::<Fr>(
        u64::from(Fr::MODULUS_BIT_SIZE),
        rate,
        FULL_ROUNDS,
        partial_rounds,
        0,
    );
    PoseidonConfig::new(
        FULL_ROUNDS as usize,
        partial_rounds as usize,
        5,
        mds,
        ark,
        rate,
        1,
    )
}

/// The leaf instance (t = 17).
pub fn leaf_config() -> &'static PoseidonConfig<Fr> {
    static C: OnceLock<PoseidonConfig<Fr>> = OnceLock::new();
    C.get_or_init(|| config(LEAF_INPUTS, 68))
}

/// The node / short-message instance (t = 3).
pub fn node_config() -> &'static PoseidonConfig<Fr> {
    static C: OnceLock<PoseidonConfig<Fr>> = OnceLock::new();
    C.get_or_init(|| config(2, 57))
}

/// What a call of the node instance hashes; each purpose has its own capacity tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// A node of a commitment tree (a chunk subtree or the top tree): (left, right).
    Node,
    /// A chunk root bound to the dataset's owner: (subtree root, owner).
    Chunk,
    /// The commitment root: (top root, records, chunk size, schema digest, owner).
    Commitment,
    /// The aggregate accumulator: (counters..., blinding).
    Accumulator,
    /// A leaf of a rule's interval tree: (lo, hi).
    IntervalLeaf,
    /// A node of a rule's interval tree: (left, right).
    IntervalNode,
}

impl Domain {
    fn purpose(self) -> u64 {
        match self {
            Domain::Node => 1,
            Domain::Chunk => 2,
            Domain::Commitment => 3,
            Domain::Accumulator => 4,
            Domain::IntervalLeaf => 5,
            Domain::IntervalNode => 6,
        }
    }

    /// The capacity lane's initial value for `arity` inputs: `purpose · 2^32 + arity`.
    pub fn tag(self, arity: usize) -> Fr {
        Fr::from((self.purpose() << 32) | arity as u64)
    }
}

/// Leaf hash: the salt keys the capacity lane, the 16 inputs fill the rate; one permutation.
pub fn leaf(salt: Fr, inputs: &[Fr; LEAF_INPUTS]) -> Fr {
    let mut s = PoseidonSponge::new(leaf_config());
    s.state[0] = salt;
    s.absorb(&inputs.to_vec());
    s.squeeze_native_field_elements(1)[0]
}

/// Commitment-tree node hash ([`Domain::Node`]).
pub fn node(left: Fr, right: Fr) -> Fr {
    hash(Domain::Node, &[left, right])
}

/// Sponge hash of a short message with the node instance, in `domain`.
pub fn hash(domain: Domain, inputs: &[Fr]) -> Fr {
    let mut s = PoseidonSponge::new(node_config());
    s.state[0] = domain.tag(inputs.len());
    s.absorb(&inputs.to_vec());
    s.squeeze_native_field_elements(1)[0]
}

/// In-circuit [`leaf`].
pub fn leaf_var(
    cs: ConstraintSystemRef<Fr>,
    salt: &FpVar<Fr>,
    inputs: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    assert_eq!(inputs.len(), LEAF_INPUTS, "leaf takes {LEAF_INPUTS} inputs");
    let mut s = PoseidonSpongeVar::new(cs, leaf_config());
    s.state[0] = salt.clone();
    s.absorb(&inputs.to_vec())?;
    Ok(s.squeeze_field_elements(1)?.remove(0))
}

/// In-circuit [`node`].
pub fn node_var(
    cs: ConstraintSystemRef<Fr>,
    left: &FpVar<Fr>,
    right: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    hash_var(cs, Domain::Node, &[left.clone(), right.clone()])
}

/// In-circuit [`hash`].
pub fn hash_var(
    cs: ConstraintSystemRef<Fr>,
    domain: Domain,
    inputs: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    let mut s = PoseidonSpongeVar::new(cs, node_config());
    s.state[0] = FpVar::Constant(domain.tag(inputs.len()));
    s.absorb(&inputs.to_vec())?;
    Ok(s.squeeze_field_elements(1)?.remove(0))
}

/// Root of a binary Merkle tree over a power-of-two number of leaves.
pub fn merkle_root(mut level: Vec<Fr>) -> Fr {
    assert!(level.len().is_power_of_two(), "a power of two of leaves");
    while level.len() > 1 {
        level = level.chunks(2).map(|p| node(p[0], p[1])).collect();
    }
    level[0]
}

/// In-circuit [`merkle_root`].
pub fn merkle_root_var(
    cs: ConstraintSystemRef<Fr>,
    mut level: Vec<FpVar<Fr>>,
) -> Result<FpVar<Fr>, SynthesisError> {
    assert!(level.len().is_power_of_two(), "a power of two of leaves");
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| node_var(cs.clone(), &p[0], &p[1]))
            .collect::<Result<_, _>>()?;
    }
    Ok(level.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::{GR1CSVar, eq::EqGadget};
    use ark_relations::gr1cs::ConstraintSystem;
    use ark_std::UniformRand;

    fn vars(cs: &ConstraintSystemRef<Fr>, xs: &[Fr]) -> Vec<FpVar<Fr>> {
        xs.iter()
            .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
            .collect()
    }

    #[test]
    fn native_and_circuit_hashes_agree_with_pinned_costs() {
        let mut rng = ark_std::test_rng();
        let salt = Fr::rand(&mut rng);
        let inputs: [Fr; LEAF_INPUTS] = std::array::from_fn(|_| Fr::rand(&mut rng));
        let cs = ConstraintSystem::<Fr>::new_ref();
        let s = FpVar::new_witness(cs.clone(), || Ok(salt)).unwrap();
        let xs = vars(&cs, &inputs);
        let before = cs.num_constraints();
        let l = leaf_var(cs.clone(), &s, &xs).unwrap();
        let leaf_cost = cs.num_constraints() - before;
        assert_eq!(l.value().unwrap(), leaf(salt, &inputs));
        // 8 full rounds x 17 S-boxes + 68 partial rounds, 3 constraints per x^5.
        assert_eq!(leaf_cost, 3 * (8 * 17 + 68));

        let before = cs.num_constraints();
        let n = node_var(cs.clone(), &xs[0], &xs[1]).unwrap();
        // As above, less one S-box: the capacity lane is the constant 0 in the first round.
        assert_eq!(cs.num_constraints() - before, 3 * (8 * 3 + 57 - 1));
        assert_eq!(n.value().unwrap(), node(inputs[0], inputs[1]));

        let before = cs.num_constraints();
        let h = hash_var(cs.clone(), Domain::Accumulator, &xs[..5]).unwrap();
        assert_eq!(h.value().unwrap(), hash(Domain::Accumulator, &inputs[..5]));
        // Five inputs: three permutations (rate 2), the tag costing nothing.
        assert_eq!(cs.num_constraints() - before, 3 * 3 * (8 * 3 + 57) - 3);
        let r = merkle_root_var(cs.clone(), xs.clone()).unwrap();
        r.enforce_equal(&FpVar::Constant(merkle_root(inputs.to_vec())))
            .unwrap();
        assert!(cs.is_satisfied().unwrap());
        // Another salt changes the leaf (hiding depends on it).
        assert_ne!(leaf(salt + Fr::from(1u64), &inputs), leaf(salt, &inputs));
    }

    #[test]
    fn domains_and_arities_never_share_a_hash() {
        let xs = [Fr::from(3u64), Fr::from(5u64), Fr::from(7u64)];
        let all = [
            Domain::Node,
            Domain::Chunk,
            Domain::Commitment,
            Domain::Accumulator,
            Domain::IntervalLeaf,
            Domain::IntervalNode,
        ];
        let mut seen = std::collections::HashSet::new();
        for d in all {
            for n in 1..=3 {
                assert!(seen.insert(hash(d, &xs[..n])), "{d:?} over {n} inputs");
            }
        }
        // The tag, not a padding convention, tells arities apart: (x, 0) is not (x).
        assert_ne!(
            hash(Domain::Accumulator, &[xs[0], Fr::from(0u64)]),
            hash(Domain::Accumulator, &xs[..1])
        );
        assert_eq!(node(xs[0], xs[1]), hash(Domain::Node, &xs[..2]));
    }
}
