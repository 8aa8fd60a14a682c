//! A hospital registers its dataset commitment on the consortium ledger and proves compliance;
//! a regulator verifies the proof *against the ledger* — the commitment and the policy must be
//! entries under a checkpoint the validators co-signed — and keeps an evidence file that anyone
//! re-checks offline with the validators' public keys alone.
//!
//! `cargo run --release --example ledger_verify [records]`

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::ledger::{
    Body, DatasetEntry, Entry, Evidence, Identity, Ledger, LedgerView, Pin, PolicyEntry, verify,
    verify_evidence,
};
use trustspace::zk::{Compiled, Policy, commit, prove_all, reference, setup};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let records: u64 = std::env::args().nth(1).map_or(Ok(128), |s| s.parse())?;
    let mut rng = ChaCha20Rng::from_entropy();
    let dir = tempfile::tempdir()?;

    // An embedded ledger: three validators, any two co-sign each checkpoint; its trust
    // configuration names the regulator as the one key allowed to register policies.
    let (regulator, hospital) = (Identity::generate(), Identity::generate());
    let ledger = Ledger::init(
        &dir.path().join("ledger"),
        "example",
        3,
        2,
        vec![regulator.public()],
    )?;

    // The regulator publishes the policy with its verifying keys.
    let data = Generator::new(Spec::new(Table::Encounters, records, 1))?;
    let schema = data.schema();
    let rows: Vec<_> = data.records().collect();
    let policy = Policy::from_toml(&reference::healthcare_policy(), "policy", None, schema)?;
    let chunk = records.next_power_of_two().clamp(16, 512);
    let compiled = Compiled::new(schema, &policy, chunk)?;
    let (proving_keys, verifying_keys) = setup(&compiled, &mut rng)?;
    let name = policy.plan().name.clone();
    ledger.append(vec![Entry::sign(
        Body::Policy(PolicyEntry::for_keys(&verifying_keys, &name)),
        0,
        &regulator,
    )?])?;

    // The hospital registers its commitment, then proves.
    let owner = hospital.public().to_bytes();
    let (commitment, opening) = commit(schema, rows.clone(), chunk, &owner, &mut rng)?;
    let receipt = ledger.append(vec![Entry::sign(
        Body::Dataset(DatasetEntry {
            commitment: commitment.clone(),
            name: "hospital-a/encounters".into(),
            metadata: Vec::new(),
        }),
        0,
        &hospital,
    )?])?;
    println!(
        "registered as entry {} under a checkpoint signed by {} validators",
        receipt.first_index,
        receipt.checkpoint.signatures.len()
    );
    let bundle = prove_all(
        &compiled,
        &proving_keys,
        &commitment,
        &opening,
        &rows,
        &mut rng,
    )?;

    // The regulator verifies against the ledger, trusting only the validators' keys.
    let config = ledger.config().clone();
    let (verdict, evidence) = verify(&bundle, &verifying_keys, &ledger, &config, None)?;
    println!(
        "{} records of {:?} comply with {:?} (policy entry {})",
        verdict.records, verdict.dataset_name, verdict.policy_name, verdict.policy_index
    );
    for r in &verdict.revealed {
        println!("revealed {} = {}", r.name, r.value);
    }

    // Anyone re-checks the evidence file offline, pinning the policy they trust (the evidence
    // names its own policy and carries its own keys: they must be what the verifier pins).
    let path = dir.path().join("evidence.json");
    evidence.save(&path)?;
    let pin = Pin::Policy(policy.digest());
    let again = verify_evidence(&Evidence::load(&path)?, &config, &pin, None)?;
    assert_eq!(again.records, verdict.records);
    println!("the evidence file re-checks offline");
    Ok(())
}
