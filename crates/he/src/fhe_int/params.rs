//! Integer widths: the width values are proven in, and the width sums are computed in,
//! chosen so that the largest possible sum fits.

use crate::error::{HeError, Result};

/// An unsigned integer width tfhe's high-level API has a type for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Width {
    /// `FheUint8`.
    U8,
    /// `FheUint16`.
    U16,
    /// `FheUint32`.
    U32,
    /// `FheUint64`.
    U64,
}

impl Width {
    /// Bits of the width.
    pub fn bits(self) -> u32 {
        match self {
            Width::U8 => 8,
            Width::U16 => 16,
            Width::U32 => 32,
            Width::U64 => 64,
        }
    }

    /// The largest value of the width.
    pub fn max_value(self) -> u64 {
        u64::MAX >> (64 - self.bits())
    }

    /// The narrowest width holding `value`.
    pub fn for_value(value: u128) -> Option<Width> {
        [Width::U8, Width::U16, Width::U32, Width::U64]
            .into_iter()
            .find(|w| value <= u128::from(w.max_value()))
    }

    pub(crate) fn tag(self) -> u8 {
        self.bits() as u8
    }
}

/// The largest number of groups a GROUP BY may have.
pub const MAX_GROUPS: usize = 4096;

/// A declared encrypted sum: how many rows at most, the largest value, and how many groups
/// (1 for a plain sum).
///
/// Values are encrypted in the narrowest width holding the declared maximum and *proven* to
/// fit that width, so no input can exceed `2^value_bits − 1`; sums are computed in the
/// narrowest width holding `max_rows × (2^value_bits − 1)`, so no sum wraps, whatever the
/// holders send. A declaration whose worst case exceeds 64 bits is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntParams {
    max_rows: u64,
    value_width: Width,
    sum_width: Width,
    groups: usize,
}

impl IntParams {
    /// Declares a sum over at most `max_rows` rows of values `≤ max_value`, into `groups`
    /// groups.
    pub fn new(max_rows: u64, max_value: u64, groups: usize) -> Result<Self> {
        if max_rows == 0 {
            return Err(HeError::InvalidParameter {
                what: "max_rows",
                reason: "must be at least 1".into(),
            });
        }
        if groups == 0 || groups > MAX_GROUPS {
            return Err(HeError::InvalidParameter {
                what: "groups",
                reason: format!("must be in 1..={MAX_GROUPS}"),
            });
        }
        let value_width = Width::for_value(max_value.into()).expect("u64 fits U64");
        if value_width == Width::U64 {
            return Err(HeError::InvalidParameter {
                what: "max_value",
                reason: "values must fit 32 bits (sums are at most 64)".into(),
            });
        }
        let worst = u128::from(max_rows) * u128::from(value_width.max_value());
        let sum_width = Width::for_value(worst)
            .ok_or(HeError::TotalBound {
                what: "encrypted sum".into(),
                bound: worst,
                limit: u128::from(u64::MAX),
                hint: "declare fewer rows or a smaller maximum value",
            })?
            .max(Width::U16);
        Ok(IntParams {
            max_rows,
            value_width,
            sum_width,
            groups,
        })
    }

    /// The declared maximum number of rows.
    pub fn max_rows(&self) -> u64 {
        self.max_rows
    }
    /// The width values are encrypted and proven in.
    pub fn value_width(&self) -> Width {
        self.value_width
    }
    /// The width sums are computed in.
    pub fn sum_width(&self) -> Width {
        self.sum_width
    }
    /// Number of groups (1: a plain sum).
    pub fn groups(&self) -> usize {
        self.groups
    }
    /// Bytes naming the declaration, bound into every proof.
    pub(crate) fn to_bytes(self) -> [u8; 18] {
        let mut out = [0u8; 18];
        out[..8].copy_from_slice(&self.max_rows.to_le_bytes());
        out[8] = self.value_width.tag();
        out[9] = self.sum_width.tag();
        out[10..].copy_from_slice(&(self.groups as u64).to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_count_times_max() {
        let p = IntParams::new(100, 1000, 1).unwrap();
        assert_eq!(p.value_width(), Width::U16);
        // 100 · 65535 needs 23 bits.
        assert_eq!(p.sum_width(), Width::U32);
        let p = IntParams::new(1, 200, 1).unwrap();
        assert_eq!((p.value_width(), p.sum_width()), (Width::U8, Width::U16));
        let p = IntParams::new(257, 255, 1).unwrap();
        // 257 · 255 = 65535: still 16 bits; one row more is not.
        assert_eq!(p.sum_width(), Width::U16);
        assert_eq!(IntParams::new(258, 255, 1).unwrap().sum_width(), Width::U32);
        let p = IntParams::new(1 << 32, u64::from(u32::MAX), 1).unwrap();
        assert_eq!(p.sum_width(), Width::U64);
    }

    #[test]
    fn a_sum_that_could_overflow_64_bits_is_refused() {
        assert!(matches!(
            IntParams::new((1 << 32) + 2, u64::from(u32::MAX), 1),
            Err(HeError::TotalBound { .. })
        ));
        assert!(IntParams::new(10, 1 << 40, 1).is_err());
        assert!(IntParams::new(0, 10, 1).is_err());
        assert!(IntParams::new(10, 10, 0).is_err());
    }
}
