//! A compute party's side of the service: the pool of joins, contested and expired sessions,
//! agreement with the other parties, and running a session.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use trustspace_data::Schema;

use super::mesh::{PeerAbort, SessionMesh};
use super::session::{Nonce, POLL, SessionId, View, hex, parse_hex32};
use super::wire::{
    Control, check_session, decode_control, decode_shares, encode_shares, send_control,
};
use super::{PROTOCOL_VERSION, QuerySpec, SessionReport, shown};
use crate::engine::Party;
use crate::error::{MpcError, Peer, Result};
use crate::query::{Contribution, SharedTable, check_contribution, check_ranges, evaluate};
use crate::sql::Plan;
use crate::transport::tls::{ClientLink, PartyConfig, TlsTransport};
use crate::transport::{PARTIES, Transport};

/// How long one pass of the loop waits for a new client.
const ACCEPT_WAIT: Duration = Duration::from_millis(5);
/// Longest wait for the peers' acknowledgements of an abort before the mesh is rebuilt (they
/// answer within milliseconds unless stalled).
const ABORT_WAIT: Duration = Duration::from_secs(1);
/// Least time the peers get to confirm a session whose joins completed near their deadline.
const AGREE_GRACE: Duration = Duration::from_secs(3);
/// Longest SQL shown back to a client in a contest report (characters).
const SHOWN_SQL: usize = 160;

/// A participant's join, waiting for its session.
struct Join {
    link: ClientLink,
    query: QuerySpec,
    digest: [u8; 32],
    nonce: Nonce,
    at: Instant,
}

/// One compute party's service: its mesh with the other two and the clients' joins. Each
/// [`PartyService::serve`] returns one session's outcome; joins that arrived for other sessions
/// stay in the pool for the next call.
pub struct PartyService {
    config: PartyConfig,
    join_timeout: Duration,
    mesh: Option<SessionMesh<TlsTransport>>,
    /// Connected clients whose join has not arrived yet.
    pending: Vec<(ClientLink, Instant)>,
    joins: BTreeMap<String, Join>,
}

/// What the pool holds next.
enum Next {
    /// These joins (by name) form a complete session.
    Run(Vec<String>),
    /// These joins failed together, with this error (already told to their clients).
    Failed(MpcError),
}

impl PartyService {
    /// Builds the mesh with the other two parties ([`TlsTransport::connect`]); a session waits
    /// at most `join_timeout` for its participants after the first of them joins.
    pub fn start(config: &PartyConfig, join_timeout: Duration) -> Result<PartyService> {
        let mut s = PartyService {
            config: config.clone(),
            join_timeout,
            mesh: None,
            pending: Vec::new(),
            joins: BTreeMap::new(),
        };
        s.mesh()?;
        Ok(s)
    }

    /// A service on a mesh the caller built (e.g. one also used for raw protocol runs, as the
    /// benchmarks do); [`PartyService::into_mesh`] gives it back.
    pub fn with_mesh(
        config: &PartyConfig,
        net: TlsTransport,
        join_timeout: Duration,
    ) -> PartyService {
        PartyService {
            config: config.clone(),
            join_timeout,
            mesh: Some(SessionMesh::new(net, config.timeout())),
            pending: Vec::new(),
            joins: BTreeMap::new(),
        }
    }

    /// The mesh, if it is up (it is dropped when a party was lost).
    pub fn into_mesh(self) -> Option<TlsTransport> {
        self.mesh.map(SessionMesh::into_inner)
    }

