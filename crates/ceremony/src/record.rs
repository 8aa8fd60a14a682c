//! What a contribution's record says about itself, in both of snarkjs's files (a `.ptau`'s
//! section 7 and a `.zkey`'s section 10): where its secrets came from ([`Source`]: the
//! contributor's own randomness or a public beacon) and its contributor's name, written as a
//! type (u32: 0 secret, 1 beacon) and sorted type–value parameters (1 the name, 2 the beacon's
//! iteration exponent, 3 the beacon's value).

use crate::binfile::{Reader, malformed};
use crate::error::CeremonyError;

/// The largest beacon iteration exponent (2^28 SHA-256 rounds, about a minute): a verifier
/// re-derives every beacon, so a file cannot make it hash for longer.
pub const MAX_BEACON_EXP: u8 = 28;
/// The longest contributor name (bytes), as snarkjs keeps it.
pub const MAX_NAME: usize = 64;

/// Where a contribution's secrets came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A contributor's own randomness (destroyed after).
    Secret,
    /// A public random beacon: the secrets are drawn from `hash`, SHA-256'd
    /// `2^iterations_exp` times, so anyone re-derives them.
    Beacon {
        /// The beacon's value.
        hash: Vec<u8>,
        /// The iteration exponent.
        iterations_exp: u8,
    },
}

/// Refuses a beacon without a value, with a value over 255 bytes or an exponent over
/// [`MAX_BEACON_EXP`].
pub(crate) fn check_beacon(hash: &[u8], iterations_exp: u8) -> crate::Result<()> {
    if iterations_exp > MAX_BEACON_EXP || hash.is_empty() || hash.len() > 255 {
        return Err(CeremonyError::BadBeacon);
    }
    Ok(())
}

/// A contributor name within [`MAX_NAME`] bytes; empty means none (as snarkjs writes it).
pub(crate) fn checked_name(name: Option<&str>) -> crate::Result<Option<String>> {
    match name {
        Some(n) if n.len() > MAX_NAME => Err(CeremonyError::NameTooLong(n.len())),
        Some(n) if !n.is_empty() => Ok(Some(n.to_string())),
        _ => Ok(None),
    }
}

/// Appends a record's type, parameter length and parameters.
pub(crate) fn write(name: Option<&String>, source: &Source, out: &mut Vec<u8>) {
    let mut params = Vec::new();
    if let Some(name) = name {
        params.push(1);
        params.push(name.len() as u8);
        params.extend_from_slice(name.as_bytes());
    }
    let kind: u32 = match source {
        Source::Secret => 0,
        Source::Beacon {
            hash,
            iterations_exp,
        } => {
            params.extend_from_slice(&[2, *iterations_exp, 3, hash.len() as u8]);
            params.extend_from_slice(hash);
            1
        }
    };
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(params.len() as u32).to_le_bytes());
    out.extend_from_slice(&params);
}

/// Reads a record's type, parameter length and parameters (contribution `index`, for errors).
pub(crate) fn read(r: &mut Reader<'_>, index: usize) -> crate::Result<(Option<String>, Source)> {
    let what = r.what;
    let bad = |reason: &str| malformed(what, &format!("contribution {index}: {reason}"));
    let kind = r.u32()?;
    let len = r.u32()? as usize;
    let mut p = Reader {
        rest: r.take(len)?,
        what,
    };
    let (mut name, mut exp, mut hash, mut last) = (None, None, None, 0u8);
    while !p.rest.is_empty() {
        let kind = p.u8()?;
        if kind <= last {
            return Err(bad("parameters not sorted"));
        }
        last = kind;
        match kind {
            1 => {
                let len = p.u8()? as usize;
                let text =
                    std::str::from_utf8(p.take(len)?).map_err(|_| bad("its name is not UTF-8"))?;
                name = Some(text.to_string()).filter(|n| !n.is_empty());
            }
            2 => {
                let e = p.u8()?;
                if e > MAX_BEACON_EXP {
                    return Err(bad("its beacon's iteration exponent is over 28"));
                }
                exp = Some(e);
            }
            3 => {
                let len = p.u8()? as usize;
                hash = Some(p.take(len)?.to_vec());
            }
            _ => return Err(bad("unknown parameter")),
        }
    }
    let source = match (kind, hash, exp) {
        (0, None, None) => Source::Secret,
        (1, Some(hash), Some(iterations_exp)) if !hash.is_empty() => Source::Beacon {
            hash,
            iterations_exp,
        },
        _ => return Err(bad("its type and beacon parameters disagree")),
    };
    Ok((name, source))
}
