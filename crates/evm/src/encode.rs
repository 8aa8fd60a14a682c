//! Encodings for the EVM and for snarkjs: verifier contracts rendered from verifying keys,
//! proofs and public inputs as calldata, and `proof.json` / `public.json` /
//! `verification_key.json`.

use alloy_primitives::{B256, U256, keccak256};
use alloy_sol_types::SolCall;
use ark_bn254::{Bn254, Fq, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::{Proof, VerifyingKey};
use ark_serialize::CanonicalSerialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use trustspace_zk::ProofBundle;
use trustspace_zk::VerifyingKeys;
use trustspace_zk::bundle::proof_from_hex;
use trustspace_zk::circuit::genesis;

use crate::TrustspaceRegistry::{self, Bundle};
use crate::error::{EvmError, Result};

/// A base-field element as a 256-bit word.
pub fn fq_word(x: &Fq) -> U256 {
    U256::from_be_slice(&x.into_bigint().to_bytes_be())
}

/// A scalar-field element as a 256-bit word.
pub fn fr_word(x: &Fr) -> U256 {
    U256::from_be_slice(&x.into_bigint().to_bytes_be())
}

/// A 32-byte digest as a word.
pub fn digest_word(d: &[u8; 32]) -> B256 {
    B256::from(*d)
}

fn g1(p: &G1Affine) -> [U256; 2] {
    match p.xy() {
        Some((x, y)) => [fq_word(&x), fq_word(&y)],
        None => [U256::ZERO; 2],
    }
}

/// A G2 point in EIP-197 order: `[[x.c1, x.c0], [y.c1, y.c0]]` (imaginary part first).
fn g2(p: &G2Affine) -> [[U256; 2]; 2] {
    match p.xy() {
        Some((x, y)) => [
            [fq_word(&x.c1), fq_word(&x.c0)],
            [fq_word(&y.c1), fq_word(&y.c0)],
        ],
        None => [[U256::ZERO; 2]; 2],
    }
}

/// A proof in the registry's and verifiers' ABI.
pub fn proof_abi(p: &Proof<Bn254>) -> TrustspaceRegistry::Proof {
    TrustspaceRegistry::Proof {
        a: g1(&p.a),
        b: g2(&p.b),
        c: g1(&p.c),
    }
}

/// Digest of one verifying key, as embedded in its verifier contract (`vkDigest()`).
pub fn vk_digest(vk: &VerifyingKey<Bn254>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"trustspace-evm-vk-v1\0");
    let mut b = Vec::new();
    vk.serialize_compressed(&mut b).expect("serializable");
    h.update(b);
    h.finalize().into()
}

/// The accumulator before the first chunk, as registered with the policy (0 without aggregates).
pub fn policy_genesis(keys: &VerifyingKeys) -> U256 {
    if keys.counters > 0 {
        fr_word(&genesis(keys.counters))
    } else {
        U256::ZERO
    }
}

fn word_literal(x: U256) -> String {
    format!("0x{:064x}", x)
}

/// Renders the Solidity verifier for one verifying key (`contract NAME`, importing
/// `./IGroth16Verifier.sol`). `circuit` is a comment naming what the key is for.
pub fn render_verifier(vk: &VerifyingKey<Bn254>, name: &str, circuit: &str) -> Result<String> {
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(EvmError::Format {
            what: "contract name".into(),
            reason: format!("`{name}` is not a Solidity identifier"),
        });
    }
    if vk.gamma_abc_g1.is_empty() {
        return Err(EvmError::Format {
            what: "verifying key".into(),
            reason: "no gamma_abc points".into(),
        });
    }
    let alpha = g1(&vk.alpha_g1);
    let [beta_x, beta_y] = g2(&vk.beta_g2);
    let [gamma_x, gamma_y] = g2(&vk.gamma_g2);
    let [delta_x, delta_y] = g2(&vk.delta_g2);
    let mut ic = String::new();
    for (i, p) in vk.gamma_abc_g1.iter().enumerate() {
        let [x, y] = g1(p);
        ic.push_str(&format!(
            "        p[{}] = {};\n        p[{}] = {};\n",
            2 * i,
            word_literal(x),
            2 * i + 1,
            word_literal(y)
        ));
    }
    let circuit: String = circuit.chars().filter(|c| !c.is_control()).collect();
    let subs: [(&str, String); 20] = [
        ("{{NAME}}", name.to_string()),
        ("{{CIRCUIT}}", circuit),
        ("{{ALPHA_X}}", word_literal(alpha[0])),
        ("{{ALPHA_Y}}", word_literal(alpha[1])),
        ("{{BETA_X1}}", word_literal(beta_x[0])),
        ("{{BETA_X0}}", word_literal(beta_x[1])),
        ("{{BETA_Y1}}", word_literal(beta_y[0])),
        ("{{BETA_Y0}}", word_literal(beta_y[1])),
        ("{{GAMMA_X1}}", word_literal(gamma_x[0])),
        ("{{GAMMA_X0}}", word_literal(gamma_x[1])),
        ("{{GAMMA_Y1}}", word_literal(gamma_y[0])),
        ("{{GAMMA_Y0}}", word_literal(gamma_y[1])),
        ("{{DELTA_X1}}", word_literal(delta_x[0])),
        ("{{DELTA_X0}}", word_literal(delta_x[1])),
        ("{{DELTA_Y1}}", word_literal(delta_y[0])),
        ("{{DELTA_Y0}}", word_literal(delta_y[1])),
        ("{{INPUTS}}", (vk.gamma_abc_g1.len() - 1).to_string()),
        ("{{VK_DIGEST}}", format!("0x{}", hex::encode(vk_digest(vk)))),
        ("{{IC_WORDS}}", (2 * vk.gamma_abc_g1.len()).to_string()),
        ("{{IC}}", ic.trim_end().to_string()),
    ];
    let mut out = crate::VERIFIER_TEMPLATE.to_string();
    for (k, v) in subs {
        out = out.replace(k, &v);
    }
    Ok(out)
}

