//! Proving: key generation, chunk and final proofs, and the whole-dataset driver.
//!
//! A dataset is proven chunk by chunk. A cheap native pass first checks every record against the
//! policy (so a non-compliant dataset fails with the record and rule, not with an unsatisfiable
//! circuit) and computes the running totals before each chunk; then every chunk proof depends
//! only on its own records and those totals, so chunks prove in parallel, in any order, on any
//! machine ([`Prover::prove_chunk`]), and [`Prover::finish`] assembles the bundle.

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, ProvingKey, VerifyingKey};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisMode,
};
use ark_snark::SNARK;
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use trustspace_data::Record;

use crate::bundle::{ChunkProof, FinalProof, ProofBundle, Revealed, proof_to_hex};
use crate::circuit::{
    ChunkCircuit, ChunkPublic, Compiled, FinalCircuit, FinalPublic, accumulator, genesis,
};
use crate::commit::{Commitment, Opening, chunk_root};
use crate::digests::circuit_digest;
use crate::error::{DatasetProblem, Mismatch, ParameterProblem, Result, Unsatisfied, ZkError};
use crate::keys::{ProvingKeys, VerifyingKeys};

/// A cryptographic RNG behind a trait object. The public functions below are generic over the
/// caller's RNG but hand it on as `&mut dyn CryptoRand`, so arkworks' setup and prover are
/// compiled once, here, and not again in every crate, test and example that calls them (each
/// such copy cost tens of seconds of build time). The draws are the caller's RNG's, unchanged.
trait CryptoRand: RngCore + CryptoRng {}

impl<T: RngCore + CryptoRng + ?Sized> CryptoRand for T {}

/// Generates the proving and verifying keys of a compiled policy (circuit-specific Groth16
/// setup; whoever runs it must be trusted to discard its randomness).
pub fn setup<R: RngCore + CryptoRng>(
    compiled: &Compiled,
    rng: &mut R,
) -> Result<(ProvingKeys, VerifyingKeys)> {
    setup_with(compiled, rng)
}

fn setup_with(
    compiled: &Compiled,
    mut rng: &mut dyn CryptoRand,
) -> Result<(ProvingKeys, VerifyingKeys)> {
    let (chunk_pk, chunk_vk) =
        Groth16::<Bn254>::circuit_specific_setup(ChunkCircuit::for_setup(compiled), &mut rng)?;
    let (final_pk, final_vk) = if compiled.counters() > 0 {
        let (p, v) =
            Groth16::<Bn254>::circuit_specific_setup(FinalCircuit::for_setup(compiled), &mut rng)?;
        (Some(p), Some(v))
    } else {
        (None, None)
    };
    let digests = circuit_digest(compiled);
    Ok((
        ProvingKeys {
            digests: digests.clone(),
            chunk: chunk_pk,
            final_: final_pk,
        },
        VerifyingKeys::new(compiled, digests, chunk_vk, final_vk),
    ))
}

/// The verifying keys of a compiled policy whose circuits' Groth16 keys were made elsewhere
/// (a ceremony, in place of [`setup`]'s random trapdoor): `chunk` and `final_` (policies with
/// aggregates) with the circuits' digests and the policy fields [`setup`] gives.
pub fn verifying_keys_for(
    compiled: &Compiled,
    chunk: VerifyingKey<Bn254>,
    final_: Option<VerifyingKey<Bn254>>,
) -> VerifyingKeys {
    VerifyingKeys::new(compiled, circuit_digest(compiled), chunk, final_)
}

/// The policy's circuits (chunk, and final for policies with aggregates) synthesized for setup
/// and finalized: their sizes and matrices.
pub fn setup_systems(
    compiled: &Compiled,
) -> Result<(ConstraintSystemRef<Fr>, Option<ConstraintSystemRef<Fr>>)> {
    let chunk = synthesized(ChunkCircuit::for_setup(compiled))?;
    let final_ = if compiled.counters() > 0 {
        Some(synthesized(FinalCircuit::for_setup(compiled))?)
    } else {
        None
    };
    Ok((chunk, final_))
}

/// `circuit` synthesized for setup and finalized (the constraint system Groth16's generator
/// builds).
pub fn synthesized(circuit: impl ConstraintSynthesizer<Fr>) -> Result<ConstraintSystemRef<Fr>> {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();
    Ok(cs)
}

