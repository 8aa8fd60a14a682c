//! Streaming loaders: CSV (with a header) and JSON Lines, validated against a [`Schema`] record
//! by record, in bounded memory whatever the file size.
//!
//! A loader is an iterator of `Result<Record, LoadError>`. A bad record yields its error and
//! loading goes on with the next one, so one pass reports every bad record; a read failure is
//! fatal ([`LoadError::is_fatal`]) and ends the iteration. Problems with the header (missing,
//! extra or duplicate columns) are reported when the loader is opened.
//!
//! Both loaders end a line at `\n`, `\r\n` or a bare `\r` (old Mac files), so line numbers in
//! errors are right whichever a file uses, and both drop a UTF-8 byte order mark at the start
//! of the file (one: a second is content).

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use crate::error::{DataError, LoadError, Reason, escape_controls};
use crate::io::io_err;
use crate::schema::Schema;

/// One record: the canonical encodings of its values, in schema column order.
pub type Record = Vec<u64>;

/// Longest JSON Lines line, or CSV record, accepted, in bytes (1 MiB).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Buffer of the CSV reader; a record is known too long once this much past the limit was read
/// without completing it.
const CSV_BUFFER: usize = 64 << 10;

/// The source of a CSV reader: hands the parser at most one line per read, so that when the
/// parser completes a record nothing past that record's terminator has been read yet. That
/// lets it count lines exactly as the parser sees records, whatever the line endings: `\n`,
/// `\r\n` and a bare `\r` (old Mac files) each end one line, as they end a record for the
/// parser, and a quoted field's line breaks are counted too.
///
/// It also counts the bytes read since the last completed record and fails the read once a
/// record cannot be shorter than [`MAX_LINE_BYTES`]: the CSV reader buffers a whole record, so
/// this keeps memory bounded however a file is crafted.
///
/// Its first read hands out the source's first four bytes together (unless a line ends
/// sooner): the parser drops a UTF-8 byte order mark opening its first input only when that
/// input holds the whole mark (and takes an input that is nothing but the mark for the end of
/// the file), so without this a mark split across the source's first reads (a pipe, a slow
/// disk) would be kept as part of the first column's name.
struct Guarded<R> {
    inner: BufReader<R>,
    /// The source's first bytes, read ahead by the first read (then empty).
    head: Vec<u8>,
    /// The first read happened.
    started: bool,
    since_record: usize,
    /// Line of the next byte to read (1-based).
    line: u64,
    /// The last byte read was `\r` (a `\n` right after it ends no further line).
    after_cr: bool,
    /// No byte of the next record has been read yet.
    between_records: bool,
    /// Line of the first byte of the current (or last) record.
    record_line: u64,
}

impl<R: Read> Guarded<R> {
    fn new(inner: R) -> Self {
        Guarded {
            inner: BufReader::new(inner),
            head: Vec::new(),
            started: false,
            since_record: 0,
            line: 1,
            after_cr: false,
            between_records: true,
            record_line: 1,
        }
    }

    /// The parser completed a record: the next content byte starts another.
    fn record_done(&mut self) {
        self.since_record = 0;
        self.between_records = true;
    }

    /// Line where the record being read (or the last one read) starts.
    fn record_line(&self) -> u64 {
        if self.between_records {
            self.line
        } else {
            self.record_line
        }
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.since_record > MAX_LINE_BYTES + CSV_BUFFER {
            return Err(std::io::Error::other(RecordTooLong));
        }
        if !std::mem::replace(&mut self.started, true) {
            while self.head.len() < 4 {
                let more = self.inner.fill_buf()?;
                if more.is_empty() {
                    break;
                }
                let k = (4 - self.head.len()).min(more.len());
                self.head.extend_from_slice(&more[..k]);
                self.inner.consume(k);
            }
        }
        let from_head = !self.head.is_empty();
        let available: &[u8] = if from_head {
            &self.head
        } else {
            self.inner.fill_buf()?
        };
        let mut n = available.len().min(buf.len());
        let end = available[..n]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r');
        if let Some(end) = end {
            n = end + 1;
        }
        buf[..n].copy_from_slice(&available[..n]);
        if from_head {
            self.head.drain(..n);
        } else {
            self.inner.consume(n);
        }
        // Every byte before `end` is content; `end` is the one line terminator read.
        if end.unwrap_or(n) > 0 {
            self.after_cr = false;
            if self.between_records {
                self.between_records = false;
                self.record_line = self.line;
            }
        }
        if let Some(end) = end {
            match buf[end] {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' => self.line += 1,
                _ => {
                    self.line += 1;
                    self.after_cr = true;
                }
            }
        }
        self.since_record += n;
        Ok(n)
    }
}

