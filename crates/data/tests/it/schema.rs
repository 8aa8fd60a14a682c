//! Schema parsing, compilation errors, canonical encodings and digests.

use trustspace_data::{
    ColumnProblem, ColumnSpec, DataError, Kind, Reason, Schema, SchemaProblem, TypeName, Value,
};

fn schema(columns: &str) -> Result<Schema, DataError> {
    Schema::from_toml(&format!("name = \"t\"\n{columns}"), "test.toml")
}

fn one(column: &str) -> Schema {
    schema(&format!("[[columns]]\nname = \"c\"\n{column}")).unwrap()
}

fn err(columns: &str) -> DataError {
    schema(columns).unwrap_err()
}

/// The typed problem of a schema that does not compile (not a TOML error).
fn problem(columns: &str) -> SchemaProblem {
    match err(columns) {
        DataError::Schema {
            source_name,
            reason,
        } => {
            assert_eq!(source_name, "test.toml");
            reason
        }
        other => panic!("expected a schema problem, got {other:?}"),
    }
}

fn column_problem(problem: ColumnProblem) -> SchemaProblem {
    SchemaProblem::Column {
        column: "a".into(),
        problem,
    }
}

#[test]
fn every_type_compiles_with_its_width() {
    let s = schema(
        r#"
[[columns]]
name = "u"
type = "uint"
bits = 8
[[columns]]
name = "i"
type = "int"
bits = 16
[[columns]]
name = "d"
type = "decimal"
scale = 2
bits = 40
signed = true
[[columns]]
name = "b"
type = "bool"
[[columns]]
name = "day"
type = "date"
[[columns]]
name = "ts"
type = "timestamp"
[[columns]]
name = "cat"
type = "categorical"
values = ["x", "y", "z"]
"#,
    )
    .unwrap();
    let widths: Vec<u32> = s.columns().iter().map(|c| c.width()).collect();
    assert_eq!(widths, vec![8, 16, 40, 1, 22, 39, 2]);
    assert_eq!(s.record_bits(), 8 + 16 + 40 + 1 + 22 + 39 + 2);
    assert_eq!(s.index_of("day"), Some(4));
    assert!(matches!(
        s.column("cat").unwrap().kind(),
        Kind::Categorical { .. }
    ));
}

