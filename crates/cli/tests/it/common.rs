//! What the tests share: the binaries (for the end-to-end tests), output capture, the
//! expensive fixtures made once per test binary, and a lock that keeps the timing-sensitive
//! process tests apart from the CPU-heavy ones.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{LazyLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use trustspace_cli::cmd::dataspace;
use trustspace_cli::cmd::zkprove::args::{CommitArgs, Owner, ProveArgs, SetupArgs};
use trustspace_cli::cmd::zkprove::{commit, prove, setup};
use trustspace_cli::workflow::FileFormat;
use trustspace_data::synth::{Spec, Table};
use trustspace_ledger_verifier::Identity;

/// Path of one of this crate's binaries.
pub fn exe(bin: &str) -> &'static str {
    match bin {
        "dataspace" => env!("CARGO_BIN_EXE_dataspace"),
        "zkprove" => env!("CARGO_BIN_EXE_zkprove"),
        "ledger" => env!("CARGO_BIN_EXE_ledger"),
        "zkverify" => env!("CARGO_BIN_EXE_zkverify"),
        "mpc-party" => env!("CARGO_BIN_EXE_mpc-party"),
        "mpc-query" => env!("CARGO_BIN_EXE_mpc-query"),
        other => panic!("no binary {other}"),
    }
}

/// Runs a binary to completion.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(exe(bin)).args(args).output().expect("runs")
}

/// Its stdout and stderr together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Its stdout and stderr, asserting success.
pub fn ok(o: Output) -> String {
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    t
}

/// `dir/name` as a string argument.
pub fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// What an in-process command printed.
pub fn printed(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// `dataspace gen` in-process: `rows` encounters (seed `seed`, `violations` planted) in `dir`.
pub fn gen_encounters(dir: &Path, rows: u64, seed: u64, violations: u64) {
    let spec = Spec {
        table: Table::Encounters,
        rows,
        seed,
        holders: 1,
        violations,
    };
    dataspace::generate(spec, FileFormat::Csv, dir, &mut Vec::new()).unwrap();
}

/// The data owner's ledger key in `dir` (`owner.key`), written from a fixed seed unless the
/// test made its own.
pub fn owner_key(dir: &Path) -> PathBuf {
    let path = dir.join("owner.key");
    if !path.exists() {
        Identity::from_seed(&[7; 32]).save(&path).unwrap();
    }
    path
}

/// The trust configuration of the tests' ledgers: `dir/issuer.key` (made unless present) is
/// the one policy issuer.
pub fn issuer_trust(dir: &Path) -> trustspace_cli::cmd::ledger::Trust {
    let path = dir.join("issuer.key");
    if !path.exists() {
        Identity::from_seed(&[8; 32]).save(&path).unwrap();
    }
    trustspace_cli::cmd::ledger::Trust {
        issuers: vec![Identity::load(&path).unwrap().public()],
        ..Default::default()
    }
}

/// `ledger init` in-process: a ledger at `led` with three validators of which `threshold` sign,
/// and [`issuer_trust`]`(dir)` as its issuers.
pub fn init_ledger(dir: &Path, led: &Path, threshold: usize) {
    trustspace_cli::cmd::ledger::init(
        led,
        "trustspace",
        3,
        &[],
        threshold,
        &issuer_trust(dir),
        &mut Vec::new(),
    )
    .unwrap();
}

/// `zkprove commit` in-process of `dir/encounters.csv` into `dir`, for [`owner_key`].
pub fn commit_encounters(dir: &Path, chunk_size: u64) -> commit::CommitSummary {
    commit::commit(&CommitArgs {
        schema: dir.join("encounters.schema.toml"),
        data: dir.join("encounters.csv"),
        chunk_size,
        owner: Owner::KeyFile(owner_key(dir)),
        out: dir.to_path_buf(),
    })
    .unwrap()
}

/// `zkprove prove` arguments for the files in `dir` (as [`Proven::install`] names them).
pub fn prove_args(dir: &Path, policy: &str, out: &str) -> ProveArgs {
    ProveArgs {
        schema: dir.join("encounters.schema.toml"),
        policy: dir.join(policy),
        data: dir.join("encounters.csv"),
        commitment: dir.join("commitment.json"),
        opening: dir.join("opening.json"),
        keys: dir.join("proving.key"),
        chunks: None,
        out: dir.join(out),
    }
}

/// 40 encounters (seed 3) committed in chunks of 16, the reference policy's keys for that
/// chunk size, and the complete bundle: made once per test binary, then written into each
/// test's own directory.
pub struct Proven {
    files: Vec<(&'static str, Vec<u8>)>,
}

/// The files of [`Proven`].
pub const PROVEN_FILES: [&str; 9] = [
    "owner.key",
    "encounters.schema.toml",
    "encounters.policy.toml",
    "encounters.csv",
    "commitment.json",
    "opening.json",
    "proving.key",
    "verifying.json",
    "bundle.json",
];

static PROVEN: LazyLock<Proven> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    gen_encounters(d, 40, 3, 0);
    commit_encounters(d, 16);
    setup::setup(&SetupArgs {
        schema: d.join("encounters.schema.toml"),
        policy: d.join("encounters.policy.toml"),
        chunk_size: 16,
        out: d.to_path_buf(),
    })
    .unwrap();
    let s = prove::prove(
        &prove_args(d, "encounters.policy.toml", "bundle.json"),
        true,
    )
    .unwrap();
    assert!(s.complete && s.records == 40, "{s:?}");
    let files = PROVEN_FILES
        .iter()
        .map(|&name| (name, std::fs::read(d.join(name)).unwrap()))
        .collect();
    Proven { files }
});

impl Proven {
    /// Writes the fixture's files into `dir` (created); returns `dir`. Making the fixture is
    /// heavy: call this while holding [`heavy`].
    pub fn install(dir: &Path) -> PathBuf {
        let fixture = &*PROVEN;
        std::fs::create_dir_all(dir).unwrap();
        for (name, bytes) in &fixture.files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        dir.to_path_buf()
    }
}

static CPU: RwLock<()> = RwLock::new(());

/// Held by a CPU-heavy test (proving, tfhe): several may run together.
pub fn heavy() -> RwLockReadGuard<'static, ()> {
    CPU.read().unwrap_or_else(|e| e.into_inner())
}

/// Held by a test that asserts wall-clock bounds on processes: it runs while no heavy test
/// does (the machine may have two cores).
pub fn timing() -> RwLockWriteGuard<'static, ()> {
    CPU.write().unwrap_or_else(|e| e.into_inner())
}
