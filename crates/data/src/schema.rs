//! Schemas: the declared columns of a table, read from TOML, compiled into [`Column`]s that
//! parse, validate and canonically encode values.
//!
//! A schema file looks like this:
//!
//! ```toml
//! name = "encounters"
//!
//! [[columns]]
//! name = "age"
//! type = "uint"
//! bits = 8
//! max = 120
//!
//! [[columns]]
//! name = "cost"
//! type = "decimal"
//! scale = 2          # two decimal places: 12.34 is stored as 1234
//! bits = 40
//! max = "1000000.00" # decimals are written as strings so nothing is rounded by a float
//!
//! [[columns]]
//! name = "diagnosis"
//! type = "categorical"
//! values = ["A00", "A01", "B20"]
//! ```
//!
//! Column types and their canonical encodings (an unsigned integer of [`Column::width`] bits):
//!
//! | type | declared with | value | canonical encoding |
//! |---|---|---|---|
//! | `uint` | `bits` (1–64) | `0 ..= 2^bits-1` | the value |
//! | `int` | `bits` (2–64) | `-2^(bits-1) ..= 2^(bits-1)-1` | value + 2^(bits-1) (offset binary) |
//! | `decimal` | `scale` (0–18), `bits`, `signed` | value × 10^scale, an integer | as `uint`, or as `int` when signed |
//! | `bool` | — | `true` / `false` | 1 / 0, width 1 |
//! | `date` | — | ISO-8601 `YYYY-MM-DD`, years 0000–9999 | days since 0000-01-01 (width 22) |
//! | `timestamp` | — | RFC 3339, e.g. `2024-03-05T12:34:56Z` | seconds since 0000-01-01T00:00:00Z (width 39) |
//! | `categorical` | `values` (a dictionary) | one of the values | its index in the dictionary |
//!
//! Every encoding preserves order for the numeric, date and timestamp types, so a range rule
//! (`min <= v <= max`) is the same comparison on encodings; the ZK, MPC and HE crates rely on it.
//! Any column may declare `min` and `max` (inclusive), written as the column's values are; the
//! loader rejects values outside them.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use crate::canon::Canon;
use crate::error::{ColumnProblem, DataError, Reason, SchemaProblem, TomlError};
pub use crate::kind::{Kind, TypeName};
use crate::value::{self, Value};

/// Largest schema file accepted, in bytes: a schema is small even with a large dictionary.
pub const MAX_SCHEMA_BYTES: u64 = 16 << 20;
/// Largest number of columns in a schema.
pub const MAX_COLUMNS: usize = 4096;
/// Largest categorical dictionary (2^24 entries).
pub const MAX_DICTIONARY: usize = 1 << 24;
/// Domain-separation tag of [`Schema::digest`].
pub const SCHEMA_DIGEST_TAG: &str = "trustspace.schema";
/// Version of [`Schema::digest`]'s encoding (1 was a length-prefixed little-endian form).
pub const SCHEMA_DIGEST_VERSION: u32 = 2;

/// A `min`/`max` bound as written in TOML: an integer, or a string in the column's own format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Bound {
    /// An integer literal (`max = 120`).
    Int(i64),
    /// A string in the column's format (`max = "1000000.00"`, `min = "2015-01-01"`).
    Text(String),
}

