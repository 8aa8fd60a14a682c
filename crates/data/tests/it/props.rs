//! Property tests of every codec of the crate, over arbitrary columns, schemas and records:
//! a value's canonical encoding, typed value and text for every column kind; the schema's
//! canonical TOML and digest; the canonical byte layout of `canon`; and CSV / JSON Lines
//! write-then-load round trips (names and dictionary entries full of quotes, separators, line
//! breaks, control characters and byte order marks).

use proptest::prelude::*;
use std::collections::BTreeSet;
use trustspace_data::canon::Canon;
use trustspace_data::load::{self, Format};
use trustspace_data::schema::Bound;
use trustspace_data::write::{write_csv, write_jsonl};
use trustspace_data::{
    Column, ColumnSpec, DataError, GeneratorProblem, Kind, LoadError, Reason, Record, Schema,
    TypeName, Value,
};

/// Characters that trouble CSV, JSON and TOML writers, among plain and arbitrary ones.
fn awkward_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('a', 'z'),
        2 => prop::sample::select(vec![
            '"', '\'', ',', ';', '\\', '\n', '\r', '\t', ' ', '#', '=', '.', '[', ']', '{', '}',
            '\0', '\u{7f}', '\u{85}', '\u{feff}', '\u{2028}', '\u{202e}', 'é', '😀',
        ]),
        1 => any::<char>(),
    ]
}

fn awkward_text(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(awkward_char(), len).prop_map(|cs| cs.into_iter().collect())
}

/// A column type and its parameters.
#[derive(Debug, Clone)]
enum Shape {
    Uint(u32),
    Int(u32),
    Decimal { scale: u32, bits: u32, signed: bool },
    Bool,
    Date,
    Timestamp,
    Categorical(Vec<String>),
}

fn bits(least: u32) -> impl Strategy<Value = u32> {
    prop_oneof![Just(least), Just(63), Just(64), least..=64]
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        bits(1).prop_map(Shape::Uint),
        bits(2).prop_map(Shape::Int),
        (0u32..=18, bits(1), any::<bool>()).prop_map(|(scale, bits, signed)| Shape::Decimal {
            scale,
            bits: if signed { bits.max(2) } else { bits },
            signed
        }),
        Just(Shape::Bool),
        Just(Shape::Date),
        Just(Shape::Timestamp),
        prop::collection::btree_set(awkward_text(1..=6), 1..=6)
            .prop_map(|v| Shape::Categorical(v.into_iter().collect())),
    ]
}

fn spec(name: &str, shape: &Shape) -> ColumnSpec {
    match shape {
        Shape::Uint(bits) => ColumnSpec::uint(name, *bits),
        Shape::Int(bits) => ColumnSpec::int(name, *bits),
        Shape::Decimal {
            scale,
            bits,
            signed,
        } => {
            let c = ColumnSpec::decimal(name, *scale, *bits);
            if *signed { c.signed() } else { c }
        }
        Shape::Bool => ColumnSpec::new(name, TypeName::Bool),
        Shape::Date => ColumnSpec::new(name, TypeName::Date),
        Shape::Timestamp => ColumnSpec::new(name, TypeName::Timestamp),
        Shape::Categorical(values) => ColumnSpec::categorical(name, values.clone()),
    }
}

fn compile(spec: ColumnSpec) -> Column {
    Schema::new("t", vec![spec])
        .expect("generated declarations compile")
        .columns()[0]
        .clone()
}

/// Which bounds to declare (bit 0 `min`, bit 1 `max`), drawn from two encodings, written as
/// integers when `as_int` allows it.
type Bounds = (u64, u64, u8, bool);

fn bounds() -> impl Strategy<Value = Bounds> {
    (any::<u64>(), any::<u64>(), 0u8..4, any::<bool>())
}

