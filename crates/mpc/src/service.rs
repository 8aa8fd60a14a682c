//! Networked queries: three party processes, and clients (data holders and result recipients)
//! that reach them over mutually authenticated TLS ([`crate::transport::tls`]).
//!
//! # A session
//! 1. Every participant — each data holder and each recipient the query names, identified by the
//!    name in its certificate — connects to all three parties and sends the same [`QuerySpec`]
//!    (`Join`). A holder then sends its [`Contribution`] share for that party: a header with its
//!    row count and vector count, then one binary frame per vector (its two ring components).
//! 2. Each party waits (at most the session timeout) until every named participant has joined,
//!    then the three parties compare a digest of the query and of every holder's row count, so
//!    a client cannot give them different queries or different row counts.
//! 3. The parties check the ranges, evaluate ([`crate::query::evaluate`]), and send each
//!    recipient their share of the output; the recipient reconstructs and checks it
//!    ([`crate::query::open_output`]). The parties themselves never learn the result.
//!
//! Every client is answered with `Done` or with `Error` naming the reason. A participant the
//! query does not name, a second query, a malformed message or a wrong-shaped contribution is
//! refused with an error to that client; the session goes on waiting for the named ones. A party
//! that dies or stalls makes the others fail within their timeout, and they tell their clients.
//!
//! A successful session leaves the three parties in step, so the next one may run on the same
//! mesh (and the same listener, which clients of the next session reach). After a failed session
//! a party drops the mesh and builds a fresh one, so a failure never leaves the parties out of
//! step.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use trustspace_data::{Record, Schema};

use crate::engine::{Mode, Party};
use crate::error::{MpcError, Result};
use crate::query::{
    Contribution, QueryResult, SharedTable, Strategy, check_contribution, check_ranges, contribute,
    evaluate, format, open_output,
};
use crate::share::{Kind, Shares};
use crate::sql::{Plan, plan};
use crate::transport::tls::{ClientLink, ClientLinkConfig, TlsTransport, party_name};
use crate::transport::{PARTIES, Transport};

/// Version of the session messages.
pub const PROTOCOL_VERSION: u32 = 1;
/// Longest SQL text accepted.
const MAX_SQL: usize = 64 * 1024;
/// Longest schema (TOML) accepted.
const MAX_SCHEMA: usize = 1 << 20;
/// Most participants one query may name.
const MAX_PARTICIPANTS: usize = 256;
/// Longest control message (JSON).
const MAX_CONTROL: usize = 2 << 20;

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

    fn participants(&self) -> Vec<&String> {
        let mut all: Vec<&String> = self.holders.iter().collect();
        all.extend(self.recipients.iter().filter(|r| !self.holders.contains(r)));
        all
    }
}

/// Control messages (JSON frames).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
enum Control {
    /// Client → party: take part in this query.
    Join { version: u32, query: QuerySpec },
    /// Holder → party: a contribution of `rows` rows follows, `vectors` binary frames.
    Contribution { rows: u64, vectors: u32 },
    /// Party → recipient: this party's output share follows (one binary frame of 2·words).
    Output { words: u64 },
    /// Party → client: the session finished.
    Done,
    /// Party → client: the session (or this client) was refused.
    Error { reason: String },
}

fn send_control(link: &mut ClientLink, c: &Control) -> Result<()> {
    link.send(serde_json::to_vec(c).expect("serializable"))
}

fn recv_control(link: &mut ClientLink) -> Result<Control> {
    let bytes = link.recv()?;
    let malformed = |reason: String| MpcError::Malformed {
        peer: link.peer_name().to_string(),
        reason,
    };
    if bytes.len() > MAX_CONTROL {
        return Err(malformed(format!(
            "control message of {} bytes",
            bytes.len()
        )));
    }
    serde_json::from_slice(&bytes).map_err(|e| malformed(format!("not a control message: {e}")))
}

