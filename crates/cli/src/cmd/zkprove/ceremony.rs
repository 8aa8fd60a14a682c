//! `zkprove ceremony`: a multi-party phase 2 over a policy's keys, so that no single party
//! (not even whoever ran `zkprove setup`) can forge proofs once one contributor was honest.
//! The ceremony lives in a directory: `initial.cer` (the keys it started from) and
//! `ceremony.cer` (the state after every contribution so far), passed from member to member.

use super::args::{CeremonyArgs, CeremonyStep};
use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::rngs::OsRng;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use trustspace_ceremony::KeysCeremony;
use trustspace_zk::{ProvingKeys, VerifyingKeys};

/// The initial state's file in a ceremony's directory.
const INITIAL: &str = "initial.cer";
/// The current state's file.
const CURRENT: &str = "ceremony.cer";

/// What a ceremony step did.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct CeremonySummary {
    /// `init`, `contribute`, `verify` or `finalize`.
    pub step: String,
    /// The ceremony's directory.
    pub dir: PathBuf,
    /// Contributions in the chain.
    pub contributions: usize,
    /// Each contribution's hash, hex, in order (a contributor finds its own here).
    pub hashes: Vec<String>,
    /// The keys written by `finalize`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<PathBuf>,
    /// Wall time.
    pub seconds: f64,
}

fn load(path: &Path) -> Result<KeysCeremony> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    KeysCeremony::from_bytes(&bytes).with_context(|| format!("reading {}", path.display()))
}

/// Writes `bytes` to `path` through a temporary file, so a crash leaves the old state whole.
fn save(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("cer.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// The current state, checked from the initial one, which must be the keys `published` (the
/// setup's verifying keys, pinned by the caller) were made with.
fn verified(dir: &Path, published: &Path) -> Result<KeysCeremony> {
    let initial = load(&dir.join(INITIAL))?;
    initial
        .starts_from(&VerifyingKeys::load(published)?)
        .with_context(|| {
            format!(
                "{} does not start from {}",
                dir.join(INITIAL).display(),
                published.display()
            )
        })?;
    let current = load(&dir.join(CURRENT))?;
    current
        .verify(&initial, &mut ChaCha20Rng::from_rng(OsRng)?)
        .with_context(|| format!("verifying {}", dir.join(CURRENT).display()))?;
    Ok(current)
}

/// `zkprove ceremony`.
pub fn ceremony(a: &CeremonyArgs) -> Result<CeremonySummary> {
    let started = Instant::now();
    let dir = a.dir.clone();
    let (step, state, keys) = match &a.step {
        CeremonyStep::Init { keys } => {
            let state = KeysCeremony::new(ProvingKeys::load(keys)?);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            if dir.join(CURRENT).exists() {
                anyhow::bail!("{} already holds a ceremony", dir.display());
            }
            let bytes = state.to_bytes();
            save(&dir.join(INITIAL), &bytes)?;
            save(&dir.join(CURRENT), &bytes)?;
            ("init", state, None)
        }
        CeremonyStep::Contribute { keys } => {
            // The chain is checked before building on it: a contribution on a broken chain
            // would be worthless.
            let mut state = verified(&dir, keys)?;
            state.contribute(&mut ChaCha20Rng::from_rng(OsRng)?);
            save(&dir.join(CURRENT), &state.to_bytes())?;
            ("contribute", state, None)
        }
        CeremonyStep::Verify { keys } => ("verify", verified(&dir, keys)?, None),
        CeremonyStep::Finalize { keys, out } => {
            let state = verified(&dir, keys)?;
            let template = VerifyingKeys::load(keys)?;
            let (pk, vk) = state.keys(&template)?;
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            pk.save(&out.join("proving.key"))?;
            vk.save(&out.join("verifying.json"))?;
            ("finalize", state, Some(out.clone()))
        }
    };
    Ok(CeremonySummary {
        step: step.into(),
        dir,
        contributions: state.contributions(),
        hashes: (0..state.contributions())
            .filter_map(|i| state.contribution_hash(i))
            .map(hex::encode)
            .collect(),
        keys,
        seconds: started.elapsed().as_secs_f64(),
    })
}
