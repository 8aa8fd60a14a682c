//! Keys and the public setup: the key holder generates an LWE secret key, its compact public
//! key and the zero-knowledge CRS for the declared sum; holders and the aggregator receive the
//! [`PublicSetup`], only the key holder keeps the [`SecretKey`].
//!
//! The CRS has a trapdoor (it is a structured reference string), so whoever generates it could
//! forge proofs; here the key holder — who can decrypt anyway and has no reason to accept
//! malformed inputs — generates it. A deployment that distrusts the key holder's inputs
//! check runs a CRS ceremony instead and loads the result with [`PublicSetup::from_parts`].

use sha2::{Digest, Sha256};
use tfhe::core_crypto::prelude::*;
use tfhe::safe_serialization::{safe_deserialize_conformant, safe_serialize};
use tfhe::zk::{
    CompactPkeCrs, CompactPkeCrsConformanceParams, CompactPkeZkScheme, ZkMSBZeroPaddingBitCount,
};
use zeroize::Zeroize;

use super::params::{SumParams, pke_params};
use crate::codec::{format_err, read_whole};
use crate::error::{HeError, Result};

/// Largest serialized CRS accepted (the CRS for 2048 slots is well below).
pub const MAX_CRS_BYTES: u64 = 256 << 20;

const SETUP_MAGIC: &[u8; 8] = b"TSLWESU1";
const SECRET_MAGIC: &[u8; 8] = b"TSLWESK1";

/// The key holder's LWE secret key; wiped from memory when dropped.
pub struct SecretKey {
    key: LweSecretKeyOwned<u64>,
    setup_id: [u8; 32],
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.key.as_mut().zeroize();
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(setup {})", hex::encode(&self.setup_id[..8]))
    }
}

/// What holders and the aggregator need: the declared parameters, the compact public key and
/// the CRS proofs are made against, under one id.
pub struct PublicSetup {
    params: SumParams,
    public_key: LweCompactPublicKeyOwned<u64>,
    crs: CompactPkeCrs,
    crs_bytes: Vec<u8>,
    id: [u8; 32],
}

impl std::fmt::Debug for PublicSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicSetup")
            .field("id", &hex::encode(self.id))
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Generates a secret key, its compact public key and the CRS for `params`.
pub fn generate(params: SumParams) -> Result<(SecretKey, PublicSetup)> {
    let pke = pke_params();
    let mut seeder = new_seeder();
    let seeder = seeder.as_mut();
    let mut secret_gen = SecretRandomGenerator::<DefaultRandomGenerator>::new(seeder.seed());
    let mut enc_gen =
        EncryptionRandomGenerator::<DefaultRandomGenerator>::new(seeder.seed(), seeder);
    let key = allocate_and_generate_new_binary_lwe_secret_key(
        pke.encryption_lwe_dimension,
        &mut secret_gen,
    );
    let public_key = allocate_and_generate_new_lwe_compact_public_key(
        &key,
        pke.encryption_noise_distribution,
        pke.ciphertext_modulus,
        &mut enc_gen,
    );
    let crs = CompactPkeCrs::new(
        pke.encryption_lwe_dimension,
        LweCiphertextCount(params.slots()),
        pke.encryption_noise_distribution,
        pke.ciphertext_modulus,
        1u64 << params.plaintext_bits(),
        ZkMSBZeroPaddingBitCount(u64::from(params.padding_bits())),
        &mut rand::rngs::OsRng,
    )
    .map_err(|e| HeError::tfhe("CRS generation", e))?;
    let mut crs_bytes = Vec::new();
    safe_serialize(&crs, &mut crs_bytes, MAX_CRS_BYTES)
        .map_err(|e| HeError::tfhe("CRS serialization", e))?;
    let setup = PublicSetup::assemble(params, public_key, crs, crs_bytes);
    let secret = SecretKey {
        key,
        setup_id: setup.id,
    };
    Ok((secret, setup))
}

impl PublicSetup {
    fn assemble(
        params: SumParams,
        public_key: LweCompactPublicKeyOwned<u64>,
        crs: CompactPkeCrs,
        crs_bytes: Vec<u8>,
    ) -> Self {
        let mut h = Sha256::new();
        h.update(b"trustspace-he/lwe-sum/setup/v1");
        h.update(params.to_bytes());
        for w in public_key.as_ref() {
            h.update(w.to_le_bytes());
        }
        h.update(&crs_bytes);
        PublicSetup {
            params,
            public_key,
            crs,
            crs_bytes,
            id: h.finalize().into(),
        }
    }

