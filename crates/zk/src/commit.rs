//! The dataset commitment: a hiding Poseidon Merkle tree over salted leaves of packed records.
//!
//! - Leaf `j` holds records `j·k .. j·k+k-1` (`k` = [`Layout::records_per_leaf`]), packed into
//!   16 field elements, hashed with a salt derived from the holder's secret [`Opening`]; records
//!   past the end are zero. The salt makes the commitment hiding however low-entropy a column is.
//! - A *chunk* is `chunk_size` consecutive records: a complete subtree whose root a chunk proof
//!   recomputes in the circuit, then binds to the dataset's **owner**: the chunk root is
//!   `hash(subtree root, owner)` ([`Domain::Chunk`]), computed in the circuit from the owner as a
//!   public input. A proof is therefore made for one owner: nobody can take another holder's
//!   chunk roots or proofs and present them as their own.
//! - The chunk roots, padded with zeros to a power of two, form the top tree; the commitment root
//!   hashes the top root with the record count, chunk size, schema digest and owner, so none of
//!   them can be changed without changing the root.
//!
//! The owner is 32 bytes naming who may register the commitment: on a trustspace ledger, the
//! Ed25519 public key that signs the dataset entry; on an EVM registry, the registering account
//! (its 20-byte address, left-padded with zeros). In the circuits it is [`owner_fr`].
//!
//! Memory: committing holds one chunk of records at a time, plus one field element per chunk.

use ark_bn254::Fr;
use ark_ff::{UniformRand, Zero};
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use trustspace_data::{Record, Schema};
use zeroize::Zeroizing;

use crate::canon;
use crate::encode::{digest_hex, fr_from_digest, fr_hex};
use crate::error::{DatasetProblem, FormatProblem, Mismatch, ParameterProblem, Result, ZkError};
use crate::files;
use crate::pack::Layout;
use crate::poseidon::{self, Domain, LEAF_INPUTS};

/// Version of the commitment file format (2: the owner is committed to).
pub const COMMITMENT_VERSION: u32 = 2;
/// Version of the opening file format.
pub const OPENING_VERSION: u32 = 1;
/// Largest chunk size (records per chunk proof).
pub const MAX_CHUNK_SIZE: u64 = 1 << 20;
/// Largest number of records in a committed dataset.
pub const MAX_RECORDS: u64 = 1 << 40;
/// Largest commitment or opening file accepted.
pub const MAX_SMALL_FILE: u64 = 1 << 16;

/// The public commitment to a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// Format version ([`COMMITMENT_VERSION`]).
    pub version: u32,
    /// Merkle root binding records, count, chunk size, schema and owner.
    #[serde(with = "fr_hex")]
    pub root: Fr,
    /// SHA-256 digest of the schema ([`Schema::digest`]).
    #[serde(with = "digest_hex")]
    pub schema_digest: [u8; 32],
    /// Number of records.
    pub records: u64,
    /// Records per chunk (a power of two, a multiple of the records per leaf).
    pub chunk_size: u64,
    /// Who may register it (see the module docs), hex.
    #[serde(with = "digest_hex")]
    pub owner: [u8; 32],
}

/// The owner as a field element: SHA-256 of its canonical encoding ([`canon::OWNER`]) reduced
/// modulo the BN254 scalar field. A public input of every chunk proof.
pub fn owner_fr(owner: &[u8; 32]) -> Fr {
    let mut c = canon::OWNER.start();
    c.raw(owner);
    fr_from_digest(&c.sha256())
}

impl Commitment {
    /// [`owner_fr`] of this commitment's owner.
    pub fn owner_fr(&self) -> Fr {
        owner_fr(&self.owner)
    }

    /// Number of chunks.
    pub fn chunks(&self) -> u64 {
        self.records.div_ceil(self.chunk_size)
    }