fn encode_shares(s: &Shares) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 * s.len());
    for w in s.a.iter().chain(&s.b) {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

fn decode_shares(bytes: &[u8], len: usize, peer: &str) -> Result<Shares> {
    if bytes.len() != 16 * len {
        return Err(MpcError::Malformed {
            peer: peer.to_string(),
            reason: format!("expected {len} shared elements, got {} bytes", bytes.len()),
        });
    }
    let words: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let (a, b) = words.split_at(len);
    Ok(Shares {
        kind: Kind::Arithmetic,
        a: a.to_vec(),
        b: b.to_vec(),
    })
}

/// What a party did in one session.
#[derive(Debug, Clone)]
pub struct SessionReport {
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
    /// Time from the first join to the output sent.
    pub elapsed: Duration,
}

struct Joined {
    link: ClientLink,
    contribution: Option<Contribution>,
}

/// Handles one client's join at a party: returns its name and what it sent, or refuses it.
fn admit(
    link: &mut ClientLink,
    spec: &mut Option<(QuerySpec, Schema, Plan)>,
    joined: &BTreeMap<String, Joined>,
) -> Result<Option<Contribution>> {
    let name = link.peer_name().to_string();
    let Control::Join { version, query } = recv_control(link)? else {
        return Err(MpcError::Malformed {
            peer: name,
            reason: "expected a join".into(),
        });
    };
    if version != PROTOCOL_VERSION {
        return Err(MpcError::Config(format!(
            "protocol version {version}, this party speaks {PROTOCOL_VERSION}"
        )));
    }
    match spec {
        Some((s, _, _)) if *s != query => {
            return Err(MpcError::Query(
                "this party is serving a different query; wait for the next session".into(),
            ));
        }
        Some(_) => {}
        None => {
            let (schema, plan) = query.check()?;
            *spec = Some((query, schema, plan));
        }
    }
    let (s, schema, plan) = spec.as_ref().expect("set above");
    if !s.participants().contains(&&name) {
        return Err(MpcError::Config(format!(
            "{name} is not named by the query"
        )));
    }
    if joined.contains_key(&name) {
        return Err(MpcError::Config(format!("{name} has already joined")));
    }
    if !s.holders.contains(&name) {
        return Ok(None);
    }
    let Control::Contribution { rows, vectors } = recv_control(link)? else {
        return Err(MpcError::Malformed {
            peer: name,
            reason: "expected a contribution".into(),
        });
    };
    let rows_usize = usize::try_from(rows).map_err(|_| MpcError::Input(format!("{rows} rows")))?;
    let want = crate::query::expected_lengths(plan, schema, s.strategy, rows_usize);
    if vectors as usize != want.len() {
        return Err(MpcError::Input(format!(
            "{vectors} vectors where the query needs {}",
            want.len()
        )));
    }
    let mut columns = Vec::with_capacity(want.len());
    for len in want {
        let bytes = link.recv()?;
        columns.push(decode_shares(&bytes, len, &name)?);
    }
    let c = Contribution { rows, columns };
    check_contribution(plan, schema, s.strategy, &c)?;
    Ok(Some(c))
}

/// Serves one session at a party over a fresh mesh: admits the participants (waiting at most
/// `join_timeout` for all of them), agrees with the other parties, evaluates and sends each
/// recipient its output share. Clients are told `Done` or the error.
pub fn serve_session(net: &mut TlsTransport, join_timeout: Duration) -> Result<SessionReport> {
    let deadline = Instant::now() + join_timeout;
    let mut spec: Option<(QuerySpec, Schema, Plan)> = None;
    let mut joined: BTreeMap<String, Joined> = BTreeMap::new();
    let mut started = None;
    loop {
        if let Some((s, _, _)) = &spec
            && s.participants().iter().all(|n| joined.contains_key(*n))
        {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let mut link = match net.accept_client(left) {
            Ok(l) => l,
            Err(MpcError::Timeout { .. }) => {
                let missing: Vec<String> = match &spec {
                    Some((s, _, _)) => s
                        .participants()
                        .into_iter()
                        .filter(|n| !joined.contains_key(*n))
                        .cloned()
                        .collect(),
                    None => vec!["everyone".into()],
                };
                let e = MpcError::Config(format!(
                    "session not complete within {} s: waiting for {}",
                    join_timeout.as_secs(),
                    missing.join(", ")
                ));
                tell_all(&mut joined, &e);
                return Err(e);
            }
            // A refused TLS client (wrong certificate): it was told; keep waiting.
            Err(MpcError::Tls { .. }) => continue,
            Err(e) => {
                tell_all(&mut joined, &e);
                return Err(e);
            }
        };
        started.get_or_insert_with(Instant::now);
        let name = link.peer_name().to_string();
        match admit(&mut link, &mut spec, &joined) {
            Ok(contribution) => {
                joined.insert(name, Joined { link, contribution });
            }
            Err(e) => {
                let _ = send_control(
                    &mut link,
                    &Control::Error {
                        reason: e.to_string(),
                    },
                );
            }
        }
    }
    let (s, schema, plan) = spec.expect("complete");
    let result = run_session(net, &s, &schema, &plan, &mut joined);
    match result {
        Ok((products, rounds)) => Ok(SessionReport {
            sql: s.sql.clone(),
            holders: s
                .holders
                .iter()
                .map(|h| {
                    let rows = joined[h].contribution.as_ref().map_or(0, |c| c.rows);
                    (h.clone(), rows)
                })
                .collect(),
            recipients: s.recipients.clone(),
            products,
            rounds,
            elapsed: started.map_or(Duration::ZERO, |t| t.elapsed()),
        }),
        Err(e) => {
            tell_all(&mut joined, &e);
            Err(e)
        }
    }
}

fn tell_all(joined: &mut BTreeMap<String, Joined>, e: &MpcError) {
    for j in joined.values_mut() {
        let _ = send_control(
            &mut j.link,
            &Control::Error {
                reason: e.to_string(),
            },
        );
    }
}

fn run_session(
    net: &mut TlsTransport,
    s: &QuerySpec,
    schema: &Schema,
    plan: &Plan,
    joined: &mut BTreeMap<String, Joined>,
) -> Result<(u64, u64)> {
    let contributions: Vec<Contribution> = s
        .holders
        .iter()
        .map(|h| joined[h].contribution.clone().expect("holders contribute"))
        .collect();
    // The parties agree on the query and on every holder's row count.
    let mut h = Sha256::new();
    h.update(s.digest());
    for c in &contributions {
        h.update(c.rows.to_le_bytes());
    }
    let mine: [u8; 32] = h.finalize().into();
    let me = net.me();
    for j in (0..PARTIES).filter(|&j| j != me) {
        net.send(j, mine.to_vec())?;
    }
    for j in (0..PARTIES).filter(|&j| j != me) {
        if net.recv(j)? != mine {
            return Err(MpcError::CheatingDetected {
                check: format!(
                    "session: {} received a different query or different row counts",
                    party_name(j)
                ),
            });
        }
    }
    let rows: usize = contributions.iter().map(|c| c.rows as usize).sum();
    check_ranges(plan, schema, rows)?;
    let table = SharedTable::new(plan, schema, s.strategy, &contributions)?;
    let mut party = Party::new(&mut *net, s.mode)?;
    let out = evaluate(&mut party, plan, schema, &table)?;
    let (products, rounds) = (party.products, party.rounds);
    let frame = encode_shares(&out);
    for r in &s.recipients {
        let link = &mut joined.get_mut(r).expect("joined").link;
        send_control(
            link,
            &Control::Output {
                words: out.len() as u64,
            },
        )?;
        link.send(frame.clone())?;
    }
    for j in joined.values_mut() {
        send_control(&mut j.link, &Control::Done)?;
    }
    Ok((products, rounds))
}

/// A client's side of a session: joins the query at all three parties, contributes `rows` if
/// the client is a holder, and returns the result if it is a recipient (`None` otherwise).
///
/// The client's name is the one in its certificate ([`ClientLinkConfig::name`]). Errors name
/// the party that refused and why.
pub fn participate(
    config: &ClientLinkConfig,
    spec: &QuerySpec,
    rows: Option<&[Record]>,
) -> Result<Option<QueryResult>> {
    let name = config.name()?;
    let (schema, plan) = spec.check()?;
    let holder = spec.holders.contains(&name);
    let recipient = spec.recipients.contains(&name);
    if !holder && !recipient {
        return Err(MpcError::Config(format!(
            "{name} is neither a holder nor a recipient of this query"
        )));
    }
    let parts = match (holder, rows) {
        (true, Some(r)) => Some(contribute(
            &plan,
            &schema,
            spec.strategy,
            r,
            &mut rand::rngs::OsRng,
        )?),
        (true, None) => {
            return Err(MpcError::Input(format!(
                "{name} is a holder of this query but has no rows to give"
            )));
        }
        (false, _) => None,
    };
    let mut links = Vec::with_capacity(PARTIES);
    for i in 0..PARTIES {
        let mut link = ClientLink::connect(config, i)?;
        send_control(
            &mut link,
            &Control::Join {
                version: PROTOCOL_VERSION,
                query: spec.clone(),
            },
        )?;
        if let Some(parts) = &parts {
            let c = &parts[i];
            send_control(
                &mut link,
                &Control::Contribution {
                    rows: c.rows,
                    vectors: c.columns.len() as u32,
                },
            )?;
            for v in &c.columns {
                link.send(encode_shares(v))?;
            }
        }
        links.push(link);
    }
    drop(parts);
    let mut outputs: Vec<Option<Shares>> = vec![None; PARTIES];
    for (i, link) in links.iter_mut().enumerate() {
        loop {
            match recv_control(link)? {
                Control::Output { words } => {
                    let len = usize::try_from(words).map_err(|_| MpcError::Malformed {
                        peer: party_name(i),
                        reason: "output length".into(),
                    })?;
                    let bytes = link.recv()?;
                    outputs[i] = Some(decode_shares(&bytes, len, &party_name(i))?);
                }
                Control::Done => break,
                Control::Error { reason } => {
                    return Err(MpcError::Remote {
                        peer: party_name(i),
                        reason,
                    });
                }
                other => {
                    return Err(MpcError::Malformed {
                        peer: party_name(i),
                        reason: format!("unexpected {other:?}"),
                    });
                }
            }
        }
    }
    if !recipient {
        return Ok(None);
    }
    let mut shares = Vec::with_capacity(PARTIES);
    for (i, o) in outputs.into_iter().enumerate() {
        shares.push(o.ok_or_else(|| MpcError::Malformed {
            peer: party_name(i),
            reason: "finished without sending the output".into(),
        })?);
    }
    let shares: [Shares; 3] = shares.try_into().expect("three");
    let opened = open_output(&plan, &schema, &shares)?;
    Ok(Some(format(&plan, &schema, &opened)?))
}
