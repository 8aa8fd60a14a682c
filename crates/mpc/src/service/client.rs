//! A client's side of a session: join at all three parties, check the session they announce,
//! contribute, and reconstruct the output.

use std::thread;
use std::time::{Duration, Instant};

use rand::RngCore;
use trustspace_data::Record;

use super::session::{POLL, SessionId, View, hex, parse_hex32};
use super::wire::{
    Control, check_session, decode_control, decode_shares, encode_shares, send_control,
};
use super::{PROTOCOL_VERSION, QuerySpec};
use crate::error::{MpcError, Peer, Result};
use crate::query::{QueryResult, contribute, format, open_output};
use crate::share::Shares;
use crate::transport::PARTIES;
use crate::transport::tls::{ClientLink, ClientLinkConfig};

/// A client's side of a session: joins the query at all three parties, contributes `rows` if
/// the client is a holder, and returns the result if it is a recipient (`None` otherwise).
///
/// The client's name is the one in its certificate ([`ClientLinkConfig::name`]). It joins with
/// a fresh nonce, and contributes only after all three parties announced the same session,
/// derived from the query and from joins that include its own; outputs must name that session
/// too. Errors name the party that refused and why: [`MpcError::Contested`] when participants
/// of this query joined with another one, [`MpcError::Remote`] for other refusals, and
/// [`MpcError::SessionMismatch`] when the parties' announcements disagree.
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
        return Err(MpcError::NotParticipant { name });
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
    let mut nonce = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut links = Vec::with_capacity(PARTIES);
    for i in 0..PARTIES {
        let mut link = ClientLink::connect(config, i)?;
        send_control(
            &mut link,
            &Control::Join {
                version: PROTOCOL_VERSION,
                query: spec.clone(),
                nonce: hex(&nonce),
            },
        )?;
        links.push(link);
    }
    let wait = links[0].timeout();
    let id = check_announcements(first_from_each(&mut links, wait)?, spec, &name, &nonce)?;
    if let Some(parts) = parts {
        for ((link, c), i) in links.iter_mut().zip(parts).zip(0..) {
            send_control(
                link,
                &Control::Contribution {
                    session: id.to_hex(),
                    rows: c.rows,
                    vectors: u32::try_from(c.columns.len())
                        .map_err(|_| MpcError::Input(format!("too many vectors for party-{i}")))?,
                },
            )?;
            for v in &c.columns {
                link.send(encode_shares(&id, v))?;
            }
        }
    }
    let mut outputs = Vec::with_capacity(PARTIES);
    let mut finals = first_from_each(&mut links, wait)?;
    if recipient {
        for (i, (link, c)) in links.iter_mut().zip(&finals).enumerate() {
            let peer = Peer::Party(i);
            let Control::Output { session, words } = c else {
                return Err(MpcError::Malformed {
                    peer,
                    reason: format!("expected the output share, got {}", kind(c)),
                });
            };
            check_session(session, &id, &peer)?;
            let len = usize::try_from(*words).map_err(|_| MpcError::Malformed {
                peer: peer.clone(),
                reason: "output length".into(),
            })?;
            let bytes = link.recv()?;
            outputs.push(decode_shares(&id, &bytes, len, &peer)?);
        }
        finals = first_from_each(&mut links, wait)?;
    }
    for (i, c) in finals.iter().enumerate() {
        match c {
            Control::Done { session } => check_session(session, &id, &Peer::Party(i))?,
            other => {
                return Err(MpcError::Malformed {
                    peer: Peer::Party(i),
                    reason: format!("expected the end of the session, got {}", kind(other)),
                });
            }
        }
    }
    if !recipient {
        return Ok(None);
    }
    let shares: [Shares; 3] = outputs.try_into().expect("three outputs");
    let opened = open_output(&plan, &schema, &shares)?;
    Ok(Some(format(&plan, &schema, &opened)?))
}

