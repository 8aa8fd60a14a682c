//! Reading a summable column out of the dataset model, for the tfhe paths.
//!
//! The tfhe paths sum *unsigned* encodings: `uint`, `bool` and unsigned `decimal` columns
//! (a decimal's encoding is the value times 10^scale, so the total is too). Signed columns are
//! offset-binary encoded; their sums need the offset removed per value and are served by
//! [`crate::ristretto`], which handles ranges with a zero point.

use trustspace_data::{Kind, Record, Schema};

use crate::error::{HeError, Result};

/// One column's encodings, ready to encrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnValues {
    /// The column's name.
    pub column: String,
    /// The largest encoding the schema allows (the declared `max`).
    pub max: u64,
    /// Decimal places of the encoding (0 for integers): the total is in the same units.
    pub scale: u32,
    /// Every record's encoding, in record order.
    pub values: Vec<u64>,
}

impl ColumnValues {
    /// Bits needed for the largest allowed encoding (at least 1).
    pub fn value_bits(&self) -> u32 {
        (64 - self.max.leading_zeros()).max(1)
    }

    /// The largest total the column can have: its count × the declared `max`. Sums are sized
    /// from it, so a bound beyond 64 bits is refused rather than wrapped.
    pub fn max_total(&self) -> Result<u64> {
        let bound = self.values.len() as u128 * u128::from(self.max);
        u64::try_from(bound).map_err(|_| HeError::TotalBound {
            what: format!("column `{}`", self.column),
            bound,
            limit: u64::MAX.into(),
            hint: "sum the records in smaller parts",
        })
    }
}

/// Extracts `column` of every record, refusing columns whose encodings are not plain
/// unsigned quantities.
pub fn unsigned_column(schema: &Schema, records: &[Record], column: &str) -> Result<ColumnValues> {
    let index = schema
        .index_of(column)
        .ok_or_else(|| HeError::UnknownColumn {
            column: column.to_string(),
        })?;
    let spec = &schema.columns()[index];
    let scale = match spec.kind() {
        Kind::Uint { .. } | Kind::Bool => 0,
        Kind::Decimal {
            scale,
            signed: false,
            ..
        } => *scale,
        other => {
            return Err(HeError::UnsupportedColumn {
                column: column.to_string(),
                kind: format!("{} (the tfhe paths sum unsigned encodings)", other.label()),
            });
        }
    };
    let values = record_values(records, index, column)?;
    Ok(ColumnValues {
        column: column.to_string(),
        max: spec.max_encoded(),
        scale,
        values,
    })
}

/// Field `index` of every record, or which record is too short.
pub(crate) fn record_values(records: &[Record], index: usize, column: &str) -> Result<Vec<u64>> {
    records
        .iter()
        .enumerate()
        .map(|(r, rec)| {
            rec.get(index).copied().ok_or_else(|| HeError::ShortRecord {
                record: r,
                len: rec.len(),
                column: column.to_string(),
                index,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(rows: usize, max: u64) -> ColumnValues {
        ColumnValues {
            column: "amount".into(),
            max,
            scale: 0,
            values: vec![0; rows],
        }
    }

    #[test]
    fn max_total_is_count_times_max_and_refuses_what_does_not_fit() {
        assert_eq!(column(0, 7).max_total().unwrap(), 0);
        assert_eq!(column(3, 7).max_total().unwrap(), 21);
        assert_eq!(column(1, u64::MAX).max_total().unwrap(), u64::MAX);
        assert!(matches!(
            column(2, u64::MAX).max_total(),
            Err(HeError::TotalBound { bound, .. }) if bound == 2 * u128::from(u64::MAX)
        ));
        assert_eq!(column(2, 1).value_bits(), 1);
        assert_eq!(column(2, 0).value_bits(), 1);
        assert_eq!(column(2, 1 << 40).value_bits(), 41);
    }
}
