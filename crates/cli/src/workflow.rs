//! The data-space workflow end to end, on embedded defaults (`dataspace run`): three holders
//! (hospitals or banks) generate their datasets; commit and register them on an embedded ledger
//! whose validators co-sign each checkpoint; prove compliance with the published policy, which
//! a regulator verifies against the ledger (keeping an evidence file it re-checks offline); run
//! secret-shared queries with three compute-party processes on loopback; and sum encrypted values
//! under a key the holders share, decrypting only the total. Every artefact is written under the
//! output directory; the closing table says what was revealed to whom.

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_data::{Record, Schema, validate};

/// Output format of generated tables.
#[derive(Clone, Copy, ValueEnum)]
pub enum FileFormat {
    /// Comma-separated values.
    Csv,
    /// JSON Lines.
    Jsonl,
}

/// Which reference workload the main job runs.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Three hospitals: encounters (proofs, queries, sums), diagnoses (comorbidity).
    Healthcare,
    /// Three banks: transactions (proofs, queries, sums), revenues (market concentration).
    Finance,
}

/// Files written for one generated table.
pub struct Written {
    /// The schema file.
    pub schema: PathBuf,
    /// Each holder's file, its row count and the seconds it took to generate and write.
    pub files: Vec<(PathBuf, u64, f64)>,
    /// The list of planted violations, if any.
    pub violations: Option<PathBuf>,
}

