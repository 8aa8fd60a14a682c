//! The crate's one error type: a variant per cause, each message naming the input and the reason.

use thiserror::Error;

/// Who an error is about, as data: a caller branches on it (a compute party gone, or a
/// client), never on its text. Shown as before: `party-{i}`, a client's name, ...
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Peer {
    /// Compute party `i` (`party-{i}`).
    Party(usize),
    /// Several compute parties (e.g. those a set-up still waits for), comma-separated.
    Parties(Vec<usize>),
    /// A client (data holder or recipient), by its certificate name.
    Client(String),
    /// The parties a set-up still waited for at its deadline, and the connection it refused
    /// meanwhile (`party-2 (refused ...)`).
    Waiting {
        /// The parties not connected.
        parties: Vec<usize>,
        /// The refused connection.
        refused: Box<Peer>,
    },
    /// An endpoint not identified (yet), or this side itself, described.
    Other(String),
}

impl Peer {
    /// Whether the error is about one or more compute parties (a mesh link), not a client.
    pub fn is_party(&self) -> bool {
        matches!(
            self,
            Peer::Party(_) | Peer::Parties(_) | Peer::Waiting { .. }
        )
    }
}

fn parties(f: &mut std::fmt::Formatter<'_>, ids: &[usize]) -> std::fmt::Result {
    for (n, i) in ids.iter().enumerate() {
        if n > 0 {
            f.write_str(", ")?;
        }
        write!(f, "party-{i}")?;
    }
    Ok(())
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Party(i) => write!(f, "party-{i}"),
            Peer::Parties(ids) => parties(f, ids),
            Peer::Client(name) | Peer::Other(name) => f.write_str(name),
            Peer::Waiting {
                parties: ids,
                refused,
            } => {
                parties(f, ids)?;
                write!(f, " (refused {refused})")
            }
        }
    }
}

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
        peer: Peer,
        /// The timeout.
        secs: u64,
    },
    /// A peer closed the connection or the network failed.
    #[error("party {peer}: connection lost: {reason}")]
    Disconnected {
        /// The peer.
        peer: Peer,
        /// What happened.
        reason: String,
    },
    /// A message that does not decode, has the wrong length or exceeds the size limit.
    #[error("malformed message from {peer}: {reason}")]
    Malformed {
        /// The peer.
        peer: Peer,
        /// Why it was refused.
        reason: String,
    },
    /// TLS set-up or handshake failure (wrong certificate, unknown peer, ...); `step` says
    /// which step failed and how, so callers branch on it rather than on `reason`.
    #[error("TLS with {peer}: {reason}")]
    Tls {
        /// The peer.
        peer: Peer,
        /// Which step failed, and how.
        step: TlsStep,
        /// What failed, for people.
        reason: String,
    },
    /// Malicious-with-abort: a consistency check failed; the computation aborts.
    #[error("abort: consistency check {detail:?} failed (a party sent inconsistent shares)")]
    CheatingDetected {
        /// The check that failed.
        check: Check,
        /// What it found.
        detail: String,
    },
    /// A party refused the session or this client, or the session failed there.
    #[error("{peer}: {reason}")]
    Remote {
        /// The party.
        peer: Peer,
        /// Its reason.
        reason: String,
    },
    /// Participants named by one query joined it with another: the session was refused at
    /// once, at every party. `disagreeing` are the participants whose join carried a different
    /// query than this client's.
    #[error("{peer}: session contested: {reason}")]
    Contested {
        /// The party that refused the session.
        peer: Peer,
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
        peer: Peer,
        /// What differed.
        reason: String,
    },
    /// Another party aborted the session (and said why); this party stops it too.
    #[error("{peer} aborted the session: {reason}")]
    Aborted {
        /// The party that aborted.
        peer: Peer,
        /// Its reason.
        reason: String,
    },
    /// A client that the query names neither as a holder nor as a recipient.
    #[error("configuration: {name} is neither a holder nor a recipient of this query")]
    NotParticipant {
        /// The client's name.
        name: String,
    },
    /// A session whose participants did not all join within the join timeout.
    #[error(
        "configuration: session not complete within {secs} s: waiting for {}",
        missing.join(", ")
    )]
    Incomplete {
        /// The join timeout, seconds.
        secs: u64,
        /// The participants that did not join (this query).
        missing: Vec<String>,
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
    /// A query refused because a value could leave the 64-bit ring (checked against the
    /// columns' declared ranges before any work), or, for `HHI`, because the opened market
    /// total did; `check` says which bound.
    #[error("invalid query: {reason}")]
    Range {
        /// Which bound would be crossed.
        check: RangeCheck,
        /// The aggregate or comparison, and the bound.
        reason: String,
    },
    /// Input data that cannot be encoded (out of range, wrong type).
    #[error("invalid input: {0}")]
    Input(String),
    /// A configuration, certificate or key file larger than the limit (it is not read).
    #[error("configuration: {path}: larger than {limit} bytes")]
    FileTooLarge {
        /// The file.
        path: String,
        /// The limit, bytes.
        limit: u64,
    },
    /// A private key file that group or others may read or write (it is not used).
    #[error(
        "configuration: {path}: private key is accessible by group or others (mode {mode:o}); \
         chmod 600 it"
    )]
    KeyExposed {
        /// The key file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
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

/// Which step of a TLS connection failed, and how: the cause carried by [`MpcError::Tls`] (as
/// rustls's `Error` carries `PeerMisbehaved`), so that a caller decides on data, never on text
/// (a dialler tries again after [`TlsStep::Closed`] or
/// [`TlsStep::PeerRefused`]`(`[`Refusal::AlreadyConnected`]`)`, and gives up on the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsStep {
    /// Building this participant's own TLS configuration (its key does not match its
    /// certificate, ...).
    Setup,
    /// The peer closed or reset the connection before the set-up finished (during the
    /// handshake, or before its acknowledgement): a listener restarting between two meshes
    /// looks like this, so a dialler tries again.
    Closed,
    /// The handshake, or the listener's acknowledgement after it, did not come within the
    /// handshake timeout.
    TimedOut,
    /// A certificate was rejected: the peer's by this side (not issued by the consortium CA,
    /// not valid for the party dialled), or this side's by the peer (its alert says so).
    Certificate,
    /// Any other failure of the TLS handshake (a protocol error, a network error).
    Handshake,
    /// The peer's verified certificate does not name an acceptable participant.
    Identity(IdentityFault),
    /// The listener refused this connection after the handshake, and said why.
    PeerRefused(Refusal),
    /// This listener refused an incoming connection.
    Refused(Refusal),
    /// The listener answered the handshake with something other than an acknowledgement or
    /// a refusal.
    Acknowledgement,
    /// A TLS failure on an established connection (a record that does not decrypt, a fatal
    /// alert).
    Record,
}

