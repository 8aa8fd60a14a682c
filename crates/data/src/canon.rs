//! Canonical, versioned byte encodings: what every trustspace digest is computed over.
//!
//! A digest that is registered (on a ledger, in a key file, in a commitment) must not change
//! when code is refactored, so it is never taken over `serde` output of an internal struct
//! (renaming a field would silently change it). Each digested object is instead written with a
//! [`Canon`] writer, field by field in a fixed order, and hashed with SHA-256.
//!
//! # Byte layout
//!
//! ```text
//! encoding = tag version field*
//! tag      = str                    e.g. "trustspace.schema"; names what is encoded
//! version  = u32                    bumped whenever the field list or order changes
//! u8, u32, u64, u128                fixed width, big-endian
//! bool     = u8                     0 or 1
//! len      = u32                    big-endian; a length of 2^32-1 or more is written as
//!                                   0xFFFF_FFFF followed by the length as u64
//! str      = len  UTF-8 bytes
//! bytes    = len  bytes
//! seq(T)   = len  T*                len counts the elements
//! option(T)= u8 0                   absent
//!          | u8 1  T                present
//! raw(N)   = N bytes                fixed-size values (a 32-byte digest, a field element)
//! ```
//!
//! Every variable-length field carries its length, so two different field lists never encode
//! to the same bytes (the encoding is injective for a given tag and version).
//!
//! # Encodings of this crate
//!
//! [`Schema::digest`](crate::Schema::digest): tag `"trustspace.schema"`, version 2, then
//! `str name, seq(column)`, each column being
//! `str name, u8 kind, <kind fields>, u64 min, u64 max` with kind `1` uint (`u32 bits`),
//! `2` int (`u32 bits`), `3` decimal (`u32 scale, u32 bits, bool signed`), `4` bool, `5` date,
//! `6` timestamp, `7` categorical (`seq(str) values`); `min`/`max` are the canonical encodings
//! of the column's inclusive bounds.

use sha2::{Digest, Sha256};

/// Writes a canonical encoding (see the [module documentation](self) for the byte layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canon {
    bytes: Vec<u8>,
}

impl Canon {
    /// Starts an encoding with its domain-separation `tag` and format `version`.
    pub fn new(tag: &str, version: u32) -> Canon {
        let mut c = Canon { bytes: Vec::new() };
        c.str(tag).u32(version);
        c
    }

    /// A `u8`.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes.push(v);
        self
    }

    /// A `bool` as `u8` 0 or 1.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }

    /// A `u32`, big-endian.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A `u64`, big-endian.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A `u128`, big-endian.
    pub fn u128(&mut self, v: u128) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A length or element count: `u32`, or `0xFFFF_FFFF` then `u64` when it does not fit
    /// below 2^32-1.
    pub fn count(&mut self, n: usize) -> &mut Self {
        match u32::try_from(n) {
            Ok(n) if n != u32::MAX => self.u32(n),
            _ => self.u32(u32::MAX).u64(n as u64),
        }
    }

    /// A string: its length, then its UTF-8 bytes.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// A byte string: its length, then the bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.count(b.len());
        self.bytes.extend_from_slice(b);
        self
    }

    /// A fixed-size value (a digest, a field element), without a length: its size is part of
    /// the field's definition.
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(b);
        self
    }

    /// A sequence: its element count, then each element written by `each`.
    pub fn seq<T>(
        &mut self,
        items: impl ExactSizeIterator<Item = T>,
        mut each: impl FnMut(&mut Self, T),
    ) -> &mut Self {
        self.count(items.len());
        for item in items {
            each(self, item);
        }
        self
    }

    /// An optional value: `0`, or `1` then the value written by `some`.
    pub fn option<T>(&mut self, v: Option<T>, some: impl FnOnce(&mut Self, T)) -> &mut Self {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                some(self, v);
                self
            }
        }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SHA-256 of the encoding.
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.bytes).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_as_documented() {
        let mut c = Canon::new("t", 2);
        c.u8(7)
            .bool(true)
            .u32(0x0102_0304)
            .u64(5)
            .u128(1)
            .str("é")
            .raw(&[9, 9])
            .option(None::<u8>, |c, v| {
                c.u8(v);
            })
            .option(Some(3u8), |c, v| {
                c.u8(v);
            })
            .seq([1u8, 2].into_iter(), |c, v| {
                c.u8(v);
            });
        let mut want = vec![0, 0, 0, 1, b't', 0, 0, 0, 2, 7, 1, 1, 2, 3, 4];
        want.extend([0, 0, 0, 0, 0, 0, 0, 5]);
        want.extend([0; 15]);
        want.push(1);
        want.extend([0, 0, 0, 2, 0xc3, 0xa9, 9, 9, 0, 1, 3, 0, 0, 0, 2, 1, 2]);
        assert_eq!(c.as_bytes(), want);
    }

    #[test]
    fn long_lengths_take_the_escape() {
        let mut c = Canon::new("", 0);
        c.count(u32::MAX as usize - 1);
        assert_eq!(&c.as_bytes()[8..], [0xff, 0xff, 0xff, 0xfe]);
        let mut c = Canon::new("", 0);
        c.count(u32::MAX as usize);
        assert_eq!(
            &c.as_bytes()[8..],
            [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
        );
    }
}
