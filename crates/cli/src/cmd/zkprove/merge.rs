//! `zkprove merge`: merges parts proven with `--chunks` into one complete bundle.

use super::args::MergeArgs;
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::PathBuf;
use trustspace_zk::bundle::ProofBundle;

/// What `merge` wrote.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct MergeSummary {
    /// The merged bundle.
    pub bundle: PathBuf,
    /// Its chunk proofs.
    pub chunks: usize,
}

/// `zkprove merge`.
pub fn merge(a: &MergeArgs) -> Result<MergeSummary> {
    let parts = a
        .parts
        .iter()
        .map(|p| ProofBundle::load(p).with_context(|| format!("reading {}", p.display())))
        .collect::<Result<Vec<_>>>()?;
    let bundle = ProofBundle::merge(parts)?;
    bundle.save(&a.out)?;
    Ok(MergeSummary {
        bundle: a.out.clone(),
        chunks: bundle.chunks.len(),
    })
}
