//! Column types: the [`TypeName`] a schema declares and the [`Kind`] (encoding rule) a column
//! compiles to. [`crate::value`] parses, encodes and formats by a [`Kind`]; [`crate::schema`]
//! compiles declarations into them; errors name a [`TypeName`]. This module depends on none of
//! them, so they all depend on it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The type named by a column's `type` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeName {
    /// Unsigned integer of a declared bit width.
    Uint,
    /// Signed integer of a declared bit width.
    Int,
    /// Fixed-point decimal with a declared scale.
    Decimal,
    /// Boolean.
    Bool,
    /// Calendar date (ISO-8601).
    Date,
    /// Point in time with second precision (RFC 3339).
    Timestamp,
    /// One of a declared dictionary of strings.
    Categorical,
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            TypeName::Uint => "uint",
            TypeName::Int => "int",
            TypeName::Decimal => "decimal",
            TypeName::Bool => "bool",
            TypeName::Date => "date",
            TypeName::Timestamp => "timestamp",
            TypeName::Categorical => "categorical",
        };
        f.write_str(s)
    }
}

/// The encoding rule of a compiled column.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// Unsigned integer; encoding is the value.
    Uint {
        /// Declared width.
        bits: u32,
    },
    /// Signed integer; encoding is value + 2^(bits-1).
    Int {
        /// Declared width.
        bits: u32,
    },
    /// Fixed-point decimal; the value times 10^scale, encoded as `Uint` or `Int`.
    Decimal {
        /// Decimal places.
        scale: u32,
        /// Declared width.
        bits: u32,
        /// Whether negative values are allowed (offset-binary encoding).
        signed: bool,
    },
    /// Boolean; 1 or 0.
    Bool,
    /// Date; days since 0000-01-01 (proleptic Gregorian).
    Date,
    /// Timestamp; seconds since 0000-01-01T00:00:00Z.
    Timestamp,
    /// Categorical; index into the dictionary.
    Categorical {
        /// The dictionary, in declaration order.
        values: Vec<String>,
    },
}

impl Kind {
    /// The type's name as schemas spell it (`uint`, `decimal`, ...).
    pub fn label(&self) -> &'static str {
        match self {
            Kind::Uint { .. } => "uint",
            Kind::Int { .. } => "int",
            Kind::Decimal { .. } => "decimal",
            Kind::Bool => "bool",
            Kind::Date => "date",
            Kind::Timestamp => "timestamp",
            Kind::Categorical { .. } => "categorical",
        }
    }
}
