//! Reading the registry without trusting the RPC.
//!
//! 1. The block header is fetched and hashed locally (RLP, keccak256); the hash must equal the
//!    block the caller trusts (given by hash), and the RPC's own `hash` field.
//! 2. `eth_getProof` for the registry's storage slots at that block: the account proof is
//!    checked against the header's state root, each storage proof against the account's
//!    storage root (alloy-trie), with the values the RPC claims as the expected leaves.
//! 3. The slots decode into the registered dataset, policy and verdict.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rpc_types_eth::EIP1186AccountProofResponse;
use alloy_trie::{Nibbles, TrieAccount, proof::verify_proof};
use serde_json::json;
use trustspace_zk::Commitment;
use trustspace_zk::commit::COMMITMENT_VERSION;

use crate::error::{Absent, ChainMismatch, EvmError, Forgery, Result};
use crate::rpc::Rpc;

/// Which block to read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRef {
    /// The block with this hash: the trust anchor (the header must hash to it).
    Hash(B256),
    /// The block with this number: its hash is computed locally and reported, for the caller to
    /// compare with a source they trust.
    Number(u64),
    /// The latest block (as [`BlockRef::Number`]).
    Latest,
}

impl std::str::FromStr for BlockRef {
    type Err = EvmError;
    fn from_str(s: &str) -> Result<BlockRef> {
        let bad = |reason: &str| EvmError::Format {
            what: format!("block `{s}`"),
            reason: reason.into(),
        };
        if s == "latest" {
            return Ok(BlockRef::Latest);
        }
        if let Some(h) = s.strip_prefix("0x") {
            if h.len() == 64 {
                return s
                    .parse::<B256>()
                    .map(BlockRef::Hash)
                    .map_err(|_| bad("not a 32-byte hex hash"));
            }
            return u64::from_str_radix(h, 16)
                .map(BlockRef::Number)
                .map_err(|_| bad("expected a number, 0x-hex number, 32-byte hash or `latest`"));
        }
        s.parse::<u64>()
            .map(BlockRef::Number)
            .map_err(|_| bad("expected a number, 0x-hex number, 32-byte hash or `latest`"))
    }
}

/// A header whose hash was computed locally.
#[derive(Debug, Clone)]
pub struct TrustedHeader {
    /// The header.
    pub header: Header,
    /// keccak256 of its RLP encoding.
    pub hash: B256,
}

