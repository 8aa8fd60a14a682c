//! Fixtures shared by the tests: one real proof bundle (made once per test binary), the
//! submitters' seeded identities, and [`FixedLedger`], a ledger whose every answer is
//! reproducible byte for byte.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::{Mutex, OnceLock};
use trustspace_data::Record;
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_ledger_verifier::log::{CheckpointSignature, LogTree, empty_root};
use trustspace_ledger_verifier::validator::Validator;
use trustspace_ledger_verifier::view::{Audit, Receipt};
use trustspace_ledger_verifier::*;
use trustspace_zk::{
    Commitment, Compiled, Opening, Policy, ProofBundle, VerifyingKeys, commit_with, prove_all,
    reference, setup,
};

/// Records per chunk of the world's bundle.
pub const CHUNK: u64 = 32;

/// A real bundle, the keys it verifies under, and a second setup's keys and dataset.
pub struct World {
    pub vk: VerifyingKeys,
    pub other_vk: VerifyingKeys,
    pub commitment: Commitment,
    pub other_commitment: Commitment,
    pub bundle: ProofBundle,
}

/// One real bundle over 40 generated encounters, keys for the reference healthcare policy, and a
/// second dataset's commitment; made once per test binary, deterministically (seeded).
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
        let (_, other_vk) = setup(&compiled, &mut rng).unwrap();
        let opening = Opening::generate(&mut rng);
        let commitment = commit_with(
            &schema,
            records.clone(),
            CHUNK,
            &owner().public().to_bytes(),
            &opening,
        )
        .unwrap();
        let other: Vec<Record> = Generator::new(Spec::new(Table::Encounters, 40, 6))
            .unwrap()
            .records()
            .collect();
        let other_commitment = commit_with(
            &schema,
            other,
            CHUNK,
            &owner().public().to_bytes(),
            &opening,
        )
        .unwrap();
        let bundle = prove_all(&compiled, &pk, &commitment, &opening, &records, &mut rng).unwrap();
        World {
            vk,
            other_vk,
            commitment,
            other_commitment,
            bundle,
        }
    })
}

/// The data owner.
pub fn owner() -> Identity {
    Identity::from_seed(&[7; 32])
}

/// The policy issuer.
pub fn issuer() -> Identity {
    Identity::from_seed(&[8; 32])
}

/// What the tests' verifiers pin: the world's verifying keys.
pub fn pin() -> Pin {
    Pin::Keys(world().vk.digest())
}

/// The validators of a [`FixedLedger`].
pub fn validator_identities() -> Vec<Identity> {
    (0..3u8)
        .map(|i| Identity::from_seed(&[0x10 + i; 32]))
        .collect()
}

/// When a [`FixedLedger`]'s first checkpoint was made; each later one is a millisecond later
/// per entry.
pub const T0_MS: u64 = 1_790_000_000_000;

struct Fixed {
    tree: LogTree,
    entries: Vec<Entry>,
    /// None: a compromised quorum, whose keys sign whatever the server proposes.
    validators: Option<Vec<Validator>>,
    checkpoint: CosignedCheckpoint,
}

/// A ledger in memory with seeded validators (3, threshold 2) and checkpoint times that follow
/// its size, not the clock: unlike the embedded ledger (random validator keys, wall-clock
/// checkpoints), everything it answers is reproducible, so its answers can be golden files.
/// Appends are checked by every validator against the ledger's rules, as the embedded ledger's
/// are; [`FixedLedger::compromised`] makes one whose validators sign anything.
pub struct FixedLedger {
    /// Its trust anchor.
    pub config: LedgerConfig,
    state: Mutex<Fixed>,
}

impl FixedLedger {
    /// An empty ledger named `log_id`, where [`issuer`] may register policies.
    pub fn new(log_id: &str) -> FixedLedger {
        FixedLedger::with(log_id, true)
    }

    /// The same ledger with a compromised quorum: the validators' keys sign any checkpoint the
    /// server proposes, without checking any rule (what a verifier must still catch).
    pub fn compromised(log_id: &str) -> FixedLedger {
        FixedLedger::with(log_id, false)
    }