/// What a bound may be, for error messages.
const BOUND_EXPECTED: &str = "an integer (`max = 120`) or a string in the column's format \
     (`max = \"120.50\"`, `min = \"2024-01-01\"`)";

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, Unexpected, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bound;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(BOUND_EXPECTED)
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<Bound, E> {
                Ok(Bound::Int(v))
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<Bound, E> {
                i64::try_from(v)
                    .map(Bound::Int)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: Error>(self, v: f64) -> Result<Bound, E> {
                Err(E::custom(format_args!(
                    "{v} is a floating-point number; a bound is {BOUND_EXPECTED} \
                     (write decimals as strings, so nothing is rounded)"
                )))
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<Bound, E> {
                Ok(Bound::Text(v.to_string()))
            }
            fn visit_string<E: Error>(self, v: String) -> Result<Bound, E> {
                Ok(Bound::Text(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Bound, A::Error> {
                // A table, or a bare TOML date/time (which TOML hands over as a table).
                Err(A::Error::custom(format_args!(
                    "a bound is {BOUND_EXPECTED}, not a table or a bare date/time \
                     (write dates and times in quotes)"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl Bound {
    fn text(&self) -> String {
        match self {
            Bound::Int(i) => i.to_string(),
            Bound::Text(s) => s.clone(),
        }
    }
}

/// One column as declared in a schema file. [`Schema`] compiles these into [`Column`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column name, as in the CSV header or JSON key.
    pub name: String,
    /// Column type.
    #[serde(rename = "type")]
    pub ty: TypeName,
    /// Bit width (`uint`, `int`, `decimal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    /// Decimal places (`decimal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    /// Whether a decimal may be negative (`decimal`; default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<bool>,
    /// Smallest allowed value, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Bound>,
    /// Largest allowed value, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Bound>,
    /// The dictionary (`categorical`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

impl ColumnSpec {
    /// A column of type `ty` with nothing else declared; add the rest with the builder methods.
    pub fn new(name: impl Into<String>, ty: TypeName) -> Self {
        ColumnSpec {
            name: name.into(),
            ty,
            bits: None,
            scale: None,
            signed: None,
            min: None,
            max: None,
            values: None,
        }
    }
    /// An unsigned integer column of `bits` bits.
    pub fn uint(name: impl Into<String>, bits: u32) -> Self {
        Self::new(name, TypeName::Uint).with_bits(bits)
    }
    /// A signed integer column of `bits` bits.
    pub fn int(name: impl Into<String>, bits: u32) -> Self {
        Self::new(name, TypeName::Int).with_bits(bits)
    }
    /// A non-negative decimal column with `scale` decimal places stored in `bits` bits.
    pub fn decimal(name: impl Into<String>, scale: u32, bits: u32) -> Self {
        let mut c = Self::new(name, TypeName::Decimal).with_bits(bits);
        c.scale = Some(scale);
        c
    }
    /// A categorical column over `values`.
    pub fn categorical<S: Into<String>>(
        name: impl Into<String>,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        let mut c = Self::new(name, TypeName::Categorical);
        c.values = Some(values.into_iter().map(Into::into).collect());
        c
    }
    /// Sets the bit width.
    pub fn with_bits(mut self, bits: u32) -> Self {
        self.bits = Some(bits);
        self
    }
    /// Marks a decimal column as signed.
    pub fn signed(mut self) -> Self {
        self.signed = Some(true);
        self
    }
    /// Sets the inclusive minimum, written in the column's format.
    pub fn with_min(mut self, min: impl Into<String>) -> Self {
        self.min = Some(Bound::Text(min.into()));
        self
    }
    /// Sets the inclusive maximum, written in the column's format.
    pub fn with_max(mut self, max: impl Into<String>) -> Self {
        self.max = Some(Bound::Text(max.into()));
        self
    }
}

/// A compiled column: parses text into canonical encodings, checks declared bounds, formats back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    name: String,
    kind: Kind,
    width: u32,
    min: u64,
    max: u64,
    index: std::collections::HashMap<String, u32>,
}

impl Column {
    /// Column name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Encoding rule.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }
    /// Bit width of the canonical encoding: every encoding is `< 2^width`.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Smallest allowed encoding (the declared `min`, or the type's least value).
    pub fn min_encoded(&self) -> u64 {
        self.min
    }
    /// Largest allowed encoding (the declared `max`, or the type's greatest value).
    pub fn max_encoded(&self) -> u64 {
        self.max
    }
    /// The dictionary, for categorical columns.
    pub fn dictionary(&self) -> Option<&[String]> {
        match &self.kind {
            Kind::Categorical { values } => Some(values),
            _ => None,
        }
    }

    /// Parses a textual value (a CSV field, a JSON string or number literal) into its
    /// canonical encoding, checking width and declared bounds.
    pub fn parse(&self, text: &str) -> Result<u64, Reason> {
        let enc = self.parse_unbounded(text)?;
        self.check_bounds(enc)
    }

    /// Encodes a typed value, checking that it has this column's type, fits and is in bounds.
    pub fn encode(&self, v: &Value) -> Result<u64, Reason> {
        let enc = value::encode(&self.kind, &self.index, v)?;
        self.check_bounds(enc)
    }

    /// Decodes a canonical encoding into a typed value. Fails if it is not a valid encoding.
    pub fn decode(&self, enc: u64) -> Result<Value, Reason> {
        if enc > value::type_max(&self.kind) {
            return Err(Reason::NotAnEncoding { encoded: enc });
        }
        Ok(value::decode(&self.kind, enc))
    }

    /// Formats a canonical encoding as text [`Column::parse`] reads back to the same encoding
    /// (and so the loaders accept, when the encoding is within the declared bounds).
    pub fn format(&self, enc: u64) -> Result<String, Reason> {
        Ok(value::format(&self.kind, &self.decode(enc)?))
    }

    fn parse_unbounded(&self, text: &str) -> Result<u64, Reason> {
        if text.is_empty() {
            return Err(Reason::Empty);
        }
        match &self.kind {
            Kind::Categorical { .. } => {
                self.index
                    .get(text)
                    .map(|&i| u64::from(i))
                    .ok_or_else(|| Reason::UnknownCategory {
                        value: value::clip(text),
                    })
            }
            k => value::parse(k, text),
        }
    }

    /// Checks an encoding against the declared `min`/`max`: `OutOfRange` names all three.
    pub(crate) fn check_bounds(&self, enc: u64) -> Result<u64, Reason> {
        if enc < self.min || enc > self.max {
            let show = |e| value::format(&self.kind, &value::decode(&self.kind, e)).into();
            return Err(Reason::OutOfRange {
                value: show(enc),
                min: show(self.min),
                max: show(self.max),
            });
        }
        Ok(enc)
    }

    fn compile(spec: &ColumnSpec) -> Result<Column, ColumnProblem> {
        let allowed: &[&str] = match spec.ty {
            TypeName::Uint | TypeName::Int => &["bits", "min", "max"],
            TypeName::Decimal => &["bits", "scale", "signed", "min", "max"],
            TypeName::Bool => &[],
            TypeName::Date | TypeName::Timestamp => &["min", "max"],
            TypeName::Categorical => &["values"],
        };
        let present = [
            ("bits", spec.bits.is_some()),
            ("scale", spec.scale.is_some()),
            ("signed", spec.signed.is_some()),
            ("min", spec.min.is_some()),
            ("max", spec.max.is_some()),
            ("values", spec.values.is_some()),
        ];
        for (key, is) in present {
            if is && !allowed.contains(&key) {
                return Err(ColumnProblem::KeyNotApplicable { key, ty: spec.ty });
            }
        }
        let missing = |key| ColumnProblem::MissingKey { key, ty: spec.ty };
        let need_bits = |lo: u32| -> Result<u32, ColumnProblem> {
            match spec.bits {
                None => Err(missing("bits")),
                Some(b) if (lo..=64).contains(&b) => Ok(b),
                Some(b) => Err(ColumnProblem::BitsOutOfRange { bits: b, min: lo }),
            }
        };
        let kind = match spec.ty {
            TypeName::Uint => Kind::Uint {
                bits: need_bits(1)?,
            },
            TypeName::Int => Kind::Int {
                bits: need_bits(2)?,
            },
            TypeName::Decimal => {
                let signed = spec.signed.unwrap_or(false);
                let bits = need_bits(if signed { 2 } else { 1 })?;
                let scale = spec.scale.ok_or_else(|| missing("scale"))?;
                if scale > value::MAX_SCALE {
                    return Err(ColumnProblem::ScaleTooLarge {
                        scale,
                        max: value::MAX_SCALE,
                    });
                }
                Kind::Decimal {
                    scale,
                    bits,
                    signed,
                }
            }
            TypeName::Bool => Kind::Bool,
            TypeName::Date => Kind::Date,
            TypeName::Timestamp => Kind::Timestamp,
            TypeName::Categorical => {
                let values = spec.values.clone().ok_or_else(|| missing("values"))?;
                if values.is_empty() {
                    return Err(ColumnProblem::EmptyDictionary);
                }
                if values.len() > MAX_DICTIONARY {
                    return Err(ColumnProblem::DictionaryTooLarge {
                        entries: values.len(),
                        limit: MAX_DICTIONARY,
                    });
                }
                Kind::Categorical { values }
            }
        };
        let mut index = std::collections::HashMap::new();
        if let Kind::Categorical { values } = &kind {
            for (i, v) in values.iter().enumerate() {
                if v.is_empty() {
                    return Err(ColumnProblem::EmptyCategory { index: i });
                }
                if index.insert(v.clone(), i as u32).is_some() {
                    return Err(ColumnProblem::DuplicateCategory { value: v.clone() });
                }
            }
        }
        let type_max = value::type_max(&kind);
        let mut col = Column {
            name: spec.name.clone(),
            width: 64 - type_max.leading_zeros().min(63),
            kind,
            min: 0,
            max: type_max,
            index,
        };
        let bound = |key, b: &Bound| {
            col.parse_unbounded(&b.text())
                .map_err(|reason| ColumnProblem::Bound { key, reason })
        };
        let min = spec.min.as_ref().map(|b| bound("min", b)).transpose()?;
        let max = spec.max.as_ref().map(|b| bound("max", b)).transpose()?;
        col.min = min.unwrap_or(col.min);
        col.max = max.unwrap_or(col.max);
        if col.min > col.max {
            return Err(ColumnProblem::MinAboveMax);
        }
        Ok(col)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    name: String,
    columns: Vec<ColumnSpec>,
}

/// A table's schema: its name and compiled columns, in order.
///
/// Built from TOML ([`Schema::from_toml`], [`Schema::load`]) or from [`ColumnSpec`]s
/// ([`Schema::new`]); every construction path validates the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    name: String,
    specs: Vec<ColumnSpec>,
    columns: Vec<Column>,
}

impl Schema {
    /// Compiles a schema from column declarations.
    pub fn new(name: impl Into<String>, specs: Vec<ColumnSpec>) -> Result<Schema, DataError> {
        let name = name.into();
        let err = |reason: SchemaProblem| DataError::Schema {
            source_name: name.clone(),
            reason,
        };
        if name.is_empty() {
            return Err(err(SchemaProblem::EmptyName));
        }
        if specs.is_empty() {
            return Err(err(SchemaProblem::NoColumns));
        }
        if specs.len() > MAX_COLUMNS {
            return Err(err(SchemaProblem::TooManyColumns {
                count: specs.len(),
                limit: MAX_COLUMNS,
            }));
        }
        let mut seen = HashSet::new();
        let mut columns = Vec::with_capacity(specs.len());
        for spec in &specs {
            if spec.name.is_empty() {
                return Err(err(SchemaProblem::EmptyColumnName));
            }
            if !seen.insert(spec.name.as_str()) {
                return Err(err(SchemaProblem::DuplicateColumn {
                    column: spec.name.clone(),
                }));
            }
            columns.push(Column::compile(spec).map_err(|problem| {
                err(SchemaProblem::Column {
                    column: spec.name.clone(),
                    problem,
                })
            })?);
        }
        Ok(Schema {
            name,
            specs,
            columns,
        })
    }

    /// Parses and compiles a schema from TOML text; `source_name` names it in errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Schema, DataError> {
        let file: SchemaFile = toml::from_str(text).map_err(|e| DataError::SchemaToml {
            source_name: source_name.to_string(),
            error: TomlError::new(text, &e),
        })?;
        Schema::new(file.name, file.columns).map_err(|e| match e {
            DataError::Schema { reason, .. } => DataError::Schema {
                source_name: source_name.to_string(),
                reason,
            },
            other => other,
        })
    }

    /// Decodes a schema file's bytes already in memory (at most [`MAX_SCHEMA_BYTES`] of UTF-8
    /// TOML), exactly as [`Schema::load`] decodes a file; `source_name` names it in errors.
    pub fn from_bytes(bytes: &[u8], source_name: &str) -> Result<Schema, DataError> {
        Schema::decode_file(bytes, Path::new(source_name), source_name)
    }

    /// Reads a schema file (at most [`MAX_SCHEMA_BYTES`]).
    pub fn load(path: &Path) -> Result<Schema, DataError> {
        let bytes = crate::io::read_limited(path, MAX_SCHEMA_BYTES)?;
        Schema::decode_file(&bytes, path, &path.display().to_string())
    }

    /// The one decoder of schema files: size limit, UTF-8, then TOML.
    fn decode_file(bytes: &[u8], path: &Path, source_name: &str) -> Result<Schema, DataError> {
        let text = crate::io::text_limited(bytes, path, MAX_SCHEMA_BYTES)?;
        Schema::from_toml(text, source_name)
    }

    /// The schema as TOML; [`Schema::from_toml`] reads it back to an equal schema.
    pub fn to_toml(&self) -> String {
        toml::to_string(&SchemaFile {
            name: self.name.clone(),
            columns: self.specs.clone(),
        })
        .expect("a schema always serializes to TOML")
    }

    /// Table name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Compiled columns, in declaration order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
    /// The position of the column named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.index_of(name).map(|i| &self.columns[i])
    }
    /// Sum of the columns' widths: the bits of one canonically encoded record.
    pub fn record_bits(&self) -> u32 {
        self.columns.iter().map(|c| c.width).sum()
    }

    /// SHA-256 digest of the schema's canonical encoding (layout in [`crate::canon`]): its name
    /// and, per column, name, encoding rule, bounds and dictionary. Two schemas that accept and
    /// encode the same data the same way have the same digest, however their TOML was written.
    pub fn digest(&self) -> [u8; 32] {
        let mut c = Canon::new(SCHEMA_DIGEST_TAG, SCHEMA_DIGEST_VERSION);
        c.str(&self.name);
        c.seq(self.columns.iter(), |c, col| {
            c.str(&col.name);
            match &col.kind {
                Kind::Uint { bits } => c.u8(1).u32(*bits),
                Kind::Int { bits } => c.u8(2).u32(*bits),
                Kind::Decimal {
                    scale,
                    bits,
                    signed,
                } => c.u8(3).u32(*scale).u32(*bits).bool(*signed),
                Kind::Bool => c.u8(4),
                Kind::Date => c.u8(5),
                Kind::Timestamp => c.u8(6),
                Kind::Categorical { values } => c.u8(7).seq(values.iter(), |c, v| {
                    c.str(v);
                }),
            };
            c.u64(col.min).u64(col.max);
        });
        c.sha256()
    }
}