#[test]
fn schema_errors_name_the_column_and_reason() {
    use ColumnProblem as C;
    use TypeName as T;
    let col = |decl: &str| format!("[[columns]]\nname = \"a\"\n{decl}");
    let cases = [
        (
            col("type = \"uint\""),
            column_problem(C::MissingKey {
                key: "bits",
                ty: T::Uint,
            }),
            "column `a`: type uint needs `bits`",
        ),
        (
            col("type = \"uint\"\nbits = 65"),
            column_problem(C::BitsOutOfRange { bits: 65, min: 1 }),
            "column `a`: `bits` = 65 is outside 1..=64",
        ),
        (
            col("type = \"int\"\nbits = 1"),
            column_problem(C::BitsOutOfRange { bits: 1, min: 2 }),
            "column `a`: `bits` = 1 is outside 2..=64",
        ),
        (
            col("type = \"bool\"\nbits = 1"),
            column_problem(C::KeyNotApplicable {
                key: "bits",
                ty: T::Bool,
            }),
            "column `a`: `bits` does not apply to type bool",
        ),
        (
            col("type = \"decimal\"\nbits = 8"),
            column_problem(C::MissingKey {
                key: "scale",
                ty: T::Decimal,
            }),
            "column `a`: type decimal needs `scale`",
        ),
        (
            col("type = \"decimal\"\nbits = 8\nscale = 19"),
            column_problem(C::ScaleTooLarge { scale: 19, max: 18 }),
            "column `a`: `scale` = 19 is above 18",
        ),
        (
            col("type = \"categorical\""),
            column_problem(C::MissingKey {
                key: "values",
                ty: T::Categorical,
            }),
            "column `a`: type categorical needs `values`",
        ),
        (
            col("type = \"categorical\"\nvalues = []"),
            column_problem(C::EmptyDictionary),
            "column `a`: `values` is empty",
        ),
        (
            col("type = \"categorical\"\nvalues = [\"x\", \"x\"]"),
            column_problem(C::DuplicateCategory { value: "x".into() }),
            "column `a`: `values` lists \"x\" twice",
        ),
        (
            col("type = \"categorical\"\nvalues = [\"x\", \"\"]"),
            column_problem(C::EmptyCategory { index: 1 }),
            "column `a`: `values` entry 1 is empty",
        ),
        (
            col("type = \"uint\"\nbits = 8\nmin = 9\nmax = 3"),
            column_problem(C::MinAboveMax),
            "column `a`: `min` is greater than `max`",
        ),
        (
            col("type = \"uint\"\nbits = 8\nmax = 300"),
            column_problem(C::Bound {
                key: "max",
                reason: Reason::TooWide {
                    value: "300".into(),
                    bits: 8,
                    signed: false,
                },
            }),
            "column `a`: `max`: 300 does not fit in 8 unsigned bits",
        ),
        (
            col("type = \"date\"\nmin = \"2024-13-01\""),
            column_problem(C::Bound {
                key: "min",
                reason: Reason::Malformed {
                    expected: "an ISO-8601 date YYYY-MM-DD",
                    value: "2024-13-01".into(),
                },
            }),
            "column `a`: `min`: malformed value \"2024-13-01\": expected an ISO-8601 date YYYY-MM-DD",
        ),
        (
            format!(
                "{}\n{}",
                col("type = \"uint\"\nbits = 8"),
                col("type = \"bool\"")
            ),
            SchemaProblem::DuplicateColumn { column: "a".into() },
            "column `a` is declared twice",
        ),
        (
            "columns = []".into(),
            SchemaProblem::NoColumns,
            "no columns",
        ),
        (
            "[[columns]]\nname = \"\"\ntype = \"bool\"".into(),
            SchemaProblem::EmptyColumnName,
            "a column has an empty name",
        ),
    ];
    for (text, want, message) in cases {
        assert_eq!(problem(&text), want, "for {text:?}");
        assert_eq!(
            err(&text).to_string(),
            format!("schema test.toml: {message}")
        );
    }
    assert_eq!(
        Schema::new("", vec![ColumnSpec::uint("a", 8)]).map_err(|e| match e {
            DataError::Schema { reason, .. } => reason,
            other => panic!("{other:?}"),
        }),
        Err(SchemaProblem::EmptyName)
    );
    // Shape errors come from the TOML parser, located.
    for (text, want) in [
        (col("type = \"float\""), "unknown variant `float`"),
        (col("type = \"bool\"\ncolour = 1"), "unknown field `colour`"),
        (String::new(), "missing field `columns`"),
    ] {
        match err(&text) {
            DataError::SchemaToml { source_name, error } => {
                assert_eq!(source_name, "test.toml");
                assert!(error.message.starts_with(want), "{}", error.message);
            }
            other => panic!("expected a TOML error for {text:?}, got {other:?}"),
        }
    }
}

#[test]
fn toml_round_trip_and_digest() {
    let s = trustspace_data::synth::Table::Encounters.schema();
    let back = Schema::from_toml(&s.to_toml(), "rt").unwrap();
    assert_eq!(back, s);
    assert_eq!(back.digest(), s.digest());

    // Equivalent spellings give the same digest; a different bound does not.
    let a = one("type = \"uint\"\nbits = 8\nmax = 120");
    let b = one("type = \"uint\"\nbits = 8\nmax = \"120\"");
    let c = one("type = \"uint\"\nbits = 8\nmax = 121");
    let d = one("type = \"int\"\nbits = 8\nmax = 120");
    assert_eq!(a.digest(), b.digest());
    assert_ne!(a.digest(), c.digest());
    assert_ne!(a.digest(), d.digest());
}

