//! Circuit-level soundness tests: a violating witness does not satisfy the constraint system.

use ark_bn254::Fr;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_data::{Record, Schema};

use crate::circuit::{
    ChunkCircuit, ChunkPublic, Compiled, FinalCircuit, FinalPublic, accumulator, genesis,
};
use crate::commit::{Opening, chunk_root, commit_with, owner_fr};
use crate::policy::Policy;
use crate::prove::Prover;

/// The owner the tests' datasets are committed for.
pub(crate) const OWNER: [u8; 32] = [0x0e; 32];

pub(crate) const HEALTH_POLICY: &str = r#"
name = "hospital data-sharing agreement"
[[record]]
require = { column = "age", between = [18, 100] }
[[record]]
require = { column = "consent", eq = "true" }
[[record]]
name = "no mental-health diagnoses"
require = { column = "diagnosis", not_in_chapter = 5 }
[[record]]
when = { column = "medication", in = ["aspirin"] }
require = { column = "daily_dose", le = 4000 }
[[record]]
require = { column = "discharge", ge_column = "admission" }
[[aggregate]]
name = "total cost"
sum = "cost"
max = "250000000.00"
reveal = true
[[aggregate]]
name = "encounters"
count = true
min = 10
"#;

/// The policy text with the ICD-10 chapter-5 codes listed for `not_in`.
pub(crate) fn health_policy_text() -> String {
    let codes: Vec<String> = trustspace_data::synth::icd10::categories()
        .iter()
        .filter(|c| c.chapter == 5)
        .map(|c| format!("{:?}", c.code))
        .collect();
    HEALTH_POLICY.replace(
        "not_in_chapter = 5",
        &format!("not_in = [{}]", codes.join(", ")),
    )
}

pub(crate) fn encounters(n: u64, seed: u64) -> (Schema, Vec<Record>) {
    let g = Generator::new(Spec::new(Table::Encounters, n, seed)).unwrap();
    let mut rows: Vec<Record> = g.records().collect();
    // The generator's ages reach 95; keep the test policy's 18..=100 satisfied.
    for r in &mut rows {
        r[2] = r[2].clamp(18, 100);
    }
    (g.schema().clone(), rows)
}

struct Fixture {
    compiled: Compiled,
    opening: Opening,
    records: Vec<Record>,
    schema: Schema,
}

const CHUNK: u64 = 32;

fn fixture() -> Fixture {
    let (schema, records) = encounters(80, 3);
    let policy = Policy::from_toml(&health_policy_text(), "test", None, &schema).unwrap();
    let compiled = Compiled::new(&schema, &policy, CHUNK).unwrap();
    Fixture {
        compiled,
        opening: Opening::from_key([7; 32]),
        records,
        schema,
    }
}

/// Whether chunk `c` of `records` (committed as given) satisfies the chunk circuit; the native
/// rule check is bypassed so the circuit alone is judged.
fn chunk_satisfied(f: &Fixture, records: &[Record], c: u64) -> bool {
    let commitment = commit_with(&f.schema, records.to_vec(), CHUNK, &OWNER, &f.opening).unwrap();
    let mut p = Prover::unkeyed(&f.compiled, &commitment, &f.opening).unwrap();
    // Totals without the rule check.
    let plan = f.compiled.policy().plan();
    for chunk in records.chunks(CHUNK as usize) {
        let last = p.totals.last().unwrap().clone();
        let next = plan
            .counters
            .iter()
            .zip(last)
            .map(|(k, t)| t + chunk.iter().map(|r| k.contribution(r)).sum::<u128>())
            .collect();
        p.totals.push(next);
    }
    let start = (c * CHUNK) as usize;
    let end = (start + CHUNK as usize).min(records.len());
    let circuit = p.chunk_circuit(c, &records[start..end]).unwrap();
    let cs = ConstraintSystem::<Fr>::new_ref();
    circuit.generate_constraints(cs.clone()).unwrap();
    cs.is_satisfied().unwrap()
}

#[test]
fn clean_data_satisfies_every_chunk_including_a_partial_one() {
    let f = fixture();
    for c in 0..3 {
        assert!(chunk_satisfied(&f, &f.records, c), "chunk {c}");
    }
}

#[test]
fn pinned_constraint_counts() {
    let f = fixture();
    let cs = ConstraintSystem::<Fr>::new_ref();
    ChunkCircuit::for_setup(&f.compiled)
        .generate_constraints(cs.clone())
        .unwrap();
    let per_chunk = cs.num_constraints();
    // A deliberate change of the circuits must update these numbers.
    assert_eq!(
        per_chunk, 15_730,
        "chunk circuit of {CHUNK} healthcare records"
    );
    let cs = ConstraintSystem::<Fr>::new_ref();
    FinalCircuit::for_setup(&f.compiled)
        .generate_constraints(cs.clone())
        .unwrap();
    assert_eq!(cs.num_constraints(), 744, "final circuit");
}

