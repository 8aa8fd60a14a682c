//! Scalars and curve points drawn from a hash exactly as snarkjs draws them, so that a proof of
//! knowledge made here verifies in snarkjs and a snarkjs beacon can be re-derived here.
//!
//! snarkjs seeds ChaCha20 with the first 32 bytes of a hash read as eight big-endian words, and
//! draws 64-bit words high half first and booleans from a word's least significant bit. A field
//! element is four such words (masked to 254 bits, redrawn when not below the modulus) taken as
//! the element's Montgomery form; a curve point is a random x with a point above it (the y of
//! the sign drawn with it) and the cofactor cleared. The G2 point of a hash is what every proof
//! of knowledge pairs with: nobody knows its discrete logarithm.
//!
//! The ChaCha20 stream is `rand_chacha`'s (the same cipher, key and counter layout for the
//! first 2^64 blocks); only the word conventions are snarkjs's.

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// A ChaCha20 stream with snarkjs's word conventions.
pub struct SnarkjsRng(ChaCha20Rng);

impl SnarkjsRng {
    /// The stream seeded by the first 32 bytes of `hash` (eight big-endian words).
    ///
    /// # Panics
    /// If `hash` is shorter than 32 bytes (every caller passes a 32- or 64-byte digest).
    pub fn from_hash(hash: &[u8]) -> SnarkjsRng {
        let mut key = [0u8; 32];
        for (word, bytes) in key.chunks_exact_mut(4).zip(hash[..32].chunks_exact(4)) {
            word.copy_from_slice(&[bytes[3], bytes[2], bytes[1], bytes[0]]);
        }
        SnarkjsRng(ChaCha20Rng::from_seed(key))
    }

    /// The stream of a random beacon: SHA-256 applied `2^iterations_exp` times to `beacon`.
    pub fn from_beacon(beacon: &[u8], iterations_exp: u8) -> SnarkjsRng {
        let mut h: [u8; 32] = Sha256::digest(beacon).into();
        for _ in 1..(1u64 << iterations_exp) {
            h = Sha256::digest(h).into();
        }
        SnarkjsRng::from_hash(&h)
    }

    fn u64(&mut self) -> u64 {
        let high = u64::from(self.0.next_u32());
        (high << 32) | u64::from(self.0.next_u32())
    }

    fn bool(&mut self) -> bool {
        self.0.next_u32() & 1 == 1
    }

    /// Four 64-bit words below `modulus`, masked to 254 bits (snarkjs's `F.fromRng`).
    fn limbs(&mut self, modulus: &BigInt<4>) -> BigInt<4> {
        loop {
            let mut v = BigInt([self.u64(), self.u64(), self.u64(), self.u64()]);
            v.0[3] &= (1 << 62) - 1;
            if v < *modulus {
                return v;
            }
        }
    }

    /// A scalar (snarkjs's `Fr.fromRng`: the words are the Montgomery form).
    pub fn fr(&mut self) -> Fr {
        Fr::new_unchecked(self.limbs(&Fr::MODULUS))
    }

    fn fq(&mut self) -> Fq {
        Fq::new_unchecked(self.limbs(&Fq::MODULUS))
    }

    /// A G1 point (snarkjs's `G1.fromRng`).
    pub fn g1(&mut self) -> G1Affine {
        loop {
            let x = self.fq();
            let greatest = self.bool();
            if let Some(p) = G1Affine::get_point_from_x_unchecked(x, greatest) {
                return p;
            }
        }
    }

    /// A G2 point (snarkjs's `G2.fromRng`), in the prime-order subgroup.
    pub fn g2(&mut self) -> G2Affine {
        loop {
            let c0 = self.fq();
            let c1 = self.fq();
            let greatest = self.bool();
            if let Some(p) = G2Affine::get_point_from_x_unchecked(Fq2::new(c0, c1), greatest) {
                return p.mul_by_cofactor();
            }
        }
    }
}

/// The G2 point of a hash (snarkjs's `hashToG2`).
pub fn hash_to_g2(hash: &[u8; 64]) -> G2Affine {
    SnarkjsRng::from_hash(hash).g2()
}

/// A random non-zero scalar (a contributor's secret).
pub fn nonzero<R: RngCore + rand::CryptoRng>(rng: &mut R) -> Fr {
    loop {
        let k = <Fr as ark_ff::UniformRand>::rand(rng);
        if !ark_ff::Zero::is_zero(&k) {
            return k;
        }
    }
}
