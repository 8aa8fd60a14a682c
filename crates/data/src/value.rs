//! Typed values and the text and canonical encodings of each column kind.
//!
//! Parsing is strict: no surrounding spaces, no exponent notation, no rounding. A decimal with more
//! places than its scale is accepted only when the extra digits are zeros (`1.230` at scale 2),
//! since nothing is lost then; anything else is rejected.

use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

use crate::error::Reason;
use crate::kind::Kind;

/// Largest decimal scale: 10^18 still fits comfortably in the i128 arithmetic used here.
pub const MAX_SCALE: u32 = 18;

/// Days from 0000-01-01 to 1970-01-01 (proleptic Gregorian): the offset of date encodings.
pub const DAYS_0000_TO_1970: i64 = 719_528;
/// Seconds from 0000-01-01T00:00:00Z to the Unix epoch: the offset of timestamp encodings.
pub const SECS_0000_TO_1970: i64 = DAYS_0000_TO_1970 * 86_400;
/// Encoding of 9999-12-31, the last representable date.
const DATE_MAX: u64 = 3_652_424;
/// Encoding of 9999-12-31T23:59:59Z, the last representable timestamp.
const TIMESTAMP_MAX: u64 = DATE_MAX * 86_400 + 86_399;

/// A decoded value, typed by its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Value {
    /// `uint` value.
    Uint(u64),
    /// `int` value.
    Int(i64),
    /// `decimal` value in units of 10^-scale of its column (12.34 at scale 2 is `Decimal(1234)`).
    Decimal(i128),
    /// `bool` value.
    Bool(bool),
    /// `date` value: days since 1970-01-01 (negative before).
    Date(i32),
    /// `timestamp` value: seconds since 1970-01-01T00:00:00Z (negative before).
    Timestamp(i64),
    /// `categorical` value: index into the column's dictionary.
    Category(u32),
}

impl Value {
    fn type_label(&self) -> &'static str {
        match self {
            Value::Uint(_) => "uint",
            Value::Int(_) => "int",
            Value::Decimal(_) => "decimal",
            Value::Bool(_) => "bool",
            Value::Date(_) => "date",
            Value::Timestamp(_) => "timestamp",
            Value::Category(_) => "categorical",
        }
    }
}

/// Shortens a value for an error message, so a huge field cannot flood a log.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 48;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

/// Greatest valid encoding of a kind.
pub(crate) fn type_max(kind: &Kind) -> u64 {
    match kind {
        Kind::Uint { bits } | Kind::Int { bits } | Kind::Decimal { bits, .. } => mask(*bits),
        Kind::Bool => 1,
        Kind::Date => DATE_MAX,
        Kind::Timestamp => TIMESTAMP_MAX,
        Kind::Categorical { values } => values.len() as u64 - 1,
    }
}

fn mask(bits: u32) -> u64 {
    if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Puts an integer into `bits` bits, unsigned or offset-binary.
fn fit(n: i128, bits: u32, signed: bool, shown: impl FnOnce() -> String) -> Result<u64, Reason> {
    let (lo, hi) = if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, i128::from(mask(bits)))
    };
    if n < lo || n > hi {
        return Err(Reason::TooWide {
            value: shown(),
            bits,
            signed,
        });
    }
    let offset = if signed { 1i128 << (bits - 1) } else { 0 };
    Ok((n + offset) as u64)
}

fn unfit(enc: u64, bits: u32, signed: bool) -> i128 {
    let offset = if signed { 1i128 << (bits - 1) } else { 0 };
    i128::from(enc) - offset
}

