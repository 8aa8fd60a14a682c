//! Binary encodings of the tfhe paths: a bounds-checked reader: every read says which document
//! was short, nothing reads past the end, and `end` refuses trailing bytes; `read_whole` does
//! the same for tfhe's own encodings inside a document.

use crate::error::{HeError, Result};

/// Largest label (session, holder) in bytes.
pub const MAX_LABEL_BYTES: usize = 256;

/// Refuses an empty label or one over [`MAX_LABEL_BYTES`]: labels are bound into proofs and
/// encodings, and read back with that limit.
pub(crate) fn check_label(what: &'static str, text: &str) -> Result<()> {
    if text.is_empty() || text.len() > MAX_LABEL_BYTES {
        return Err(HeError::InvalidParameter {
            what,
            reason: format!("must be 1..={MAX_LABEL_BYTES} bytes"),
        });
    }
    Ok(())
}

/// A malformed-input error naming the document and the reason (clipped).
pub(crate) fn format_err(what: &str, reason: impl std::fmt::Display) -> HeError {
    HeError::Format {
        what: what.to_string(),
        reason: crate::error::clip(&reason.to_string()),
    }
}

/// Runs a tfhe deserializer `read` over the whole of `bytes` and refuses what it leaves unread.
/// tfhe's safe deserialization reads what it needs and no more, so without this check a
/// document could carry trailing bytes: a second encoding of the same value, and (for an
/// `lwe_sum` setup, whose id hashes the CRS's bytes) a second id for the same setup.
pub(crate) fn read_whole<T, E: std::fmt::Display>(
    what: &str,
    mut bytes: &[u8],
    read: impl FnOnce(&mut &[u8]) -> std::result::Result<T, E>,
) -> Result<T> {
    let value = read(&mut bytes).map_err(|e| format_err(what, e))?;
    if !bytes.is_empty() {
        return Err(format_err(what, format!("{} trailing bytes", bytes.len())));
    }
    Ok(value)
}

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader {
            bytes,
            pos: 0,
            what,
        }
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                format_err(
                    self.what,
                    format!("truncated: {len} bytes wanted at offset {}", self.pos),
                )
            })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<&'a [u8; N]> {
        Ok(self.bytes(N)?.try_into().expect("length checked"))
    }

    pub(crate) fn magic(&mut self, magic: &[u8; 8]) -> Result<()> {
        if self.array::<8>()? != magic {
            return Err(format_err(self.what, "wrong magic or version"));
        }
        Ok(())
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(*self.array::<4>()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(*self.array::<8>()?))
    }

    pub(crate) fn text(&mut self, max: usize) -> Result<String> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(format_err(
                self.what,
                format!("a {len}-byte label, limit {max}"),
            ));
        }
        String::from_utf8(self.bytes(len)?.to_vec())
            .map_err(|_| format_err(self.what, "a label is not UTF-8"))
    }

    pub(crate) fn words(&mut self, count: usize) -> Result<Vec<u64>> {
        let bytes = self.bytes(
            count
                .checked_mul(8)
                .ok_or_else(|| format_err(self.what, "size overflow"))?,
        )?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        out
    }

    pub(crate) fn end(&self) -> Result<()> {
        if self.pos != self.bytes.len() {
            return Err(format_err(
                self.what,
                format!("{} trailing bytes", self.bytes.len() - self.pos),
            ));
        }
        Ok(())
    }
}

pub(crate) fn put_text(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

pub(crate) fn put_words(out: &mut Vec<u8>, words: &[u64]) {
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that takes the first `n` bytes, as tfhe's deserializer takes a value's bytes.
    fn take(n: usize) -> impl FnOnce(&mut &[u8]) -> std::result::Result<Vec<u8>, String> {
        move |r| {
            let (head, tail) = r.split_at_checked(n).ok_or("truncated")?;
            *r = tail;
            Ok(head.to_vec())
        }
    }

    #[test]
    fn read_whole_refuses_trailing_bytes_and_passes_errors_on() {
        assert_eq!(read_whole("doc", b"abc", take(3)).unwrap(), b"abc");
        let trailing = read_whole("doc", b"abcd", take(3));
        assert!(
            matches!(&trailing, Err(HeError::Format { what, reason })
                if what == "doc" && reason == "1 trailing bytes"),
            "{trailing:?}"
        );
        assert!(matches!(
            read_whole("doc", b"ab", take(3)),
            Err(HeError::Format { reason, .. }) if reason == "truncated"
        ));
    }

    #[test]
    fn reader_end_refuses_trailing_bytes() {
        let mut r = Reader::new(b"12345", "doc");
        assert_eq!(r.u32().unwrap(), u32::from_le_bytes(*b"1234"));
        assert!(matches!(r.end(), Err(HeError::Format { .. })));
        assert!(matches!(r.u32(), Err(HeError::Format { .. })));
        assert_eq!(r.rest(), b"5");
        assert!(r.end().is_ok());
    }
}
