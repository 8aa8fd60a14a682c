//! Fuzz targets of trustspace-data's decoders: schema files (TOML), the CSV and JSON Lines
//! loaders, and the text and canonical encodings of one column value.
//!
//! The loaders run through [`load::from_reader`], the code path [`trustspace_data::open`]
//! takes over a file, on a fixed schema with every column type (built once). Schemas are
//! decoded by [`Schema::from_bytes`], the path [`Schema::load`] takes.

use std::io::Read;
use std::sync::LazyLock;

use trustspace_data::load::{self, Format, Record};
use trustspace_data::write::{write_csv, write_jsonl};
use trustspace_data::{Column, Kind, LoadError, Reason, Schema, Value};

use crate::Target;
use crate::props::{canonical, round_trips};

/// This crate's targets.
pub(crate) const TARGETS: &[Target] = &[
    Target {
        name: "data_schema_toml",
        about: "schema file (Schema::from_bytes): its canonical TOML re-parses to the same schema, \
                bytes and digest; every column's bounds re-parse; a record of the bounds \
                round-trips through both writers and loaders",
        run: schema_toml,
    },
    Target {
        name: "data_csv",
        about: "CSV loader over a fixed schema: the same outcome however the source splits its \
                reads; accepted records written as CSV and JSON Lines load back equal",
        run: csv,
    },
    Target {
        name: "data_jsonl",
        about: "JSON Lines loader over a fixed schema: the same outcome however the source \
                splits its reads; accepted records written as CSV and JSON Lines load back equal",
        run: jsonl,
    },
    Target {
        name: "data_value",
        about: "one value of a column picked by the first byte: Column::parse, decode and encode \
                agree, and format(parse(x)) parses back to the same encoding",
        run: value,
    },
];

/// Inputs above this size are ignored (the loaders' own limits are 1 MiB a record, 16 MiB a
/// schema): bigger inputs only make each execution slower.
const MAX_INPUT: usize = 64 << 10;

/// The loaders' schema: every column type, bounds, the widest encodings, and names and
/// dictionary entries that need quoting in CSV and escaping in JSON.
const LOADER_SCHEMA: &str = r#"
name = "fuzz"

[[columns]]
name = "id"
type = "uint"
bits = 64

[[columns]]
name = "age"
type = "uint"
bits = 8
min = 18
max = 120

[[columns]]
name = "delta, \"signed\""
type = "int"
bits = 12
min = "-1000"

[[columns]]
name = "balance"
type = "int"
bits = 64

[[columns]]
name = "price"
type = "decimal"
scale = 2
bits = 40
signed = true
min = "-100.50"
max = "99999.99"

[[columns]]
name = "flag"
type = "bool"

[[columns]]
name = "day"
type = "date"
min = "2000-01-01"

[[columns]]
name = "at"
type = "timestamp"
max = "2099-12-31T23:59:59Z"

[[columns]]
name = "colour"
type = "categorical"
values = ["red", "green", "ünïcode", "a,b", "say \"hi\"", "two\nlines", " padded ", "null"]
"#;

/// One column of each kind and edge: the narrowest and widest widths, scales 0 and 18, signed
/// and not, declared bounds, a one-entry dictionary. `data_value`'s first byte picks one.
const VALUE_SCHEMA: &str = r#"
name = "values"

[[columns]]
name = "uint1"
type = "uint"
bits = 1

[[columns]]
name = "uint64"
type = "uint"
bits = 64

[[columns]]
name = "uint8_bounded"
type = "uint"
bits = 8
min = 18
max = 120

[[columns]]
name = "int2"
type = "int"
bits = 2

[[columns]]
name = "int64"
type = "int"
bits = 64

[[columns]]
name = "int12_bounded"
type = "int"
bits = 12
min = "-1000"
max = 1000

[[columns]]
name = "decimal_scale0_bits1"
type = "decimal"
scale = 0
bits = 1

[[columns]]
name = "decimal_scale18_bits64"
type = "decimal"
scale = 18
bits = 64

[[columns]]
name = "decimal_scale18_bits64_signed"
type = "decimal"
scale = 18
bits = 64
signed = true