/// Fetches a block header and checks it: its locally computed hash must be the RPC's claimed
/// hash, and for [`BlockRef::Hash`] the hash asked for.
pub fn header(rpc: &Rpc, block: BlockRef) -> Result<TrustedHeader> {
    let raw: Option<alloy_rpc_types_eth::Header> = match block {
        BlockRef::Hash(h) => rpc.call("eth_getBlockByHash", json!([h, false]))?,
        BlockRef::Number(n) => {
            rpc.call("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))?
        }
        BlockRef::Latest => rpc.call("eth_getBlockByNumber", json!(["latest", false]))?,
    };
    let raw = raw.ok_or(EvmError::NotRegistered(Absent::Block(block)))?;
    let hash = raw.inner.hash_slow();
    if let BlockRef::Hash(want) = block
        && hash != want
    {
        return Err(EvmError::Untrusted(Forgery::HeaderNotTrusted {
            trusted: want,
            computed: hash,
        }));
    }
    if hash != raw.hash {
        return Err(EvmError::Untrusted(Forgery::HeaderHashClaim {
            claimed: raw.hash,
            computed: hash,
        }));
    }
    if let BlockRef::Number(n) = block
        && raw.inner.number != n
    {
        return Err(EvmError::Untrusted(Forgery::WrongBlock {
            asked: n,
            returned: raw.inner.number,
        }));
    }
    Ok(TrustedHeader {
        header: raw.inner,
        hash,
    })
}

/// Reads storage `slots` of `address` at a checked header; every value is proven against the
/// header's state root.
pub fn proven_storage(
    rpc: &Rpc,
    at: &TrustedHeader,
    address: Address,
    slots: &[B256],
) -> Result<Vec<U256>> {
    let resp: EIP1186AccountProofResponse = rpc.call(
        "eth_getProof",
        json!([address, slots, format!("{:#x}", at.header.number)]),
    )?;
    if resp.address != address {
        return Err(EvmError::Untrusted(Forgery::ProofForOtherAccount {
            asked: address,
            answered: resp.address,
        }));
    }
    let account = TrieAccount {
        nonce: resp.nonce,
        balance: resp.balance,
        storage_root: resp.storage_hash,
        code_hash: resp.code_hash,
    };
    let key = Nibbles::unpack(keccak256(address));
    if let Err(e) = verify_proof(
        at.header.state_root,
        key,
        Some(alloy_rlp::encode(account)),
        &resp.account_proof,
    ) {
        // A proof that the account does not exist at all is an answer, not a forgery.
        if verify_proof(at.header.state_root, key, None, &resp.account_proof).is_ok() {
            return Err(EvmError::NotRegistered(Absent::Account {
                address,
                block: at.header.number,
            }));
        }
        return Err(EvmError::Untrusted(Forgery::AccountProof {
            address,
            state_root: at.header.state_root,
            block_hash: at.hash,
            reason: e.to_string(),
        }));
    }
    if resp.code_hash == alloy_primitives::KECCAK256_EMPTY {
        return Err(EvmError::NotRegistered(Absent::Contract {
            address,
            block: at.header.number,
        }));
    }
    if resp.storage_proof.len() != slots.len() {
        return Err(EvmError::Untrusted(Forgery::StorageProofCount {
            proofs: resp.storage_proof.len(),
            slots: slots.len(),
        }));
    }
    let mut out = Vec::with_capacity(slots.len());
    for (slot, p) in slots.iter().zip(&resp.storage_proof) {
        if p.key.as_b256() != *slot {
            return Err(EvmError::Untrusted(Forgery::StorageProofForOtherSlot {
                asked: *slot,
                answered: p.key.as_b256(),
            }));
        }
        let expected = (!p.value.is_zero()).then(|| alloy_rlp::encode(p.value));
        verify_proof(
            resp.storage_hash,
            Nibbles::unpack(keccak256(slot)),
            expected,
            &p.proof,
        )
        .map_err(|e| {
            EvmError::Untrusted(Forgery::StorageProof {
                slot: *slot,
                claimed: p.value,
                reason: e.to_string(),
            })
        })?;
        out.push(p.value);
    }
    Ok(out)
}

/// Storage slot of `mapping(bytes32 => ...)` at `slot` for `key`, plus `field`.
fn mapping_slot(key: B256, slot: U256, field: u64) -> B256 {
    let mut b = [0u8; 64];
    b[..32].copy_from_slice(key.as_slice());
    b[32..].copy_from_slice(&slot.to_be_bytes::<32>());
    let base = U256::from_be_bytes(keccak256(b).0);
    B256::from(base.wrapping_add(U256::from(field)).to_be_bytes::<32>())
}

fn word(x: U256) -> B256 {
    B256::from(x.to_be_bytes::<32>())
}

/// The commitment owner an EVM account stands for: its address, left-padded with zeros to 32
/// bytes (what a commitment for that account names as its owner).
pub fn owner_word(a: Address) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[12..].copy_from_slice(a.as_slice());
    out
}

/// The EVM account a commitment names as its owner ([`owner_word`] back); an owner that is
/// not a left-padded address (a ledger key) is a mismatch.
pub fn owner_account(owner: &[u8; 32]) -> Result<Address> {
    if owner[..12] != [0u8; 12] {
        return Err(EvmError::Mismatch(ChainMismatch::OwnerNotAnAccount));
    }
    Ok(Address::from_slice(&owner[12..]))
}

fn address(x: U256) -> Address {
    Address::from_word(word(x))
}

fn small(x: U256, what: &str) -> Result<u64> {
    u64::try_from(x).map_err(|_| EvmError::Format {
        what: what.into(),
        reason: format!("{x} does not fit 64 bits"),
    })
}

/// A registered dataset, as proven from the registry's storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetEntry {
    /// The commitment (root, schema digest, records, chunk size).
    pub commitment: Commitment,
    /// The metadata hash.
    pub metadata_hash: B256,
    /// keccak256 of the chunk roots.
    pub chunk_roots_hash: B256,
    /// Who registered it.
    pub owner: Address,
}

