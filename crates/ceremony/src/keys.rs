//! A ceremony over a policy's keys ([`trustspace_zk::ProvingKeys`]): one phase-2 chain per
//! circuit (the chunk circuit and, for policies with aggregates, the final circuit), contributed
//! to and verified together, and turned back into the proving and verifying keys that
//! `zkprove prove` and `zkverify` use.

use rand::{CryptoRng, RngCore};
use trustspace_zk::digests::CircuitDigests;
use trustspace_zk::{Compiled, ProvingKeys, VerifyingKeys};

use crate::error::{CeremonyError, Check};
use crate::phase1::Powers;
use crate::phase2::{Phase2, VERSION};
use crate::start::{check_initial, domain_size, initial_params};
use crate::transcript::hash;

/// What every keys-ceremony file starts with.
const MAGIC: &[u8; 16] = b"trustspace-cer\0\0";
/// Largest circuit-digest header read.
const MAX_HEADER: usize = 4096;

/// The phase-2 states of a policy's circuits.
#[derive(Debug, Clone, PartialEq)]
pub struct KeysCeremony {
    /// Which circuits (from the keys the ceremony started from).
    pub digests: CircuitDigests,
    /// The chunk circuit's state.
    pub chunk: Phase2,
    /// The final circuit's state (policies with aggregates).
    pub final_: Option<Phase2>,
}

impl KeysCeremony {
    /// The start of a ceremony from `keys` (the circuits' initial parameters).
    pub fn new(keys: ProvingKeys) -> KeysCeremony {
        KeysCeremony {
            digests: keys.digests,
            chunk: Phase2::new(keys.chunk),
            final_: keys.final_.map(Phase2::new),
        }
    }

    /// The start of a ceremony over `compiled`'s circuits from phase-1 `powers` (verified
    /// first: [`crate::Phase1::verify`]): each circuit's initial parameters computed from the
    /// powers ([`crate::start::initial_params`]), so nobody knows their trapdoor. Returns the
    /// verifying keys of that start too (the policy's fields, which the ceremony's final keys
    /// keep).
    pub fn from_phase1(
        compiled: &Compiled,
        powers: &Powers,
    ) -> crate::Result<(KeysCeremony, VerifyingKeys)> {
        let (keys, template) =
            trustspace_zk::setup_from(compiled, |cs| initial_params(powers, cs))?;
        Ok((KeysCeremony::new(keys), template))
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
        let mut states = std::iter::once(&self.chunk).chain(&self.final_);
        if states.clone().any(|s| !s.contributions.is_empty()) {
            return Err(CeremonyError::OtherStart);
        }
        let (keys, template) = trustspace_zk::setup_from(compiled, |cs| {
            let state = states.next().ok_or(CeremonyError::OtherStart)?;
            check_initial(powers, cs, &state.params, rng)?;
            Ok::<_, CeremonyError>(state.params.clone())
        })?;
        if states.next().is_some() || keys.digests != self.digests {
            return Err(CeremonyError::OtherStart);
        }
        Ok(template)
    }

    /// The smallest phase-1 power whose powers cover `compiled`'s circuits.
    pub fn power_needed(compiled: &Compiled) -> crate::Result<u32> {
        let (chunk, final_) = trustspace_zk::prove::setup_systems(compiled)?;
        let n = std::iter::once(chunk)
            .chain(final_)
            .map(|cs| domain_size(&cs))
            .max()
            .expect("the chunk circuit");
        Ok(n.trailing_zeros().max(1))
    }

    /// Contributions so far.
    pub fn contributions(&self) -> usize {
        self.chunk.contributions.len()
    }

    /// Contributes to every circuit with fresh secrets from `rng`; returns the contribution's
    /// hash (of its transcripts), which its contributor publishes to be found in the chain.
    pub fn contribute<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> [u8; 64] {
        let chunk = self.chunk.contribute(rng).transcript;
        let final_ = self.final_.as_mut().map(|f| f.contribute(rng).transcript);
        hash(&[&chunk, final_.as_ref().map_or(&[][..], |t| &t[..])])
    }

    /// The hash of contribution `index` (as [`KeysCeremony::contribute`] returned it).
    pub fn contribution_hash(&self, index: usize) -> Option<[u8; 64]> {
        let chunk = self.chunk.contributions.get(index)?.transcript;
        let final_ = match &self.final_ {
            Some(f) => Some(f.contributions.get(index)?.transcript),
            None => None,
        };
        Some(hash(&[&chunk, final_.as_ref().map_or(&[][..], |t| &t[..])]))
    }

