//! Path A's keys: the key holder's [`ClientKey`], the aggregator's [`ServerKey`], and the
//! [`PublicKeys`] holders encrypt and prove with (compact public key and CRS).
//!
//! Every key crosses process boundaries through tfhe's safe serialization (versioned, with a
//! size limit); the public key and the CRS are also checked for conformance to the pinned
//! parameters. tfhe does not export the server key's conformance parameters, so a server key
//! is size-limited and version-checked only, then bound to the public keys by id: it comes
//! from the key holder, whom the aggregator already trusts to decrypt.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tfhe::core_crypto::prelude::LweCiphertextCount;
use tfhe::safe_serialization::{safe_deserialize, safe_deserialize_conformant, safe_serialize};
use tfhe::shortint::parameters::{
    PARAM_KEYSWITCH_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128,
    PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128,
    PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128,
};
use tfhe::zk::{
    CompactPkeCrs, CompactPkeCrsConformanceParams, new_compact_pke_crs_conformance_params,
};
use tfhe::{ClientKey, CompactPublicKey, Config, ConfigBuilder, ServerKey};

use crate::codec::{format_err, read_whole};
use crate::error::{HeError, Result};

/// The computation parameter set, by its published name (2-bit message, 2-bit carry blocks,
/// 128-bit security, failure probability 2^-128 per bootstrap).
pub const PARAMETER_SET: &str = "PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128";

/// Bits one proven list may hold (128 `u16` values, 64 `u32` values): the CRS's size.
pub const LIST_BITS: usize = 2048;

/// Size limits for keys read from bytes.
pub const MAX_PUBLIC_KEY_BYTES: u64 = 64 << 20;
/// See [`MAX_PUBLIC_KEY_BYTES`].
pub const MAX_CRS_BYTES: u64 = 256 << 20;
/// See [`MAX_PUBLIC_KEY_BYTES`].
pub const MAX_SERVER_KEY_BYTES: u64 = 1 << 30;
/// See [`MAX_PUBLIC_KEY_BYTES`].
pub const MAX_CLIENT_KEY_BYTES: u64 = 64 << 20;

/// The tfhe configuration: the computation set, with compact-public-key encryption under the
/// dedicated PKE set and a keyswitch from it to the computation key.
pub fn config() -> Config {
    ConfigBuilder::with_custom_parameters(PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128)
        .use_dedicated_compact_public_key_parameters((
            PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128,
            PARAM_KEYSWITCH_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128,
        ))
        .build()
}

/// What holders need: the compact public key and the CRS, under one id.
#[derive(Clone)]
pub struct PublicKeys {
    pub(crate) compact: CompactPublicKey,
    /// Shared: cloning the public keys (every [`AggregatorKeys`] holds a copy) does not copy
    /// the CRS's megabytes.
    pub(crate) crs: Arc<CompactPkeCrs>,
    id: [u8; 32],
}

/// The aggregator's keys: the server key (evaluation only; it decrypts nothing) and the
/// public keys, to verify proofs against.
#[derive(Clone)]
pub struct AggregatorKeys {
    pub(crate) server: ServerKey,
    pub(crate) public: PublicKeys,
}

/// The key holder's key: decrypts verdicts and chosen totals. Never leaves the key holder.
pub struct KeyHolder {
    pub(crate) client: ClientKey,
    id: [u8; 32],
}

impl std::fmt::Debug for KeyHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyHolder(keys {})", hex::encode(&self.id[..8]))
    }
}

/// Generates the three key sets.
pub fn generate() -> Result<(KeyHolder, AggregatorKeys, PublicKeys)> {
    let config = config();
    let client = ClientKey::generate(config);
    let server = ServerKey::new(&client);
    let compact = CompactPublicKey::try_new(&client).map_err(|e| HeError::tfhe("public key", e))?;
    let crs = CompactPkeCrs::from_config(config, LIST_BITS).map_err(|e| HeError::tfhe("CRS", e))?;
    let public = PublicKeys::assemble(compact, crs)?;
    let holder = KeyHolder {
        client,
        id: public.id,
    };
    Ok((
        holder,
        AggregatorKeys {
            server,
            public: public.clone(),
        },
        public,
    ))
}

