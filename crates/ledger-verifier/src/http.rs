//! The ledger as a small HTTP/JSON service, so several organisations' processes share one, and
//! [`RemoteLedger`], the client that gives it the same [`LedgerView`] API as the embedded ledger.
//!
//! Nothing the service returns is trusted: the verifier checks checkpoints against its own
//! [`crate::LedgerConfig`] and everything else against a checkpoint.
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | GET | `/v1/checkpoint` | | [`CosignedCheckpoint`] |
//! | GET | `/v1/entry/{index}` | | [`IndexedEntry`] |
//! | GET | `/v1/find/{key hex}` | | `{"index": n or null}` |
//! | POST | `/v1/audit` | `{"indices": [...], "from": n?}` | [`Audit`] |
//! | POST | `/v1/append` | `{"entries": [hex, ...]}` | [`Receipt`] |
//!
//! Errors answer with a 4xx/5xx status and [`ErrorBody`], `{"error": "...", "code": "..."}`:
//! the message, and the [`ErrorCode`] a client branches on (see [`RemoteCause::Status`]).

use serde::{Deserialize, Serialize};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::entry::{Entry, EntryKey, IndexedEntry};
use crate::error::{ErrorCode, LedgerError, Refusal, RemoteCause, Result};
use crate::log::CosignedCheckpoint;
use crate::view::{Audit, LedgerView, Receipt};

/// Largest request or response body, bytes.
pub const MAX_BODY: u64 = 32 << 20;
/// Most entries per HTTP append.
pub const MAX_HTTP_BATCH: usize = 1000;
/// Most indices per audit.
pub const MAX_AUDIT: usize = 64;

/// The body of `POST /v1/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    /// Entries to prove included.
    pub indices: Vec<u64>,
    /// An older size to prove consistency from.
    #[serde(default)]
    pub from: Option<u64>,
}

/// The body of `POST /v1/append`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendRequest {
    /// Entries' canonical encodings, hex.
    pub entries: Vec<String>,
}

/// The answer to `GET /v1/find/{key}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// The entry's index, `null` if no entry has the key.
    pub index: Option<u64>,
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error's message.
    pub error: String,
    /// The error's [`ErrorCode`] (absent from services older than the code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A running ledger service; stops when dropped.
pub struct Service {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

impl Service {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Blocks until the service stops (it runs until the process ends).
    pub fn wait(mut self) {
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        for _ in 0..self.workers.len() {
            self.server.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Serves `ledger` on `addr` (e.g. `127.0.0.1:0` for any free loopback port) with `threads`
/// worker threads.
pub fn serve<L: LedgerView + Send + Sync + 'static>(
    ledger: Arc<L>,
    addr: &str,
    threads: usize,
) -> Result<Service> {
    let server = tiny_http::Server::http(addr).map_err(|e| LedgerError::Remote {
        url: addr.to_string(),
        cause: RemoteCause::Listen,
        reason: format!("cannot listen: {e}"),
    })?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| LedgerError::Remote {
            url: addr.to_string(),
            cause: RemoteCause::Listen,
            reason: "not an IP address".into(),
        })?;
    let server = Arc::new(server);
    let workers = (0..threads.max(1))
        .map(|_| {
            let server = server.clone();
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                while let Ok(req) = server.recv() {
                    handle(&*ledger, req);
                }
            })
        })
        .collect();
    Ok(Service {
        server,
        addr: bound,
        workers,
    })
}

fn respond<T: Serialize>(req: tiny_http::Request, result: Result<T>) {
    let (status, body) = match result {
        Ok(v) => (200, serde_json::to_vec(&v).expect("serializable")),
        Err(e) => {
            let status = match &e {
                LedgerError::NoSuchEntry { .. } => 404,
                LedgerError::Store { .. } | LedgerError::Io { .. } => 500,
                _ => 400,
            };
            let body = ErrorBody {
                error: e.to_string(),
                code: Some(e.code().name()),
            };
            (status, serde_json::to_vec(&body).expect("serializable"))
        }
    };
    let header =
        tiny_http::Header::from_bytes("Content-Type", "application/json").expect("valid header");
    let _ = req.respond(
        tiny_http::Response::from_data(body)
            .with_status_code(status)
            .with_header(header),
    );
}

fn read_json<T: for<'de> Deserialize<'de>>(req: &mut tiny_http::Request) -> Result<T> {
    let mut body = Vec::new();
    req.as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| LedgerError::malformed("request", e.to_string()))?;
    if body.len() as u64 > MAX_BODY {
        return Err(LedgerError::malformed(
            "request",
            "body over the size limit",
        ));
    }
    serde_json::from_slice(&body).map_err(|e| LedgerError::malformed("request", e.to_string()))
}