    /// The address the listener is bound to (while the mesh is up).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.mesh.as_ref().map(|m| m.net().local_addr())
    }

    fn mesh(&mut self) -> Result<&mut SessionMesh<TlsTransport>> {
        if self.mesh.is_none() {
            let net = TlsTransport::connect(&self.config)?;
            self.mesh = Some(SessionMesh::new(net, self.config.timeout()));
        }
        Ok(self.mesh.as_mut().expect("set above"))
    }

    /// Serves until one session has run or failed: admits clients, refuses contested sessions at
    /// once, agrees with the other parties, evaluates, and sends each recipient its output
    /// share. Every client is told `Done` or why not. After a failure the mesh is resynchronised
    /// (or rebuilt at the next call if a party is gone), so the next session starts clean.
    pub fn serve(&mut self) -> Result<SessionReport> {
        self.mesh()?.touch();
        loop {
            if let Err(e) = self.intake() {
                // The mesh or the listener is gone: everyone waiting is told, the mesh rebuilt.
                self.mesh = None;
                let names: Vec<String> = self.joins.keys().cloned().collect();
                self.fail(&names, &e);
                self.pending.clear();
                return Err(e);
            }
            match self.next() {
                Some(Next::Run(names)) => return self.run(names),
                Some(Next::Failed(e)) => return Err(e),
                None => {}
            }
        }
    }

    /// One pass: a new client (if any within [`ACCEPT_WAIT`]), joins that arrived, clients that
    /// left, and the peers' aborts. Errors only when the mesh or listener is gone.
    fn intake(&mut self) -> Result<()> {
        let mesh = self.mesh.as_mut().expect("mesh up");
        match mesh.net().accept_client(ACCEPT_WAIT) {
            Ok(link) => self.pending.push((link, Instant::now())),
            // A refused TLS client was told; nobody new in this pass.
            Err(MpcError::Tls { .. } | MpcError::Timeout { .. }) => {}
            Err(e) => return Err(e),
        }
        let aborts = mesh.poll()?;
        for a in aborts {
            self.drop_aborted(&a);
        }
        let mut still = Vec::new();
        for (mut link, since) in std::mem::take(&mut self.pending) {
            match link.try_recv() {
                // A refused join was told why; the pool goes on.
                Ok(Some(bytes)) => self.admit(link, &bytes),
                Ok(None) if since.elapsed() < self.join_timeout => still.push((link, since)),
                Ok(None) => refuse(&mut link, "no join within the session timeout"),
                Err(_) => {}
            }
        }
        self.pending = still;
        let mut gone = Vec::new();
        for (name, j) in self.joins.iter_mut() {
            match j.link.try_recv() {
                Ok(None) => {}
                Ok(Some(_)) => {
                    refuse(&mut j.link, "unexpected message before the session started");
                    gone.push(name.clone());
                }
                Err(_) => gone.push(name.clone()),
            }
        }
        for name in gone {
            self.joins.remove(&name);
        }
        Ok(())
    }

    /// Handles a client's first message: a join for a query that names it. A newer join from
    /// the same client replaces the older one (whose run has ended or moved on).
    fn admit(&mut self, mut link: ClientLink, bytes: &[u8]) {
        let name = link.peer_name().to_string();
        let peer = link.peer().clone();
        let checked = (|| {
            let Control::Join {
                version,
                query,
                nonce,
            } = decode_control(bytes, &peer)?
            else {
                return Err(MpcError::Malformed {
                    peer: peer.clone(),
                    reason: "expected a join".into(),
                });
            };
            if version != PROTOCOL_VERSION {
                return Err(MpcError::Config(format!(
                    "protocol version {version}, this party speaks {PROTOCOL_VERSION}"
                )));
            }
            let nonce = parse_hex32(&nonce).ok_or_else(|| MpcError::Malformed {
                peer: peer.clone(),
                reason: "join nonce is not 64 hex digits".into(),
            })?;
            query.check()?;
            if !query.participants().contains(&&name) {
                return Err(MpcError::Config(format!(
                    "{name} is not named by the query"
                )));
            }
            Ok((query, nonce))
        })();
        match checked {
            Ok((query, nonce)) => {
                if let Some(mut old) = self.joins.remove(&name) {
                    refuse(
                        &mut old.link,
                        "superseded by a newer join from the same client",
                    );
                }
                let digest = query.digest();
                self.joins.insert(
                    name,
                    Join {
                        link,
                        query,
                        digest,
                        nonce,
                        at: Instant::now(),
                    },
                );
            }
            Err(e) => refuse(&mut link, &e.to_string()),
        }
    }

    /// Drops the joins a peer aborted (same client and nonce), telling those clients.
    fn drop_aborted(&mut self, a: &PeerAbort) {
        let hit: Vec<String> = self
            .joins
            .iter()
            .filter(|(n, j)| a.view.joins.get(*n) == Some(&j.nonce))
            .map(|(n, _)| n.clone())
            .collect();
        let e = MpcError::Aborted {
            peer: Peer::Party(a.peer),
            reason: a.reason.clone(),
        };
        self.fail(&hit, &e);
    }

    /// Tells the named joins `e` and drops them.
    fn fail(&mut self, names: &[String], e: &MpcError) {
        let mut links = Vec::new();
        for n in names {
            if let Some(mut j) = self.joins.remove(n) {
                refuse(&mut j.link, &e.to_string());
                links.push(j.link);
            }
        }
        close_all(links);
    }

    /// The next thing the pool decides: a contested set of queries (refused once every
    /// participant they name has joined), an expired session, or a complete one.
    fn next(&mut self) -> Option<Next> {
        let mut groups: BTreeMap<[u8; 32], Vec<String>> = BTreeMap::new();
        for (n, j) in &self.joins {
            groups.entry(j.digest).or_default().push(n.clone());
        }
        if let Some(e) = self.contest(&groups) {
            return Some(Next::Failed(e));
        }
        // Party 0 proposes which complete session runs; the others follow its proposal once
        // they hold every join it names (so two sessions completing at once cannot cross).
        let leader = self.config.id == 0;
        if !leader
            && let Some(v) = self.mesh.as_ref().and_then(|m| m.hello_from(0))
            && v.joins
                .keys()
                .all(|n| self.joins.get(n).is_some_and(|j| j.digest == v.query))
        {
            return Some(Next::Run(v.joins.keys().cloned().collect()));
        }
        for (digest, members) in &groups {
            let query = &self.joins[&members[0]].query;
            let missing: Vec<String> = query
                .participants()
                .into_iter()
                .filter(|p| self.joins.get(*p).is_none_or(|j| j.digest != *digest))
                .cloned()
                .collect();
            if missing.is_empty() && leader {
                return Some(Next::Run(members.clone()));
            }
            let first = members.iter().map(|m| self.joins[m].at).min().expect("one");
            if first.elapsed() >= self.join_timeout {
                let e = MpcError::Incomplete {
                    secs: self.join_timeout.as_secs(),
                    missing,
                };
                let members = members.clone();
                self.fail(&members, &e);
                return Some(Next::Failed(e));
            }
        }
        None
    }

    /// Two joins conflict when their queries differ and each names the other's sender: they
    /// claim the same session and disagree on it. A connected set of conflicts is refused when
    /// every participant its queries name has joined; each client learns which participants
    /// of its query joined with another one.
    fn contest(&mut self, groups: &BTreeMap<[u8; 32], Vec<String>>) -> Option<MpcError> {
        let digests: Vec<[u8; 32]> = groups.keys().copied().collect();
        let names = |d: &[u8; 32]| &groups[d];
        let conflict = |x: &[u8; 32], y: &[u8; 32]| {
            let (qx, qy) = (
                &self.joins[&names(x)[0]].query,
                &self.joins[&names(y)[0]].query,
            );
            let px = qx.participants();
            let py = qy.participants();
            names(y).iter().any(|n| px.contains(&n)) && names(x).iter().any(|n| py.contains(&n))
        };
        // Connected components over the digests, by conflict.
        let mut seen = BTreeSet::new();
        for start in &digests {
            if seen.contains(start) {
                continue;
            }
            let mut component = vec![*start];
            seen.insert(*start);
            let mut i = 0;
            while i < component.len() {
                let cur = component[i];
                for d in &digests {
                    if !seen.contains(d) && conflict(&cur, d) {
                        seen.insert(*d);
                        component.push(*d);
                    }
                }
                i += 1;
            }
            if component.len() < 2 {
                continue;
            }
            let all_joined = component.iter().all(|d| {
                self.joins[&names(d)[0]]
                    .query
                    .participants()
                    .iter()
                    .all(|p| self.joins.contains_key(*p))
            });
            if !all_joined {
                continue;
            }
            let members: Vec<String> = component.iter().flat_map(|d| names(d).clone()).collect();
            let mut first = None;
            let mut links = Vec::new();
            for m in &members {
                let j = &self.joins[m];
                let mine = j.query.participants();
                let others: Vec<&String> = members
                    .iter()
                    .filter(|o| self.joins[*o].digest != j.digest && mine.contains(o))
                    .collect();
                let reason = others
                    .iter()
                    .map(|o| {
                        let theirs = &self.joins[*o].query;
                        if theirs.sql == j.query.sql {
                            format!(
                                "{o} joined with the same SQL but a different schema, holder \
                                 list, recipients, mode or strategy"
                            )
                        } else {
                            format!(
                                "{o} joined with a different query: {}",
                                shown(&cut_chars(&theirs.sql, SHOWN_SQL))
                            )
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let disagreeing: Vec<String> = others.iter().map(|o| o.to_string()).collect();
                first.get_or_insert_with(|| (reason.clone(), disagreeing.clone()));
                links.push((m.clone(), reason, disagreeing));
            }
            let mut closing = Vec::new();
            for (m, reason, disagreeing) in links {
                let mut j = self.joins.remove(&m).expect("member");
                let _ = send_control(
                    &mut j.link,
                    &Control::Contested {
                        reason,
                        disagreeing,
                    },
                );
                closing.push(j.link);
            }
            close_all(closing);
            let (reason, disagreeing) = first.expect("two or more members");
            return Some(MpcError::Contested {
                peer: Peer::Party(self.config.id),
                disagreeing,
                reason,
            });
        }
        None
    }

    /// Runs the complete session formed by `names`: agreement, contributions, evaluation,
    /// outputs. On failure the clients are told, and the mesh resynchronised or dropped.
    fn run(&mut self, names: Vec<String>) -> Result<SessionReport> {
        let mut joined: BTreeMap<String, Join> = names
            .iter()
            .map(|n| (n.clone(), self.joins.remove(n).expect("member")))
            .collect();
        let first = joined.values().map(|j| j.at).min().expect("one join");
        let started = Instant::now();
        let spec = joined.values().next().expect("one join").query.clone();
        let view = View {
            query: spec.digest(),
            joins: joined.iter().map(|(n, j)| (n.clone(), j.nonce)).collect(),
        };
        let deadline = (first + self.join_timeout).max(started + AGREE_GRACE);
        let mesh = self.mesh.as_mut().expect("mesh up");
        let outcome = run_session(mesh, &spec, &view, deadline, &mut joined);
        match outcome {
            Ok((id, holders, products, rounds)) => Ok(SessionReport {
                session: id,
                sql: spec.sql.clone(),
                holders,
                recipients: spec.recipients.clone(),
                products,
                rounds,
                elapsed: started.elapsed(),
            }),
            Err(e) => {
                // Clients first (queued at once), then the peers, then the links' linger.
                let mut links = Vec::new();
                for (_, mut j) in joined {
                    refuse(&mut j.link, &e.to_string());
                    links.push(j.link);
                }
                self.resync(&view, &e);
                close_all(links);
                Err(e)
            }
        }
    }

    /// After a failed session: abort it at the peers and wait for the mesh to be clean, or
    /// drop the mesh (rebuilt by the next [`PartyService::serve`]) when a party is gone.
    fn resync(&mut self, view: &View, e: &MpcError) {
        let Some(mesh) = self.mesh.as_mut() else {
            return;
        };
        let reason = e.to_string();
        let party_gone = matches!(
            e,
            MpcError::Timeout { peer, .. } | MpcError::Disconnected { peer, .. } if peer.is_party()
        );
        if party_gone {
            mesh.abort_and_leave(view, &reason);
            self.mesh = None;
            return;
        }
        match mesh.abort(view, &reason, ABORT_WAIT) {
            Ok(aborts) => {
                for a in aborts {
                    self.drop_aborted(&a);
                }
            }
            Err(_) => self.mesh = None,
        }
    }
}

/// Sends `Error` to a client (best effort: it may be gone).
fn refuse(link: &mut ClientLink, reason: &str) {
    let _ = send_control(
        link,
        &Control::Error {
            reason: reason.to_string(),
        },
    );
}

/// Closes client links with one shared linger.
fn close_all(links: Vec<ClientLink>) {
    crate::transport::tls::close_clients(links);
}

fn cut_chars(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).chain("…".chars()).collect()
    }
}