/// Calldata of `verifyProof(a, b, c, input)` on a rendered verifier.
pub fn verify_proof_calldata(p: &Proof<Bn254>, inputs: &[Fr]) -> Vec<u8> {
    let p = proof_abi(p);
    TrustspaceRegistry::verifyProofCall {
        a: p.a,
        b: p.b,
        c: p.c,
        input: inputs.iter().map(fr_word).collect(),
    }
    .abi_encode()
}

/// The registry's [`Bundle`] argument for a proof bundle: chunk roots, accumulator chain,
/// proofs and revealed values (the registry derives the other public inputs itself).
pub fn bundle_abi(bundle: &ProofBundle) -> Result<Bundle> {
    let aggregates = bundle.final_.is_some();
    let mut chunk_roots = Vec::with_capacity(bundle.chunks.len());
    let mut accs = Vec::new();
    let mut proofs = Vec::with_capacity(bundle.chunks.len());
    for (i, c) in bundle.chunks.iter().enumerate() {
        let x = &c.public_inputs;
        let want = trustspace_zk::keys::chunk_inputs(usize::from(aggregates));
        if x.len() != want {
            return Err(EvmError::Format {
                what: format!("chunk {i}"),
                reason: format!("{} public inputs, expected {want}", x.len()),
            });
        }
        chunk_roots.push(fr_word(&x[1]));
        if aggregates {
            if i == 0 {
                accs.push(fr_word(&x[4]));
            }
            accs.push(fr_word(&x[5]));
        }
        proofs.push(proof_abi(&proof_from_hex(&c.proof, &format!("chunk {i}"))?));
    }
    let (final_proof, revealed) = match &bundle.final_ {
        Some(f) => (
            proof_abi(&proof_from_hex(&f.proof, "final proof")?),
            f.public_inputs.iter().skip(3).map(fr_word).collect(),
        ),
        None => (
            TrustspaceRegistry::Proof {
                a: [U256::ZERO; 2],
                b: [[U256::ZERO; 2]; 2],
                c: [U256::ZERO; 2],
            },
            Vec::new(),
        ),
    };
    Ok(Bundle {
        chunkRoots: chunk_roots,
        accs,
        chunkProofs: proofs,
        finalProof: final_proof,
        revealed,
    })
}

/// keccak256 of the chunk roots as 32-byte words, as the registry stores it.
pub fn chunk_roots_hash(roots: &[U256]) -> B256 {
    let mut b = Vec::with_capacity(32 * roots.len());
    for r in roots {
        b.extend_from_slice(&r.to_be_bytes::<32>());
    }
    keccak256(b)
}

/// Calldata of `verifyBundle(root, owner, vkDigest, bundle)` on the registry.
pub fn verify_bundle_calldata(bundle: &ProofBundle, keys_digest: &[u8; 32]) -> Result<Vec<u8>> {
    Ok(TrustspaceRegistry::verifyBundleCall {
        root: B256::from(fr_word(&bundle.commitment.root).to_be_bytes::<32>()),
        owner: crate::state::owner_account(&bundle.commitment.owner)?,
        vkDigest: B256::from(*keys_digest),
        b: bundle_abi(bundle)?,
    }
    .abi_encode())
}

fn dec(x: &Fq) -> String {
    x.to_string()
}

fn g1_json(p: &G1Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([dec(&x), dec(&y), "1"]),
        None => json!(["0", "1", "0"]),
    }
}

/// snarkjs order: `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]` (real part first, unlike EIP-197).
fn g2_json(p: &G2Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([
            [dec(&x.c0), dec(&x.c1)],
            [dec(&y.c0), dec(&y.c1)],
            ["1", "0"]
        ]),
        None => json!([["0", "0"], ["1", "0"], ["0", "0"]]),
    }
}