/// A registered policy, as proven from the registry's storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntry {
    /// The policy digest.
    pub policy_digest: [u8; 32],
    /// The verifying-keys digest ([`VerifyingKeys::digest`](trustspace_zk::VerifyingKeys::digest), the ledger's too).
    pub keys_digest: [u8; 32],
    /// The schema digest.
    pub schema_digest: [u8; 32],
    /// Records per chunk.
    pub chunk_size: u64,
    /// The chunk verifier contract.
    pub chunk_verifier: Address,
    /// The final verifier contract, for policies with aggregates.
    pub final_verifier: Option<Address>,
    /// Who registered it.
    pub issuer: Address,
}

/// A recorded on-chain verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictEntry {
    /// keccak256 of the revealed values.
    pub revealed_hash: B256,
    /// Block in which it was recorded.
    pub block_number: u64,
    /// Who submitted the bundle.
    pub submitter: Address,
}

/// The registry's entries for one dataset and one policy, proven against one block.
#[derive(Debug, Clone)]
pub struct ProvenEntries {
    /// The header everything was proven against.
    pub block: TrustedHeader,
    /// The dataset, if registered.
    pub dataset: Option<DatasetEntry>,
    /// The policy, if registered.
    pub policy: Option<PolicyEntry>,
    /// The verdict, if one was recorded.
    pub verdict: Option<VerdictEntry>,
}

/// Reads the dataset registered under `key` (a [`crate::rpc::dataset_key`]: the root with its
/// owner), the policy under `keys_digest` and their verdict from the registry at `registry`,
/// proven against `block`.
pub fn read_entries(
    rpc: &Rpc,
    registry: Address,
    block: BlockRef,
    key: B256,
    keys_digest: B256,
) -> Result<ProvenEntries> {
    let at = header(rpc, block)?;
    let mut slots: Vec<B256> = (0..7).map(|f| mapping_slot(key, U256::ZERO, f)).collect();
    slots.extend((0..8).map(|f| mapping_slot(keys_digest, U256::from(1u8), f)));
    let inner = mapping_slot(key, U256::from(2u8), 0);
    slots.extend((0..4).map(|f| mapping_slot(keys_digest, U256::from_be_bytes(inner.0), f)));
    let v = proven_storage(rpc, &at, registry, &slots)?;
    let dataset = if v[0].is_zero() {
        None
    } else {
        Some(DatasetEntry {
            commitment: Commitment {
                version: COMMITMENT_VERSION,
                root: crate::state::fr_of(v[0])?,
                schema_digest: word(v[1]).0,
                records: small(v[2], "record count")?,
                chunk_size: small(v[3], "chunk size")?,
                owner: owner_word(address(v[6])),
            },
            metadata_hash: word(v[4]),
            chunk_roots_hash: word(v[5]),
            owner: address(v[6]),
        })
    };
    let p = &v[7..15];
    let policy = if p[1].is_zero() {
        None
    } else {
        Some(PolicyEntry {
            policy_digest: word(p[0]).0,
            keys_digest: word(p[1]).0,
            schema_digest: word(p[2]).0,
            chunk_size: small(p[3], "chunk size")?,
            chunk_verifier: address(p[5]),
            final_verifier: (!p[6].is_zero()).then(|| address(p[6])),
            issuer: address(p[7]),
        })
    };
    let d = &v[15..19];
    let verdict = if d[0].is_zero() {
        None
    } else {
        Some(VerdictEntry {
            revealed_hash: word(d[1]),
            block_number: small(d[2], "block number")?,
            submitter: address(d[3]),
        })
    };
    Ok(ProvenEntries {
        block: at,
        dataset,
        policy,
        verdict,
    })
}

/// A word as a scalar-field element (the registry only stores roots below r).
pub fn fr_of(x: U256) -> Result<ark_bn254::Fr> {
    use ark_ff::PrimeField;
    let bytes = x.to_be_bytes::<32>();
    let limbs: [u64; 4] = std::array::from_fn(|i| {
        u64::from_be_bytes(bytes[24 - 8 * i..32 - 8 * i].try_into().expect("8 bytes"))
    });
    ark_bn254::Fr::from_bigint(ark_ff::BigInt(limbs)).ok_or_else(|| EvmError::Format {
        what: "registered root".into(),
        reason: "not below the BN254 scalar field modulus".into(),
    })
}