/// Holder names with their row counts, products, rounds.
type Ran = (SessionId, Vec<(String, u64)>, u64, u64);

fn run_session(
    mesh: &mut SessionMesh<TlsTransport>,
    spec: &QuerySpec,
    view: &View,
    deadline: Instant,
    joined: &mut BTreeMap<String, Join>,
) -> Result<Ran> {
    let (schema, plan) = spec.check()?;
    // 1. The parties agree on the session before any share moves.
    let id = mesh.agree(view, deadline, || {
        for (name, j) in joined.iter_mut() {
            match j.link.try_recv() {
                Ok(None) => {}
                Ok(Some(_)) => {
                    return Err(MpcError::Malformed {
                        peer: Peer::Client(name.clone()),
                        reason: "a message before the session was announced".into(),
                    });
                }
                Err(_) => {
                    return Err(MpcError::Disconnected {
                        peer: Peer::Client(name.clone()),
                        reason: "left before the session started".into(),
                    });
                }
            }
        }
        Ok(())
    })?;
    // 2. Every participant learns the session and the joins it is derived from.
    let joins: Vec<(String, String)> = view
        .joins
        .iter()
        .map(|(n, nonce)| (n.clone(), hex(nonce)))
        .collect();
    for j in joined.values_mut() {
        send_control(
            &mut j.link,
            &Control::Session {
                session: id.to_hex(),
                joins: joins.clone(),
            },
        )?;
    }
    // 3. Contributions, bound to the session.
    let mut contributions = Vec::with_capacity(spec.holders.len());
    for h in &spec.holders {
        let link = &mut joined.get_mut(h).expect("holder joined").link;
        contributions.push(receive_contribution(mesh, link, &id, spec, &schema, &plan)?);
    }
    // 4. The parties agree on every holder's row count (the query is in the session id).
    let mut net = mesh.session(id);
    let mut h = Sha256::new();
    h.update(id.as_bytes());
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
            return Err(MpcError::SessionMismatch {
                peer: Peer::Party(j),
                reason: "it received different row counts from the holders".into(),
            });
        }
    }
    // 5. Evaluate and send each recipient its output share.
    let holder_rows: Vec<u64> = contributions.iter().map(|c| c.rows).collect();
    let rows = holder_rows
        .iter()
        .try_fold(0usize, |acc, &r| acc.checked_add(usize::try_from(r).ok()?))
        .ok_or_else(|| MpcError::Input("the holders' row counts overflow".into()))?;
    check_ranges(&plan, &schema, rows)?;
    let table = SharedTable::new(&plan, &schema, spec.strategy, &contributions)?;
    drop(contributions);
    let mut party = Party::in_session(&mut net, spec.mode, id.as_bytes())?;
    let out = evaluate(&mut party, &plan, &schema, &table)?;
    let (products, rounds) = (party.products, party.rounds);
    // The session is done at every party: what follows is delivery, best effort (a client
    // that left misses its output; nothing is left to abort).
    let frame = encode_shares(&id, &out);
    for r in &spec.recipients {
        let link = &mut joined.get_mut(r).expect("recipient joined").link;
        let _ = send_control(
            link,
            &Control::Output {
                session: id.to_hex(),
                words: out.len() as u64,
            },
        )
        .and_then(|()| link.send(frame.clone()));
    }
    let mut links = Vec::new();
    for (_, mut j) in std::mem::take(joined) {
        let _ = send_control(
            &mut j.link,
            &Control::Done {
                session: id.to_hex(),
            },
        );
        links.push(j.link);
    }
    close_all(links);
    let holders = spec
        .holders
        .iter()
        .zip(holder_rows)
        .map(|(h, n)| (h.clone(), n))
        .collect();
    Ok((id, holders, products, rounds))
}

