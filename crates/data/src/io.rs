//! Small file helpers shared by the loaders: bounded reads and error wrapping.

use std::io::Read;
use std::path::Path;

use crate::error::DataError;

/// Wraps an I/O error with the path it concerns.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a whole file of at most `limit` bytes (reading no more than `limit + 1` to tell).
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, DataError> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err(path))?;
    too_large(&bytes, path, limit)?;
    Ok(bytes)
}

fn too_large(bytes: &[u8], path: &Path, limit: u64) -> Result<(), DataError> {
    if bytes.len() as u64 > limit {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(())
}

/// The contents of `path` (a file, or a named in-memory document) as UTF-8 text of at most
/// `limit` bytes: the checks a text file is read with, for bytes that are already in memory.
pub(crate) fn text_limited<'b>(
    bytes: &'b [u8],
    path: &Path,
    limit: u64,
) -> Result<&'b str, DataError> {
    too_large(bytes, path, limit)?;
    std::str::from_utf8(bytes).map_err(|e| DataError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not valid UTF-8 at byte {}", e.valid_up_to()),
        ),
    })
}
