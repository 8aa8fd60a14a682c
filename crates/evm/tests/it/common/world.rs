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

/// Keys, a bundle proven under them, and another dataset's commitment.
pub struct World {
    pub vk: VerifyingKeys,
    pub bundle: ProofBundle,
    pub other: Commitment,
}

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
        let commitment = commit_with(&schema, records.clone(), CHUNK, &opening).unwrap();
        let other: Vec<Record> = Generator::new(Spec::new(Table::Encounters, 40, 6))
            .unwrap()
            .records()
            .collect();
        let other = commit_with(&schema, other, CHUNK, &opening).unwrap();
        let bundle = prove_all(&compiled, &pk, &commitment, &opening, &records, &mut rng).unwrap();
        World { vk, bundle, other }
    })
}
