//! A hospital proves that its encounters comply with the data-sharing policy, revealing only
//! the total cost; a regulator verifies the proof against the published commitment.
//!
//! `cargo run --release --example healthcare_compliance [records]`

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::ledger::Identity;
use trustspace::zk::{Compiled, Policy, commit, prove_all, reference, setup, verify};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let records: u64 = std::env::args().nth(1).map_or(Ok(256), |s| s.parse())?;
    let mut rng = ChaCha20Rng::from_entropy();

    // The hospital's data (synthetic here) and the published policy.
    let data = Generator::new(Spec::new(Table::Encounters, records, 1))?;
    let schema = data.schema();
    let rows: Vec<_> = data.records().collect();
    let policy = Policy::from_toml(&reference::healthcare_policy(), "policy", None, schema)?;
    let compiled = Compiled::new(schema, &policy, 128)?;

    // Keys for (schema, policy, chunk size); the commitment is published, the opening kept.
    let (proving_keys, verifying_keys) = setup(&compiled, &mut rng)?;
    // The commitment names its owner: the hospital's ledger identity (who may register it).
    let hospital = Identity::generate();
    let owner = hospital.public().to_bytes();
    let (commitment, opening) = commit(schema, rows.clone(), 128, &owner, &mut rng)?;

    // Prove, then verify as the regulator would.
    let bundle = prove_all(
        &compiled,
        &proving_keys,
        &commitment,
        &opening,
        &rows,
        &mut rng,
    )?;
    let verified = verify(&bundle, &verifying_keys, &commitment)?;
    println!(
        "{} records comply with `{}`",
        verified.records,
        policy.plan().name
    );
    for r in &verified.revealed {
        println!("revealed {} = {} (cents)", r.name, r.value);
    }
    Ok(())
}
