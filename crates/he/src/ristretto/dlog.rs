//! Decryption's last step: find the total `S` from the point `S·G`, by baby-step giant-step over
//! `0..=max_total`, with a precomputed table that is built once and reused for every total.
//!
//! With `m = 2^baby_bits` baby steps the table holds `j·G` for `j < m`; a search walks the giant
//! steps `T - i·(m·G)` for `i < ceil((max_total+1)/m)` until one is in the table, and then
//! `S = i·m + j`. Points are looked up by the first 8 bytes of the canonical encoding of their
//! double, `2P`: doubling is a bijection on the prime-order ristretto255 group, and
//! curve25519-dalek encodes doubled points in batches (`double_and_compress_batch`) with one
//! field inversion per batch, about 5× cheaper than encoding points one by one. A tag match is
//! confirmed with `S·G == T` before it is returned, so tag collisions cannot yield a wrong total.
//!
//! The default split ([`DlogTable::new`]) is `baby_bits = min(22, ceil(bits/2) + 2)`, which for
//! a 40-bit bound is 2^22 baby steps (a table of about 52 MB, built in a few seconds) and 2^18
//! giant steps (a worst-case search of about 0.2 s on one core; both phases use every core).

use std::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity};
use rayon::prelude::*;

use super::range::MAX_TOTAL;
use crate::error::{HeError, Result};

/// Largest baby-step table: 2^26 entries (about 800 MB).
pub const MAX_BABY_BITS: u32 = 26;

/// Points handled per batch (one field inversion each).
const BATCH: usize = 1024;

/// A precomputed baby-step table for totals in `0..=max_total`.
pub struct DlogTable {
    max_total: u64,
    baby_bits: u32,
    giant_steps: u64,
    giant_step: RistrettoPoint,
    bucket_bits: u32,
    starts: Vec<u32>,
    tags: Vec<u64>,
    steps: Vec<u32>,
}

impl fmt::Debug for DlogTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DlogTable")
            .field("max_total", &self.max_total)
            .field("baby_steps", &(1u64 << self.baby_bits))
            .field("giant_steps", &self.giant_steps)
            .finish()
    }
}

fn tag(c: &CompressedRistretto) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&c.as_bytes()[..8]);
    u64::from_le_bytes(b)
}

/// Tags of the doubles of `points`, encoded in one batch. The batch formula divides by a value
/// that is zero exactly for the identity (which would spoil the whole batch's shared
/// inversion), so identities are swapped for the base point in the batch and given the
/// identity's own tag (its encoding is all zeros).
fn double_tags(points: &mut [RistrettoPoint]) -> Vec<u64> {
    let identities: Vec<usize> = points
        .iter()
        .enumerate()
        .filter_map(|(k, p)| p.is_identity().then_some(k))
        .collect();
    for &k in &identities {
        points[k] = RISTRETTO_BASEPOINT_POINT;
    }
    let mut tags: Vec<u64> = RistrettoPoint::double_and_compress_batch(points.iter())
        .iter()
        .map(tag)
        .collect();
    for &k in &identities {
        tags[k] = tag(&CompressedRistretto::identity());
    }
    tags
}

fn bits_of(v: u64) -> u32 {
    64 - v.leading_zeros()
}

impl DlogTable {
    /// A table for totals up to `max_total`, with the default baby/giant split.
    pub fn new(max_total: u64) -> Result<Self> {
        let bits = bits_of(max_total.saturating_add(1)).max(1);
        DlogTable::with_baby_bits(max_total, (bits.div_ceil(2) + 2).clamp(4, 22))
    }

    /// A table for totals up to `max_total` with `2^baby_bits` baby steps: more baby steps make
    /// the table larger and slower to build, and each search faster.
    pub fn with_baby_bits(max_total: u64, baby_bits: u32) -> Result<Self> {
        if max_total > MAX_TOTAL {
            return Err(HeError::TotalBound {
                what: "discrete-log table".into(),
                bound: u128::from(max_total),
                limit: u128::from(MAX_TOTAL),
                hint: "split the sum into several totals",
            });
        }
        if !(1..=MAX_BABY_BITS).contains(&baby_bits) {
            return Err(HeError::InvalidParameter {
                what: "baby_bits",
                reason: format!("{baby_bits} is outside 1..={MAX_BABY_BITS}"),
            });
        }
        let m = 1u64 << baby_bits;
        // Baby steps j·G for j < m, computed in parallel runs, encoded as tags of 2·j·G.
        let runs = (m as usize).div_ceil(BATCH);
        let mut entries: Vec<(u64, u32)> = (0..runs)
            .into_par_iter()
            .flat_map_iter(|run| {
                let start = (run * BATCH) as u64;
                let len = BATCH.min((m - start) as usize);
                let mut p = RistrettoPoint::mul_base(&Scalar::from(start));
                let mut points = Vec::with_capacity(len);
                for _ in 0..len {
                    points.push(p);
                    p += RISTRETTO_BASEPOINT_POINT;
                }
                double_tags(&mut points)
                    .into_iter()
                    .enumerate()
                    .map(move |(k, t)| (t, (start as u32).wrapping_add(k as u32)))
                    .collect::<Vec<_>>()
            })
            .collect();
        entries.par_sort_unstable_by_key(|e| e.0);
        let bucket_bits = baby_bits.saturating_sub(2).max(1);
        let mut starts = vec![0u32; (1usize << bucket_bits) + 1];
        for (t, _) in &entries {
            starts[(t >> (64 - bucket_bits)) as usize + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        let (tags, steps) = entries.into_iter().unzip();
        Ok(DlogTable {
            max_total,
            baby_bits,
            giant_steps: (max_total / m) + 1,
            giant_step: RistrettoPoint::mul_base(&Scalar::from(m)),
            bucket_bits,
            starts,
            tags,
            steps,
        })
    }

    /// The largest total this table finds.
    pub fn max_total(&self) -> u64 {
        self.max_total
    }

    /// Memory held by the table, in bytes.
    pub fn size_bytes(&self) -> usize {
        self.tags.len() * 12 + self.starts.len() * 4
    }

    fn candidates(&self, t: u64) -> impl Iterator<Item = u32> + '_ {
        let b = (t >> (64 - self.bucket_bits)) as usize;
        let (lo, hi) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        (lo..hi)
            .filter(move |&k| self.tags[k] == t)
            .map(move |k| self.steps[k])
    }

    /// Finds `s <= max_total` with `s·G == target`, or `None` if there is none.
    pub fn find(&self, target: &RistrettoPoint) -> Option<u64> {
        let m = 1u64 << self.baby_bits;
        let runs = self.giant_steps.div_ceil(BATCH as u64);
        (0..runs).into_par_iter().find_map_any(|run| {
            let first = run * BATCH as u64;
            let len = (BATCH as u64).min(self.giant_steps - first) as usize;
            let mut q = target - self.giant_step * Scalar::from(first);
            let mut points = Vec::with_capacity(len);
            for _ in 0..len {
                points.push(q);
                q -= self.giant_step;
            }
            let tags = double_tags(&mut points);
            tags.iter().enumerate().find_map(|(k, &t)| {
                let i = first + k as u64;
                self.candidates(t).find_map(|j| {
                    let s = i.checked_mul(m)?.checked_add(u64::from(j))?;
                    (s <= self.max_total && RistrettoPoint::mul_base(&Scalar::from(s)) == *target)
                        .then_some(s)
                })
            })
        })
    }
}
