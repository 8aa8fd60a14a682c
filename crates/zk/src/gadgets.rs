//! Constraint gadgets for the policy circuits: width-checked values, comparisons, predicates.
//!
//! Soundness rests on two facts: every record value enters the circuit as the bits of its offset
//! in its column's declared domain, checked against the domain's upper end (so a real record's
//! value lies in its domain, which is inside its width), and every comparison decomposes
//! `x - y + 2^w` into `w + 1` bits, which is only possible when `x, y < 2^w` and then tells
//! `x >= y` by its top bit. No comparison is ever made on a value whose width is not enforced.

use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};

use crate::policy::{Atom, Op};
use crate::poseidon::{self, Domain};

type R<T> = Result<T, SynthesisError>;

/// A record value in its domain: its variable, its column's width (the value is below
/// `2^width`), the value as a [`Boolean`] for a one-bit column, and its native value.
#[derive(Clone)]
pub(crate) struct Val {
    pub var: FpVar<Fr>,
    width: u32,
    unit: Option<Boolean<Fr>>,
    pub native: u64,
}

impl Val {
    /// Allocates a record's value of a column `width` bits wide whose declared domain is
    /// `lo ..= hi` (encodings: `min`/`max`, a dictionary's size). The value is `lo·a + offset`,
    /// `a` the record's `active` flag and `offset` given as `k` bits, `k` the width of
    /// `hi - lo`; where the offsets' range `[0, 2^k)` passes `hi`, `hi·a - value` is also
    /// decomposed into `k` bits. So a real record's value lies in `lo ..= hi`, and a padding
    /// record's is below `2^k`, and zero wherever the domain has that upper check (padding
    /// records are zeros). `k` constraints, plus `k + 1` for the upper check: a domain narrower
    /// than the width makes a value cheaper, and only a bound that is not a power of two from
    /// `lo` costs extra.
    pub fn record(
        cs: &ConstraintSystemRef<Fr>,
        value: u64,
        width: u32,
        (lo, hi): (u64, u64),
        active: &Boolean<Fr>,
    ) -> R<Val> {
        let k = u64::BITS - (hi - lo).leading_zeros();
        // Native values only steer the witness (in setup mode there are none). A value outside
        // its domain has no offset: any bits will do, and the constraints fail.
        let on = active.value().unwrap_or(false);
        let offset = if on { value.wrapping_sub(lo) } else { value };
        let bits = witness_bits(cs, u128::from(offset), k)?;
        let a = FpVar::from(active.clone());
        let bits_value = if bits.is_empty() {
            FpVar::zero()
        } else {
            Boolean::le_bits_to_fp(&bits)?
        };
        let var = bits_value + &a * Fr::from(lo);
        if hi - lo < max_of(k) {
            let native = if on {
                hi.checked_sub(value)
            } else {
                (value == 0).then_some(0)
            };
            enforce_fits(cs, &(&a * Fr::from(hi) - &var), native.map(u128::from), k)?;
        }
        let unit = (width == 1 && lo == 0 && k == 1).then(|| bits[0].clone());
        Ok(Val {
            var,
            width,
            unit,
            native: value,
        })
    }

    fn width(&self) -> u32 {
        self.width
    }
}

/// `width` little-endian witness bits of `value`.
pub(crate) fn witness_bits(
    cs: &ConstraintSystemRef<Fr>,
    value: u128,
    width: u32,
) -> R<Vec<Boolean<Fr>>> {
    (0..width)
        .map(|i| Boolean::new_witness(cs.clone(), || Ok(i < 128 && (value >> i) & 1 == 1)))
        .collect()
}

/// Enforces `x - y` in `[0, 2^w)` given `diff` = its native value (`None` if negative);
/// used by the aggregate bounds.
pub(crate) fn enforce_fits(
    cs: &ConstraintSystemRef<Fr>,
    d: &FpVar<Fr>,
    native: Option<u128>,
    w: u32,
) -> R<()> {
    // A negative difference has no w-bit decomposition; allocate anything and fail.
    let bits = witness_bits(cs, native.unwrap_or(0), w)?;
    Boolean::le_bits_to_fp(&bits)?.enforce_equal(d)
}