/// The read error [`Guarded`] raises past the record limit, recognised by type (not by its
/// text) when the CSV reader hands it back.
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record too long")
    }
}

impl std::error::Error for RecordTooLong {}

/// The data file formats the loaders read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header line naming the columns (RFC 4180 quoting).
    Csv,
    /// One JSON object per line, keys naming the columns.
    Jsonl,
}

impl Format {
    /// The format a file name implies: `.csv`, or `.jsonl` / `.ndjson`.
    pub fn from_path(path: &Path) -> Result<Format, DataError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Ok(Format::Csv),
            Some(e) if e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson") => {
                Ok(Format::Jsonl)
            }
            _ => Err(DataError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Opens a data file for streaming, its format told by its name ([`Format::from_path`]).
pub fn open<'s>(
    path: &Path,
    schema: &'s Schema,
) -> Result<Box<dyn Iterator<Item = Result<Record, LoadError>> + 's>, DataError> {
    let format = Format::from_path(path)?;
    let file = File::open(path).map_err(io_err(path))?;
    Ok(from_reader(
        file,
        format,
        &path.display().to_string(),
        schema,
    )?)
}

/// Streams records in `format` from a source that is already open (bytes in memory, a pipe, a
/// socket), through the same loader [`open`] runs over a file; `name` names the source in
/// errors. A CSV header that does not match the schema is the error returned here.
pub fn from_reader<'s, R: Read + 's>(
    reader: R,
    format: Format,
    name: &str,
    schema: &'s Schema,
) -> Result<Box<dyn Iterator<Item = Result<Record, LoadError>> + 's>, LoadError> {
    Ok(match format {
        Format::Csv => Box::new(CsvRecords::new(reader, name, schema)?),
        Format::Jsonl => Box::new(JsonlRecords::new(BufReader::new(reader), name, schema)),
    })
}

/// The outcome of validating a whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Records that passed.
    pub accepted: u64,
    /// Records that were rejected.
    pub rejected: u64,
    /// The first rejections (at most the `max_errors` asked for), in file order.
    pub errors: Vec<LoadError>,
}

impl Validation {
    /// Whether every record passed.
    pub fn is_valid(&self) -> bool {
        self.rejected == 0
    }
}

/// Validates a whole file in one streaming pass, keeping the first `max_errors` rejections.
/// A fatal error (unreadable header, read failure) is returned as `Err`.
pub fn validate(path: &Path, schema: &Schema, max_errors: usize) -> Result<Validation, DataError> {
    let mut v = Validation {
        accepted: 0,
        rejected: 0,
        errors: Vec::new(),
    };
    for r in open(path, schema)? {
        match r {
            Ok(_) => v.accepted += 1,
            Err(e) if e.is_fatal() => return Err(e.into()),
            Err(e) => {
                v.rejected += 1;
                if v.errors.len() < max_errors {
                    v.errors.push(e);
                }
            }
        }
    }
    Ok(v)
}

fn utf8(bytes: &[u8]) -> Result<&str, Reason> {
    std::str::from_utf8(bytes).map_err(|e| Reason::NotUtf8 {
        offset: e.valid_up_to(),
    })
}

/// Streams records from CSV text with a header line.
pub struct CsvRecords<'s, R> {
    schema: &'s Schema,
    file: Arc<str>,
    reader: csv::Reader<Guarded<R>>,
    /// For each field position, the schema column it holds.
    positions: Vec<usize>,
    record: csv::ByteRecord,
    done: bool,
}

