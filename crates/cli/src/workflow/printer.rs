//! Everything the main job prints, in one place: the narration of each step as it happens
//! (written to the job's `&mut dyn Write`), the spinners of long steps (on the terminal's
//! stderr, hidden elsewhere), and the closing table rendered from the steps' rows.

use super::commit::{DatasetRegistered, PolicyRegistered};
use super::generate::Checked;
use super::he::SumRow;
use super::mpc::Answer;
use super::prove::Verified;
use super::threshold::ThresholdRow;
use super::{HOLDERS, Row};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

/// Renders the main job's output to a writer.
pub struct Printer<'w> {
    out: &'w mut dyn Write,
}

impl<'w> Printer<'w> {
    /// A printer writing to `out`.
    pub fn new(out: &'w mut dyn Write) -> Printer<'w> {
        Printer { out }
    }

    /// A spinner for a long step, on stderr when it is a terminal.
    pub fn spinner(&self, msg: String) -> ProgressBar {
        let pb = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("  {spinner} {msg} [{elapsed}]") {
            pb.set_style(style);
        }
        pb.set_message(msg);
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    }

    /// The opening line.
    pub fn intro(&mut self, who: &str, records: u64, dir: &Path) -> io::Result<()> {
        writeln!(
            self.out,
            "trustspace data space: {HOLDERS} {who}s, {records} records each per table, artefacts in {}",
            dir.display()
        )
    }

    /// Step 1's heading.
    pub fn datasets_heading(&mut self, who: &str) -> io::Result<()> {
        writeln!(
            self.out,
            "\n1. each {who} generates its datasets and checks them against the schema"
        )
    }

    /// A file's rejections (the first ones, and how many more), as `dataspace validate` and
    /// step 1 print them.
    pub fn rejections(&mut self, c: &Checked) -> io::Result<()> {
        for e in &c.errors {
            writeln!(self.out, "  rejected: {e}")?;
        }
        if c.rejected as usize > c.errors.len() {
            writeln!(
                self.out,
                "  … and {} more",
                c.rejected as usize - c.errors.len()
            )?;
        }
        Ok(())
    }

    /// One table generated and checked.
    pub fn table_generated(&mut self, table: &str, files: usize, rows: u64) -> io::Result<()> {
        writeln!(
            self.out,
            "   {table:<13} {files} files, {rows} rows, all valid"
        )
    }

    /// Step 2's heading.
    pub fn commit_heading(&mut self, who: &str) -> io::Result<()> {
        writeln!(
            self.out,
            "\n2. each {who} commits to its dataset and registers the commitment on the ledger"
        )
    }

    /// The policy on the ledger.
    pub fn policy_registered(&mut self, r: &PolicyRegistered) -> io::Result<()> {
        writeln!(
            self.out,
            "   the regulator registers the policy {:?} (entry {})",
            r.name, r.entry
        )
    }

    /// A holder's commitment on the ledger.
    pub fn dataset_registered(&mut self, r: &DatasetRegistered) -> io::Result<()> {
        writeln!(
            self.out,
            "   {} registers {} records (entry {}, checkpoint of {} entries signed by {} validators)",
            r.holder, r.records, r.entry, r.checkpoint_size, r.signatures
        )
    }

    /// Step 3's heading.
    pub fn prove_heading(&mut self, who: &str) -> io::Result<()> {
        writeln!(
            self.out,
            "\n3. each {who} proves compliance; the regulator verifies against the ledger"
        )
    }

    /// A holder's bundle verified against the ledger and re-checked offline.
    pub fn verified(&mut self, v: &Verified) -> io::Result<()> {
        let shown: Vec<String> = v
            .revealed
            .iter()
            .map(|r| format!("{} = {}", r.name, r.value))
            .collect();
        writeln!(
            self.out,
            "   {}: {} records comply (dataset entry {}){}; evidence {} re-checks offline",
            v.holder,
            v.records,
            v.dataset_entry,
            if shown.is_empty() {
                String::new()
            } else {
                format!(", revealed {}", shown.join(", "))
            },
            v.evidence.display()
        )
    }

    /// Step 4's heading.
    pub fn mpc_heading(&mut self, who: &str) -> io::Result<()> {
        writeln!(
            self.out,
            "\n4. the {who}s query their joint data through three compute parties (separate processes, TLS on loopback)"
        )
    }

    /// The queries and their results.
    pub fn answers(&mut self, answers: &[Answer]) -> io::Result<()> {
        for a in answers {
            writeln!(
                self.out,
                "   {}",
                a.sql.split_whitespace().collect::<Vec<_>>().join(" ")
            )?;
            writeln!(self.out, "     {}", a.result.columns.join(" | "))?;
            for r in &a.result.rows {
                writeln!(self.out, "     {}", r.join(" | "))?;
            }
        }
        Ok(())
    }

    /// Step 5's heading.
    pub fn he_heading(&mut self, who: &str, column: &str) -> io::Result<()> {
        writeln!(
            self.out,
            "\n5. an untrusted aggregator sums the {who}s' encrypted {column} values; 2 of 3 {who}s decrypt the total"
        )
    }

    /// The decrypted total.
    pub fn summed(&mut self, r: &SumRow) -> io::Result<()> {
        writeln!(
            self.out,
            "   total {} = {} over {} encrypted values",
            r.column, r.total, r.count
        )
    }

    /// The threshold check's verdict.
    pub fn threshold_checked(&mut self, r: &ThresholdRow) -> io::Result<()> {
        writeln!(
            self.out,
            "   the regulator learns only: total {} > {}? {}",
            r.column, r.limit, r.verdict
        )
    }
}

/// A row's label in the closing table.
pub fn step(row: &Row) -> &'static str {
    match row {
        Row::Datasets(_) => "1 datasets",
        Row::Committed(_) => "2 commit + register",
        Row::Proven(_) => "3 prove + verify",
        Row::Queried(_) => "4 MPC queries",
        Row::Summed(_) => "5 HE sum",
        Row::Threshold(_) => "5b HE threshold",
    }
}

