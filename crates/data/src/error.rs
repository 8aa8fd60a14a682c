//! Errors of the dataset model: one enum for the crate, and the per-value [`Reason`] that a
//! loader rejection carries together with its file, line and column.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::kind::TypeName;

/// Escapes the characters of untrusted text (file contents) that could forge or hide output on
/// a terminal: control characters (`\n`, `\r`, `\t`, ESC ...) and invisible or bidirectional
/// formatting characters. Everything else, quotes included, is kept as is.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
    }
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Largest number of characters of untrusted text kept where a message quotes it.
pub const MAX_QUOTED: usize = 512;

/// [`escape_controls`] of untrusted text a message quotes (a file's field name, a peer's or a
/// service's error text), cut after [`MAX_QUOTED`] characters (marked with `…`), so that no
/// quote can rewrite or flood what the reader sees.
pub fn escape_untrusted(text: &str) -> String {
    let escaped = escape_controls(text);
    match escaped.char_indices().nth(MAX_QUOTED) {
        Some((at, _)) => format!("{}…", &escaped[..at]),
        None => escaped.into_owned(),
    }
}

/// A place in a text file: 1-based line and column (the column counts characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPosition {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl TextPosition {
    /// The position of byte `offset` in `text` (clamped to the text, and back to a character
    /// boundary). Lines end at `\n` (a `\r\n` ending counts once).
    pub fn at(text: &str, offset: usize) -> TextPosition {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        TextPosition {
            line: before.bytes().filter(|&b| b == b'\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for TextPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A TOML document that does not parse, or does not have the expected shape (a wrong type, an
/// unknown or missing key), located where the TOML parser points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlError {
    /// Where the problem is, when the parser knows.
    pub position: Option<TextPosition>,
    /// What is wrong (control characters escaped).
    pub message: String,
}

impl TomlError {
    /// Locates a `toml` error in the text it came from.
    pub fn new(text: &str, e: &toml::de::Error) -> TomlError {
        TomlError {
            position: e.span().map(|s| TextPosition::at(text, s.start)),
            message: escape_controls(e.message().trim_end()).into_owned(),
        }
    }
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(p) => write!(f, "{p}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for TomlError {}

/// Why a value, a record or a file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// The field is empty; there are no null values.
    #[error("empty value (every column requires a value)")]
    Empty,
    /// The text is not in the column's format.
    #[error("malformed value {value:?}: expected {expected}")]
    Malformed {
        /// What the column accepts.
        expected: &'static str,
        /// The offending text (shortened).
        value: String,
    },
    /// The number does not fit the column's declared bit width.
    #[error("{value} does not fit in {bits} {} bits", if *signed { "signed" } else { "unsigned" })]
    TooWide {
        /// The offending text (shortened).
        value: String,
        /// Declared width.
        bits: u32,
        /// Whether the width is signed.
        signed: bool,
    },
    /// A decimal has non-zero digits beyond its scale; rounding would lose them.
    #[error("{value} has more than {scale} decimal places (values are never rounded)")]
    TooManyDecimals {
        /// The offending text (shortened).
        value: String,
        /// Declared scale.
        scale: u32,
    },
    /// The value is outside the column's declared `min`/`max`.
    #[error("{value} is outside the declared range {min} ..= {max}")]
    OutOfRange {
        /// The value.
        value: Box<str>,
        /// Declared minimum.
        min: Box<str>,
        /// Declared maximum.
        max: Box<str>,
    },
    /// The value is not in the column's dictionary.
    #[error("{value:?} is not in the column's dictionary")]
    UnknownCategory {
        /// The offending text (shortened).
        value: String,
    },
    /// A typed value of another type than the column's.
    #[error("a {found} value given for a {expected} column")]
    WrongType {
        /// The column's type.
        expected: &'static str,
        /// The value's type.
        found: &'static str,
    },
    /// An integer that is not a valid canonical encoding for the column.
    #[error("{encoded} is not a valid encoding for this column")]
    NotAnEncoding {
        /// The integer.
        encoded: u64,
    },
    /// The bytes are not UTF-8.
    #[error("not valid UTF-8 (invalid byte at offset {offset} of the field)")]
    NotUtf8 {
        /// Offset of the first invalid byte within the field or line.
        offset: usize,
    },
    /// The header (or a JSON object) lacks a schema column.
    #[error("missing column (declared in the schema)")]
    MissingColumn,
    /// The header (or a JSON object) has a column the schema does not declare.
    #[error("extra column (not declared in the schema)")]
    ExtraColumn,
    /// The header (or a JSON object) names a column twice.
    #[error("column appears twice")]
    DuplicateColumn,
    /// A CSV record has another number of fields than the header.
    #[error("record has {found} fields, the header has {expected}")]
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields in this record.
        found: usize,
    },
    /// A line is longer than the loader's limit.
    #[error("line longer than the limit of {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// A CSV record is longer than the loader's limit; the rest of the file cannot be read
    /// reliably (the record may be an unterminated quote), so loading stops.
    #[error("record longer than the limit of {limit} bytes (an unterminated quote?)")]
    RecordTooLong {
        /// The limit.
        limit: usize,
    },
    /// The file has no header line.
    #[error("no header line (the file is empty)")]
    NoHeader,
    /// The JSON is malformed or not an object.
    #[error("malformed JSON: {0}")]
    Json(String),
    /// The CSV is malformed.
    #[error("malformed CSV: {0}")]
    Csv(String),
    /// Reading failed.
    #[error("read error: {0}")]
    Io(String),
}

/// A rejected record or file, located by file, line and (where it applies) column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file (as given to the loader); shared by every error of one load.
    pub file: Arc<str>,
    /// 1-based line number where the record starts.
    pub line: u64,
    /// The column, when the rejection concerns one.
    pub column: Option<String>,
    /// Why.
    pub reason: Reason,
}

impl LoadError {
    /// Whether the loader stops after this error: a read failure or broken CSV quoting makes
    /// the rest of the file unreadable, while a bad record is skipped and loading goes on.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.reason,
            Reason::Io(_) | Reason::NoHeader | Reason::Csv(_) | Reason::RecordTooLong { .. }
        )
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(c) = &self.column {
            write!(f, "column `{}`: ", escape_controls(c))?;
        }
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for LoadError {}

/// Errors of `trustspace-data`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A schema is malformed or inconsistent.
    #[error("schema {source_name}: {reason}")]
    Schema {
        /// The file or name of the schema.
        source_name: String,
        /// What is wrong.
        reason: SchemaProblem,
    },
    /// A schema file is not valid TOML or not shaped as a schema (a value of the wrong type,
    /// an unknown or missing key), with the line and column the TOML parser points at.
    #[error("schema {source_name}: {error}")]
    SchemaToml {
        /// The file or name of the schema.
        source_name: String,
        /// Where and what.
        error: TomlError,
    },
    /// A data file was rejected (header, structure, or the first bad record when loading strictly).
    #[error(transparent)]
    Load(Box<LoadError>),
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is larger than the limit for its kind.
    #[error("{}: larger than the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// A file's format cannot be told from its name.
    #[error("{}: unknown data format (use a .csv, .jsonl or .ndjson file name)", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A generator was asked for something it cannot produce, or a writer for something it
    /// cannot write.
    #[error("generator: {0}")]
    Generator(GeneratorProblem),
}

