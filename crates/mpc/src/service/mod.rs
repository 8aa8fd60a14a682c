//! Networked queries: three party processes, and clients (data holders and result recipients)
//! that reach them over mutually authenticated TLS ([`crate::transport::tls`]).
//!
//! # A session
//! 1. Every participant — each data holder and each recipient the query names, identified by the
//!    name in its certificate — connects to all three parties and sends the same [`QuerySpec`]
//!    with a fresh random nonce (`Join`).
//! 2. A party keeps joins in a pool until every participant a query names has joined it. Joins
//!    whose queries differ while each names the other's sender *contest* each other: once every
//!    participant of those queries has joined, each is refused at once with
//!    [`MpcError::Contested`] naming the participants that joined differently. A newer join from
//!    the same client replaces its older one; a client that leaves is dropped from the pool.
//! 3. The three parties exchange their views (query digest and every join's nonce) and agree on
//!    the [`SessionId`] derived from them before any share moves ([`session`]); a mismatch fails
//!    the session everywhere with [`MpcError::SessionMismatch`] saying what differed.
//! 4. Each party tells every participant the session and the joins it is derived from; the
//!    client checks that all three parties name the same session and that its own nonce is in
//!    it. Holders then send their contributions, bound to the session (the header names it,
//!    every share frame starts with it); a frame of another session is refused.
//! 5. The parties agree on every holder's row count, check ranges, evaluate
//!    ([`crate::query::evaluate`]) with every mesh frame tagged with the session and PRF streams
//!    keyed by it, and send each recipient its output share, also bound to the session; the
//!    recipient checks and reconstructs it ([`crate::query::open_output`]). The parties never
//!    learn the result.
//!
//! Every client is answered `Done` or an error naming the reason. A party that fails a session
//! tells its clients, aborts the session at the other parties and waits until the mesh is clean
//! (or rebuilds it when a party is gone), so the next query succeeds on its first try.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use trustspace_data::Schema;

use crate::engine::Mode;
use crate::error::{MpcError, Result};
use crate::query::Strategy;
use crate::sql::{Plan, plan};

mod client;
pub mod mesh;
mod party;
pub mod session;
pub(crate) mod wire;

pub use client::participate;
pub use party::PartyService;
pub use session::SessionId;

/// Version of the session messages (2: joins carry nonces; sessions are agreed and bound).
pub const PROTOCOL_VERSION: u32 = 2;
/// Longest SQL text accepted.
const MAX_SQL: usize = 64 * 1024;
/// Longest schema (TOML) accepted.
const MAX_SCHEMA: usize = 1 << 20;
/// Most participants one query may name.
const MAX_PARTICIPANTS: usize = 256;

/// What every participant of a session agrees to: the query, the schema it reads, who
/// contributes rows, who may see the result, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// The SQL (one SELECT).
    pub sql: String,
    /// The table's schema, as TOML ([`Schema::from_toml`]).
    pub schema: String,
    /// Client names of the data holders, in contribution order.
    pub holders: Vec<String>,
    /// Client names that receive the result.
    pub recipients: Vec<String>,
    /// Security mode.
    pub mode: Mode,
    /// How holders contribute.
    pub strategy: Strategy,
}

impl QuerySpec {
    /// SHA-256 of the canonical JSON form: what the parties compare.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(serde_json::to_vec(self).expect("serializable")).into()
    }

    /// Checks sizes and names, parses the schema and plans the query.
    pub fn check(&self) -> Result<(Schema, Plan)> {
        if self.sql.len() > MAX_SQL || self.schema.len() > MAX_SCHEMA {
            return Err(MpcError::Query(format!(
                "query ({} bytes) or schema ({} bytes) over the limit",
                self.sql.len(),
                self.schema.len()
            )));
        }
        if self.holders.is_empty() || self.recipients.is_empty() {
            return Err(MpcError::Query(
                "a query names at least one holder and one recipient".into(),
            ));
        }
        if self.holders.len() + self.recipients.len() > MAX_PARTICIPANTS {
            return Err(MpcError::Query(format!(
                "more than {MAX_PARTICIPANTS} participants"
            )));
        }
        for list in [&self.holders, &self.recipients] {
            let mut seen = std::collections::BTreeSet::new();
            for n in list.iter() {
                if n.starts_with("party-") || n.is_empty() || !seen.insert(n) {
                    return Err(MpcError::Query(format!(
                        "participant {n:?} is empty, a party name, or listed twice"
                    )));
                }
            }
        }
        let schema = Schema::from_toml(&self.schema, "query schema")
            .map_err(|e| MpcError::Query(format!("schema: {e}")))?;
        let plan = plan(&self.sql, &schema)?;
        Ok((schema, plan))
    }

    /// Holders, then recipients that are not holders.
    pub fn participants(&self) -> Vec<&String> {
        let mut all: Vec<&String> = self.holders.iter().collect();
        all.extend(self.recipients.iter().filter(|r| !self.holders.contains(r)));
        all
    }
}

/// What a party did in one session.
#[derive(Debug, Clone)]
pub struct SessionReport {
    /// The session the parties agreed on.
    pub session: SessionId,
    /// The SQL.
    pub sql: String,
    /// Holders and their row counts.
    pub holders: Vec<(String, u64)>,
    /// Recipients sent the output.
    pub recipients: Vec<String>,
    /// Multiplications (per element) this party performed.
    pub products: u64,
    /// Communication rounds.
    pub rounds: u64,
    /// Time from the session's start (all joins in) to the output sent.
    pub elapsed: Duration,
}

/// Untrusted text for a message: control characters escaped, quoted.
pub(crate) fn shown(s: &str) -> String {
    format!("{s:?}")
}