/// `x >= y` for `x, y < 2^w` (natively `xn`, `yn`): `w + 2` constraints.
fn is_ge(
    cs: &ConstraintSystemRef<Fr>,
    x: &FpVar<Fr>,
    xn: u64,
    y: &FpVar<Fr>,
    yn: u64,
    w: u32,
) -> R<Boolean<Fr>> {
    let shift = Fr::from(2u64).pow([u64::from(w)]);
    let t = x - y + FpVar::Constant(shift);
    let tn = (u128::from(xn) + (1u128 << w)).wrapping_sub(u128::from(yn));
    let bits = witness_bits(cs, tn, w + 1)?;
    Boolean::le_bits_to_fp(&bits)?.enforce_equal(&t)?;
    Ok(bits[w as usize].clone())
}

fn max_of(w: u32) -> u64 {
    if w == 64 { u64::MAX } else { (1u64 << w) - 1 }
}

/// `x >= c` for a width-checked `x` and a constant `c`.
fn ge_const(cs: &ConstraintSystemRef<Fr>, x: &Val, c: u64) -> R<Boolean<Fr>> {
    if c == 0 {
        return Ok(Boolean::TRUE);
    }
    if c > max_of(x.width()) {
        return Ok(Boolean::FALSE);
    }
    is_ge(
        cs,
        &x.var,
        x.native,
        &FpVar::Constant(Fr::from(c)),
        c,
        x.width(),
    )
}

/// `x <= c`.
fn le_const(cs: &ConstraintSystemRef<Fr>, x: &Val, c: u64) -> R<Boolean<Fr>> {
    match c.checked_add(1) {
        None => Ok(Boolean::TRUE),
        Some(c1) => Ok(!&ge_const(cs, x, c1)?),
    }
}

fn eq_const(x: &Val, c: u64) -> R<Boolean<Fr>> {
    if c > max_of(x.width()) {
        return Ok(Boolean::FALSE);
    }
    if let Some(bit) = &x.unit {
        return Ok(if c == 1 { bit.clone() } else { !bit });
    }
    x.var.is_eq(&FpVar::Constant(Fr::from(c)))
}

fn in_interval(cs: &ConstraintSystemRef<Fr>, x: &Val, lo: u64, hi: u64) -> R<Boolean<Fr>> {
    if lo == hi {
        return eq_const(x, lo);
    }
    Ok(&ge_const(cs, x, lo)? & &le_const(cs, x, hi)?)
}

/// The interval tree of a large set: Merkle tree ([`Domain::IntervalNode`]) over
/// `hash(lo, hi)` leaves ([`Domain::IntervalLeaf`]), padded with an empty interval
/// `hash(1, 0)` to a power of two.
#[derive(Debug, Clone)]
pub(crate) struct IntervalTree {
    pub ranges: Vec<(u64, u64)>,
    pub levels: Vec<Vec<Fr>>,
}

impl IntervalTree {
    pub fn new(ranges: &[(u64, u64)]) -> IntervalTree {
        let n = ranges.len().next_power_of_two();
        let mut level: Vec<Fr> = ranges
            .iter()
            .map(|&(lo, hi)| interval_leaf(lo, hi))
            .collect();
        level.resize(n, interval_leaf(1, 0));
        let mut levels = vec![level];
        while levels.last().expect("one level").len() > 1 {
            let next = levels
                .last()
                .expect("one level")
                .chunks(2)
                .map(|p| poseidon::hash(Domain::IntervalNode, &[p[0], p[1]]))
                .collect();
            levels.push(next);
        }
        IntervalTree {
            ranges: ranges.to_vec(),
            levels,
        }
    }
    pub fn root(&self) -> Fr {
        self.levels.last().expect("one level")[0]
    }
    fn depth(&self) -> usize {
        self.levels.len() - 1
    }
    /// The interval containing `x`, or the first one (any genuine leaf keeps the constraints
    /// well-defined; membership then fails as it should).
    fn find(&self, x: u64) -> usize {
        let i = self.ranges.partition_point(|&(lo, _)| lo <= x);
        if i > 0 && x <= self.ranges[i - 1].1 {
            i - 1
        } else {
            0
        }
    }
}