/// Per-chunk counter contributions of `records`, checking each record against schema and rules.
fn scan(compiled: &Compiled, first_index: u64, records: &[Record]) -> Result<Vec<u128>> {
    let plan = compiled.policy.plan();
    let mut partial = vec![0u128; plan.counters.len()];
    for (i, r) in records.iter().enumerate() {
        let index = first_index + i as u64;
        if r.len() != compiled.widths.len() {
            return Err(DatasetProblem::Values {
                record: index,
                values: r.len(),
            }
            .into());
        }
        for (&v, &w) in r.iter().zip(&compiled.widths) {
            if w < 64 && v >> w != 0 {
                return Err(DatasetProblem::TooWide { record: index }.into());
            }
        }
        if let Some(rule) = compiled.policy.first_broken(r) {
            return Err(ZkError::Unsatisfied(Unsatisfied::Rule {
                record: index,
                rule: rule.name.clone(),
            }));
        }
        for (k, c) in plan.counters.iter().enumerate() {
            partial[k] += c.contribution(r);
        }
    }
    Ok(partial)
}

/// Proves one dataset against one commitment.
pub struct Prover<'a> {
    compiled: &'a Compiled,
    keys: Option<&'a ProvingKeys>,
    commitment: &'a Commitment,
    opening: &'a Opening,
    /// Totals before each chunk, and after the last.
    pub(crate) totals: Vec<Vec<u128>>,
}

