//! A blocking JSON-RPC client and the registry client: deploy, register, read, verify.
//!
//! Transactions are sent by a [`Sender`]: an account the node holds (`eth_sendTransaction`: a
//! development node, or a consortium node with the operator's account unlocked), or a local
//! secp256k1 key (signed here with alloy's local signer, `eth_sendRawTransaction`). Every
//! transaction is simulated with `eth_call` first, so a revert is reported with its decoded
//! reason rather than as a failed receipt.

pub use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::SolCall;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use trustspace_zk::{Commitment, ProofBundle, VerifyingKeys};

use crate::TrustspaceRegistry;
use crate::encode::{digest_word, fr_word, policy_genesis, verify_proof_calldata};
use crate::error::{EvmError, Result, Revert};

/// Who sends transactions.
#[derive(Debug, Clone)]
pub enum Sender {
    /// An account the node holds and signs for (`eth_sendTransaction`).
    Node(Address),
    /// A local key: transactions are signed here (EIP-155 legacy transactions, which every
    /// EVM chain accepts) and sent with `eth_sendRawTransaction`.
    Key(alloy_signer_local::PrivateKeySigner),
}

impl Sender {
    /// The sending address.
    pub fn address(&self) -> Address {
        match self {
            Sender::Node(a) => *a,
            Sender::Key(k) => k.address(),
        }
    }

    /// A local key from a file holding its 32 bytes in hex (`0x` optional).
    pub fn from_key_file(path: &std::path::Path) -> Result<Sender> {
        let bad = |reason: String| EvmError::Format {
            what: format!("key file {}", path.display()),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let k: alloy_signer_local::PrivateKeySigner = text
            .trim()
            .parse()
            .map_err(|_| bad("not a 32-byte secp256k1 private key in hex".into()))?;
        Ok(Sender::Key(k))
    }
}

impl From<Address> for Sender {
    fn from(a: Address) -> Sender {
        Sender::Node(a)
    }
}

impl From<&Sender> for Sender {
    fn from(s: &Sender) -> Sender {
        s.clone()
    }
}

/// A JSON-RPC endpoint (`http://` URL).
#[derive(Debug, Clone)]
pub struct Rpc {
    url: String,
    agent: ureq::Agent,
}

/// Largest RPC response read.
const MAX_RESPONSE: u64 = 64 << 20;

impl Rpc {
    /// A client for `url`.
    pub fn new(url: &str) -> Rpc {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Rpc {
            url: url.to_string(),
            agent,
        }
    }

    /// Calls `method`: `Ok(Ok(result))`, or `Ok(Err(error object))` for a JSON-RPC error, so
    /// that callers can decode revert data; `Err` when there is no JSON-RPC answer at all.
    fn request(&self, method: &str, params: Value) -> Result<std::result::Result<Value, Value>> {
        let err = |reason: String| EvmError::Rpc {
            method: method.to_string(),
            reason,
        };
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut resp = self
            .agent
            .post(&self.url)
            .send_json(&body)
            .map_err(|e| err(format!("{} unreachable: {e}", self.url)))?;
        let status = resp.status();
        let v: Value = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_json()
            .map_err(|e| err(format!("HTTP {status}, not a JSON-RPC answer: {e}")))?;
        if let Some(e) = v.get("error") {
            return Ok(Err(e.clone()));
        }
        match v.get("result") {
            Some(r) => Ok(Ok(r.clone())),
            None => Err(err("answer has neither result nor error".into())),
        }
    }

    /// Calls `method` and decodes its result.
    pub fn call<T: for<'de> Deserialize<'de>>(&self, method: &str, params: Value) -> Result<T> {
        let err = |reason: String| EvmError::Rpc {
            method: method.to_string(),
            reason,
        };
        match self.request(method, params)? {
            Ok(v) => serde_json::from_value(v).map_err(|e| err(format!("unexpected result: {e}"))),
            Err(e) => Err(err(error_message(&e))),
        }
    }

    /// `eth_call` of `data` to `to` at `block` (a tag or hex number); a revert is decoded.
    pub fn eth_call(&self, what: &str, to: Address, data: &[u8], block: &str) -> Result<Bytes> {
        let tx = json!({"to": to, "data": Bytes::copy_from_slice(data)});
        match self.request("eth_call", json!([tx, block]))? {
            Ok(v) => serde_json::from_value(v).map_err(|e| EvmError::Rpc {
                method: "eth_call".into(),
                reason: format!("unexpected result: {e}"),
            }),
            Err(e) => Err(revert(what, &e)),
        }
    }

    /// The node's accounts.
    pub fn accounts(&self) -> Result<Vec<Address>> {
        self.call("eth_accounts", json!([]))
    }

