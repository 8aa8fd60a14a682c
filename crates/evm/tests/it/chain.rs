//! The registry and verifiers on a real local node (ganache): deploy, register, verify on chain
//! and off chain from proven storage, and everything that must be refused — tampered proofs,
//! wrong inputs, inputs >= r, unregistered datasets, re-registration, and a lying RPC — each
//! by its cause.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use ark_bn254::Fr;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_evm::TrustspaceRegistry;
use trustspace_evm::TrustspaceRegistry::TrustspaceRegistryErrors as RegistryError;
use trustspace_evm::encode::{proof_abi, render_verifier, verify_proof_calldata};
use trustspace_evm::rpc::{Registry, Rpc, call_verifier, dataset_key, deploy, estimate_gas};
use trustspace_evm::state::{BlockRef, header, verify_against_chain};
use trustspace_evm::{Absent, Forgery, Revert};
use trustspace_evm::{EvmError, encode::fr_word};
use trustspace_zk::bundle::proof_from_hex;
use trustspace_zk::{Compiled, Policy, ProofBundle, reference, setup};

use crate::common::node::{Node, compile};
use crate::common::proxy::{Lie, Proxy};
use crate::common::world::{CHUNK, world};

fn chunk_roots(b: &ProofBundle) -> Vec<Fr> {
    b.chunks.iter().map(|c| c.public_inputs[1]).collect()
}

struct Deployed {
    registry: Registry,
    from: Address,
    chunk_verifier: Address,
    final_verifier: Address,
}

/// Deploys the registry and both verifiers, registers the policy and the dataset.
fn deploy_all(node: &Node) -> Deployed {
    let w = world();
    let rpc = Rpc::new(&node.url);
    let from = rpc.accounts().unwrap()[0];
    assert_eq!(
        from.as_slice(),
        &crate::common::world::CHAIN_ACCOUNT,
        "the world's commitments name the node's first account as their owner"
    );
    let (registry, r) = Registry::deploy(rpc.clone(), from).unwrap();
    println!("gas: deploy registry {}", r.gas_used);
    let src = render_verifier(&w.vk.chunk, "ChunkVerifier", "test chunk").unwrap();
    let (chunk_verifier, r) = deploy(&rpc, from, &compile(&src, "ChunkVerifier")).unwrap();
    println!("gas: deploy chunk verifier {}", r.gas_used);
    let fvk = w.vk.final_.as_ref().unwrap();
    let src = render_verifier(fvk, "FinalVerifier", "test final").unwrap();
    let (final_verifier, _) = deploy(&rpc, from, &compile(&src, "FinalVerifier")).unwrap();
    let r = registry
        .register_policy(from, &w.vk, chunk_verifier, Some(final_verifier))
        .unwrap();
    println!("gas: registerPolicy {}", r.gas_used);
    let r = registry
        .register_dataset(
            from,
            &w.bundle.commitment,
            &chunk_roots(&w.bundle),
            B256::repeat_byte(0x11),
        )
        .unwrap();
    println!("gas: registerDataset (2 chunk roots) {}", r.gas_used);
    Deployed {
        registry,
        from,
        chunk_verifier,
        final_verifier,
    }
}

/// The registry's or a verifier's custom error that a call reverted with.
fn registry_error(e: EvmError) -> RegistryError {
    match e {
        EvmError::Reverted {
            revert: Revert::Registry(r),
            ..
        } => r,
        other => panic!("expected a revert with the registry's error, got {other}"),
    }
}

