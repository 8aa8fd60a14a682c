//! `dataspace`: generate, validate and the main job, in-process through the library, and end to
//! end through the binary (argument errors, exit codes, the healthcare job).

use crate::common::{exe, heavy, ok, printed, run, text};
use std::path::{Path, PathBuf};
use trustspace_cli::cmd::dataspace::{self, DataspaceError};
use trustspace_cli::workflow::{FileFormat, Options, Row, Scenario, WorkflowError};
use trustspace_data::Reason;
use trustspace_data::synth::{Spec, Table};

#[test]
fn gen_then_validate_then_catch_a_corrupted_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = Spec {
        table: Table::Encounters,
        rows: 300,
        seed: 4,
        holders: 3,
        violations: 9,
    };
    let mut out = Vec::new();
    let w = dataspace::generate(spec, FileFormat::Csv, d, &mut out).unwrap();
    let schema = d.join("encounters.schema.toml");
    let files: Vec<PathBuf> = (0..3)
        .map(|h| d.join(format!("encounters-holder{h}.csv")))
        .collect();
    assert_eq!(w.schema, schema);
    assert_eq!(
        w.files
            .iter()
            .map(|(f, n, _)| (f.clone(), *n))
            .collect::<Vec<_>>(),
        files.iter().map(|f| (f.clone(), 100)).collect::<Vec<_>>()
    );
    let listed_path = d.join("encounters.violations.csv");
    assert_eq!(w.violations.as_ref(), Some(&listed_path));
    assert_eq!(
        printed(&out),
        format!(
            "schema: {}\ndata:   {} (100 rows)\ndata:   {} (100 rows)\ndata:   {} (100 rows)\n\
             violations planted: 9, listed in {}\n",
            schema.display(),
            files[0].display(),
            files[1].display(),
            files[2].display(),
            listed_path.display()
        )
    );
    let listed = std::fs::read_to_string(&listed_path).unwrap();
    assert_eq!(listed.lines().count(), 10, "{listed}");

    let mut out = Vec::new();
    let checked = dataspace::validate(&schema, &files, 20, &mut out).unwrap();
    assert!(
        checked.iter().all(|c| (c.accepted, c.rejected) == (100, 0)),
        "{checked:?}"
    );
    assert!(
        printed(&out).contains("100 valid, 0 rejected"),
        "{}",
        printed(&out)
    );

    // Corrupt one age beyond the schema's bound on data line 3.
    let path = &files[1];
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    fields[2] = "130";
    lines[2] = fields.join(",");
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
    let mut out = Vec::new();
    let err = dataspace::validate(&schema, &files, 20, &mut out).unwrap_err();
    assert_eq!(
        err.downcast_ref::<DataspaceError>(),
        Some(&DataspaceError::ValidationFailed {
            rejected: vec![(path.clone(), 1)]
        }),
        "{err:#}"
    );
    let t = printed(&out);
    assert!(
        t.contains(&format!(
            "{}:3: column `age`: 130 is outside the declared range 0 ..= 120",
            path.display()
        )),
        "{t}"
    );
    assert!(t.contains("99 valid, 1 rejected"), "{t}");
    // The rejection as data: the line, the column and the reason.
    let schema = trustspace_data::Schema::load(&schema).unwrap();
    let c = trustspace_cli::workflow::validate_file(&schema, path, 20).unwrap();
    assert_eq!((c.accepted, c.rejected), (99, 1));
    let e = &c.errors[0];
    assert_eq!((e.line, e.column.as_deref()), (3, Some("age")));
    assert!(matches!(e.reason, Reason::OutOfRange { .. }), "{e}");
}

#[test]
fn jsonl_output_validates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = Spec {
        table: Table::Transactions,
        rows: 200,
        seed: 1,
        holders: 1,
        violations: 0,
    };
    dataspace::generate(spec, FileFormat::Jsonl, d, &mut Vec::new()).unwrap();
    let checked = dataspace::validate(
        &d.join("transactions.schema.toml"),
        &[d.join("transactions.jsonl")],
        20,
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!((checked[0].accepted, checked[0].rejected), (200, 0));
}

