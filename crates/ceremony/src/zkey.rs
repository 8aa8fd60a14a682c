//! snarkjs's Groth16 `.zkey` file: a phase-2 state ([`Phase2`]) in iden3's container
//! ([`crate::binfile`]). Section 1 names the protocol (Groth16), section 2 is the header
//! (both moduli, wire, public-input and domain sizes, α, β, γ, δ), 3 the inputs' points, 4 the
//! A and B coefficients, 5–7 the A and B queries, 8 the witness wires' points (`L`), 9 `H` on
//! the odd coset, 10 the circuit's hash and the contributions' records. Points are `LEM`
//! ([`crate::encoding`]), each checked on the curve and in its subgroup; coefficients are
//! stored as snarkjs stores them (`k·R²` mod r, R = 2^256), each checked canonical; every size
//! is checked against the header before anything is allocated.

use ark_bn254::{Fq, Fr};
use ark_ff::{BigInt, BigInteger, Field, PrimeField};

use crate::binfile::{self, Reader, Sections, malformed};
use crate::encoding::{
    G1_LEN, G2_LEN, PointError, decode_all, encode_all, g1_from_lem, g1_lem, g2_from_lem, g2_lem,
};
use crate::phase2::{Coef, Contribution, Phase2};
use crate::record;

const MAGIC: &[u8; 4] = b"zkey";
const VERSION: u32 = 1;
const WHAT: &str = "zkey file";
/// The largest domain read: `H`'s coset needs the doubled domain's roots of unity (BN254 has
/// them up to 2^28).
const MAX_DOMAIN: u32 = crate::start::MAX_DOMAIN as u32;
/// Bytes of one coefficient: matrix, row, wire (u32 each) and the value.
const COEF_LEN: usize = 12 + 32;
/// The smallest contribution record (no parameters).
const MIN_RECORD: usize = 3 * G1_LEN + G2_LEN + 64 + 8;

fn modulus<F: PrimeField<BigInt = BigInt<4>>>() -> Vec<u8> {
    F::MODULUS.to_bytes_le()
}

/// `R² = 2^512 mod r`: snarkjs stores a coefficient `k` as `k·R²`.
fn r_squared() -> Fr {
    Fr::from(2u64).pow([512])
}

impl Phase2 {
    /// The state as a `.zkey` file, as `snarkjs zkey contribute` writes it.
    pub fn to_zkey(&self) -> Vec<u8> {
        let mut header = Vec::with_capacity(96 + 12 + 4 * G1_LEN + 3 * G2_LEN);
        for m in [modulus::<Fq>(), modulus::<Fr>()] {
            header.extend_from_slice(&32u32.to_le_bytes());
            header.extend_from_slice(&m);
        }
        for v in [self.variables, self.public, self.domain] {
            header.extend_from_slice(&(v as u32).to_le_bytes());
        }
        g1_lem(&self.alpha_g1, &mut header);
        g1_lem(&self.beta_g1, &mut header);
        g2_lem(&self.beta_g2, &mut header);
        g2_lem(&self.gamma_g2, &mut header);
        g1_lem(&self.delta_g1, &mut header);
        g2_lem(&self.delta_g2, &mut header);
        let r2 = r_squared();
        let mut coefs = Vec::with_capacity(4 + self.coefs.len() * COEF_LEN);
        coefs.extend_from_slice(&(self.coefs.len() as u32).to_le_bytes());
        for c in &self.coefs {
            for v in [c.matrix, c.constraint, c.signal] {
                coefs.extend_from_slice(&v.to_le_bytes());
            }
            coefs.extend_from_slice(&(c.value * r2).into_bigint().to_bytes_le());
        }
        let mut mpc = self.cs_hash.to_vec();
        mpc.extend_from_slice(&(self.contributions.len() as u32).to_le_bytes());
        for c in &self.contributions {
            g1_lem(&c.delta_after, &mut mpc);
            g1_lem(&c.s, &mut mpc);
            g1_lem(&c.s_delta, &mut mpc);
            g2_lem(&c.r_delta, &mut mpc);
            mpc.extend_from_slice(&c.transcript);
            record::write(c.name.as_ref(), &c.source, &mut mpc);
        }
        let sections = [
            1u32.to_le_bytes().to_vec(),
            header,
            encode_all(&self.ic, g1_lem, G1_LEN),
            coefs,
            encode_all(&self.a, g1_lem, G1_LEN),
            encode_all(&self.b_g1, g1_lem, G1_LEN),
            encode_all(&self.b_g2, g2_lem, G2_LEN),
            encode_all(&self.c, g1_lem, G1_LEN),
            encode_all(&self.h, g1_lem, G1_LEN),
            mpc,
        ];
        let numbered: Vec<(u32, &[u8])> = (1..)
            .zip(&sections)
            .map(|(id, body)| (id, body.as_slice()))
            .collect();
        binfile::write(MAGIC, VERSION, &numbered)
    }

