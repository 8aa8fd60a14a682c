//! The decoders that only the party and client implementations use internally, reachable for
//! the fuzz targets (`crates/fuzz`) and the property tests. Not a stable API: these are wire
//! details of this crate's own processes, free to change with [`crate::service::PROTOCOL_VERSION`],
//! so they stay out of the documented modules.
//!
//! The decoders that are public API anyway are used from their own modules:
//! [`crate::service::session::View::decode`], [`crate::service::session::MeshMsg::decode`],
//! [`crate::sql::plan`], [`crate::query::open_output`], and
//! [`crate::transport::tls::PartyConfig::from_bytes`] /
//! [`crate::transport::tls::ClientLinkConfig::from_bytes`].

use crate::error::Result;
use crate::transport::PartyId;

pub use crate::service::wire::{
    Control, decode_control, decode_shares, encode_control, encode_shares,
};
pub use crate::transport::tls::framing::{Deframer, Oversize};
pub use crate::transport::tls::handshake::{Verdict, read_verdict, refusal_frame};

/// An engine message carrying ring elements (a product share, an opened component, ...), as
/// the engine sends it.
pub fn encode_words(words: &[u64]) -> Vec<u8> {
    crate::engine::encode(words)
}

/// Decodes an engine message of exactly `n` ring elements from party `peer`, as the engine
/// does ([`crate::MpcError::Malformed`] for any other length).
pub fn decode_words(bytes: &[u8], n: usize, peer: PartyId) -> Result<Vec<u64>> {
    crate::engine::decode(bytes, n, peer)
}

/// The SQL text as the parser reads it, printed back (statements joined by `;`): what
/// [`crate::sql::plan`] plans, so planning it again must give the same plan.
pub fn reprint_sql(sql: &str) -> Result<String> {
    Ok(crate::sql::parse(sql)?
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; "))
}