#[test]
fn verifiers_accept_real_proofs_and_refuse_the_rest() {
    let w = world();
    let node = Node::start();
    let d = deploy_all(&node);
    let rpc = &d.registry.rpc;

    for (i, c) in w.bundle.chunks.iter().enumerate() {
        let proof = proof_from_hex(&c.proof, "chunk").unwrap();
        assert!(
            call_verifier(rpc, d.chunk_verifier, &proof, &c.public_inputs).unwrap(),
            "chunk {i}"
        );
        let gas = estimate_gas(
            rpc,
            d.chunk_verifier,
            &verify_proof_calldata(&proof, &c.public_inputs),
        )
        .unwrap();
        println!(
            "gas: verifyProof, chunk proof, {} public inputs: {gas}",
            c.public_inputs.len()
        );
        assert!(gas < 260_000, "chunk verification gas {gas}");
    }
    let f = w.bundle.final_.as_ref().unwrap();
    let fproof = proof_from_hex(&f.proof, "final").unwrap();
    assert!(call_verifier(rpc, d.final_verifier, &fproof, &f.public_inputs).unwrap());
    let gas = estimate_gas(
        rpc,
        d.final_verifier,
        &verify_proof_calldata(&fproof, &f.public_inputs),
    )
    .unwrap();
    println!(
        "gas: verifyProof, final proof, {} public inputs: {gas}",
        f.public_inputs.len()
    );
    assert_eq!(f.public_inputs.len(), 4);
    assert!(
        gas < 250_000,
        "verification of a 4-input proof must stay under 250k gas: {gas}"
    );

    // A proof for other inputs, or another proof, does not verify.
    let c0 = &w.bundle.chunks[0];
    let p0 = proof_from_hex(&c0.proof, "chunk").unwrap();
    let mut wrong = c0.public_inputs.clone();
    wrong[2] += Fr::from(1u8);
    assert!(!call_verifier(rpc, d.chunk_verifier, &p0, &wrong).unwrap());
    let p1 = proof_from_hex(&w.bundle.chunks[1].proof, "chunk").unwrap();
    assert!(!call_verifier(rpc, d.chunk_verifier, &p1, &c0.public_inputs).unwrap());
    // A tampered proof point: swapped A and C (both on the curve).
    let mut t = p0.clone();
    std::mem::swap(&mut t.a, &mut t.c);
    assert!(!call_verifier(rpc, d.chunk_verifier, &t, &c0.public_inputs).unwrap());
    // A point off the curve: the precompile fails, the verifier says no.
    let mut abi = proof_abi(&p0);
    abi.a[1] += U256::from(1u8);
    let input: Vec<U256> = c0.public_inputs.iter().map(fr_word).collect();
    let call = TrustspaceRegistry::verifyProofCall {
        a: abi.a,
        b: abi.b,
        c: abi.c,
        input: input.clone(),
    };
    let out = rpc
        .eth_call(
            "verifyProof",
            d.chunk_verifier,
            &call.abi_encode(),
            "latest",
        )
        .unwrap();
    assert!(!TrustspaceRegistry::verifyProofCall::abi_decode_returns(&out).unwrap());

    // Inputs >= r are refused (x + r would otherwise alias x in the precompile).
    let r = U256::from_str_radix(
        "21888242871839275222246405745257275088548364400416034343698204186575808495617",
        10,
    )
    .unwrap();
    let good = proof_abi(&proof_from_hex(&c0.proof, "chunk").unwrap());
    for bad in [input[1] + r, r, U256::MAX] {
        let mut x = input.clone();
        x[1] = bad;
        let call = TrustspaceRegistry::verifyProofCall {
            a: good.a,
            b: good.b,
            c: good.c,
            input: x,
        };
        let e = rpc
            .eth_call(
                "verifyProof",
                d.chunk_verifier,
                &call.abi_encode(),
                "latest",
            )
            .unwrap_err();
        // The verifiers report the index of the input (the registry's error of the same
        // signature reports the value).
        let e = registry_error(e);
        assert!(
            matches!(&e, RegistryError::InputNotInField(x) if x.value == U256::from(1u8)),
            "{bad}: {e:?}"
        );
    }
    // A wrong number of inputs.
    let call = TrustspaceRegistry::verifyProofCall {
        a: good.a,
        b: good.b,
        c: good.c,
        input: input[..4].to_vec(),
    };
    let e = rpc
        .eth_call(
            "verifyProof",
            d.chunk_verifier,
            &call.abi_encode(),
            "latest",
        )
        .unwrap_err();
    let e = registry_error(e);
    assert!(
        matches!(&e, RegistryError::WrongInputCount(x)
            if x.given == U256::from(4u8) && x.expected == U256::from(input.len())),
        "{e:?}"
    );
}