impl From<LoadError> for DataError {
    fn from(e: LoadError) -> Self {
        DataError::Load(Box::new(e))
    }
}

/// Why a schema does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaProblem {
    /// The schema's `name` is empty.
    #[error("the schema `name` is empty")]
    EmptyName,
    /// The schema declares no column.
    #[error("no columns")]
    NoColumns,
    /// More columns than the limit (`schema::MAX_COLUMNS`).
    #[error("{count} columns, above the limit {limit}")]
    TooManyColumns {
        /// Columns declared.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A column's name is empty.
    #[error("a column has an empty name")]
    EmptyColumnName,
    /// Two columns have the same name.
    #[error("column `{}` is declared twice", escape_controls(.column))]
    DuplicateColumn {
        /// The name.
        column: String,
    },
    /// A column's declaration is invalid.
    #[error("column `{}`: {problem}", escape_controls(.column))]
    Column {
        /// The column's name.
        column: String,
        /// What is wrong with it.
        problem: ColumnProblem,
    },
}

/// Why one column declaration does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ColumnProblem {
    /// A key is given that the column's type does not take.
    #[error("`{key}` does not apply to type {ty}")]
    KeyNotApplicable {
        /// The key (`bits`, `scale`, `signed`, `min`, `max`, `values`).
        key: &'static str,
        /// The column's type.
        ty: TypeName,
    },
    /// A key the column's type requires is missing.
    #[error("type {ty} needs `{key}`")]
    MissingKey {
        /// The key (`bits`, `scale`, `values`).
        key: &'static str,
        /// The column's type.
        ty: TypeName,
    },
    /// `bits` is outside the range the type allows.
    #[error("`bits` = {bits} is outside {min}..=64")]
    BitsOutOfRange {
        /// The declared width.
        bits: u32,
        /// The type's least width (1, or 2 when signed).
        min: u32,
    },
    /// `scale` is above the largest scale (`value::MAX_SCALE`).
    #[error("`scale` = {scale} is above {max}")]
    ScaleTooLarge {
        /// The declared scale.
        scale: u32,
        /// The largest scale.
        max: u32,
    },
    /// A categorical dictionary is empty.
    #[error("`values` is empty")]
    EmptyDictionary,
    /// A categorical dictionary has more entries than the limit (`schema::MAX_DICTIONARY`).
    #[error("`values` has {entries} entries, above the limit {limit}")]
    DictionaryTooLarge {
        /// Entries declared.
        entries: usize,
        /// The limit.
        limit: usize,
    },
    /// A dictionary entry is the empty string.
    #[error("`values` entry {index} is empty")]
    EmptyCategory {
        /// Its position in the dictionary.
        index: usize,
    },
    /// A dictionary lists a value twice.
    #[error("`values` lists {value:?} twice")]
    DuplicateCategory {
        /// The value.
        value: String,
    },
    /// A `min` or `max` is not a valid value of the column.
    #[error("`{key}`: {reason}")]
    Bound {
        /// `min` or `max`.
        key: &'static str,
        /// Why the bound is not a value of the column.
        reason: Reason,
    },
    /// `min` is greater than `max`.
    #[error("`min` is greater than `max`")]
    MinAboveMax,
}