/// snarkjs `proof.json`.
pub fn snarkjs_proof(p: &Proof<Bn254>) -> Value {
    json!({
        "pi_a": g1_json(&p.a),
        "pi_b": g2_json(&p.b),
        "pi_c": g1_json(&p.c),
        "protocol": "groth16",
        "curve": "bn128",
    })
}

/// snarkjs `public.json`: decimal strings.
pub fn snarkjs_public(inputs: &[Fr]) -> Value {
    Value::Array(
        inputs
            .iter()
            .map(|x| Value::String(x.to_string()))
            .collect(),
    )
}

/// snarkjs `verification_key.json`.
pub fn snarkjs_vk(vk: &VerifyingKey<Bn254>) -> Value {
    json!({
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.gamma_abc_g1.len().saturating_sub(1),
        "vk_alpha_1": g1_json(&vk.alpha_g1),
        "vk_beta_2": g2_json(&vk.beta_g2),
        "vk_gamma_2": g2_json(&vk.gamma_g2),
        "vk_delta_2": g2_json(&vk.delta_g2),
        "IC": vk.gamma_abc_g1.iter().map(g1_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::CurveGroup;
    use ark_ff::UniformRand;
    use rand::SeedableRng;

    fn vk() -> VerifyingKey<Bn254> {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        VerifyingKey {
            alpha_g1: G1Affine::rand(&mut rng),
            beta_g2: G2Affine::rand(&mut rng),
            gamma_g2: G2Affine::rand(&mut rng),
            delta_g2: G2Affine::rand(&mut rng),
            gamma_abc_g1: (0..4).map(|_| G1Affine::rand(&mut rng)).collect(),
        }
    }

    #[test]
    fn g2_points_are_in_eip197_order() {
        let p = (G2Affine::generator() * Fr::from(3u8)).into_affine();
        let w = g2(&p);
        assert_eq!(w[0], [fq_word(&p.x.c1), fq_word(&p.x.c0)]);
        assert_eq!(w[1], [fq_word(&p.y.c1), fq_word(&p.y.c0)]);
        // snarkjs is the other way round.
        let j = g2_json(&p);
        assert_eq!(j[0][0], p.x.c0.to_string());
        assert_eq!(j[0][1], p.x.c1.to_string());
    }

    #[test]
    fn verifiers_render_every_constant() {
        let vk = vk();
        let src = render_verifier(&vk, "V", "test").unwrap();
        assert!(!src.contains("{{"), "unrendered placeholder");
        assert!(src.contains("contract V is IGroth16Verifier"));
        assert!(src.contains("uint256 internal constant INPUTS = 3;"));
        assert!(src.contains("uint256[8] memory p"));
        assert!(src.contains(&format!("0x{}", hex::encode(vk_digest(&vk)))));
        let [bx, _] = g2(&vk.beta_g2);
        assert!(src.contains(&format!("BETA_X1 = {}", word_literal(bx[0]))));
        for bad in ["", "1V", "V;", "a b", "V\n"] {
            let e = render_verifier(&vk, bad, "");
            assert!(
                matches!(&e, Err(EvmError::Format { what, .. }) if what == "contract name"),
                "{bad:?}: {e:?}"
            );
        }
        // A comment cannot break out of its line.
        let src = render_verifier(&vk, "V", "x\ncontract Evil {}").unwrap();
        assert!(src.contains("// Circuit: xcontract Evil {}"));
    }

    #[test]
    fn digests_name_the_keys() {
        let a = vk();
        let mut b = a.clone();
        b.gamma_abc_g1.swap(1, 2);
        assert_ne!(vk_digest(&a), vk_digest(&b));
        assert_eq!(vk_digest(&a), vk_digest(&a.clone()));
    }

    #[test]
    fn chunk_roots_hash_is_keccak_of_packed_words() {
        let roots = [U256::from(1u8), U256::from(2u8)];
        let mut b = [0u8; 64];
        b[31] = 1;
        b[63] = 2;
        assert_eq!(chunk_roots_hash(&roots), keccak256(b));
    }

    #[test]
    fn calldata_carries_inputs_as_words() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let p = Proof::<Bn254> {
            a: G1Affine::rand(&mut rng),
            b: G2Affine::rand(&mut rng),
            c: G1Affine::rand(&mut rng),
        };
        let x = [Fr::from(7u8), -Fr::from(1u8)];
        let data = verify_proof_calldata(&p, &x);
        let call = TrustspaceRegistry::verifyProofCall::abi_decode(&data).unwrap();
        assert_eq!(call.input, vec![U256::from(7u8), fr_word(&-Fr::from(1u8))]);
        assert_eq!(call.a, g1(&p.a));
        assert_eq!(call.b, g2(&p.b));
    }
}
