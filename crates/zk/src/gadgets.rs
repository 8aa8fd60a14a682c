//! Constraint gadgets for the policy circuits: width-checked values, comparisons, predicates.
//!
//! Soundness rests on two facts: every record value enters the circuit as its bits (so its width
//! is enforced), and every comparison decomposes `x - y + 2^w` into `w + 1` bits, which is only
//! possible when `x, y < 2^w` and then tells `x >= y` by its top bit. No comparison is ever made
//! on a value whose width is not enforced.

use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};

use crate::policy::{Atom, Op};
use crate::poseidon;

type R<T> = Result<T, SynthesisError>;

/// A width-checked value: its variable, its bits and its native value.
#[derive(Clone)]
pub(crate) struct Val {
    pub var: FpVar<Fr>,
    pub bits: Vec<Boolean<Fr>>,
    pub native: u64,
}

impl Val {
    /// Allocates `value` as `width` witness bits (one constraint each).
    pub fn witness(cs: &ConstraintSystemRef<Fr>, value: u64, width: u32) -> R<Val> {
        let bits = witness_bits(cs, u128::from(value), width)?;
        Ok(Val {
            var: Boolean::le_bits_to_fp(&bits)?,
            bits,
            native: value,
        })
    }
    fn width(&self) -> u32 {
        self.bits.len() as u32
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
    if x.width() == 1 {
        return Ok(if c == 1 {
            x.bits[0].clone()
        } else {
            !&x.bits[0]
        });
    }
    x.var.is_eq(&FpVar::Constant(Fr::from(c)))
}

fn in_interval(cs: &ConstraintSystemRef<Fr>, x: &Val, lo: u64, hi: u64) -> R<Boolean<Fr>> {
    if lo == hi {
        return eq_const(x, lo);
    }
    Ok(&ge_const(cs, x, lo)? & &le_const(cs, x, hi)?)
}

/// The interval tree of a large set: Merkle tree over `hash(lo, hi)` leaves, padded with an
/// empty interval `hash(1, 0)` to a power of two.
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
            .map(|&(lo, hi)| poseidon::hash(&[Fr::from(lo), Fr::from(hi)]))
            .collect();
        level.resize(n, poseidon::hash(&[Fr::from(1u64), Fr::from(0u64)]));
        let mut levels = vec![level];
        while levels.last().expect("one level").len() > 1 {
            let next = levels
                .last()
                .expect("one level")
                .chunks(2)
                .map(|p| poseidon::node(p[0], p[1]))
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

/// `x` lies in one of the tree's intervals: a Merkle path from `hash(lo, hi)` to the root.
fn in_tree(cs: &ConstraintSystemRef<Fr>, x: &Val, tree: &IntervalTree) -> R<Boolean<Fr>> {
    let idx = tree.find(x.native);
    let (lo, hi) = tree.ranges[idx];
    let lo_v = FpVar::new_witness(cs.clone(), || Ok(Fr::from(lo)))?;
    let hi_v = FpVar::new_witness(cs.clone(), || Ok(Fr::from(hi)))?;
    let mut cur = poseidon::hash_var(cs.clone(), &[lo_v.clone(), hi_v.clone()])?;
    let mut pos = idx;
    for level in &tree.levels[..tree.depth()] {
        let sibling = FpVar::new_witness(cs.clone(), || Ok(level[pos ^ 1]))?;
        let is_right = Boolean::new_witness(cs.clone(), || Ok(pos & 1 == 1))?;
        let left = is_right.select(&sibling, &cur)?;
        let right = is_right.select(&cur, &sibling)?;
        cur = poseidon::node_var(cs.clone(), &left, &right)?;
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