fn handle(ledger: &dyn LedgerView, mut req: tiny_http::Request) {
    let url = req.url().to_string();
    let parts: Vec<&str> = url.trim_start_matches('/').split('/').collect();
    match (req.method(), parts.as_slice()) {
        (tiny_http::Method::Get, ["v1", "checkpoint"]) => respond(req, ledger.checkpoint()),
        (tiny_http::Method::Get, ["v1", "entry", i]) => {
            let r = i
                .parse::<u64>()
                .map_err(|_| LedgerError::malformed("entry index", "not a number"))
                .and_then(|index| {
                    Ok(IndexedEntry {
                        index,
                        entry: ledger.entry(index)?.to_hex()?,
                    })
                });
            respond(req, r)
        }
        (tiny_http::Method::Get, ["v1", "find", k]) => {
            let r = parse_key(k).and_then(|key| {
                Ok(Found {
                    index: ledger.find(&key)?,
                })
            });
            respond(req, r)
        }
        (tiny_http::Method::Post, ["v1", "audit"]) => {
            let r = read_json::<AuditRequest>(&mut req).and_then(|a| {
                if a.indices.len() > MAX_AUDIT {
                    return Err(LedgerError::Refused(Refusal::TooManyIndices {
                        max: MAX_AUDIT,
                    }));
                }
                ledger.audit(&a.indices, a.from)
            });
            respond(req, r)
        }
        (tiny_http::Method::Post, ["v1", "append"]) => {
            let r = read_json::<AppendRequest>(&mut req).and_then(|a| {
                if a.entries.len() > MAX_HTTP_BATCH {
                    return Err(LedgerError::Refused(Refusal::TooManyEntries {
                        max: MAX_HTTP_BATCH,
                    }));
                }
                let entries = a
                    .entries
                    .iter()
                    .map(|h| Entry::from_hex(h))
                    .collect::<Result<Vec<_>>>()?;
                ledger.append(entries)
            });
            respond(req, r)
        }
        _ => respond::<()>(
            req,
            Err(LedgerError::Refused(Refusal::NoSuchEndpoint { url })),
        ),
    }
}

fn parse_key(k: &str) -> Result<EntryKey> {
    let mut b = [0u8; 33];
    hex::decode_to_slice(k, &mut b)
        .map_err(|_| LedgerError::malformed("entry key", "expected 66 hex digits"))?;
    EntryKey::from_bytes(&b)
}

/// A ledger reached over HTTP; every call has a timeout.
pub struct RemoteLedger {
    url: String,
    agent: ureq::Agent,
}

impl RemoteLedger {
    /// A client for the service at `url` (e.g. `http://127.0.0.1:7800`).
    pub fn new(url: &str, timeout: Duration) -> RemoteLedger {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build();
        RemoteLedger {
            url: url.trim_end_matches('/').to_string(),
            agent: config.into(),
        }
    }

    fn err(&self, cause: RemoteCause, reason: impl ToString) -> LedgerError {
        LedgerError::Remote {
            url: self.url.clone(),
            cause,
            reason: reason.to_string(),
        }
    }

    fn decode<T: for<'de> Deserialize<'de>>(
        &self,
        resp: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T> {
        let mut resp = resp.map_err(|e| self.err(RemoteCause::Transport, e))?;
        let status = resp.status();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| self.err(RemoteCause::Transport, e))?;
        if !status.is_success() {
            let (msg, code) = match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(b) => (b.error, b.code.as_deref().and_then(ErrorCode::parse)),
                Err(_) => (format!("HTTP {status}"), None),
            };
            let cause = RemoteCause::Status {
                status: status.as_u16(),
                code,
            };
            return Err(self.err(cause, msg));
        }
        serde_json::from_slice(&body)
            .map_err(|e| self.err(RemoteCause::BadAnswer, format!("malformed answer: {e}")))
    }

    fn get<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T> {
        self.decode(self.agent.get(format!("{}{path}", self.url)).call())
    }

    fn post<B: Serialize, T: for<'de> Deserialize<'de>>(&self, path: &str, body: &B) -> Result<T> {
        self.decode(
            self.agent
                .post(format!("{}{path}", self.url))
                .send_json(body),
        )
    }
}

impl LedgerView for RemoteLedger {
    fn checkpoint(&self) -> Result<CosignedCheckpoint> {
        self.get("/v1/checkpoint")
    }

    fn entry(&self, index: u64) -> Result<Entry> {
        let e: IndexedEntry = self.get(&format!("/v1/entry/{index}"))?;
        if e.index != index {
            return Err(self.err(RemoteCause::BadAnswer, "answered with another entry"));
        }
        Entry::from_hex(&e.entry)
    }

    fn find(&self, key: &EntryKey) -> Result<Option<u64>> {
        let f: Found = self.get(&format!("/v1/find/{}", hex::encode(key.to_bytes())))?;
        Ok(f.index)
    }

    fn audit(&self, indices: &[u64], from: Option<u64>) -> Result<Audit> {
        self.post(
            "/v1/audit",
            &AuditRequest {
                indices: indices.to_vec(),
                from,
            },
        )
    }

    fn append(&self, entries: Vec<Entry>) -> Result<Receipt> {
        let entries = entries
            .iter()
            .map(Entry::to_hex)
            .collect::<Result<Vec<_>>>()?;
        self.post("/v1/append", &AppendRequest { entries })
    }
}

/// Opens a ledger by location: an `http://` URL is a [`RemoteLedger`], anything else a directory
/// holding an embedded [`crate::Ledger`].
pub fn open(location: &str) -> Result<Box<dyn LedgerView + Send + Sync>> {
    if location.starts_with("http://") || location.starts_with("https://") {
        Ok(Box::new(RemoteLedger::new(
            location,
            Duration::from_secs(30),
        )))
    } else {
        Ok(Box::new(crate::Ledger::open(std::path::Path::new(
            location,
        ))?))
    }
}
