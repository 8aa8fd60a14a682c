//! The two circuits a policy compiles to, by one general mechanism:
//!
//! - **chunk** (one per `chunk_size` records): the records, given as bits, pack into the leaf
//!   inputs; salted leaves hash to the subtree root, which with the owner (public) hashes to the
//!   chunk root (public); the first `active` (public) slots are real records, each value inside
//!   its column's declared domain (`min`/`max`, dictionary size), and satisfy every rule; the
//!   padding slots after them are zeros wherever a column has an upper bound; the policy's
//!   counters over the real records are added to the running totals hidden in the accumulator
//!   `acc_in` (public) to give `acc_out` (public).
//!   Public inputs: `[policy digest, chunk root, active, owner, acc_in, acc_out]` (the last two
//!   only when the policy has aggregates).
//! - **final** (once, when the policy has aggregates): opens the last accumulator and checks
//!   every aggregate bound; revealed totals are public outputs. Public inputs:
//!   `[policy digest, acc, records, revealed...]`.
//!
//! Every public input is constrained: the policy digest equals the compiled constant (an
//! unconstrained public input would not be bound by Groth16).

use ark_bn254::Fr;
use ark_ff::{Field, Zero};
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use trustspace_data::{Record, Schema};

use crate::gadgets::{self, IntervalTree, Val, enforce_fits};
use crate::pack::Layout;
use crate::policy::{Atom, Policy, Term};
use crate::poseidon::{self, Domain, LEAF_INPUTS};

type R<T> = Result<T, SynthesisError>;

/// Bits of the aggregate-bound decomposition. Both sides of every bound stay below 2^127
/// (records ≤ 2^40, so totals < 2^104; bound values < 2^64; fraction coefficients ≤ 10^12), so
/// their difference has a 128-bit decomposition exactly when it is non-negative.
pub const BOUND_BITS: u32 = 128;

/// What a compiled policy needs in the circuits, shared by every chunk.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub(crate) layout: Layout,
    pub(crate) widths: Vec<u32>,
    /// Per column, its declared domain: least and greatest encodings.
    pub(crate) domains: Vec<(u64, u64)>,
    pub(crate) policy: Policy,
    pub(crate) digest: Fr,
    pub(crate) chunk_size: usize,
    /// Per rule, the interval tree of its `require` if it is a tree atom.
    pub(crate) trees: Vec<Option<IntervalTree>>,
}

impl Compiled {
    /// Prepares a schema and policy for circuits of `chunk_size` records.
    pub fn new(schema: &Schema, policy: &Policy, chunk_size: u64) -> crate::Result<Compiled> {
        let layout = Layout::new(schema)?;
        crate::commit::check_chunk_size(&layout, chunk_size)?;
        if policy.plan().schema_digest != schema.digest() {
            return Err(crate::error::Mismatch::PolicySchema.into());
        }
        let trees = policy
            .plan()
            .rules
            .iter()
            .map(|r| match &r.require {
                Atom::Tree { ranges, .. } => Some(IntervalTree::new(ranges)),
                _ => None,
            })
            .collect();
        Ok(Compiled {
            widths: schema.columns().iter().map(|c| c.width()).collect(),
            domains: schema
                .columns()
                .iter()
                .map(|c| (c.min_encoded(), c.max_encoded()))
                .collect(),
            layout,
            digest: crate::encode::fr_from_digest(&policy.digest()),
            policy: policy.clone(),
            chunk_size: chunk_size as usize,
            trees,
        })
    }

    /// Number of counters (0: no aggregates, no accumulator, no final proof).
    pub fn counters(&self) -> usize {
        self.policy.plan().counters.len()
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Records per chunk.
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size as u64
    }

    /// The layout of records.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The policy digest as a field element (first public input of every proof).
    pub fn digest_fr(&self) -> Fr {
        self.digest
    }
}

/// The accumulator `hash(counters ‖ blinding)` ([`Domain::Accumulator`]); the genesis
/// accumulator has zeros for both.
pub fn accumulator(counters: &[u128], blinding: Fr) -> Fr {
    let mut v: Vec<Fr> = counters.iter().map(|&c| Fr::from(c)).collect();
    v.push(blinding);
    poseidon::hash(Domain::Accumulator, &v)
}

/// The accumulator every chain starts from.
pub fn genesis(counters: usize) -> Fr {
    accumulator(&vec![0; counters], Fr::zero())
}

/// Public inputs of a chunk proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPublic {
    /// Root of the chunk's subtree, bound to the owner.
    pub chunk_root: Fr,
    /// Real records in the chunk.
    pub active: u64,
    /// The dataset's owner ([`owner_fr`](crate::commit::owner_fr)).
    pub owner: Fr,
    /// Accumulator before this chunk (unused without aggregates).
    pub acc_in: Fr,
    /// Accumulator after this chunk (unused without aggregates).
    pub acc_out: Fr,
}