    /// Assembles a setup from a public key and a CRS made elsewhere (a CRS ceremony), checking
    /// both against `params` (and refusing bytes after the CRS).
    pub fn from_parts(
        params: SumParams,
        public_key_words: &[u64],
        crs_bytes: &[u8],
    ) -> Result<Self> {
        let n = params.lwe_dimension().0;
        if public_key_words.len() != 2 * n {
            return Err(format_err(
                "public key",
                format!("{} words, expected {}", public_key_words.len(), 2 * n),
            ));
        }
        let public_key = LweCompactPublicKeyOwned::from_container(
            public_key_words.to_vec(),
            pke_params().ciphertext_modulus,
        );
        // Whole: bytes after the CRS would change the setup's id, not the setup.
        let conformance = crs_conformance(&params)?;
        let crs: CompactPkeCrs = read_whole("CRS", crs_bytes, |r| {
            safe_deserialize_conformant(r, MAX_CRS_BYTES, &conformance)
        })?;
        Ok(Self::assemble(params, public_key, crs, crs_bytes.to_vec()))
    }

    /// The declared parameters.
    pub fn params(&self) -> &SumParams {
        &self.params
    }
    /// The setup's id: a hash of parameters, public key and CRS. Everything made under this
    /// setup names it.
    pub fn id(&self) -> [u8; 32] {
        self.id
    }
    /// The LWE compact public key.
    pub fn public_key(&self) -> &LweCompactPublicKeyOwned<u64> {
        &self.public_key
    }
    pub(crate) fn crs(&self) -> &CompactPkeCrs {
        &self.crs
    }

    /// Encodes the setup for holders and the aggregator.
    pub fn to_bytes(&self) -> Vec<u8> {
        let pk = self.public_key.as_ref();
        let mut out = Vec::with_capacity(8 + 28 + 8 + pk.len() * 8 + self.crs_bytes.len());
        out.extend_from_slice(SETUP_MAGIC);
        out.extend_from_slice(&self.params.to_bytes());
        out.extend_from_slice(&(pk.len() as u64).to_le_bytes());
        for w in pk {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.crs_bytes);
        out
    }

    /// Decodes a setup, re-deriving the parameters (and their noise budget), checking the
    /// public key's size and the CRS's conformance to the parameters, with a size limit.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = crate::codec::Reader::new(bytes, "setup");
        r.magic(SETUP_MAGIC)?;
        let params = SumParams::from_bytes(r.array::<28>()?)?;
        let words = r.u64()?;
        if words != 2 * params.lwe_dimension().0 as u64 {
            return Err(format_err("setup", format!("public key of {words} words")));
        }
        let pk = r.words(words as usize)?;
        let rest = r.rest();
        if rest.len() as u64 > MAX_CRS_BYTES {
            return Err(HeError::TooLarge {
                what: "CRS".into(),
                size: rest.len() as u64,
                limit: MAX_CRS_BYTES,
                unit: "bytes",
            });
        }
        Self::from_parts(params, &pk, rest)
    }
}

fn crs_conformance(params: &SumParams) -> Result<CompactPkeCrsConformanceParams> {
    let pke = pke_params();
    let (d, k, b, q, t) = CompactPkeCrs::prepare_crs_parameters(
        pke.encryption_lwe_dimension,
        LweCiphertextCount(params.slots()),
        pke.encryption_noise_distribution,
        pke.ciphertext_modulus,
        1u64 << params.plaintext_bits(),
        CompactPkeZkScheme::V2,
    )
    .map_err(|e| HeError::tfhe("CRS parameters", e))?;
    Ok(CompactPkeCrsConformanceParams::new(
        d.0,
        k.0,
        b,
        q,
        t,
        u64::from(params.padding_bits()),
    ))
}

impl SecretKey {
    /// The id of the setup this key belongs to.
    pub fn setup_id(&self) -> [u8; 32] {
        self.setup_id
    }
    pub(crate) fn key(&self) -> &LweSecretKeyOwned<u64> {
        &self.key
    }

    /// Encodes the key (setup id, then the binary key) — secret: store it as such.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out =
            zeroize::Zeroizing::new(Vec::with_capacity(8 + 32 + 8 + self.key.as_ref().len()));
        out.extend_from_slice(SECRET_MAGIC);
        out.extend_from_slice(&self.setup_id);
        out.extend_from_slice(&(self.key.as_ref().len() as u64).to_le_bytes());
        out.extend(self.key.as_ref().iter().map(|&b| b as u8));
        out
    }

    /// Decodes a key for `setup`: refuses another setup's key, another dimension, or
    /// coefficients that are not bits.
    pub fn from_bytes(bytes: &[u8], setup: &PublicSetup) -> Result<Self> {
        let mut r = crate::codec::Reader::new(bytes, "secret key");
        r.magic(SECRET_MAGIC)?;
        let id = *r.array::<32>()?;
        if id != setup.id {
            return Err(HeError::KeyMismatch {
                what: "secret key".into(),
                found: hex::encode(id),
                expected: hex::encode(setup.id),
            });
        }
        let n = r.u64()?;
        if n != setup.params.lwe_dimension().0 as u64 {
            return Err(format_err("secret key", format!("dimension {n}")));
        }
        let bits = r.bytes(n as usize)?;
        r.end()?;
        if bits.iter().any(|&b| b > 1) {
            return Err(format_err("secret key", "a coefficient is not a bit"));
        }
        let key = LweSecretKeyOwned::from_container(bits.iter().map(|&b| u64::from(b)).collect());
        Ok(SecretKey { key, setup_id: id })
    }
}
