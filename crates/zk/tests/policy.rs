//! Policy files a user gets wrong: TOML type and syntax errors located by line and column, share
//! bounds that could never bind, untrusted names escaped in messages.

use trustspace_data::Schema;
use trustspace_zk::{Policy, ZkError};

fn schema() -> Schema {
    Schema::from_toml(
        r#"
name = "t"
[[columns]]
name = "age"
type = "uint"
bits = 8
max = 120
[[columns]]
name = "flag"
type = "bool"
[[columns]]
name = "cost"
type = "decimal"
scale = 2
bits = 32
"#,
        "t.toml",
    )
    .unwrap()
}

fn compile(text: &str) -> Result<Policy, ZkError> {
    Policy::from_toml(text, "p.toml", None, &schema())
}

/// The line, column and message of a policy's TOML error.
fn toml_err(text: &str) -> (Option<(usize, usize)>, String) {
    match compile(text) {
        Err(ZkError::PolicyToml { source_name, error }) => {
            assert_eq!(source_name, "p.toml");
            (error.position.map(|p| (p.line, p.column)), error.message)
        }
        other => panic!("expected a TOML error, got {other:?}"),
    }
}

const AGG: &str = "name = \"p\"\n\n[[aggregate]]\nname = \"flagged\"\ncount = true\n";

#[test]
fn policy_toml_type_and_syntax_errors_carry_line_and_column() {
    let (at, msg) = toml_err(&format!("{AGG}reveal = \"yes\"\n"));
    assert_eq!(at, Some((6, 10)));
    assert_eq!(msg, "invalid type: string \"yes\", expected a boolean");
    let e = compile(&format!("{AGG}reveal = \"yes\"\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "policy p.toml: line 6, column 10: invalid type: string \"yes\", expected a boolean"
    );
    // A float bound: what a bound may be, not serde's untagged-enum text.
    let (at, msg) = toml_err(&format!("{AGG}max = 120.5\n"));
    assert_eq!(at, Some((6, 7)));
    assert!(
        msg.starts_with("120.5 is a floating-point number; a bound is an integer"),
        "{msg}"
    );
    assert!(!msg.contains("untagged"), "{msg}");
    let (at, msg) =
        toml_err("name = \"p\"\n[[record]]\nrequire = { column = \"age\", le = 120.5 }\n");
    assert_eq!(at, Some((3, 34)));
    assert!(msg.contains("a bound is an integer"), "{msg}");
    // A broken table header.
    let (at, msg) = toml_err("name = \"p\"\n[[record\nrequire = { column = \"age\", le = 1 }\n");
    assert_eq!(at, Some((2, 9)));
    assert!(msg.contains("expected `]]`"), "{msg}");
    // A string where a number is due, an unknown key.
    let (at, msg) = toml_err("name = \"p\"\n[[record]]\nrequire = { column = 7, le = 1 }\n");
    assert_eq!(at, Some((3, 22)));
    assert_eq!(msg, "invalid type: integer `7`, expected a string");
    let (at, msg) = toml_err(&format!("{AGG}colour = 1\n"));
    assert_eq!(at, Some((6, 1)));
    assert!(msg.starts_with("unknown field `colour`"), "{msg}");
}

#[test]
fn shares_outside_zero_to_one_are_refused_naming_the_rule() {
    for (key, value) in [
        ("max_share", "1.5"),
        ("min_share", "2"),
        ("max_share", "1.000001"),
    ] {
        let e = compile(&format!("{AGG}{key} = \"{value}\"\n")).unwrap_err();
        match &e {
            ZkError::ShareOutOfRange {
                source_name,
                aggregate,
                key: k,
                value: v,
            } => assert_eq!(
                (source_name.as_str(), aggregate.as_str(), *k, v.as_str()),
                ("p.toml", "flagged", key, value)
            ),
            other => panic!("expected ShareOutOfRange, got {other:?}"),
        }
        assert_eq!(
            e.to_string(),
            format!(
                "policy p.toml: aggregate `flagged`: `{key}` = \"{value}\" is outside 0..=1 (a share is a fraction of all records, such as \"0.01\")"
            )
        );
    }
    for ok in ["0", "1", "1.0", "0.5", "0.000001"] {
        compile(&format!(
            "{AGG}max_share = \"{ok}\"\nmin_share = \"{ok}\"\n"
        ))
        .unwrap();
    }
}

#[test]
fn untrusted_names_are_escaped_in_policy_errors() {
    let e = compile("name = \"p\"\n[[record]]\nrequire = { column = \"a\\u001b[2J\", le = 1 }\n")
        .unwrap_err();
    match &e {
        ZkError::Policy { reason, .. } => {
            assert_eq!(reason, "rule 1: unknown column `a\\u{1b}[2J`")
        }
        other => panic!("expected Policy, got {other:?}"),
    }
    let e = compile(
        "name = \"p\"\n[[aggregate]]\nname = \"x\\ny\"\nsum = \"flag\"\nmax_share = \"0.5\"\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "policy p.toml: aggregate `x\\ny`: `min_share`/`max_share` apply to counts"
    );
}