/// What a step did, as the closing table says it.
pub fn outcome(row: &Row) -> String {
    match row {
        Row::Datasets(r) => format!("{} rows in {} tables, all valid", r.rows, r.tables),
        Row::Committed(r) => format!(
            "{} commitments and {} policy on the ledger, co-signed {} of {}",
            r.commitments, r.policies, r.threshold, r.validators
        ),
        Row::Proven(r) => format!(
            "{} of {} datasets comply with {:?}",
            r.complied, r.holders, r.policy
        ),
        Row::Queried(r) => format!(
            "{} queries answered across {} {}s",
            r.queries, r.holders, r.who
        ),
        Row::Summed(r) => format!("sum of {} encrypted values = {}", r.count, r.total),
        Row::Threshold(r) => format!(
            "total {} > {}: {} ({:?} inputs, {:?} sum, proven)",
            r.column, r.limit, r.verdict, r.value_width, r.sum_width
        ),
    }
}

/// What a step revealed, and to whom.
pub fn revealed(row: &Row) -> String {
    match row {
        Row::Datasets(r) => format!("nothing (rows stay with each {})", r.who),
        Row::Committed(_) => {
            "to everyone: commitments (hiding), record counts, schema digest".into()
        }
        Row::Proven(r) if r.reveals_totals => {
            "to the regulator: compliance and each total the policy reveals".into()
        }
        Row::Proven(_) => "to the regulator: compliance only".into(),
        Row::Queried(r) => format!(
            "to the {}s: the query results only; to the parties: nothing",
            r.who
        ),
        Row::Summed(r) => format!(
            "to the key-holding {}s: the total only; to the aggregator: nothing",
            r.who
        ),
        Row::Threshold(r) => format!(
            "to the regulator: one bit; to the aggregator: nothing; the {}s: nothing new",
            r.who
        ),
    }
}

/// Prints the closing table: each step's time and outcome, then what was revealed to whom.
pub fn print_report(out: &mut dyn Write, rows: &[Row]) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{:<20} {:>9}  result", "step", "time (s)")?;
    for r in rows {
        writeln!(out, "{:<20} {:>9.2}  {}", step(r), r.secs(), outcome(r))?;
    }
    writeln!(out)?;
    writeln!(out, "what was revealed, to whom:")?;
    for r in rows {
        writeln!(out, "  {:<20} {}", step(r), revealed(r))?;
    }
    Ok(())
}
