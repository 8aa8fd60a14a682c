//! A local Ethereum node (ganache, from contracts/node_modules) on a free loopback port, killed
//! on drop; and the pinned solc-js build for rendered verifiers.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("contracts").join("package.json").is_file())
        .expect("the repository root (with contracts/package.json) above the crate")
        .to_path_buf()
}

const SETUP: &str = "npm ci --prefix contracts";

fn node_binary() -> &'static str {
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => "node",
        _ => panic!(
            "Node.js is not installed (no `node` on PATH): the EVM tests need Node.js >= 18 and \
             the contracts' npm packages (`{SETUP}`)"
        ),
    }
}

/// The contracts' pinned npm packages (solc-js, ganache), installed on first use so that
/// `cargo test --workspace` alone works on a fresh clone (npm registry reachable); once per
/// test binary, and test binaries run one after another.
fn ensure_installed() {
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let outcome = INSTALLED.get_or_init(|| {
        let cli = repo().join("contracts/node_modules/ganache/dist/node/cli.js");
        let solc = repo().join("contracts/node_modules/solc/package.json");
        if cli.is_file() && solc.is_file() {
            return Ok(());
        }
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(repo().join("contracts"))
            .output()
            .map_err(|e| format!("cannot run npm ({e}); run `{SETUP}` by hand"))?;
        if out.status.success() && cli.is_file() {
            Ok(())
        } else {
            Err(format!(
                "`{SETUP}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = outcome {
        panic!("the local Ethereum node and solc-js are not installed: {e}");
    }
}

fn ganache_cli() -> PathBuf {
    ensure_installed();
    let cli = repo().join("contracts/node_modules/ganache/dist/node/cli.js");
    assert!(
        cli.is_file(),
        "the local Ethereum node is not installed ({} is missing): run `{SETUP}` from the \
         repository root (ganache and solc, pinned in contracts/package-lock.json)",
        cli.display()
    );
    cli
}

/// A running ganache node.
pub struct Node {
    child: Child,
    /// Its JSON-RPC URL.
    pub url: String,
    _log: tempfile::TempDir,
}

impl Node {
    /// Starts a node on a free 127.0.0.1 port and waits until it answers.
    pub fn start() -> Node {
        let node = node_binary();
        let cli = ganache_cli();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let log = tempfile::tempdir().unwrap();
        let out = std::fs::File::create(log.path().join("ganache.log")).unwrap();
        let child = Command::new(node)
            .arg(cli)
            .args(["--server.host", "127.0.0.1", "--server.port"])
            .arg(port.to_string())
            .args([
                "--wallet.deterministic",
                "--logging.quiet",
                "--chain.chainId",
                "1337",
                "--miner.blockGasLimit",
                "30000000",
            ])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start ganache");
        let mut n = Node {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _log: log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let rpc = trustspace_evm::rpc::Rpc::new(&n.url);
            if rpc.accounts().is_ok() {
                return n;
            }
            if let Ok(Some(status)) = n.child.try_wait() {
                let log =
                    std::fs::read_to_string(n._log.path().join("ganache.log")).unwrap_or_default();
                panic!("ganache exited with {status} before answering:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "ganache did not answer on {} within 60 s",
                n.url
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Compiles a rendered verifier with the pinned solc-js (contracts/build.js --compile) and
/// returns its creation bytecode. solc is deterministic, so each (source, name) is compiled once
/// per test binary and shared by the tests that deploy it.
pub fn compile(source: &str, name: &str) -> Vec<u8> {
    type Cache = Mutex<HashMap<(String, String), Arc<OnceLock<Vec<u8>>>>>;
    static COMPILED: OnceLock<Cache> = OnceLock::new();
    let slot = COMPILED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry((source.to_string(), name.to_string()))
        .or_default()
        .clone();
    slot.get_or_init(|| {
        let art: serde_json::Value = serde_json::from_str(&compile_artifact(source, name)).unwrap();
        hex::decode(art["bytecode"].as_str().unwrap().trim_start_matches("0x")).unwrap()
    })
    .clone()
}

/// The artifact JSON (abi, bytecode) of a rendered verifier, from contracts/build.js --compile.
pub fn compile_artifact(source: &str, name: &str) -> String {
    let node = node_binary();
    let _ = ganache_cli();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.sol"));
    std::fs::write(&file, source).unwrap();
    let out = Command::new(node)
        .arg(repo().join("contracts/build.js"))
        .arg("--compile")
        .arg(&file)
        .arg(name)
        .output()
        .expect("run contracts/build.js");
    assert!(
        out.status.success(),
        "solc failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