/// Generates a synthetic table split across holders: its schema, each holder's file, the
/// table's reference policy (if it has one) and the list of planted violations.
pub fn generate(spec: Spec, format: FileFormat, out: &Path, stem: &str) -> Result<Written> {
    let g = Generator::new(spec)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let schema_path = out.join(format!("{stem}.schema.toml"));
    std::fs::write(&schema_path, g.schema().to_toml())
        .with_context(|| format!("writing {}", schema_path.display()))?;
    let ext = match format {
        FileFormat::Csv => "csv",
        FileFormat::Jsonl => "jsonl",
    };
    let mut files = Vec::new();
    for h in 0..spec.holders {
        let name = if spec.holders == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-holder{h}.{ext}")
        };
        let path = out.join(name);
        let started = Instant::now();
        let file =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let w = std::io::BufWriter::with_capacity(1 << 20, file);
        let n = match format {
            FileFormat::Csv => {
                trustspace_data::write::write_csv(w, g.schema(), g.holder_records(h))
            }
            FileFormat::Jsonl => {
                trustspace_data::write::write_jsonl(w, g.schema(), g.holder_records(h))
            }
        }
        .with_context(|| format!("writing {}", path.display()))?;
        files.push((path, n, started.elapsed().as_secs_f64()));
    }
    // The table's reference policy, where it has one, for `zkprove`.
    let policy = match spec.table {
        Table::Encounters => Some(trustspace_zk::reference::healthcare_policy()),
        Table::Transactions => Some(trustspace_zk::reference::finance_policy(spec.seed)),
        _ => None,
    };
    if let Some(text) = policy {
        let path = out.join(format!("{stem}.policy.toml"));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let violations = if spec.violations > 0 {
        let path = out.join(format!("{stem}.violations.csv"));
        let mut text = String::from("row,holder,violation\n");
        for (row, v) in g.violations() {
            let holder = (0..spec.holders)
                .find(|&h| g.holder_range(h).contains(&row))
                .expect("every row has a holder");
            text.push_str(&format!("{row},{holder},{v:?}\n"));
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Some(path)
    } else {
        None
    };
    Ok(Written {
        schema: schema_path,
        files,
        violations,
    })
}

/// Validates one file, printing its rejections; returns (accepted, rejected, seconds).
pub fn validate_file(schema: &Schema, path: &Path, max_errors: usize) -> Result<(u64, u64, f64)> {
    let t = Instant::now();
    let v = validate(path, schema, max_errors)?;
    for e in &v.errors {
        println!("  rejected: {e}");
    }
    if v.rejected as usize > v.errors.len() {
        println!("  … and {} more", v.rejected as usize - v.errors.len());
    }
    Ok((v.accepted, v.rejected, t.elapsed().as_secs_f64()))
}

/// Holders in the main job.
pub const HOLDERS: u32 = 3;

/// What the main job is asked to do.
pub struct Options {
    /// Healthcare or finance.
    pub scenario: Scenario,
    /// Records per holder and table.
    pub records: u64,
    /// Directory for every artefact (created; a previous run's directory is replaced).
    pub out: PathBuf,
    /// Seed of the synthetic data.
    pub seed: u64,
    /// How to start a compute-party process: the program and its leading arguments (the
    /// configuration and session count are appended).
    pub party_command: (PathBuf, Vec<String>),
}

/// One line of the closing table.
pub struct StepReport {
    /// The step.
    pub step: String,
    /// What happened.
    pub outcome: String,
    /// What was revealed, and to whom.
    pub revealed: String,
    /// Wall time, seconds.
    pub secs: f64,
}

/// Marker left in an output directory the main job owns (so a rerun may replace it).
const MARKER: &str = ".dataspace-run";

struct Workload {
    who: &'static str,
    tables: [Table; 3],
    policy: String,
    chunk_max: u64,
    he_column: &'static str,
    /// The threshold check's limit per row, as a fraction (numerator, denominator).
    threshold_per_row: (u64, u64),
    queries: Vec<(Table, String, trustspace_mpc::engine::Mode)>,
}

fn workload(o: &Options) -> Workload {
    use trustspace_mpc::engine::Mode;
    match o.scenario {
        Scenario::Healthcare => Workload {
            who: "hospital",
            tables: [Table::Encounters, Table::Diagnoses, Table::Medications],
            policy: trustspace_zk::reference::healthcare_policy(),
            chunk_max: 512,
            he_column: "length_of_stay",
            // Capacity planned at 5 bed-days per encounter.
            threshold_per_row: (5, 1),
            queries: vec![
                (
                    Table::Encounters,
                    "SELECT medication, COUNT(*) AS n, AVG(cost) FROM encounters \
                     WHERE age >= 65 AND consent = true GROUP BY medication \
                     ORDER BY n DESC LIMIT 5"
                        .into(),
                    Mode::Malicious,
                ),
                (
                    Table::Diagnoses,
                    "SELECT diagnosis, COUNT(*) AS n FROM diagnoses GROUP BY diagnosis \
                     ORDER BY n DESC LIMIT 10"
                        .into(),
                    Mode::SemiHonest,
                ),
            ],
        },
        Scenario::Finance => Workload {
            who: "bank",
            tables: [Table::Transactions, Table::Exposures, Table::Revenues],
            policy: trustspace_zk::reference::finance_policy(o.seed),
            chunk_max: 256,
            he_column: "aml_flag",
            // At most 1% of transactions flagged.
            threshold_per_row: (1, 100),
            queries: vec![
                (
                    Table::Transactions,
                    "SELECT currency, COUNT(*) AS n, SUM(amount), AVG(amount) FROM transactions \
                     WHERE aml_flag = false GROUP BY currency ORDER BY n DESC LIMIT 5"
                        .into(),
                    Mode::Malicious,
                ),
                (
                    Table::Revenues,
                    // The generator registers about one company per ten revenue rows.
                    format!(
                        "SELECT HHI(revenue, company, {}, 10000.00) AS hhi FROM revenues",
                        (o.records * u64::from(HOLDERS) / 10).max(5)
                    ),
                    Mode::Malicious,
                ),
            ],
        },
    }
}

fn spinner(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("  {spinner} {msg} [{elapsed}]").expect("valid template"),
    );
    pb.set_message(msg);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Prepares the output directory: created if missing; a previous run's replaced; anything
/// else refused (never delete what the job did not write).
fn prepare(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_none();
        if !empty {
            if !out.join(MARKER).exists() {
                bail!(
                    "{} exists and is not from a previous `dataspace run`; choose another --out",
                    out.display()
                );
            }
            std::fs::remove_dir_all(out).with_context(|| format!("clearing {}", out.display()))?;
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join(MARKER), "written by dataspace run\n")?;
    Ok(())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn load_rows(schema: &Schema, path: &Path) -> Result<Vec<Record>> {
    trustspace_data::load::open(path, schema)?
        .map(|r| r.map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("reading {}", path.display()))
}

/// Runs the main job, printing as it goes; returns the closing table's lines.
pub fn run(o: &Options) -> Result<Vec<StepReport>> {
    if o.records == 0 {
        bail!("--records must be at least 1");
    }
    let w = workload(o);
    let who = w.who;
    prepare(&o.out)?;
    let names: Vec<String> = (0..HOLDERS).map(|h| format!("{who}-{h}")).collect();
    println!(
        "trustspace data space: {HOLDERS} {who}s, {} records each per table, artefacts in {}",
        o.records,
        o.out.display()
    );
    let mut report = Vec::new();
    let mut rng = ChaCha20Rng::from_entropy();

    // 1. Datasets.
    println!("\n1. each {who} generates its datasets and checks them against the schema");
    let t = Instant::now();
    let data = o.out.join("data");
    let mut written = Vec::new();
    let mut total_rows = 0u64;
    for &table in &w.tables {
        let spec = Spec {
            table,
            rows: o.records * u64::from(HOLDERS),
            seed: o.seed,
            holders: HOLDERS,
            violations: 0,
        };
        let wr = generate(spec, FileFormat::Csv, &data, table.name())?;
        let schema = Schema::load(&wr.schema)?;
        for (path, n, _) in &wr.files {
            let (ok, bad, _) = validate_file(&schema, path, 5)?;
            if bad > 0 || ok != *n {
                bail!(
                    "{}: {bad} generated records failed validation",
                    path.display()
                );
            }
            total_rows += ok;
        }
        println!(
            "   {:<13} {} files, {} rows, all valid",
            table.name(),
            wr.files.len(),
            spec.rows
        );
        written.push((table, schema, wr));
    }
    report.push(StepReport {
        step: "1 datasets".into(),
        outcome: format!("{total_rows} rows in {} tables, all valid", w.tables.len()),
        revealed: format!("nothing (rows stay with each {who})"),
        secs: t.elapsed().as_secs_f64(),
    });
    let (_, proof_schema, proof_files) = &written[0];
    let holder_rows: Vec<Vec<Record>> = proof_files
        .files
        .iter()
        .map(|(p, _, _)| load_rows(proof_schema, p))
        .collect::<Result<_>>()?;

    // 2. Commitments on the ledger.
    println!("\n2. each {who} commits to its dataset and registers the commitment on the ledger");
    let t = Instant::now();
    let ledger_dir = o.out.join("ledger");
    let ledger = trustspace_ledger_verifier::Ledger::init(&ledger_dir, "trustspace", 3, 2)?;
    let keys_dir = o.out.join("keys");
    std::fs::create_dir_all(&keys_dir)?;
    let issuer = trustspace_ledger_verifier::Identity::generate();
    issuer.save(&keys_dir.join("regulator.key"))?;
    let policy =
        trustspace_zk::Policy::from_toml(&w.policy, "reference policy", None, proof_schema)?;
    let chunk = o.records.next_power_of_two().clamp(16, w.chunk_max);
    let compiled = trustspace_zk::Compiled::new(proof_schema, &policy, chunk)?;
    let pb = spinner(format!(
        "setting up proving keys (chunks of {chunk} records)"
    ));
    let (pk, vk) = trustspace_zk::setup(&compiled, &mut rng)?;
    pb.finish_and_clear();
    let zk_dir = o.out.join("zk");
    std::fs::create_dir_all(&zk_dir)?;
    vk.save(&zk_dir.join("verifying-keys.json"))?;
    use trustspace_ledger_verifier::{Body, DatasetEntry, Entry, LedgerView, PolicyEntry};
    let policy_name = policy.plan().name.clone();
    let receipt = ledger.append(vec![Entry::sign(
        Body::Policy(PolicyEntry::for_keys(&vk, &policy_name)),
        now(),
        &issuer,
    )?])?;
    println!(
        "   the regulator registers the policy {policy_name:?} (entry {})",
        receipt.first_index
    );
    let mut commitments = Vec::new();
    for (h, rows) in holder_rows.iter().enumerate() {
        let id = trustspace_ledger_verifier::Identity::generate();
        id.save(&keys_dir.join(format!("{}.key", names[h])))?;
        let (commitment, opening) =
            trustspace_zk::commit(proof_schema, rows.iter().cloned(), chunk, &mut rng)?;
        commitment.save(&zk_dir.join(format!("{}.commitment.json", names[h])))?;
        let receipt = ledger.append(vec![Entry::sign(
            Body::Dataset(DatasetEntry {
                commitment: commitment.clone(),
                name: format!("{}/{}", names[h], proof_schema.name()),
                metadata: Vec::new(),
            }),
            now(),
            &id,
        )?])?;
        println!(
            "   {} registers {} records (entry {}, checkpoint of {} entries signed by {} validators)",
            names[h],
            commitment.records,
            receipt.first_index,
            receipt.checkpoint.checkpoint.size,
            receipt.checkpoint.signatures.len()
        );
        commitments.push((commitment, opening));
    }
    report.push(StepReport {
        step: "2 commit + register".into(),
        outcome: format!("{HOLDERS} commitments and 1 policy on the ledger, co-signed 2 of 3"),
        revealed: "to everyone: commitments (hiding), record counts, schema digest".into(),
        secs: t.elapsed().as_secs_f64(),
    });

    // 3. Proofs, verified by the regulator against the ledger.
    println!("\n3. each {who} proves compliance; the regulator verifies against the ledger");
    let t = Instant::now();
    let evidence_dir = o.out.join("evidence");
    std::fs::create_dir_all(&evidence_dir)?;
    let config = ledger.config().clone();
    let mut proven = Vec::new();
    for (h, rows) in holder_rows.iter().enumerate() {
        let (commitment, opening) = &commitments[h];
        let pb = spinner(format!("{} proving {} records", names[h], rows.len()));
        let bundle = trustspace_zk::prove_all(&compiled, &pk, commitment, opening, rows, &mut rng)?;
        pb.finish_and_clear();
        bundle.save(&zk_dir.join(format!("{}.bundle.json", names[h])))?;
        let (verdict, evidence) =
            trustspace_ledger_verifier::verify(&bundle, &vk, &ledger, &config, None)?;
        let path = evidence_dir.join(format!("{}.evidence.json", names[h]));
        evidence.save(&path)?;
        // The regulator's offline re-check: the evidence file and the validators' keys only.
        let again = trustspace_ledger_verifier::verify_evidence(
            &trustspace_ledger_verifier::Evidence::load(&path)?,
            &config,
            None,
        )?;
        let shown: Vec<String> = verdict
            .revealed
            .iter()
            .map(|r| format!("{} = {}", r.name, r.value))
            .collect();
        println!(
            "   {}: {} records comply (dataset entry {}){}; evidence {} re-checks offline",
            names[h],
            verdict.records,
            verdict.dataset_index,
            if shown.is_empty() {
                String::new()
            } else {
                format!(", revealed {}", shown.join(", "))
            },
            path.display()
        );
        if again.records != verdict.records {
            bail!("the offline re-check disagrees");
        }
        proven.push(shown);
    }
    let revealed: Vec<String> = proven.iter().flatten().cloned().collect();
    report.push(StepReport {
        step: "3 prove + verify".into(),
        outcome: format!("{HOLDERS} of {HOLDERS} datasets comply with {policy_name:?}"),
        revealed: if revealed.is_empty() {
            "to the regulator: compliance only".into()
        } else {
            "to the regulator: compliance and each total the policy reveals".into()
        },
        secs: t.elapsed().as_secs_f64(),
    });

    // 4. Secret-shared queries across three party processes.
    println!(
        "\n4. the {who}s query their joint data through three compute parties (separate processes, TLS on loopback)"
    );
    let t = Instant::now();
    let answers = mpc_step(o, &w, &names, &written)?;
    for (sql, result) in &answers {
        println!(
            "   {}",
            sql.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        println!("     {}", result.columns.join(" | "));
        for r in &result.rows {
            println!("     {}", r.join(" | "));
        }
    }
    report.push(StepReport {
        step: "4 MPC queries".into(),
        outcome: format!("{} queries answered across {HOLDERS} {who}s", answers.len()),
        revealed: format!("to the {who}s: the query results only; to the parties: nothing"),
        secs: t.elapsed().as_secs_f64(),
    });

    // 5. Homomorphic sum under a key the holders share.
    println!(
        "\n5. an untrusted aggregator sums the {who}s' encrypted {} values; 2 of 3 {who}s decrypt the total",
        w.he_column
    );
    let t = Instant::now();
    let (total, count) = he_step(&w, proof_schema, &holder_rows, &mut rng)?;
    println!(
        "   total {} = {total} over {count} encrypted values",
        w.he_column
    );
    report.push(StepReport {
        step: "5 HE sum".into(),
        outcome: format!("sum of {count} encrypted values = {total}"),
        revealed: format!("to the key-holding {who}s: the total only; to the aggregator: nothing"),
        secs: t.elapsed().as_secs_f64(),
    });

    // 5b. An encrypted threshold check: only its verdict is decrypted.
    let t = Instant::now();
    let check = threshold_step(&w, proof_schema, &holder_rows)?;
    println!(
        "   the regulator learns only: total {} > {}? {}",
        w.he_column, check.limit, check.verdict
    );
    report.push(StepReport {
        step: "5b HE threshold".into(),
        outcome: format!(
            "total {} > {}: {} ({:?} inputs, {:?} sum, proven)",
            w.he_column, check.limit, check.verdict, check.value_width, check.sum_width
        ),
        revealed: format!(
            "to the regulator: one bit; to the aggregator: nothing; the {who}s: nothing new"
        ),
        secs: t.elapsed().as_secs_f64(),
    });
    Ok(report)
}

fn free_loopback_ports() -> Result<Vec<String>> {
    let held: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<_>>()
        .context("binding loopback ports")?;
    held.iter()
        .map(|l| Ok(l.local_addr()?.to_string()))
        .collect()
}

/// Kills the party processes if the step fails half-way.
struct Parties(Vec<Child>);

impl Drop for Parties {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn mpc_step(
    o: &Options,
    w: &Workload,
    names: &[String],
    written: &[(Table, Schema, Written)],
) -> Result<Vec<(String, trustspace_mpc::query::QueryResult)>> {
    use trustspace_mpc::query::Strategy;
    use trustspace_mpc::service::{QuerySpec, participate};
    use trustspace_mpc::transport::tls::{ClientLinkConfig, PartyConfig, keygen};
    let dir = o.out.join("mpc");
    std::fs::create_dir_all(&dir)?;
    let clients: Vec<&str> = names.iter().map(String::as_str).collect();
    keygen(&dir, 3, &clients)?;
    let addrs = free_loopback_ports()?;
    let mut parties = Parties(Vec::new());
    for i in 0..3 {
        let cfg = PartyConfig::for_dir(Path::new(""), i, &addrs, 120);
        let path = dir.join(format!("party-{i}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&cfg)?)?;
        let log = std::fs::File::create(dir.join(format!("party-{i}.log")))?;
        let (program, lead) = &o.party_command;
        parties.0.push(
            Command::new(program)
                .args(lead)
                .arg("--config")
                .arg(&path)
                .args(["--sessions", &w.queries.len().to_string()])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .with_context(|| format!("starting compute party {i} ({})", program.display()))?,
        );
    }
    let mut answers = Vec::new();
    for (table, sql, mode) in &w.queries {
        let (_, schema, files) = written
            .iter()
            .find(|(t, _, _)| t == table)
            .expect("the workload's tables are generated");
        let spec = QuerySpec {
            sql: sql.clone(),
            schema: schema.to_toml(),
            holders: names.to_vec(),
            recipients: names.to_vec(),
            mode: *mode,
            strategy: Strategy::Partials,
        };
        let rows: Vec<Vec<Record>> = files
            .files
            .iter()
            .map(|(p, _, _)| load_rows(schema, p))
            .collect::<Result<_>>()?;
        let pb = spinner(format!("{} ({:?})", table.name(), mode));
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = names
                .iter()
                .zip(&rows)
                .map(|(name, rows)| {
                    let cfg = ClientLinkConfig::for_dir(&dir, name, &addrs, 120);
                    let spec = &spec;
                    s.spawn(move || participate(&cfg, spec, Some(rows)))
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("holder thread"))
                .collect()
        });
        pb.finish_and_clear();
        // A holder that failed at once makes the others wait for it until their timeout:
        // report the cause, not the waiting.
        if let Some((name, Err(e))) = names.iter().zip(&results).find(
            |(_, r)| matches!(r, Err(e) if !matches!(e, trustspace_mpc::MpcError::Timeout { .. })),
        ) {
            bail!("{name}: query failed: {e}");
        }
        let mut first = None;
        for (name, r) in names.iter().zip(results) {
            let r = r
                .with_context(|| format!("{name}: query failed"))?
                .with_context(|| format!("{name}: no result"))?;
            if first.as_ref().is_some_and(|f| *f != r) {
                bail!("the {}s received different results", w.who);
            }
            first = Some(r);
        }
        answers.push((sql.clone(), first.expect("three holders")));
    }
    for (i, mut c) in std::mem::take(&mut parties.0).into_iter().enumerate() {
        let status = c.wait()?;
        if !status.success() {
            bail!(
                "compute party {i} failed ({status}); see {}",
                dir.join(format!("party-{i}.log")).display()
            );
        }
    }
    Ok(answers)
}

fn he_step(
    w: &Workload,
    schema: &Schema,
    holder_rows: &[Vec<Record>],
    rng: &mut ChaCha20Rng,
) -> Result<(String, u64)> {
    use trustspace_he::ristretto::{self, DlogTable, SumSpec};
    // The holders run the key generation among themselves: any 2 of the 3 can decrypt.
    let (key, authorities) = ristretto::dkg::run_local(HOLDERS, 2, rng)?;
    let spec = SumSpec::for_column(schema, w.he_column, "main job")?;
    let mut columns = Vec::new();
    for (h, rows) in holder_rows.iter().enumerate() {
        let pb = spinner(format!(
            "{}-{h} encrypting {} values with range proofs",
            w.who,
            rows.len()
        ));
        columns.push(ristretto::encrypt_column(
            schema,
            rows,
            w.he_column,
            &key,
            &spec,
            rng,
        )?);
        pb.finish_and_clear();
    }
    // The aggregator checks every proof and adds; it holds no key share.
    let total = ristretto::aggregate(&key, &spec, &columns)?;
    let partials = [
        authorities[0].partial_decrypt(&total, rng)?,
        authorities[2].partial_decrypt(&total, rng)?,
    ];
    let max = u64::try_from(total.bound()).context("total bound")?;
    let table = DlogTable::new(max)?;
    let t = ristretto::decrypt_total(&key, &total, &partials, &table)?;
    Ok((trustspace_data::format_units(t.units, t.scale), t.count))
}

/// What the encrypted threshold check found.
struct ThresholdCheck {
    limit: u64,
    verdict: bool,
    value_width: trustspace_he::fhe_int::Width,
    sum_width: trustspace_he::fhe_int::Width,
}

/// tfhe path A: each holder encrypts its own subtotal of the column under the regulator's
/// compact public key, with a proof that it fits the declared width; the untrusted aggregator
/// verifies, sums (multi-operand) and compares with the limit under encryption; the regulator
/// decrypts the verdict alone. The limit is the workload's threshold per row times the rows
/// (healthcare: bed-days against planned capacity; finance: AML flags against the tolerated
/// rate).
fn threshold_step(
    w: &Workload,
    schema: &Schema,
    holder_rows: &[Vec<Record>],
) -> Result<ThresholdCheck> {
    use trustspace_he::column::unsigned_column;
    use trustspace_he::fhe_int::{self, IntParams};
    let pb =
        spinner("regulator generating tfhe keys (client, server, compact public key, CRS)".into());
    let (regulator, aggregator, public) = fhe_int::generate()?;
    pb.finish_and_clear();
    let columns = holder_rows
        .iter()
        .map(|rows| unsigned_column(schema, rows, w.he_column))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let rows: u64 = columns.iter().map(|c| c.values.len() as u64).sum();
    let max_subtotal = columns
        .iter()
        .try_fold(1, |m, c| c.max_total().map(|t| m.max(t)))?;
    let params = IntParams::new(HOLDERS.into(), max_subtotal, 1)?;
    let (num, den) = w.threshold_per_row;
    let limit = rows * num / den;
    let mut contributions = Vec::new();
    for (h, c) in columns.iter().enumerate() {
        let pb = spinner(format!("{}-{h} encrypting and proving its subtotal", w.who));
        let subtotal: u64 = c.values.iter().sum();
        contributions.push(fhe_int::encrypt_values(
            &public,
            &params,
            "main job threshold",
            &format!("{}-{h}", w.who),
            &[subtotal],
        )?);
        pb.finish_and_clear();
    }
    let pb = spinner("aggregator verifying, summing and comparing under encryption".into());
    let totals = fhe_int::aggregate(&aggregator, &params, "main job threshold", &contributions)?;
    let verdict = totals.exceeds(&aggregator, 0, limit)?;
    pb.finish_and_clear();
    Ok(ThresholdCheck {
        limit,
        verdict: regulator.decrypt_verdict(&verdict)?,
        value_width: params.value_width(),
        sum_width: params.sum_width(),
    })
}

/// Prints the closing table.
pub fn print_report(report: &[StepReport]) {
    println!();
    println!("{:<20} {:>9}  result", "step", "time (s)");
    for r in report {
        println!("{:<20} {:>9.2}  {}", r.step, r.secs, r.outcome);
    }
    println!();
    println!("what was revealed, to whom:");
    for r in report {
        println!("  {:<20} {}", r.step, r.revealed);
    }
}
