//! A bank proves that its payments respect the AML rules — amounts in range, no counterparty on
//! the 10,000-name sanctions blocklist, at most 1% flagged for review — revealing nothing else.
//!
//! `cargo run --release --example finance_aml_proof [records]`

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use trustspace::data::synth::{Generator, Spec, Table};
use trustspace::ledger::Identity;
use trustspace::zk::{Compiled, Policy, commit, prove_all, reference, setup, verify};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let records: u64 = std::env::args().nth(1).map_or(Ok(128), |s| s.parse())?;
    let seed = 7;
    let mut rng = ChaCha20Rng::from_entropy();

    // The bank's payments (synthetic) and the regulator's published policy for this seed's list.
    let data = Generator::new(Spec::new(Table::Transactions, records, seed))?;
    let schema = data.schema();
    let rows: Vec<_> = data.records().collect();
    let policy = Policy::from_toml(&reference::finance_policy(seed), "policy", None, schema)?;
    let chunk = records.next_power_of_two().clamp(16, 256);
    let compiled = Compiled::new(schema, &policy, chunk)?;

    let (proving_keys, verifying_keys) = setup(&compiled, &mut rng)?;
    // The commitment names its owner: the bank's ledger identity (who may register it).
    let bank = Identity::generate();
    let (commitment, opening) = commit(
        schema,
        rows.clone(),
        chunk,
        &bank.public().to_bytes(),
        &mut rng,
    )?;
    let bundle = prove_all(
        &compiled,
        &proving_keys,
        &commitment,
        &opening,
        &rows,
        &mut rng,
    )?;

    // The regulator checks the proofs against the published commitment only.
    let verified = verify(&bundle, &verifying_keys, &commitment)?;
    println!(
        "{} payments comply with `{}` ({} proofs)",
        verified.records,
        policy.plan().name,
        bundle.chunks.len() + 1
    );
    Ok(())
}
