//! The EVM commands: export verifiers, calldata and snarkjs files, then `zkverify --chain`
//! against a registry on a local node (ganache, started and stopped by the test); in-process,
//! with the binaries checked for a contract's refusal and an unreachable node.

use crate::common::{Proven, heavy, p, prove_args, run, text};
use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_groth16::{Groth16, Proof, VerifyingKey};
use ark_snark::SNARK;
use clap::Parser;
use serde_json::Value;
use std::path::Path;
use std::str::FromStr;
use trustspace_cli::cmd::zkprove::args::{
    ChainArgs, ChainCommand, CommitArgs, ExportCalldataArgs, ExportSnarkjsArgs, ExportVerifierArgs,
    Owner,
};
use trustspace_cli::cmd::zkprove::chain::{ChainSummary, chain};
use trustspace_cli::cmd::zkprove::export::{export_calldata, export_snarkjs, export_verifier};
use trustspace_cli::cmd::zkprove::{commit, prove};
use trustspace_cli::cmd::zkverify::{self, Cause, Failure, Kind};
use trustspace_evm::rpc::{Address, Rpc};
use trustspace_evm::{ChainMismatch, EvmError};
use trustspace_zk::{ProofBundle, VerifyingKeys};

#[path = "../../../evm/tests/it/common/node.rs"]
#[allow(dead_code)]
mod node;

