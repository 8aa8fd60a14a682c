//! Column values as ring elements: a column's declared domain ([`domain`]), a value in ring
//! units ([`ring_value`], [`ring_of`]), and a column's declared bounds ([`ring_bounds`]).

use trustspace_data::{Column, Kind as ColKind, Schema, Value};

use crate::error::{MpcError, Result};

/// The declared domain size of a categorical (or bool) column; 0 for other columns.
pub fn domain(schema: &Schema, col: usize) -> usize {
    match schema.columns()[col].kind() {
        ColKind::Categorical { values } => values.len(),
        ColKind::Bool => 2,
        _ => 0,
    }
}

/// A column's value in ring units (a signed integer): uint, int, decimal (in units of its
/// scale), bool (0/1), date (days since 1970), timestamp (seconds), category (index).
pub fn ring_value(v: &Value) -> Result<i64> {
    Ok(match *v {
        Value::Uint(u) => {
            i64::try_from(u).map_err(|_| MpcError::Input(format!("{u} exceeds 2^63 - 1")))?
        }
        Value::Int(i) => i,
        Value::Decimal(d) => {
            i64::try_from(d).map_err(|_| MpcError::Input(format!("{d} exceeds 64 bits")))?
        }
        Value::Bool(b) => i64::from(b),
        Value::Date(d) => i64::from(d),
        Value::Timestamp(t) => t,
        Value::Category(c) => i64::from(c),
    })
}

/// The ring value of a record's encoding `enc` in column `col`, refused unless it is a valid
/// encoding within the column's declared range (what loaders enforce, and what plan-time folding,
/// MIN/MAX sentinels and the overflow checks rely on).
pub fn ring_of(col: &Column, enc: u64) -> Result<i64> {
    if enc < col.min_encoded() || enc > col.max_encoded() {
        let show = |e: u64| col.format(e).unwrap_or_else(|_| format!("encoding {e}"));
        return Err(MpcError::Input(format!(
            "column {}: {} is outside the declared range {} ..= {}",
            col.name(),
            show(enc),
            show(col.min_encoded()),
            show(col.max_encoded())
        )));
    }
    let v = col
        .decode(enc)
        .map_err(|e| MpcError::Input(format!("column {}: {e}", col.name())))?;
    ring_value(&v)
}

/// The smallest and largest ring value a column may hold (from its declared bounds).
pub fn ring_bounds(col: &Column) -> Result<(i64, i64)> {
    let lo = col
        .decode(col.min_encoded())
        .map_err(|e| MpcError::Query(format!("column {}: {e}", col.name())))?;
    let hi = col
        .decode(col.max_encoded())
        .map_err(|e| MpcError::Query(format!("column {}: {e}", col.name())))?;
    Ok((ring_value(&lo)?, ring_value(&hi)?))
}
