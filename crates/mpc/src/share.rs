//! Replicated secret sharing over Z_2^64 among three parties, arithmetic and boolean.
//!
//! A value `x` is split as `x = x0 + x1 + x2 (mod 2^64)` (arithmetic) or `x = x0 ^ x1 ^ x2`
//! (boolean, bitwise); party `i` holds the pair `(x_i, x_{i+1})`, so any two parties can
//! reconstruct and any one party sees only uniformly random values. Shares are vectors: every
//! operation works on a whole column at once, which is what makes one round trip per
//! multiplication cheap.
//!
//! Local operations (no communication) live here; those that talk live in [`crate::engine`].

use rand::{CryptoRng, RngCore};

/// Which algebra a sharing lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Additive mod 2^64.
    Arithmetic,
    /// Bitwise XOR.
    Boolean,
}

/// One party's shares of a vector: `a[k] = x_i[k]`, `b[k] = x_{i+1}[k]` for party `i`.
#[derive(Clone, PartialEq, Eq)]
pub struct Shares {
    /// Which algebra.
    pub kind: Kind,
    /// This party's first component, `x_i`.
    pub a: Vec<u64>,
    /// This party's second component, `x_{i+1}`.
    pub b: Vec<u64>,
}

impl std::fmt::Debug for Shares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Shares are not secret one by one, but printing them invites mistakes; show the shape.
        write!(f, "Shares({:?}, {} values)", self.kind, self.a.len())
    }
}

impl Shares {
    /// Number of shared values.
    pub fn len(&self) -> usize {
        self.a.len()
    }

    /// Whether no values are shared.
    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }

    /// The all-zero sharing of `n` values (no randomness needed: any sharing of zero works as
    /// an additive identity).
    pub fn zeros(kind: Kind, n: usize) -> Shares {
        Shares {
            kind,
            a: vec![0; n],
            b: vec![0; n],
        }
    }

    /// A public vector as a (non-random) sharing: it sits in component `x0`.
    pub fn public(kind: Kind, me: usize, values: &[u64]) -> Shares {
        let n = values.len();
        let (a, b) = match me {
            0 => (values.to_vec(), vec![0; n]),
            2 => (vec![0; n], values.to_vec()),
            _ => (vec![0; n], vec![0; n]),
        };
        Shares { kind, a, b }
    }

    /// Values `k` of `self` for `k` in `range`.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Shares {
        Shares {
            kind: self.kind,
            a: self.a[range.clone()].to_vec(),
            b: self.b[range].to_vec(),
        }
    }

    /// `self` followed by `other`.
    pub fn concat(parts: &[&Shares]) -> Shares {
        let kind = parts.first().map_or(Kind::Arithmetic, |p| p.kind);
        let mut out = Shares::zeros(kind, 0);
        for p in parts {
            debug_assert_eq!(p.kind, kind);
            out.a.extend_from_slice(&p.a);
            out.b.extend_from_slice(&p.b);
        }
        out
    }

    fn zip(&self, other: &Shares, f: impl Fn(u64, u64) -> u64) -> Shares {
        assert_eq!(
            self.kind, other.kind,
            "mixing arithmetic and boolean shares"
        );
        assert_eq!(self.len(), other.len(), "shares of different lengths");
        Shares {
            kind: self.kind,
            a: self
                .a
                .iter()
                .zip(&other.a)
                .map(|(x, y)| f(*x, *y))
                .collect(),
            b: self
                .b
                .iter()
                .zip(&other.b)
                .map(|(x, y)| f(*x, *y))
                .collect(),
        }
    }

    /// Sum (arithmetic) or XOR (boolean) of two sharings.
    pub fn add(&self, other: &Shares) -> Shares {
        match self.kind {
            Kind::Arithmetic => self.zip(other, u64::wrapping_add),
            Kind::Boolean => self.zip(other, |x, y| x ^ y),
        }
    }

    /// Difference of two arithmetic sharings.
    pub fn sub(&self, other: &Shares) -> Shares {
        assert_eq!(self.kind, Kind::Arithmetic);
        self.zip(other, u64::wrapping_sub)
    }

    /// Adds (XORs) a public value to every element: only component `x0` changes.
    pub fn add_public(&self, me: usize, c: &[u64]) -> Shares {
        self.add(&Shares::public(self.kind, me, c))
    }

    /// Multiplies every element by a public constant (arithmetic), or ANDs with a public mask
    /// (boolean).
    pub fn scale(&self, c: u64) -> Shares {
        let f = |x: &u64| match self.kind {
            Kind::Arithmetic => x.wrapping_mul(c),
            Kind::Boolean => x & c,
        };
        Shares {
            kind: self.kind,
            a: self.a.iter().map(f).collect(),
            b: self.b.iter().map(f).collect(),
        }
    }

    /// `c - x` for a public `c` (arithmetic).
    pub fn public_minus(&self, me: usize, c: u64) -> Shares {
        self.scale(u64::MAX) // -x
            .add_public(me, &vec![c; self.len()])
    }

    /// Sum of all elements (arithmetic): a sharing of one value.
    pub fn sum(&self) -> Shares {
        assert_eq!(self.kind, Kind::Arithmetic);
        Shares {
            kind: self.kind,
            a: vec![self.a.iter().fold(0u64, |s, x| s.wrapping_add(*x))],
            b: vec![self.b.iter().fold(0u64, |s, x| s.wrapping_add(*x))],
        }
    }
}