impl<'s, R: Read> CsvRecords<'s, R> {
    /// Reads and checks the header; `file` names the source in errors.
    pub fn new(reader: R, file: &str, schema: &'s Schema) -> Result<Self, LoadError> {
        let file: Arc<str> = file.into();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(CSV_BUFFER)
            .from_reader(Guarded::new(reader));
        let mut header = csv::ByteRecord::new();
        let read = reader.read_byte_record(&mut header);
        let line = reader.get_ref().record_line();
        let header_err = |column: Option<&str>, reason| LoadError {
            file: file.clone(),
            line,
            column: column.map(str::to_string),
            reason,
        };
        match read {
            Ok(true) => {}
            Ok(false) => return Err(header_err(None, Reason::NoHeader)),
            Err(e) => return Err(header_err(None, csv_reason(e))),
        }
        reader.get_mut().record_done();
        let mut positions = Vec::with_capacity(header.len());
        let mut seen = vec![false; schema.columns().len()];
        // A byte order mark opening the file was dropped by the parser (see `Guarded`); one
        // more, or one inside quotes, is part of the first column's name.
        for field in header.iter() {
            let name = utf8(field).map_err(|r| header_err(None, r))?;
            let col = schema
                .index_of(name)
                .ok_or_else(|| header_err(Some(name), Reason::ExtraColumn))?;
            if std::mem::replace(&mut seen[col], true) {
                return Err(header_err(Some(name), Reason::DuplicateColumn));
            }
            positions.push(col);
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            let name = schema.columns()[missing].name();
            return Err(header_err(Some(name), Reason::MissingColumn));
        }
        Ok(CsvRecords {
            schema,
            file,
            reader,
            positions,
            record: csv::ByteRecord::new(),
            done: false,
        })
    }

    fn decode(&self, line: u64) -> Result<Record, LoadError> {
        let err = |column: Option<&str>, reason| LoadError {
            file: self.file.clone(),
            line,
            column: column.map(str::to_string),
            reason,
        };
        if self.record.len() != self.positions.len() {
            return Err(err(
                None,
                Reason::FieldCount {
                    expected: self.positions.len(),
                    found: self.record.len(),
                },
            ));
        }
        let mut out = vec![0u64; self.positions.len()];
        for (field, &col) in self.record.iter().zip(&self.positions) {
            let column = &self.schema.columns()[col];
            out[col] = utf8(field)
                .and_then(|text| column.parse(text))
                .map_err(|r| err(Some(column.name()), r))?;
        }
        Ok(out)
    }
}

fn csv_reason(e: csv::Error) -> Reason {
    match e.kind() {
        csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|e| e.is::<RecordTooLong>()) => {
            Reason::RecordTooLong {
                limit: MAX_LINE_BYTES,
            }
        }
        csv::ErrorKind::Io(io) => Reason::Io(io.to_string()),
        _ => Reason::Csv(escape_controls(&e.to_string()).into_owned()),
    }
}

impl<R: Read> Iterator for CsvRecords<'_, R> {
    type Item = Result<Record, LoadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let read = self.reader.read_byte_record(&mut self.record);
        let line = self.reader.get_ref().record_line();
        match read {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                self.reader.get_mut().record_done();
                Some(self.decode(line))
            }
            Err(e) => {
                self.done = true;
                Some(Err(LoadError {
                    file: self.file.clone(),
                    line,
                    column: None,
                    reason: csv_reason(e),
                }))
            }
        }
    }
}

/// Streams records from JSON Lines: one object per line, blank lines skipped.
pub struct JsonlRecords<'s, R> {
    schema: &'s Schema,
    file: Arc<str>,
    reader: R,
    names: HashMap<&'s str, usize>,
    line: u64,
    buf: Vec<u8>,
    seen: Vec<bool>,
    /// The last line ended with `\r`: a `\n` right after it belongs to that ending.
    after_cr: bool,
    done: bool,
}