/// Declares the `bounds` on a column type that takes them, in the column's own format.
fn bounded(spec: ColumnSpec, (a, b, which, as_int): Bounds) -> ColumnSpec {
    if which == 0 || matches!(spec.ty, TypeName::Bool | TypeName::Categorical) {
        return spec;
    }
    let column = compile(spec.clone());
    let top = column.max_encoded();
    let pick = |x: u64| if top == u64::MAX { x } else { x % (top + 1) };
    let (lo, hi) = (pick(a).min(pick(b)), pick(a).max(pick(b)));
    let integer = matches!(spec.ty, TypeName::Uint | TypeName::Int);
    let bound = |enc| {
        let text = column
            .format(enc)
            .expect("an encoding below the type's maximum");
        match text.parse::<i64>() {
            Ok(i) if as_int && integer => Bound::Int(i),
            _ => Bound::Text(text),
        }
    };
    let mut spec = spec;
    if which & 1 != 0 {
        spec.min = Some(bound(lo));
    }
    if which & 2 != 0 {
        spec.max = Some(bound(hi));
    }
    spec
}

fn column() -> impl Strategy<Value = Column> {
    (awkward_text(1..=4), shape(), bounds()).prop_map(|(n, s, b)| compile(bounded(spec(&n, &s), b)))
}

/// A column without declared bounds: its `max_encoded` is the type's greatest encoding.
fn unbounded_column() -> impl Strategy<Value = Column> {
    (awkward_text(1..=4), shape()).prop_map(|(n, s)| compile(spec(&n, &s)))
}

/// An encoding the column accepts: its least, its greatest, or any between.
fn encoding_in(c: &Column) -> BoxedStrategy<u64> {
    let (lo, hi) = (c.min_encoded(), c.max_encoded());
    prop_oneof![Just(lo), Just(hi), lo..=hi].boxed()
}

fn column_and_encoding() -> impl Strategy<Value = (Column, u64)> {
    column().prop_flat_map(|c| {
        let enc = encoding_in(&c);
        (Just(c), enc)
    })
}

fn schema() -> impl Strategy<Value = Schema> {
    let columns = prop::collection::vec((awkward_text(1..=6), shape(), bounds()), 1..=5);
    (awkward_text(1..=8), columns).prop_map(|(name, columns)| {
        let mut seen = BTreeSet::new();
        let specs = columns
            .into_iter()
            .enumerate()
            .map(|(i, (mut n, s, b))| {
                while !seen.insert(n.clone()) {
                    n.push_str(&i.to_string());
                }
                bounded(spec(&n, &s), b)
            })
            .collect();
        Schema::new(name, specs).expect("generated declarations compile")
    })
}

fn schema_and_records() -> impl Strategy<Value = (Schema, Vec<Record>)> {
    schema().prop_flat_map(|s| {
        let record: Vec<BoxedStrategy<u64>> = s.columns().iter().map(encoding_in).collect();
        (Just(s), prop::collection::vec(record, 0..=6))
    })
}

/// A typed value of any type: mostly near the representable ranges, sometimes anywhere.
fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::Uint),
        any::<i64>().prop_map(Value::Int),
        prop_oneof![any::<i64>().prop_map(i128::from), any::<i128>()].prop_map(Value::Decimal),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![-800_000i32..3_000_000, any::<i32>()].prop_map(Value::Date),
        prop_oneof![-70_000_000_000i64..260_000_000_000, any::<i64>()].prop_map(Value::Timestamp),
        prop_oneof![0u32..8, any::<u32>()].prop_map(Value::Category),
    ]
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Uint(_) => "uint",
        Value::Int(_) => "int",
        Value::Decimal(_) => "decimal",
        Value::Bool(_) => "bool",
        Value::Date(_) => "date",
        Value::Timestamp(_) => "timestamp",
        Value::Category(_) => "categorical",
    }
}