/// An interval tree's leaf ([`Domain::IntervalLeaf`]).
fn interval_leaf(lo: u64, hi: u64) -> Fr {
    poseidon::hash(Domain::IntervalLeaf, &[Fr::from(lo), Fr::from(hi)])
}

/// `x` lies in one of the tree's intervals: a Merkle path from `hash(lo, hi)` to the root.
fn in_tree(cs: &ConstraintSystemRef<Fr>, x: &Val, tree: &IntervalTree) -> R<Boolean<Fr>> {
    let idx = tree.find(x.native);
    let (lo, hi) = tree.ranges[idx];
    let lo_v = FpVar::new_witness(cs.clone(), || Ok(Fr::from(lo)))?;
    let hi_v = FpVar::new_witness(cs.clone(), || Ok(Fr::from(hi)))?;
    let mut cur = poseidon::hash_var(
        cs.clone(),
        Domain::IntervalLeaf,
        &[lo_v.clone(), hi_v.clone()],
    )?;
    let mut pos = idx;
    for level in &tree.levels[..tree.depth()] {
        let sibling = FpVar::new_witness(cs.clone(), || Ok(level[pos ^ 1]))?;
        let is_right = Boolean::new_witness(cs.clone(), || Ok(pos & 1 == 1))?;
        let left = is_right.select(&sibling, &cur)?;
        let right = is_right.select(&cur, &sibling)?;
        cur = poseidon::hash_var(cs.clone(), Domain::IntervalNode, &[left, right])?;
        pos >>= 1;
    }
    let genuine = cur.is_eq(&FpVar::Constant(tree.root()))?;
    // lo and hi are below 2^w whenever the leaf is genuine (the tree was built from encodings).
    let w = x.width();
    let ge = is_ge(cs, &x.var, x.native, &lo_v, lo, w)?;
    let le = is_ge(cs, &hi_v, hi, &x.var, x.native, w)?;
    Ok(&(&genuine & &ge) & &le)
}

/// Evaluates a compiled predicate on a record's values.
pub(crate) fn atom(
    cs: &ConstraintSystemRef<Fr>,
    a: &Atom,
    vals: &[Val],
    tree: Option<&IntervalTree>,
) -> R<Boolean<Fr>> {
    match a {
        Atom::Const { column, op, value } => {
            let x = &vals[*column];
            match op {
                Op::Eq => eq_const(x, *value),
                Op::Ne => Ok(!&eq_const(x, *value)?),
                Op::Ge => ge_const(cs, x, *value),
                Op::Lt => Ok(!&ge_const(cs, x, *value)?),
                Op::Le => le_const(cs, x, *value),
                Op::Gt => Ok(!&le_const(cs, x, *value)?),
            }
        }
        Atom::Columns { left, op, right } => {
            let (x, y) = (&vals[*left], &vals[*right]);
            let w = x.width().max(y.width());
            match op {
                Op::Eq => x.var.is_eq(&y.var),
                Op::Ne => x.var.is_neq(&y.var),
                Op::Ge => is_ge(cs, &x.var, x.native, &y.var, y.native, w),
                Op::Lt => Ok(!&is_ge(cs, &x.var, x.native, &y.var, y.native, w)?),
                Op::Le => is_ge(cs, &y.var, y.native, &x.var, x.native, w),
                Op::Gt => Ok(!&is_ge(cs, &y.var, y.native, &x.var, x.native, w)?),
            }
        }
        Atom::Intervals { column, ranges } => {
            let x = &vals[*column];
            let parts = ranges
                .iter()
                .map(|&(lo, hi)| in_interval(cs, x, lo, hi))
                .collect::<R<Vec<_>>>()?;
            match parts.len() {
                0 => Ok(Boolean::FALSE),
                1 => Ok(parts[0].clone()),
                _ => Boolean::kary_or(&parts),
            }
        }
        Atom::Tree { column, .. } => in_tree(
            cs,
            &vals[*column],
            tree.expect("tree atoms come with their tree"),
        ),
    }
}