/// Sets column `col` of record `at` and checks the chunk holding it.
fn broken(f: &Fixture, at: usize, col: &str, value: &str) -> bool {
    let mut rows = f.records.clone();
    let i = f.schema.index_of(col).unwrap();
    rows[at][i] = f.schema.columns()[i].parse(value).unwrap();
    chunk_satisfied(f, &rows, at as u64 / CHUNK)
}

#[test]
fn every_rule_kind_rejects_a_violating_record_at_first_middle_and_last_position() {
    let f = fixture();
    for at in [32, 47, 63] {
        assert!(!broken(&f, at, "age", "17"), "age 17 at {at}");
        assert!(!broken(&f, at, "age", "101"), "age 101 at {at}");
        assert!(!broken(&f, at, "consent", "false"), "consent at {at}");
        assert!(!broken(&f, at, "diagnosis", "F32"), "F32 at {at}");
        assert!(
            !broken(&f, at, "diagnosis", "F01"),
            "F01 (first of chapter 5) at {at}"
        );
        assert!(
            !broken(&f, at, "diagnosis", "F99"),
            "F99 (last of chapter 5) at {at}"
        );
    }
    // Last real record of the partial last chunk.
    assert!(!broken(&f, 79, "age", "0"));
}

#[test]
fn bounds_are_inclusive_at_their_edges() {
    let f = fixture();
    assert!(broken(&f, 40, "age", "18"));
    assert!(broken(&f, 40, "age", "100"));
    assert!(broken(&f, 40, "diagnosis", "E89"), "just before chapter 5");
    assert!(broken(&f, 40, "diagnosis", "G00"), "just after chapter 5");
}

#[test]
fn conditional_and_column_comparison_rules() {
    let f = fixture();
    let mut rows = f.records.clone();
    let s = &f.schema;
    let (med, dose) = (
        s.index_of("medication").unwrap(),
        s.index_of("daily_dose").unwrap(),
    );
    let aspirin = s.columns()[med].parse("aspirin").unwrap();
    let none = s.columns()[med].parse("none").unwrap();
    rows[50][med] = aspirin;
    rows[50][dose] = 4000;
    assert!(
        chunk_satisfied(&f, &rows, 1),
        "4000 mg of aspirin is allowed"
    );
    rows[50][dose] = 4001;
    assert!(!chunk_satisfied(&f, &rows, 1), "4001 mg of aspirin is not");
    rows[50][med] = none;
    assert!(
        chunk_satisfied(&f, &rows, 1),
        "the condition does not apply to other medications"
    );

    let mut rows = f.records.clone();
    let (adm, dis) = (
        s.index_of("admission").unwrap(),
        s.index_of("discharge").unwrap(),
    );
    rows[33][dis] = rows[33][adm];
    assert!(chunk_satisfied(&f, &rows, 1), "same-day discharge");
    rows[33][dis] = rows[33][adm] - 1;
    assert!(!chunk_satisfied(&f, &rows, 1), "discharge before admission");
}

/// Whether the chunk circuit accepts `records` (chunk 0, padded with zero records) as given,
/// the first `active` real, with `owner` as the owner input: built directly, with no native
/// check, as an adversarial prover would.
fn raw_chunk_satisfied(f: &Fixture, records: &[Record], active: u64, owner: Fr) -> bool {
    let layout = &f.compiled.layout;
    let plan = f.compiled.policy().plan();
    let totals: Vec<u128> = plan
        .counters
        .iter()
        .map(|k| {
            records[..active as usize]
                .iter()
                .map(|r| k.contribution(r))
                .sum()
        })
        .collect();
    let per_leaf = layout.records_per_leaf as u64;
    let circuit = ChunkCircuit {
        compiled: &f.compiled,
        records,
        salts: (0..CHUNK / per_leaf).map(|j| f.opening.salt(j)).collect(),
        prev: vec![0; totals.len()],
        blind_prev: Fr::from(0u64),
        blind_new: f.opening.blinding(0),
        public: ChunkPublic {
            chunk_root: chunk_root(layout, &f.opening, &OWNER, 0, CHUNK, records),
            active,
            owner,
            acc_in: genesis(totals.len()),
            acc_out: accumulator(&totals, f.opening.blinding(0)),
        },
    };
    let cs = ConstraintSystem::<Fr>::new_ref();
    circuit.generate_constraints(cs.clone()).unwrap();
    cs.is_satisfied().unwrap()
}

