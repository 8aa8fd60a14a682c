//! The transcript hash of a ceremony and the G2 point derived from it.
//!
//! Every contribution's transcript is BLAKE2b-512 of the previous one (or of the initial
//! parameters) and the contribution's public key; its proof of knowledge is checked against a
//! G2 point derived from that hash, which the contributor cannot choose and whose discrete
//! logarithm nobody knows: arkworks' uniform sampling of a G2 point (a random x coordinate,
//! the curve point above it, the cofactor cleared) driven by ChaCha20 seeded with the hash.

use ark_bn254::{G2Affine, G2Projective};
use ark_ec::CurveGroup;
use ark_ff::UniformRand;
use ark_serialize::CanonicalSerialize;
use blake2::{Blake2b512, Digest};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// BLAKE2b-512 of `parts`, each prefixed by its length (so no two splits collide).
pub fn hash(parts: &[&[u8]]) -> [u8; 64] {
    let mut h = Blake2b512::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// The compressed canonical encoding of `v` (what the transcript hashes).
pub fn bytes<T: CanonicalSerialize>(v: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.compressed_size());
    v.serialize_compressed(&mut out)
        .expect("writing to a vector cannot fail");
    out
}

/// The G2 point of a transcript hash (no known discrete logarithm).
pub fn hash_to_g2(digest: &[u8; 64]) -> G2Affine {
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&digest[..32]);
    G2Projective::rand(&mut ChaCha20Rng::from_seed(seed)).into_affine()
}