    /// Sends a transaction from `from` (simulated first); waits for its receipt and returns it.
    pub fn transact(
        &self,
        what: &str,
        from: impl Into<Sender>,
        to: Option<Address>,
        data: &[u8],
    ) -> Result<TxReceipt> {
        let from: Sender = from.into();
        let mut tx = json!({"from": from.address(), "data": Bytes::copy_from_slice(data)});
        if let Some(to) = to {
            tx["to"] = json!(to);
        }
        if let Err(e) = self.request("eth_call", json!([tx.clone(), "latest"]))? {
            return Err(revert(what, &e));
        }
        let gas: U256 = match self.request("eth_estimateGas", json!([tx.clone()]))? {
            Ok(v) => serde_json::from_value(v).map_err(|e| EvmError::Rpc {
                method: "eth_estimateGas".into(),
                reason: e.to_string(),
            })?,
            Err(e) => return Err(revert(what, &e)),
        };
        // Headroom over the estimate (the 63/64 rule for calls into verifiers).
        let gas = gas + gas / U256::from(4u8) + U256::from(10_000u32);
        let sent = match &from {
            Sender::Node(_) => {
                tx["gas"] = json!(gas);
                self.request("eth_sendTransaction", json!([tx]))?
            }
            Sender::Key(key) => {
                let raw = self.sign(key, to, data, gas)?;
                self.request("eth_sendRawTransaction", json!([Bytes::from(raw)]))?
            }
        };
        let hash: B256 = match sent {
            Ok(v) => serde_json::from_value(v).map_err(|e| EvmError::Rpc {
                method: "eth_sendTransaction".into(),
                reason: e.to_string(),
            })?,
            Err(e) => return Err(revert(what, &e)),
        };
        for _ in 0..600 {
            let r: Option<TxReceipt> = self.call("eth_getTransactionReceipt", json!([hash]))?;
            if let Some(r) = r {
                if r.status != Some(U256::from(1u8)) {
                    return Err(EvmError::Reverted {
                        call: what.to_string(),
                        revert: Revert::FailedOnChain { tx: hash },
                    });
                }
                return Ok(r);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(EvmError::Rpc {
            method: "eth_getTransactionReceipt".into(),
            reason: format!("transaction {hash} not mined within a minute"),
        })
    }
}

impl Rpc {
    /// A signed EIP-155 legacy transaction (nonce, gas price and chain id from the node).
    fn sign(
        &self,
        key: &alloy_signer_local::PrivateKeySigner,
        to: Option<Address>,
        data: &[u8],
        gas: U256,
    ) -> Result<Vec<u8>> {
        use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
        use alloy_eips::eip2718::Encodable2718;
        use alloy_signer::SignerSync;
        let word = |method: &str, params: Value| -> Result<u128> {
            let v: U256 = self.call(method, params)?;
            u128::try_from(v).map_err(|_| EvmError::Rpc {
                method: method.to_string(),
                reason: format!("{v} is out of range"),
            })
        };
        let chain_id = word("eth_chainId", json!([]))? as u64;
        let nonce = word("eth_getTransactionCount", json!([key.address(), "pending"]))? as u64;
        let gas_price = word("eth_gasPrice", json!([]))?;
        let tx = TxLegacy {
            chain_id: Some(chain_id),
            nonce,
            gas_price,
            gas_limit: u64::try_from(gas).unwrap_or(u64::MAX),
            to: match to {
                Some(a) => alloy_primitives::TxKind::Call(a),
                None => alloy_primitives::TxKind::Create,
            },
            value: U256::ZERO,
            input: Bytes::copy_from_slice(data),
        };
        let sig = key
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| EvmError::Format {
                what: "transaction signature".into(),
                reason: e.to_string(),
            })?;
        Ok(TxEnvelope::Legacy(tx.into_signed(sig)).encoded_2718())
    }
}

/// The fields of a receipt this client uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxReceipt {
    /// Transaction hash.
    pub transaction_hash: B256,
    /// Block number.
    pub block_number: U256,
    /// Gas used by the transaction.
    pub gas_used: U256,
    /// 1 success, 0 failure.
    pub status: Option<U256>,
    /// The deployed contract, for a deployment.
    pub contract_address: Option<Address>,
}

fn error_message(e: &Value) -> String {
    e.get("message")
        .and_then(Value::as_str)
        .unwrap_or("error without message")
        .to_string()
}

/// Revert data in a JSON-RPC error: `data` as hex, or nested (`data.data`, `data.result`).
fn revert_data(e: &Value) -> Option<Vec<u8>> {
    let d = e.get("data")?;
    let s = match d {
        Value::String(s) => s.as_str(),
        Value::Object(o) => o
            .get("data")
            .or_else(|| o.get("result"))
            .and_then(Value::as_str)?,
        _ => return None,
    };
    hex::decode(s.strip_prefix("0x")?).ok()
}

fn revert(what: &str, e: &Value) -> EvmError {
    let revert = match revert_data(e) {
        Some(d) if d.len() >= 4 => Revert::from_data(&d),
        _ => Revert::Node(error_message(e)),
    };
    EvmError::Reverted {
        call: what.to_string(),
        revert,
    }
}

/// A revert reason in words: the registry's and verifiers' custom errors, `Error(string)`, or
/// the hex ([`Revert::from_data`] keeps it as data).
pub fn decode_revert(d: &[u8]) -> String {
    Revert::from_data(d).to_string()
}

/// A contract artifact from `contracts/build.js`: ABI and creation bytecode.
#[derive(Debug, Clone, Deserialize)]
pub struct Artifact {
    /// Creation bytecode.
    pub bytecode: Bytes,
}

impl Artifact {
    /// Parses an artifact's JSON.
    pub fn parse(json: &str) -> Result<Artifact> {
        serde_json::from_str(json).map_err(|e| EvmError::Format {
            what: "contract artifact".into(),
            reason: e.to_string(),
        })
    }
}

/// Deploys a contract from creation bytecode; returns its address and the receipt.
pub fn deploy(rpc: &Rpc, from: impl Into<Sender>, bytecode: &[u8]) -> Result<(Address, TxReceipt)> {
    let r = rpc.transact("deployment", from, None, bytecode)?;
    let a = r.contract_address.ok_or_else(|| EvmError::Rpc {
        method: "eth_getTransactionReceipt".into(),
        reason: "deployment receipt without contract address".into(),
    })?;
    Ok((a, r))
}

/// A deployed registry.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The endpoint.
    pub rpc: Rpc,
    /// The registry's address.
    pub address: Address,
}

