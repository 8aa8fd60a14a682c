//! `zkprove`'s clap arguments: one struct per subcommand, which is also the handler's input.
//! A clap field's doc comment is its `--help` text, so flags shown without help text carry
//! no doc comment (hence the module's `missing_docs` allowance); the subcommand's help is the
//! variant's doc comment in [`Command`].

#![allow(missing_docs)]

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use trustspace_ledger_verifier::{Identity, LedgerError, PublicKey};

const EXAMPLES: &str = "\
Examples:
  zkprove commit --schema s.toml --data hospital.csv --chunk-size 1024 --owner owner.key --out run/
  zkprove setup  --schema s.toml --policy policy.toml --chunk-size 1024 --out run/
  zkprove prove  --schema s.toml --policy policy.toml --data hospital.csv \\
                 --commitment run/commitment.json --opening run/opening.json \\
                 --keys run/proving.key --out run/bundle.json
  # spread one job over machines, then merge the parts:
  zkprove prove ... --chunks 0..16 --out part0.json
  zkprove prove ... --chunks 16..32 --out part1.json
  zkprove merge --out run/bundle.json part0.json part1.json
  # keys no single party can subvert: a setup ceremony, each member contributing in turn
  zkprove ceremony --dir cer/ phase1 new --power 16      # or: phase1 import pot16.ptau (snarkjs)
  zkprove ceremony --dir cer/ phase1 contribute --name hospital-1
  zkprove ceremony --dir cer/ phase1 beacon --hash <public random hex>
  zkprove ceremony --dir cer/ init --schema s.toml --policy policy.toml --chunk-size 1024
  zkprove ceremony --dir cer/ contribute                 # each member in turn
  zkprove ceremony --dir cer/ finalize --phase1 cer/phase1.ptau --schema s.toml \
                   --policy policy.toml --chunk-size 1024 --out keys/
  zkverify --keys run/verifying.json --commitment run/commitment.json run/bundle.json
  # on a ledger (see `ledger init`, `ledger keygen`):
  zkprove register --ledger led/ --identity owner.key --name hospital-1 dataset --commitment run/commitment.json
  zkprove register --ledger led/ --identity issuer.key --name reference policy --keys run/verifying.json
  zkverify --ledger led/ --trust led/config.json --keys run/verifying.json --evidence-out ev.json run/bundle.json
  # on an EVM chain (see contracts/ and the README):
  zkprove export-verifier --keys run/verifying.json --out run/evm/
  zkprove export-calldata --keys run/verifying.json --bundle run/bundle.json --out run/calldata.json
  zkprove export-snarkjs  --keys run/verifying.json --bundle run/bundle.json --out run/snarkjs/
  zkverify --chain http://127.0.0.1:8545 --registry 0x... --block 0x<trusted block hash> --keys run/verifying.json run/bundle.json";

/// `zkprove`'s arguments.
#[derive(Parser, Debug)]
#[command(name = "zkprove", version, about = "Prove in zero knowledge that a committed dataset complies with a policy", after_help = EXAMPLES)]
pub struct Cli {
    /// Print a JSON summary instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

/// `zkprove`'s subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Commit to a dataset: writes commitment.json (public) and opening.json (secret).
    Commit(CommitArgs),
    /// Generate the proving key (proving.key) and verifying keys (verifying.json) of a policy.
    Setup(SetupArgs),
    /// Prove that the committed dataset satisfies the policy.
    Prove(ProveArgs),
    /// Register a dataset commitment or a policy's verifying keys on a ledger, signed by you.
    Register(RegisterArgs),
    /// Merge parts proven with `--chunks` into one bundle.
    Merge(MergeArgs),
    /// Render Solidity Groth16 verifiers for verifying keys (EVM chains with the BN254
    /// precompiles): ChunkVerifier.sol, FinalVerifier.sol (with aggregates) and the
    /// IGroth16Verifier.sol they import; compile with `node contracts/build.js --compile`.
    ExportVerifier(ExportVerifierArgs),
    /// Write the EVM calldata of a bundle: the registry's `verifyBundle` call and each proof's
    /// `verifyProof` call on its verifier (JSON, hex).
    ExportCalldata(ExportCalldataArgs),
    /// Deploy and use the trustspace registry on an EVM chain (transactions are sent with
    /// eth_sendTransaction from an account the node holds).
    Chain(ChainArgs),
    /// Write snarkjs-compatible files: for each proof a directory with proof.json, public.json
    /// and verification_key.json (`snarkjs groth16 verify verification_key.json public.json
    /// proof.json`).
    ExportSnarkjs(ExportSnarkjsArgs),
    /// Run a multi-party setup ceremony: phase 1 (powers of tau, snarkjs's .ptau) and phase 2
    /// (per policy) started from it; each member contributes a secret of its own, and the keys
    /// are sound if any one destroyed its secret.
    Ceremony(CeremonyArgs),
}

