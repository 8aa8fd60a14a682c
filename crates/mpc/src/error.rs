//! The crate's one error type: a variant per cause, each message naming the input and the reason.

use thiserror::Error;

/// Result with [`MpcError`].
pub type Result<T> = std::result::Result<T, MpcError>;

/// Why an MPC operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MpcError {
    /// A peer did not answer within the timeout (it stalled or died).
    #[error("party {peer}: no message within {secs} s (stalled or gone)")]
    Timeout {
        /// The peer waited on.
        peer: String,
        /// The timeout.
        secs: u64,
    },
    /// A peer closed the connection or the network failed.
    #[error("party {peer}: connection lost: {reason}")]
    Disconnected {
        /// The peer.
        peer: String,
        /// What happened.
        reason: String,
    },
    /// A message that does not decode, has the wrong length or exceeds the size limit.
    #[error("malformed message from {peer}: {reason}")]
    Malformed {
        /// The peer.
        peer: String,
        /// Why it was refused.
        reason: String,
    },
    /// TLS set-up or handshake failure (wrong certificate, unknown peer, ...).
    #[error("TLS with {peer}: {reason}")]
    Tls {
        /// The peer.
        peer: String,
        /// What failed.
        reason: String,
    },
    /// Malicious-with-abort: a consistency check failed; the computation aborts.
    #[error("abort: consistency check {check:?} failed (a party sent inconsistent shares)")]
    CheatingDetected {
        /// The check that failed.
        check: String,
    },
    /// A party refused the session or this client, or the session failed there.
    #[error("{peer}: {reason}")]
    Remote {
        /// The party.
        peer: String,
        /// Its reason.
        reason: String,
    },
    /// Participants named by one query joined it with another: the session was refused at
    /// once, at every party. `disagreeing` are the participants whose join carried a different
    /// query than this client's.
    #[error("{peer}: session contested: {reason}")]
    Contested {
        /// The party that refused the session.
        peer: String,
        /// Client names that joined with a different query.
        disagreeing: Vec<String>,
        /// The party's explanation.
        reason: String,
    },
    /// The parties (or a party and a client) do not agree on the session: different joins, or
    /// a message bound to another session (a replayed or cross-session share).
    #[error("{peer}: session mismatch: {reason}")]
    SessionMismatch {
        /// Who disagreed, or sent the message.
        peer: String,
        /// What differed.
        reason: String,
    },
    /// Another party aborted the session (and said why); this party stops it too.
    #[error("{peer} aborted the session: {reason}")]
    Aborted {
        /// The party that aborted.
        peer: String,
        /// Its reason.
        reason: String,
    },
    /// Bad configuration (party ids, addresses, files).
    #[error("configuration: {0}")]
    Config(String),
    /// A query this engine does not support, naming the construct.
    #[error("unsupported SQL: {0}")]
    Unsupported(String),
    /// A query that is not valid for the schema (unknown column, wrong type, ...).
    #[error("invalid query: {0}")]
    Query(String),
    /// Input data that cannot be encoded (out of range, wrong type).
    #[error("invalid input: {0}")]
    Input(String),
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
