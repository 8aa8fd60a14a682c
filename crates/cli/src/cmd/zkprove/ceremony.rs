//! `zkprove ceremony`: a multi-party setup ceremony, so that no single party can forge proofs
//! once one contributor was honest. Phase 1 (powers of tau, snarkjs's `.ptau`) is universal;
//! phase 2 is per policy and starts from phase 1's powers, so nobody ever holds a trapdoor.
//!
//! The ceremony lives in a directory passed from member to member: `phase1.ptau` (the powers
//! and their contributions), `initial-chunk.zkey` (phase 2's start for the chunk circuit,
//! computed from them and the policy) and `chunk.zkey` (phase 2 after every contribution so
//! far); policies with aggregates have `initial-final.zkey` and `final.zkey` too. The states
//! are snarkjs's `.zkey` files: `snarkjs zkey contribute` and `zkey verify` work on them. A
//! contributor checks the chain it extends; a verifier checks the start against the phase-1
//! file and the policy it trusts rather than take the directory's word for it.

use super::args::{CeremonyArgs, CeremonyStep, CircuitArgs, Phase1Step};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::OsRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use trustspace_ceremony::phase1::Source;
use trustspace_ceremony::phase2::Phase2;
use trustspace_ceremony::provenance::Signature;
use trustspace_ceremony::r1cs::to_r1cs;
use trustspace_ceremony::{KeysCeremony, Phase1};
use trustspace_data::Schema;
use trustspace_data::error::escape_untrusted;
use trustspace_ledger_verifier::{Identity, PublicKey};
use trustspace_zk::prove::setup_systems;
use trustspace_zk::{CeremonyRecord, Compiled, Policy, VerifyingKeys};

/// The phase-1 file in a ceremony's directory.
const PHASE1: &str = "phase1.ptau";
/// Each circuit's phase-2 files: its start and its current state.
const CHUNK: [&str; 2] = ["initial-chunk.zkey", "chunk.zkey"];
const FINAL: [&str; 2] = ["initial-final.zkey", "final.zkey"];
/// The contributors' signatures of their phase-2 contributions.
const SIGNATURES: &str = "signatures.json";
/// Largest signatures file read.
const MAX_SIGNATURES_FILE: u64 = 1 << 20;

/// `signatures.json`: each signed contribution's index, signer and signature (hex).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignaturesFile {
    version: u32,
    signatures: Vec<SignatureEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureEntry {
    index: usize,
    signer: String,
    signature: String,
}

/// Which of a circuit's files.
#[derive(Clone, Copy)]
enum Stage {
    Initial = 0,
    Current = 1,
}

/// What a ceremony step did.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct CeremonySummary {
    /// `phase1 new`, `phase1 contribute`, ..., `init`, `contribute`, `verify` or `finalize`.
    pub step: String,
    /// The ceremony's directory.
    pub dir: PathBuf,
    /// Phase 1, when the step read or wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase1: Option<Phase1Summary>,
    /// Phase-2 contributions in the chain.
    pub contributions: usize,
    /// Each phase-2 contribution's hash, hex, in order (a contributor finds its own here).
    pub hashes: Vec<String>,
    /// Each phase-2 contribution's record (name, source), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ContributionRecord>,
    /// The keys written by `finalize`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<PathBuf>,
    /// The files `export-r1cs` wrote.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<PathBuf>,
    /// Wall time.
    pub seconds: f64,
}

/// A contribution's record, for display.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ContributionRecord {
    /// Its contributor's name as recorded (control characters escaped), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `beacon <value hex> 2^<exp>` for a beacon, else `secret`.
    pub source: String,
    /// The ledger key that signed it (hex), if one did; every signature is checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// A contribution's source for display: `secret`, or `beacon <value hex> 2^<exp>`.
pub fn source_text(source: &Source) -> String {
    match source {
        Source::Secret => "secret".into(),
        Source::Beacon {
            hash,
            iterations_exp,
        } => format!("beacon {} 2^{iterations_exp}", hex::encode(hash)),
    }
}