impl<'a> Prover<'a> {
    /// Checks the keys against the policy, and the commitment parameters against the compiled
    /// circuit. Feed every chunk's records to [`Prover::scan_chunk`] in order before proving.
    pub fn new(
        compiled: &'a Compiled,
        keys: &'a ProvingKeys,
        commitment: &'a Commitment,
        opening: &'a Opening,
    ) -> Result<Prover<'a>> {
        if keys.digests != circuit_digest(compiled) {
            return Err(Mismatch::ProvingKeys.into());
        }
        let mut p = Prover::unkeyed(compiled, commitment, opening)?;
        p.keys = Some(keys);
        Ok(p)
    }

    /// A prover without keys: builds witnesses and circuits only (tests, constraint counts).
    pub(crate) fn unkeyed(
        compiled: &'a Compiled,
        commitment: &'a Commitment,
        opening: &'a Opening,
    ) -> Result<Prover<'a>> {
        if commitment.chunk_size != compiled.chunk_size() {
            return Err(Mismatch::ChunkSize {
                commitment: commitment.chunk_size,
                keys: compiled.chunk_size(),
            }
            .into());
        }
        if commitment.schema_digest != compiled.policy.plan().schema_digest {
            return Err(Mismatch::CommitmentSchema.into());
        }
        Ok(Prover {
            compiled,
            keys: None,
            commitment,
            opening,
            totals: vec![vec![0; compiled.counters()]],
        })
    }

    fn keys(&self) -> Result<&'a ProvingKeys> {
        self.keys
            .ok_or(ZkError::Parameter(ParameterProblem::NoProvingKeys))
    }

    /// The native pass, chunk `totals.len() - 1`: checks the records and accumulates totals.
    pub fn scan_chunk(&mut self, records: &[Record]) -> Result<()> {
        let c = self.totals.len() as u64 - 1;
        self.check_chunk_len(c, records)?;
        let partial = scan(self.compiled, c * self.commitment.chunk_size, records)?;
        let last = self.totals.last().expect("genesis");
        let next = last.iter().zip(&partial).map(|(a, b)| a + b).collect();
        self.totals.push(next);
        Ok(())
    }

    fn check_chunk_len(&self, c: u64, records: &[Record]) -> Result<()> {
        if c >= self.commitment.chunks() {
            return Err(DatasetProblem::MoreThanCommitted {
                committed: self.commitment.records,
            }
            .into());
        }
        let want = self.commitment.active_in_chunk(c);
        if records.len() as u64 != want {
            return Err(DatasetProblem::ChunkLength {
                chunk: c,
                records: records.len(),
                expected: want,
            }
            .into());
        }
        Ok(())
    }

    fn scanned(&self) -> Result<()> {
        if self.totals.len() as u64 - 1 != self.commitment.chunks() {
            return Err(DatasetProblem::NotScanned {
                scanned: self.totals.len() as u64 - 1,
                chunks: self.commitment.chunks(),
            }
            .into());
        }
        Ok(())
    }

    /// Builds chunk `c`'s circuit and public inputs.
    pub(crate) fn chunk_circuit<'r>(
        &self,
        c: u64,
        records: &'r [Record],
    ) -> Result<ChunkCircuit<'r>>
    where
        'a: 'r,
    {
        self.scanned()?;
        self.check_chunk_len(c, records)?;
        for (i, r) in records.iter().enumerate() {
            check_record_domains(self.compiled, c * self.commitment.chunk_size + i as u64, r)?;
        }
        let layout = &self.compiled.layout;
        let root = chunk_root(
            layout,
            self.opening,
            &self.commitment.owner,
            c,
            self.commitment.chunk_size,
            records,
        );
        let per_leaf = layout.records_per_leaf as u64;
        let first_leaf = c * self.commitment.chunk_size / per_leaf;
        let salts = (0..self.commitment.chunk_size / per_leaf)
            .map(|j| self.opening.salt(first_leaf + j))
            .collect();
        let prev = self.totals[c as usize].clone();
        let next = &self.totals[c as usize + 1];
        let blind_prev = if c == 0 {
            ark_ff::Zero::zero()
        } else {
            self.opening.blinding(c - 1)
        };
        let blind_new = self.opening.blinding(c);
        let k = self.compiled.counters();
        let (acc_in, acc_out) = if k == 0 {
            (ark_ff::Zero::zero(), ark_ff::Zero::zero())
        } else {
            let acc_in = if c == 0 {
                genesis(k)
            } else {
                accumulator(&prev, blind_prev)
            };
            (acc_in, accumulator(next, blind_new))
        };
        Ok(ChunkCircuit {
            compiled: self.compiled,
            records,
            salts,
            prev,
            blind_prev,
            blind_new,
            public: ChunkPublic {
                chunk_root: root,
                active: records.len() as u64,
                owner: self.commitment.owner_fr(),
                acc_in,
                acc_out,
            },
        })
    }

    /// Proves chunk `c` from its records. Independent of every other chunk's proof.
    pub fn prove_chunk<R: RngCore + CryptoRng>(
        &self,
        c: u64,
        records: &[Record],
        rng: &mut R,
    ) -> Result<ChunkProof> {
        self.prove_chunk_with(c, records, rng)
    }

    fn prove_chunk_with(
        &self,
        c: u64,
        records: &[Record],
        rng: &mut dyn CryptoRand,
    ) -> Result<ChunkProof> {
        let circuit = self.chunk_circuit(c, records)?;
        let public = circuit.public.clone();
        let proof = prove_with(&self.keys()?.chunk, circuit, rng)?;
        Ok(ChunkProof {
            index: c,
            public_inputs: public.inputs(self.compiled),
            proof: proof_to_hex(&proof),
        })
    }

    /// After the native pass over every chunk: checks the aggregate bounds on the totals, so a
    /// dataset that cannot be proven is refused before any (expensive) chunk proof is made.
    pub fn check_aggregates(&self) -> Result<()> {
        self.scanned()?;
        let totals = self.totals.last().expect("genesis");
        for b in &self.compiled.policy.plan().bounds {
            if !b.holds(totals, self.commitment.records) {
                return Err(ZkError::Unsatisfied(Unsatisfied::Aggregate {
                    bound: b.name.clone(),
                }));
            }
        }
        Ok(())
    }

    /// The final proof over the totals (only for policies with aggregates).
    pub fn prove_final<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<Option<FinalProof>> {
        self.prove_final_with(rng)
    }

    fn prove_final_with(&self, rng: &mut dyn CryptoRand) -> Result<Option<FinalProof>> {
        self.check_aggregates()?;
        let Some(pk) = &self.keys()?.final_ else {
            return Ok(None);
        };
        let plan = self.compiled.policy.plan();
        let totals = self.totals.last().expect("genesis").clone();
        let last = self.commitment.chunks() - 1;
        let blinding = self.opening.blinding(last);
        let public = FinalPublic {
            acc: accumulator(&totals, blinding),
            records: self.commitment.records,
            revealed: plan.reveals.iter().map(|r| totals[r.counter]).collect(),
        };
        let revealed = plan
            .reveals
            .iter()
            .zip(&public.revealed)
            .map(|(r, v)| Revealed {
                name: r.name.clone(),
                value: v.to_string(),
            })
            .collect();
        let circuit = FinalCircuit {
            compiled: self.compiled,
            totals,
            blinding,
            public: public.clone(),
        };
        let proof = prove_with(pk, circuit, rng)?;
        Ok(Some(FinalProof {
            public_inputs: public.inputs(self.compiled),
            revealed,
            proof: proof_to_hex(&proof),
        }))
    }

    /// Assembles a bundle from every chunk's proof (any order) and the final proof.
    pub fn finish(
        &self,
        mut chunks: Vec<ChunkProof>,
        final_proof: Option<FinalProof>,
    ) -> Result<ProofBundle> {
        chunks.sort_by_key(|c| c.index);
        let complete = chunks.len() as u64 == self.commitment.chunks()
            && chunks.iter().enumerate().all(|(i, c)| c.index == i as u64);
        if !complete {
            return Err(DatasetProblem::ChunkProofs {
                chunks: self.commitment.chunks(),
            }
            .into());
        }
        Ok(ProofBundle::new(
            self.keys()?.digests.clone(),
            self.commitment.clone(),
            self.compiled.policy.digest(),
            chunks,
            final_proof,
        ))
    }
}