impl<'s, R: BufRead> JsonlRecords<'s, R> {
    /// A loader over `reader`; `file` names the source in errors.
    pub fn new(reader: R, file: &str, schema: &'s Schema) -> Self {
        let names = schema
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name(), i))
            .collect();
        JsonlRecords {
            schema,
            file: file.into(),
            reader,
            names,
            line: 0,
            buf: Vec::new(),
            seen: vec![false; schema.columns().len()],
            after_cr: false,
            done: false,
        }
    }

    fn err(&self, column: Option<&str>, reason: Reason) -> LoadError {
        LoadError {
            file: self.file.clone(),
            line: self.line,
            column: column.map(str::to_string),
            reason,
        }
    }

    /// Reads the next line into `buf` (without its line ending). `Ok(false)` at end of file;
    /// a line over the limit is skipped to its end and reported. Lines end at `\n`, `\r\n` or
    /// a bare `\r` (as in the CSV loader); a UTF-8 byte order mark opening the file is dropped.
    fn read_line(&mut self) -> Result<bool, LoadError> {
        self.buf.clear();
        let mut started = false;
        let mut too_long = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let reason = Reason::Io(e.to_string());
                    self.line += 1;
                    return Err(self.err(None, reason));
                }
            };
            if std::mem::take(&mut self.after_cr) && chunk.first() == Some(&b'\n') {
                // The `\n` of a `\r\n` ending.
                self.reader.consume(1);
                continue;
            }
            if chunk.is_empty() {
                break;
            }
            started = true;
            let end = chunk.iter().position(|&b| b == b'\n' || b == b'\r');
            let content = &chunk[..end.unwrap_or(chunk.len())];
            if !too_long && self.buf.len() + content.len() <= MAX_LINE_BYTES {
                self.buf.extend_from_slice(content);
            } else {
                too_long = true;
                self.buf.clear();
            }
            let used = match end {
                Some(e) => {
                    self.after_cr = chunk[e] == b'\r';
                    e + 1
                }
                None => chunk.len(),
            };
            self.reader.consume(used);
            if end.is_some() {
                break;
            }
        }
        if !started {
            return Ok(false);
        }
        self.line += 1;
        if too_long {
            return Err(self.err(
                None,
                Reason::LineTooLong {
                    limit: MAX_LINE_BYTES,
                },
            ));
        }
        if self.line == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        Ok(true)
    }

    fn decode(&mut self) -> Result<Record, LoadError> {
        let text = utf8(&self.buf).map_err(|r| self.err(None, r))?;
        let fields: Fields<'_> =
            serde_json::from_str(text).map_err(|e| self.err(None, json_reason(&e, true)))?;
        self.seen.iter_mut().for_each(|s| *s = false);
        let mut out = vec![0u64; self.seen.len()];
        for (key, raw) in &fields.0 {
            let Some(&col) = self.names.get(key.as_str()) else {
                return Err(self.err(Some(key), Reason::ExtraColumn));
            };
            if std::mem::replace(&mut self.seen[col], true) {
                return Err(self.err(Some(key), Reason::DuplicateColumn));
            }
            let column = &self.schema.columns()[col];
            out[col] = json_text(raw)
                .and_then(|t| column.parse(&t))
                .map_err(|r| self.err(Some(column.name()), r))?;
        }
        if let Some(missing) = self.seen.iter().position(|s| !s) {
            let name = self.schema.columns()[missing].name();
            return Err(self.err(Some(name), Reason::MissingColumn));
        }
        Ok(out)
    }
}

/// A JSON error as a reason: serde_json's message without its "at line 1 column N" (the text
/// parsed is one line of the file, or one value), keeping the column when `at_column`.
fn json_reason(e: &serde_json::Error, at_column: bool) -> Reason {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&position).unwrap_or(&full);
    let message = escape_controls(message);
    Reason::Json(if at_column && e.line() == 1 {
        format!("{message} at column {}", e.column())
    } else {
        message.into_owned()
    })
}

/// The text a JSON value stands for: a string's contents, or a number's or boolean's literal
/// exactly as written (so decimals are never passed through a float).
fn json_text(raw: &RawValue) -> Result<std::borrow::Cow<'_, str>, Reason> {
    let s = raw.get();
    match s.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(s)
            .map(Into::into)
            .map_err(|e| json_reason(&e, false)),
        Some(b'n') => Err(Reason::Empty),
        Some(b'{' | b'[') => Err(Reason::Json(
            "expected a string, number or boolean, found an object or array".into(),
        )),
        _ => Ok(s.into()),
    }
}

impl<R: BufRead> Iterator for JsonlRecords<'_, R> {
    type Item = Result<Record, LoadError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.read_line() {
                Ok(false) => self.done = true,
                Ok(true) if self.buf.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(true) => return Some(self.decode()),
                Err(e) => {
                    self.done = e.is_fatal();
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// A JSON object's members in order, duplicates kept so they can be rejected.
struct Fields<'a>(Vec<(String, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = m.next_entry::<String, &'de RawValue>()? {
                    v.push(entry);
                }
                Ok(Fields(v))
            }
        }
        d.deserialize_map(V)
    }
}