/// Parses `[-]digits[.digits]` exactly into units of 10^-scale. `point` allows a fractional
/// part; a magnitude above `u64::MAX` (too wide for any column) is `TooWide` at `bits`.
fn parse_decimal(
    text: &str,
    scale: u32,
    allow_sign: bool,
    point: bool,
    bits: u32,
    what: &'static str,
) -> Result<i128, Reason> {
    let malformed = || Reason::Malformed {
        expected: what,
        value: clip(text),
    };
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) if allow_sign => (true, rest),
        _ => (false, text),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) if point => (i, Some(f)),
        Some(_) => return Err(malformed()),
        None => (body, None),
    };
    let digits_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int_part) || frac_part.is_some_and(|f| !digits_ok(f)) {
        return Err(malformed());
    }
    let frac = frac_part.unwrap_or("");
    let (kept, dropped) = frac.split_at(frac.len().min(scale as usize));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(Reason::TooManyDecimals {
            value: clip(text),
            scale,
        });
    }
    let too_big = || Reason::TooWide {
        value: clip(text),
        bits,
        signed: allow_sign,
    };
    let mut n: i128 = 0;
    for b in int_part.bytes().chain(kept.bytes()) {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(i128::from(b - b'0')))
            .filter(|n| *n <= i128::from(u64::MAX))
            .ok_or_else(too_big)?;
    }
    for _ in kept.len()..scale as usize {
        n = n
            .checked_mul(10)
            .filter(|n| *n <= i128::from(u64::MAX))
            .ok_or_else(too_big)?;
    }
    Ok(if neg { -n } else { n })
}

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [a, c] if a.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(c - b'0'))
        }
        _ => None,
    }
}

/// Parses `YYYY-MM-DD` into days since 0000-01-01.
fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = two_digits(&b[0..2])? * 100 + two_digits(&b[2..4])?;
    let month = two_digits(&b[5..7])?;
    let day = two_digits(&b[8..10])?;
    let d = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    Some(i64::from(d.num_days_from_ce()) + 365)
}

fn date_from_days0(days0: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((days0 - 365) as i32).expect("encoding range is valid")
}

/// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.000][Z|±HH:MM]`) into seconds since 0000-01-01 UTC.
fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || !(b[10] == b'T' || b[10] == b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let days = parse_date(text.get(0..10)?)?;
    let (h, m, s) = (
        two_digits(&b[11..13])?,
        two_digits(&b[14..16])?,
        two_digits(&b[17..19])?,
    );
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        // Sub-second precision is not stored, so only a zero fraction is exact.
        if n == 0 || rest[1..=n].iter().any(|&c| c != b'0') {
            return None;
        }
        rest = &rest[1 + n..];
    }
    let offset: i64 = match rest {
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), hh @ .., b':', m1, m2] if hh.len() == 2 => {
            let (oh, om) = (two_digits(hh)?, two_digits(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = i64::from(oh * 3600 + om * 60);
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    Some(days * 86_400 + i64::from(h * 3600 + m * 60 + s) - offset)
}

/// Parses text for a non-categorical kind into its encoding (bounds not yet checked).
pub(crate) fn parse(kind: &Kind, text: &str) -> Result<u64, Reason> {
    match kind {
        Kind::Uint { bits } => {
            let n = parse_decimal(text, 0, false, false, *bits, "an unsigned integer")?;
            fit(n, *bits, false, || clip(text))
        }
        Kind::Int { bits } => {
            let n = parse_decimal(text, 0, true, false, *bits, "an integer")?;
            fit(n, *bits, true, || clip(text))
        }
        Kind::Decimal {
            scale,
            bits,
            signed,
        } => {
            let what = if *signed {
                "a decimal number"
            } else {
                "a non-negative decimal number"
            };
            let n = parse_decimal(text, *scale, *signed, true, *bits, what)?;
            fit(n, *bits, *signed, || clip(text))
        }
        Kind::Bool => match text {
            "true" => Ok(1),
            "false" => Ok(0),
            _ => Err(Reason::Malformed {
                expected: "`true` or `false`",
                value: clip(text),
            }),
        },
        Kind::Date => parse_date(text)
            .map(|d| d as u64)
            .ok_or_else(|| Reason::Malformed {
                expected: "an ISO-8601 date YYYY-MM-DD",
                value: clip(text),
            }),
        Kind::Timestamp => parse_timestamp(text)
            .filter(|s| (0..=TIMESTAMP_MAX as i64).contains(s))
            .map(|s| s as u64)
            .ok_or_else(|| Reason::Malformed {
                expected: "an RFC 3339 timestamp YYYY-MM-DDTHH:MM:SSZ",
                value: clip(text),
            }),
        Kind::Categorical { .. } => unreachable!("categorical values are looked up by Column"),
    }
}

/// Encodes a typed value for a kind (bounds not yet checked).
pub(crate) fn encode(kind: &Kind, index: &HashMap<String, u32>, v: &Value) -> Result<u64, Reason> {
    let shown = || format_plain(v);
    match (kind, v) {
        (Kind::Uint { bits }, Value::Uint(n)) => fit(i128::from(*n), *bits, false, shown),
        (Kind::Int { bits }, Value::Int(n)) => fit(i128::from(*n), *bits, true, shown),
        (Kind::Decimal { bits, signed, .. }, Value::Decimal(n)) => {
            if *n < 0 && !signed {
                return Err(Reason::TooWide {
                    value: shown(),
                    bits: *bits,
                    signed: false,
                });
            }
            fit(*n, *bits, *signed, shown)
        }
        (Kind::Bool, Value::Bool(b)) => Ok(u64::from(*b)),
        (Kind::Date, Value::Date(d)) => {
            let e = i64::from(*d) + DAYS_0000_TO_1970;
            if (0..=DATE_MAX as i64).contains(&e) {
                Ok(e as u64)
            } else {
                Err(Reason::NotAnEncoding { encoded: e as u64 })
            }
        }
        (Kind::Timestamp, Value::Timestamp(s)) => {
            let e = s.checked_add(SECS_0000_TO_1970).unwrap_or(-1);
            if (0..=TIMESTAMP_MAX as i64).contains(&e) {
                Ok(e as u64)
            } else {
                Err(Reason::NotAnEncoding { encoded: e as u64 })
            }
        }
        (Kind::Categorical { .. }, Value::Category(i)) => {
            if (*i as usize) < index.len() {
                Ok(u64::from(*i))
            } else {
                Err(Reason::UnknownCategory {
                    value: format!("#{i}"),
                })
            }
        }
        (k, v) => Err(Reason::WrongType {
            expected: k.label(),
            found: v.type_label(),
        }),
    }
}

/// Decodes a valid encoding (`enc <= type_max(kind)`).
pub(crate) fn decode(kind: &Kind, enc: u64) -> Value {
    match kind {
        Kind::Uint { .. } => Value::Uint(enc),
        Kind::Int { bits } => Value::Int(unfit(enc, *bits, true) as i64),
        Kind::Decimal { bits, signed, .. } => Value::Decimal(unfit(enc, *bits, *signed)),
        Kind::Bool => Value::Bool(enc == 1),
        Kind::Date => Value::Date((enc as i64 - DAYS_0000_TO_1970) as i32),
        Kind::Timestamp => Value::Timestamp(enc as i64 - SECS_0000_TO_1970),
        Kind::Categorical { .. } => Value::Category(enc as u32),
    }
}

/// Exact decimal text of `units` of 10^-scale (`-1234` at scale 2 is `-12.34`): the one
/// formatter of fixed-point amounts (column values, sums, revealed and decrypted totals).
pub fn format_units(units: i128, scale: u32) -> String {
    if scale == 0 {
        return units.to_string();
    }
    let p = 10i128.pow(scale);
    let sign = if units < 0 { "-" } else { "" };
    let (i, f) = (
        units.unsigned_abs() / p as u128,
        units.unsigned_abs() % p as u128,
    );
    format!("{sign}{i}.{f:0width$}", width = scale as usize)
}

fn format_plain(v: &Value) -> String {
    format!("{v:?}")
}

/// Formats a value of a kind as the text the parser accepts back.
pub(crate) fn format(kind: &Kind, v: &Value) -> String {
    match (kind, v) {
        (Kind::Decimal { scale, .. }, Value::Decimal(n)) => format_units(*n, *scale),
        (_, Value::Uint(n)) => n.to_string(),
        (_, Value::Int(n)) => n.to_string(),
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::Date(d)) => date_from_days0(i64::from(*d) + DAYS_0000_TO_1970)
            .format("%Y-%m-%d")
            .to_string(),
        (_, Value::Timestamp(s)) => {
            let t = s + SECS_0000_TO_1970;
            let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
            format!(
                "{}T{:02}:{:02}:{:02}Z",
                date_from_days0(days).format("%Y-%m-%d"),
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            )
        }
        (Kind::Categorical { values }, Value::Category(i)) => values[*i as usize].clone(),
        (_, other) => format_plain(other),
    }
}
