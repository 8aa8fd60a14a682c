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
//!
//! Both sides are pure functions wrapped around the network: [`route`] answers a request
//! (method, URL, body) from a [`LedgerView`], and [`read_answer`] reads an answer (status, body)
//! as the client expects it, so both are tested and fuzzed without sockets.

use serde::de::DeserializeOwned;
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
    serve_with(
        Arc::new(move |method: &str, url: &str, body: &[u8]| route(&*ledger, method, url, body)),
        addr,
        threads,
    )
}

/// A request handler: method, URL and body in, the answer out (e.g. [`route`]).
pub type Handler = Arc<dyn Fn(&str, &str, &[u8]) -> Response + Send + Sync>;

/// Serves `handler` on `addr` with `threads` worker threads: the network around a pure
/// request handler (the ledger's [`route`], a validator's [`crate::replica::route`]).
pub fn serve_with(handler: Handler, addr: &str, threads: usize) -> Result<Service> {
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
            let handler = handler.clone();
            std::thread::spawn(move || {
                while let Ok(req) = server.recv() {
                    handle(&*handler, req);
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

/// What the service answers to a request it served, before it is encoded as JSON: one variant
/// per endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `GET /v1/checkpoint`.
    Checkpoint(CosignedCheckpoint),
    /// `GET /v1/entry/{index}`.
    Entry(IndexedEntry),
    /// `GET /v1/find/{key}`.
    Found(Found),
    /// `POST /v1/audit`.
    Audit(Audit),
    /// `POST /v1/append`.
    Receipt(Receipt),
}

impl Answer {
    /// The JSON body the service sends.
    pub fn to_json(&self) -> Vec<u8> {
        let encoded = match self {
            Answer::Checkpoint(c) => serde_json::to_vec(c),
            Answer::Entry(e) => serde_json::to_vec(e),
            Answer::Found(f) => serde_json::to_vec(f),
            Answer::Audit(a) => serde_json::to_vec(a),
            Answer::Receipt(r) => serde_json::to_vec(r),
        };
        encoded.expect("plain data serializes")
    }
}

/// An HTTP answer of the service: its status and JSON body ([`Answer::to_json`] or
/// [`ErrorBody`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status: 200, or the error's [`status_of`].
    pub status: u16,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl Response {
    /// The answer to a request: 200 and the value, or the error's status and [`ErrorBody`].
    pub fn from_result(result: &Result<Answer>) -> Response {
        match result {
            Ok(answer) => Response {
                status: 200,
                body: answer.to_json(),
            },
            Err(e) => Response::error(e),
        }
    }

    /// The error answer for `e`: its [`status_of`] and an [`ErrorBody`] with its message and
    /// [`ErrorCode`].
    pub fn error(e: &LedgerError) -> Response {
        let body = ErrorBody {
            error: e.to_string(),
            code: Some(e.code().name()),
        };
        Response {
            status: status_of(e),
            body: serde_json::to_vec(&body).expect("plain data serializes"),
        }
    }
}

/// The HTTP status the service answers an error with: 404 for an entry beyond the log, 500 for
/// its own store's failures, 400 for everything the request got wrong.
pub fn status_of(e: &LedgerError) -> u16 {
    match e {
        LedgerError::NoSuchEntry { .. } => 404,
        LedgerError::Store { .. } | LedgerError::Io { .. } => 500,
        _ => 400,
    }
}

/// The service's request handling as a pure function of the request (method, URL, body) and
/// the ledger: what [`serve`]'s workers answer, without the network, so it is tested and
/// fuzzed directly.
pub fn route(ledger: &dyn LedgerView, method: &str, url: &str, body: &[u8]) -> Response {
    Response::from_result(&answer(ledger, method, url, body))
}

/// The value [`route`] answers a request with, or the error it answers with.
pub fn answer(ledger: &dyn LedgerView, method: &str, url: &str, body: &[u8]) -> Result<Answer> {
    let parts: Vec<&str> = url.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["v1", "checkpoint"]) => ledger.checkpoint().map(Answer::Checkpoint),
        ("GET", ["v1", "entry", i]) => {
            let index = i
                .parse::<u64>()
                .map_err(|_| LedgerError::malformed("entry index", "not a number"))?;
            Ok(Answer::Entry(IndexedEntry {
                index,
                entry: ledger.entry(index)?.to_hex()?,
            }))
        }
        ("GET", ["v1", "find", k]) => {
            let key = parse_key(k)?;
            Ok(Answer::Found(Found {
                index: ledger.find(&key)?,
            }))
        }
        ("POST", ["v1", "audit"]) => {
            let a: AuditRequest = parse_request(body)?;
            if a.indices.len() > MAX_AUDIT {
                return Err(LedgerError::Refused(Refusal::TooManyIndices {
                    max: MAX_AUDIT,
                }));
            }
            ledger.audit(&a.indices, a.from).map(Answer::Audit)
        }
        ("POST", ["v1", "append"]) => {
            let a: AppendRequest = parse_request(body)?;
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
            ledger.append(entries).map(Answer::Receipt)
        }
        _ => Err(LedgerError::Refused(Refusal::NoSuchEndpoint {
            url: url.to_string(),
        })),
    }
}

/// Decodes a request body (at most [`MAX_BODY`] bytes of JSON).
pub(crate) fn parse_request<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    if body.len() as u64 > MAX_BODY {
        return Err(LedgerError::malformed(
            "request",
            "body over the size limit",
        ));
    }
    serde_json::from_slice(body).map_err(|e| LedgerError::malformed("request", e.to_string()))
}