/// The root of a commitment as a registry word.
pub fn root_key(c: &Commitment) -> B256 {
    B256::from(fr_word(&c.root).to_be_bytes::<32>())
}

/// The key the registry files a commitment's dataset under (`datasetKey(root, owner)`:
/// keccak256 of the root and the owner's account as words), so that a front-runner registering
/// the root first files it under its own account and blocks nobody.
pub fn dataset_key(c: &Commitment) -> Result<B256> {
    let owner = crate::state::owner_account(&c.owner)?;
    let mut b = [0u8; 64];
    b[..32].copy_from_slice(root_key(c).as_slice());
    b[32..].copy_from_slice(&crate::state::owner_word(owner));
    Ok(alloy_primitives::keccak256(b))
}

impl Registry {
    /// Deploys the registry ([`crate::REGISTRY_ARTIFACT`]) from `from`.
    pub fn deploy(rpc: Rpc, from: impl Into<Sender>) -> Result<(Registry, TxReceipt)> {
        let art = Artifact::parse(crate::REGISTRY_ARTIFACT)?;
        let (address, r) = deploy(&rpc, from, &art.bytecode)?;
        Ok((Registry { rpc, address }, r))
    }

    /// The registry at `address`.
    pub fn at(rpc: Rpc, address: Address) -> Registry {
        Registry { rpc, address }
    }

    /// Registers a dataset commitment with its chunk roots (from the bundle, or kept by the
    /// holder); they are checked to combine into the root, and the commitment to name the
    /// sending account as its owner, before anything is sent.
    pub fn register_dataset(
        &self,
        from: impl Into<Sender>,
        commitment: &Commitment,
        chunk_roots: &[ark_bn254::Fr],
        metadata_hash: B256,
    ) -> Result<TxReceipt> {
        let from: Sender = from.into();
        if commitment.owner != crate::state::owner_word(from.address()) {
            return Err(EvmError::Mismatch(crate::error::ChainMismatch::NotTheOwner));
        }
        commitment.check_chunk_roots(chunk_roots)?;
        let call = TrustspaceRegistry::registerDatasetCall {
            root: root_key(commitment),
            schemaDigest: digest_word(&commitment.schema_digest),
            records: U256::from(commitment.records),
            chunkSize: U256::from(commitment.chunk_size),
            metadataHash: metadata_hash,
            chunkRoots: chunk_roots.iter().map(fr_word).collect(),
        };
        self.rpc.transact(
            "registerDataset",
            from,
            Some(self.address),
            &call.abi_encode(),
        )
    }