[[columns]]
name = "decimal_scale2_bounded"
type = "decimal"
scale = 2
bits = 40
signed = true
min = "-100.50"
max = "99999.99"

[[columns]]
name = "bool"
type = "bool"

[[columns]]
name = "date"
type = "date"

[[columns]]
name = "date_bounded"
type = "date"
min = "2000-01-01"
max = "2030-12-31"

[[columns]]
name = "timestamp"
type = "timestamp"

[[columns]]
name = "timestamp_bounded"
type = "timestamp"
min = "1970-01-01T00:00:00Z"
max = "2099-12-31T23:59:59Z"

[[columns]]
name = "categorical_one"
type = "categorical"
values = ["only"]

[[columns]]
name = "categorical"
type = "categorical"
values = ["A00", "ünïcode", "a,b", "two\nlines", "true", "0"]
"#;

static LOADERS: LazyLock<Schema> = LazyLock::new(|| {
    Schema::from_toml(LOADER_SCHEMA, "fuzz/loader.toml").expect("the loader schema compiles")
});

static VALUES: LazyLock<Schema> = LazyLock::new(|| {
    Schema::from_toml(VALUE_SCHEMA, "fuzz/values.toml").expect("the value schema compiles")
});

fn schema_toml(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    let schema = match Schema::from_bytes(input, "fuzz.toml") {
        Ok(s) => s,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    round_trips("schema TOML", &schema, Schema::to_toml, |text: &String| {
        Schema::from_toml(text, "canonical.toml")
    });
    let text = schema.to_toml();
    let again = Schema::from_toml(&text, "canonical.toml").expect("checked just above");
    canonical("schema TOML", text.as_bytes(), again.to_toml().as_bytes());
    assert_eq!(again.digest(), schema.digest(), "schema digest moved");
    // The bounds are values of their column; a record of each column's least values and one
    // of its greatest are records the loaders accept, with the fuzzer's names and dictionaries.
    for c in schema.columns() {
        value_round_trips(c, c.min_encoded());
        value_round_trips(c, c.max_encoded());
    }
    let least: Record = schema.columns().iter().map(Column::min_encoded).collect();
    let greatest: Record = schema.columns().iter().map(Column::max_encoded).collect();
    records_round_trip(&schema, &[least, greatest]);
}

fn csv(input: &[u8]) {
    loader(input, Format::Csv);
}

fn jsonl(input: &[u8]) {
    loader(input, Format::Jsonl);
}

/// Loads `input` whole and in short reads (outcomes must agree: line numbers included), then
/// writes the accepted records back in both formats and loads them again.
fn loader(input: &[u8], format: Format) {
    if input.len() > MAX_INPUT {
        return;
    }
    let schema = &*LOADERS;
    let whole = load_all(input, format, schema);
    let step = 1 + input.len() % 7;
    let trickled = load_all(Trickle { rest: input, step }, format, schema);
    assert_eq!(
        whole, trickled,
        "{format:?}: the outcome depends on how the source splits its reads ({step} bytes)"
    );
    let Ok(items) = whole else { return };
    let accepted: Vec<Record> = items.into_iter().filter_map(Result::ok).collect();
    records_round_trip(schema, &accepted);
}

/// Every item a loader yields (or the header's rejection), each error's message rendered.
type Outcome = Result<Vec<Result<Record, LoadError>>, LoadError>;

fn load_all<R: Read>(reader: R, format: Format, schema: &Schema) -> Outcome {
    let outcome: Outcome = load::from_reader(reader, format, "fuzz", schema).map(Iterator::collect);
    let errors = match &outcome {
        Ok(items) => items.iter().filter_map(|r| r.as_ref().err()).collect(),
        Err(e) => vec![e],
    };
    for e in errors {
        let _ = e.to_string();
    }
    outcome
}

/// A source handing out at most `step` bytes a read, as a pipe or a socket may.
struct Trickle<'a> {
    rest: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.rest.len().min(buf.len()).min(self.step);
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

/// Records a loader accepted, written by each writer, load back equal.
fn records_round_trip(schema: &Schema, records: &[Record]) {
    for format in [Format::Csv, Format::Jsonl] {
        round_trips(
            &format!("{format:?} write then load"),
            &records.to_vec(),
            |records| {
                let mut out = Vec::new();
                let written = match format {
                    Format::Csv => write_csv(&mut out, schema, records.iter().cloned()),
                    Format::Jsonl => write_jsonl(&mut out, schema, records.iter().cloned()),
                };
                if let Err(e) = written {
                    panic!("{format:?} writer refuses records the loader accepted: {e}");
                }
                out
            },
            |bytes: &Vec<u8>| {
                load::from_reader(bytes.as_slice(), format, "written", schema)?
                    .collect::<Result<Vec<Record>, LoadError>>()
            },
        );
    }
}

fn value(input: &[u8]) {
    let Some((&pick, rest)) = input.split_first() else {
        return;
    };
    if rest.len() > 4096 {
        return;
    }
    let columns = VALUES.columns();
    let column = &columns[usize::from(pick & 0x7f) % columns.len()];

    // Text, as a CSV field or a JSON string holds it.
    if let Ok(text) = std::str::from_utf8(rest) {
        match column.parse(text) {
            Ok(enc) => value_round_trips(column, enc),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }

    // A canonical encoding, as a peer or a commitment hands it over: any u64 when the top bit
    // of the first byte is set, else one within the column's bounds.
    let mut be = [0u8; 8];
    let n = rest.len().min(8);
    be[8 - n..].copy_from_slice(&rest[..n]);
    let raw = u64::from_be_bytes(be);
    let (lo, hi) = (column.min_encoded(), column.max_encoded());
    let enc = if pick & 0x80 != 0 {
        raw
    } else {
        lo + raw % (hi - lo).saturating_add(1)
    };
    match column.decode(enc) {
        Ok(v) => match column.encode(&v) {
            Ok(again) => {
                assert_eq!(again, enc, "{}: encode(decode(e)) != e", column.name());
                value_round_trips(column, enc);
            }
            Err(Reason::OutOfRange { .. }) if enc < lo || enc > hi => {}
            Err(e) => panic!(
                "{}: decode({enc}) = {v:?} does not encode: {e:?}",
                column.name()
            ),
        },
        Err(Reason::NotAnEncoding { encoded }) if encoded == enc => {}
        Err(e) => panic!("{}: decode({enc}) fails with {e:?}", column.name()),
    }

    // A typed value of the column's type, as a generator or a query literal makes it.
    let typed = match column.kind() {
        Kind::Uint { .. } => Value::Uint(raw),
        Kind::Int { .. } => Value::Int(raw as i64),
        Kind::Decimal { .. } => Value::Decimal(i128::from(raw as i64)),
        Kind::Bool => Value::Bool(raw & 1 == 1),
        Kind::Date => Value::Date((raw as i32) % 4_000_000),
        Kind::Timestamp => Value::Timestamp((raw as i64) % 400_000_000_000),
        Kind::Categorical { .. } => Value::Category((raw % 8) as u32),
        _ => return,
    };
    if let Ok(enc) = column.encode(&typed) {
        assert_eq!(
            column.decode(enc),
            Ok(typed),
            "{}: decode(encode(v)) != v",
            column.name()
        );
        value_round_trips(column, enc);
    }
}

/// An accepted encoding decodes to a value that encodes back to it, and formats as text that
/// parses back to it (so that text is the value's canonical spelling).
fn value_round_trips(column: &Column, enc: u64) {
    let what = column.name();
    let v = column
        .decode(enc)
        .unwrap_or_else(|e| panic!("{what}: accepted encoding {enc} does not decode: {e:?}"));
    assert_eq!(column.encode(&v), Ok(enc), "{what}: encode(decode(e)) != e");
    round_trips(
        what,
        &enc,
        |&e| {
            column
                .format(e)
                .unwrap_or_else(|r| panic!("{what}: accepted encoding {e} does not format: {r:?}"))
        },
        |text: &String| column.parse(text),
    );
    let text = column.format(enc).expect("formatted just above");
    let again = column.parse(&text).expect("parsed just above");
    let text_again = column.format(again).expect("an encoding it parsed to");
    canonical(what, text.as_bytes(), text_again.as_bytes());
}