/// The number a value stands for, to compare values of one column.
fn number(v: &Value) -> i128 {
    match *v {
        Value::Uint(n) => i128::from(n),
        Value::Int(n) => i128::from(n),
        Value::Decimal(n) => n,
        Value::Bool(b) => i128::from(b),
        Value::Date(d) => i128::from(d),
        Value::Timestamp(s) => i128::from(s),
        Value::Category(i) => i128::from(i),
    }
}

/// Spellings of `text` (a column's canonical text for `enc`) that mean the same value.
fn other_spellings(c: &Column, enc: u64, text: &str, zeros: usize) -> Vec<String> {
    let padded = |t: &str| match t.strip_prefix('-') {
        Some(rest) => format!("-{}{rest}", "0".repeat(zeros)),
        None => format!("{}{t}", "0".repeat(zeros)),
    };
    match c.kind() {
        Kind::Uint { .. } | Kind::Int { .. } => vec![padded(text)],
        Kind::Decimal { .. } => {
            let point = if text.contains('.') { "" } else { "." };
            vec![
                padded(text),
                format!("{text}{point}{}", "0".repeat(zeros + 1)),
            ]
        }
        Kind::Timestamp => {
            let base = text.trim_end_matches('Z');
            let mut v = vec![
                format!("{base}z").replacen('T', "t", 1),
                format!("{base}.{}Z", "0".repeat(zeros + 1)),
                format!("{base}+00:00"),
                format!("{base}-00:00"),
            ];
            // The same instant as local time at +05:30 and at -11:45.
            if let Some(local) = enc.checked_add(19_800).and_then(|e| c.format(e).ok()) {
                v.push(format!("{}+05:30", local.trim_end_matches('Z')));
            }
            if let Some(local) = enc.checked_sub(42_300).and_then(|e| c.format(e).ok()) {
                v.push(format!("{}-11:45", local.trim_end_matches('Z')));
            }
            v
        }
        _ => vec![],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn accepted_encodings_round_trip_through_values_and_text((c, enc) in column_and_encoding()) {
        let v = c.decode(enc);
        prop_assert!(v.is_ok(), "{enc} in bounds does not decode: {v:?}");
        let v = v.unwrap();
        prop_assert_eq!(c.encode(&v), Ok(enc));
        let text = c.format(enc).expect("a valid encoding formats");
        prop_assert_eq!(c.parse(&text), Ok(enc), "{:?}", text);
    }

    #[test]
    fn equivalent_spellings_parse_to_the_same_encoding(
        (c, enc) in column_and_encoding(),
        zeros in 0usize..4,
    ) {
        let text = c.format(enc).expect("a valid encoding formats");
        for other in other_spellings(&c, enc, &text, zeros) {
            prop_assert_eq!(c.parse(&other), Ok(enc), "{:?} spells {:?}", other, text);
        }
    }

    #[test]
    fn typed_values_encode_and_decode_back(c in column(), v in any_value()) {
        match c.encode(&v) {
            Ok(enc) => {
                prop_assert_eq!(c.decode(enc), Ok(v));
                prop_assert!((c.min_encoded()..=c.max_encoded()).contains(&enc));
            }
            Err(Reason::WrongType { expected, found }) => {
                prop_assert_eq!(expected, c.kind().label());
                prop_assert_eq!(found, type_of(&v));
                prop_assert_ne!(found, expected);
            }
            Err(
                Reason::TooWide { .. }
                | Reason::NotAnEncoding { .. }
                | Reason::OutOfRange { .. }
                | Reason::UnknownCategory { .. },
            ) => prop_assert_eq!(type_of(&v), c.kind().label()),
            Err(other) => prop_assert!(false, "{v:?} refused with {other:?}"),
        }
    }

    #[test]
    fn integers_above_the_type_are_not_encodings(c in unbounded_column(), above in 1u64..) {
        if let Some(enc) = c.max_encoded().checked_add(above) {
            prop_assert_eq!(c.decode(enc), Err(Reason::NotAnEncoding { encoded: enc }));
            prop_assert!(c.format(enc).is_err());
        }
    }

    #[test]
    fn encodings_preserve_the_order_of_values(
        (c, a, b) in column().prop_flat_map(|c| {
            let (a, b) = (encoding_in(&c), encoding_in(&c));
            (Just(c), a, b)
        }),
    ) {
        let (va, vb) = (c.decode(a).unwrap(), c.decode(b).unwrap());
        prop_assert_eq!(a.cmp(&b), number(&va).cmp(&number(&vb)));
    }

    #[test]
    fn schema_toml_round_trips_to_the_same_bytes_and_digest(s in schema()) {
        let text = s.to_toml();
        let back = Schema::from_bytes(text.as_bytes(), "rt.toml");
        prop_assert!(back.is_ok(), "{}\n{:?}", text, back.err());
        let back = back.unwrap();
        prop_assert_eq!(&back, &s);
        prop_assert_eq!(back.to_toml(), text);
        prop_assert_eq!(back.digest(), s.digest());
    }

    #[test]
    fn canonical_fields_decode_back(
        tag in awkward_text(0..=6),
        version in any::<u32>(),
        fields in prop::collection::vec(field(), 0..8),
    ) {
        let mut c = Canon::new(&tag, version);
        for f in &fields {
            put(&mut c, f);
        }
        let mut rest = c.as_bytes();
        prop_assert_eq!(take_str(&mut rest), Some(tag));
        prop_assert_eq!(take_n(&mut rest, 4).map(|b| u32::from_be_bytes(b.try_into().unwrap())), Some(version));
        for f in &fields {
            let got = take(&mut rest, f);
            prop_assert_eq!(got.as_ref(), Some(f));
        }
        prop_assert!(rest.is_empty(), "{} bytes left over", rest.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn records_written_as_csv_or_jsonl_load_back_equal((s, records) in schema_and_records()) {
        for format in [Format::Csv, Format::Jsonl] {
            let out = write(format, &s, &records);
            prop_assert!(out.is_ok(), "{format:?}: {:?}", out.err());
            let out = out.unwrap();
            let back: Result<Vec<Record>, LoadError> = load::from_reader(out.as_slice(), format, "rt", &s)
                .and_then(Iterator::collect);
            prop_assert_eq!(
                back, Ok(records.clone()),
                "{:?}: {}", format, String::from_utf8_lossy(&out)
            );
        }
    }

    #[test]
    fn writers_refuse_what_the_loaders_would_reject(
        (s, mut records) in schema_and_records(),
        at in any::<prop::sample::Index>(),
        enc in any::<u64>(),
    ) {
        let col = at.index(s.columns().len());
        let c = &s.columns()[col];
        prop_assume!(!records.is_empty() && !(c.min_encoded()..=c.max_encoded()).contains(&enc));
        let row = at.index(records.len());
        records[row][col] = enc;
        for format in [Format::Csv, Format::Jsonl] {
            match write(format, &s, &records) {
                Err(DataError::Generator(GeneratorProblem::Unformattable { column, reason })) => {
                    prop_assert_eq!(column, c.name());
                    match reason {
                        Reason::NotAnEncoding { encoded } => {
                            prop_assert_eq!(encoded, enc);
                            prop_assert!(c.decode(enc).is_err());
                        }
                        Reason::OutOfRange { .. } => prop_assert!(c.decode(enc).is_ok()),
                        other => prop_assert!(false, "{other:?}"),
                    }
                }
                other => prop_assert!(false, "{format:?} wrote {enc} in {}: {other:?}", c.name()),
            }
        }
    }
}

fn write(format: Format, s: &Schema, records: &[Record]) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::new();
    let n = match format {
        Format::Csv => write_csv(&mut out, s, records.to_vec()),
        Format::Jsonl => write_jsonl(&mut out, s, records.to_vec()),
    }?;
    assert_eq!(n, records.len() as u64);
    Ok(out)
}

/// One field of a canonical encoding.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    U8(u8),
    Bool(bool),
    U32(u32),
    U64(u64),
    U128(u128),
    Str(String),
    Bytes(Vec<u8>),
    /// A fixed-size field (four bytes here).
    Raw([u8; 4]),
    Option(Option<u64>),
    Seq(Vec<String>),
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        any::<u8>().prop_map(Field::U8),
        any::<bool>().prop_map(Field::Bool),
        any::<u32>().prop_map(Field::U32),
        any::<u64>().prop_map(Field::U64),
        any::<u128>().prop_map(Field::U128),
        awkward_text(0..=8).prop_map(Field::Str),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Field::Bytes),
        any::<[u8; 4]>().prop_map(Field::Raw),
        any::<Option<u64>>().prop_map(Field::Option),
        prop::collection::vec(awkward_text(0..=3), 0..4).prop_map(Field::Seq),
    ]
}