impl ChunkPublic {
    /// The public-input vector in circuit order.
    pub fn inputs(&self, c: &Compiled) -> Vec<Fr> {
        let mut v = vec![c.digest, self.chunk_root, Fr::from(self.active), self.owner];
        if c.counters() > 0 {
            v.extend([self.acc_in, self.acc_out]);
        }
        v
    }
}

/// The chunk circuit with its witness (a dummy all-zero witness serves key generation).
#[derive(Clone)]
pub struct ChunkCircuit<'a> {
    pub(crate) compiled: &'a Compiled,
    pub(crate) records: &'a [Record],
    pub(crate) salts: Vec<Fr>,
    pub(crate) prev: Vec<u128>,
    pub(crate) blind_prev: Fr,
    pub(crate) blind_new: Fr,
    pub(crate) public: ChunkPublic,
}

impl<'a> ChunkCircuit<'a> {
    /// A circuit for key generation (shape only).
    pub fn for_setup(compiled: &'a Compiled) -> Self {
        ChunkCircuit {
            compiled,
            records: &[],
            salts: vec![Fr::zero(); compiled.chunk_size / compiled.layout.records_per_leaf],
            prev: vec![0; compiled.counters()],
            blind_prev: Fr::zero(),
            blind_new: Fr::zero(),
            public: ChunkPublic {
                chunk_root: Fr::zero(),
                active: 0,
                owner: Fr::zero(),
                acc_in: Fr::zero(),
                acc_out: Fr::zero(),
            },
        }
    }
}

impl ConstraintSynthesizer<Fr> for ChunkCircuit<'_> {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> R<()> {
        let c = self.compiled;
        let plan = c.policy.plan();
        let inputs = self.public.inputs(c);
        let public: Vec<FpVar<Fr>> = inputs
            .iter()
            .map(|x| FpVar::new_input(cs.clone(), || Ok(*x)))
            .collect::<R<_>>()?;
        public[0].enforce_equal(&FpVar::Constant(c.digest))?;

        let zero_record: Record = vec![0; c.widths.len()];
        let mut elements: Vec<FpVar<Fr>> =
            Vec::with_capacity(c.chunk_size * c.layout.elements_per_record);
        let mut active: Vec<Boolean<Fr>> = Vec::with_capacity(c.chunk_size);
        let mut partial: Vec<FpVar<Fr>> = vec![FpVar::zero(); plan.counters.len()];
        for i in 0..c.chunk_size {
            let record = self.records.get(i).unwrap_or(&zero_record);
            // Active slots form a prefix of the chunk.
            let a = Boolean::new_witness(cs.clone(), || Ok((i as u64) < self.public.active))?;
            if let Some(prev) = active.last() {
                FpVar::from(a.clone())
                    .mul_equals(&(FpVar::one() - FpVar::from(prev.clone())), &FpVar::zero())?;
            }
            let vals = record
                .iter()
                .zip(&c.widths)
                .zip(&c.domains)
                .map(|((&v, &w), &domain)| Val::record(&cs, v, w, domain, &a))
                .collect::<R<Vec<_>>>()?;
            // Pack: each element is a linear combination of its columns' bits.
            let mut packed = vec![FpVar::<Fr>::zero(); c.layout.elements_per_record];
            for (val, slot) in vals.iter().zip(&c.layout.slots) {
                let shift = Fr::from(2u64).pow([u64::from(slot.offset)]);
                packed[slot.element] += &val.var * shift;
            }
            elements.extend(packed);

            for (rule, tree) in plan.rules.iter().zip(&c.trees) {
                let ok = gadgets::atom(&cs, &rule.require, &vals, tree.as_ref())?;
                let applies = match &rule.when {
                    Some(w) => &a & &gadgets::atom(&cs, w, &vals, None)?,
                    None => a.clone(),
                };
                // applies ⇒ ok
                FpVar::from(applies)
                    .mul_equals(&(FpVar::one() - FpVar::from(ok)), &FpVar::zero())?;
            }
            for (k, counter) in plan.counters.iter().enumerate() {
                let selected = match &counter.filter {
                    Some(f) => &a & &gadgets::atom(&cs, f, &vals, None)?,
                    None => a.clone(),
                };
                partial[k] += match counter.column {
                    None => FpVar::from(selected),
                    Some(col) => FpVar::from(selected) * &vals[col].var,
                };
            }
            active.push(a);
        }
        let count: FpVar<Fr> = active.iter().map(|a| FpVar::from(a.clone())).sum();
        count.enforce_equal(&public[2])?;

        let leaves = elements
            .chunks(LEAF_INPUTS)
            .zip(&self.salts)
            .map(|(inputs, salt)| {
                let s = FpVar::new_witness(cs.clone(), || Ok(*salt))?;
                poseidon::leaf_var(cs.clone(), &s, inputs)
            })
            .collect::<R<Vec<_>>>()?;
        let subtree = poseidon::merkle_root_var(cs.clone(), leaves)?;
        poseidon::hash_var(cs.clone(), Domain::Chunk, &[subtree, public[3].clone()])?
            .enforce_equal(&public[1])?;

        if !plan.counters.is_empty() {
            let prev = self
                .prev
                .iter()
                .map(|&v| FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))))
                .collect::<R<Vec<_>>>()?;
            let bp = FpVar::new_witness(cs.clone(), || Ok(self.blind_prev))?;
            let bn = FpVar::new_witness(cs.clone(), || Ok(self.blind_new))?;
            let mut opened = prev.clone();
            opened.push(bp);
            poseidon::hash_var(cs.clone(), Domain::Accumulator, &opened)?
                .enforce_equal(&public[4])?;
            let mut next: Vec<FpVar<Fr>> = prev.iter().zip(&partial).map(|(p, d)| p + d).collect();
            next.push(bn);
            poseidon::hash_var(cs.clone(), Domain::Accumulator, &next)?
                .enforce_equal(&public[5])?;
        }
        Ok(())
    }
}

