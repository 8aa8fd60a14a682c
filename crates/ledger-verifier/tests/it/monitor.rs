//! The monitor on an empty ledger (healthy, no alert) and on checkpoints it must alert on.

use trustspace_ledger_verifier::monitor::{Monitor, Observation};
use trustspace_ledger_verifier::view::{Audit, Receipt};
use trustspace_ledger_verifier::*;

use crate::common::issuer;

fn policy_entry(k: u8) -> Entry {
    let body = Body::Policy(PolicyEntry {
        policy_digest: [k; 32],
        chunk_circuit: [1; 32],
        final_circuit: None,
        vk_digest: [2; 32],
        name: format!("policy {k}"),
    });
    Entry::sign(body, 1_790_000_000, &issuer()).unwrap()
}

/// A ledger whose checkpoints are altered on the way to the monitor.
struct Tampered<'a> {
    inner: &'a Ledger,
    alter: fn(&mut CosignedCheckpoint),
    /// Answer audits without the consistency proof asked for (a server that would rather
    /// not refuse).
    ignore_from: bool,
}

fn tampered(inner: &Ledger, alter: fn(&mut CosignedCheckpoint)) -> Tampered<'_> {
    Tampered {
        inner,
        alter,
        ignore_from: false,
    }
}

impl LedgerView for Tampered<'_> {
    fn checkpoint(&self) -> Result<CosignedCheckpoint> {
        let mut c = self.inner.checkpoint()?;
        (self.alter)(&mut c);
        Ok(c)
    }
    fn entry(&self, index: u64) -> Result<Entry> {
        self.inner.entry(index)
    }
    fn find(&self, key: &EntryKey) -> Result<Option<u64>> {
        self.inner.find(key)
    }
    fn audit(&self, indices: &[u64], from: Option<u64>) -> Result<Audit> {
        let from = if self.ignore_from { None } else { from };
        let mut a = self.inner.audit(indices, from)?;
        (self.alter)(&mut a.checkpoint);
        Ok(a)
    }
    fn append(&self, entries: Vec<Entry>) -> Result<Receipt> {
        self.inner.append(entries)
    }
}

#[test]
fn a_fresh_empty_ledger_is_reported_empty_without_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::init(
        &dir.path().join("led"),
        "trustspace-test",
        3,
        2,
        vec![issuer().public()],
    )
    .unwrap();
    assert_eq!(ledger.checkpoint().unwrap().signatures.len(), 0);
    let state = dir.path().join("monitor.json");
    let mut m = Monitor::new(ledger.config().clone(), Some(&state)).unwrap();
    assert_eq!(m.check(&ledger).unwrap(), Observation::Empty);
    assert_eq!(m.check(&ledger).unwrap(), Observation::Empty);
    // Nothing signed, so nothing remembered.
    assert!(m.last().is_none());
    assert!(!state.exists());
    // The first entry brings the first signed checkpoint.
    ledger.append(vec![policy_entry(1)]).unwrap();
    assert_eq!(m.check(&ledger).unwrap(), Observation::First { size: 1 });
    assert!(state.exists());
    // A monitor that saw it alerts if the ledger is later presented as empty (a rollback),
    // whether the ledger refuses the consistency proof or answers without it.
    let other = Ledger::init(
        &dir.path().join("other"),
        "trustspace-test",
        3,
        2,
        vec![issuer().public()],
    )
    .unwrap();
    assert!(matches!(
        m.check(&other),
        Err(LedgerError::StaleCheckpoint {
            offered: 0,
            seen: 1
        })
    ));
    let rolled_back = Tampered {
        inner: &other,
        alter: |_| {},
        ignore_from: true,
    };
    assert!(matches!(
        m.check(&rolled_back),
        Err(LedgerError::Fork {
            old_size: 1,
            new_size: 0,
            cause: ForkCause::Shrank
        })
    ));
}

#[test]
fn empty_checkpoints_that_lie_still_alert() {
    let dir = tempfile::tempdir().unwrap();
    let ledger =
        Ledger::init(dir.path(), "trustspace-test", 3, 2, vec![issuer().public()]).unwrap();
    let config = ledger.config().clone();
    // Another log's empty checkpoint.
    let mut m = Monitor::new(config.clone(), None).unwrap();
    let other_log = tampered(&ledger, |c| c.checkpoint.log_id = "elsewhere".into());
    assert!(matches!(
        m.check(&other_log),
        Err(LedgerError::WrongLog { expected, found })
            if expected == "trustspace-test" && found == "elsewhere"
    ));
    // Size 0 with a root that is not the empty tree's.
    let bad_root = tampered(&ledger, |c| c.checkpoint.root[0] ^= 1);
    assert!(matches!(
        m.check(&bad_root),
        Err(LedgerError::Fork {
            old_size: 0,
            new_size: 0,
            cause: ForkCause::EmptyCheckpointRoot
        })
    ));
    // A signature it carries must verify, even though none is needed.
    let forged = tampered(&ledger, |c| {
        c.signatures.push(log::CheckpointSignature {
            validator: Identity::from_seed(&[1; 32]).public(),
            signature: [0; 64],
        })
    });
    assert!(matches!(
        m.check(&forged),
        Err(LedgerError::UnknownSigner(k)) if k == Identity::from_seed(&[1; 32]).public().to_hex()
    ));
    assert!(m.last().is_none());
}

#[test]
fn a_non_empty_checkpoint_without_a_quorum_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let ledger =
        Ledger::init(dir.path(), "trustspace-test", 3, 2, vec![issuer().public()]).unwrap();
    ledger.append(vec![policy_entry(1)]).unwrap();
    let one_signature = tampered(&ledger, |c| c.signatures.truncate(1));
    let mut m = Monitor::new(ledger.config().clone(), None).unwrap();
    match m.check(&one_signature) {
        Err(LedgerError::NoQuorum { size, have, need }) => {
            assert_eq!((size, have, need), (1, 1, 2))
        }
        other => panic!("expected NoQuorum, got {other:?}"),
    }
    assert!(m.last().is_none());
    assert_eq!(m.check(&ledger).unwrap(), Observation::First { size: 1 });
}