/// Reads a request's body, at most one byte over [`MAX_BODY`] (so [`route`] sees it is over).
fn read_body(req: &mut tiny_http::Request) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    req.as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| LedgerError::malformed("request", e.to_string()))?;
    Ok(body)
}

/// Adapts a handler to tiny_http: reads the request, answers it.
fn handle(
    handler: &(dyn Fn(&str, &str, &[u8]) -> Response + Send + Sync),
    mut req: tiny_http::Request,
) {
    let response = match read_body(&mut req) {
        Ok(body) => handler(req.method().as_str(), req.url(), &body),
        Err(e) => Response::error(&e),
    };
    let header =
        tiny_http::Header::from_bytes("Content-Type", "application/json").expect("valid header");
    let _ = req.respond(
        tiny_http::Response::from_data(response.body)
            .with_status_code(response.status)
            .with_header(header),
    );
}

fn parse_key(k: &str) -> Result<EntryKey> {
    let mut b = [0u8; 33];
    hex::decode_to_slice(k, &mut b)
        .map_err(|_| LedgerError::malformed("entry key", "expected 66 hex digits"))?;
    EntryKey::from_bytes(&b)
}

/// Reads a service's answer (its HTTP status and body) as the value a request expects: the
/// client's side of [`route`], a pure function so that what a lying or broken service may send
/// is tested and fuzzed without a network. An error status is a [`RemoteCause::Status`]
/// carrying the service's message and [`ErrorCode`]; a body that is not the expected value is a
/// [`RemoteCause::BadAnswer`]. `url` names the service in errors.
pub fn read_answer<T: DeserializeOwned>(url: &str, status: u16, body: &[u8]) -> Result<T> {
    // The service's text is its own: escaped before it can reach a terminal.
    let err = |cause: RemoteCause, reason: String| LedgerError::Remote {
        url: url.to_string(),
        cause,
        reason: trustspace_data::error::escape_untrusted(&reason),
    };
    if !(200..300).contains(&status) {
        let (msg, code) = match serde_json::from_slice::<ErrorBody>(body) {
            Ok(b) => (b.error, b.code.as_deref().and_then(ErrorCode::parse)),
            Err(_) => match ureq::http::StatusCode::from_u16(status) {
                Ok(s) => (format!("HTTP {s}"), None),
                Err(_) => (format!("HTTP {status}"), None),
            },
        };
        return Err(err(RemoteCause::Status { status, code }, msg));
    }
    serde_json::from_slice(body)
        .map_err(|e| err(RemoteCause::BadAnswer, format!("malformed answer: {e}")))
}

