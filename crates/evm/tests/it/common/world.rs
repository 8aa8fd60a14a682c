//! The real bundle the EVM tests deploy verifiers for, made once per test binary.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::OnceLock;
use trustspace_data::Record;
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_zk::{
    Commitment, Compiled, Opening, Policy, ProofBundle, VerifyingKeys, commit_with, prove_all,
    reference, setup,
};

/// Records per chunk.
pub const CHUNK: u64 = 32;

/// The private key of the account that signs locally in the tests (a fixed test key).
pub const LOCAL_KEY: [u8; 32] = [0x4b; 32];

/// Keys, a bundle proven under them for [`CHAIN_OWNER`], another dataset's commitment, and a
/// bundle of the same records committed for the account of [`LOCAL_KEY`].
pub struct World {
    pub vk: VerifyingKeys,
    pub bundle: ProofBundle,
    pub other: Commitment,
    pub local_bundle: ProofBundle,
}

/// The account that registers the world's commitments: ganache's first deterministic account
/// (`--wallet.deterministic`), checked against the node by the tests that register.
pub const CHAIN_ACCOUNT: [u8; 20] = [
    0x90, 0xf8, 0xbf, 0x6a, 0x47, 0x9f, 0x32, 0x0e, 0xad, 0x07, 0x44, 0x11, 0xa4, 0xb0, 0xe7, 0x94,
    0x4e, 0xa8, 0xc9, 0xc1,
];

/// The owner the world's commitments name: [`CHAIN_ACCOUNT`], left-padded to 32 bytes.
pub const CHAIN_OWNER: [u8; 32] = {
    let mut w = [0u8; 32];
    let mut i = 0;
    while i < 20 {
        w[12 + i] = CHAIN_ACCOUNT[i];
        i += 1;
    }
    w
};

/// One real bundle over 40 generated encounters (2 chunks) for the reference healthcare policy
/// (aggregates, one revealed value), and another dataset's commitment.
pub fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let g = Generator::new(Spec::new(Table::Encounters, 40, 5)).unwrap();
        let schema = g.schema().clone();
        let records: Vec<Record> = g.records().collect();
        let policy =
            Policy::from_toml(&reference::healthcare_policy(), "reference", None, &schema).unwrap();
        let compiled = Compiled::new(&schema, &policy, CHUNK).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (pk, vk) = setup(&compiled, &mut rng).unwrap();
        let opening = Opening::generate(&mut rng);
        let commitment =
            commit_with(&schema, records.clone(), CHUNK, &CHAIN_OWNER, &opening).unwrap();
        let other: Vec<Record> = Generator::new(Spec::new(Table::Encounters, 40, 6))
            .unwrap()
            .records()
            .collect();
        let other = commit_with(&schema, other, CHUNK, &CHAIN_OWNER, &opening).unwrap();
        let bundle = prove_all(&compiled, &pk, &commitment, &opening, &records, &mut rng).unwrap();
        let local = alloy_signer_local::PrivateKeySigner::from_bytes(&LOCAL_KEY.into())
            .unwrap()
            .address();
        let local_owner = trustspace_evm::state::owner_word(local);
        let commitment =
            commit_with(&schema, records.clone(), CHUNK, &local_owner, &opening).unwrap();
        let local_bundle =
            prove_all(&compiled, &pk, &commitment, &opening, &records, &mut rng).unwrap();
        World {
            vk,
            bundle,
            other,
            local_bundle,
        }
    })
}
