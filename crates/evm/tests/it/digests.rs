//! Pinned digests and encodings: what the registry stores and the verifier contracts embed must
//! not change by accident (a changed keys digest, `VerifyingKeys::digest`, orphans every policy registered on
//! chain, a changed `vk_digest` every deployed verifier). The inputs are fixed points and digests, so
//! the pins do not depend on how trustspace-zk computes policy or schema digests.
//!
//! These digests are already canonical (a versioned domain tag, then fixed-size fields in a
//! fixed order; the keys' arkworks compressed encoding is length-prefixed), not serde_json.

use alloy_primitives::{U256, keccak256};
use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_groth16::{Proof, VerifyingKey};
use sha2::{Digest, Sha256};
use trustspace_evm::encode::{chunk_roots_hash, verify_proof_calldata, vk_digest};

use crate::common::world::world;

const VK_DIGEST: &str = "7bfbce4bd6573fb757ec948ae3df55526b679fa8d4b846ba2869eec59b025518";
const CHUNK_ROOTS_HASH: &str = "7906e07848bcd4fce33a66745e2ebc6f8232204d4612408ec82f78dc8ef89528";
const VERIFY_PROOF_CALLDATA_SHA256: &str =
    "3373022bada31489c61cd938131a79cc72775d4ec0b2645d681de0d604e6694c";

fn g1(k: u64) -> G1Affine {
    (G1Affine::generator() * Fr::from(k)).into_affine()
}

fn g2(k: u64) -> G2Affine {
    (G2Affine::generator() * Fr::from(k)).into_affine()
}

/// A verifying key of multiples of the generators (`inputs` public inputs).
fn fixed_vk(inputs: u64) -> VerifyingKey<Bn254> {
    VerifyingKey {
        alpha_g1: g1(2),
        beta_g2: g2(3),
        gamma_g2: g2(5),
        delta_g2: g2(7),
        gamma_abc_g1: (0..=inputs).map(|i| g1(11 + i)).collect(),
    }
}

fn check(pins: &mut Vec<String>, name: &str, pinned: &str, got: &[u8]) {
    let got = hex::encode(got);
    if pinned != got {
        pins.push(format!("const {name}: &str = \"{got}\";"));
    }
}

#[test]
fn registry_and_verifier_digests_are_pinned() {
    let mut pins = Vec::new();
    check(&mut pins, "VK_DIGEST", VK_DIGEST, &vk_digest(&fixed_vk(4)));

    // The registry keys a policy by the one canonical keys digest, the ledger's
    // (`VerifyingKeys::digest`, pinned by trustspace-zk's golden files). It covers the revealed
    // values' names and scales and the counters: keys with the genuine points but swapped
    // names or other scales name another policy, which the registry does not hold.
    let keys = world().vk.clone();
    let mut renamed = keys.clone();
    renamed.reveals[0].push('!');
    let mut rescaled = keys.clone();
    rescaled.reveal_scales[0] += 1;
    let mut recounted = keys.clone();
    recounted.counters += 1;
    for other in [renamed, rescaled, recounted] {
        assert_ne!(other.digest(), keys.digest());
    }

    // Recomputed by the registry in Solidity: keccak256(abi.encodePacked(uint256[])).
    let roots = [U256::from(1u8), U256::from(2u8), U256::MAX];
    let h = chunk_roots_hash(&roots);
    let mut packed = Vec::new();
    for r in roots {
        packed.extend_from_slice(&r.to_be_bytes::<32>());
    }
    assert_eq!(h, keccak256(&packed));
    check(
        &mut pins,
        "CHUNK_ROOTS_HASH",
        CHUNK_ROOTS_HASH,
        h.as_slice(),
    );

    let proof = Proof::<Bn254> {
        a: g1(2),
        b: g2(3),
        c: g1(4),
    };
    let data = verify_proof_calldata(&proof, &[Fr::from(7u8), -Fr::from(1u8)]);
    let digest: [u8; 32] = Sha256::digest(&data).into();
    check(
        &mut pins,
        "VERIFY_PROOF_CALLDATA_SHA256",
        VERIFY_PROOF_CALLDATA_SHA256,
        &digest,
    );
    assert!(
        pins.is_empty(),
        "pinned digests changed; if intended, update them in tests/it/digests.rs:\n{}",
        pins.join("\n")
    );
}