/// Why a certificate that verified against the consortium CA names no acceptable participant
/// (see [`crate::transport::tls`], "Identities").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityFault {
    /// No certificate was presented.
    Absent,
    /// The certificate does not parse.
    Unparsable,
    /// It has no subjectAltName DNS name (or an unreadable subjectAltName).
    NoDnsName,
    /// It has more than one DNS name.
    SeveralDnsNames,
    /// Its DNS name is not a participant name (`[a-z][a-z0-9-]*`).
    BadName,
    /// Its subject CN differs from its DNS name (or cannot be read).
    CnMismatch,
    /// It names a party (`party-N`) that is not one of the mesh's.
    NotAParty,
    /// It names another participant than the one dialled.
    Unexpected,
}

/// Why a listener refuses a connection whose certificate verified: sent to the dialler after
/// the handshake, so both sides report the same cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The certificate names no acceptable participant.
    Identity(IdentityFault),
    /// A party presented the listener's own certificate.
    OwnCertificate,
    /// A party dialled that should listen (the higher id dials the lower).
    WrongDirection,
    /// That party is connected already (a party between two meshes may see this: the dialler
    /// tries again).
    AlreadyConnected,
    /// The listener failed to decide (its state is broken).
    Internal,
}

/// Which bound a query could cross ([`MpcError::Range`]); `agg` indexes the plan's aggregates
/// ([`crate::sql::Plan::aggs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeCheck {
    /// A `WHERE` comparison whose operands' declared ranges differ by 2^63 or more.
    Comparison,
    /// A `HAVING` literal beyond ±2^62 / rows.
    HavingBound,
    /// An aggregate compared in `HAVING` or `ORDER BY` that could exceed ±2^62.
    Compared {
        /// The aggregate.
        agg: usize,
    },
    /// `ORDER BY AVG`: the `SUM × COUNT` products it compares could exceed 2^62.
    AvgProducts {
        /// The aggregate.
        agg: usize,
    },
    /// An aggregate that could overflow 64 bits (for `HHI`: choose a larger unit).
    Overflow {
        /// The aggregate.
        agg: usize,
    },
    /// `HHI`: the opened market total reached 2^31 units (so the sum of squares could
    /// overflow); choose a larger unit.
    MarketTotal,
}

/// Which consistency check caught a cheating party ([`MpcError::CheatingDetected`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// Cut-and-choose: an opened multiplication triple is not a product.
    OpenedTriple,
    /// A product failed its check against a verified triple.
    Product,
    /// The two replicas of an opened share differ.
    Opening,
    /// The replicated shares of an input (e.g. the holders' inputs) differ between parties.
    Replicas,
    /// At a recipient: the parties' output shares disagree, or the output is ill-formed.
    Output,
}