    /// Registers a policy with the addresses of its deployed verifiers.
    pub fn register_policy(
        &self,
        from: impl Into<Sender>,
        keys: &VerifyingKeys,
        chunk_verifier: Address,
        final_verifier: Option<Address>,
    ) -> Result<TxReceipt> {
        let call = TrustspaceRegistry::registerPolicyCall {
            policyDigest: digest_word(&keys.policy_digest),
            vkDigest: B256::from((keys).digest()),
            schemaDigest: digest_word(&keys.schema_digest),
            chunkSize: U256::from(keys.chunk_size),
            genesis: policy_genesis(keys),
            chunkVerifier: chunk_verifier,
            finalVerifier: final_verifier.unwrap_or(Address::ZERO),
        };
        self.rpc.transact(
            "registerPolicy",
            from,
            Some(self.address),
            &call.abi_encode(),
        )
    }

    fn verify_call(&self, bundle: &ProofBundle, keys: &VerifyingKeys) -> Result<Vec<u8>> {
        crate::encode::verify_bundle_calldata(bundle, &keys.digest())
    }

    /// Verifies a bundle on chain and records the verdict (a transaction).
    pub fn verify_bundle(
        &self,
        from: impl Into<Sender>,
        bundle: &ProofBundle,
        keys: &VerifyingKeys,
    ) -> Result<TxReceipt> {
        let data = self.verify_call(bundle, keys)?;
        self.rpc
            .transact("verifyBundle", from, Some(self.address), &data)
    }

    /// Asks the registry whether a bundle verifies, without a transaction (`eth_call` at
    /// `block`): `Ok(())` if it does, the decoded revert otherwise.
    pub fn check_bundle(
        &self,
        bundle: &ProofBundle,
        keys: &VerifyingKeys,
        block: &str,
    ) -> Result<()> {
        let data = self.verify_call(bundle, keys)?;
        let out = self
            .rpc
            .eth_call("verifyBundle", self.address, &data, block)?;
        let ok = TrustspaceRegistry::verifyBundleCall::abi_decode_returns(&out).map_err(|e| {
            EvmError::Format {
                what: "verifyBundle result".into(),
                reason: e.to_string(),
            }
        })?;
        if ok {
            Ok(())
        } else {
            Err(EvmError::Reverted {
                call: "verifyBundle".into(),
                revert: Revert::ReturnedFalse,
            })
        }
    }

    /// The recorded verdict for (dataset, keys), read through `eth_call` (trusting the RPC; see
    /// [`crate::state`] for a verified read).
    pub fn verdict(&self, dataset_key: B256, keys: &VerifyingKeys) -> Result<bool> {
        let call = TrustspaceRegistry::verdictsCall {
            datasetKey: dataset_key,
            vkDigest: B256::from((keys).digest()),
        };
        let out = self
            .rpc
            .eth_call("verdicts", self.address, &call.abi_encode(), "latest")?;
        let v = TrustspaceRegistry::verdictsCall::abi_decode_returns(&out).map_err(|e| {
            EvmError::Format {
                what: "verdicts result".into(),
                reason: e.to_string(),
            }
        })?;
        Ok(v.verified)
    }
}

/// Calls `verifyProof` on a deployed verifier (`eth_call`); returns its answer.
pub fn call_verifier(
    rpc: &Rpc,
    verifier: Address,
    proof: &ark_groth16::Proof<ark_bn254::Bn254>,
    inputs: &[ark_bn254::Fr],
) -> Result<bool> {
    let out = rpc.eth_call(
        "verifyProof",
        verifier,
        &verify_proof_calldata(proof, inputs),
        "latest",
    )?;
    TrustspaceRegistry::verifyProofCall::abi_decode_returns(&out).map_err(|e| EvmError::Format {
        what: "verifyProof result".into(),
        reason: e.to_string(),
    })
}

/// The `vkDigest()` a deployed verifier reports, at `block`.
pub fn verifier_digest(rpc: &Rpc, verifier: Address, block: &str) -> Result<B256> {
    let out = rpc.eth_call(
        "vkDigest",
        verifier,
        &TrustspaceRegistry::vkDigestCall {}.abi_encode(),
        block,
    )?;
    TrustspaceRegistry::vkDigestCall::abi_decode_returns(&out).map_err(|e| EvmError::Format {
        what: format!("vkDigest() of {verifier}"),
        reason: e.to_string(),
    })
}

/// Gas an `eth_call` of `data` to `to` would use (`eth_estimateGas`).
pub fn estimate_gas(rpc: &Rpc, to: Address, data: &[u8]) -> Result<u64> {
    let tx = json!({"to": to, "data": Bytes::copy_from_slice(data)});
    match rpc.request("eth_estimateGas", json!([tx]))? {
        Ok(v) => {
            let g: U256 = serde_json::from_value(v).map_err(|e| EvmError::Rpc {
                method: "eth_estimateGas".into(),
                reason: e.to_string(),
            })?;
            Ok(g.saturating_to::<u64>())
        }
        Err(e) => Err(revert("estimateGas", &e)),
    }
}
