//! Step 1, the datasets: each holder's share of each synthetic table, written with its schema,
//! the table's reference policy and the planted violations, then checked against the schema.
//! [`generate`] and [`validate_file`] are also the work of `dataspace gen` and
//! `dataspace validate`.

use super::error::WorkflowError;
use super::printer::Printer;
use super::workload::Workload;
use super::{FileFormat, HOLDERS, Options};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;
use trustspace_data::LoadError;
use trustspace_data::synth::{Generator, Spec, Table};
use trustspace_data::{Record, Schema, validate};

/// Files written for one generated table.
#[derive(Clone, Debug, PartialEq)]
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
                .context("a planted violation outside every holder's rows")?;
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

/// What checking one file against its schema found.
#[derive(Debug)]
pub struct Checked {
    /// Records that passed.
    pub accepted: u64,
    /// Records that were rejected.
    pub rejected: u64,
    /// The first rejections (as many as were asked for), in file order.
    pub errors: Vec<LoadError>,
    /// Wall time, seconds.
    pub secs: f64,
}

/// Validates one file against `schema`, keeping its first `max_errors` rejections (print them
/// with [`Printer::rejections`]).
pub fn validate_file(schema: &Schema, path: &Path, max_errors: usize) -> Result<Checked> {
    let t = Instant::now();
    let v = validate(path, schema, max_errors)?;
    Ok(Checked {
        accepted: v.accepted,
        rejected: v.rejected,
        errors: v.errors,
        secs: t.elapsed().as_secs_f64(),
    })
}

/// One table of the main job, generated and checked.
#[derive(Clone, Debug)]
pub struct GeneratedTable {
    /// Which table.
    pub table: Table,
    /// Its schema.
    pub schema: Schema,
    /// Its files.
    pub written: Written,
}

/// Row 1 of the closing table.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetsRow {
    /// `hospital` or `bank`.
    pub who: &'static str,
    /// Rows generated, every table and holder together (all valid).
    pub rows: u64,
    /// Tables generated.
    pub tables: usize,
    /// Wall time, seconds.
    pub secs: f64,
}

/// Step 1: each holder generates its share of every table into `OUT/data` and checks it.
pub(super) fn run(
    o: &Options,
    w: &Workload,
    p: &mut Printer<'_>,
) -> Result<(Vec<GeneratedTable>, DatasetsRow)> {
    let t = Instant::now();
    let data = o.out.join("data");
    let mut tables = Vec::new();
    let mut total_rows = 0u64;
    for &table in &w.tables {
        let spec = Spec {
            table,
            rows: o.records * u64::from(HOLDERS),
            seed: o.seed,
            holders: HOLDERS,
            violations: 0,
        };
        let written = generate(spec, FileFormat::Csv, &data, table.name())?;
        let schema = Schema::load(&written.schema)?;
        for (path, n, _) in &written.files {
            let checked = validate_file(&schema, path, 5)?;
            p.rejections(&checked)?;
            if checked.rejected > 0 || checked.accepted != *n {
                return Err(WorkflowError::GeneratedInvalid {
                    path: path.clone(),
                    rejected: checked.rejected,
                }
                .into());
            }
            total_rows += checked.accepted;
        }
        p.table_generated(table.name(), written.files.len(), spec.rows)?;
        tables.push(GeneratedTable {
            table,
            schema,
            written,
        });
    }
    let row = DatasetsRow {
        who: w.who,
        rows: total_rows,
        tables: w.tables.len(),
        secs: t.elapsed().as_secs_f64(),
    };
    Ok((tables, row))
}

/// Reads one data file whole.
pub(super) fn load_rows(schema: &Schema, path: &Path) -> Result<Vec<Record>> {
    trustspace_data::load::open(path, schema)?
        .map(|r| r.map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("reading {}", path.display()))
}

/// Each holder's records of `table`.
pub(super) fn holder_rows(table: &GeneratedTable) -> Result<Vec<Vec<Record>>> {
    table
        .written
        .files
        .iter()
        .map(|(path, _, _)| load_rows(&table.schema, path))
        .collect()
}