    fn with(log_id: &str, honest: bool) -> FixedLedger {
        let ids = validator_identities();
        let config = LedgerConfig::new(
            log_id,
            ids.iter().map(Identity::public).collect(),
            2,
            vec![issuer().public()],
        )
        .unwrap();
        let validators = honest.then(|| {
            ids.into_iter()
                .map(|id| Validator::new(id, config.clone()))
                .collect()
        });
        FixedLedger {
            config,
            state: Mutex::new(Fixed {
                tree: LogTree::new(),
                entries: Vec::new(),
                validators,
                checkpoint: CosignedCheckpoint {
                    checkpoint: Checkpoint {
                        log_id: log_id.to_string(),
                        size: 0,
                        root: empty_root(),
                        timestamp_ms: 0,
                    },
                    signatures: Vec::new(),
                },
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Fixed> {
        self.state.lock().unwrap()
    }
}

impl LedgerView for FixedLedger {
    fn checkpoint(&self) -> Result<CosignedCheckpoint> {
        Ok(self.lock().checkpoint.clone())
    }

    fn entry(&self, index: u64) -> Result<Entry> {
        let s = self.lock();
        let size = s.entries.len() as u64;
        usize::try_from(index)
            .ok()
            .and_then(|i| s.entries.get(i).cloned())
            .ok_or(LedgerError::NoSuchEntry { index, size })
    }

    fn find(&self, key: &EntryKey) -> Result<Option<u64>> {
        let s = self.lock();
        Ok(s.entries
            .iter()
            .position(|e| e.key() == *key)
            .map(|i| i as u64))
    }

    fn audit(&self, indices: &[u64], from: Option<u64>) -> Result<Audit> {
        let s = self.lock();
        Ok(Audit {
            checkpoint: s.checkpoint.clone(),
            inclusions: indices
                .iter()
                .map(|&i| s.tree.prove_inclusion(i))
                .collect::<Result<_>>()?,
            consistency: from.map(|f| s.tree.prove_consistency(f)).transpose()?,
        })
    }

    fn append(&self, entries: Vec<Entry>) -> Result<Receipt> {
        for e in &entries {
            e.check_signature()?;
            if self.find(&e.key())?.is_some() {
                return Err(LedgerError::Duplicate { key: e.key() });
            }
        }
        let mut s = self.lock();
        let old = s.tree.size();
        let first_index = s.tree.size();
        for e in &entries {
            s.tree.push(e.digest()?);
            s.entries.push(e.clone());
        }
        let checkpoint = Checkpoint {
            log_id: self.config.log_id.clone(),
            size: s.tree.size(),
            root: s.tree.root(),
            timestamp_ms: T0_MS + s.tree.size(),
        };
        let signatures = match &mut s.validators {
            Some(validators) => {
                let mut signatures = Vec::new();
                for v in validators.iter_mut() {
                    match v.cosign(&entries, &checkpoint) {
                        Ok(sig) => signatures.push(sig),
                        Err(e) => {
                            s.tree = rebuilt(&s.tree, old);
                            s.entries.truncate(old as usize);
                            return Err(e);
                        }
                    }
                }
                signatures
            }
            None => validator_identities()
                .iter()
                .map(|id| CheckpointSignature {
                    validator: id.public(),
                    signature: id.sign(&checkpoint.signing_message()),
                })
                .collect(),
        };
        let cosigned = CosignedCheckpoint {
            checkpoint,
            signatures,
        };
        cosigned.verify(&self.config)?;
        s.checkpoint = cosigned.clone();
        Ok(Receipt {
            first_index,
            count: entries.len() as u64,
            checkpoint: cosigned,
        })
    }
}

/// The first `size` leaves of `tree`.
fn rebuilt(tree: &LogTree, size: u64) -> LogTree {
    let mut t = LogTree::new();
    for i in 0..size {
        t.push(tree.leaf(i).unwrap());
    }
    t
}