fn put(c: &mut Canon, f: &Field) {
    match f {
        Field::U8(v) => c.u8(*v),
        Field::Bool(v) => c.bool(*v),
        Field::U32(v) => c.u32(*v),
        Field::U64(v) => c.u64(*v),
        Field::U128(v) => c.u128(*v),
        Field::Str(v) => c.str(v),
        Field::Bytes(v) => c.bytes(v),
        Field::Raw(v) => c.raw(v),
        Field::Option(v) => c.option(*v, |c, x| {
            c.u64(x);
        }),
        Field::Seq(v) => c.seq(v.iter(), |c, s| {
            c.str(s);
        }),
    };
}

/// The next `n` bytes.
fn take_n<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = rest.split_at_checked(n)?;
    *rest = tail;
    Some(head)
}

fn take_int<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
    take_n(rest, N).map(|b| b.try_into().expect("N bytes"))
}

/// A length as `canon` documents it (the 2^32-1 escape included).
fn take_count(rest: &mut &[u8]) -> Option<usize> {
    match u32::from_be_bytes(take_int(rest)?) {
        u32::MAX => usize::try_from(u64::from_be_bytes(take_int(rest)?)).ok(),
        n => Some(n as usize),
    }
}

fn take_bytes(rest: &mut &[u8]) -> Option<Vec<u8>> {
    let n = take_count(rest)?;
    take_n(rest, n).map(<[u8]>::to_vec)
}