    /// Checks that this state (a ceremony's initial one) is exactly the keys `published` were
    /// made with: a verifier pins the setup's published verifying keys rather than trust an
    /// initial file passed around with the ceremony.
    pub fn starts_from(&self, published: &VerifyingKeys) -> crate::Result<()> {
        let final_vk = self.final_.as_ref().map(|f| &f.params.vk);
        if self.digests != published.digests
            || self.chunk.params.vk != published.chunk
            || final_vk != published.final_.as_ref()
        {
            return Err(CeremonyError::OtherStart);
        }
        Ok(())
    }

    /// Checks every circuit's chain from `initial` ([`Phase2::verify`]), with as many
    /// contributions to each.
    pub fn verify<R: RngCore>(&self, initial: &KeysCeremony, rng: &mut R) -> crate::Result<()> {
        if self.digests != initial.digests {
            return Err(CeremonyError::OtherStart);
        }
        self.chunk.verify(&initial.chunk.params, rng)?;
        match (&self.final_, &initial.final_) {
            (None, None) => Ok(()),
            (Some(now), Some(before)) => {
                if now.contributions.len() != self.contributions() {
                    return Err(CeremonyError::Final(Check::Changed(
                        "the number of contributions to the final circuit",
                    )));
                }
                now.verify(&before.params, rng)
            }
            _ => Err(CeremonyError::OtherStart),
        }
    }

    /// The proving keys and the verifying keys after the ceremony: `template`, the verifying
    /// keys the ceremony started from (policy, schema, reveals...), with the circuits' keys
    /// replaced. Everything but δ must be the template's.
    pub fn keys(&self, template: &VerifyingKeys) -> crate::Result<(ProvingKeys, VerifyingKeys)> {
        if template.digests != self.digests {
            return Err(CeremonyError::OtherStart);
        }
        let same = |a: &ark_groth16::VerifyingKey<ark_bn254::Bn254>,
                    b: &ark_groth16::VerifyingKey<ark_bn254::Bn254>| {
            a.alpha_g1 == b.alpha_g1
                && a.beta_g2 == b.beta_g2
                && a.gamma_g2 == b.gamma_g2
                && a.gamma_abc_g1 == b.gamma_abc_g1
        };
        let final_vk = self.final_.as_ref().map(|f| f.params.vk.clone());
        let matches = same(&template.chunk, &self.chunk.params.vk)
            && match (&template.final_, &final_vk) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            };
        if !matches {
            return Err(CeremonyError::OtherStart);
        }
        let mut vk = template.clone();
        vk.chunk = self.chunk.params.vk.clone();
        vk.final_ = final_vk;
        let pk = ProvingKeys {
            digests: self.digests.clone(),
            chunk: self.chunk.params.clone(),
            final_: self.final_.as_ref().map(|f| f.params.clone()),
        };
        Ok((pk, vk))
    }

    /// The ceremony as a versioned file: magic, version, the circuit digests (JSON, with its
    /// length), then each circuit's state ([`Phase2::to_bytes`]) with its length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        let header = serde_json::to_vec(&self.digests).expect("plain data serializes");
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        for state in std::iter::once(&self.chunk).chain(&self.final_) {
            let bytes = state.to_bytes();
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(&bytes);
        }
        out
    }

    /// Reads a ceremony file ([`KeysCeremony::to_bytes`]); every state is read as
    /// [`Phase2::from_bytes`] reads it.
    pub fn from_bytes(bytes: &[u8]) -> crate::Result<KeysCeremony> {
        let malformed = |reason: &str| CeremonyError::Malformed {
            what: "keys ceremony",
            reason: reason.to_string(),
        };
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| malformed("not a trustspace keys ceremony"))?;
        let (version, rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| malformed("truncated"))?;
        let found = u32::from_le_bytes(*version);
        if found != VERSION {
            return Err(CeremonyError::Version {
                found,
                expected: VERSION,
            });
        }
        let (len, rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| malformed("truncated"))?;
        let len = u32::from_le_bytes(*len) as usize;
        if len > MAX_HEADER || len > rest.len() {
            return Err(malformed("circuit digests too long or truncated"));
        }
        let digests: CircuitDigests = serde_json::from_slice(&rest[..len])
            .map_err(|_| malformed("circuit digests are not valid JSON"))?;
        let mut rest = &rest[len..];
        let mut states = Vec::new();
        while !rest.is_empty() {
            let (len, after) = rest
                .split_first_chunk::<8>()
                .ok_or_else(|| malformed("truncated"))?;
            let len = usize::try_from(u64::from_le_bytes(*len)).unwrap_or(usize::MAX);
            if len > after.len() {
                return Err(malformed("truncated"));
            }
            states.push(Phase2::from_bytes(&after[..len])?);
            rest = &after[len..];
        }
        let circuits = 1 + usize::from(digests.final_.is_some());
        if states.len() != circuits {
            return Err(malformed("not one state per circuit"));
        }
        let mut states = states.into_iter();
        Ok(KeysCeremony {
            digests,
            chunk: states.next().expect("one state per circuit"),
            final_: states.next(),
        })
    }
}