    /// Real (non-padding) records in chunk `c`.
    pub fn active_in_chunk(&self, c: u64) -> u64 {
        self.records
            .saturating_sub(c * self.chunk_size)
            .min(self.chunk_size)
    }

    /// Checks that the chunk roots, in order, combine into this commitment's root.
    pub fn check_chunk_roots(&self, chunk_roots: &[Fr]) -> Result<()> {
        if chunk_roots.len() as u64 != self.chunks() {
            return Err(Mismatch::ChunkRootCount {
                roots: chunk_roots.len(),
                chunks: self.chunks(),
            }
            .into());
        }
        if final_root(
            chunk_roots,
            self.records,
            self.chunk_size,
            &self.schema_digest,
            &self.owner,
        ) != self.root
        {
            return Err(Mismatch::ChunkRoots.into());
        }
        Ok(())
    }

    /// Reads a commitment file (JSON): at most 64 KiB, then [`Commitment::from_bytes`].
    pub fn load(path: &Path) -> Result<Commitment> {
        let bytes = files::read_limited(path, "commitment", MAX_SMALL_FILE)?;
        Commitment::decode(&bytes, &files::named("commitment", path))
    }

    /// Decodes a commitment file's bytes (JSON, at most 64 KiB) and validates it: version,
    /// chunk size, record count. The decoder of untrusted commitments.
    pub fn from_bytes(bytes: &[u8]) -> Result<Commitment> {
        Commitment::decode(bytes, "commitment")
    }

    fn decode(bytes: &[u8], what: &str) -> Result<Commitment> {
        let c: Commitment =
            files::versioned_json_from_bytes(bytes, what, MAX_SMALL_FILE, COMMITMENT_VERSION)?;
        c.validate(what)?;
        Ok(c)
    }

    /// The commitment file's bytes (pretty JSON), as [`Commitment::save`] writes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        files::json_bytes(self)
    }

    /// Writes the commitment as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        files::write(path, &self.to_bytes())
    }

    /// Checks what the JSON shape cannot: the version, a chunk size that is a power of two up
    /// to [`MAX_CHUNK_SIZE`], a record count in `1..=`[`MAX_RECORDS`].
    pub(crate) fn validate(&self, what: &str) -> Result<()> {
        let bad = |reason| ZkError::Format {
            what: what.to_string(),
            reason,
        };
        if self.version != COMMITMENT_VERSION {
            return Err(bad(FormatProblem::UnsupportedVersion {
                found: self.version,
            }));
        }
        if !self.chunk_size.is_power_of_two() || self.chunk_size > MAX_CHUNK_SIZE {
            return Err(bad(FormatProblem::CommitmentChunkSize {
                chunk_size: self.chunk_size,
                max: MAX_CHUNK_SIZE,
            }));
        }
        if self.records == 0 || self.records > MAX_RECORDS {
            return Err(bad(FormatProblem::CommitmentRecords {
                records: self.records,
                max: MAX_RECORDS,
            }));
        }
        Ok(())
    }
}

/// The holder's secret opening: a 32-byte key from which every leaf salt and accumulator
/// blinding is derived (ChaCha20, one stream each). Keep it private; with it and the records,
/// anyone can rebuild the tree. Zeroized on drop.
#[derive(Clone)]
pub struct Opening {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Opening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opening(<secret>)")
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpeningFile {
    version: u32,
    key: String,
}

impl Drop for OpeningFile {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

const BLINDING_STREAMS: u64 = 1 << 62;

impl Opening {
    /// A fresh random opening.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Opening {
        let mut key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(key.as_mut());
        Opening { key }
    }

    /// An opening from a known key (for tests and reproducible fixtures).
    pub fn from_key(key: [u8; 32]) -> Opening {
        Opening {
            key: Zeroizing::new(key),
        }
    }

    fn stream(&self, stream: u64) -> ChaCha20Rng {
        let mut rng = ChaCha20Rng::from_seed(*self.key);
        rng.set_stream(stream);
        rng
    }