#[derive(Args, Debug)]
pub struct CeremonyArgs {
    /// The ceremony's directory (phase1.ptau; initial-chunk.zkey, chunk.zkey and, for policies
    /// with aggregates, initial-final.zkey, final.zkey).
    #[arg(long)]
    pub dir: PathBuf,
    #[command(subcommand)]
    pub step: CeremonyStep,
}

/// The policy whose circuits a ceremony's phase 2 is for.
#[derive(Args, Debug, Clone)]
pub struct CircuitArgs {
    #[arg(long)]
    pub schema: PathBuf,
    #[arg(long)]
    pub policy: PathBuf,
    #[arg(long, default_value_t = 1024)]
    pub chunk_size: u64,
}

/// A step of `zkprove ceremony`.
#[derive(Subcommand, Debug)]
pub enum CeremonyStep {
    /// Phase 1, the powers of tau (universal: one file serves every policy up to its size).
    #[command(subcommand)]
    Phase1(Phase1Step),
    /// Start phase 2 for a policy's circuits from the directory's phase-1 file (verified
    /// first): the initial keys are computed from the powers, so nobody knows their trapdoor.
    Init {
        #[command(flatten)]
        circuit: CircuitArgs,
    },
    /// Check the phase-2 chain so far, then add your contribution to every circuit (a fresh
    /// secret, erased after use).
    Contribute {
        /// Your name in the record (at most 64 bytes).
        #[arg(long)]
        name: Option<String>,
        /// Your ledger key (from `ledger keygen`): signs your contribution, so that the keys'
        /// record names you as a contributor.
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Check the phase-2 chain so far, then close it with a public random beacon: a value
    /// nobody could choose (hex, e.g. a future block hash), hashed 2^ITERATIONS_EXP times
    /// (at most 28), so anyone re-derives its secret.
    Beacon {
        #[arg(long)]
        hash: String,
        #[arg(long, default_value_t = 10)]
        iterations_exp: u8,
        #[arg(long)]
        name: Option<String>,
    },
    /// Take phase-2 states made elsewhere (snarkjs's `zkey contribute` or `zkey beacon` run on
    /// the directory's chunk.zkey, final.zkey): each must extend the directory's chain from
    /// its start (checked), then replaces it.
    Import {
        /// The chunk circuit's state.
        #[arg(long)]
        chunk: PathBuf,
        /// The final circuit's state (policies with aggregates).
        #[arg(long = "final")]
        final_: Option<PathBuf>,
        /// The contributor's ledger key: signs the contributions the import adds.
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Check the whole ceremony against what you trust: the phase-1 file (`--phase1`), the
    /// policy's circuits, the start recomputed from both, and every contribution. Lists every
    /// contribution (phase 1's by name, phase 2's by hash).
    Verify {
        /// The phase-1 file the verifier trusts.
        #[arg(long)]
        phase1: PathBuf,
        #[command(flatten)]
        circuit: CircuitArgs,
        /// Require that this organisation signed a contribution: its ledger key (key file or
        /// 64 hex digits); repeat for several.
        #[arg(long)]
        require_contributor: Vec<String>,
    },
    /// Write the policy's circuits as iden3 .r1cs files into OUT (chunk.r1cs, and final.r1cs
    /// for policies with aggregates), for snarkjs (`snarkjs zkey verify chunk.r1cs phase1.ptau
    /// DIR/chunk.zkey` checks a ceremony as `verify` does). The ceremony's directory is not
    /// read.
    ExportR1cs {
        #[command(flatten)]
        circuit: CircuitArgs,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify as `verify` does, then write the ceremony's proving.key and verifying.json into
    /// OUT; the verifying keys carry the ceremony's record (every contribution's public key,
    /// name and signer), so registering them registers it and `zkverify` shows it.
    Finalize {
        /// The phase-1 file the verifier trusts.
        #[arg(long)]
        phase1: PathBuf,
        #[command(flatten)]
        circuit: CircuitArgs,
        #[arg(long)]
        out: PathBuf,
        /// Require that this organisation signed a contribution (as `verify`).
        #[arg(long)]
        require_contributor: Vec<String>,
    },
}

/// A step of `zkprove ceremony phase1`.
#[derive(Subcommand, Debug)]
pub enum Phase1Step {
    /// Start phase 1 at 2^POWER points (enough for circuits of up to 2^POWER constraints and
    /// inputs); it has no contribution yet.
    New {
        #[arg(long)]
        power: u32,
    },
    /// Take a phase-1 file made elsewhere (snarkjs, a Perpetual Powers of Tau file): verified,
    /// then copied into the directory.
    Import { file: PathBuf },
    /// Add your contribution (fresh secrets, erased after use).
    Contribute {
        /// Your name in the record (at most 64 bytes).
        #[arg(long)]
        name: Option<String>,
    },
    /// Close phase 1 with a public random beacon: a value nobody could choose (hex, e.g. a
    /// future block hash), hashed 2^ITERATIONS_EXP times.
    Beacon {
        #[arg(long)]
        hash: String,
        #[arg(long, default_value_t = 10)]
        iterations_exp: u8,
        #[arg(long)]
        name: Option<String>,
    },
    /// Check every contribution and the powers (snarkjs's checks).
    Verify,
    /// Write the phase-1 file to OUT (for `snarkjs powersoftau verify` and snarkjs's phase 2).
    Export { out: PathBuf },
}

/// `zkprove commit`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct CommitArgs {
    #[arg(long)]
    pub schema: PathBuf,
    /// Data file (.csv, .jsonl); streamed, validated against the schema.
    #[arg(long)]
    pub data: PathBuf,
    /// Records per chunk proof (a power of two).
    #[arg(long, default_value_t = 1024)]
    pub chunk_size: u64,
    /// Who the commitment is made for, the only party that can register it and whose proofs
    /// it admits: a ledger key file (from `ledger keygen`), a ledger public key (64 hex
    /// digits), or an EVM account (`0x` and 40 hex digits) for a registry on a chain.
    #[arg(long, value_parser = parse_owner)]
    pub owner: Owner,
    #[arg(long)]
    pub out: PathBuf,
}

/// Who a commitment is made for (`zkprove commit --owner`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A ledger key file: its public key.
    KeyFile(PathBuf),
    /// A ledger public key.
    Ledger(PublicKey),
    /// An EVM account (20 bytes).
    Account([u8; 20]),
}

impl Owner {
    /// The 32 bytes a commitment names: the ledger public key, or the account left-padded
    /// with zeros (as the registry reads it).
    pub fn bytes(&self) -> Result<[u8; 32], LedgerError> {
        Ok(match self {
            Owner::KeyFile(path) => Identity::load(path)?.public().to_bytes(),
            Owner::Ledger(key) => key.to_bytes(),
            Owner::Account(a) => {
                let mut out = [0u8; 32];
                out[12..].copy_from_slice(a);
                out
            }
        })
    }
}

/// Parses `--owner`: `0x` and 40 hex digits is an account, 64 hex digits a public key,
/// anything else a key file.
fn parse_owner(s: &str) -> Result<Owner, String> {
    if let Some(digits) = s.strip_prefix("0x") {
        let mut a = [0u8; 20];
        return hex::decode_to_slice(digits, &mut a)
            .map(|()| Owner::Account(a))
            .map_err(|_| "an EVM account is 0x and 40 hex digits".to_string());
    }
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return PublicKey::from_hex(s)
            .map(Owner::Ledger)
            .map_err(|e| e.to_string());
    }
    Ok(Owner::KeyFile(PathBuf::from(s)))
}

