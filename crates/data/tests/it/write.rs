//! Writers: what they write loads back equal, and what the loaders would reject is refused
//! when writing, not discovered when reading (regressions found by the fuzz targets and the
//! property tests).

use trustspace_data::load::{self, Format};
use trustspace_data::write::{write_csv, write_jsonl};
use trustspace_data::{
    ColumnSpec, DataError, GeneratorProblem, LoadError, Reason, Record, Schema, TypeName,
};

fn write(format: Format, s: &Schema, records: Vec<Record>) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::new();
    match format {
        Format::Csv => write_csv(&mut out, s, records),
        Format::Jsonl => write_jsonl(&mut out, s, records),
    }?;
    Ok(out)
}

fn load_back(format: Format, s: &Schema, bytes: &[u8]) -> Result<Vec<Record>, LoadError> {
    load::from_reader(bytes, format, "written", s)?.collect()
}

/// The cause of a refused write.
fn unformattable(e: DataError) -> (String, Reason) {
    match e {
        DataError::Generator(GeneratorProblem::Unformattable { column, reason }) => {
            (column, reason)
        }
        other => panic!("expected an unformattable value, got {other:?}"),
    }
}

#[test]
fn writers_refuse_encodings_outside_the_declared_bounds() {
    // Regression: the writers formatted any valid encoding, so a record outside the column's
    // `min`/`max` was written and then rejected by the loader (OutOfRange on read-back).
    let s = Schema::new(
        "t",
        vec![
            ColumnSpec::uint("age", 8).with_min("18").with_max("120"),
            ColumnSpec::new("day", TypeName::Date).with_min("2000-01-01"),
        ],
    )
    .unwrap();
    let day = s.columns()[1].parse("2000-01-01").unwrap();
    for format in [Format::Csv, Format::Jsonl] {
        let (column, reason) = unformattable(write(format, &s, vec![vec![121, day]]).unwrap_err());
        assert_eq!(column, "age");
        assert_eq!(
            reason,
            Reason::OutOfRange {
                value: "121".into(),
                min: "18".into(),
                max: "120".into(),
            },
            "{format:?}"
        );
        let (column, reason) =
            unformattable(write(format, &s, vec![vec![40, day - 1]]).unwrap_err());
        assert_eq!(column, "day");
        assert!(
            matches!(&reason, Reason::OutOfRange { value, .. } if &**value == "1999-12-31"),
            "{reason:?}"
        );
        // Not an encoding of the type at all: refused as before, without formatting it.
        let (_, reason) = unformattable(write(format, &s, vec![vec![256, day]]).unwrap_err());
        assert_eq!(reason, Reason::NotAnEncoding { encoded: 256 });
        // The bounds themselves are written and read back.
        let records = vec![vec![18, day], vec![120, day + 10]];
        let bytes = write(format, &s, records.clone()).unwrap();
        assert_eq!(load_back(format, &s, &bytes), Ok(records));
    }
}

#[test]
fn a_first_column_named_with_a_leading_byte_order_mark_round_trips_through_csv() {
    // Regression: the CSV loader drops a byte order mark opening the file, so a first column
    // whose name starts with U+FEFF was written as a header the loader read without it.
    let s = Schema::new(
        "t",
        vec![
            ColumnSpec::uint("\u{feff}id", 8),
            ColumnSpec::new("b", TypeName::Bool),
        ],
    )
    .unwrap();
    let records = vec![vec![7, 1], vec![0, 0]];
    let bytes = write(Format::Csv, &s, records.clone()).unwrap();
    assert!(bytes.starts_with("\u{feff}\u{feff}id,b\n".as_bytes()));
    assert_eq!(load_back(Format::Csv, &s, &bytes), Ok(records.clone()));
    // Without the extra mark, the header names a column the schema does not have.
    let e = load_back(Format::Csv, &s, &bytes[3..]).unwrap_err();
    assert_eq!(
        (e.column.as_deref(), &e.reason),
        (Some("id"), &Reason::ExtraColumn)
    );
    // JSON Lines has no header: nothing to add.
    let bytes = write(Format::Jsonl, &s, records.clone()).unwrap();
    assert!(bytes.starts_with(b"{\"\xEF\xBB\xBFid\":7"));
    assert_eq!(load_back(Format::Jsonl, &s, &bytes), Ok(records));
}

#[test]
fn from_reader_is_the_loader_a_file_gets() {
    let s = Schema::new("t", vec![ColumnSpec::uint("n", 8)]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The bad value is on line 3 of the CSV (after the header), line 2 of the JSON Lines.
    for (name, format, text, line) in [
        ("a.csv", Format::Csv, &b"n\n1\n300\n2\n"[..], 3),
        (
            "a.jsonl",
            Format::Jsonl,
            &b"{\"n\":1}\n{\"n\":300}\n{\"n\":2}\n"[..],
            2,
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let from_file: Vec<_> = trustspace_data::open(&path, &s).unwrap().collect();
        let in_memory: Vec<_> = load::from_reader(text, format, &path.display().to_string(), &s)
            .unwrap()
            .collect();
        assert_eq!(from_file, in_memory);
        assert!(
            matches!(
                &in_memory[1],
                Err(LoadError {
                    line: l,
                    reason: Reason::TooWide { bits: 8, .. },
                    ..
                }) if *l == line
            ),
            "{in_memory:?}"
        );
    }
    let e = load::from_reader(&b"m\n1\n"[..], Format::Csv, "h.csv", &s).err();
    assert!(matches!(
        e,
        Some(LoadError {
            reason: Reason::ExtraColumn,
            ..
        })
    ));
}

#[test]
fn schema_from_bytes_is_schema_load() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"name = \"t\"\n[[columns]]\nname = \"n\"\ntype = \"bool\"\n";
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    let name = path.display().to_string();
    assert_eq!(
        Schema::from_bytes(text, &name).unwrap(),
        Schema::load(&path).unwrap()
    );
    let e = Schema::from_bytes(b"name = \"\xff\"", "bad.toml").unwrap_err();
    assert!(
        matches!(&e, DataError::Io { path, source } if path.as_os_str() == "bad.toml"
            && source.kind() == std::io::ErrorKind::InvalidData),
        "{e}"
    );
    let limit = trustspace_data::schema::MAX_SCHEMA_BYTES;
    let big = vec![b'#'; usize::try_from(limit).unwrap() + 1];
    assert!(matches!(
        Schema::from_bytes(&big, "big.toml"),
        Err(DataError::TooLarge { limit: l, .. }) if l == limit
    ));
}
