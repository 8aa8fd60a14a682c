//! snarkjs's `.ptau` file: a phase-1 state ([`Phase1`]) in iden3's container
//! ([`crate::binfile`]). Section 1 is the header (field size, the base field's modulus, the
//! power and the ceremony's power), sections 2–6 the powers (`LEM` points,
//! [`crate::encoding`]), section 7 the contributions' records. A prepared file's Lagrange
//! sections (12–15) are accepted and not read: the phase-2 start computes what it needs from
//! the powers. Every point is checked on the curve and in its subgroup, every size against
//! the power.

use ark_bn254::{Fq, G1Affine, G2Affine};
use ark_ff::PrimeField;

use crate::binfile::{self, Reader, Sections, malformed};
use crate::encoding::{
    G1_LEN, G2_LEN, PointError, decode_all, encode_all, g1_from_lem, g1_lem, g2_from_lem, g2_lem,
};
use crate::phase1::{Contribution, KeyPart, MAX_POWER, Phase1, Powers, PublicKey};
use crate::record;

const MAGIC: &[u8; 4] = b"ptau";
const VERSION: u32 = 1;
const WHAT: &str = "ptau file";
/// Section ids of a prepared file's Lagrange evaluations.
const LAGRANGE: std::ops::RangeInclusive<u32> = 12..=15;

/// The base field's modulus, 32 bytes little-endian.
fn modulus_le() -> Vec<u8> {
    Fq::MODULUS
        .0
        .iter()
        .flat_map(|limb| limb.to_le_bytes())
        .collect()
}

impl Phase1 {
    /// The state as a `.ptau` file (sections 1–7, as `snarkjs powersoftau contribute` writes).
    pub fn to_ptau(&self) -> Vec<u8> {
        let mut header = Vec::with_capacity(44);
        header.extend_from_slice(&32u32.to_le_bytes());
        header.extend_from_slice(&modulus_le());
        header.extend_from_slice(&self.power.to_le_bytes());
        header.extend_from_slice(&self.ceremony_power.to_le_bytes());
        let p = &self.powers;
        let sections = [
            header,
            encode_all(&p.tau_g1, g1_lem, G1_LEN),
            encode_all(&p.tau_g2, g2_lem, G2_LEN),
            encode_all(&p.alpha_tau_g1, g1_lem, G1_LEN),
            encode_all(&p.beta_tau_g1, g1_lem, G1_LEN),
            encode_all(std::slice::from_ref(&p.beta_g2), g2_lem, G2_LEN),
            contributions(&self.contributions),
        ];
        let numbered: Vec<(u32, &[u8])> = (1..)
            .zip(&sections)
            .map(|(id, body)| (id, body.as_slice()))
            .collect();
        binfile::write(MAGIC, VERSION, &numbered)
    }

    /// Reads a `.ptau` file (ours or snarkjs's, a Perpetual Powers of Tau file included).
    pub fn from_ptau(bytes: &[u8]) -> crate::Result<Phase1> {
        let s = Sections::read(bytes, MAGIC, VERSION, WHAT)?;
        if let Some(id) = s
            .ids()
            .find(|id| !(1..=7).contains(id) && !LAGRANGE.contains(id))
        {
            return Err(malformed(WHAT, &format!("unknown section {id}")));
        }
        let mut h = Reader {
            rest: s.require(1, WHAT)?,
            what: WHAT,
        };
        if h.u32()? != 32 || h.take(32)? != modulus_le().as_slice() {
            return Err(malformed(WHAT, "not a BN254 (bn128) file"));
        }
        let (power, ceremony_power) = (h.u32()?, h.u32()?);
        h.finish()?;
        if !(1..=MAX_POWER).contains(&power) || !(power..=MAX_POWER).contains(&ceremony_power) {
            return Err(malformed(WHAT, "power out of range"));
        }
        let n = 1usize << power;
        let beta_g2 = decode_all(s.require(6, WHAT)?, 1, g2_from_lem, G2_LEN, WHAT, "beta*G2")?;
        let powers = Powers {
            tau_g1: decode_all(
                s.require(2, WHAT)?,
                2 * n - 1,
                g1_from_lem,
                G1_LEN,
                WHAT,
                "tau*G1",
            )?,
            tau_g2: decode_all(s.require(3, WHAT)?, n, g2_from_lem, G2_LEN, WHAT, "tau*G2")?,
            alpha_tau_g1: decode_all(
                s.require(4, WHAT)?,
                n,
                g1_from_lem,
                G1_LEN,
                WHAT,
                "alpha*tau*G1",
            )?,
            beta_tau_g1: decode_all(
                s.require(5, WHAT)?,
                n,
                g1_from_lem,
                G1_LEN,
                WHAT,
                "beta*tau*G1",
            )?,
            beta_g2: beta_g2[0],
        };
        Ok(Phase1 {
            power,
            ceremony_power,
            powers,
            contributions: read_contributions(s.require(7, WHAT)?)?,
        })
    }
}