/// Public inputs of the final proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalPublic {
    /// The last chunk's accumulator.
    pub acc: Fr,
    /// Records in the dataset.
    pub records: u64,
    /// Revealed values, in the plan's reveal order.
    pub revealed: Vec<u128>,
}

impl FinalPublic {
    /// The public-input vector in circuit order.
    pub fn inputs(&self, c: &Compiled) -> Vec<Fr> {
        let mut v = vec![c.digest, self.acc, Fr::from(self.records)];
        v.extend(self.revealed.iter().map(|&x| Fr::from(x)));
        v
    }
}

/// The final circuit with its witness.
#[derive(Clone)]
pub struct FinalCircuit<'a> {
    pub(crate) compiled: &'a Compiled,
    pub(crate) totals: Vec<u128>,
    pub(crate) blinding: Fr,
    pub(crate) public: FinalPublic,
}

impl<'a> FinalCircuit<'a> {
    /// A circuit for key generation (shape only).
    pub fn for_setup(compiled: &'a Compiled) -> Self {
        FinalCircuit {
            compiled,
            totals: vec![0; compiled.counters()],
            blinding: Fr::zero(),
            public: FinalPublic {
                acc: Fr::zero(),
                records: 0,
                revealed: vec![0; compiled.policy.plan().reveals.len()],
            },
        }
    }
}

impl ConstraintSynthesizer<Fr> for FinalCircuit<'_> {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> R<()> {
        let c = self.compiled;
        let plan = c.policy.plan();
        let public: Vec<FpVar<Fr>> = self
            .public
            .inputs(c)
            .iter()
            .map(|x| FpVar::new_input(cs.clone(), || Ok(*x)))
            .collect::<R<_>>()?;
        public[0].enforce_equal(&FpVar::Constant(c.digest))?;
        let totals = self
            .totals
            .iter()
            .map(|&v| FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))))
            .collect::<R<Vec<_>>>()?;
        let mut opened = totals.clone();
        opened.push(FpVar::new_witness(cs.clone(), || Ok(self.blinding))?);
        poseidon::hash_var(cs.clone(), Domain::Accumulator, &opened)?.enforce_equal(&public[1])?;

        let term = |t: &Term| -> (FpVar<Fr>, u128) {
            match t {
                Term::Counter(i) => (totals[*i].clone(), self.totals[*i]),
                Term::Records => (public[2].clone(), u128::from(self.public.records)),
                Term::One => (FpVar::one(), 1),
            }
        };
        for ineq in &plan.bounds {
            let side = |s: &[(u128, Term)]| -> (FpVar<Fr>, u128) {
                s.iter().fold((FpVar::zero(), 0u128), |(acc, n), (k, t)| {
                    let (v, tn) = term(t);
                    (
                        acc + v * Fr::from(*k),
                        n.saturating_add(k.saturating_mul(tn)),
                    )
                })
            };
            let (l, ln) = side(&ineq.left);
            let (r, rn) = side(&ineq.right);
            enforce_fits(&cs, &(r - l), rn.checked_sub(ln), BOUND_BITS)?;
        }
        for (reveal, input) in plan.reveals.iter().zip(&public[3..]) {
            totals[reveal.counter].enforce_equal(input)?;
        }
        Ok(())
    }
}
