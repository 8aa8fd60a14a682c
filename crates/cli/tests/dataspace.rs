//! The `dataspace` command as an operator runs it.

use std::path::Path;
use std::process::{Command, Output};

fn dataspace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataspace"))
        .args(args)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn gen_then_validate_then_catch_a_corrupted_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = dataspace(&[
        "gen",
        "--table",
        "encounters",
        "--rows",
        "300",
        "--holders",
        "3",
        "--violations",
        "9",
        "--seed",
        "4",
        "--out",
        out,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let schema = dir.path().join("encounters.schema.toml");
    let files: Vec<String> = (0..3)
        .map(|h| {
            dir.path()
                .join(format!("encounters-holder{h}.csv"))
                .display()
                .to_string()
        })
        .collect();
    let listed = std::fs::read_to_string(dir.path().join("encounters.violations.csv")).unwrap();
    assert_eq!(listed.lines().count(), 10, "{listed}");

    let mut args = vec!["validate", "--schema", schema.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let o = dataspace(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("100 valid, 0 rejected"), "{}", text(&o));

    // Corrupt one age beyond the schema's bound on data line 3.
    let path = Path::new(&files[1]);
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    fields[2] = "130";
    lines[2] = fields.join(",");
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
    let o = dataspace(&args);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains(&format!(
            "{}:3: column `age`: 130 is outside the declared range 0 ..= 120",
            files[1]
        )),
        "{t}"
    );
    assert!(t.contains("99 valid, 1 rejected"), "{t}");
}

#[test]
fn jsonl_output_validates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = dataspace(&[
        "gen",
        "--table",
        "transactions",
        "--rows",
        "200",
        "--format",
        "jsonl",
        "--out",
        out,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let schema = dir.path().join("transactions.schema.toml");
    let data = dir.path().join("transactions.jsonl");
    let o = dataspace(&[
        "validate",
        "--schema",
        schema.to_str().unwrap(),
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn bad_arguments_get_clear_errors() {
    let o = dataspace(&["gen", "--table", "patients"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("unknown table `patients`"),
        "{}",
        text(&o)
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = dataspace(&[
        "gen",
        "--table",
        "revenues",
        "--violations",
        "3",
        "--out",
        out,
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no reference policy"), "{}", text(&o));
    let o = dataspace(&["validate", "--schema", "/nonexistent/s.toml", "x.csv"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("/nonexistent/s.toml"), "{}", text(&o));
}

#[test]
fn run_works_for_both_scenarios_and_writes_every_artefact() {
    for (scenario, records) in [("healthcare", "16"), ("finance", "8")] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let args = [
            "run",
            "--scenario",
            scenario,
            "--records",
            records,
            "--out",
            out.to_str().unwrap(),
        ];
        let o = dataspace(&args);
        let t = text(&o);
        assert!(o.status.success(), "{t}");
        assert!(t.contains("3 of 3 datasets comply"), "{t}");
        assert!(t.contains("2 queries answered"), "{t}");
        assert!(t.contains("what was revealed, to whom"), "{t}");
        assert!(t.contains("all steps succeeded"), "{t}");
        let who = if scenario == "healthcare" {
            "hospital"
        } else {
            "bank"
        };
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
    // A directory the job did not write is never replaced.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let o = dataspace(&[
        "run",
        "--records",
        "4",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("not from a previous"), "{}", text(&o));
    assert!(dir.path().join("precious.txt").is_file());
}