impl ProofBundle {
    /// A part of a bundle: the proofs of some chunks (and the final proof, if the part holds the
    /// last chunk), to be [merged](ProofBundle::merge) with the other parts.
    pub fn part(
        keys: &ProvingKeys,
        commitment: &Commitment,
        policy: &crate::policy::Policy,
        mut chunks: Vec<ChunkProof>,
        final_: Option<FinalProof>,
    ) -> ProofBundle {
        chunks.sort_by_key(|c| c.index);
        ProofBundle::new(
            keys.digests.clone(),
            commitment.clone(),
            policy.digest(),
            chunks,
            final_,
        )
    }
}

/// Checks a record against the domains the chunk circuit enforces (its declared bounds imply
/// its width), so a record that cannot be proven is refused before any proof is made.
fn check_record_domains(compiled: &Compiled, index: u64, r: &Record) -> Result<()> {
    if r.len() != compiled.domains.len()
        || r.iter()
            .zip(&compiled.domains)
            .any(|(&v, &(lo, hi))| v < lo || v > hi)
    {
        return Err(DatasetProblem::Domains { record: index }.into());
    }
    Ok(())
}

fn prove_with<C>(
    pk: &ProvingKey<Bn254>,
    circuit: C,
    mut rng: &mut dyn CryptoRand,
) -> Result<ark_groth16::Proof<Bn254>>
where
    C: ark_relations::gr1cs::ConstraintSynthesizer<Fr>,
{
    Ok(Groth16::<Bn254>::prove(pk, circuit, &mut rng)?)
}

/// Proves an in-memory dataset end to end: scan, chunk proofs in parallel, final proof.
pub fn prove_all<R: RngCore + CryptoRng>(
    compiled: &Compiled,
    keys: &ProvingKeys,
    commitment: &Commitment,
    opening: &Opening,
    records: &[Record],
    rng: &mut R,
) -> Result<ProofBundle> {
    prove_all_with(compiled, keys, commitment, opening, records, rng)
}

fn prove_all_with(
    compiled: &Compiled,
    keys: &ProvingKeys,
    commitment: &Commitment,
    opening: &Opening,
    records: &[Record],
    rng: &mut dyn CryptoRand,
) -> Result<ProofBundle> {
    if records.len() as u64 != commitment.records {
        return Err(DatasetProblem::RecordsGiven {
            given: records.len() as u64,
            committed: commitment.records,
        }
        .into());
    }
    let mut prover = Prover::new(compiled, keys, commitment, opening)?;
    let size = commitment.chunk_size as usize;
    for chunk in records.chunks(size) {
        prover.scan_chunk(chunk)?;
    }
    prover.check_aggregates()?;
    // One seed per chunk from the caller's RNG, so parallel proving stays reproducible.
    let seeds: Vec<[u8; 32]> = (0..commitment.chunks())
        .map(|_| {
            let mut s = [0u8; 32];
            rng.fill_bytes(&mut s);
            s
        })
        .collect();
    let chunks = records
        .par_chunks(size)
        .zip(seeds.par_iter())
        .enumerate()
        .map(|(c, (chunk, seed))| {
            prover.prove_chunk_with(c as u64, chunk, &mut ChaCha20Rng::from_seed(*seed))
        })
        .collect::<Result<Vec<_>>>()?;
    let final_proof = prover.prove_final_with(rng)?;
    prover.finish(chunks, final_proof)
}

/// Checks that records match a commitment (same count, same root with this opening).
pub fn check_opening(
    compiled: &Compiled,
    commitment: &Commitment,
    opening: &Opening,
    records: &[Record],
) -> Result<()> {
    for (i, r) in records.iter().enumerate() {
        check_record_domains(compiled, i as u64, r)?;
    }
    let roots: Vec<_> = records
        .chunks(commitment.chunk_size as usize)
        .enumerate()
        .map(|(c, ch)| {
            chunk_root(
                &compiled.layout,
                opening,
                &commitment.owner,
                c as u64,
                commitment.chunk_size,
                ch,
            )
        })
        .collect();
    commitment
        .check_chunk_roots(&roots)
        .map_err(|_| DatasetProblem::Opening.into())
}