#[test]
fn values_outside_their_declared_domain_are_refused_by_the_circuit() {
    let f = fixture();
    let s = &f.schema;
    let owner = owner_fr(&OWNER);
    let rows = f.records[..CHUNK as usize].to_vec();
    assert!(raw_chunk_satisfied(&f, &rows, CHUNK, owner));
    // An 11-bit diagnosis code past the ICD-10 dictionary passes every rule (it is no chapter-5
    // code), but it is no diagnosis: the circuit refuses it. The last code is accepted.
    let dx = s.index_of("diagnosis").unwrap();
    let last = s.columns()[dx].max_encoded();
    assert!(
        last < (1 << s.columns()[dx].width()) - 1,
        "unused codes exist"
    );
    for (at, code, ok) in [
        (0, last, true),
        (0, last + 1, false),
        (31, (1 << 11) - 1, false),
    ] {
        let mut r = rows.clone();
        r[at][dx] = code;
        assert_eq!(raw_chunk_satisfied(&f, &r, CHUNK, owner), ok, "code {code}");
    }
    // Age is 8 bits with `max = 120`; the policy here allows up to 100, so take its rule out
    // to see the schema's own bound at work.
    let lax = health_policy_text().replace("between = [18, 100]", "ge = 18");
    let policy = Policy::from_toml(&lax, "lax", None, s).unwrap();
    let lax = Fixture {
        compiled: Compiled::new(s, &policy, CHUNK).unwrap(),
        opening: f.opening.clone(),
        records: rows.clone(),
        schema: s.clone(),
    };
    let age = s.index_of("age").unwrap();
    for (v, ok) in [(120, true), (121, false), (255, false)] {
        let mut r = rows.clone();
        r[5][age] = v;
        assert_eq!(raw_chunk_satisfied(&lax, &r, CHUNK, owner), ok, "age {v}");
    }
    // A padding slot after the real records must be zero where a column has an upper bound.
    let mut r = rows.clone();
    r.truncate(20);
    assert!(raw_chunk_satisfied(&f, &r, 20, owner));
    r.push(rows[20].clone());
    assert!(!raw_chunk_satisfied(&f, &r, 20, owner), "non-zero padding");
}

#[test]
fn a_chunk_proof_is_bound_to_its_owner() {
    let f = fixture();
    let rows = f.records[..CHUNK as usize].to_vec();
    assert!(raw_chunk_satisfied(&f, &rows, CHUNK, owner_fr(&OWNER)));
    // The chunk root was made for OWNER: no other owner input satisfies the circuit.
    assert!(!raw_chunk_satisfied(
        &f,
        &rows,
        CHUNK,
        owner_fr(&[0x0f; 32])
    ));
    assert!(!raw_chunk_satisfied(&f, &rows, CHUNK, Fr::from(0u64)));
}

fn final_satisfied(f: &Fixture, totals: Vec<u128>, revealed: Vec<u128>, records: u64) -> bool {
    let blinding = Fr::from(99u64);
    let circuit = FinalCircuit {
        compiled: &f.compiled,
        totals: totals.clone(),
        blinding,
        public: FinalPublic {
            acc: accumulator(&totals, blinding),
            records,
            revealed,
        },
    };
    let cs = ConstraintSystem::<Fr>::new_ref();
    circuit.generate_constraints(cs.clone()).unwrap();
    cs.is_satisfied().unwrap()
}

#[test]
fn aggregate_bounds_and_reveals_are_enforced() {
    let f = fixture();
    let limit = 25_000_000_000u128; // 250,000,000.00 in cents
    assert!(final_satisfied(&f, vec![limit, 80], vec![limit], 80));
    assert!(
        !final_satisfied(&f, vec![limit + 1, 80], vec![limit + 1], 80),
        "sum over the limit"
    );
    assert!(
        !final_satisfied(&f, vec![5, 9], vec![5], 9),
        "count under the minimum"
    );
    assert!(
        final_satisfied(&f, vec![5, 10], vec![5], 10),
        "count at the minimum"
    );
    assert!(
        !final_satisfied(&f, vec![5, 80], vec![6], 80),
        "revealed value differs from the total"
    );
    // A total wrapped around the field (p - 1 ≡ -1) cannot pass a bound.
    let circuit_total = u128::MAX;
    assert!(!final_satisfied(
        &f,
        vec![circuit_total, 80],
        vec![circuit_total],
        80
    ));
}

#[test]
fn reference_policies_compile_and_the_blocklist_uses_a_tree() {
    let (schema, _) = encounters(10, 1);
    let p = Policy::from_toml(&crate::reference::healthcare_policy(), "h", None, &schema).unwrap();
    assert_eq!(p.plan().rules.len(), 4);
    let tschema = Table::Transactions.schema();
    let p = Policy::from_toml(&crate::reference::finance_policy(1), "f", None, &tschema).unwrap();
    assert!(matches!(
        p.plan().rules[1].require,
        crate::policy::Atom::Tree { .. }
    ));
}