fn contributions(list: &[Contribution]) -> Vec<u8> {
    let mut out = (list.len() as u32).to_le_bytes().to_vec();
    for c in list {
        g1_lem(&c.tau_g1, &mut out);
        g2_lem(&c.tau_g2, &mut out);
        g1_lem(&c.alpha_g1, &mut out);
        g1_lem(&c.beta_g1, &mut out);
        g2_lem(&c.beta_g2, &mut out);
        for (_, _, part) in c.key.parts() {
            g1_lem(&part.g1_s, &mut out);
            g1_lem(&part.g1_sx, &mut out);
        }
        for (_, _, part) in c.key.parts() {
            g2_lem(&part.g2_spx, &mut out);
        }
        out.extend_from_slice(&c.partial_hash);
        out.extend_from_slice(&c.next_challenge);
        record::write(c.name.as_ref(), &c.source, &mut out);
    }
    out
}

/// The smallest contribution record (no parameters).
const MIN_RECORD: usize = 3 * G1_LEN + 2 * G2_LEN + 6 * G1_LEN + 3 * G2_LEN + 216 + 64 + 8;

fn read_contributions(bytes: &[u8]) -> crate::Result<Vec<Contribution>> {
    let mut r = Reader {
        rest: bytes,
        what: WHAT,
    };
    let count = r.u32()? as usize;
    if count > r.rest.len() / MIN_RECORD {
        return Err(malformed(WHAT, "more contributions than the section holds"));
    }
    let mut list = Vec::with_capacity(count);
    for index in 0..count {
        let bad = |e: PointError| malformed(WHAT, &format!("contribution {index}: {e}"));
        let g1 = |r: &mut Reader<'_>| -> crate::Result<G1Affine> {
            g1_from_lem(r.take(G1_LEN)?).map_err(bad)
        };
        let g2 = |r: &mut Reader<'_>| -> crate::Result<G2Affine> {
            g2_from_lem(r.take(G2_LEN)?).map_err(bad)
        };
        let tau_g1 = g1(&mut r)?;
        let tau_g2 = g2(&mut r)?;
        let alpha_g1 = g1(&mut r)?;
        let beta_g1 = g1(&mut r)?;
        let beta_g2 = g2(&mut r)?;
        let mut g1s = [G1Affine::default(); 6];
        for p in &mut g1s {
            *p = g1(&mut r)?;
        }
        let mut g2s = [G2Affine::default(); 3];
        for p in &mut g2s {
            *p = g2(&mut r)?;
        }
        let part = |i: usize| KeyPart {
            g1_s: g1s[2 * i],
            g1_sx: g1s[2 * i + 1],
            g2_spx: g2s[i],
        };
        let key = PublicKey {
            tau: part(0),
            alpha: part(1),
            beta: part(2),
        };
        let partial_hash: [u8; 216] = r.take(216)?.try_into().expect("216 bytes");
        let next_challenge: [u8; 64] = r.take(64)?.try_into().expect("64 bytes");
        let (name, source) = record::read(&mut r, index)?;
        list.push(Contribution {
            tau_g1,
            tau_g2,
            alpha_g1,
            beta_g1,
            beta_g2,
            key,
            partial_hash,
            next_challenge,
            source,
            name,
        });
    }
    r.finish()?;
    Ok(list)
}
