//! Round trips with snarkjs (0.7.6, pinned in contracts/package-lock.json and installed on first
//! use with `npm ci --prefix contracts`): our `.ptau` passes `snarkjs powersoftau verify`, and a
//! snarkjs contribution on top of ours verifies here; our `.r1cs` is what snarkjs reads, and its
//! phase-2 start on it is ours point for point.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use ark_snark::SNARK;
use trustspace_ceremony::Phase1;
use trustspace_ceremony::r1cs::to_r1cs;
use trustspace_ceremony::start::initial_params;
use trustspace_ceremony::zkey::Zkey;
use trustspace_zk::prove::synthesized;

use crate::{Cubic, rng};

/// snarkjs's powers of tau at 2^4 (two contributions and a beacon), prepared for phase 2.
const SNARKJS_PTAU: &[u8] = include_bytes!("../data/snarkjs-power4.ptau");

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

#[test]
fn snarkjs_phase2_on_our_r1cs_starts_exactly_where_ours_does() {
    let dir = tempfile::tempdir().unwrap();
    let cs = synthesized(Cubic { x: None }).unwrap();
    let r1cs = dir.path().join("cubic.r1cs");
    std::fs::write(&r1cs, to_r1cs(&cs).unwrap()).unwrap();
    let ptau = dir.path().join("pot4.ptau");
    std::fs::write(&ptau, SNARKJS_PTAU).unwrap();
    let zkey = dir.path().join("cubic.zkey");
    let s = OsStr::new;
    let info = snarkjs(&[s("r1cs"), s("info"), r1cs.as_os_str()]);
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("# of Constraints: 3"), "{info}");
    assert!(info.contains("# of Wires: 5"), "{info}");
    assert!(info.contains("# of Public Inputs: 1"), "{info}");
    snarkjs(&[
        s("groth16"),
        s("setup"),
        r1cs.as_os_str(),
        ptau.as_os_str(),
        zkey.as_os_str(),
    ]);
    let verified = snarkjs(&[
        s("zkey"),
        s("verify"),
        r1cs.as_os_str(),
        ptau.as_os_str(),
        zkey.as_os_str(),
    ]);
    let log = String::from_utf8_lossy(&verified.stdout);
    assert!(log.contains("ZKey Ok!"), "{log}");

    // snarkjs's start, point for point, is ours from the same powers (but for H, which
    // snarkjs evaluates on the odd coset of the doubled domain).
    let theirs = Zkey::from_bytes(&std::fs::read(&zkey).unwrap()).unwrap();
    let powers = Phase1::from_ptau(SNARKJS_PTAU).unwrap().powers;
    let ours = initial_params(&powers, cs).unwrap();
    assert_eq!((theirs.variables, theirs.public, theirs.domain), (5, 1, 8));
    assert_eq!(theirs.a, ours.a_query);
    assert_eq!(theirs.b_g1, ours.b_g1_query);
    assert_eq!(theirs.b_g2, ours.b_g2_query);
    assert_eq!(theirs.ic, ours.vk.gamma_abc_g1);
    assert_eq!(theirs.c, ours.l_query);
    assert_eq!(
        (theirs.alpha_g1, theirs.beta_g1),
        (ours.vk.alpha_g1, ours.beta_g1)
    );
    assert_eq!(
        (theirs.beta_g2, theirs.gamma_g2),
        (ours.vk.beta_g2, ours.vk.gamma_g2)
    );
    assert_eq!(
        (theirs.delta_g1, theirs.delta_g2),
        (ours.delta_g1, ours.vk.delta_g2)
    );
    assert_eq!((theirs.h.len(), ours.h_query.len()), (8, 7));
    // Their H, turned into ours, is ours.
    assert_eq!(theirs.proving_key(), ours);

    // A snarkjs phase 2 on our circuit (a contribution, then a beacon): its keys, imported,
    // prove with the stock arkworks prover, and the proofs verify with our verifier.
    let contributed = dir.path().join("contributed.zkey");
    let last = dir.path().join("final.zkey");
    snarkjs(&[
        s("zkey"),
        s("contribute"),
        zkey.as_os_str(),
        contributed.as_os_str(),
        s("--name=member"),
        s("-e=entropy"),
    ]);
    snarkjs(&[
        s("zkey"),
        s("beacon"),
        contributed.as_os_str(),
        last.as_os_str(),
        s("0102030405060708090a0b0c0d0e0f10"),
        s("10"),
    ]);
    snarkjs(&[
        s("zkey"),
        s("verify"),
        r1cs.as_os_str(),
        ptau.as_os_str(),
        last.as_os_str(),
    ]);
    let pk = Zkey::from_bytes(&std::fs::read(&last).unwrap())
        .unwrap()
        .proving_key();
    assert_ne!(pk.delta_g1, ours.delta_g1);
    let x = Fr::from(3u64);
    let out = x * x * x + x + Fr::from(5u64);
    let proof = Groth16::<Bn254>::prove(&pk, Cubic { x: Some(x) }, &mut rng(6)).unwrap();
    assert!(Groth16::<Bn254>::verify(&pk.vk, &[out], &proof).unwrap());
    assert!(!Groth16::<Bn254>::verify(&pk.vk, &[out + Fr::from(1u64)], &proof).unwrap());
}