#[test]
fn blocklist_tree_rejects_a_blocked_counterparty() {
    let seed = 4;
    let schema = Table::Transactions.schema();
    let policy =
        Policy::from_toml(&crate::reference::finance_policy(seed), "f", None, &schema).unwrap();
    let compiled = Compiled::new(&schema, &policy, 16).unwrap();
    let g = Generator::new(Spec::new(Table::Transactions, 16, seed)).unwrap();
    let clean: Vec<Record> = g.records().collect();
    let f = Fixture {
        compiled,
        opening: Opening::from_key([1; 32]),
        records: clean.clone(),
        schema: schema.clone(),
    };
    let cs_ok = |rows: &[Record]| {
        let commitment = commit_with(&schema, rows.to_vec(), 16, &OWNER, &f.opening).unwrap();
        let mut p = Prover::unkeyed(&f.compiled, &commitment, &f.opening).unwrap();
        let plan = f.compiled.policy().plan();
        let t: Vec<u128> = plan
            .counters
            .iter()
            .map(|k| rows.iter().map(|r| k.contribution(r)).sum())
            .collect();
        p.totals.push(t);
        let circuit = p.chunk_circuit(0, rows).unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        circuit.generate_constraints(cs.clone()).unwrap();
        (cs.is_satisfied().unwrap(), cs.num_constraints())
    };
    let (ok, n) = cs_ok(&clean);
    assert!(ok);
    // Pinned: 16 transactions, with a Merkle path per record into the 10,001-interval tree.
    assert_eq!(n, 66_264, "finance chunk of 16");
    let blocked = trustspace_data::synth::finance::blocklist(seed);
    let cp = schema.index_of("counterparty").unwrap();
    for (at, b) in [(0, blocked[0]), (7, blocked[5000]), (15, blocked[9999])] {
        let mut rows = clean.clone();
        rows[at][cp] = b;
        assert!(!cs_ok(&rows).0, "blocked counterparty at {at}");
        rows[at][cp] = b + 1;
        if !blocked.contains(&(b + 1)) {
            assert!(cs_ok(&rows).0, "neighbour of a blocked id at {at}");
        }
    }
}

#[test]
fn pinned_reference_healthcare_count() {
    // The reference healthcare policy: 450.7 constraints per record at chunks of 1024 (461,540
    // a chunk), 375.5 before circuit version 2 enforced each column's declared domain (+75.2:
    // age, sex, zip3, diagnosis, both dates and the daily dose have bounds that are not powers
    // of two) and bound chunk roots to their owner (one Poseidon hash a chunk).
    let schema = Table::Encounters.schema();
    let policy =
        Policy::from_toml(&crate::reference::healthcare_policy(), "h", None, &schema).unwrap();
    let compiled = Compiled::new(&schema, &policy, 32).unwrap();
    let cs = ConstraintSystem::<Fr>::new_ref();
    ChunkCircuit::for_setup(&compiled)
        .generate_constraints(cs.clone())
        .unwrap();
    assert_eq!(
        cs.num_constraints(),
        14_892,
        "reference healthcare chunk of 32"
    );
}

#[test]
fn reference_cost_budget_is_a_bound_per_encounter() {
    // The reference healthcare policy bounds the total cost by 50,000.00 per encounter, using the
    // public record count (no extra counter): at the edge it holds, one cent over it fails, and
    // the same total over fewer records fails.
    let schema = Table::Encounters.schema();
    let policy =
        Policy::from_toml(&crate::reference::healthcare_policy(), "h", None, &schema).unwrap();
    let compiled = Compiled::new(&schema, &policy, 32).unwrap();
    assert_eq!(
        compiled.counters(),
        1,
        "the mean bound reuses the record count"
    );
    let sat = |total: u128, records: u64| {
        let blinding = Fr::from(7u64);
        let circuit = FinalCircuit {
            compiled: &compiled,
            totals: vec![total],
            blinding,
            public: FinalPublic {
                acc: accumulator(&[total], blinding),
                records,
                revealed: vec![total],
            },
        };
        let cs = ConstraintSystem::<Fr>::new_ref();
        circuit.generate_constraints(cs.clone()).unwrap();
        cs.is_satisfied().unwrap()
    };
    let budget = 5_000_000u128; // cents
    assert!(sat(budget * 1000, 1000));
    assert!(!sat(budget * 1000 + 1, 1000), "one cent over budget");
    assert!(!sat(budget * 1000, 999), "same total, fewer encounters");
    assert!(sat(budget * 65_536 - 1, 65_536));
}