#[test]
fn registry_verifies_bundles_and_records_verdicts() {
    let w = world();
    let node = Node::start();
    let d = deploy_all(&node);
    let reg = &d.registry;

    // No overwrite.
    let e = reg
        .register_dataset(
            d.from,
            &w.bundle.commitment,
            &chunk_roots(&w.bundle),
            B256::ZERO,
        )
        .unwrap_err();
    let e = registry_error(e);
    assert!(
        matches!(&e, RegistryError::AlreadyRegistered(x) if x.key == dataset_key(&w.bundle.commitment).unwrap()),
        "{e:?}"
    );
    let e = reg
        .register_policy(d.from, &w.vk, d.chunk_verifier, Some(d.final_verifier))
        .unwrap_err();
    let e = registry_error(e);
    assert!(
        matches!(&e, RegistryError::AlreadyRegistered(x) if x.key == B256::from(w.vk.digest())),
        "{e:?}"
    );

    // A front-runner copies the owner's registration (same root, its own account): the
    // registry files it under the front-runner's key, so it blocks nobody, and the bundle is
    // read and verified against the owner's entry.
    let c = &w.bundle.commitment;
    let copied = TrustspaceRegistry::registerDatasetCall {
        root: trustspace_evm::rpc::root_key(c),
        schemaDigest: B256::from(c.schema_digest),
        records: U256::from(c.records),
        chunkSize: U256::from(c.chunk_size),
        metadataHash: B256::ZERO,
        chunkRoots: chunk_roots(&w.bundle).iter().map(fr_word).collect(),
    };
    let rpc = Rpc::new(&node.url);
    let front_runner = rpc.accounts().unwrap()[1];
    rpc.transact(
        "registerDataset",
        front_runner,
        Some(reg.address),
        &copied.abi_encode(),
    )
    .unwrap();
    let seen = verify_against_chain(&rpc, reg.address, BlockRef::Latest, &w.bundle, &w.vk).unwrap();
    assert_eq!(seen.dataset.owner, d.from);

    // Before verification: nothing recorded, and the off-chain check says so.
    assert!(
        !reg.verdict(dataset_key(&w.bundle.commitment).unwrap(), &w.vk)
            .unwrap()
    );
    reg.check_bundle(&w.bundle, &w.vk, "latest").unwrap();
    let r = reg.verify_bundle(d.from, &w.bundle, &w.vk).unwrap();
    println!(
        "gas: verifyBundle (2 chunk proofs + final proof) {}",
        r.gas_used
    );
    assert!(
        reg.verdict(dataset_key(&w.bundle.commitment).unwrap(), &w.vk)
            .unwrap()
    );

    // Off chain, from proven storage at the trusted block hash.
    let latest = header(&reg.rpc, BlockRef::Latest).unwrap();
    let v = verify_against_chain(
        &reg.rpc,
        reg.address,
        BlockRef::Hash(latest.hash),
        &w.bundle,
        &w.vk,
    )
    .unwrap();
    assert_eq!(v.dataset.commitment, w.bundle.commitment);
    assert_eq!(v.verified.records, 40);
    assert_eq!(v.policy.chunk_verifier, d.chunk_verifier);
    assert_eq!(v.verdict.as_ref().unwrap().submitter, d.from);
    // At the block before the verdict, none was recorded.
    let before = header(&reg.rpc, BlockRef::Number(latest.header.number - 1)).unwrap();
    let v = verify_against_chain(
        &reg.rpc,
        reg.address,
        BlockRef::Hash(before.hash),
        &w.bundle,
        &w.vk,
    )
    .unwrap();
    assert!(v.verdict.is_none());

    // Tampered bundles are refused on chain.
    let proof_invalid = |e: EvmError, index: u8| {
        let e = registry_error(e);
        assert!(
            matches!(&e, RegistryError::ProofInvalid(x) if x.index == U256::from(index)),
            "expected ProofInvalid({index}), got {e:?}"
        );
    };
    let mismatch = |e: EvmError, reason: &str| {
        let e = registry_error(e);
        assert!(
            matches!(&e, RegistryError::Mismatch(x) if x.reason == reason),
            "expected Mismatch({reason:?}), got {e:?}"
        );
    };
    let mut t = w.bundle.clone();
    t.chunks[1].proof = t.chunks[0].proof.clone();
    proof_invalid(reg.check_bundle(&t, &w.vk, "latest").unwrap_err(), 1);
    proof_invalid(reg.verify_bundle(d.from, &t, &w.vk).unwrap_err(), 1);
    // ... and off chain.
    assert!(matches!(
        verify_against_chain(&reg.rpc, reg.address, BlockRef::Latest, &t, &w.vk).unwrap_err(),
        EvmError::Zk(_)
    ));
    // A wrong revealed value: the final proof (index 2) fails.
    let mut t = w.bundle.clone();
    let f = t.final_.as_mut().unwrap();
    f.public_inputs[3] += Fr::from(1u8);
    proof_invalid(reg.check_bundle(&t, &w.vk, "latest").unwrap_err(), 2);
    // A wrong chunk root: not the registered ones.
    let mut t = w.bundle.clone();
    t.chunks[0].public_inputs[1] += Fr::from(1u8);
    mismatch(
        reg.check_bundle(&t, &w.vk, "latest").unwrap_err(),
        "chunk roots",
    );
    // A broken accumulator chain.
    let mut t = w.bundle.clone();
    t.chunks[0].public_inputs[4] += Fr::from(1u8);
    mismatch(
        reg.check_bundle(&t, &w.vk, "latest").unwrap_err(),
        "accumulators",
    );

    // An unregistered dataset: on chain and off chain.
    let mut t = w.bundle.clone();
    t.commitment = w.other.clone();
    let e = registry_error(reg.check_bundle(&t, &w.vk, "latest").unwrap_err());
    assert!(
        matches!(&e, RegistryError::NotRegistered(x) if x.key == dataset_key(&w.other).unwrap()),
        "{e:?}"
    );
    let e = verify_against_chain(&reg.rpc, reg.address, BlockRef::Latest, &t, &w.vk).unwrap_err();
    assert!(
        matches!(&e, EvmError::NotRegistered(Absent::Dataset { key, .. }) if *key == dataset_key(&w.other).unwrap()),
        "{e}"
    );
    // No contract at all at the address: proven absent.
    let nowhere = Address::repeat_byte(0x42);
    let e =
        verify_against_chain(&reg.rpc, nowhere, BlockRef::Latest, &w.bundle, &w.vk).unwrap_err();
    assert!(
        matches!(&e, EvmError::NotRegistered(Absent::Account { address, .. }) if *address == nowhere),
        "{e}"
    );
    // Chunk roots that do not combine into the root are refused before anything is sent.
    let mut roots = chunk_roots(&w.bundle);
    roots.swap(0, 1);
    assert!(matches!(
        reg.register_dataset(d.from, &w.other, &roots, B256::ZERO)
            .unwrap_err(),
        EvmError::Zk(_)
    ));
    // Keys that were never registered.
    let g = Generator::new(Spec::new(Table::Encounters, 8, 1)).unwrap();
    let policy = Policy::from_toml(
        &reference::healthcare_policy(),
        "reference",
        None,
        g.schema(),
    )
    .unwrap();
    let compiled = Compiled::new(g.schema(), &policy, CHUNK).unwrap();
    let (_, other_vk) = setup(&compiled, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
    assert_ne!(other_vk.digest(), w.vk.digest());
    let e = registry_error(
        reg.check_bundle(&w.bundle, &other_vk, "latest")
            .unwrap_err(),
    );
    assert!(
        matches!(&e, RegistryError::NotRegistered(x) if x.key == B256::from(other_vk.digest())),
        "{e:?}"
    );
    let e = verify_against_chain(
        &reg.rpc,
        reg.address,
        BlockRef::Latest,
        &w.bundle,
        &other_vk,
    )
    .unwrap_err();
    assert!(
        matches!(&e, EvmError::NotRegistered(Absent::Policy { keys_digest: k, .. })
            if *k == other_vk.digest()),
        "{e}"
    );
}

#[test]
fn a_lying_rpc_is_caught() {
    let w = world();
    let node = Node::start();
    let d = deploy_all(&node);
    let reg = &d.registry;
    let trusted = header(&reg.rpc, BlockRef::Latest).unwrap();
    verify_against_chain(
        &reg.rpc,
        reg.address,
        BlockRef::Hash(trusted.hash),
        &w.bundle,
        &w.vk,
    )
    .unwrap();

    for lie in [
        Lie::StorageValue,
        Lie::StorageProof,
        Lie::StorageRoot,
        Lie::HeaderStateRoot,
        Lie::HeaderForgedConsistently,
    ] {
        let proxy = Proxy::start(&node.url, lie);
        let rpc = Rpc::new(&proxy.url);
        let e = verify_against_chain(
            &rpc,
            reg.address,
            BlockRef::Hash(trusted.hash),
            &w.bundle,
            &w.vk,
        )
        .unwrap_err();
        assert!(caught(lie, true, &e), "{lie:?}: {e}");
        println!("{lie:?}: {e}");
        // Without a trusted hash: an inconsistent header fails its own hash, and a forged but
        // self-consistent one (whose hash would differ from the one reported) fails the proofs.
        let e = verify_against_chain(
            &rpc,
            reg.address,
            BlockRef::Number(trusted.header.number),
            &w.bundle,
            &w.vk,
        )
        .unwrap_err();
        assert!(caught(lie, false, &e), "{lie:?} by number: {e}");
    }
}

/// Whether a lie was caught by the check that must catch it: forged storage by its storage
/// proof, a forged storage root by the account proof, and a forged header by the trusted hash
/// (`by_hash`), else by its own claimed hash, else (forged consistently) by the account proof.
fn caught(lie: Lie, by_hash: bool, e: &EvmError) -> bool {
    let EvmError::Untrusted(f) = e else {
        return false;
    };
    match lie {
        Lie::StorageValue | Lie::StorageProof => matches!(f, Forgery::StorageProof { .. }),
        Lie::StorageRoot => matches!(f, Forgery::AccountProof { .. }),
        _ if by_hash => matches!(f, Forgery::HeaderNotTrusted { .. }),
        Lie::HeaderStateRoot => matches!(f, Forgery::HeaderHashClaim { .. }),
        Lie::HeaderForgedConsistently => matches!(f, Forgery::AccountProof { .. }),
    }
}

#[test]
fn a_local_key_signs_deploys_registrations_and_verdicts() {
    use trustspace_evm::rpc::Sender;
    let w = world();
    let node = Node::start();
    let rpc = Rpc::new(&node.url);
    let funder = rpc.accounts().unwrap()[0];
    let key =
        alloy_signer_local::PrivateKeySigner::from_bytes(&crate::common::world::LOCAL_KEY.into())
            .unwrap();
    let me = key.address();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.hex");
    std::fs::write(&key_file, format!("0x{}\n", hex::encode(key.to_bytes()))).unwrap();
    let sender = Sender::from_key_file(&key_file).unwrap();
    assert_eq!(sender.address(), me);
    std::fs::write(dir.path().join("bad.hex"), "0x1234").unwrap();
    let e = Sender::from_key_file(&dir.path().join("bad.hex")).unwrap_err();
    assert!(
        matches!(&e, EvmError::Format { what, .. } if what.starts_with("key file")),
        "{e}"
    );

    // Unfunded, the node refuses the transaction.
    let e = Registry::deploy(rpc.clone(), &sender).unwrap_err();
    assert!(
        matches!(
            &e,
            EvmError::Reverted {
                revert: Revert::Node(_),
                ..
            }
        ),
        "{e:?}"
    );
    let _: B256 = rpc
        .call(
            "eth_sendTransaction",
            serde_json::json!([{"from": funder, "to": me, "value": "0xde0b6b3a7640000"}]),
        )
        .unwrap();

    let (registry, _) = Registry::deploy(rpc.clone(), &sender).unwrap();
    let src = render_verifier(&w.vk.chunk, "ChunkVerifier", "test chunk").unwrap();
    let (cv, _) = deploy(&rpc, &sender, &compile(&src, "ChunkVerifier")).unwrap();
    let src =
        render_verifier(w.vk.final_.as_ref().unwrap(), "FinalVerifier", "test final").unwrap();
    let (fv, _) = deploy(&rpc, &sender, &compile(&src, "FinalVerifier")).unwrap();
    registry
        .register_policy(&sender, &w.vk, cv, Some(fv))
        .unwrap();
    registry
        .register_dataset(
            &sender,
            &w.local_bundle.commitment,
            &chunk_roots(&w.local_bundle),
            B256::ZERO,
        )
        .unwrap();
    let e = registry_error(
        registry
            .register_dataset(
                &sender,
                &w.local_bundle.commitment,
                &chunk_roots(&w.local_bundle),
                B256::ZERO,
            )
            .unwrap_err(),
    );
    assert!(
        matches!(&e, RegistryError::AlreadyRegistered(x) if x.key == dataset_key(&w.local_bundle.commitment).unwrap()),
        "{e:?}"
    );
    registry
        .verify_bundle(&sender, &w.local_bundle, &w.vk)
        .unwrap();
    let v = verify_against_chain(
        &rpc,
        registry.address,
        BlockRef::Latest,
        &w.local_bundle,
        &w.vk,
    )
    .unwrap();
    assert_eq!(v.dataset.owner, me);
    assert_eq!(v.policy.issuer, me);
    assert_eq!(v.verdict.unwrap().submitter, me);
}

#[test]
fn committed_artifacts_match_a_fresh_compile() {
    // The registry bytecode built into this crate (contracts/out) is what the pinned solc-js
    // makes of contracts/src today.
    let _ = compile(
        &render_verifier(&world_free_vk(), "Probe", "probe").unwrap(),
        "Probe",
    );
    let out = std::process::Command::new("node")
        .arg(crate::common::node::repo().join("contracts/build.js"))
        .arg("--check")
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A verifying key of the right shape without proving anything (for compile checks).
fn world_free_vk() -> ark_groth16::VerifyingKey<ark_bn254::Bn254> {
    use ark_ec::{AffineRepr, CurveGroup};
    let g1 = ark_bn254::G1Affine::generator();
    let g2 = ark_bn254::G2Affine::generator();
    let two = (g2 * Fr::from(2u8)).into_affine();
    ark_groth16::VerifyingKey {
        alpha_g1: g1,
        beta_g2: g2,
        gamma_g2: two,
        delta_g2: g2,
        gamma_abc_g1: vec![g1; 3],
    }
}