    /// Reads a Groth16 `.zkey` over BN254 (ours or snarkjs's).
    pub fn from_zkey(bytes: &[u8]) -> crate::Result<Phase2> {
        let s = Sections::read(bytes, MAGIC, VERSION, WHAT)?;
        if let Some(id) = s.ids().find(|id| !(1..=10).contains(id)) {
            return Err(malformed(WHAT, &format!("unknown section {id}")));
        }
        let mut r = Reader {
            rest: s.require(1, WHAT)?,
            what: WHAT,
        };
        if r.u32()? != 1 {
            return Err(malformed(WHAT, "not a Groth16 key"));
        }
        r.finish()?;
        let mut h = Reader {
            rest: s.require(2, WHAT)?,
            what: WHAT,
        };
        for m in [modulus::<Fq>(), modulus::<Fr>()] {
            if h.u32()? != 32 || h.take(32)? != m.as_slice() {
                return Err(malformed(WHAT, "not over BN254 (bn128)"));
            }
        }
        let (variables, public, domain) = (h.u32()?, h.u32()?, h.u32()?);
        if public >= variables || !domain.is_power_of_two() || !(2..=MAX_DOMAIN).contains(&domain) {
            return Err(malformed(WHAT, "inconsistent sizes"));
        }
        let point = |e: PointError| malformed(WHAT, &format!("header: {e}"));
        let g1 = |h: &mut Reader<'_>| g1_from_lem(h.take(G1_LEN)?).map_err(point);
        let g2 = |h: &mut Reader<'_>| g2_from_lem(h.take(G2_LEN)?).map_err(point);
        let alpha_g1 = g1(&mut h)?;
        let beta_g1 = g1(&mut h)?;
        let beta_g2 = g2(&mut h)?;
        let gamma_g2 = g2(&mut h)?;
        let delta_g1 = g1(&mut h)?;
        let delta_g2 = g2(&mut h)?;
        h.finish()?;
        let (v, p, d) = (variables as usize, public as usize, domain as usize);
        let g1s = |id: u32, count: usize, section: &str| {
            decode_all(
                s.require(id, WHAT)?,
                count,
                g1_from_lem,
                G1_LEN,
                WHAT,
                section,
            )
        };
        let (cs_hash, contributions) = read_mpc(s.require(10, WHAT)?)?;
        Ok(Phase2 {
            variables: v,
            public: p,
            domain: d,
            alpha_g1,
            beta_g1,
            beta_g2,
            gamma_g2,
            delta_g1,
            delta_g2,
            ic: g1s(3, p + 1, "IC")?,
            coefs: read_coefs(s.require(4, WHAT)?, v, d)?,
            a: g1s(5, v, "A")?,
            b_g1: g1s(6, v, "B1")?,
            b_g2: decode_all(s.require(7, WHAT)?, v, g2_from_lem, G2_LEN, WHAT, "B2")?,
            c: g1s(8, v - p - 1, "C")?,
            h: g1s(9, d, "H")?,
            cs_hash,
            contributions,
        })
    }
}

/// Section 4: the coefficients, each in range of the circuit's sizes.
fn read_coefs(bytes: &[u8], variables: usize, domain: usize) -> crate::Result<Vec<Coef>> {
    let mut r = Reader {
        rest: bytes,
        what: WHAT,
    };
    let count = r.u32()? as usize;
    if Some(r.rest.len()) != count.checked_mul(COEF_LEN) {
        return Err(malformed(
            WHAT,
            &format!("the coefficients section does not hold {count} coefficients"),
        ));
    }
    let r2_inverse = r_squared().inverse().expect("non-zero");
    (0..count)
        .map(|i| {
            let (matrix, constraint, signal) = (r.u32()?, r.u32()?, r.u32()?);
            let word = r.take(32)?;
            let mut limbs = [0u64; 4];
            for (limb, w) in limbs.iter_mut().zip(word.chunks_exact(8)) {
                *limb = u64::from_le_bytes(w.try_into().expect("8-byte chunks"));
            }
            let value = Fr::from_bigint(BigInt(limbs));
            if matrix > 1 || constraint as usize >= domain || signal as usize >= variables {
                return Err(malformed(WHAT, &format!("coefficient {i} is out of range")));
            }
            let value = value.ok_or_else(|| {
                malformed(WHAT, &format!("coefficient {i} is not below the modulus"))
            })?;
            Ok(Coef {
                matrix,
                constraint,
                signal,
                value: value * r2_inverse,
            })
        })
        .collect()
}

/// Section 10: the circuit's hash and the contributions' records.
fn read_mpc(bytes: &[u8]) -> crate::Result<([u8; 64], Vec<Contribution>)> {
    let mut r = Reader {
        rest: bytes,
        what: WHAT,
    };
    let cs_hash: [u8; 64] = r.take(64)?.try_into().expect("64 bytes");
    let count = r.u32()? as usize;
    if count > r.rest.len() / MIN_RECORD {
        return Err(malformed(WHAT, "more contributions than the section holds"));
    }
    let mut list = Vec::with_capacity(count);
    for index in 0..count {
        let bad = |e: PointError| malformed(WHAT, &format!("contribution {index}: {e}"));
        let g1 = |r: &mut Reader<'_>| g1_from_lem(r.take(G1_LEN)?).map_err(bad);
        let delta_after = g1(&mut r)?;
        let s = g1(&mut r)?;
        let s_delta = g1(&mut r)?;
        let r_delta = g2_from_lem(r.take(G2_LEN)?).map_err(bad)?;
        let transcript: [u8; 64] = r.take(64)?.try_into().expect("64 bytes");
        let (name, source) = record::read(&mut r, index)?;
        list.push(Contribution {
            delta_after,
            s,
            s_delta,
            r_delta,
            transcript,
            source,
            name,
        });
    }
    r.finish()?;
    Ok((cs_hash, list))
}