/// Phase 1 as a step saw it.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Phase1Summary {
    /// 2^power points.
    pub power: u32,
    /// Its contributions, in order.
    pub contributions: Vec<Phase1Contribution>,
    /// Whether the step verified it (every contribution and the powers).
    pub verified: bool,
}

/// One phase-1 contribution's record, for display.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Phase1Contribution {
    /// Its contributor's name as recorded (control characters escaped), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `beacon <value hex> 2^<exp>` for a beacon, else `secret`.
    pub source: String,
    /// The challenge after it (BLAKE2b-512, hex): the next contribution answers it.
    pub challenge: String,
}

fn phase1_summary(state: &Phase1, verified: bool) -> Phase1Summary {
    Phase1Summary {
        power: state.power,
        contributions: state
            .contributions
            .iter()
            .map(|c| Phase1Contribution {
                name: c.name.as_deref().map(escape_untrusted),
                source: source_text(&c.source),
                challenge: hex::encode(c.next_challenge),
            })
            .collect(),
        verified,
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn load_phase1(path: &Path) -> Result<Phase1> {
    Phase1::from_ptau(&read(path)?).with_context(|| format!("reading {}", path.display()))
}

/// A phase-1 file, verified.
fn verified_phase1(path: &Path) -> Result<Phase1> {
    let state = load_phase1(path)?;
    state
        .verify(&mut ChaCha20Rng::from_rng(OsRng)?)
        .with_context(|| format!("verifying {}", path.display()))?;
    Ok(state)
}

fn load_state(path: &Path) -> Result<Phase2> {
    Phase2::from_zkey(&read(path)?).with_context(|| format!("reading {}", path.display()))
}

/// The directory's phase-2 states at `stage` (a final circuit's when its start is there).
fn load(dir: &Path, stage: Stage) -> Result<KeysCeremony> {
    let has_final = dir.join(FINAL[Stage::Initial as usize]).exists();
    Ok(KeysCeremony {
        chunk: load_state(&dir.join(CHUNK[stage as usize]))?,
        final_: if has_final {
            Some(load_state(&dir.join(FINAL[stage as usize]))?)
        } else {
            None
        },
    })
}

/// Writes the states at `stage`.
fn store(dir: &Path, stage: Stage, state: &KeysCeremony) -> Result<()> {
    save(&dir.join(CHUNK[stage as usize]), &state.chunk.to_zkey())?;
    if let Some(f) = &state.final_ {
        save(&dir.join(FINAL[stage as usize]), &f.to_zkey())?;
    }
    Ok(())
}

/// The directory's signatures (none before the first signed contribution); checked when the
/// ceremony's record is made.
fn load_signatures(dir: &Path) -> Result<Vec<Signature>> {
    let path = dir.join(SIGNATURES);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let bad = || format!("reading {}", path.display());
    let len = std::fs::metadata(&path).with_context(bad)?.len();
    if len > MAX_SIGNATURES_FILE {
        anyhow::bail!("{}: over {MAX_SIGNATURES_FILE} bytes", path.display());
    }
    let file: SignaturesFile = serde_json::from_slice(&read(&path)?).with_context(bad)?;
    if file.version != 1 {
        anyhow::bail!(
            "{}: version {} (this build reads 1)",
            path.display(),
            file.version
        );
    }
    file.signatures
        .into_iter()
        .map(|e| {
            let mut signature = [0u8; 64];
            hex::decode_to_slice(&e.signature, &mut signature).with_context(|| {
                format!("{}: a signature is not 64 bytes of hex", path.display())
            })?;
            Ok(Signature {
                index: e.index,
                signer: PublicKey::from_hex(&e.signer).with_context(bad)?,
                signature,
            })
        })
        .collect()
}

/// Signs contributions `from..` of `state` with the key at `identity` and adds the signatures
/// to the directory's.
fn sign_new(dir: &Path, state: &KeysCeremony, from: usize, identity: &Identity) -> Result<()> {
    let mut signatures = load_signatures(dir)?;
    for index in from..state.contributions() {
        signatures.push(state.sign(index, identity)?);
    }
    let file = SignaturesFile {
        version: 1,
        signatures: signatures
            .iter()
            .map(|s| SignatureEntry {
                index: s.index,
                signer: s.signer.to_hex(),
                signature: hex::encode(s.signature),
            })
            .collect(),
    };
    save(
        &dir.join(SIGNATURES),
        &serde_json::to_vec_pretty(&file).expect("plain data serializes"),
    )
}

fn identity(path: Option<&PathBuf>) -> Result<Option<Identity>> {
    path.map(|p| Identity::load(p).with_context(|| format!("reading {}", p.display())))
        .transpose()
}

/// Writes `bytes` to `path` through a temporary file, so a crash leaves the old state whole.
fn save(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn compiled(c: &CircuitArgs) -> Result<Compiled> {
    let schema = Schema::load(&c.schema)?;
    let policy = Policy::load(&c.policy, &schema)?;
    Ok(Compiled::new(&schema, &policy, c.chunk_size)?)
}

/// Phase 2's start for `circuit` from `phase1` (verified).
fn start(phase1: &Phase1, circuit: &CircuitArgs) -> Result<KeysCeremony> {
    let (state, _) = KeysCeremony::from_phase1(&compiled(circuit)?, &phase1.powers)
        .context("starting phase 2 from the powers of tau")?;
    Ok(state)
}

/// `current` checked from the directory's initial state.
fn chain(dir: &Path, current: KeysCeremony) -> Result<KeysCeremony> {
    current
        .verify(
            &load(dir, Stage::Initial)?,
            &mut ChaCha20Rng::from_rng(OsRng)?,
        )
        .with_context(|| {
            format!(
                "verifying the phase-2 chain ({}, {}) in {}",
                CHUNK[1],
                FINAL[1],
                dir.display()
            )
        })?;
    Ok(current)
}

/// The whole ceremony checked against the phase-1 file and the policy the caller trusts: the
/// directory's start must be the one they give (checked on random combinations, without
/// recomputing it).
fn verified(
    dir: &Path,
    phase1: &Path,
    circuit: &CircuitArgs,
) -> Result<(Phase1, KeysCeremony, VerifyingKeys)> {
    let powers = verified_phase1(phase1)?;
    let initial = load(dir, Stage::Initial)?;
    let template = initial
        .check_start(
            &compiled(circuit)?,
            &powers.powers,
            &mut ChaCha20Rng::from_rng(OsRng)?,
        )
        .with_context(|| {
            format!(
                "{}'s phase-2 start is not the one computed from {} and this policy",
                dir.display(),
                phase1.display()
            )
        })?;
    let current = chain(dir, load(dir, Stage::Current)?)?;
    Ok((powers, current, template))
}

/// A spinner for a long step on stderr (hidden when `quiet`, as with `--json`).
fn spinner(msg: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        pb.set_style(style);
    }
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// `zkprove ceremony`; `quiet` hides the spinner.
pub fn ceremony(a: &CeremonyArgs, quiet: bool) -> Result<CeremonySummary> {
    let started = Instant::now();
    let dir = a.dir.clone();
    let what = match &a.step {
        CeremonyStep::Phase1(Phase1Step::New { .. } | Phase1Step::Export { .. }) => None,
        CeremonyStep::Phase1(Phase1Step::Contribute { .. } | Phase1Step::Beacon { .. }) => {
            Some("contributing to the powers of tau")
        }
        CeremonyStep::Phase1(_) => Some("verifying the powers of tau"),
        CeremonyStep::Init { .. } => Some("computing phase 2's start from the powers"),
        CeremonyStep::ExportR1cs { .. } => None,
        CeremonyStep::Contribute { .. } | CeremonyStep::Beacon { .. } => {
            Some("checking the chain and contributing")
        }
        CeremonyStep::Import { .. } => Some("checking the imported chain"),
        CeremonyStep::Verify { .. } | CeremonyStep::Finalize { .. } => {
            Some("verifying the ceremony")
        }
    };
    let pb = what.map(|m| spinner(m, quiet));
    let mut written = Vec::new();
    let (step, phase1, state, keys) = match &a.step {
        CeremonyStep::Phase1(s) => {
            let (step, state, verified) = phase1_step(&dir, s)?;
            (step, Some(phase1_summary(&state, verified)), None, None)
        }
        CeremonyStep::Init { circuit } => {
            if dir.join(CHUNK[Stage::Initial as usize]).exists() {
                anyhow::bail!("{} already holds a phase-2 ceremony", dir.display());
            }
            let powers = verified_phase1(&dir.join(PHASE1))?;
            let state = start(&powers, circuit)?;
            store(&dir, Stage::Current, &state)?;
            store(&dir, Stage::Initial, &state)?;
            (
                "init",
                Some(phase1_summary(&powers, true)),
                Some(state),
                None,
            )
        }
        CeremonyStep::ExportR1cs { circuit, out } => {
            let (chunk, final_) = setup_systems(&compiled(circuit)?)?;
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            for (name, cs) in
                std::iter::once(("chunk.r1cs", chunk)).chain(final_.map(|cs| ("final.r1cs", cs)))
            {
                let path = out.join(name);
                save(&path, &to_r1cs(&cs)?)?;
                written.push(path);
            }
            ("export-r1cs", None, None, None)
        }
        CeremonyStep::Contribute {
            name,
            identity: key,
        } => {
            let signer = identity(key.as_ref())?;
            // The chain is checked before building on it: a contribution on a broken chain
            // would be worthless.
            let mut state = chain(&dir, load(&dir, Stage::Current)?)?;
            let before = state.contributions();
            state.contribute(&mut ChaCha20Rng::from_rng(OsRng)?, name.as_deref())?;
            store(&dir, Stage::Current, &state)?;
            if let Some(id) = &signer {
                sign_new(&dir, &state, before, id)?;
            }
            ("contribute", None, Some(state), None)
        }
        CeremonyStep::Beacon {
            hash,
            iterations_exp,
            name,
        } => {
            let value = hex::decode(hash.trim_start_matches("0x")).context("--hash: not hex")?;
            let mut state = chain(&dir, load(&dir, Stage::Current)?)?;
            state.beacon(&value, *iterations_exp, name.as_deref())?;
            store(&dir, Stage::Current, &state)?;
            ("beacon", None, Some(state), None)
        }
        CeremonyStep::Import {
            chunk,
            final_,
            identity: key,
        } => {
            let signer = identity(key.as_ref())?;
            let current = load(&dir, Stage::Current)?;
            let imported = KeysCeremony {
                chunk: load_state(chunk)?,
                final_: match (final_, &current.final_) {
                    (Some(path), Some(_)) => Some(load_state(path)?),
                    (None, None) => None,
                    (None, Some(_)) => anyhow::bail!("this policy has a final circuit: --final"),
                    (Some(_), None) => anyhow::bail!("this policy has no final circuit"),
                },
            };
            // The imported chains extend the directory's: nothing already there is dropped.
            for (now, new) in current.states().zip(imported.states()) {
                let kept = now.contributions.len();
                if new.contributions.get(..kept) != Some(&now.contributions[..]) {
                    anyhow::bail!(
                        "the imported state does not extend the directory's chain of {kept} contributions"
                    );
                }
            }
            let state = chain(&dir, imported)?;
            store(&dir, Stage::Current, &state)?;
            if let Some(id) = &signer {
                sign_new(&dir, &state, current.contributions(), id)?;
            }
            ("import", None, Some(state), None)
        }
        CeremonyStep::Verify {
            phase1,
            circuit,
            require_contributor,
        } => {
            let (powers, state, _) = verified(&dir, phase1, circuit)?;
            let record = state.record(&powers.challenge(), &load_signatures(&dir)?)?;
            require(&record, require_contributor)?;
            (
                "verify",
                Some(phase1_summary(&powers, true)),
                Some(state),
                None,
            )
        }
        CeremonyStep::Finalize {
            phase1,
            circuit,
            out,
            require_contributor,
        } => {
            let (powers, state, template) = verified(&dir, phase1, circuit)?;
            let record = state.record(&powers.challenge(), &load_signatures(&dir)?)?;
            require(&record, require_contributor)?;
            let (pk, mut vk) = state.keys(&template)?;
            vk.ceremony = Some(record);
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            pk.save(&out.join("proving.key"))?;
            vk.save(&out.join("verifying.json"))?;
            let summary = phase1_summary(&powers, true);
            ("finalize", Some(summary), Some(state), Some(out.clone()))
        }
    };
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let contributions = state.as_ref().map_or(0, KeysCeremony::contributions);
    let chain = match &state {
        // Every signature checked (the phase-1 challenge plays no part in that).
        Some(s) => {
            let record = s.record(&[0; 64], &load_signatures(&dir)?)?;
            s.chunk
                .contributions
                .iter()
                .zip(record.contributors)
                .map(|(c, r)| ContributionRecord {
                    name: c.name.as_deref().map(escape_untrusted),
                    source: source_text(&c.source),
                    signer: r.signer,
                })
                .collect()
        }
        None => Vec::new(),
    };
    Ok(CeremonySummary {
        step: step.into(),
        dir,
        phase1,
        contributions,
        hashes: (0..contributions)
            .filter_map(|i| state.as_ref()?.contribution_hash(i))
            .map(hex::encode)
            .collect(),
        chain,
        keys,
        written,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Fails unless every key of `required` (key file or hex) signed a contribution in `record`.
fn require(record: &CeremonyRecord, required: &[String]) -> Result<()> {
    for r in required {
        let key = crate::cmd::public_key(r)
            .with_context(|| format!("--require-contributor {}", escape_untrusted(r)))?
            .to_hex();
        if !record
            .contributors
            .iter()
            .any(|c| c.signer.as_deref() == Some(key.as_str()))
        {
            anyhow::bail!("{key} signed no contribution to this ceremony");
        }
    }
    Ok(())
}

/// `zkprove ceremony phase1 ...`: the step's name, the state after it and whether it was
/// verified.
fn phase1_step(dir: &Path, step: &Phase1Step) -> Result<(&'static str, Phase1, bool)> {
    let file = dir.join(PHASE1);
    let create_dir = || -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        if file.exists() {
            anyhow::bail!("{} already holds a phase-1 file", dir.display());
        }
        Ok(())
    };
    Ok(match step {
        Phase1Step::New { power } => {
            let state = Phase1::new(*power)?;
            create_dir()?;
            save(&file, &state.to_ptau())?;
            ("phase1 new", state, false)
        }
        Phase1Step::Import { file: from } => {
            // Copied as is (a prepared file keeps the Lagrange sections snarkjs's phase 2 reads).
            let bytes = read(from)?;
            let state =
                Phase1::from_ptau(&bytes).with_context(|| format!("reading {}", from.display()))?;
            state
                .verify(&mut ChaCha20Rng::from_rng(OsRng)?)
                .with_context(|| format!("verifying {}", from.display()))?;
            create_dir()?;
            save(&file, &bytes)?;
            ("phase1 import", state, true)
        }
        Phase1Step::Contribute { name } => {
            let mut state = load_phase1(&file)?;
            state.contribute(&mut ChaCha20Rng::from_rng(OsRng)?, name.as_deref())?;
            save(&file, &state.to_ptau())?;
            ("phase1 contribute", state, false)
        }
        Phase1Step::Beacon {
            hash,
            iterations_exp,
            name,
        } => {
            let value = hex::decode(hash.trim_start_matches("0x")).context("--hash: not hex")?;
            let mut state = load_phase1(&file)?;
            state.beacon(&value, *iterations_exp, name.as_deref())?;
            save(&file, &state.to_ptau())?;
            ("phase1 beacon", state, false)
        }
        Phase1Step::Verify => ("phase1 verify", verified_phase1(&file)?, true),
        Phase1Step::Export { out } => {
            let bytes = read(&file)?;
            let state =
                Phase1::from_ptau(&bytes).with_context(|| format!("reading {}", file.display()))?;
            save(out, &bytes)?;
            ("phase1 export", state, false)
        }
    })
}