/// Why a generator (or a writer) refuses its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GeneratorProblem {
    /// The row count is 0 or above the generator's maximum.
    #[error("rows must be in 1..={max}, got {got}")]
    Rows {
        /// Rows asked for.
        got: u64,
        /// The maximum.
        max: u64,
    },
    /// The holder count is 0 or above the row count.
    #[error("holders must be in 1..=rows ({rows}), got {got}")]
    Holders {
        /// Rows asked for.
        rows: u64,
        /// Holders asked for.
        got: u32,
    },
    /// Violations were asked for on a table without a reference policy.
    #[error("table `{table}` has no reference policy, so no violations can be planted")]
    NoReferencePolicy {
        /// The table's name.
        table: &'static str,
    },
    /// More violations than rows, or than the generator keeps in memory.
    #[error("violations must be at most rows ({rows}) and {max}, got {got}")]
    Violations {
        /// Rows asked for.
        rows: u64,
        /// The most violations a generator plants.
        max: u64,
        /// Violations asked for.
        got: u64,
    },
    /// A record to write has another number of values than the schema has columns.
    #[error("record has {len} values, schema `{schema}` has {columns} columns")]
    RecordLength {
        /// Values in the record.
        len: usize,
        /// The schema's name.
        schema: String,
        /// Columns in the schema.
        columns: usize,
    },
    /// A value to write is not a valid encoding for its column, or is outside the column's
    /// declared bounds (the loaders would reject it).
    #[error("column `{}`: {reason}", escape_controls(.column))]
    Unformattable {
        /// The column's name.
        column: String,
        /// Why.
        reason: Reason,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped_and_bounded() {
        let hostile = "x\r\u{1b}[2KVALID: 64 records comply\n\u{202e}gnp.exe\u{7f}";
        let e = escape_untrusted(hostile);
        assert!(!e.chars().any(|c| c.is_control() || c == '\u{202e}'), "{e}");
        assert!(
            e.contains("VALID: 64 records comply"),
            "printable text is kept: {e}"
        );
        assert_eq!(escape_untrusted("héllo, 世界"), "héllo, 世界");
        let long = "a".repeat(MAX_QUOTED + 10);
        let cut = escape_untrusted(&long);
        assert_eq!(cut.chars().count(), MAX_QUOTED + 1);
        assert!(cut.ends_with('…'));
    }
}