/// `zkprove setup`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct SetupArgs {
    #[arg(long)]
    pub schema: PathBuf,
    #[arg(long)]
    pub policy: PathBuf,
    #[arg(long, default_value_t = 1024)]
    pub chunk_size: u64,
    #[arg(long)]
    pub out: PathBuf,
}

/// `zkprove prove`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct ProveArgs {
    #[arg(long)]
    pub schema: PathBuf,
    #[arg(long)]
    pub policy: PathBuf,
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long)]
    pub commitment: PathBuf,
    #[arg(long)]
    pub opening: PathBuf,
    /// Proving key from `zkprove setup`.
    #[arg(long)]
    pub keys: PathBuf,
    /// Only these chunks, `A..B` (end exclusive); writes a part to merge.
    #[arg(long)]
    pub chunks: Option<String>,
    #[arg(long)]
    pub out: PathBuf,
}

/// `zkprove register`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct RegisterArgs {
    /// Ledger: a directory (embedded) or an `http://` URL (a `ledger serve` service).
    #[arg(long)]
    pub ledger: String,
    /// Your signing key (from `ledger keygen`).
    #[arg(long)]
    pub identity: PathBuf,
    /// Name recorded with the entry.
    #[arg(long)]
    pub name: String,
    #[command(subcommand)]
    pub what: Registration,
}

