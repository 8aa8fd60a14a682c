//! Policy files a user gets wrong: TOML type and syntax errors located by line and column, share
//! bounds that could never bind, every compile error typed by rule or aggregate, column and
//! cause, untrusted names escaped in messages.

use trustspace_data::{Reason, Schema};
use trustspace_zk::error::{AggregateProblem, PolicyError, PredicateProblem, RulePart};
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

/// The file name and typed cause of a policy error.
fn policy_error(e: &ZkError) -> (&str, &PolicyError) {
    match e {
        ZkError::Policy {
            source_name,
            reason,
        } => (source_name, reason),
        other => panic!("expected a policy error, got {other:?}"),
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
        match policy_error(&e) {
            (
                source_name,
                PolicyError::Aggregate {
                    aggregate,
                    problem: AggregateProblem::ShareOutOfRange { key: k, value: v },
                },
            ) => assert_eq!(
                (source_name, aggregate.as_str(), *k, v.as_str()),
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
    match policy_error(&e).1 {
        PolicyError::Rule {
            rule: 1,
            part: RulePart::Require,
            problem: PredicateProblem::UnknownColumn { column },
        } => assert_eq!(column, "a\u{1b}[2J"),
        other => panic!("expected an unknown column, got {other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "policy p.toml: rule 1: unknown column `a\\u{1b}[2J`"
    );
    let e = compile(
        "name = \"p\"\n[[aggregate]]\nname = \"x\\ny\"\nsum = \"flag\"\nmax_share = \"0.5\"\n",
    )
    .unwrap_err();
    assert!(matches!(
        policy_error(&e).1,
        PolicyError::Aggregate {
            aggregate,
            problem: AggregateProblem::ShareOnSum
        } if aggregate == "x\ny"
    ));
    assert_eq!(
        e.to_string(),
        "policy p.toml: aggregate `x\\ny`: `min_share`/`max_share` apply to counts"
    );
}

/// The typed cause of a policy that does not compile.
fn reason(text: &str) -> PolicyError {
    match compile(text) {
        Err(ZkError::Policy {
            source_name,
            reason,
        }) => {
            assert_eq!(source_name, "p.toml");
            *reason
        }
        other => panic!("expected a policy error for {text:?}, got {other:?}"),
    }
}

/// The cause of a policy with one `require` predicate, checking it is rule 1's requirement.
fn require_problem(predicate: &str) -> PredicateProblem {
    match reason(&format!(
        "name = \"p\"\n[[record]]\nrequire = {{ {predicate} }}\n"
    )) {
        PolicyError::Rule {
            rule: 1,
            part: RulePart::Require,
            problem,
        } => problem,
        other => panic!("expected a rule error for {predicate:?}, got {other:?}"),
    }
}

/// The cause of a policy with one aggregate named `a`.
fn aggregate_problem(body: &str) -> AggregateProblem {
    match reason(&format!(
        "name = \"p\"\n[[aggregate]]\nname = \"a\"\n{body}\n"
    )) {
        PolicyError::Aggregate { aggregate, problem } => {
            assert_eq!(aggregate, "a");
            problem
        }
        other => panic!("expected an aggregate error for {body:?}, got {other:?}"),
    }
}

#[test]
fn predicate_errors_name_the_rule_column_and_cause() {
    use PredicateProblem as P;
    assert!(matches!(
        require_problem("column = \"age\""),
        P::OperatorCount { column, found: 0 } if column == "age"
    ));
    assert!(matches!(
        require_problem("column = \"age\", le = 3, ge = 1"),
        P::OperatorCount { found: 2, .. }
    ));
    assert!(matches!(
        require_problem("column = \"age\", le = 300"),
        P::Value { column, reason: Reason::TooWide { bits: 8, .. } } if column == "age"
    ));
    assert!(matches!(
        require_problem("column = \"age\", le_column = \"cost\""),
        P::NotComparable { left, right } if left == "age" && right == "cost"
    ));
    assert!(matches!(
        require_problem("column = \"age\", le_column = \"nope\""),
        P::UnknownColumn { column } if column == "nope"
    ));
    assert!(matches!(
        require_problem("column = \"age\", between = [9, 3]"),
        P::EmptyBetween { column, lo, hi } if column == "age" && lo == "9" && hi == "3"
    ));
    assert!(matches!(
        require_problem("column = \"age\", in_file = \"set.txt\""),
        P::SetFileNotAllowed
    ));
    // A large set is allowed in `require` (an interval tree), not in `when`.
    let odd: Vec<String> = (0..20).map(|i| (2 * i + 1).to_string()).collect();
    let set = format!("column = \"age\", in = [{}]", odd.join(", "));
    compile(&format!(
        "name = \"p\"\n[[record]]\nrequire = {{ {set} }}\n"
    ))
    .unwrap();
    let e = reason(&format!(
        "name = \"p\"\n[[record]]\nwhen = {{ {set} }}\nrequire = {{ column = \"flag\", eq = \"true\" }}\n"
    ));
    assert!(
        matches!(
            &e,
            PolicyError::Rule {
                rule: 1,
                part: RulePart::When,
                problem: P::TooManyIntervals {
                    intervals: 20,
                    limit: 16,
                    ..
                }
            }
        ),
        "{e}"
    );
}

#[test]
fn set_files_resolve_against_the_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "name = \"p\"\n[[record]]\nrequire = { column = \"age\", not_in_file = \"ages.txt\" }\n",
    )
    .unwrap();
    let e = Policy::load(&policy, &schema()).unwrap_err();
    assert!(
        matches!(
            policy_error(&e).1,
            PolicyError::Rule {
                problem: PredicateProblem::SetFileRead { path, source },
                ..
            } if *path == dir.path().join("ages.txt") && source.kind() == std::io::ErrorKind::NotFound
        ),
        "{e}"
    );
    std::fs::write(dir.path().join("ages.txt"), "# minors\n17\n\n200\n").unwrap();
    let e = Policy::load(&policy, &schema()).unwrap_err();
    assert!(
        matches!(
            policy_error(&e).1,
            PolicyError::Rule {
                problem: PredicateProblem::SetFileValue {
                    line: 4,
                    reason: Reason::OutOfRange { .. },
                    ..
                },
                ..
            }
        ),
        "{e}"
    );
    std::fs::write(dir.path().join("ages.txt"), "# minors\n17\n\n16\n").unwrap();
    let p = Policy::load(&policy, &schema()).unwrap();
    let rule = &p.plan().rules[0];
    assert!(rule.holds(&vec![18, 0, 0]) && !rule.holds(&vec![17, 0, 0]));
}

#[test]
fn aggregate_errors_name_the_aggregate_and_cause() {
    use AggregateProblem as A;
    assert!(matches!(
        aggregate_problem("count = true\nsum = \"cost\""),
        A::Measure
    ));
    assert!(matches!(aggregate_problem("max = 3"), A::Measure));
    assert!(matches!(
        aggregate_problem("sum = \"nope\""),
        A::Predicate(PredicateProblem::UnknownColumn { column }) if column == "nope"
    ));
    // `flag` sums (a bool is 0 or 1); a categorical or signed column does not.
    compile("name = \"p\"\n[[aggregate]]\nname = \"a\"\nsum = \"flag\"\n").unwrap();
    assert!(matches!(
        aggregate_problem("count = true\nwhere = { column = \"age\", le = \"x\" }"),
        A::Predicate(PredicateProblem::Value { column, reason: Reason::Malformed { .. } }) if column == "age"
    ));
    assert!(matches!(
        aggregate_problem("count = true\nmax = \"1.5\""),
        A::CountBound { value } if value == "1.5"
    ));
    assert!(matches!(
        aggregate_problem("sum = \"cost\"\nmax = \"1.001\""),
        A::Predicate(PredicateProblem::Value {
            reason: Reason::TooManyDecimals { scale: 2, .. },
            ..
        })
    ));
    assert!(matches!(
        aggregate_problem("count = true\nmax_mean = 3"),
        A::MeanOnCount
    ));
    assert!(matches!(
        aggregate_problem("count = true\nmax_share = \"1e-3\""),
        A::Fraction { value } if value == "1e-3"
    ));
    assert!(matches!(
        aggregate_problem("count = true\nmax_share = \"0.0000001\""),
        A::Fraction { .. }
    ));
}

#[test]
fn rule_and_size_limits() {
    let mut text = String::from("name = \"p\"\n");
    for _ in 0..=trustspace_zk::policy::MAX_RULES {
        text.push_str("[[record]]\nrequire = { column = \"flag\", eq = \"true\" }\n");
    }
    assert!(matches!(
        reason(&text),
        PolicyError::TooManyRules {
            count: 257,
            limit: 256
        }
    ));
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(
        &big,
        vec![b'#'; trustspace_zk::policy::MAX_POLICY_BYTES as usize + 1],
    )
    .unwrap();
    let e = Policy::load(&big, &schema()).unwrap_err();
    assert!(
        matches!(
            policy_error(&e).1,
            PolicyError::TooLarge {
                limit: trustspace_zk::policy::MAX_POLICY_BYTES
            }
        ),
        "{e}"
    );
}
