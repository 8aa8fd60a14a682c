//! The EVM commands as an operator runs them: export verifiers, calldata and snarkjs files,
//! then `zkverify --chain` against a registry on a local node (ganache, started and stopped by
//! the test).

mod common;
#[path = "../../evm/tests/common/node.rs"]
#[allow(dead_code)]
mod node;

use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_groth16::{Groth16, Proof, VerifyingKey};
use ark_snark::SNARK;
use common::{ok, p, run};
use serde_json::Value;
use std::path::Path;
use std::str::FromStr;
use trustspace_evm::rpc::{Address, Rpc};
use trustspace_zk::{ProofBundle, VerifyingKeys};

fn make_bundle(d: &Path) {
    let ds = d.to_str().unwrap();
    ok(run(
        "dataspace",
        &[
            "gen",
            "--table",
            "encounters",
            "--rows",
            "40",
            "--seed",
            "3",
            "--out",
            ds,
        ],
    ));
    let (schema, policy, data) = (
        p(d, "encounters.schema.toml"),
        p(d, "encounters.policy.toml"),
        p(d, "encounters.csv"),
    );
    let cs = ["--chunk-size", "16"];
    ok(run(
        "zkprove",
        &[
            &["commit", "--schema", &schema, "--data", &data][..],
            &cs,
            &["--out", ds],
        ]
        .concat(),
    ));
    ok(run(
        "zkprove",
        &[
            &["setup", "--schema", &schema, "--policy", &policy][..],
            &cs,
            &["--out", ds],
        ]
        .concat(),
    ));
    ok(run(
        "zkprove",
        &[
            "prove",
            "--schema",
            &schema,
            "--policy",
            &policy,
            "--data",
            &data,
            "--commitment",
            &p(d, "commitment.json"),
            "--opening",
            &p(d, "opening.json"),
            "--keys",
            &p(d, "proving.key"),
            "--out",
            &p(d, "bundle.json"),
        ],
    ));
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn fq(v: &Value) -> Fq {
    Fq::from_str(v.as_str().unwrap()).unwrap()
}

fn g1(v: &Value) -> G1Affine {
    assert_eq!(v[2], "1");
    let p = G1Affine::new_unchecked(fq(&v[0]), fq(&v[1]));
    assert!(p.is_on_curve());
    p
}

/// snarkjs order: real part first.
fn g2(v: &Value) -> G2Affine {
    assert_eq!(v[2], serde_json::json!(["1", "0"]));
    let p = G2Affine::new_unchecked(
        Fq2::new(fq(&v[0][0]), fq(&v[0][1])),
        Fq2::new(fq(&v[1][0]), fq(&v[1][1])),
    );
    assert!(p.is_on_curve());
    p
}

/// Reads a snarkjs directory back into arkworks types and verifies it.
fn snarkjs_verifies(dir: &Path) -> bool {
    let vk = json(&dir.join("verification_key.json"));
    let proof = json(&dir.join("proof.json"));
    let public = json(&dir.join("public.json"));
    assert_eq!(vk["protocol"], "groth16");
    assert_eq!(vk["curve"], "bn128");
    let ic: Vec<G1Affine> = vk["IC"].as_array().unwrap().iter().map(g1).collect();
    assert_eq!(vk["nPublic"].as_u64().unwrap() as usize + 1, ic.len());
    let vk = VerifyingKey::<Bn254> {
        alpha_g1: g1(&vk["vk_alpha_1"]),
        beta_g2: g2(&vk["vk_beta_2"]),
        gamma_g2: g2(&vk["vk_gamma_2"]),
        delta_g2: g2(&vk["vk_delta_2"]),
        gamma_abc_g1: ic,
    };
    let proof = Proof::<Bn254> {
        a: g1(&proof["pi_a"]),
        b: g2(&proof["pi_b"]),
        c: g1(&proof["pi_c"]),
    };
    let inputs: Vec<Fr> = public
        .as_array()
        .unwrap()
        .iter()
        .map(|x| Fr::from_str(x.as_str().unwrap()).unwrap())
        .collect();
    Groth16::<Bn254>::verify(&vk, &inputs, &proof).unwrap()
}

fn hexbytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

#[test]
fn export_and_verify_against_a_registry_on_chain() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_bundle(d);
    let keys = p(d, "verifying.json");
    let bundle_path = p(d, "bundle.json");

    // Verifiers.
    let evm = d.join("evm");
    let out = ok(run(
        "zkprove",
        &[
            "--json",
            "export-verifier",
            "--keys",
            &keys,
            "--out",
            evm.to_str().unwrap(),
        ],
    ));
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert!(evm.join("IGroth16Verifier.sol").is_file());
    for name in ["ChunkVerifier", "FinalVerifier"] {
        let src = std::fs::read_to_string(evm.join(format!("{name}.sol"))).unwrap();
        std::fs::write(
            evm.join(format!("{name}.json")),
            node::compile_artifact(&src, name),
        )
        .unwrap();
    }

    // snarkjs files: one directory per proof, each verifying.
    let sj = d.join("snarkjs");
    ok(run(
        "zkprove",
        &[
            "export-snarkjs",
            "--keys",
            &keys,
            "--bundle",
            &bundle_path,
            "--out",
            sj.to_str().unwrap(),
        ],
    ));
    for name in ["chunk-0", "chunk-1", "chunk-2", "final"] {
        assert!(snarkjs_verifies(&sj.join(name)), "{name}");
    }
    // ... and a tampered public input does not.
    let pub0 = sj.join("chunk-0/public.json");
    let mut v = json(&pub0);
    v[2] = "17".into();
    std::fs::write(&pub0, v.to_string()).unwrap();
    assert!(!snarkjs_verifies(&sj.join("chunk-0")));

    // The chain: registry, verifiers, registrations, all with `zkprove chain`.
    let node = node::Node::start();
    let rpc = Rpc::new(&node.url);
    let chain = |args: &[&str]| -> Value {
        let out = ok(run(
            "zkprove",
            &[&["--json", "chain", "--rpc", &node.url][..], args].concat(),
        ));
        serde_json::from_str(&out).unwrap()
    };
    let addr_of = |v: &Value, k: &str| -> Address { v[k].as_str().unwrap().parse().unwrap() };
    let registry = addr_of(&chain(&["deploy-registry"]), "registry");
    let empty_registry = addr_of(&chain(&["deploy-registry"]), "registry");
    let artifact = |n: &str| evm.join(format!("{n}.json")).display().to_string();
    let cv = addr_of(
        &chain(&["deploy-verifier", "--artifact", &artifact("ChunkVerifier")]),
        "verifier",
    );
    let fv = addr_of(
        &chain(&["deploy-verifier", "--artifact", &artifact("FinalVerifier")]),
        "verifier",
    );
    let vk = VerifyingKeys::load(Path::new(&keys)).unwrap();
    let bundle = ProofBundle::load(Path::new(&bundle_path)).unwrap();
    let reg = chain(&[
        "register-policy",
        "--registry",
        &registry.to_string(),
        "--keys",
        &keys,
        "--chunk-verifier",
        &cv.to_string(),
        "--final-verifier",
        &fv.to_string(),
    ]);
    assert_eq!(reg["keys_digest"], summary["keys_digest"]);
    assert_eq!(
        summary["keys_digest"].as_str().unwrap(),
        format!(
            "0x{}",
            hex::encode(trustspace_evm::encode::keys_digest(&vk))
        )
    );
    let commitment = p(d, "commitment.json");
    let dataset = [
        "register-dataset",
        "--registry",
        &registry.to_string(),
        "--commitment",
        &commitment,
        "--bundle",
        &bundle_path,
        "--metadata",
        "{\"hospital\":1}",
    ];
    chain(&dataset);
    // Registering again is refused by the contract, with its reason.
    let again = run(
        "zkprove",
        &[&["chain", "--rpc", &node.url][..], &dataset].concat(),
    );
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("AlreadyRegistered"),
        "{again:?}"
    );

    // Calldata: each verifyProof call and the registry's verifyBundle call return true.
    let cd = d.join("calldata.json");
    ok(run(
        "zkprove",
        &[
            "export-calldata",
            "--keys",
            &keys,
            "--bundle",
            &bundle_path,
            "--out",
            cd.to_str().unwrap(),
        ],
    ));
    let cd = json(&cd);
    let yes = {
        let mut w = [0u8; 32];
        w[31] = 1;
        w.to_vec()
    };
    for x in cd["verify_proof"].as_array().unwrap() {
        let to = if x["verifier"] == "ChunkVerifier" {
            cv
        } else {
            fv
        };
        let out = rpc
            .eth_call("verifyProof", to, &hexbytes(&x["calldata"]), "latest")
            .unwrap();
        assert_eq!(out.to_vec(), yes, "{}", x["proof"]);
    }
    let out = rpc
        .eth_call(
            "verifyBundle",
            registry,
            &hexbytes(&cd["verify_bundle"]),
            "latest",
        )
        .unwrap();
    assert_eq!(out.to_vec(), yes);
    // Recording the verdict on chain.
    let v = chain(&[
        "verify",
        "--registry",
        &registry.to_string(),
        "--keys",
        &keys,
        "--bundle",
        &bundle_path,
    ]);
    assert_eq!(v["verified"], true);

    // zkverify --chain, at a trusted block hash, with the contract's answer compared.
    let head =
        trustspace_evm::state::header(&rpc, trustspace_evm::state::BlockRef::Latest).unwrap();
    let addr = registry.to_string();
    let hash = head.hash.to_string();
    let args = |registry: &str, bundle: &str| -> Vec<String> {
        [
            "--json",
            "--chain",
            &node.url,
            "--registry",
            registry,
            "--block",
            &hash,
            "--onchain",
            "--keys",
            &keys,
            bundle,
        ]
        .map(String::from)
        .to_vec()
    };
    let argv = args(&addr, &bundle_path);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = ok(run("zkverify", &argv));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true, "{out}");
    assert_eq!(v["chain"]["onchain"], "valid");
    assert_eq!(v["chain"]["block_trusted_by_hash"], true);
    assert!(!v["chain"]["recorded_verdict"].is_null(), "{out}");
    assert_eq!(v["records"], 40);

    // Another registry, where nothing is registered: not valid (exit 1).
    let argv = args(&empty_registry.to_string(), &bundle_path);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let o = run("zkverify", &argv);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no dataset with root"));

    // A registry whose policy names the wrong verifiers (swapped): the proofs still verify
    // locally, but --onchain refuses the verifiers for embedding other keys.
    // This registry's transactions are signed locally (--key), from a funded fresh key.
    let key_file = d.join("key.hex");
    std::fs::write(&key_file, format!("0x{}", "5a".repeat(32))).unwrap();
    let me = trustspace_evm::rpc::Sender::from_key_file(&key_file)
        .unwrap()
        .address();
    let funder = rpc.accounts().unwrap()[0];
    let _: alloy_primitives::B256 = rpc
        .call(
            "eth_sendTransaction",
            serde_json::json!([{"from": funder, "to": me, "value": "0xde0b6b3a7640000"}]),
        )
        .unwrap();
    let key_arg = key_file.display().to_string();
    let chain = |args: &[&str]| -> Value {
        let out = ok(run(
            "zkprove",
            &[
                &["--json", "chain", "--rpc", &node.url, "--key", &key_arg][..],
                args,
            ]
            .concat(),
        ));
        serde_json::from_str(&out).unwrap()
    };
    let swapped = addr_of(&chain(&["deploy-registry"]), "registry").to_string();
    chain(&[
        "register-policy",
        "--registry",
        &swapped,
        "--keys",
        &keys,
        "--chunk-verifier",
        &fv.to_string(),
        "--final-verifier",
        &cv.to_string(),
    ]);
    let mut dataset = dataset;
    dataset[2] = &swapped;
    chain(&dataset);
    let head =
        trustspace_evm::state::header(&rpc, trustspace_evm::state::BlockRef::Latest).unwrap();
    let mut argv = args(&swapped, &bundle_path);
    argv[6] = head.hash.to_string();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let o = run("zkverify", &argv);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("embeds another verifying key"),
        "{o:?}"
    );
    let without: Vec<&str> = argv.iter().copied().filter(|a| *a != "--onchain").collect();
    ok(run("zkverify", &without));

    // A tampered bundle: not valid.
    let mut t = bundle.clone();
    t.chunks[2].proof = t.chunks[1].proof.clone();
    let tampered = p(d, "tampered.json");
    t.save(Path::new(&tampered)).unwrap();
    let argv = args(&addr, &tampered);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let o = run("zkverify", &argv);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // A block hash the chain does not have, and an unreachable RPC: bad input or not valid,
    // never valid.
    let mut bad = args(&addr, &bundle_path);
    bad[6] = format!("0x{}", "ab".repeat(32));
    let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
    assert_eq!(run("zkverify", &bad).status.code(), Some(1));
    drop(node);
    let o = run("zkverify", &argv);
    assert_eq!(o.status.code(), Some(2));
}