/// What `zkprove register` registers.
#[derive(Subcommand, Debug, Clone)]
pub enum Registration {
    /// A dataset commitment (as its owner).
    Dataset {
        #[arg(long)]
        commitment: PathBuf,
        /// Free metadata (at most 4096 bytes), e.g. JSON.
        #[arg(long, default_value = "")]
        metadata: String,
    },
    /// A policy, by its verifying keys (as its issuer).
    Policy {
        #[arg(long)]
        keys: PathBuf,
    },
}

/// `zkprove merge`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    #[arg(long)]
    pub out: PathBuf,
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
}

/// `zkprove export-verifier`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct ExportVerifierArgs {
    /// Verifying keys from `zkprove setup`.
    #[arg(long)]
    pub keys: PathBuf,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
}

/// `zkprove export-calldata`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct ExportCalldataArgs {
    #[arg(long)]
    pub keys: PathBuf,
    #[arg(long)]
    pub bundle: PathBuf,
    /// Output file (JSON).
    #[arg(long)]
    pub out: PathBuf,
}

/// `zkprove export-snarkjs`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct ExportSnarkjsArgs {
    #[arg(long)]
    pub keys: PathBuf,
    #[arg(long)]
    pub bundle: PathBuf,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
}

/// `zkprove chain`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct ChainArgs {
    /// The node's JSON-RPC URL.
    #[arg(long)]
    pub rpc: String,
    /// The sending account, held by the node (default: the node's first account).
    #[arg(long, conflicts_with = "key")]
    pub from: Option<String>,
    /// Sign transactions here with this secp256k1 key (a file holding 32 bytes in hex),
    /// for nodes that hold no account.
    #[arg(long)]
    pub key: Option<PathBuf>,
    #[command(subcommand)]
    pub what: ChainCommand,
}

/// `zkprove chain`'s subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum ChainCommand {
    /// Deploy the registry (contracts/out/TrustspaceRegistry.json, built into this binary).
    DeployRegistry,
    /// Deploy a compiled verifier (`node contracts/build.js --compile FILE.sol NAME > art.json`).
    DeployVerifier {
        /// The artifact JSON (abi and bytecode).
        #[arg(long)]
        artifact: PathBuf,
    },
    /// Register a dataset commitment (as its owner) with the chunk roots from a bundle.
    RegisterDataset {
        #[arg(long)]
        registry: String,
        #[arg(long)]
        commitment: PathBuf,
        /// A bundle for the commitment: its chunk roots are registered (checked to combine
        /// into the root first).
        #[arg(long)]
        bundle: PathBuf,
        /// Metadata; its keccak256 is registered.
        #[arg(long, default_value = "")]
        metadata: String,
    },
    /// Register a policy (as its issuer) with its deployed verifiers.
    RegisterPolicy {
        #[arg(long)]
        registry: String,
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        chunk_verifier: String,
        /// For policies with aggregates.
        #[arg(long)]
        final_verifier: Option<String>,
    },
    /// Verify a bundle on chain and record the verdict.
    Verify {
        #[arg(long)]
        registry: String,
        #[arg(long)]
        keys: PathBuf,
        #[arg(long)]
        bundle: PathBuf,
    },
}