/// The next frame from a client, waiting at most the link's timeout while keeping the mesh
/// alive (the peers wait on this party meanwhile, and must not take a slow holder for a dead
/// party) and watching it for a peer's abort.
fn recv_pinging(mesh: &mut SessionMesh<TlsTransport>, link: &mut ClientLink) -> Result<Vec<u8>> {
    let deadline = Instant::now() + link.timeout();
    loop {
        if let Some(bytes) = link.try_recv()? {
            return Ok(bytes);
        }
        if Instant::now() >= deadline {
            return Err(MpcError::Timeout {
                peer: link.peer().clone(),
                secs: link.timeout().as_secs().max(1),
            });
        }
        mesh.keepalive()?;
        mesh.check_aborted()?;
        std::thread::sleep(POLL);
    }
}

/// A holder's contribution for session `id`: a header naming the session, then its frames.
fn receive_contribution(
    mesh: &mut SessionMesh<TlsTransport>,
    link: &mut ClientLink,
    id: &SessionId,
    spec: &QuerySpec,
    schema: &Schema,
    plan: &Plan,
) -> Result<Contribution> {
    let name = link.peer_name().to_string();
    let peer = link.peer().clone();
    let Control::Contribution {
        session,
        rows,
        vectors,
    } = decode_control(&recv_pinging(mesh, link)?, &peer)?
    else {
        return Err(MpcError::Malformed {
            peer,
            reason: "expected a contribution".into(),
        });
    };
    check_session(&session, id, &peer)?;
    let rows_usize = usize::try_from(rows).map_err(|_| MpcError::Input(format!("{rows} rows")))?;
    let want = crate::query::expected_lengths(plan, schema, spec.strategy, rows_usize);
    if vectors as usize != want.len() {
        return Err(MpcError::Input(format!(
            "{name}: {vectors} vectors where the query needs {}",
            want.len()
        )));
    }
    let mut columns = Vec::with_capacity(want.len());
    for len in want {
        let bytes = recv_pinging(mesh, link)?;
        columns.push(decode_shares(id, &bytes, len, &peer)?);
    }
    let c = Contribution { rows, columns };
    check_contribution(plan, schema, spec.strategy, &c)?;
    Ok(c)
}