/// The message's kind, for errors (never its untrusted contents).
fn kind(c: &Control) -> &'static str {
    match c {
        Control::Join { .. } => "a join",
        Control::Session { .. } => "a session announcement",
        Control::Contribution { .. } => "a contribution",
        Control::Output { .. } => "an output share",
        Control::Done { .. } => "the end of the session",
        Control::Contested { .. } => "a contest",
        Control::Error { .. } => "an error",
    }
}

/// Waits for the next control message from every link, in whatever order they come, and fails
/// at once on the first refusal (so a client learns of a contested or failed session from
/// whichever party says so first).
fn first_from_each(links: &mut [ClientLink], wait: Duration) -> Result<Vec<Control>> {
    let deadline = Instant::now() + wait;
    let mut got: Vec<Option<Control>> = links.iter().map(|_| None).collect();
    while got.iter().any(Option::is_none) {
        let mut progressed = false;
        for (i, link) in links.iter_mut().enumerate() {
            if got[i].is_some() {
                continue;
            }
            let Some(bytes) = link.try_recv()? else {
                continue;
            };
            progressed = true;
            match decode_control(&bytes, &Peer::Party(i))? {
                Control::Error { reason } => {
                    return Err(MpcError::Remote {
                        peer: Peer::Party(i),
                        reason,
                    });
                }
                Control::Contested {
                    reason,
                    disagreeing,
                } => {
                    return Err(MpcError::Contested {
                        peer: Peer::Party(i),
                        disagreeing,
                        reason,
                    });
                }
                other => got[i] = Some(other),
            }
        }
        if !progressed {
            if Instant::now() >= deadline {
                let late = got.iter().position(Option::is_none).expect("one missing");
                return Err(MpcError::Timeout {
                    peer: Peer::Party(late),
                    secs: wait.as_secs().max(1),
                });
            }
            thread::sleep(POLL);
        }
    }
    Ok(got.into_iter().map(|c| c.expect("all in")).collect())
}

/// Checks the three parties' session announcements: one session, derived from this query and
/// from joins that include this client's own nonce.
fn check_announcements(
    got: Vec<Control>,
    spec: &QuerySpec,
    name: &str,
    nonce: &[u8; 32],
) -> Result<SessionId> {
    let mut agreed: Option<(SessionId, Vec<(String, String)>)> = None;
    for (i, c) in got.into_iter().enumerate() {
        let peer = Peer::Party(i);
        let mismatch = |reason: String| MpcError::SessionMismatch {
            peer: peer.clone(),
            reason,
        };
        let Control::Session { session, joins } = c else {
            return Err(MpcError::Malformed {
                peer: peer.clone(),
                reason: format!("expected the session announcement, got {}", kind(&c)),
            });
        };
        let mut view = View {
            query: spec.digest(),
            ..View::default()
        };
        for (n, h) in &joins {
            let parsed =
                parse_hex32(h).ok_or_else(|| mismatch("a join nonce that is not hex".into()))?;
            if view.joins.insert(n.clone(), parsed).is_some() {
                return Err(mismatch("a participant listed twice".into()));
            }
        }
        let named: std::collections::BTreeSet<&String> = spec.participants().into_iter().collect();
        if !view.joins.keys().eq(named.iter().copied()) {
            return Err(mismatch(
                "the announced joins are not exactly the query's participants".into(),
            ));
        }
        let id = view.id();
        if SessionId::from_hex(&session) != Some(id) {
            return Err(mismatch(
                "the announced session is not derived from this query and the listed joins".into(),
            ));
        }
        if view.joins.get(name) != Some(nonce) {
            return Err(mismatch(format!(
                "the session does not include this run's join of {name}"
            )));
        }
        match &agreed {
            None => agreed = Some((id, joins)),
            Some((first, _)) if *first != id => {
                return Err(mismatch(format!(
                    "announced session {id} where party-0 announced {first}"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(agreed.expect("three announcements").0)
}