fn take_str(rest: &mut &[u8]) -> Option<String> {
    String::from_utf8(take_bytes(rest)?).ok()
}

/// Decodes a field of the same kind as `like` (the layout tells kinds, not values).
fn take(rest: &mut &[u8], like: &Field) -> Option<Field> {
    Some(match like {
        Field::U8(_) => Field::U8(take_int::<1>(rest)?[0]),
        Field::Bool(_) => Field::Bool(match take_int::<1>(rest)?[0] {
            0 => false,
            1 => true,
            _ => return None,
        }),
        Field::U32(_) => Field::U32(u32::from_be_bytes(take_int(rest)?)),
        Field::U64(_) => Field::U64(u64::from_be_bytes(take_int(rest)?)),
        Field::U128(_) => Field::U128(u128::from_be_bytes(take_int(rest)?)),
        Field::Str(_) => Field::Str(take_str(rest)?),
        Field::Bytes(_) => Field::Bytes(take_bytes(rest)?),
        Field::Raw(_) => Field::Raw(take_int(rest)?),
        Field::Option(_) => Field::Option(match take_int::<1>(rest)?[0] {
            0 => None,
            1 => Some(u64::from_be_bytes(take_int(rest)?)),
            _ => return None,
        }),
        Field::Seq(_) => {
            let n = take_count(rest)?;
            Field::Seq((0..n).map(|_| take_str(rest)).collect::<Option<_>>()?)
        }
    })
}
