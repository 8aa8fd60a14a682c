//! Round trips with snarkjs (0.7.6, pinned in contracts/package-lock.json and installed on first
//! use with `npm ci --prefix contracts`): our `.ptau` passes `snarkjs powersoftau verify`, and a
//! snarkjs contribution on top of ours verifies here; our `.r1cs` is what snarkjs reads, its
//! phase-2 start on it is ours byte for byte, and its phase-2 chain verifies here; our
//! phase-2 `.zkey` passes `snarkjs zkey verify`, and snarkjs contributes to it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use ark_snark::SNARK;
use trustspace_ceremony::phase1::Source;
use trustspace_ceremony::r1cs::to_r1cs;
use trustspace_ceremony::start::initial_state;
use trustspace_ceremony::{Phase1, Phase2};
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

/// Writes `bytes` to `name` in `dir`.
fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Proves the Cubic statement with `pk` and checks its verdicts.
fn proves(pk: &ark_groth16::ProvingKey<Bn254>) {
    let x = Fr::from(3u64);
    let out = x * x * x + x + Fr::from(5u64);
    let proof = Groth16::<Bn254>::prove(pk, Cubic { x: Some(x) }, &mut rng(6)).unwrap();
    assert!(Groth16::<Bn254>::verify(&pk.vk, &[out], &proof).unwrap());
    assert!(!Groth16::<Bn254>::verify(&pk.vk, &[out + Fr::from(1u64)], &proof).unwrap());
}

#[test]
fn snarkjs_phase2_on_our_r1cs_starts_exactly_where_ours_does_and_we_check_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    let cs = synthesized(Cubic { x: None }).unwrap();
    let r1cs = file(dir.path(), "cubic.r1cs", &to_r1cs(&cs).unwrap());
    let ptau = file(dir.path(), "pot4.ptau", SNARKJS_PTAU);
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

    // snarkjs's start is ours byte for byte, section by section (points, coefficients,
    // circuit hash).
    let powers = Phase1::from_ptau(SNARKJS_PTAU).unwrap().powers;
    let ours = initial_state(&powers, cs).unwrap();
    let theirs = std::fs::read(&zkey).unwrap();
    // (`zkey new` writes the sections in another order than `zkey contribute`, whose order
    // ours follows; the order carries no meaning.)
    let by_id = |bytes: &[u8]| {
        let mut s = crate::sections(bytes);
        s.sort();
        s
    };
    assert!(
        by_id(&ours.to_zkey()) == by_id(&theirs),
        "snarkjs's start differs from ours"
    );
    assert_eq!(Phase2::from_zkey(&theirs).unwrap(), ours);

    // A snarkjs phase 2 on it (a contribution, then a beacon): its chain verifies here from
    // our start, and its keys prove with the stock arkworks prover.
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
    let imported = Phase2::from_zkey(&std::fs::read(&last).unwrap()).unwrap();
    imported.verify(&ours, &mut rng(5)).unwrap();
    assert_eq!(imported.contributions.len(), 2);
    assert_eq!(imported.contributions[0].name.as_deref(), Some("member"));
    assert_eq!(
        imported.contributions[1].source,
        Source::Beacon {
            hash: (1..=16).collect(),
            iterations_exp: 10
        }
    );
    assert_ne!(imported.delta_g1, ours.delta_g1);
    proves(&imported.proving_key());
}

#[test]
fn snarkjs_verifies_our_phase2_and_contributes_to_it() {
    // Our own phase 1 at 2^3, which the Cubic circuit's 8-point domain fills (so H's last
    // power is padded, as snarkjs's prepared file has it), prepared for snarkjs.
    let dir = tempfile::tempdir().unwrap();
    let mut phase1 = Phase1::new(3).unwrap();
    phase1.contribute(&mut rng(1), Some("hospital")).unwrap();
    let ptau = file(dir.path(), "ours.ptau", &phase1.to_ptau());
    let prepared = dir.path().join("prepared.ptau");
    let s = OsStr::new;
    snarkjs(&[
        s("powersoftau"),
        s("prepare"),
        s("phase2"),
        ptau.as_os_str(),
        prepared.as_os_str(),
    ]);
    let cs = synthesized(Cubic { x: None }).unwrap();
    let r1cs = file(dir.path(), "cubic.r1cs", &to_r1cs(&cs).unwrap());
    let initial = initial_state(&phase1.powers, cs).unwrap();
    let mut state = initial.clone();
    state.contribute(&mut rng(2), Some("hospital A")).unwrap();
    state.contribute(&mut rng(3), Some("regulator")).unwrap();
    state.beacon(&[0x42; 32], 10, Some("beacon")).unwrap();
    let ours = file(dir.path(), "ours.zkey", &state.to_zkey());
    let out = snarkjs(&[
        s("zkey"),
        s("verify"),
        r1cs.as_os_str(),
        prepared.as_os_str(),
        ours.as_os_str(),
    ]);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("ZKey Ok!"), "{log}");
    assert!(log.contains("regulator"), "{log}");
    assert!(log.contains("Beacon generator: 4242"), "{log}");
    // Each contribution's hash as snarkjs prints it.
    for c in &state.contributions {
        let start: String = c.hash()[..4].iter().map(|b| format!("{b:02x}")).collect();
        assert!(log.contains(&start), "{start} not in {log}");
    }

    // snarkjs contributes after us; the chain verifies here, and its keys prove.
    let theirs = dir.path().join("theirs.zkey");
    snarkjs(&[
        s("zkey"),
        s("contribute"),
        ours.as_os_str(),
        theirs.as_os_str(),
        s("--name=snarkjs member"),
        s("-e=more entropy"),
    ]);
    let after = Phase2::from_zkey(&std::fs::read(&theirs).unwrap()).unwrap();
    after.verify(&initial, &mut rng(4)).unwrap();
    assert_eq!(after.contributions[..3], state.contributions[..]);
    proves(&after.proving_key());
    // A tampered contribution of theirs is refused here.
    let mut forged = after.clone();
    forged.contributions[3].r_delta = state.contributions[0].r_delta;
    assert!(forged.verify(&initial, &mut rng(4)).is_err());
}
