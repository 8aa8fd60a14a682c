//! iden3's binary container, which snarkjs's `.ptau`, `.zkey` and `.r1cs` files share: a
//! four-byte magic, a version (u32 LE), a section count, then sections, each an id (u32 LE), a
//! size (u64 LE) and its bytes. Reading checks every size against the bytes there are and
//! refuses a section id met twice.

use crate::error::CeremonyError;

/// The most sections a file may hold (snarkjs's use at most 15).
const MAX_SECTIONS: u32 = 64;

/// A container's sections, in file order.
#[derive(Debug)]
pub struct Sections<'a> {
    sections: Vec<(u32, &'a [u8])>,
}

impl<'a> Sections<'a> {
    /// Reads the container of `bytes`, which must carry `magic` and `version`.
    pub fn read(
        bytes: &'a [u8],
        magic: &[u8; 4],
        version: u32,
        what: &'static str,
    ) -> crate::Result<Sections<'a>> {
        let malformed = |reason: &str| malformed(what, reason);
        let rest = bytes
            .strip_prefix(magic)
            .ok_or_else(|| malformed("wrong magic"))?;
        let mut r = Reader { rest, what };
        let found = r.u32()?;
        if found != version {
            return Err(CeremonyError::Version {
                found,
                expected: version,
            });
        }
        let count = r.u32()?;
        if count > MAX_SECTIONS {
            return Err(malformed("too many sections"));
        }
        let mut sections: Vec<(u32, &[u8])> = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let id = r.u32()?;
            let size = usize::try_from(r.u64()?).map_err(|_| malformed("section too large"))?;
            let body = r.take(size)?;
            if sections.iter().any(|(seen, _)| *seen == id) {
                return Err(malformed("a section appears twice"));
            }
            sections.push((id, body));
        }
        if !r.rest.is_empty() {
            return Err(malformed("bytes after the last section"));
        }
        Ok(Sections { sections })
    }

    /// The sections' ids, in file order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.sections.iter().map(|(id, _)| *id)
    }

    /// Section `id`'s bytes, if present.
    pub fn get(&self, id: u32) -> Option<&'a [u8]> {
        self.sections
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, b)| *b)
    }

    /// Section `id`'s bytes; an error naming `what` if absent.
    pub fn require(&self, id: u32, what: &'static str) -> crate::Result<&'a [u8]> {
        self.get(id)
            .ok_or_else(|| malformed(what, &format!("section {id} is missing")))
    }
}

/// Writes a container: `magic`, `version`, then `sections` in order.
pub fn write(magic: &[u8; 4], version: u32, sections: &[(u32, &[u8])]) -> Vec<u8> {
    let total: usize = sections.iter().map(|(_, b)| 12 + b.len()).sum();
    let mut out = Vec::with_capacity(12 + total);
    out.extend_from_slice(magic);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for (id, body) in sections {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// A [`CeremonyError::Malformed`] about `what`.
pub fn malformed(what: &'static str, reason: &str) -> CeremonyError {
    CeremonyError::Malformed {
        what,
        reason: reason.to_string(),
    }
}

/// Little-endian fields off the front of a byte slice, each read checked against its end.
pub struct Reader<'a> {
    /// The bytes not read yet.
    pub rest: &'a [u8],
    /// What is being read (for errors).
    pub what: &'static str,
}

impl<'a> Reader<'a> {
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> crate::Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(malformed(self.what, "truncated"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// The next byte.
    pub fn u8(&mut self) -> crate::Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// The next u32 (LE).
    pub fn u32(&mut self) -> crate::Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// The next u64 (LE).
    pub fn u64(&mut self) -> crate::Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// Refuses bytes left over.
    pub fn finish(&self) -> crate::Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(malformed(self.what, "bytes left over in a section"))
        }
    }
}