fn serialize<T>(what: &'static str, value: &T, limit: u64) -> Result<Vec<u8>>
where
    T: serde::Serialize + tfhe::Versionize + tfhe::named::Named,
{
    let mut out = Vec::new();
    safe_serialize(value, &mut out, limit).map_err(|e| HeError::tfhe(what, e))?;
    Ok(out)
}

fn crs_conformance() -> Result<CompactPkeCrsConformanceParams> {
    let pke = PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128;
    // Packed proofs: one proven message per (message + carry) block, 4 bits each.
    let bits_per_message = (pke.message_modulus.0 * pke.carry_modulus.0).ilog2() as usize;
    new_compact_pke_crs_conformance_params(
        pke,
        LweCiphertextCount(LIST_BITS.div_ceil(bits_per_message)),
    )
    .map_err(|e| HeError::tfhe("CRS parameters", e))
}

impl PublicKeys {
    fn assemble(compact: CompactPublicKey, crs: CompactPkeCrs) -> Result<Self> {
        let mut h = Sha256::new();
        h.update(b"trustspace-he/fhe-int/keys/v1");
        h.update(serialize("public key", &compact, MAX_PUBLIC_KEY_BYTES)?);
        h.update(serialize("CRS", &crs, MAX_CRS_BYTES)?);
        Ok(PublicKeys {
            compact,
            crs: Arc::new(crs),
            id: h.finalize().into(),
        })
    }

    /// The keys' id (hash of public key and CRS).
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// Encodes public key and CRS (tfhe safe serialization, length-prefixed).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let pk = serialize("public key", &self.compact, MAX_PUBLIC_KEY_BYTES)?;
        let crs = serialize("CRS", &*self.crs, MAX_CRS_BYTES)?;
        let mut out = Vec::with_capacity(16 + pk.len() + crs.len());
        out.extend_from_slice(&(pk.len() as u64).to_le_bytes());
        out.extend_from_slice(&pk);
        out.extend_from_slice(&crs);
        Ok(out)
    }

    /// Decodes public keys with size limits and conformance to the pinned parameters; bytes
    /// after either key are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let len = bytes
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .ok_or_else(|| format_err("public keys", "truncated"))?;
        if len > MAX_PUBLIC_KEY_BYTES || len > (bytes.len() - 8) as u64 {
            return Err(format_err(
                "public keys",
                format!("public key length {len}"),
            ));
        }
        let (pk, crs) = bytes[8..].split_at(len as usize);
        // Both parts whole: bytes after the public key (within its length) or after the CRS
        // (at the end) are refused: nothing rides along with the keys.
        let compact: CompactPublicKey = read_whole("public key", pk, |r| {
            safe_deserialize_conformant(
                r,
                MAX_PUBLIC_KEY_BYTES,
                &PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128,
            )
        })?;
        let conformance = crs_conformance()?;
        let crs: CompactPkeCrs = read_whole("CRS", crs, |r| {
            safe_deserialize_conformant(r, MAX_CRS_BYTES, &conformance)
        })?;
        Self::assemble(compact, crs)
    }
}

impl AggregatorKeys {
    /// tfhe's server key, for evaluating operations this crate does not wrap.
    pub fn server_key(&self) -> &ServerKey {
        &self.server
    }

    /// The public keys this server key belongs to.
    pub fn public(&self) -> &PublicKeys {
        &self.public
    }

    /// Encodes the server key (public keys travel separately, see [`PublicKeys::to_bytes`]).
    pub fn server_key_bytes(&self) -> Result<Vec<u8>> {
        let mut out = self.public.id.to_vec();
        out.extend(serialize("server key", &self.server, MAX_SERVER_KEY_BYTES)?);
        Ok(out)
    }

    /// Decodes a server key made for `public` (size-limited; its id must match; no trailing
    /// bytes).
    pub fn from_server_key_bytes(bytes: &[u8], public: PublicKeys) -> Result<Self> {
        let (id, key) = bytes
            .split_at_checked(32)
            .ok_or_else(|| format_err("server key", "truncated"))?;
        if id != public.id {
            return Err(HeError::KeyMismatch {
                what: "server key".into(),
                found: hex::encode(id),
                expected: hex::encode(public.id),
            });
        }
        let server: ServerKey = read_whole("server key", key, |r| {
            safe_deserialize(r, MAX_SERVER_KEY_BYTES)
        })?;
        Ok(AggregatorKeys { server, public })
    }
}

impl KeyHolder {
    /// tfhe's client key, for decrypting results of operations this crate does not wrap.
    pub fn client_key(&self) -> &ClientKey {
        &self.client
    }

    /// The public keys' id this key belongs to.
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// Encodes the client key (secret: store it as such).
    pub fn to_bytes(&self) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut out = zeroize::Zeroizing::new(self.id.to_vec());
        out.extend(serialize("client key", &self.client, MAX_CLIENT_KEY_BYTES)?);
        Ok(out)
    }

    /// Decodes a client key for `public` (its id must match; no trailing bytes).
    pub fn from_bytes(bytes: &[u8], public: &PublicKeys) -> Result<Self> {
        let (id, key) = bytes
            .split_at_checked(32)
            .ok_or_else(|| format_err("client key", "truncated"))?;
        if id != public.id {
            return Err(HeError::KeyMismatch {
                what: "client key".into(),
                found: hex::encode(id),
                expected: hex::encode(public.id),
            });
        }
        let client: ClientKey = read_whole("client key", key, |r| {
            safe_deserialize(r, MAX_CLIENT_KEY_BYTES)
        })?;
        Ok(KeyHolder {
            client,
            id: public.id,
        })
    }
}