    /// The salt of leaf `leaf`.
    pub fn salt(&self, leaf: u64) -> Fr {
        Fr::rand(&mut self.stream(leaf))
    }

    /// The blinding of the aggregate accumulator after chunk `chunk`.
    pub fn blinding(&self, chunk: u64) -> Fr {
        Fr::rand(&mut self.stream(BLINDING_STREAMS + chunk))
    }

    /// The opening file's bytes (secret!): pretty JSON with the key in hex, zeroized on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let file = OpeningFile {
            version: OPENING_VERSION,
            key: hex::encode(*self.key),
        };
        Zeroizing::new(serde_json::to_vec_pretty(&file).expect("serializable"))
    }

    /// Writes the opening (secret!) as JSON, readable by the owner only where the OS allows.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.to_bytes();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let io = |source| ZkError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = options.open(path).map_err(io)?;
        std::io::Write::write_all(&mut f, &bytes).map_err(io)
    }

    /// Reads an opening file: at most 64 KiB, then [`Opening::from_bytes`].
    pub fn load(path: &Path) -> Result<Opening> {
        let bytes = Zeroizing::new(files::read_limited(path, "opening", MAX_SMALL_FILE)?);
        Opening::decode(&bytes, &files::named("opening", path))
    }

    /// Decodes an opening file's bytes (JSON, at most 64 KiB): version, then a key of exactly
    /// 32 bytes in hex.
    pub fn from_bytes(bytes: &[u8]) -> Result<Opening> {
        Opening::decode(bytes, "opening")
    }

    fn decode(bytes: &[u8], what: &str) -> Result<Opening> {
        let f: OpeningFile =
            files::versioned_json_from_bytes(bytes, what, MAX_SMALL_FILE, OPENING_VERSION)?;
        let bad = |reason| ZkError::Format {
            what: what.to_string(),
            reason,
        };
        if f.version != OPENING_VERSION {
            return Err(bad(FormatProblem::UnsupportedVersion { found: f.version }));
        }
        let bytes = Zeroizing::new(
            hex::decode(f.key.as_bytes()).map_err(|_| bad(FormatProblem::OpeningKeyHex))?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| bad(FormatProblem::OpeningKeyLength))?;
        Ok(Opening::from_key(key))
    }
}

/// Checks a chunk size against a layout.
pub fn check_chunk_size(layout: &Layout, chunk_size: u64) -> Result<()> {
    if !chunk_size.is_power_of_two()
        || chunk_size < layout.records_per_leaf as u64
        || chunk_size > MAX_CHUNK_SIZE
    {
        return Err(ZkError::Parameter(ParameterProblem::ChunkSize {
            got: chunk_size,
            min: layout.records_per_leaf as u64,
            max: MAX_CHUNK_SIZE,
        }));
    }
    Ok(())
}

/// Checks that a record fits the schema (count and encodings), so packing cannot overflow.
pub(crate) fn check_record(schema: &Schema, index: u64, r: &Record) -> Result<()> {
    if r.len() != schema.columns().len() {
        return Err(DatasetProblem::RecordLength {
            record: index,
            values: r.len(),
            columns: schema.columns().len(),
        }
        .into());
    }
    for (c, &v) in schema.columns().iter().zip(r) {
        if v < c.min_encoded() || v > c.max_encoded() {
            return Err(DatasetProblem::OutOfBounds {
                record: index,
                column: c.name().to_string(),
                encoding: v,
                min: c.min_encoded(),
                max: c.max_encoded(),
            }
            .into());
        }
    }
    Ok(())
}

/// The 16 leaf inputs of the leaf starting at `records[0]` (zero-padded).
pub(crate) fn leaf_inputs(layout: &Layout, records: &[Record]) -> [Fr; LEAF_INPUTS] {
    let mut out = [Fr::zero(); LEAF_INPUTS];
    for (i, r) in records.iter().enumerate() {
        let packed = layout.pack(r);
        out[i * layout.elements_per_record..][..packed.len()].copy_from_slice(&packed);
    }
    out
}