#[test]
fn uint_and_int_edges() {
    let u = one("type = \"uint\"\nbits = 64");
    let c = &u.columns()[0];
    assert_eq!(c.parse("18446744073709551615"), Ok(u64::MAX));
    assert!(matches!(
        c.parse("18446744073709551616"),
        Err(Reason::TooWide { bits: 64, .. })
    ));
    assert!(matches!(
        c.parse("99999999999999999999999999999999999999999"),
        Err(Reason::TooWide { .. })
    ));
    for bad in ["-1", "+1", " 1", "1 ", "1.0", "0x10", "1e3", "١"] {
        assert!(
            matches!(c.parse(bad), Err(Reason::Malformed { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(c.parse(""), Err(Reason::Empty));
    let i = one("type = \"int\"\nbits = 8");
    let c = &i.columns()[0];
    assert_eq!(c.parse("-128"), Ok(0));
    assert_eq!(c.parse("0"), Ok(128));
    assert_eq!(c.parse("127"), Ok(255));
    assert!(matches!(
        c.parse("128"),
        Err(Reason::TooWide {
            bits: 8,
            signed: true,
            ..
        })
    ));
    assert!(matches!(c.parse("-129"), Err(Reason::TooWide { .. })));
    assert_eq!(c.decode(0), Ok(Value::Int(-128)));
    assert_eq!(c.format(255).unwrap(), "127");
    let i64c = one("type = \"int\"\nbits = 64");
    let c = &i64c.columns()[0];
    assert_eq!(c.parse("-9223372036854775808"), Ok(0));
    assert_eq!(c.parse("9223372036854775807"), Ok(u64::MAX));
    assert_eq!(c.format(0).unwrap(), "-9223372036854775808");
}

#[test]
fn decimals_are_exact_and_never_rounded() {
    let s = one("type = \"decimal\"\nscale = 2\nbits = 40\nsigned = true");
    let c = &s.columns()[0];
    let off = 1u64 << 39;
    assert_eq!(c.parse("12.34"), Ok(off + 1234));
    assert_eq!(c.parse("12.3"), Ok(off + 1230));
    assert_eq!(c.parse("12"), Ok(off + 1200));
    assert_eq!(c.parse("12.340000"), Ok(off + 1234));
    assert_eq!(c.parse("-0.01"), Ok(off - 1));
    assert!(matches!(
        c.parse("12.345"),
        Err(Reason::TooManyDecimals { scale: 2, .. })
    ));
    for bad in [".5", "5.", "1,5", "1e2", "--1", "1.2.3", "NaN", "inf"] {
        assert!(
            matches!(c.parse(bad), Err(Reason::Malformed { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(c.format(off - 1).unwrap(), "-0.01");
    assert_eq!(c.format(off + 100_005).unwrap(), "1000.05");

    let u = one("type = \"decimal\"\nscale = 0\nbits = 8");
    let c = &u.columns()[0];
    assert_eq!(c.parse("7.000"), Ok(7));
    assert!(matches!(c.parse("-1"), Err(Reason::Malformed { .. })));
    assert!(matches!(c.parse("256"), Err(Reason::TooWide { .. })));
}

#[test]
fn dates_and_timestamps() {
    let s = one("type = \"date\"");
    let c = &s.columns()[0];
    assert_eq!(c.parse("0000-01-01"), Ok(0));
    assert_eq!(c.parse("1970-01-01"), Ok(719_528));
    assert_eq!(c.decode(719_528), Ok(Value::Date(0)));
    assert_eq!(c.parse("9999-12-31"), Ok(3_652_424));
    assert_eq!(c.parse("2024-02-29").map(|e| e - 719_528), Ok(19_782));
    for bad in [
        "2023-02-29",
        "2024-1-05",
        "2024/01/05",
        "24-01-05",
        "2024-01-05T00:00:00Z",
        "2024-00-10",
        "2024-01-32",
    ] {
        assert!(
            matches!(c.parse(bad), Err(Reason::Malformed { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(
        c.format(c.parse("1815-06-18").unwrap()).unwrap(),
        "1815-06-18"
    );
    assert_eq!(c.encode(&Value::Date(-1)), Ok(719_527));

    let t = one("type = \"timestamp\"");
    let c = &t.columns()[0];
    let epoch = 719_528 * 86_400;
    assert_eq!(c.parse("1970-01-01T00:00:00Z"), Ok(epoch));
    assert_eq!(c.parse("1970-01-01T01:00:00+01:00"), Ok(epoch));
    assert_eq!(c.parse("1969-12-31T23:00:00-01:00"), Ok(epoch));
    assert_eq!(c.parse("1970-01-01T00:00:01.000Z"), Ok(epoch + 1));
    for bad in [
        "1970-01-01T00:00:00.5Z",
        "1970-01-01 00:00:00Z",
        "1970-01-01T24:00:00Z",
        "1970-01-01T00:00:00",
        "0000-01-01T00:00:00+01:00",
        "1970-01-01T00:00:60Z",
    ] {
        assert!(
            matches!(c.parse(bad), Err(Reason::Malformed { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(c.format(epoch + 3661).unwrap(), "1970-01-01T01:01:01Z");
}

#[test]
fn encodings_preserve_order() {
    let cases: [(&str, &[&str]); 4] = [
        (
            "type = \"int\"\nbits = 16",
            &["-300", "-2", "0", "5", "300"],
        ),
        (
            "type = \"decimal\"\nscale = 3\nbits = 32\nsigned = true",
            &["-5.5", "-0.001", "0", "0.001", "12"],
        ),
        (
            "type = \"date\"",
            &["0001-01-01", "1969-12-31", "1970-01-01", "2024-03-01"],
        ),
        (
            "type = \"timestamp\"",
            &[
                "1969-12-31T23:59:59Z",
                "1970-01-01T00:00:00Z",
                "2024-01-01T00:00:00+05:00",
                "2024-01-01T00:00:00Z",
            ],
        ),
    ];
    for (decl, values) in cases {
        let s = one(decl);
        let enc: Vec<u64> = values
            .iter()
            .map(|v| s.columns()[0].parse(v).unwrap())
            .collect();
        assert!(enc.windows(2).all(|w| w[0] < w[1]), "{decl}: {enc:?}");
    }
}

#[test]
fn declared_bounds_and_categories() {
    let s = one("type = \"decimal\"\nscale = 2\nbits = 32\nmin = \"0.50\"\nmax = \"100\"");
    let c = &s.columns()[0];
    assert_eq!(c.parse("0.50"), Ok(50));
    assert_eq!(c.parse("100.00"), Ok(10_000));
    let e = c.parse("100.01").unwrap_err();
    assert_eq!(
        e.to_string(),
        "100.01 is outside the declared range 0.50 ..= 100.00"
    );
    assert!(matches!(c.parse("0.49"), Err(Reason::OutOfRange { .. })));
    assert_eq!(c.min_encoded(), 50);
    assert_eq!(c.max_encoded(), 10_000);

    let s = one("type = \"categorical\"\nvalues = [\"A00\", \"B20\", \"Z99\"]");
    let c = &s.columns()[0];
    assert_eq!(c.parse("B20"), Ok(1));
    assert_eq!(c.dictionary().unwrap().len(), 3);
    assert!(matches!(
        c.parse("b20"),
        Err(Reason::UnknownCategory { .. })
    ));
    assert_eq!(c.encode(&Value::Category(2)), Ok(2));
    assert_eq!(
        c.encode(&Value::Category(3)),
        Err(Reason::UnknownCategory { value: "#3".into() })
    );
    assert!(matches!(
        c.encode(&Value::Uint(1)),
        Err(Reason::WrongType { .. })
    ));
    assert!(matches!(
        c.decode(3),
        Err(Reason::NotAnEncoding { encoded: 3 })
    ));
    assert_eq!(c.width(), 2);
}

#[test]
fn schema_file_limits() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.toml");
    std::fs::write(
        &p,
        vec![b'#'; (trustspace_data::schema::MAX_SCHEMA_BYTES + 1) as usize],
    )
    .unwrap();
    assert!(matches!(Schema::load(&p), Err(DataError::TooLarge { .. })));
    let missing = dir.path().join("missing.toml");
    let e = Schema::load(&missing).unwrap_err();
    assert!(
        matches!(&e, DataError::Io { path, source } if *path == missing && source.kind() == std::io::ErrorKind::NotFound),
        "{e}"
    );
}

/// The TOML error of a schema text: its position and message.
fn toml_err(text: &str) -> (Option<(usize, usize)>, String) {
    match Schema::from_toml(text, "s.toml") {
        Err(DataError::SchemaToml { source_name, error }) => {
            assert_eq!(source_name, "s.toml");
            (error.position.map(|p| (p.line, p.column)), error.message)
        }
        other => panic!("expected a TOML error, got {other:?}"),
    }
}

#[test]
fn toml_type_and_syntax_errors_carry_line_and_column() {
    let col = |extra: &str| format!("name = \"t\"\n[[columns]]\nname = \"a\"\n{extra}\n");
    let (at, msg) = toml_err(&col("type = \"uint\"\nbits = \"8\""));
    assert_eq!(at, Some((5, 8)));
    assert_eq!(msg, "invalid type: string \"8\", expected u32");
    let e = Schema::from_toml(&col("type = \"uint\"\nbits = \"8\""), "s.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "schema s.toml: line 5, column 8: invalid type: string \"8\", expected u32"
    );
    // A float bound: says what a bound may be, not serde's untagged-enum text.
    let (at, msg) = toml_err(&col("type = \"uint\"\nbits = 8\nmax = 120.5"));
    assert_eq!(at, Some((6, 7)));
    assert!(
        msg.starts_with("120.5 is a floating-point number; a bound is an integer"),
        "{msg}"
    );
    assert!(!msg.contains("untagged"), "{msg}");
    let (at, msg) = toml_err(&col("type = \"date\"\nmin = 2024-01-01"));
    assert_eq!(at, Some((5, 7)));
    assert!(msg.contains("write dates and times in quotes"), "{msg}");
    let (at, msg) = toml_err(&col("type = \"bool\"\nmax = true"));
    assert_eq!(at, Some((5, 7)));
    assert!(
        msg.starts_with("invalid type: boolean `true`, expected an integer"),
        "{msg}"
    );
    // A broken table header.
    let (at, msg) = toml_err("name = \"t\"\n\n[[column\nname = \"a\"\n");
    assert_eq!(at, Some((3, 9)));
    assert!(msg.contains("expected `]]`"), "{msg}");
    // An unknown key, a type name, a key with a control character (escaped).
    let (at, msg) = toml_err(&col("type = \"bool\"\n  colour = 1"));
    assert_eq!(at, Some((5, 3)));
    assert!(msg.starts_with("unknown field `colour`"), "{msg}");
    let (at, msg) = toml_err(&col("type = \"float\""));
    assert_eq!(at, Some((4, 8)));
    assert!(msg.starts_with("unknown variant `float`"), "{msg}");
    let (_, msg) = toml_err(&col("type = \"bool\"\n\"x\\u001b[2J\" = 1"));
    assert!(msg.starts_with("unknown field `x\\u{1b}[2J`"), "{msg}");
}

#[test]
fn bounds_accept_integers_and_strings_only() {
    let s = one("type = \"uint\"\nbits = 16\nmin = 3\nmax = \"300\"");
    let c = s.column("c").unwrap();
    assert_eq!((c.min_encoded(), c.max_encoded()), (3, 300));
    let back = Schema::from_toml(&s.to_toml(), "rt").unwrap();
    assert_eq!(back, s);
    let (_, msg) =
        toml_err("name = \"t\"\n[[columns]]\nname = \"c\"\ntype = \"uint\"\nbits = 8\nmax = [1]\n");
    assert!(
        msg.starts_with("invalid type: sequence, expected an integer"),
        "{msg}"
    );
}

#[test]
fn column_names_are_escaped_in_schema_errors() {
    let text = "[[columns]]\nname = \"a\\u001b[2J\"\ntype = \"uint\"";
    assert!(matches!(
        problem(text),
        SchemaProblem::Column { column, .. } if column == "a\u{1b}[2J"
    ));
    assert_eq!(
        err(text).to_string(),
        "schema test.toml: column `a\\u{1b}[2J`: type uint needs `bits`"
    );
}
