//! `zkprove setup`: compiles a policy for a schema and chunk size and generates its proving key
//! (`proving.key`) and verifying keys (`verifying.json`).

use super::args::SetupArgs;
use crate::cmd::hex_digest;
use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::rngs::OsRng;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;
use trustspace_data::Schema;
use trustspace_zk::{Compiled, Policy, setup as groth16_setup};

/// What `setup` wrote.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct SetupSummary {
    /// The proving key file.
    pub proving_key: PathBuf,
    /// The verifying keys file.
    pub verifying_keys: PathBuf,
    /// The policy's digest, hex.
    pub policy_digest: String,
    /// The chunk circuit's digest, hex.
    pub chunk_circuit: String,
    /// Wall time.
    pub seconds: f64,
}

/// `zkprove setup`.
pub fn setup(a: &SetupArgs) -> Result<SetupSummary> {
    let schema = Schema::load(&a.schema)?;
    let policy = Policy::load(&a.policy, &schema)?;
    let compiled = Compiled::new(&schema, &policy, a.chunk_size)?;
    let started = Instant::now();
    let (pk, vk) = groth16_setup(&compiled, &mut ChaCha20Rng::from_rng(OsRng)?)?;
    let out = &a.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    pk.save(&out.join("proving.key"))?;
    vk.save(&out.join("verifying.json"))?;
    Ok(SetupSummary {
        proving_key: out.join("proving.key"),
        verifying_keys: out.join("verifying.json"),
        policy_digest: hex_digest(&policy.digest()),
        chunk_circuit: vk.digests.chunk.clone(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