/// Splits `values` into the three parties' shares, as a data holder does (fresh randomness per
/// value): element `i` of the result goes to party `i`.
pub fn split<R: RngCore + CryptoRng>(kind: Kind, values: &[u64], rng: &mut R) -> [Shares; 3] {
    let n = values.len();
    let x0: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    let x1: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    let x2: Vec<u64> = values
        .iter()
        .zip(x0.iter().zip(&x1))
        .map(|(v, (a, b))| match kind {
            Kind::Arithmetic => v.wrapping_sub(*a).wrapping_sub(*b),
            Kind::Boolean => v ^ a ^ b,
        })
        .collect();
    let xs = [x0, x1, x2];
    std::array::from_fn(|i| Shares {
        kind,
        a: xs[i].clone(),
        b: xs[(i + 1) % 3].clone(),
    })
}

/// Reconstructs values from all three parties' shares, checking that the replicated components
/// agree (the redundancy that exposes a party holding or sending inconsistent shares). Returns
/// `None` if they do not.
pub fn reconstruct(parts: &[Shares; 3]) -> Option<Vec<u64>> {
    let n = parts[0].len();
    if parts
        .iter()
        .any(|p| p.len() != n || p.kind != parts[0].kind)
    {
        return None;
    }
    for i in 0..3 {
        if parts[i].b != parts[(i + 1) % 3].a {
            return None;
        }
    }
    Some(
        (0..n)
            .map(|k| match parts[0].kind {
                Kind::Arithmetic => parts[0].a[k]
                    .wrapping_add(parts[1].a[k])
                    .wrapping_add(parts[2].a[k]),
                Kind::Boolean => parts[0].a[k] ^ parts[1].a[k] ^ parts[2].a[k],
            })
            .collect(),
    )
}

/// Transposes 64-bit words into bit planes: bit `j` of element `k` becomes bit `k % 64` of word
/// `k / 64` of plane `j`. A linear (XOR-compatible) map, applied to each share component alone.
pub fn to_planes(words: &[u64]) -> Vec<Vec<u64>> {
    let blocks = words.len().div_ceil(64);
    let mut planes = vec![vec![0u64; blocks]; 64];
    for (k, w) in words.iter().enumerate() {
        let (blk, bit) = (k / 64, k % 64);
        let mut v = *w;
        while v != 0 {
            let j = v.trailing_zeros() as usize;
            planes[j][blk] |= 1 << bit;
            v &= v - 1;
        }
    }
    planes
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn split_reconstruct_and_local_ops() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let x = [5u64, u64::MAX, 0, 1 << 63];
        let y = [7u64, 1, 0, 1 << 63];
        let sx = split(Kind::Arithmetic, &x, &mut rng);
        let sy = split(Kind::Arithmetic, &y, &mut rng);
        assert_eq!(reconstruct(&sx).unwrap(), x);
        // No single party's pair determines x: component a of party 0 is uniformly random.
        assert_ne!(sx[0].a, x.to_vec());
        let sum: [Shares; 3] = std::array::from_fn(|i| sx[i].add(&sy[i]));
        let expect: Vec<u64> = x.iter().zip(&y).map(|(a, b)| a.wrapping_add(*b)).collect();
        assert_eq!(reconstruct(&sum).unwrap(), expect);
        let c: [Shares; 3] = std::array::from_fn(|i| sx[i].public_minus(i, 10));
        let expect: Vec<u64> = x.iter().map(|v| 10u64.wrapping_sub(*v)).collect();
        assert_eq!(reconstruct(&c).unwrap(), expect);
        let total: [Shares; 3] = std::array::from_fn(|i| sx[i].sum());
        assert_eq!(
            reconstruct(&total).unwrap(),
            vec![x.iter().fold(0u64, |s, v| s.wrapping_add(*v))]
        );
        // Inconsistent replicas are detected.
        let mut bad = sx.clone();
        bad[1].a[2] ^= 1;
        assert!(reconstruct(&bad).is_none());
    }

    #[test]
    fn planes_are_a_transpose() {
        let words: Vec<u64> = (0..130u64)
            .map(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let p = to_planes(&words);
        for (k, w) in words.iter().enumerate() {
            for (j, plane) in p.iter().enumerate() {
                assert_eq!((plane[k / 64] >> (k % 64)) & 1, (w >> j) & 1);
            }
        }
    }
}
