//! Reading and writing this crate's files. Every loader is a bounded read of its path followed
//! by the format's byte decoder (`from_bytes`), so a file and the same bytes received any other
//! way are refused with the same typed errors; the decoders are what the fuzz targets run.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

use crate::error::{FormatProblem, Result, ZkError};

/// What is being decoded, with the file it comes from (for error messages).
pub(crate) fn named(what: &str, path: &Path) -> String {
    format!("{what} {}", path.display())
}

/// Reads at most `limit` bytes of `path`; a longer file is refused as
/// [`FormatProblem::TooLarge`] without being read further.
pub(crate) fn read_limited(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |source| ZkError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    check_size(&bytes, &named(what, path), limit)?;
    Ok(bytes)
}

/// Refuses more than `limit` bytes as [`FormatProblem::TooLarge`].
pub(crate) fn check_size(bytes: &[u8], what: &str, limit: u64) -> Result<()> {
    if bytes.len() as u64 > limit {
        return Err(ZkError::Format {
            what: what.to_string(),
            reason: FormatProblem::TooLarge { limit },
        });
    }
    Ok(())
}

/// Decodes at most `limit` bytes of JSON as `T` ([`FormatProblem::TooLarge`],
/// [`FormatProblem::Json`]).
pub(crate) fn json_from_bytes<T: DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    limit: u64,
) -> Result<T> {
    check_size(bytes, what, limit)?;
    // serde's message quotes the input (an unknown field's name): escaped.
    serde_json::from_slice(bytes).map_err(|e| ZkError::Format {
        what: what.to_string(),
        reason: FormatProblem::Json(trustspace_data::error::escape_untrusted(&e.to_string())),
    })
}

/// Decodes a versioned JSON file (at most `limit` bytes) as `T`, reading its `version` first:
/// a file of another version is refused as [`FormatProblem::UnsupportedVersion`] naming it,
/// not as whatever field its format lacks or adds.
pub(crate) fn versioned_json_from_bytes<T: DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    limit: u64,
    version: u32,
) -> Result<T> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        version: Option<u32>,
    }
    check_size(bytes, what, limit)?;
    if let Ok(Versioned {
        version: Some(found),
    }) = serde_json::from_slice(bytes)
    {
        if found != version {
            return Err(ZkError::Format {
                what: what.to_string(),
                reason: FormatProblem::UnsupportedVersion { found },
            });
        }
    }
    json_from_bytes(bytes, what, limit)
}

/// The crate's JSON file encoding: pretty-printed, with a final newline.
pub(crate) fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("serializable");
    bytes.push(b'\n');
    bytes
}

/// Writes `bytes` to `path`.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| ZkError::Io {
        path: path.to_path_buf(),
        source,
    })
}
