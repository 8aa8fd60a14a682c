//! Writers: records back to CSV or JSON Lines in the exact text the loaders accept, so a
//! write-then-load round trip gives the same encodings.

use std::io::Write;

use crate::error::{DataError, GeneratorProblem};
use crate::load::Record;
use crate::schema::{Kind, Schema};

fn wrap(e: impl std::fmt::Display) -> DataError {
    DataError::Io {
        path: "<output>".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

fn bad_record(len: usize, schema: &Schema) -> DataError {
    DataError::Generator(GeneratorProblem::RecordLength {
        len,
        schema: schema.name().to_string(),
        columns: schema.columns().len(),
    })
}

/// The text of one value: refused when it is not an encoding of the column or is outside the
/// column's declared bounds, since the loaders would reject what was written.
fn format_value(schema: &Schema, col: usize, enc: u64) -> Result<String, DataError> {
    let c = &schema.columns()[col];
    // `format` first: it refuses a non-encoding, which `check_bounds` cannot display.
    c.format(enc)
        .and_then(|text| c.check_bounds(enc).map(|_| text))
        .map_err(|reason| {
            DataError::Generator(GeneratorProblem::Unformattable {
                column: c.name().to_string(),
                reason,
            })
        })
}

/// Writes a header line and the records as CSV; returns the number of records written.
///
/// The CSV loader drops a byte order mark opening the file, so when the first column's name
/// itself starts with one, a byte order mark is written first for the loader to drop.
pub fn write_csv<W: Write>(
    mut out: W,
    schema: &Schema,
    records: impl IntoIterator<Item = Record>,
) -> Result<u64, DataError> {
    let first = schema.columns().first().map(|c| c.name());
    if first.is_some_and(|name| name.starts_with('\u{feff}')) {
        out.write_all("\u{feff}".as_bytes()).map_err(wrap)?;
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(schema.columns().iter().map(|c| c.name()))
        .map_err(wrap)?;
    let mut n = 0;
    let mut fields = Vec::with_capacity(schema.columns().len());
    for r in records {
        if r.len() != schema.columns().len() {
            return Err(bad_record(r.len(), schema));
        }
        fields.clear();
        for (i, &enc) in r.iter().enumerate() {
            fields.push(format_value(schema, i, enc)?);
        }
        w.write_record(&fields).map_err(wrap)?;
        n += 1;
    }
    w.flush().map_err(wrap)?;
    Ok(n)
}

/// Writes the records as JSON Lines: integers as JSON numbers, booleans as JSON booleans,
/// everything else (decimals included, so no reader rounds them through a float) as strings.
pub fn write_jsonl<W: Write>(
    mut out: W,
    schema: &Schema,
    records: impl IntoIterator<Item = Record>,
) -> Result<u64, DataError> {
    let mut n = 0;
    let mut line = String::new();
    for r in records {
        if r.len() != schema.columns().len() {
            return Err(bad_record(r.len(), schema));
        }
        line.clear();
        line.push('{');
        for (i, (&enc, c)) in r.iter().zip(schema.columns()).enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&serde_json::to_string(c.name()).map_err(wrap)?);
            line.push(':');
            let text = format_value(schema, i, enc)?;
            match c.kind() {
                Kind::Uint { .. } | Kind::Int { .. } | Kind::Bool => line.push_str(&text),
                _ => line.push_str(&serde_json::to_string(&text).map_err(wrap)?),
            }
        }
        line.push_str("}\n");
        out.write_all(line.as_bytes()).map_err(wrap)?;
        n += 1;
    }
    out.flush().map_err(wrap)?;
    Ok(n)
}
