//! A ceremony over a policy's keys ([`trustspace_zk::ProvingKeys`]): one phase-2 chain per
//! circuit (the chunk circuit and, for policies with aggregates, the final circuit), started
//! from phase 1, contributed to and verified together, and turned into the proving and
//! verifying keys that `zkprove prove` and `zkverify` use.

use blake2::{Blake2b512, Digest};
use rand::{CryptoRng, RngCore};
use trustspace_zk::prove::setup_systems;
use trustspace_zk::{Compiled, ProvingKeys, VerifyingKeys, verifying_keys_for};

use crate::error::{CeremonyError, Check};
use crate::phase1::Powers;
use crate::phase2::Phase2;
use crate::start::{check_initial, domain_size, initial_state};

/// The phase-2 states of a policy's circuits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysCeremony {
    /// The chunk circuit's state.
    pub chunk: Phase2,
    /// The final circuit's state (policies with aggregates).
    pub final_: Option<Phase2>,
}

impl KeysCeremony {
    /// The start of a ceremony over `compiled`'s circuits from phase-1 `powers` (verify them
    /// first: [`crate::Phase1::verify`]): each circuit's initial state computed from the powers
    /// ([`crate::start::initial_state`]), so nobody knows their trapdoor. Returns the
    /// verifying keys of that start too (the policy's fields, which the final keys keep).
    pub fn from_phase1(
        compiled: &Compiled,
        powers: &Powers,
    ) -> crate::Result<(KeysCeremony, VerifyingKeys)> {
        let (chunk, final_) = setup_systems(compiled)?;
        let state = KeysCeremony {
            chunk: initial_state(powers, chunk)?,
            final_: final_.map(|cs| initial_state(powers, cs)).transpose()?,
        };
        let template = state.template(compiled);
        Ok((state, template))
    }

    /// The verifying keys of this state with `compiled`'s policy fields.
    fn template(&self, compiled: &Compiled) -> VerifyingKeys {
        verifying_keys_for(
            compiled,
            self.chunk.verifying_key(),
            self.final_.as_ref().map(Phase2::verifying_key),
        )
    }

    /// Checks that this state (a ceremony's initial one, as [`KeysCeremony::from_phase1`] made
    /// it) is the start `powers` and `compiled`'s circuits give
    /// ([`crate::start::check_initial`]: cheap, no group FFT), and returns the verifying keys
    /// of that start (the policy's fields, which the final keys keep).
    pub fn check_start<R: RngCore>(
        &self,
        compiled: &Compiled,
        powers: &Powers,
        rng: &mut R,
    ) -> crate::Result<VerifyingKeys> {
        let (chunk, final_) = setup_systems(compiled)?;
        check_initial(powers, chunk, &self.chunk, rng)?;
        match (final_, &self.final_) {
            (None, None) => {}
            (Some(cs), Some(state)) => check_initial(powers, cs, state, rng)?,
            _ => return Err(CeremonyError::NotTheStart("the policy's circuits")),
        }
        Ok(self.template(compiled))
    }

    /// The smallest phase-1 power whose powers cover `compiled`'s circuits.
    pub fn power_needed(compiled: &Compiled) -> crate::Result<u32> {
        let (chunk, final_) = setup_systems(compiled)?;
        let n = std::iter::once(chunk)
            .chain(final_)
            .map(|cs| domain_size(&cs))
            .max()
            .expect("the chunk circuit");
        Ok(n.trailing_zeros().max(1))
    }

    /// The circuits' states.
    pub fn states(&self) -> impl Iterator<Item = &Phase2> {
        std::iter::once(&self.chunk).chain(&self.final_)
    }

    fn states_mut(&mut self) -> impl Iterator<Item = &mut Phase2> {
        std::iter::once(&mut self.chunk).chain(&mut self.final_)
    }

    /// Contributions so far (to each circuit).
    pub fn contributions(&self) -> usize {
        self.chunk.contributions.len()
    }

    /// Contributes to every circuit with fresh secrets from `rng` under `name`; returns the
    /// contribution's hash ([`KeysCeremony::contribution_hash`]), which its contributor
    /// publishes to be found in the chain.
    pub fn contribute<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        name: Option<&str>,
    ) -> crate::Result<[u8; 64]> {
        for state in self.states_mut() {
            state.contribute(rng, name)?;
        }
        Ok(self.last_hash())
    }

    /// Closes every circuit's chain with a public beacon ([`Phase2::beacon`]).
    pub fn beacon(
        &mut self,
        hash: &[u8],
        iterations_exp: u8,
        name: Option<&str>,
    ) -> crate::Result<[u8; 64]> {
        for state in self.states_mut() {
            state.beacon(hash, iterations_exp, name)?;
        }
        Ok(self.last_hash())
    }

    fn last_hash(&self) -> [u8; 64] {
        self.contribution_hash(self.contributions() - 1)
            .expect("every circuit has the contribution")
    }

    /// The hash of contribution `index`: BLAKE2b-512 of each circuit's contribution hash
    /// ([`crate::phase2::Contribution::hash`]), the chunk circuit's first.
    pub fn contribution_hash(&self, index: usize) -> Option<[u8; 64]> {
        let mut h = Blake2b512::new();
        for state in self.states() {
            h.update(state.contributions.get(index)?.hash());
        }
        Some(h.finalize().into())
    }

    /// Checks every circuit's chain from `initial` ([`Phase2::verify`]), with as many
    /// contributions to each (a contributor takes part in all the policy's circuits).
    pub fn verify<R: RngCore>(&self, initial: &KeysCeremony, rng: &mut R) -> crate::Result<()> {
        self.chunk.verify(&initial.chunk, rng)?;
        match (&self.final_, &initial.final_) {
            (None, None) => Ok(()),
            (Some(now), Some(before)) => {
                if now.contributions.len() != self.contributions() {
                    return Err(CeremonyError::Final(Check::Changed(
                        "the number of contributions to the final circuit",
                    )));
                }
                now.verify(before, rng)
            }
            _ => Err(CeremonyError::OtherStart),
        }
    }

    /// The proving keys and the verifying keys after the ceremony: `template`, the verifying
    /// keys of the start ([`KeysCeremony::check_start`]; policy, schema, reveals...), with
    /// the circuits' keys replaced. Everything but δ must be the template's. Verify the chain
    /// first.
    pub fn keys(&self, template: &VerifyingKeys) -> crate::Result<(ProvingKeys, VerifyingKeys)> {
        let same = |a: &ark_groth16::VerifyingKey<ark_bn254::Bn254>, b: &Phase2| {
            a.alpha_g1 == b.alpha_g1
                && a.beta_g2 == b.beta_g2
                && a.gamma_g2 == b.gamma_g2
                && a.gamma_abc_g1 == b.ic
        };
        let matches = same(&template.chunk, &self.chunk)
            && match (&template.final_, &self.final_) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            };
        if !matches {
            return Err(CeremonyError::OtherStart);
        }
        let mut vk = template.clone();
        vk.chunk = self.chunk.verifying_key();
        vk.final_ = self.final_.as_ref().map(Phase2::verifying_key);
        let pk = ProvingKeys {
            digests: template.digests.clone(),
            chunk: self.chunk.proving_key(),
            final_: self.final_.as_ref().map(Phase2::proving_key),
        };
        Ok((pk, vk))
    }
}