/// Root of chunk `chunk` from its records (at most `chunk_size`; missing ones are padding),
/// bound to `owner` ([`Domain::Chunk`]).
pub fn chunk_root(
    layout: &Layout,
    opening: &Opening,
    owner: &[u8; 32],
    chunk: u64,
    chunk_size: u64,
    records: &[Record],
) -> Fr {
    let k = layout.records_per_leaf;
    let leaves_per_chunk = chunk_size as usize / k;
    let first_leaf = chunk * leaves_per_chunk as u64;
    let leaves: Vec<Fr> = (0..leaves_per_chunk)
        .into_par_iter()
        .map(|j| {
            let start = (j * k).min(records.len());
            let end = (start + k).min(records.len());
            poseidon::leaf(
                opening.salt(first_leaf + j as u64),
                &leaf_inputs(layout, &records[start..end]),
            )
        })
        .collect();
    poseidon::hash(
        Domain::Chunk,
        &[poseidon::merkle_root(leaves), owner_fr(owner)],
    )
}

/// The commitment root from the chunk roots and the committed parameters.
pub fn final_root(
    chunk_roots: &[Fr],
    records: u64,
    chunk_size: u64,
    schema_digest: &[u8; 32],
    owner: &[u8; 32],
) -> Fr {
    let mut top = chunk_roots.to_vec();
    top.resize(top.len().next_power_of_two(), Fr::zero());
    poseidon::hash(
        Domain::Commitment,
        &[
            poseidon::merkle_root(top),
            Fr::from(records),
            Fr::from(chunk_size),
            fr_from_digest(schema_digest),
            owner_fr(owner),
        ],
    )
}

/// Commits to a dataset for `owner` with a fresh opening. Records are consumed as a stream, one
/// chunk in memory at a time; each is checked against the schema.
pub fn commit<R: RngCore + CryptoRng>(
    schema: &Schema,
    records: impl IntoIterator<Item = Record>,
    chunk_size: u64,
    owner: &[u8; 32],
    rng: &mut R,
) -> Result<(Commitment, Opening)> {
    let opening = Opening::generate(rng);
    let c = commit_with(schema, records, chunk_size, owner, &opening)?;
    Ok((c, opening))
}

/// Commits to a dataset for `owner` with a given opening (the same records, owner and opening
/// give the same root).
pub fn commit_with(
    schema: &Schema,
    records: impl IntoIterator<Item = Record>,
    chunk_size: u64,
    owner: &[u8; 32],
    opening: &Opening,
) -> Result<Commitment> {
    let layout = Layout::new(schema)?;
    check_chunk_size(&layout, chunk_size)?;
    let mut chunk_roots = Vec::new();
    let mut buf = Vec::with_capacity(chunk_size as usize);
    let mut count = 0u64;
    for r in records {
        check_record(schema, count, &r)?;
        buf.push(r);
        count += 1;
        if buf.len() as u64 == chunk_size {
            chunk_roots.push(chunk_root(
                &layout,
                opening,
                owner,
                chunk_roots.len() as u64,
                chunk_size,
                &buf,
            ));
            buf.clear();
        }
    }
    if !buf.is_empty() {
        chunk_roots.push(chunk_root(
            &layout,
            opening,
            owner,
            chunk_roots.len() as u64,
            chunk_size,
            &buf,
        ));
    }
    if count == 0 || count > MAX_RECORDS {
        return Err(DatasetProblem::RecordCount {
            count,
            max: MAX_RECORDS,
        }
        .into());
    }
    let schema_digest = schema.digest();
    Ok(Commitment {
        version: COMMITMENT_VERSION,
        root: final_root(&chunk_roots, count, chunk_size, &schema_digest, owner),
        schema_digest,
        records: count,
        chunk_size,
        owner: *owner,
    })
}
