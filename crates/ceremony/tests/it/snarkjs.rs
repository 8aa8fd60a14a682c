//! Round trips with snarkjs (0.7.6, pinned in contracts/package-lock.json and installed on first
//! use with `npm ci --prefix contracts`): our `.ptau` passes `snarkjs powersoftau verify`, and a
//! snarkjs contribution on top of ours verifies here.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use trustspace_ceremony::Phase1;

use crate::rng;

const SETUP: &str = "npm ci --prefix contracts";

/// The repository root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("contracts").join("package.json").is_file())
        .expect("the repository root (with contracts/package.json) above the crate")
        .to_path_buf()
}

/// snarkjs's command line, installed with the contracts' npm packages on first use.
fn cli() -> &'static Path {
    static CLI: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let cli = CLI.get_or_init(|| {
        let cli = repo().join("contracts/node_modules/snarkjs/build/cli.cjs");
        if cli.is_file() {
            return Ok(cli);
        }
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(repo().join("contracts"))
            .output()
            .map_err(|e| format!("cannot run npm ({e}); run `{SETUP}` by hand"))?;
        if out.status.success() && cli.is_file() {
            Ok(cli)
        } else {
            Err(format!(
                "`{SETUP}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    match cli {
        Ok(path) => path,
        Err(e) => panic!("snarkjs is not installed (Node.js >= 18 and npm needed): {e}"),
    }
}

fn snarkjs(args: &[&OsStr]) -> Output {
    let out = Command::new("node")
        .arg(cli())
        .args(args)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "snarkjs {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn our_ptau_verifies_with_snarkjs_and_a_snarkjs_contribution_verifies_here() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.ptau");
    let mut state = Phase1::new(5).unwrap();
    state.contribute(&mut rng(1), Some("hospital A")).unwrap();
    state.contribute(&mut rng(2), Some("regulator")).unwrap();
    state
        .beacon(&[0x5a; 32], 4, Some("closing beacon"))
        .unwrap();
    std::fs::write(&ours, state.to_ptau()).unwrap();
    let s = OsStr::new;
    let out = snarkjs(&[s("powersoftau"), s("verify"), ours.as_os_str()]);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("Powers of Tau Ok!"), "{log}");
    assert!(log.contains("closing beacon"), "{log}");

    // snarkjs contributes after us, and prepares the file for phase 2: we read and verify both.
    let theirs = dir.path().join("theirs.ptau");
    let prepared = dir.path().join("prepared.ptau");
    snarkjs(&[
        s("powersoftau"),
        s("contribute"),
        ours.as_os_str(),
        theirs.as_os_str(),
        s("--name=snarkjs member"),
        s("-e=entropy"),
    ]);
    snarkjs(&[
        s("powersoftau"),
        s("prepare"),
        s("phase2"),
        theirs.as_os_str(),
        prepared.as_os_str(),
    ]);
    for file in [&theirs, &prepared] {
        let read = Phase1::from_ptau(&std::fs::read(file).unwrap()).unwrap();
        read.verify(&mut rng(3)).unwrap();
        assert_eq!(read.contributions.len(), 4);
        assert_eq!(
            read.contributions[3].name.as_deref(),
            Some("snarkjs member")
        );
        assert_eq!(read.contributions[..3], state.contributions[..]);
    }
}