/// What [`verify_against_chain`] established.
#[derive(Debug, Clone)]
pub struct ChainVerified {
    /// The proofs' result, against the commitment proven from the chain.
    pub verified: trustspace_zk::Verified,
    /// The block everything was proven against.
    pub block_number: u64,
    /// Its hash, computed locally.
    pub block_hash: B256,
    /// The registered dataset.
    pub dataset: DatasetEntry,
    /// The registered policy.
    pub policy: PolicyEntry,
    /// The verdict recorded on chain, if any.
    pub verdict: Option<VerdictEntry>,
}

/// Verifies `bundle` under `keys` against the dataset and policy registered at `registry`,
/// trusting only `block` (by hash) and the local keys: the registry's storage is proven from
/// the header's state root, the registered commitment and policy are compared with the bundle
/// and keys, and the Groth16 proofs are checked locally.
pub fn verify_against_chain(
    rpc: &Rpc,
    registry: Address,
    block: BlockRef,
    bundle: &trustspace_zk::ProofBundle,
    keys: &trustspace_zk::VerifyingKeys,
) -> Result<ChainVerified> {
    let kd = (keys).digest();
    let key = crate::rpc::dataset_key(&bundle.commitment)?;
    let e = read_entries(rpc, registry, block, key, B256::from(kd))?;
    let (block, block_hash) = (e.block.header.number, e.block.hash);
    let dataset = e.dataset.ok_or(EvmError::NotRegistered(Absent::Dataset {
        key,
        block,
        block_hash,
    }))?;
    let policy = e.policy.ok_or(EvmError::NotRegistered(Absent::Policy {
        keys_digest: kd,
        block,
        block_hash,
    }))?;
    if policy.policy_digest != keys.policy_digest
        || policy.schema_digest != keys.schema_digest
        || policy.chunk_size != keys.chunk_size
    {
        return Err(EvmError::Mismatch(ChainMismatch::PolicyParameters));
    }
    let roots: Vec<U256> = bundle
        .chunks
        .iter()
        .map(|c| {
            c.public_inputs
                .get(1)
                .map(crate::encode::fr_word)
                .unwrap_or_default()
        })
        .collect();
    if crate::encode::chunk_roots_hash(&roots) != dataset.chunk_roots_hash {
        return Err(EvmError::Mismatch(ChainMismatch::ChunkRoots));
    }
    let verified = trustspace_zk::verify(bundle, keys, &dataset.commitment)?;
    Ok(ChainVerified {
        verified,
        block_number: e.block.header.number,
        block_hash: e.block.hash,
        dataset,
        policy,
        verdict: e.verdict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_refs_parse() {
        assert_eq!("latest".parse::<BlockRef>().unwrap(), BlockRef::Latest);
        assert_eq!("17".parse::<BlockRef>().unwrap(), BlockRef::Number(17));
        assert_eq!("0x11".parse::<BlockRef>().unwrap(), BlockRef::Number(17));
        let h = format!("0x{}", "ab".repeat(32));
        assert_eq!(
            h.parse::<BlockRef>().unwrap(),
            BlockRef::Hash(B256::repeat_byte(0xab))
        );
        for bad in ["", "x", "0x", "-1", "0xzz", "1.5"] {
            let e = bad.parse::<BlockRef>();
            assert!(
                matches!(&e, Err(EvmError::Format { what, .. }) if *what == format!("block `{bad}`")),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn mapping_slots_follow_solidity() {
        // keccak256(bytes32(0) . uint256(0)), Solidity's slot of `m[0]` for a mapping at slot 0.
        let s = mapping_slot(B256::ZERO, U256::ZERO, 0);
        assert_eq!(
            s.to_string(),
            "0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5"
        );
        let s1 = mapping_slot(B256::ZERO, U256::ZERO, 1);
        assert_eq!(
            U256::from_be_bytes(s1.0),
            U256::from_be_bytes(s.0) + U256::from(1u8)
        );
    }

    #[test]
    fn words_above_r_are_not_roots() {
        let r = U256::from_str_radix(
            "21888242871839275222246405745257275088548364400416034343698204186575808495617",
            10,
        )
        .unwrap();
        assert!(
            matches!(fr_of(r), Err(EvmError::Format { ref what, .. }) if what == "registered root")
        );
        assert_eq!(
            fr_of(r - U256::from(1u8)).unwrap(),
            -ark_bn254::Fr::from(1u8)
        );
        assert_eq!(fr_of(U256::from(5u8)).unwrap(), ark_bn254::Fr::from(5u8));
    }
}
