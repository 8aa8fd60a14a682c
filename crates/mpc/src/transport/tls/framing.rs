//! Framing: a message is its length as a little-endian `u32`, then the bytes. [`Deframer`]
//! splits a decrypted byte stream into frames (refusing one longer than [`MAX_MESSAGE`]);
//! [`write_frame`] encrypts a frame and writes it to the socket.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::Mutex;

use rustls::Connection;

use crate::transport::MAX_MESSAGE;

/// Frames up to this size go out with their header in one TLS write (one record).
const COALESCE: usize = 64 * 1024;

/// A frame header announcing more than [`MAX_MESSAGE`] bytes: the stream cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oversize {
    /// The announced length.
    pub len: usize,
}

impl std::fmt::Display for Oversize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "frame of {} bytes exceeds the {MAX_MESSAGE}-byte limit",
            self.len
        )
    }
}

/// Splits a plaintext byte stream into frames (`u32` little-endian length, then the bytes), fed
/// in pieces of any size (what one TLS record decrypts to); a frame may span any number of
/// pieces.
#[derive(Default)]
pub struct Deframer {
    header: [u8; 4],
    header_len: usize,
    body: Vec<u8>,
    want: Option<usize>,
}

impl Deframer {
    /// Consumes `data`, appending completed frames to `frames`; [`Oversize`] on a frame
    /// longer than [`MAX_MESSAGE`].
    pub fn push(
        &mut self,
        mut data: &[u8],
        frames: &mut Vec<Vec<u8>>,
    ) -> std::result::Result<(), Oversize> {
        while !data.is_empty() {
            match self.want {
                None => {
                    let take = (4 - self.header_len).min(data.len());
                    self.header[self.header_len..self.header_len + take]
                        .copy_from_slice(&data[..take]);
                    self.header_len += take;
                    data = &data[take..];
                    if self.header_len == 4 {
                        self.header_len = 0;
                        let len = u32::from_le_bytes(self.header) as usize;
                        if len > MAX_MESSAGE {
                            return Err(Oversize { len });
                        }
                        if len == 0 {
                            frames.push(Vec::new());
                        } else {
                            self.body = Vec::with_capacity(len.min(1 << 20));
                            self.want = Some(len);
                        }
                    }
                }
                Some(len) => {
                    let take = (len - self.body.len()).min(data.len());
                    self.body.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if self.body.len() == len {
                        frames.push(std::mem::take(&mut self.body));
                        self.want = None;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Encrypts one frame (header and payload) and writes it to `sock`; `out` is the reusable
/// ciphertext buffer.
pub(super) fn write_frame(
    conn: &Mutex<Connection>,
    sock: &mut TcpStream,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let len = u32::try_from(payload.len()).map_err(io::Error::other)?;
    let header = len.to_le_bytes();
    if payload.len() <= COALESCE {
        let mut frame = Vec::with_capacity(4 + payload.len());
        frame.extend_from_slice(&header);
        frame.extend_from_slice(payload);
        write_plain(conn, sock, &frame, out)
    } else {
        write_plain(conn, sock, &header, out)?;
        write_plain(conn, sock, payload, out)
    }
}

/// Encrypts `data` (a buffer's worth at a time, under the lock) and writes the records
/// (without the lock); with empty `data`, writes whatever TLS records are pending.
pub(super) fn write_plain(
    conn: &Mutex<Connection>,
    sock: &mut TcpStream,
    mut data: &[u8],
    out: &mut Vec<u8>,
) -> io::Result<()> {
    loop {
        out.clear();
        {
            let mut c = conn
                .lock()
                .map_err(|_| io::Error::other("connection state poisoned"))?;
            if !data.is_empty() {
                let n = c.writer().write(data)?;
                data = &data[n..];
            }
            while c.wants_write() {
                c.write_tls(out)?;
            }
        }
        if !out.is_empty() {
            sock.write_all(out)?;
        }
        if data.is_empty() {
            return Ok(());
        }
        if out.is_empty() {
            return Err(io::Error::other("TLS connection accepts no more data"));
        }
    }
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