/// Reads the answer to `GET /v1/entry/{index}` ([`read_answer`]): the entry, which must be the
/// one at `index` and decode strictly ([`Entry::from_hex`]).
pub fn read_entry_answer(url: &str, index: u64, status: u16, body: &[u8]) -> Result<Entry> {
    let e: IndexedEntry = read_answer(url, status, body)?;
    if e.index != index {
        return Err(LedgerError::Remote {
            url: url.to_string(),
            cause: RemoteCause::BadAnswer,
            reason: "answered with another entry".into(),
        });
    }
    Entry::from_hex(&e.entry)
}

/// A ledger reached over HTTP; every call has a timeout.
pub struct RemoteLedger(Client);

/// An HTTP/JSON client of one service with a timeout on every call: the ledger's
/// ([`RemoteLedger`]) or a validator's ([`crate::replica::RemoteValidator`]).
pub(crate) struct Client {
    pub(crate) url: String,
    agent: ureq::Agent,
}

impl RemoteLedger {
    /// A client for the service at `url` (e.g. `http://127.0.0.1:7800`).
    pub fn new(url: &str, timeout: Duration) -> RemoteLedger {
        RemoteLedger(Client::new(url, timeout))
    }
}

impl Client {
    /// A client for the service at `url`.
    pub(crate) fn new(url: &str, timeout: Duration) -> Client {
        Client::with(url, timeout, true)
    }

    /// A client for the service at `url` that opens a connection per request: a peer that
    /// restarted or went away is found so at once, not through a stale pooled connection.
    pub(crate) fn unpooled(url: &str, timeout: Duration) -> Client {
        Client::with(url, timeout, false)
    }

    fn with(url: &str, timeout: Duration, pooled: bool) -> Client {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false);
        if !pooled {
            config = config.max_idle_connections(0);
        }
        Client {
            url: url.trim_end_matches('/').to_string(),
            agent: config.build().into(),
        }
    }

    fn err(&self, cause: RemoteCause, reason: impl ToString) -> LedgerError {
        LedgerError::Remote {
            url: self.url.clone(),
            cause,
            reason: reason.to_string(),
        }
    }

    /// Sends a request and returns the answer's status and body (bounded by [`MAX_BODY`]).
    fn exchange(
        &self,
        resp: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, Vec<u8>)> {
        let mut resp = resp.map_err(|e| self.err(RemoteCause::Transport, e))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| self.err(RemoteCause::Transport, e))?;
        Ok((status, body))
    }

    pub(crate) fn get_raw(&self, path: &str) -> Result<(u16, Vec<u8>)> {
        self.exchange(self.agent.get(format!("{}{path}", self.url)).call())
    }

    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let (status, body) = self.get_raw(path)?;
        read_answer(&self.url, status, &body)
    }

    pub(crate) fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let (status, body) = self.exchange(
            self.agent
                .post(format!("{}{path}", self.url))
                .send_json(body),
        )?;
        read_answer(&self.url, status, &body)
    }
}

impl LedgerView for RemoteLedger {
    fn checkpoint(&self) -> Result<CosignedCheckpoint> {
        self.0.get("/v1/checkpoint")
    }

    fn entry(&self, index: u64) -> Result<Entry> {
        let (status, body) = self.0.get_raw(&format!("/v1/entry/{index}"))?;
        read_entry_answer(&self.0.url, index, status, &body)
    }

    fn find(&self, key: &EntryKey) -> Result<Option<u64>> {
        let f: Found = self
            .0
            .get(&format!("/v1/find/{}", hex::encode(key.to_bytes())))?;
        Ok(f.index)
    }

    fn audit(&self, indices: &[u64], from: Option<u64>) -> Result<Audit> {
        self.0.post(
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
        self.0.post("/v1/append", &AppendRequest { entries })
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
