//! `zkprove prove`: proves that a committed dataset satisfies a policy, in two streaming
//! passes over the data file (a cheap native scan that refuses a non-compliant dataset before
//! any proving, then the chunk proofs in parallel batches); `--chunks A..B` proves a part to
//! merge.

use super::args::ProveArgs;
use crate::cmd::hex_digest;
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::OsRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;
use trustspace_data::{Record, Schema};
use trustspace_zk::bundle::ProofBundle;
use trustspace_zk::{Commitment, Compiled, Opening, Policy, Prover, ProvingKeys};

/// A total the policy reveals, in the column's units.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct RevealedValue {
    /// `aggregate.sum` or `aggregate.count`.
    pub name: String,
    /// The value (a decimal in the column's units, or the bundle's text if not an integer).
    pub value: String,
}

/// What `prove` wrote.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ProveSummary {
    /// The bundle (or part) file.
    pub bundle: PathBuf,
    /// The chunks proven, `A..B`.
    pub chunks: String,
    /// Whether every chunk and the final proof are in (not a part to merge).
    pub complete: bool,
    /// Records in the chunks proven.
    pub records: u64,
    /// Wall time.
    pub seconds: f64,
    /// Throughput.
    pub records_per_second: f64,
    /// The totals the policy reveals (with the final proof only).
    pub revealed: Option<Vec<RevealedValue>>,
    /// The statement's digest, hex.
    pub statement: String,
}

/// Streams a data file, one chunk of records at a time; the first invalid record aborts.
fn chunks_of<'s>(
    path: &Path,
    schema: &'s Schema,
    size: u64,
) -> Result<impl Iterator<Item = Result<Vec<Record>>> + 's> {
    let mut records = trustspace_data::open(path, schema)?;
    Ok(std::iter::from_fn(move || {
        let mut chunk = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        for r in records.by_ref() {
            match r {
                Ok(r) => chunk.push(r),
                Err(e) => return Some(Err(anyhow::anyhow!("invalid record: {e}"))),
            }
            if chunk.len() as u64 == size {
                break;
            }
        }
        (!chunk.is_empty()).then_some(Ok(chunk))
    }))
}

/// Parses `--chunks A..B` against `n` chunks.
pub fn parse_range(s: &str, n: u64) -> Result<Range<u64>> {
    let (a, b) = s.split_once("..").context("--chunks takes A..B")?;
    let (a, b): (u64, u64) = (
        a.parse().context("--chunks start")?,
        b.parse().context("--chunks end")?,
    );
    if a >= b || b > n {
        bail!("--chunks {a}..{b} is not within 0..{n}");
    }
    Ok(a..b)
}

fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} chunks, {elapsed} (eta {eta})")
    {
        b.set_style(style.progress_chars("=> "));
    }
    b.set_message(what.to_string());
    b
}

/// `zkprove prove`; `quiet` hides the progress bar.
pub fn prove(a: &ProveArgs, quiet: bool) -> Result<ProveSummary> {
    let schema = Schema::load(&a.schema)?;
    let policy = Policy::load(&a.policy, &schema)?;
    let commitment = Commitment::load(&a.commitment)?;
    let opening = Opening::load(&a.opening)?;
    let compiled = Compiled::new(&schema, &policy, commitment.chunk_size)?;
    let keys = ProvingKeys::load(&a.keys)?;
    let mut prover = Prover::new(&compiled, &keys, &commitment, &opening)?;
    let started = Instant::now();
    // Pass 1 (native, cheap): check every record, compute the running totals.
    for chunk in chunks_of(&a.data, &schema, commitment.chunk_size)? {
        prover.scan_chunk(&chunk?)?;
    }
    // Refuse a dataset whose aggregates break the policy before hours of proving.
    prover.check_aggregates()?;
    let n = commitment.chunks();
    let range = match &a.chunks {
        Some(s) => parse_range(s, n)?,
        None => 0..n,
    };
    // Pass 2: prove the selected chunks, a batch of one chunk per thread at a time.
    let threads = rayon::current_num_threads().max(1);
    let progress = bar(range.end - range.start, "proving", quiet);
    let mut proofs = Vec::new();
    let mut batch: Vec<(u64, Vec<Record>)> = Vec::new();
    let flush = |batch: &mut Vec<(u64, Vec<Record>)>, proofs: &mut Vec<_>| -> Result<()> {
        let done = batch
            .par_iter()
            .map(|(c, recs)| {
                let p = prover.prove_chunk(*c, recs, &mut ChaCha20Rng::from_rng(OsRng)?);
                progress.inc(1);
                Ok(p?)
            })
            .collect::<Result<Vec<_>>>()?;
        proofs.extend(done);
        batch.clear();
        Ok(())
    };
    for (c, chunk) in chunks_of(&a.data, &schema, commitment.chunk_size)?.enumerate() {
        let c = c as u64;
        if c >= range.end {
            break;
        }
        let chunk = chunk?;
        if c >= range.start {
            batch.push((c, chunk));
            if batch.len() == threads {
                flush(&mut batch, &mut proofs)?;
            }
        }
    }
    flush(&mut batch, &mut proofs)?;
    progress.finish_and_clear();
    let final_proof = if range.end == n {
        prover.prove_final(&mut ChaCha20Rng::from_rng(OsRng)?)?
    } else {
        None
    };
    let complete = range == (0..n);
    let bundle = if complete {
        prover.finish(proofs, final_proof)?
    } else {
        ProofBundle::part(&keys, &commitment, &policy, proofs, final_proof)
    };
    bundle.save(&a.out)?;
    let secs = started.elapsed().as_secs_f64();
    let records: u64 = range.clone().map(|c| commitment.active_in_chunk(c)).sum();
    // In the column's units (the bundle holds integer units).
    let revealed = bundle.final_.as_ref().map(|f| {
        f.revealed
            .iter()
            .zip(&compiled.policy().plan().reveals)
            .map(|(r, plan)| RevealedValue {
                name: r.name.clone(),
                value: r.value.parse::<i128>().map_or(r.value.clone(), |u| {
                    trustspace_data::format_units(u, plan.scale)
                }),
            })
            .collect()
    });
    Ok(ProveSummary {
        bundle: a.out.clone(),
        chunks: format!("{}..{}", range.start, range.end),
        complete,
        records,
        seconds: secs,
        records_per_second: records as f64 / secs,
        revealed,
        statement: hex_digest(&bundle.statement_digest()),
    })
}