/// An account as `0x` and 40 hex digits.
fn issuer_hex(a: &Address) -> String {
    format!("0x{}", hex::encode(a.as_slice()))
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

/// `zkverify ARGS` in-process.
fn zkverify(args: &[String]) -> Result<zkverify::Outcome, Failure> {
    let argv = std::iter::once("zkverify".to_string()).chain(args.iter().cloned());
    zkverify::verify(&zkverify::Cli::try_parse_from(argv).unwrap())
}

fn address(s: &str) -> Address {
    s.parse().unwrap()
}

#[test]
fn export_and_verify_against_a_registry_on_chain() {
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let d = Proven::install(dir.path());
    let keys = p(&d, "verifying.json");
    let bundle_path = p(&d, "bundle.json");

    // Verifiers.
    let evm = d.join("evm");
    let summary = export_verifier(&ExportVerifierArgs {
        keys: keys.clone().into(),
        out: evm.clone(),
    })
    .unwrap();
    assert!(evm.join("IGroth16Verifier.sol").is_file());
    assert_eq!(
        summary.files,
        [
            "ChunkVerifier.sol",
            "FinalVerifier.sol",
            "IGroth16Verifier.sol"
        ]
    );
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
    let exported = export_snarkjs(&ExportSnarkjsArgs {
        keys: keys.clone().into(),
        bundle: bundle_path.clone().into(),
        out: sj.clone(),
    })
    .unwrap();
    assert_eq!(exported.proofs, 4);
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
    // On a chain, a commitment names the registering account as its owner. The fixture's was
    // made for a ledger key: kept aside (its registration is refused below), the holder commits
    // and proves again for the node's first account.
    let ledger_commitment = d.join("ledger-commitment.json");
    std::fs::rename(d.join("commitment.json"), &ledger_commitment).unwrap();
    let account = rpc.accounts().unwrap()[0];
    commit::commit(&CommitArgs {
        schema: d.join("encounters.schema.toml"),
        data: d.join("encounters.csv"),
        chunk_size: 16,
        owner: Owner::Account(account.into_array()),
        out: d.to_path_buf(),
    })
    .unwrap();
    prove::prove(
        &prove_args(&d, "encounters.policy.toml", "bundle.json"),
        true,
    )
    .unwrap();
    let on_chain = |key: Option<&Path>, what: ChainCommand| -> ChainSummary {
        chain(&ChainArgs {
            rpc: node.url.clone(),
            from: None,
            key: key.map(Path::to_path_buf),
            what,
        })
        .unwrap()
    };
    let deploy_registry = |key: Option<&Path>| match on_chain(key, ChainCommand::DeployRegistry) {
        ChainSummary::Registry { registry, .. } => address(&registry),
        other => panic!("{other:?}"),
    };
    let deploy_verifier = |name: &str| {
        let artifact = evm.join(format!("{name}.json"));
        match on_chain(None, ChainCommand::DeployVerifier { artifact }) {
            ChainSummary::Verifier { verifier, .. } => address(&verifier),
            other => panic!("{other:?}"),
        }
    };
    let registry = deploy_registry(None);
    let empty_registry = deploy_registry(None);
    let cv = deploy_verifier("ChunkVerifier");
    let fv = deploy_verifier("FinalVerifier");
    let vk = VerifyingKeys::load(Path::new(&keys)).unwrap();
    let bundle = ProofBundle::load(Path::new(&bundle_path)).unwrap();
    let register_policy = |key: Option<&Path>, registry: Address, chunk: Address, fin: Address| {
        on_chain(
            key,
            ChainCommand::RegisterPolicy {
                registry: registry.to_string(),
                keys: keys.clone().into(),
                chunk_verifier: chunk.to_string(),
                final_verifier: Some(fin.to_string()),
            },
        )
    };
    let reg = register_policy(None, registry, cv, fv);
    assert!(
        matches!(&reg, ChainSummary::Policy { keys_digest, .. } if *keys_digest == summary.keys_digest),
        "{reg:?}"
    );
    assert_eq!(
        summary.keys_digest,
        format!("0x{}", hex::encode(vk.digest()))
    );
    let err = chain(&ChainArgs {
        rpc: node.url.clone(),
        from: None,
        key: None,
        what: ChainCommand::RegisterDataset {
            registry: registry.to_string(),
            commitment: ledger_commitment,
            bundle: bundle_path.clone().into(),
            metadata: String::new(),
        },
    })
    .unwrap_err();
    assert!(
        matches!(
            err.downcast_ref(),
            Some(EvmError::Mismatch(ChainMismatch::NotTheOwner))
        ),
        "{err:#}"
    );
    let commitment = p(&d, "commitment.json");
    let register_dataset = |registry: Address| ChainCommand::RegisterDataset {
        registry: registry.to_string(),
        commitment: commitment.clone().into(),
        bundle: bundle_path.clone().into(),
        metadata: "{\"hospital\":1}".into(),
    };
    on_chain(None, register_dataset(registry));
    // Registering again is refused by the contract, with its reason (through the binary: the
    // error on stderr, exit 1).
    let again = run(
        "zkprove",
        &[
            "chain",
            "--rpc",
            &node.url,
            "register-dataset",
            "--registry",
            &registry.to_string(),
            "--commitment",
            &commitment,
            "--bundle",
            &bundle_path,
            "--metadata",
            "{\"hospital\":1}",
        ],
    );
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("AlreadyRegistered"),
        "{again:?}"
    );
    let err = chain(&ChainArgs {
        rpc: node.url.clone(),
        from: None,
        key: None,
        what: register_dataset(registry),
    })
    .unwrap_err();
    assert!(
        matches!(err.downcast_ref(), Some(EvmError::Reverted { .. })),
        "{err:#}"
    );

    // Calldata: each verifyProof call and the registry's verifyBundle call return true.
    let cd = d.join("calldata.json");
    export_calldata(&ExportCalldataArgs {
        keys: keys.clone().into(),
        bundle: bundle_path.clone().into(),
        out: cd.clone(),
    })
    .unwrap();
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
    let v = on_chain(
        None,
        ChainCommand::Verify {
            registry: registry.to_string(),
            keys: keys.clone().into(),
            bundle: bundle_path.clone().into(),
        },
    );
    assert!(
        matches!(v, ChainSummary::Verified { verified: true, .. }),
        "{v:?}"
    );

    // zkverify --chain, at a trusted block hash, with the contract's answer compared.
    let head =
        trustspace_evm::state::header(&rpc, trustspace_evm::state::BlockRef::Latest).unwrap();
    let addr = registry.to_string();
    let hash = head.hash.to_string();
    let issuer = account.to_string();
    let args_by = |registry: &str, bundle: &str, issuer: &str| -> Vec<String> {
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
            "--issuer",
            issuer,
            bundle,
        ]
        .map(String::from)
        .to_vec()
    };
    let args = |registry: &str, bundle: &str| args_by(registry, bundle, &issuer);
    let o = zkverify(&args(&addr, &bundle_path)).unwrap();
    // Finding 5: a block by number is a state a lying RPC may have made up: not valid unless
    // the verifier says it accepts that; and a policy issued by an account the verifier does
    // not trust is not valid either.
    let mut by_number = args(&addr, &bundle_path);
    by_number[6] = "latest".into();
    let f = zkverify(&by_number).unwrap_err();
    assert!(
        matches!(
            (f.kind(), f.cause()),
            (Kind::Invalid, Cause::UntrustedBlock)
        ),
        "{f:?}"
    );
    let exited = run(
        "zkverify",
        &by_number.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(exited.status.code(), Some(1), "{}", text(&exited));
    by_number.insert(1, "--allow-untrusted-block".into());
    let u = zkverify(&by_number).unwrap();
    assert!(!u.chain.as_ref().unwrap().block_trusted_by_hash);
    let stranger = format!("0x{}", "42".repeat(20));
    let f = zkverify(&args_by(&addr, &bundle_path, &stranger)).unwrap_err();
    assert!(
        matches!((f.kind(), f.cause()), (Kind::Invalid, Cause::IssuerNotTrusted { issuer })
            if issuer.eq_ignore_ascii_case(&issuer_hex(&account))),
        "{f:?}"
    );
    // A --trust configuration: its chain_issuers are trusted; --issuer narrows them (an
    // account outside them is bad input); its pinned keys hold on the chain too.
    let v = trustspace_ledger_verifier::Identity::from_seed(&[3; 32]).public();
    let mut config =
        trustspace_ledger_verifier::LedgerConfig::new("c", vec![v], 1, vec![v]).unwrap();
    config.chain_issuers = vec![account.0.0];
    let trust_path = p(&d, "chain-trust.json");
    let with_trust = |config: &trustspace_ledger_verifier::LedgerConfig, issuer: Option<&str>| {
        config.save(Path::new(&trust_path)).unwrap();
        let mut a = args(&addr, &bundle_path);
        let i = a.iter().position(|x| x == "--issuer").unwrap();
        match issuer {
            Some(issuer) => a[i + 1] = issuer.into(),
            None => {
                a.drain(i..i + 2);
            }
        }
        a.splice(1..1, ["--trust".to_string(), trust_path.clone()]);
        zkverify(&a)
    };
    with_trust(&config, None).unwrap();
    let f = with_trust(&config, Some(&stranger)).unwrap_err();
    assert!(
        matches!((f.kind(), f.cause()), (Kind::BadInput, Cause::Argument(m)) if m.contains("chain_issuers")),
        "{f:?}"
    );
    config.keys = vec![[9; 32]];
    let f = with_trust(&config, None).unwrap_err();
    assert!(
        matches!(
            (f.kind(), f.cause()),
            (Kind::Invalid, Cause::NotInConfiguration { .. })
        ),
        "{f:?}"
    );

    let c = o.chain.as_ref().unwrap();
    assert_eq!(c.onchain.as_deref(), Some("valid"));
    assert!(c.block_trusted_by_hash);
    assert!(c.recorded_verdict.is_some(), "{o:?}");
    assert_eq!(o.records, 40);
    // The verdict names the policy, the keys, the issuer and the owner.
    let genuine = VerifyingKeys::load(Path::new(&keys)).unwrap();
    assert_eq!(c.keys_digest, hex::encode(genuine.digest()));
    assert_eq!(c.policy_digest, hex::encode(genuine.policy_digest));
    assert_eq!(o.binding.keys_digest, c.keys_digest);
    assert_eq!(o.binding.owner, c.dataset_owner);

    // Finding 4: the genuine key points with a revealed value's scale changed (which would
    // print a wrong total) are other keys: no policy is registered under their digest.
    let mut rescaled = genuine.clone();
    rescaled.reveal_scales[0] += 1;
    let rescaled_path = p(&d, "rescaled.json");
    rescaled.save(Path::new(&rescaled_path)).unwrap();
    let mut with_rescaled = args(&addr, &bundle_path);
    let k = with_rescaled.iter().position(|a| a == "--keys").unwrap();
    with_rescaled[k + 1] = rescaled_path;
    let f = zkverify(&with_rescaled).unwrap_err();
    assert!(
        matches!(
            (f.kind(), f.cause()),
            (Kind::Invalid, Cause::Evm(EvmError::NotRegistered { .. }))
        ),
        "{f:?}"
    );

    // Another registry, where nothing is registered: not valid (exit 1).
    let f = zkverify(&args(&empty_registry.to_string(), &bundle_path)).unwrap_err();
    assert!(
        matches!(
            (f.kind(), f.cause()),
            (Kind::Invalid, Cause::Evm(EvmError::NotRegistered { .. }))
        ),
        "{f:?}"
    );
    assert!(
        f.to_string()
            .contains("no dataset with this root and owner"),
        "{f}"
    );

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
    let swapped = deploy_registry(Some(&key_file));
    register_policy(Some(&key_file), swapped, fv, cv);
    // The dataset's owner registers it (the commitment names the node's account).
    on_chain(None, register_dataset(swapped));
    let head =
        trustspace_evm::state::header(&rpc, trustspace_evm::state::BlockRef::Latest).unwrap();
    let mut argv = args_by(&swapped.to_string(), &bundle_path, &me.to_string());
    argv[6] = head.hash.to_string();
    let f = zkverify(&argv).unwrap_err();
    assert!(
        matches!((f.kind(), f.cause()), (Kind::Invalid, Cause::VerifierKeyMismatch { verifier }) if *verifier == fv.to_string()),
        "{f:?}"
    );
    let without: Vec<String> = argv.iter().filter(|a| *a != "--onchain").cloned().collect();
    zkverify(&without).unwrap();

    // A tampered bundle: not valid.
    let mut t = bundle.clone();
    t.chunks[2].proof = t.chunks[1].proof.clone();
    let tampered = p(&d, "tampered.json");
    t.save(Path::new(&tampered)).unwrap();
    let argv = args(&addr, &tampered);
    let f = zkverify(&argv).unwrap_err();
    assert_eq!(f.exit_code(), 1, "{f:?}");

    // A block hash the chain does not have, and an unreachable RPC: bad input or not valid,
    // never valid.
    let mut bad = args(&addr, &bundle_path);
    bad[6] = format!("0x{}", "ab".repeat(32));
    let f = zkverify(&bad).unwrap_err();
    assert_eq!(f.exit_code(), 1, "{f:?}");
    drop(node);
    // Through the binary: exit 2, JSON on stdout.
    let o = run(
        "zkverify",
        &argv.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["exit_code"].as_u64()),
        (Some(false), Some(2))
    );
    let f = zkverify(&argv).unwrap_err();
    assert!(
        matches!(
            (f.kind(), f.cause()),
            (Kind::BadInput, Cause::Evm(EvmError::Rpc { .. }))
        ),
        "{f:?}"
    );
}