#[test]
fn bad_arguments_get_clear_errors_and_exit_codes() {
    // A usage error: clap's exit code 2.
    let o = run("dataspace", &["gen", "--table", "patients"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("unknown table `patients`"),
        "{}",
        text(&o)
    );
    // Failures: exit 1, the cause on stderr after `dataspace: `.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = run(
        "dataspace",
        &[
            "gen",
            "--table",
            "revenues",
            "--violations",
            "3",
            "--out",
            out,
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("dataspace: "), "{err}");
    assert!(err.contains("no reference policy"), "{err}");
    let o = run(
        "dataspace",
        &["validate", "--schema", "/nonexistent/s.toml", "x.csv"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("/nonexistent/s.toml"), "{}", text(&o));
    // Rejected records: exit 1 after the report on stdout.
    ok(run(
        "dataspace",
        &["gen", "--table", "encounters", "--rows", "5", "--out", out],
    ));
    let data = dir.path().join("encounters.csv");
    let csv = std::fs::read_to_string(&data).unwrap();
    std::fs::write(&data, csv.replacen('\n', "\nnot,a,record\n", 1)).unwrap();
    let schema = dir.path().join("encounters.schema.toml");
    let o = run(
        "dataspace",
        &[
            "validate",
            "--schema",
            schema.to_str().unwrap(),
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "dataspace: validation failed\n"
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("5 valid, 1 rejected"),
        "{}",
        text(&o)
    );
    // A directory the main job did not write: refused before any work.
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let o = run("dataspace", &["run", "--records", "4", "--out", out]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not from a previous"), "{}", text(&o));
    assert!(dir.path().join("precious.txt").is_file());
}

/// Every artefact of a run of `who`s in `out`.
fn assert_artefacts(out: &Path, who: &str) {
    for h in 0..3 {
        assert!(
            out.join(format!("evidence/{who}-{h}.evidence.json"))
                .is_file()
        );
        assert!(out.join(format!("zk/{who}-{h}.bundle.json")).is_file());
    }
    assert!(out.join("ledger").is_dir());
    assert!(out.join("mpc/party-0.log").is_file());
    assert!(
        out.join(".dataspace-run").is_file(),
        "a rerun may replace it"
    );
}

#[test]
fn run_healthcare_end_to_end_writes_every_artefact() {
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(
        "dataspace",
        &[
            "run",
            "--scenario",
            "healthcare",
            "--records",
            "16",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("3 of 3 datasets comply"), "{t}");
    assert!(t.contains("2 queries answered"), "{t}");
    assert!(t.contains("what was revealed, to whom"), "{t}");
    assert!(t.contains("all steps succeeded"), "{t}");
    assert_artefacts(&out, "hospital");
}

#[test]
fn run_finance_in_process_returns_every_row() {
    let _heavy = heavy();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = Options {
        scenario: Scenario::Finance,
        records: 8,
        out: out.clone(),
        seed: 1,
        // The parties are processes: this crate's binary.
        party_command: (exe("dataspace").into(), vec!["party".into()]),
    };
    let mut printed_out = Vec::new();
    let rows = dataspace::run_job(&o, &mut printed_out).unwrap();
    let t = printed(&printed_out);
    assert!(
        t.starts_with(&format!(
            "trustspace data space: 3 banks, 8 records each per table, artefacts in {}\n",
            out.display()
        )),
        "{t}"
    );
    assert!(t.contains("3 of 3 datasets comply"), "{t}");
    assert!(t.contains("what was revealed, to whom"), "{t}");
    assert!(t.contains("all steps succeeded"), "{t}");
    assert_eq!(rows.len(), 6);
    assert!(
        matches!(&rows[0], Row::Datasets(r) if r.rows == 72 && r.tables == 3),
        "{rows:?}"
    );
    assert!(
        matches!(&rows[1], Row::Committed(r) if r.commitments == 3),
        "{rows:?}"
    );
    assert!(
        matches!(&rows[2], Row::Proven(r) if r.complied == 3 && r.holders == 3),
        "{rows:?}"
    );
    assert!(
        matches!(&rows[3], Row::Queried(r) if r.queries == 2),
        "{rows:?}"
    );
    assert!(
        matches!(&rows[4], Row::Summed(r) if r.count == 24 && r.column == "aml_flag"),
        "{rows:?}"
    );
    assert!(
        matches!(&rows[5], Row::Threshold(r) if r.column == "aml_flag"),
        "{rows:?}"
    );
    assert_artefacts(&out, "bank");

    // `--records 0` is refused before the previous run's directory is touched.
    let mut again = o.clone();
    again.records = 0;
    let err = dataspace::run_job(&again, &mut Vec::new()).unwrap_err();
    assert!(
        matches!(err.downcast_ref(), Some(WorkflowError::NoRecords)),
        "{err:#}"
    );
    assert_artefacts(&out, "bank");
}

#[test]
fn run_never_replaces_a_directory_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let o = Options {
        scenario: Scenario::Healthcare,
        records: 4,
        out: dir.path().to_path_buf(),
        seed: 1,
        party_command: (exe("dataspace").into(), vec!["party".into()]),
    };
    let mut out = Vec::new();
    let err = dataspace::run_job(&o, &mut out).unwrap_err();
    assert!(
        matches!(err.downcast_ref(), Some(WorkflowError::NotOurs { dir: d }) if d == dir.path()),
        "{err:#}"
    );
    assert!(out.is_empty(), "{}", printed(&out));
    assert!(dir.path().join("precious.txt").is_file());
    assert!(!dir.path().join(".dataspace-run").exists());
}
