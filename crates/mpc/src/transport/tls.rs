//! TCP with mutually authenticated TLS 1.3 (rustls, ring provider): one OS process per party,
//! plus client links for data holders and the query driver.
//!
//! # Key material
//!
//! [`keygen`] writes a test deployment into a directory: a consortium CA (`ca.crt`, `ca.key`),
//! `party-{i}.crt`/`party-{i}.key` for the three parties and `{name}.crt`/`{name}.key` for each
//! named client; [`add_client`] adds a client later from `ca.crt`/`ca.key`. Private keys are
//! written with mode 0600, never over an existing file, and loading refuses a key file readable
//! by group or others.
//!
//! # Identities
//!
//! A certificate names exactly one participant: its single subjectAltName DNS name (the subject
//! CN, when present, must be the same). `party-0`, `party-1`, `party-2` are the compute parties;
//! any other name (`[a-z][a-z0-9-]*`, at most 63 characters) is a client. Both sides check the
//! peer chains to the consortium CA (webpki, TLS 1.3 only). The connecting side also requires the
//! server to be valid for the DNS name `party-{i}` of the party it dialled; the listening side
//! maps the client certificate's name to a party or client and refuses unknown names, its own
//! name, parties that should be listening rather than dialling, and duplicates.
//!
//! # Mesh convention
//!
//! Every party listens on its configured address. For each pair `i < j`, party `j` dials party
//! `i` (party 0 only listens, party 2 only dials), retrying the TCP connection until the connect
//! deadline so the processes may start in any order. After the TLS handshake the listener sends
//! one frame, `ok` or `refused: <why>`, so a dialler learns at once that it was refused. A
//! certificate error on a dialled connection fails [`TlsTransport::connect`] immediately with
//! [`MpcError::Tls`] naming the party; a refused incoming connection is remembered and reported
//! (as [`MpcError::Tls`]) if the mesh is still incomplete at the deadline, so a stray connection
//! cannot abort the set-up by itself.
//!
//! The same listener accepts clients: a connection whose certificate names a client is
//! acknowledged and queued for [`TlsTransport::accept_client`] (also after the mesh is up). A
//! client opens a [`ClientLink`] to one party at a time.
//!
//! # Framing and threads
//!
//! A message is a frame: its length as a little-endian `u32`, then the bytes; a frame longer
//! than [`MAX_MESSAGE`] is refused as [`MpcError::Malformed`] and ends the connection. Each
//! connection (party link or client link) has a writer thread fed by an unbounded channel (so
//! `send` never blocks, even when both ends send large messages at once) and a reader thread that
//! decodes frames into a channel (so `recv` waits on it with the timeout: [`MpcError::Timeout`],
//! or [`MpcError::Disconnected`] once the connection is closed or failed). The rustls connection
//! state sits behind a mutex that neither thread holds while blocked on the socket: the reader
//! reads ciphertext unlocked, then locks to decrypt; the writer locks to encrypt a chunk, then
//! writes it unlocked. Only the writer writes to the socket (the reader asks it to flush TLS
//! messages such as alerts and key updates). TCP_NODELAY is set. Dropping a transport or link
//! sends `close_notify` after the queued messages, waiting for them at most [`MAX_LINGER`] (one
//! deadline for all the links of a transport, so a stalled peer cannot hold a party that has
//! decided to stop), then closes the socket.
//!
//! A lost connection is not re-established: the computation fails and is restarted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConnection, Connection, ConnectionCommon, RootCertStore, ServerConnection};
use serde::{Deserialize, Serialize};
use x509_parser::extensions::GeneralName;

use super::{MAX_MESSAGE, PARTIES, PartyId, Transport};
use crate::error::{MpcError, Result};

/// Version of the JSON configuration formats ([`PartyConfig`], [`ClientLinkConfig`]).
pub const CONFIG_VERSION: u32 = 1;

/// Largest configuration, certificate or key file read, bytes.
const MAX_FILE: u64 = 1 << 20;
/// Longest TLS handshake (and wait for the listener's acknowledgement).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait, when a connection is dropped, for its queued messages to go out (then the socket
/// is closed regardless): a party that has decided to stop does so within this time.
pub const MAX_LINGER: Duration = Duration::from_secs(1);
/// Pause between attempts to reach a party that is not listening yet.
const RETRY_PAUSE: Duration = Duration::from_millis(50);
/// Pause between polls of the non-blocking listener.
const ACCEPT_POLL: Duration = Duration::from_millis(10);
/// Socket and plaintext read buffer size.
const READ_CHUNK: usize = 64 * 1024;
/// rustls outgoing buffer limit: plaintext is encrypted and written this much at a time.
const TLS_BUFFER: usize = 256 * 1024;
/// Frames up to this size go out with their header in one TLS write (one record).
const COALESCE: usize = 64 * 1024;
/// The listener's acknowledgement frame.
const ACK_OK: &[u8] = b"ok";
/// Prefix of the listener's refusal frame.
const REFUSED: &str = "refused: ";
/// Default `connect_timeout_secs`.
const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 30;
/// Largest accepted timeout, seconds (one day).
const MAX_TIMEOUT_SECS: u64 = 86_400;

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// The certificate (DNS) name of compute party `id`: `party-{id}`.
pub fn party_name(id: PartyId) -> String {
    format!("party-{id}")
}

/// Whole seconds of `d`, rounded up (so a sub-second timeout does not read "0 s").
fn secs_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// `s` for an error message: at most 64 characters, escaped.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(64).collect();
    format!("{cut:?}")
}

/// Checks a participant name: `[a-z][a-z0-9-]*`, not ending in `-`, at most 63 characters (a
/// valid DNS label, so it can be a certificate's DNS name).
fn check_name_syntax(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "name {} is not [a-z][a-z0-9-]* (at most 63 characters, not ending in '-')",
            shown(name)
        ))
    }
}

/// Checks a client name for [`keygen`]/[`add_client`]: valid syntax, not a party or the CA.
fn check_client_name(name: &str) -> Result<()> {
    check_name_syntax(name).map_err(MpcError::Config)?;
    if name.starts_with("party-") || name == "ca" {
        return Err(MpcError::Config(format!(
            "client name {} is reserved (party-N and ca name the parties and the CA)",
            shown(name)
        )));
    }
    Ok(())
}

/// Who a verified certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PeerId {
    /// A compute party.
    Party(PartyId),
    /// A data holder or query driver.
    Client(String),
}

impl PeerId {
    /// The certificate name.
    fn name(&self) -> String {
        match self {
            PeerId::Party(k) => party_name(*k),
            PeerId::Client(n) => n.clone(),
        }
    }
}

/// Maps a certificate (already verified against the CA, or our own) to the participant it
/// names: its single subjectAltName DNS name, which the subject CN (if any) must repeat.
fn identity_of(der: &[u8]) -> std::result::Result<PeerId, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("unparsable certificate: {e}"))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| format!("bad subjectAltName: {e}"))?
        .ok_or_else(|| "certificate has no subjectAltName".to_owned())?;
    let mut dns = san.value.general_names.iter().filter_map(|g| match g {
        GeneralName::DNSName(s) => Some(*s),
        _ => None,
    });
    let name = match (dns.next(), dns.next()) {
        (Some(n), None) => n,
        (None, _) => return Err("certificate has no DNS name".into()),
        (Some(_), Some(_)) => return Err("certificate has more than one DNS name".into()),
    };
    check_name_syntax(name)?;
    for cn in cert.subject().iter_common_name() {
        let cn = cn
            .as_str()
            .map_err(|e| format!("unreadable subject CN: {e}"))?;
        if cn != name {
            return Err(format!(
                "subject CN {} differs from the DNS name {}",
                shown(cn),
                shown(name)
            ));
        }
    }
    match name.strip_prefix("party-") {
        Some(digits) => match digits.parse::<usize>() {
            Ok(k) if k < PARTIES && party_name(k) == name => Ok(PeerId::Party(k)),
            _ => Err(format!("{} is not a party of this mesh", shown(name))),
        },
        None => Ok(PeerId::Client(name.to_owned())),
    }
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> MpcError + '_ {
    move |source| MpcError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads at most [`MAX_FILE`] bytes of `path` (larger files are refused); with `secret`, also
/// refuses (on Unix) a file readable or writable by group or others.
fn read_limited(path: &Path, secret: bool) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(io_err(path))?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(io_err(path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(MpcError::Config(format!(
                "{}: private key is accessible by group or others (mode {:o}); chmod 600 it",
                path.display(),
                mode & 0o777
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err(path))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(MpcError::Config(format!(
            "{}: larger than {MAX_FILE} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Creates `path` (never overwriting) with `contents`; mode 0600 if `secret`, else 0644.
fn write_new(path: &Path, contents: &str, secret: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err(path))
}

/// Refuses to start if any of `paths` exists (so a key set is never half overwritten).
fn ensure_absent(paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        if p.exists() {
            return Err(MpcError::Io {
                path: p.display().to_string(),
                source: io::Error::new(io::ErrorKind::AlreadyExists, "refusing to overwrite"),
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Key material
// ---------------------------------------------------------------------------------------------

fn rcgen_err(what: &str) -> impl FnOnce(rcgen::Error) -> MpcError + '_ {
    move |e| MpcError::Config(format!("{what}: {e}"))
}

/// The consortium CA's certificate parameters.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "trustspace consortium CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "trustspace consortium");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Issues `{name}.crt`/`{name}.key` in `dir`, signed by `issuer`. Parties get TLS server and
/// client usage and an IP SAN 127.0.0.1; clients get client usage only.
fn issue(dir: &Path, issuer: &Issuer<'_, KeyPair>, name: &str, party: bool) -> Result<()> {
    let mut params =
        CertificateParams::new(vec![name.to_owned()]).map_err(rcgen_err("certificate name"))?;
    if party {
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "trustspace consortium");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = if party {
        vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ]
    } else {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    };
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().map_err(rcgen_err("key generation"))?;
    let cert = params
        .signed_by(&key, issuer)
        .map_err(rcgen_err("certificate signing"))?;
    write_new(&dir.join(format!("{name}.crt")), &cert.pem(), false)?;
    write_new(&dir.join(format!("{name}.key")), &key.serialize_pem(), true)
}

/// Writes a test deployment's key material into `dir` (created if missing): the consortium CA
/// (`ca.crt`, and `ca.key` so [`add_client`] can issue more), `party-{i}.crt`/`.key` for
/// `parties` parties (must be 3) and `{name}.crt`/`.key` for each client name. Keys are ECDSA
/// P-256, written 0600; existing files are never overwritten (the call fails first).
pub fn keygen(dir: &Path, parties: usize, clients: &[&str]) -> Result<()> {
    if parties != PARTIES {
        return Err(MpcError::Config(format!(
            "the mesh has exactly {PARTIES} parties, not {parties}"
        )));
    }
    for (i, c) in clients.iter().enumerate() {
        check_client_name(c)?;
        if clients[..i].contains(c) {
            return Err(MpcError::Config(format!("client {} named twice", shown(c))));
        }
    }
    let names: Vec<String> = ["ca".to_owned()]
        .into_iter()
        .chain((0..parties).map(party_name))
        .chain(clients.iter().map(|c| (*c).to_owned()))
        .collect();
    let files: Vec<PathBuf> = names
        .iter()
        .flat_map(|n| [dir.join(format!("{n}.crt")), dir.join(format!("{n}.key"))])
        .collect();
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    ensure_absent(&files)?;

    let ca_key = KeyPair::generate().map_err(rcgen_err("key generation"))?;
    let params = ca_params();
    let ca_cert = params
        .self_signed(&ca_key)
        .map_err(rcgen_err("CA certificate"))?;
    write_new(&dir.join("ca.crt"), &ca_cert.pem(), false)?;
    write_new(&dir.join("ca.key"), &ca_key.serialize_pem(), true)?;
    let issuer = Issuer::new(params, ca_key);
    for i in 0..parties {
        issue(dir, &issuer, &party_name(i), true)?;
    }
    for c in clients {
        issue(dir, &issuer, c, false)?;
    }
    Ok(())
}

/// Issues one more client certificate (`{name}.crt`/`.key`, key 0600) in a directory made by
/// [`keygen`], signed with its `ca.crt`/`ca.key`.
pub fn add_client(dir: &Path, name: &str) -> Result<()> {
    check_client_name(name)?;
    ensure_absent(&[
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    ])?;
    let ca_path = dir.join("ca.crt");
    let ca_pem = String::from_utf8(read_limited(&ca_path, false)?)
        .map_err(|_| MpcError::Config(format!("{}: not PEM text", ca_path.display())))?;
    let key_path = dir.join("ca.key");
    let key_pem = String::from_utf8(read_limited(&key_path, true)?)
        .map_err(|_| MpcError::Config(format!("{}: not PEM text", key_path.display())))?;
    // No detail from the key parser: it must not echo key material.
    let key = KeyPair::from_pem(&key_pem)
        .map_err(|_| MpcError::Config(format!("{}: not a PEM private key", key_path.display())))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, key)
        .map_err(|e| MpcError::Config(format!("{}: {e}", ca_path.display())))?;
    issue(dir, &issuer, name, false)
}

// ---------------------------------------------------------------------------------------------
// Identity (loaded certificates and key)
// ---------------------------------------------------------------------------------------------

/// One participant's trust anchors, certificate chain and key, with the name its certificate
/// carries.
struct Identity {
    /// Who our certificate names, or why it names no one acceptable.
    name: std::result::Result<PeerId, String>,
    roots: Arc<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: Arc<CryptoProvider>,
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read_limited(path, false)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| MpcError::Config(format!("{}: bad PEM certificate: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(MpcError::Config(format!(
            "{}: no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

impl Identity {
    /// Loads the CA certificate(s), our certificate chain and our key (all PEM).
    fn load(ca_cert: &Path, cert: &Path, key: &Path) -> Result<Identity> {
        let mut roots = RootCertStore::empty();
        for c in load_certs(ca_cert)? {
            roots.add(c).map_err(|e| {
                MpcError::Config(format!(
                    "{}: unusable CA certificate: {e}",
                    ca_cert.display()
                ))
            })?;
        }
        let chain = load_certs(cert)?;
        let name = identity_of(&chain[0]);
        let key_bytes = read_limited(key, true)?;
        // No detail from the PEM parser: it must not echo key material.
        let key_der = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|_| {
            MpcError::Config(format!("{}: no usable PEM private key", key.display()))
        })?;
        let identity = Identity {
            name,
            roots: Arc::new(roots),
            chain,
            key: key_der,
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        };
        // Building a configuration checks that the key matches the certificate.
        identity.client_config().map_err(|e| match e {
            MpcError::Tls { reason, .. } => MpcError::Config(format!(
                "{} with {}: {reason}",
                cert.display(),
                key.display()
            )),
            other => other,
        })?;
        Ok(identity)
    }

    fn tls_err(&self, e: impl std::fmt::Display) -> MpcError {
        MpcError::Tls {
            peer: "(local configuration)".into(),
            reason: e.to_string(),
        }
    }

    /// Listener side: TLS 1.3, a client certificate chaining to the CA is required.
    fn server_config(&self) -> Result<Arc<rustls::ServerConfig>> {
        let verifier =
            WebPkiClientVerifier::builder_with_provider(self.roots.clone(), self.provider.clone())
                .build()
                .map_err(|e| self.tls_err(e))?;
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| self.tls_err(e))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| self.tls_err(e))?;
        config.send_tls13_tickets = 0;
        Ok(Arc::new(config))
    }

    /// Dialling side: TLS 1.3, the server must chain to the CA; we present our certificate.
    fn client_config(&self) -> Result<Arc<rustls::ClientConfig>> {
        let mut config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| self.tls_err(e))?
            .with_root_certificates(self.roots.clone())
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| self.tls_err(e))?;
        config.resumption = rustls::client::Resumption::disabled();
        Ok(Arc::new(config))
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

fn default_connect_timeout() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_SECS
}

/// Reads a JSON configuration file (at most [`MAX_FILE`] bytes).
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = read_limited(path, false)?;
    serde_json::from_slice(&bytes).map_err(|e| MpcError::Config(format!("{}: {e}", path.display())))
}

/// `p` relative to `base` unless absolute.
fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Checks the fields shared by both configurations.
fn check_common(version: u32, parties: &[String], timeout: u64, connect: u64) -> Result<()> {
    if version != CONFIG_VERSION {
        return Err(MpcError::Config(format!(
            "configuration version {version} is not supported (expected {CONFIG_VERSION})"
        )));
    }
    if parties.len() != PARTIES {
        return Err(MpcError::Config(format!(
            "{} party addresses given, the mesh has {PARTIES}",
            parties.len()
        )));
    }
    for (i, a) in parties.iter().enumerate() {
        if a.is_empty() || a.len() > 255 || !a.contains(':') {
            return Err(MpcError::Config(format!(
                "party {i}: address {} is not host:port",
                shown(a)
            )));
        }
        if parties[..i].contains(a) {
            return Err(MpcError::Config(format!(
                "party {i}: address {a} is also another party's"
            )));
        }
    }
    for (what, v) in [("timeout_secs", timeout), ("connect_timeout_secs", connect)] {
        if v == 0 || v > MAX_TIMEOUT_SECS {
            return Err(MpcError::Config(format!(
                "{what} = {v}: must be 1 to {MAX_TIMEOUT_SECS}"
            )));
        }
    }
    Ok(())
}

/// One compute party's network configuration (JSON). Relative paths in a loaded file are
/// relative to the file's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyConfig {
    /// Format version, [`CONFIG_VERSION`].
    pub version: u32,
    /// This party's index (0, 1 or 2); its certificate must name `party-{id}`.
    pub id: PartyId,
    /// The listen addresses of parties 0, 1, 2 (`host:port`); this party binds `parties[id]`.
    pub parties: Vec<String>,
    /// The consortium CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// This party's certificate (PEM).
    pub cert: PathBuf,
    /// This party's private key (PEM, mode 0600).
    pub key: PathBuf,
    /// Receive timeout, seconds: a peer silent this long is an error.
    pub timeout_secs: u64,
    /// How long [`TlsTransport::connect`] waits for the whole mesh, seconds.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
}

impl PartyConfig {
    /// The configuration of party `id` for a [`keygen`] directory (absolute file paths).
    pub fn for_dir(dir: &Path, id: PartyId, parties: &[String], timeout_secs: u64) -> Self {
        PartyConfig {
            version: CONFIG_VERSION,
            id,
            parties: parties.to_vec(),
            ca_cert: dir.join("ca.crt"),
            cert: dir.join(format!("{}.crt", party_name(id))),
            key: dir.join(format!("{}.key", party_name(id))),
            timeout_secs,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
        }
    }

    /// Reads, resolves (relative paths against the file's directory) and validates a JSON file.
    pub fn load(path: &Path) -> Result<Self> {
        let mut config: PartyConfig = read_json(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.ca_cert = resolve(base, &config.ca_cert);
        config.cert = resolve(base, &config.cert);
        config.key = resolve(base, &config.key);
        config.validate()?;
        Ok(config)
    }

    /// Checks the fields and that the files load and the certificate names `party-{id}`.
    pub fn validate(&self) -> Result<()> {
        self.load_identity().map(|_| ())
    }

    /// The receive timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    fn load_identity(&self) -> Result<Identity> {
        check_common(
            self.version,
            &self.parties,
            self.timeout_secs,
            self.connect_timeout_secs,
        )?;
        if self.id >= PARTIES {
            return Err(MpcError::Config(format!(
                "party id {} out of range (0 to {})",
                self.id,
                PARTIES - 1
            )));
        }
        let identity = Identity::load(&self.ca_cert, &self.cert, &self.key)?;
        match &identity.name {
            Ok(PeerId::Party(k)) if *k == self.id => {}
            Ok(other) => {
                return Err(MpcError::Config(format!(
                    "{} names {}, but this is party {}",
                    self.cert.display(),
                    shown(&other.name()),
                    self.id
                )));
            }
            Err(e) => {
                return Err(MpcError::Config(format!("{}: {e}", self.cert.display())));
            }
        }
        Ok(identity)
    }
}

/// A client's (data holder's or query driver's) network configuration (JSON). Relative paths in
/// a loaded file are relative to the file's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientLinkConfig {
    /// Format version, [`CONFIG_VERSION`].
    pub version: u32,
    /// The listen addresses of parties 0, 1, 2 (`host:port`).
    pub parties: Vec<String>,
    /// The consortium CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// This client's certificate (PEM); it names the client, never a party.
    pub cert: PathBuf,
    /// This client's private key (PEM, mode 0600).
    pub key: PathBuf,
    /// Receive timeout, seconds.
    pub timeout_secs: u64,
    /// How long [`ClientLink::connect`] keeps trying to reach a party, seconds.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
}

impl ClientLinkConfig {
    /// The client name this configuration's certificate carries (what the parties see).
    pub fn name(&self) -> Result<String> {
        match self.load_identity()?.name {
            Ok(PeerId::Client(n)) => Ok(n),
            Ok(PeerId::Party(k)) => Err(MpcError::Config(format!(
                "{} is the certificate of {}, not of a client",
                self.cert.display(),
                party_name(k)
            ))),
            Err(e) => Err(MpcError::Config(format!("{}: {e}", self.cert.display()))),
        }
    }

    /// The configuration of client `name` for a [`keygen`] directory (absolute file paths).
    pub fn for_dir(dir: &Path, name: &str, parties: &[String], timeout_secs: u64) -> Self {
        ClientLinkConfig {
            version: CONFIG_VERSION,
            parties: parties.to_vec(),
            ca_cert: dir.join("ca.crt"),
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
            timeout_secs,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
        }
    }

    /// Reads, resolves (relative paths against the file's directory) and validates a JSON file.
    pub fn load(path: &Path) -> Result<Self> {
        let mut config: ClientLinkConfig = read_json(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.ca_cert = resolve(base, &config.ca_cert);
        config.cert = resolve(base, &config.cert);
        config.key = resolve(base, &config.key);
        config.validate()?;
        Ok(config)
    }

    /// Checks the fields and that the files load and the certificate names a client.
    pub fn validate(&self) -> Result<()> {
        self.load_identity().map(|_| ())
    }

    fn load_identity(&self) -> Result<Identity> {
        check_common(
            self.version,
            &self.parties,
            self.timeout_secs,
            self.connect_timeout_secs,
        )?;
        let identity = Identity::load(&self.ca_cert, &self.cert, &self.key)?;
        match &identity.name {
            Ok(PeerId::Client(_)) => {}
            Ok(PeerId::Party(k)) => {
                return Err(MpcError::Config(format!(
                    "{} is party-{k}'s certificate; client links need a client certificate",
                    self.cert.display()
                )));
            }
            Err(e) => {
                return Err(MpcError::Config(format!("{}: {e}", self.cert.display())));
            }
        }
        Ok(identity)
    }
}

// ---------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------

/// Splits a plaintext byte stream into frames (`u32` little-endian length, then the bytes).
#[derive(Default)]
struct Deframer {
    header: [u8; 4],
    header_len: usize,
    body: Vec<u8>,
    want: Option<usize>,
}

impl Deframer {
    /// Consumes `data`, appending completed frames to `frames`; `Err` (the reason) on a frame
    /// longer than [`MAX_MESSAGE`].
    fn push(
        &mut self,
        mut data: &[u8],
        frames: &mut Vec<Vec<u8>>,
    ) -> std::result::Result<(), String> {
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
                            return Err(format!(
                                "frame of {len} bytes exceeds the {MAX_MESSAGE}-byte limit"
                            ));
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

// ---------------------------------------------------------------------------------------------
// One connection: reader and writer threads
// ---------------------------------------------------------------------------------------------

/// Work for a connection's writer thread.
enum Cmd {
    /// Send one frame.
    Frame(Vec<u8>),
    /// Write out pending TLS records (alerts, key updates) queued by the reader.
    Flush,
    /// Send `close_notify` and stop.
    Close,
    /// Send raw plaintext, unframed (tests of the peer's frame checks).
    #[cfg(test)]
    Raw(Vec<u8>),
}

type Shared<T> = Arc<Mutex<T>>;

fn lock<'a>(conn: &'a Mutex<Connection>, peer: &str) -> Result<MutexGuard<'a, Connection>> {
    conn.lock().map_err(|_| MpcError::Disconnected {
        peer: peer.to_owned(),
        reason: "connection state poisoned by a failed thread".into(),
    })
}

/// An established, authenticated connection with its two threads.
struct Link {
    peer: String,
    timeout: Duration,
    out: Sender<Cmd>,
    inbox: Receiver<Result<Vec<u8>>>,
    sock: TcpStream,
    writer_done: Receiver<()>,
    /// The writer was waited for (at the drop of the transport holding this link).
    finished: bool,
}

impl Link {
    /// Starts the reader and writer threads on a connection whose handshake is complete.
    fn start(conn: Connection, sock: TcpStream, peer: String, timeout: Duration) -> Result<Link> {
        let broken = |e: io::Error| MpcError::Disconnected {
            peer: peer.clone(),
            reason: e.to_string(),
        };
        sock.set_read_timeout(None).map_err(broken)?;
        sock.set_write_timeout(None).map_err(broken)?;
        let reader_sock = sock.try_clone().map_err(broken)?;
        let writer_sock = sock.try_clone().map_err(broken)?;
        let mut conn = conn;
        conn.set_buffer_limit(Some(TLS_BUFFER));
        let conn: Shared<Connection> = Arc::new(Mutex::new(conn));
        let (out, out_rx) = channel();
        let (inbox_tx, inbox) = channel();
        let (done_tx, writer_done) = channel();
        let (c, flush, p) = (conn.clone(), out.clone(), peer.clone());
        thread::Builder::new()
            .name(format!("mpc-tls-read-{peer}"))
            .spawn(move || reader_loop(&c, reader_sock, &inbox_tx, &flush, &p))
            .map_err(broken)?;
        thread::Builder::new()
            .name(format!("mpc-tls-write-{peer}"))
            .spawn(move || writer_loop(&conn, writer_sock, &out_rx, &done_tx))
            .map_err(broken)?;
        Ok(Link {
            peer,
            timeout,
            out,
            inbox,
            sock,
            writer_done,
            finished: false,
        })
    }

    fn send(&self, payload: Vec<u8>) -> Result<()> {
        if payload.len() > MAX_MESSAGE {
            return Err(MpcError::Malformed {
                peer: self.peer.clone(),
                reason: format!(
                    "outgoing message of {} bytes exceeds the {MAX_MESSAGE}-byte limit",
                    payload.len()
                ),
            });
        }
        self.out
            .send(Cmd::Frame(payload))
            .map_err(|_| MpcError::Disconnected {
                peer: self.peer.clone(),
                reason: "connection closed (writer stopped)".into(),
            })
    }

    fn recv(&self) -> Result<Vec<u8>> {
        self.recv_within(self.timeout)
    }

    fn try_recv(&self) -> Result<Option<Vec<u8>>> {
        match self.inbox.try_recv() {
            Ok(frame) => frame.map(Some),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(MpcError::Disconnected {
                peer: self.peer.clone(),
                reason: "connection closed".into(),
            }),
        }
    }

    /// Waits for the writer to finish (at most until `deadline`), once.
    fn finish(&mut self, deadline: Instant) {
        if !self.finished {
            self.finished = true;
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = self.writer_done.recv_timeout(left);
        }
    }

    fn recv_within(&self, wait: Duration) -> Result<Vec<u8>> {
        match self.inbox.recv_timeout(wait) {
            Ok(frame) => frame,
            Err(RecvTimeoutError::Timeout) => Err(MpcError::Timeout {
                peer: self.peer.clone(),
                secs: secs_ceil(wait),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(MpcError::Disconnected {
                peer: self.peer.clone(),
                reason: "connection closed".into(),
            }),
        }
    }

    /// Asks the writer to finish (after the queued messages) with `close_notify`.
    fn begin_close(&self) {
        let _ = self.out.send(Cmd::Close);
    }

    /// Closes the socket at once, without `close_notify` (as if the process died).
    #[cfg(test)]
    fn sever(&self) {
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.begin_close();
        self.finish(Instant::now() + self.timeout.min(MAX_LINGER));
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

/// Reader thread: decodes frames into `inbox`, ending with the error that stopped it.
fn reader_loop(
    conn: &Mutex<Connection>,
    mut sock: TcpStream,
    inbox: &Sender<Result<Vec<u8>>>,
    flush: &Sender<Cmd>,
    peer: &str,
) {
    if let Err(e) = read_frames(conn, &mut sock, inbox, flush, peer) {
        if matches!(e, MpcError::Malformed { .. }) {
            // The stream cannot be resynchronised: end it, so the sender notices too.
            let _ = sock.shutdown(Shutdown::Both);
        }
        let _ = inbox.send(Err(e));
    }
}

/// Decodes plaintext available in `c` into frames; `Ok(true)` once the peer closed cleanly.
fn drain_plaintext(
    c: &mut Connection,
    plain: &mut [u8],
    deframer: &mut Deframer,
    frames: &mut Vec<Vec<u8>>,
    peer: &str,
) -> Result<bool> {
    loop {
        match c.reader().read(plain) {
            Ok(0) => return Ok(true),
            Ok(n) => deframer
                .push(&plain[..n], frames)
                .map_err(|reason| MpcError::Malformed {
                    peer: peer.to_owned(),
                    reason,
                })?,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => {
                return Err(MpcError::Disconnected {
                    peer: peer.to_owned(),
                    reason: e.to_string(),
                });
            }
        }
    }
}

/// Feeds `fresh` ciphertext to the connection and decodes the plaintext into `frames`;
/// `Ok(true)` once the peer closed cleanly.
fn decode(
    conn: &Mutex<Connection>,
    mut fresh: &[u8],
    plain: &mut [u8],
    deframer: &mut Deframer,
    frames: &mut Vec<Vec<u8>>,
    flush: &Sender<Cmd>,
    peer: &str,
) -> Result<bool> {
    let mut c = lock(conn, peer)?;
    let closed = loop {
        if drain_plaintext(&mut c, plain, deframer, frames, peer)? {
            break true;
        }
        if fresh.is_empty() {
            break false;
        }
        match c.read_tls(&mut fresh) {
            // close_notify already received: nothing more will be read.
            Ok(0) => break true,
            Ok(_) => {}
            Err(e) => {
                return Err(MpcError::Disconnected {
                    peer: peer.to_owned(),
                    reason: e.to_string(),
                });
            }
        }
        if let Err(e) = c.process_new_packets() {
            // rustls queued an alert for the peer; the writer sends it.
            let _ = flush.send(Cmd::Flush);
            return Err(MpcError::Tls {
                peer: peer.to_owned(),
                reason: e.to_string(),
            });
        }
    };
    if c.wants_write() {
        let _ = flush.send(Cmd::Flush);
    }
    Ok(closed)
}

/// The reader's work; `Ok` when the receiving side is gone, else the error to report.
fn read_frames(
    conn: &Mutex<Connection>,
    sock: &mut TcpStream,
    inbox: &Sender<Result<Vec<u8>>>,
    flush: &Sender<Cmd>,
    peer: &str,
) -> Result<()> {
    let mut deframer = Deframer::default();
    let mut net = vec![0u8; READ_CHUNK];
    let mut plain = vec![0u8; READ_CHUNK];
    let mut frames = Vec::new();
    // The first pass decodes what the handshake already buffered.
    let mut fresh = 0;
    loop {
        let step = decode(
            conn,
            &net[..fresh],
            &mut plain,
            &mut deframer,
            &mut frames,
            flush,
            peer,
        );
        // Frames decoded before an error are still delivered, in order.
        for f in frames.drain(..) {
            if inbox.send(Ok(f)).is_err() {
                return Ok(());
            }
        }
        if step? {
            return Err(MpcError::Disconnected {
                peer: peer.to_owned(),
                reason: "closed by the peer".into(),
            });
        }
        fresh = loop {
            match sock.read(&mut net) {
                Ok(0) => {
                    return Err(MpcError::Disconnected {
                        peer: peer.to_owned(),
                        reason: "connection closed without close_notify".into(),
                    });
                }
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(MpcError::Disconnected {
                        peer: peer.to_owned(),
                        reason: e.to_string(),
                    });
                }
            }
        };
    }
}

/// Writer thread: sends frames in order until told to close or the connection fails.
fn writer_loop(
    conn: &Mutex<Connection>,
    mut sock: TcpStream,
    cmds: &Receiver<Cmd>,
    done: &Sender<()>,
) {
    let mut out = Vec::with_capacity(TLS_BUFFER + 1024);
    while let Ok(cmd) = cmds.recv() {
        let written = match cmd {
            Cmd::Frame(payload) => write_frame(conn, &mut sock, &payload, &mut out),
            Cmd::Flush => write_plain(conn, &mut sock, &[], &mut out),
            Cmd::Close => {
                if let Ok(mut c) = conn.lock() {
                    c.send_close_notify();
                }
                let _ = write_plain(conn, &mut sock, &[], &mut out);
                break;
            }
            #[cfg(test)]
            Cmd::Raw(bytes) => write_plain(conn, &mut sock, &bytes, &mut out),
        };
        if written.is_err() {
            break;
        }
    }
    let _ = sock.shutdown(Shutdown::Write);
    let _ = done.send(());
}

fn write_frame(
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
fn write_plain(
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

// ---------------------------------------------------------------------------------------------
// Handshakes
// ---------------------------------------------------------------------------------------------

fn prepare_socket(sock: &TcpStream, peer: &str) -> Result<()> {
    let broken = |e: io::Error| MpcError::Disconnected {
        peer: peer.to_owned(),
        reason: e.to_string(),
    };
    sock.set_nonblocking(false).map_err(broken)?;
    sock.set_nodelay(true).map_err(broken)?;
    sock.set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(broken)?;
    sock.set_write_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(broken)
}

/// Runs the TLS handshake to completion (socket timeouts bound it).
fn handshake<S>(conn: &mut ConnectionCommon<S>, sock: &mut TcpStream, peer: &str) -> Result<()> {
    handshake_or_retry(conn, sock, peer).map_err(|(_, e)| e)
}

/// The handshake; an error says whether it may be retried on a fresh connection: the peer
/// closed or reset the connection (e.g. a party restarting its listener between sessions), as
/// opposed to a TLS failure such as a certificate the peer refused.
fn handshake_or_retry<S>(
    conn: &mut ConnectionCommon<S>,
    sock: &mut TcpStream,
    peer: &str,
) -> std::result::Result<(), (bool, MpcError)> {
    let tls = |reason: String| MpcError::Tls {
        peer: peer.to_owned(),
        reason,
    };
    while conn.is_handshaking() {
        match conn.complete_io(sock) {
            Ok((0, 0)) => {
                return Err((true, tls("connection closed during the handshake".into())));
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err((
                    false,
                    tls(format!(
                        "handshake not finished within {} s",
                        HANDSHAKE_TIMEOUT.as_secs()
                    )),
                ));
            }
            Err(e) => {
                let transient = matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                        | io::ErrorKind::UnexpectedEof
                );
                return Err((transient, tls(e.to_string())));
            }
        }
    }
    Ok(())
}

/// Text of a refusal frame from the network: printable ASCII only, at most 200 characters.
fn sanitize(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(200)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

/// Connects to party `to` at `addr` (retrying the TCP connection until `deadline` or `stop`),
/// authenticates it as `party-{to}`, and waits for its acknowledgement.
/// Dials party `to` until the deadline: a connection refused, reset or closed during set-up, or
/// a listener that still holds our previous connection (a party between two meshes), is tried
/// again; a certificate or identity failure ends the attempt at once.
fn dial(
    addr: &str,
    to: PartyId,
    tls: &Arc<rustls::ClientConfig>,
    deadline: Instant,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<Link> {
    loop {
        match dial_once(addr, to, tls, deadline, timeout, stop) {
            Ok(link) => return Ok(link),
            Err((true, _))
                if Instant::now() + RETRY_PAUSE < deadline && !stop.load(Ordering::Acquire) =>
            {
                thread::sleep(RETRY_PAUSE);
            }
            Err((_, e)) => return Err(e),
        }
    }
}

fn dial_once(
    addr: &str,
    to: PartyId,
    tls: &Arc<rustls::ClientConfig>,
    deadline: Instant,
    timeout: Duration,
    stop: &AtomicBool,
) -> std::result::Result<Link, (bool, MpcError)> {
    let fatal = |e: MpcError| (false, e);
    let peer = party_name(to);
    let mut sock = loop {
        if stop.load(Ordering::Acquire) {
            return Err(fatal(MpcError::Disconnected {
                peer,
                reason: "set-up abandoned".into(),
            }));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let err = match connect_once(addr, left.max(Duration::from_millis(10))) {
            Ok(s) => break s,
            Err(e) => e,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(fatal(MpcError::Disconnected {
                peer,
                reason: format!("cannot connect to {addr} before the deadline: {err}"),
            }));
        }
        thread::sleep(RETRY_PAUSE.min(left));
    };
    prepare_socket(&sock, &peer).map_err(fatal)?;
    let name = ServerName::try_from(peer.clone()).map_err(|e| {
        fatal(MpcError::Tls {
            peer: peer.clone(),
            reason: e.to_string(),
        })
    })?;
    let mut conn = ClientConnection::new(tls.clone(), name).map_err(|e| {
        fatal(MpcError::Tls {
            peer: peer.clone(),
            reason: e.to_string(),
        })
    })?;
    handshake_or_retry(&mut conn, &mut sock, &peer)?;
    // webpki checked the DNS name; also insist on our one-name policy.
    let presented = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| MpcError::Tls {
            peer: peer.clone(),
            reason: "no server certificate".into(),
        })
        .and_then(|der| {
            identity_of(der).map_err(|reason| MpcError::Tls {
                peer: peer.clone(),
                reason,
            })
        })
        .map_err(fatal)?;
    if presented != PeerId::Party(to) {
        return Err(fatal(MpcError::Tls {
            peer: peer.clone(),
            reason: format!("server certificate names {}", shown(&presented.name())),
        }));
    }
    let link = Link::start(Connection::Client(conn), sock, peer.clone(), timeout).map_err(fatal)?;
    match link.recv_within(HANDSHAKE_TIMEOUT) {
        Ok(frame) if frame == ACK_OK => Ok(link),
        Ok(frame) => {
            let text = frame
                .strip_prefix(REFUSED.as_bytes())
                .unwrap_or(frame.as_slice());
            let reason = sanitize(text);
            // Our previous connection is still registered there: the party is between meshes.
            let transient = reason.ends_with("is already connected");
            Err((
                transient,
                MpcError::Tls {
                    peer,
                    reason: format!("refused our connection: {reason}"),
                },
            ))
        }
        Err(MpcError::Tls { reason, .. }) => Err(fatal(MpcError::Tls { peer, reason })),
        // Closed before acknowledging: a listener going away.
        Err(MpcError::Disconnected { .. }) => Err((
            true,
            MpcError::Tls {
                peer,
                reason: "connection closed before the acknowledgement".into(),
            },
        )),
        Err(e) => Err(fatal(MpcError::Tls {
            peer,
            reason: format!("no acknowledgement after the handshake (certificate refused?): {e}"),
        })),
    }
}

fn connect_once(addr: &str, wait: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "address resolves to nothing");
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, wait) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

// ---------------------------------------------------------------------------------------------
// The listener and the mesh
// ---------------------------------------------------------------------------------------------

/// What the set-up loop of [`TlsTransport::connect`] hears.
enum Event {
    /// An authenticated, acknowledged link to a party.
    Peer(PartyId, Link),
    /// Dialling a party failed: the set-up fails.
    Failed(MpcError),
    /// An incoming connection was refused: reported if the mesh stays incomplete.
    Refused(MpcError),
}

/// State shared by the listener's threads.
struct ListenerState {
    me: PartyId,
    tls: Arc<rustls::ServerConfig>,
    timeout: Duration,
    claimed: Mutex<[bool; PARTIES]>,
    complete: AtomicBool,
    stop: AtomicBool,
    events: Sender<Event>,
    clients: Sender<Result<ClientLink>>,
}

/// An accepted connection.
enum Accepted {
    Party(PartyId, Link),
    Client(Link),
}

fn accept_loop(listener: &TcpListener, state: &Arc<ListenerState>) {
    while !state.stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((sock, addr)) => {
                let s = state.clone();
                let _ = thread::Builder::new()
                    .name("mpc-tls-accept".into())
                    .spawn(move || serve_incoming(sock, addr, &s));
            }
            // WouldBlock: nothing pending; other errors (e.g. out of descriptors): back off.
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
}

fn serve_incoming(sock: TcpStream, addr: SocketAddr, state: &ListenerState) {
    match accept_peer(sock, addr, state) {
        Ok(Accepted::Party(k, link)) => {
            let _ = state.events.send(Event::Peer(k, link));
        }
        Ok(Accepted::Client(link)) => {
            let _ = state.clients.send(Ok(ClientLink { link }));
        }
        Err(e) => {
            if state.complete.load(Ordering::Acquire) {
                let _ = state.clients.send(Err(e));
            } else {
                let _ = state.events.send(Event::Refused(e));
            }
        }
    }
}

/// Handshake, identify and acknowledge (or refuse) one incoming connection.
fn accept_peer(mut sock: TcpStream, addr: SocketAddr, state: &ListenerState) -> Result<Accepted> {
    let unverified = format!("unverified peer at {addr}");
    prepare_socket(&sock, &unverified)?;
    let mut conn = ServerConnection::new(state.tls.clone()).map_err(|e| MpcError::Tls {
        peer: unverified.clone(),
        reason: e.to_string(),
    })?;
    handshake(&mut conn, &mut sock, &unverified)?;
    let id = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| "no client certificate".to_owned())
        .and_then(|der| identity_of(der));
    let label = match &id {
        Ok(id) => id.name(),
        Err(_) => format!("peer at {addr}"),
    };
    let verdict = id.and_then(|id| admit(&id, state).map(|()| id));
    // Refusals go out on the link too, so the dialler learns why at once.
    let link = Link::start(Connection::Server(conn), sock, label.clone(), state.timeout)?;
    match verdict {
        Ok(id) => {
            link.send(ACK_OK.to_vec())?;
            Ok(match id {
                PeerId::Party(k) => Accepted::Party(k, link),
                PeerId::Client(_) => Accepted::Client(link),
            })
        }
        Err(reason) => {
            let _ = link.send(format!("{REFUSED}{reason}").into_bytes());
            Err(MpcError::Tls {
                peer: format!("{label} at {addr}"),
                reason: format!("refused: {reason}"),
            })
        }
    }
}

/// Whether the listener takes a verified peer: any client; a party only if it is one that
/// dials us (a higher id) and is not connected yet (then its slot is taken).
fn admit(id: &PeerId, state: &ListenerState) -> std::result::Result<(), String> {
    let me = state.me;
    let PeerId::Party(k) = *id else {
        return Ok(());
    };
    let mut claimed = state
        .claimed
        .lock()
        .map_err(|_| "listener state poisoned".to_owned())?;
    if k == me {
        Err(format!(
            "presents this party's own certificate ({})",
            id.name()
        ))
    } else if k < me {
        Err(format!(
            "{} must wait for {} to connect (the higher id dials)",
            id.name(),
            party_name(me)
        ))
    } else if claimed[k] {
        Err(format!("{} is already connected", id.name()))
    } else {
        claimed[k] = true;
        Ok(())
    }
}

/// Stops the listener threads when dropped, and waits for the accept loop to release the
/// listening socket (so the next mesh can bind the same address at once).
struct StopOnDrop(Arc<ListenerState>, Option<thread::JoinHandle<()>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Release);
        if let Some(h) = self.1.take() {
            // The loop polls `stop` every ACCEPT_POLL; a panic there has nothing left to free.
            let _ = h.join();
        }
    }
}

/// One party's end of the TLS mesh (see the module docs for the convention).
pub struct TlsTransport {
    me: PartyId,
    links: Vec<Option<Link>>,
    clients: Receiver<Result<ClientLink>>,
    local_addr: SocketAddr,
    listener: StopOnDrop,
}

impl TlsTransport {
    /// Binds `parties[id]`, dials the lower-numbered parties and accepts the higher-numbered
    /// ones, all authenticated; returns once the mesh is complete, or fails at the first
    /// certificate error on a dialled connection, or at the connect deadline.
    pub fn connect(config: &PartyConfig) -> Result<TlsTransport> {
        let identity = config.load_identity()?;
        Self::connect_with(config, &identity)
    }

    fn connect_with(config: &PartyConfig, identity: &Identity) -> Result<TlsTransport> {
        let me = config.id;
        let timeout = config.timeout();
        let deadline = Instant::now() + Duration::from_secs(config.connect_timeout_secs);
        let server_tls = identity.server_config()?;
        let client_tls = identity.client_config()?;
        let own = &config.parties[me];
        let listener = TcpListener::bind(own.as_str())
            .map_err(|e| MpcError::Config(format!("cannot listen on {own}: {e}")))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| MpcError::Config(format!("listening on {own}: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| MpcError::Config(format!("listening on {own}: {e}")))?;
        let (events, event_rx) = channel();
        let (clients_tx, clients) = channel();
        let state = Arc::new(ListenerState {
            me,
            tls: server_tls,
            timeout,
            claimed: Mutex::new([false; PARTIES]),
            complete: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            events: events.clone(),
            clients: clients_tx,
        });
        let s = state.clone();
        let accept = thread::Builder::new()
            .name(format!("mpc-tls-listen-{}", party_name(me)))
            .spawn(move || accept_loop(&listener, &s))
            .map_err(|e| MpcError::Config(format!("cannot start the listener thread: {e}")))?;
        let guard = StopOnDrop(state.clone(), Some(accept));
        for to in 0..me {
            let (addr, tls, ev, s) = (
                config.parties[to].clone(),
                client_tls.clone(),
                events.clone(),
                state.clone(),
            );
            thread::Builder::new()
                .name(format!("mpc-tls-dial-{}", party_name(to)))
                .spawn(move || {
                    let event = match dial(&addr, to, &tls, deadline, timeout, &s.stop) {
                        Ok(link) => Event::Peer(to, link),
                        Err(e) => Event::Failed(e),
                    };
                    let _ = ev.send(event);
                })
                .map_err(|e| MpcError::Config(format!("cannot start a dialling thread: {e}")))?;
        }
        drop(events);

        let mut links: Vec<Option<Link>> = (0..PARTIES).map(|_| None).collect();
        let mut refused: Option<MpcError> = None;
        let missing = |links: &[Option<Link>]| -> Vec<String> {
            (0..PARTIES)
                .filter(|&k| k != me && links[k].is_none())
                .map(party_name)
                .collect()
        };
        while !missing(&links).is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match event_rx.recv_timeout(left) {
                Ok(Event::Peer(k, link)) => links[k] = Some(link),
                Ok(Event::Failed(e)) => return Err(e),
                Ok(Event::Refused(e)) => refused = Some(e),
                Err(_) => {
                    let waiting = missing(&links).join(", ");
                    return Err(match refused {
                        Some(MpcError::Tls { peer, reason }) => MpcError::Tls {
                            peer: format!("{waiting} (refused {peer})"),
                            reason,
                        },
                        Some(other) => other,
                        None => MpcError::Timeout {
                            peer: waiting,
                            secs: config.connect_timeout_secs,
                        },
                    });
                }
            }
        }
        state.complete.store(true, Ordering::Release);
        Ok(TlsTransport {
            me,
            links,
            clients,
            local_addr,
            listener: guard,
        })
    }

    /// The address this party's listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Changes the receive timeout on every party link (e.g. a longer one for a slow step).
    pub fn set_timeout(&mut self, timeout: Duration) {
        for link in self.links.iter_mut().flatten() {
            link.timeout = timeout;
        }
    }

    /// The next client (data holder, query driver) that connected to this party's listener,
    /// authenticated and acknowledged, waiting at most `timeout` ([`MpcError::Timeout`]). An
    /// incoming connection refused after the mesh was set up is returned as its error
    /// ([`MpcError::Tls`]); call again for the next client.
    pub fn accept_client(&self, timeout: Duration) -> Result<ClientLink> {
        match self.clients.recv_timeout(timeout) {
            Ok(client) => client,
            Err(RecvTimeoutError::Timeout) => Err(MpcError::Timeout {
                peer: "client".into(),
                secs: secs_ceil(timeout),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(MpcError::Disconnected {
                peer: "client".into(),
                reason: "listener stopped".into(),
            }),
        }
    }

    fn link(&self, p: PartyId) -> Result<&Link> {
        self.links
            .get(p)
            .and_then(Option::as_ref)
            .ok_or_else(|| MpcError::Config(format!("party {} has no link to party {p}", self.me)))
    }

    /// Cuts every party link without `close_notify`, as if the process had been killed.
    #[cfg(test)]
    fn sever(&self) {
        for link in self.links.iter().flatten() {
            link.sever();
        }
    }
}

impl Drop for TlsTransport {
    fn drop(&mut self) {
        self.listener.0.stop.store(true, Ordering::Release);
        // Every link starts closing now; then all writers get one shared deadline.
        for link in self.links.iter().flatten() {
            link.begin_close();
        }
        let deadline = Instant::now() + MAX_LINGER;
        for link in self.links.iter_mut().flatten() {
            link.finish(deadline);
        }
    }
}

impl Transport for TlsTransport {
    fn me(&self) -> PartyId {
        self.me
    }

    fn send(&mut self, to: PartyId, payload: Vec<u8>) -> Result<()> {
        self.link(to)?.send(payload)
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        self.link(from)?.recv()
    }

    fn try_recv(&mut self, from: PartyId) -> Result<Option<Vec<u8>>> {
        self.link(from)?.try_recv()
    }
}

// ---------------------------------------------------------------------------------------------
// Client links
// ---------------------------------------------------------------------------------------------

/// An authenticated connection between a client (data holder or query driver) and one party:
/// on the client side from [`ClientLink::connect`], on the party side from
/// [`TlsTransport::accept_client`]. Messages are framed and ordered like the mesh's; `send`
/// never blocks, `recv` waits at most the timeout.
pub struct ClientLink {
    link: Link,
}

impl ClientLink {
    /// Connects to party `party` with the client's certificate, retrying until the connect
    /// deadline; the party must present the certificate of `party-{party}`.
    pub fn connect(config: &ClientLinkConfig, party: PartyId) -> Result<ClientLink> {
        let identity = config.load_identity()?;
        let addr = config.parties.get(party).ok_or_else(|| {
            MpcError::Config(format!("party {party} out of range (0 to {})", PARTIES - 1))
        })?;
        let deadline = Instant::now() + Duration::from_secs(config.connect_timeout_secs);
        let link = dial(
            addr,
            party,
            &identity.client_config()?,
            deadline,
            Duration::from_secs(config.timeout_secs),
            &AtomicBool::new(false),
        )?;
        Ok(ClientLink { link })
    }

    /// Queues `payload` for the other end.
    pub fn send(&mut self, payload: Vec<u8>) -> Result<()> {
        self.link.send(payload)
    }

    /// The next message from the other end, waiting at most the timeout.
    pub fn recv(&mut self) -> Result<Vec<u8>> {
        self.link.recv()
    }

    /// The next message if one has arrived (`Ok(None)` otherwise), without waiting; a closed
    /// connection is [`MpcError::Disconnected`].
    pub fn try_recv(&mut self) -> Result<Option<Vec<u8>>> {
        self.link.try_recv()
    }

    /// The next message from the other end, waiting at most `wait`.
    pub fn recv_within(&mut self, wait: Duration) -> Result<Vec<u8>> {
        self.link.recv_within(wait)
    }

    /// The receive timeout.
    pub fn timeout(&self) -> Duration {
        self.link.timeout
    }

    /// The other end's certificate name: `party-{i}` on a client, the client's name on a party.
    pub fn peer_name(&self) -> &str {
        &self.link.peer
    }

    /// Changes the receive timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.link.timeout = timeout;
    }
}

/// Closes client links together: each sends its queued messages and `close_notify`, all
/// within one shared [`MAX_LINGER`].
pub fn close_clients(links: Vec<ClientLink>) {
    for l in &links {
        l.link.begin_close();
    }
    let deadline = Instant::now() + MAX_LINGER;
    for mut l in links {
        l.link.finish(deadline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    /// Three free loopback addresses (bound together, then released).
    fn free_addrs() -> Vec<String> {
        let held: Vec<TcpListener> = (0..PARTIES)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind loopback"))
            .collect();
        held.iter()
            .map(|l| l.local_addr().expect("addr").to_string())
            .collect()
    }

    fn deployment(clients: &[&str]) -> (TempDir, Vec<String>) {
        let dir = TempDir::new().expect("temp dir");
        keygen(dir.path(), PARTIES, clients).expect("keygen");
        (dir, free_addrs())
    }

    fn config(dir: &Path, id: PartyId, addrs: &[String], connect_secs: u64) -> PartyConfig {
        let mut c = PartyConfig::for_dir(dir, id, addrs, 20);
        c.connect_timeout_secs = connect_secs;
        c
    }

    /// Connects the three parties concurrently, party `i` starting after `delays[i]` ms.
    fn start(configs: Vec<PartyConfig>, delays: [u64; 3]) -> Vec<Result<TlsTransport>> {
        let handles: Vec<_> = configs
            .into_iter()
            .zip(delays)
            .map(|(c, d)| {
                thread::spawn(move || {
                    thread::sleep(Duration::from_millis(d));
                    TlsTransport::connect(&c)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    }

    fn mesh(dir: &Path, addrs: &[String]) -> [TlsTransport; 3] {
        let configs = (0..PARTIES).map(|i| config(dir, i, addrs, 10)).collect();
        let mut out = start(configs, [0, 0, 0]).into_iter();
        std::array::from_fn(|_| out.next().expect("three").expect("mesh connects"))
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        let mut v = vec![seed; len];
        for (i, b) in v.iter_mut().enumerate().step_by(4093) {
            *b = (i / 4093) as u8 ^ seed;
        }
        v
    }

    #[test]
    fn deframer_handles_any_split_and_refuses_oversize() {
        let mut stream = Vec::new();
        let msgs: Vec<Vec<u8>> = vec![b"abc".to_vec(), Vec::new(), pattern(70_000, 7), vec![1]];
        for m in &msgs {
            stream.extend_from_slice(&(m.len() as u32).to_le_bytes());
            stream.extend_from_slice(m);
        }
        for chunk in [1, 2, 3, 5, 4096, stream.len()] {
            let mut d = Deframer::default();
            let mut frames = Vec::new();
            for piece in stream.chunks(chunk) {
                d.push(piece, &mut frames).expect("valid stream");
            }
            assert_eq!(frames, msgs, "chunk size {chunk}");
        }
        let mut d = Deframer::default();
        let mut frames = Vec::new();
        let bad = u32::try_from(MAX_MESSAGE + 1).expect("fits").to_le_bytes();
        let err = d.push(&bad, &mut frames).expect_err("oversize");
        assert!(err.contains("exceeds"), "{err}");
    }

    /// A certificate with the given DNS names and CN, self-signed (identity_of does not
    /// verify; the handshake does).
    fn cert_der(dns: &[&str], cn: Option<&str>) -> Vec<u8> {
        let mut params =
            CertificateParams::new(dns.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name = DistinguishedName::new();
        if let Some(cn) = cn {
            params.distinguished_name.push(DnType::CommonName, cn);
        }
        let key = KeyPair::generate().expect("key");
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    #[test]
    fn identity_follows_the_single_dns_name() {
        assert_eq!(
            identity_of(&cert_der(&["party-2"], Some("party-2"))),
            Ok(PeerId::Party(2))
        );
        assert_eq!(
            identity_of(&cert_der(&["hospital-a"], None)),
            Ok(PeerId::Client("hospital-a".into()))
        );
        for (dns, cn) in [
            (&["party-3"][..], None),
            (&["party-01"][..], None),
            (&["party-1", "mallory"][..], None),
            (&[][..], Some("party-1")),
            (&["mallory"][..], Some("party-1")),
            (&["Hospital"][..], None),
        ] {
            assert!(identity_of(&cert_der(dns, cn)).is_err(), "{dns:?} {cn:?}");
        }
        assert!(identity_of(b"not a certificate").is_err());
    }

    #[test]
    fn keygen_writes_a_usable_deployment() {
        let dir = TempDir::new().expect("temp dir");
        let d = dir.path().join("deploy");
        keygen(&d, PARTIES, &["hospital-a", "driver"]).expect("keygen");
        for name in [
            "ca",
            "party-0",
            "party-1",
            "party-2",
            "hospital-a",
            "driver",
        ] {
            let crt = fs::read_to_string(d.join(format!("{name}.crt"))).expect("cert");
            assert!(crt.starts_with("-----BEGIN CERTIFICATE-----"));
            assert!(!crt.contains("PRIVATE KEY"));
            let key = d.join(format!("{name}.key"));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(&key).expect("key").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{name}.key");
            }
            assert!(
                fs::read_to_string(&key)
                    .expect("key")
                    .contains("PRIVATE KEY")
            );
        }
        let ca = d.join("ca.crt");
        for i in 0..PARTIES {
            let id = Identity::load(
                &ca,
                &d.join(format!("party-{i}.crt")),
                &d.join(format!("party-{i}.key")),
            )
            .expect("party identity");
            assert_eq!(id.name, Ok(PeerId::Party(i)));
        }
        let id = Identity::load(&ca, &d.join("driver.crt"), &d.join("driver.key")).expect("client");
        assert_eq!(id.name, Ok(PeerId::Client("driver".into())));
        // A key that does not match the certificate is refused.
        assert!(matches!(
            Identity::load(&ca, &d.join("driver.crt"), &d.join("hospital-a.key")),
            Err(MpcError::Config(_))
        ));

        // Never overwrites; the existing CA stays.
        let before = fs::read(&ca).expect("ca");
        assert!(matches!(keygen(&d, PARTIES, &[]), Err(MpcError::Io { .. })));
        assert_eq!(fs::read(&ca).expect("ca"), before);

        add_client(&d, "bank-b").expect("add client");
        let id = Identity::load(&ca, &d.join("bank-b.crt"), &d.join("bank-b.key")).expect("new");
        assert_eq!(id.name, Ok(PeerId::Client("bank-b".into())));
        assert!(matches!(add_client(&d, "bank-b"), Err(MpcError::Io { .. })));

        let other = dir.path().join("other");
        assert!(matches!(keygen(&other, 2, &[]), Err(MpcError::Config(_))));
        for bad in [&["party-1"][..], &["ca"], &["Bad Name"], &["x", "x"], &[""]] {
            assert!(
                matches!(keygen(&other, PARTIES, bad), Err(MpcError::Config(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            add_client(&d, "party-0"),
            Err(MpcError::Config(_))
        ));

        // A key file others can read is refused.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = d.join("driver.key");
            fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
            let err = Identity::load(&ca, &d.join("driver.crt"), &key).err();
            assert!(matches!(err, Some(MpcError::Config(ref m)) if m.contains("chmod 600")));
        }
    }

    #[test]
    fn config_files_load_resolve_and_validate() {
        let (dir, addrs) = deployment(&["driver"]);
        let d = dir.path();
        let text = format!(
            r#"{{"version": 1, "id": 1, "parties": {addrs:?}, "ca_cert": "ca.crt",
                "cert": "party-1.crt", "key": "party-1.key", "timeout_secs": 20}}"#
        );
        let path = d.join("party-1.json");
        fs::write(&path, &text).expect("write");
        let loaded = PartyConfig::load(&path).expect("valid config");
        let mut expected = PartyConfig::for_dir(d, 1, &addrs, 20);
        expected.connect_timeout_secs = DEFAULT_CONNECT_TIMEOUT_SECS;
        assert_eq!(loaded, expected);
        let json = serde_json::to_string(&loaded).expect("serialize");
        assert_eq!(
            serde_json::from_str::<PartyConfig>(&json).expect("parse"),
            loaded
        );

        let bad_json = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
            edit(&mut v);
            fs::write(&path, v.to_string()).expect("write");
            PartyConfig::load(&path)
        };
        assert!(matches!(
            bad_json(&|v| v["extra"] = 1.into()),
            Err(MpcError::Config(_))
        ));
        assert!(matches!(
            bad_json(&|v| v["version"] = 2.into()),
            Err(MpcError::Config(_))
        ));
        assert!(matches!(
            bad_json(&|v| v["id"] = 3.into()),
            Err(MpcError::Config(_))
        ));
        assert!(matches!(
            bad_json(&|v| v["id"] = 0.into()),
            Err(MpcError::Config(_))
        ));
        assert!(matches!(
            bad_json(&|v| v["timeout_secs"] = 0.into()),
            Err(MpcError::Config(_))
        ));
        assert!(matches!(
            bad_json(&|v| v["parties"] = serde_json::json!(["127.0.0.1:1", "127.0.0.1:2"])),
            Err(MpcError::Config(_))
        ));
        assert!(matches!(
            bad_json(&|v| v["parties"] =
                serde_json::json!(["127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:3"])),
            Err(MpcError::Config(_))
        ));
        assert!(matches!(
            bad_json(&|v| v["key"] = "missing.key".into()),
            Err(MpcError::Io { .. })
        ));
        fs::write(&path, vec![b' '; (MAX_FILE + 1) as usize]).expect("write");
        assert!(
            matches!(PartyConfig::load(&path), Err(MpcError::Config(ref m)) if m.contains("larger"))
        );

        let client_path = d.join("driver.json");
        let ctext = format!(
            r#"{{"version": 1, "parties": {addrs:?}, "ca_cert": "ca.crt", "cert": "driver.crt",
                "key": "driver.key", "timeout_secs": 5, "connect_timeout_secs": 2}}"#
        );
        fs::write(&client_path, ctext).expect("write");
        let c = ClientLinkConfig::load(&client_path).expect("client config");
        assert_eq!(c.cert, d.join("driver.crt"));
        // A party certificate cannot open a client link.
        let mut as_party = c.clone();
        as_party.cert = d.join("party-0.crt");
        as_party.key = d.join("party-0.key");
        assert!(matches!(as_party.validate(), Err(MpcError::Config(_))));
        assert!(matches!(
            ClientLink::connect(&as_party, 0),
            Err(MpcError::Config(_))
        ));
    }

    #[test]
    fn mesh_exchanges_messages_whatever_the_start_order() {
        let (dir, addrs) = deployment(&[]);
        let configs = (0..PARTIES)
            .map(|i| config(dir.path(), i, &addrs, 10))
            .collect();
        // Party 0 (listen only) starts last; the others keep dialling until it is up.
        let mut nets: Vec<TlsTransport> = start(configs, [400, 0, 150])
            .into_iter()
            .map(|r| r.expect("mesh connects"))
            .collect();
        for (i, n) in nets.iter().enumerate() {
            assert_eq!(n.me(), i);
            assert_eq!(n.local_addr().to_string(), addrs[i]);
        }
        for (i, n) in nets.iter_mut().enumerate() {
            for j in (0..PARTIES).filter(|&j| j != i) {
                n.send(j, vec![i as u8, j as u8]).expect("send");
                n.send(j, Vec::new()).expect("send empty");
                n.send(j, pattern(100_000, i as u8)).expect("send");
            }
        }
        for (i, n) in nets.iter_mut().enumerate() {
            for j in (0..PARTIES).filter(|&j| j != i) {
                assert_eq!(n.recv(j).expect("recv"), vec![j as u8, i as u8]);
                assert_eq!(n.recv(j).expect("recv"), Vec::<u8>::new());
                assert_eq!(n.recv(j).expect("recv"), pattern(100_000, j as u8));
            }
            assert!(matches!(n.send(i, vec![]), Err(MpcError::Config(_))));
            assert!(matches!(n.recv(3), Err(MpcError::Config(_))));
        }
    }

    #[test]
    fn large_simultaneous_exchange_and_throughput() {
        let (dir, addrs) = deployment(&[]);
        const BIG: usize = 32 << 20;
        let nets = mesh(dir.path(), &addrs);
        // Everybody sends 32 MiB to both others at once, then receives.
        let started = Instant::now();
        let handles: Vec<_> = nets
            .into_iter()
            .map(|mut n| {
                thread::spawn(move || {
                    let me = n.me();
                    for j in (0..PARTIES).filter(|&j| j != me) {
                        n.send(j, pattern(BIG, (me * 3 + j) as u8)).expect("send");
                    }
                    for j in (0..PARTIES).filter(|&j| j != me) {
                        let got = n.recv(j).expect("recv 32 MiB");
                        assert!(
                            got == pattern(BIG, (j * 3 + me) as u8),
                            "{j} -> {me} corrupted"
                        );
                    }
                    n
                })
            })
            .collect();
        let mut nets: Vec<TlsTransport> = handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect();
        eprintln!(
            "6 x 32 MiB simultaneous exchange: {:.2} s",
            started.elapsed().as_secs_f64()
        );

        // 64 MiB from party 0 to party 1 and back.
        let payload = pattern(64 << 20, 42);
        let mut p1 = nets.remove(1);
        let echo = thread::spawn(move || {
            let m = p1.recv(0).expect("recv at 1");
            p1.send(0, m).expect("echo");
            p1
        });
        let t = Instant::now();
        nets[0].send(1, payload.clone()).expect("send");
        let back = nets[0].recv(1).expect("echo back");
        let secs = t.elapsed().as_secs_f64();
        assert!(back == payload, "echo corrupted");
        let _p1 = echo.join().expect("no panic");
        eprintln!(
            "64 MiB round trip over TLS on loopback: {secs:.3} s = {:.0} MB/s",
            2.0 * 64.0 * 1.048_576 / secs
        );
    }

    #[test]
    fn dropped_party_makes_the_others_fail_fast() {
        let (dir, addrs) = deployment(&[]);
        let [mut a, mut b, mut c] = mesh(dir.path(), &addrs);
        c.send(0, b"bye 0".to_vec()).expect("send");
        c.send(1, b"bye 1".to_vec()).expect("send");
        drop(c);
        let t = Instant::now();
        assert_eq!(a.recv(2).expect("last message"), b"bye 0");
        assert_eq!(b.recv(2).expect("last message"), b"bye 1");
        for n in [&mut a, &mut b] {
            match n.recv(2) {
                Err(MpcError::Disconnected { peer, .. }) => assert_eq!(peer, "party-2"),
                other => panic!("expected Disconnected, got {other:?}"),
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "well before the 20 s timeout"
        );
        // The rest of the mesh still works.
        a.send(1, b"still here".to_vec()).expect("send");
        assert_eq!(b.recv(0).expect("recv"), b"still here");
    }

    #[test]
    fn killed_party_makes_the_others_fail_fast() {
        let (dir, addrs) = deployment(&[]);
        let [mut a, mut b, c] = mesh(dir.path(), &addrs);
        c.sever();
        let t = Instant::now();
        for n in [&mut a, &mut b] {
            assert!(
                matches!(n.recv(2), Err(MpcError::Disconnected { ref peer, .. }) if peer == "party-2")
            );
        }
        assert!(t.elapsed() < Duration::from_secs(5));
        drop(c);
    }

    #[test]
    fn stalled_party_times_out() {
        let (dir, addrs) = deployment(&[]);
        let [mut a, b, _c] = mesh(dir.path(), &addrs);
        a.set_timeout(Duration::from_millis(400));
        let t = Instant::now();
        match a.recv(1) {
            Err(MpcError::Timeout { peer, secs }) => {
                assert_eq!(peer, "party-1");
                assert_eq!(secs, 1);
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
        let waited = t.elapsed();
        assert!(waited >= Duration::from_millis(390) && waited < Duration::from_secs(3));
        drop(b);
    }

    #[test]
    fn client_certificate_from_another_ca_is_rejected() {
        let (dir, addrs) = deployment(&[]);
        let other = TempDir::new().expect("temp dir");
        keygen(other.path(), PARTIES, &[]).expect("keygen");
        let mut configs: Vec<PartyConfig> = (0..PARTIES)
            .map(|i| config(dir.path(), i, &addrs, 3))
            .collect();
        // Party 2 trusts the right CA but presents a certificate from another one.
        configs[2].cert = other.path().join("party-2.crt");
        configs[2].key = other.path().join("party-2.key");
        let t = Instant::now();
        let results = start(configs, [0, 0, 0]);
        match &results[2] {
            Err(MpcError::Tls { peer, reason }) => {
                assert!(peer == "party-0" || peer == "party-1", "{peer}: {reason}");
            }
            Err(e) => panic!("expected Tls, got {e}"),
            Ok(_) => panic!("party 2 joined with a foreign certificate"),
        }
        // Party 2 gives up at its first refusal, so one listener may never see it (Timeout);
        // the one that refused it reports the certificate error.
        let mut refused = 0;
        for r in &results[..2] {
            match r {
                Err(MpcError::Tls { peer, reason }) => {
                    assert!(peer.starts_with("party-2"), "{peer}: {reason}");
                    assert!(reason.contains("certificate"), "{reason}");
                    refused += 1;
                }
                Err(MpcError::Timeout { peer, .. }) => assert_eq!(peer, "party-2"),
                Err(e) => panic!("expected Tls or Timeout, got {e}"),
                Ok(_) => panic!("mesh formed without party 2"),
            }
        }
        assert!(refused >= 1, "no listener reported the foreign certificate");
        assert!(t.elapsed() < Duration::from_secs(8));
    }

    #[test]
    fn server_certificate_from_another_ca_is_rejected() {
        let (dir, addrs) = deployment(&[]);
        let other = TempDir::new().expect("temp dir");
        keygen(other.path(), PARTIES, &[]).expect("keygen");
        let mut configs: Vec<PartyConfig> = (0..PARTIES)
            .map(|i| config(dir.path(), i, &addrs, 3))
            .collect();
        configs[0].cert = other.path().join("party-0.crt");
        configs[0].key = other.path().join("party-0.key");
        let results = start(configs, [0, 0, 0]);
        // Party 1 only dials party 0, so it sees the certificate error.
        match &results[1] {
            Err(MpcError::Tls { peer, reason }) => {
                assert_eq!(peer, "party-0", "{reason}");
                assert!(reason.contains("certificate"), "{reason}");
            }
            Err(e) => panic!("expected Tls, got {e}"),
            Ok(_) => panic!("accepted a foreign server certificate"),
        }
        // Party 2 fails on party 0's certificate, or first on party 1 having given up.
        match &results[2] {
            Err(MpcError::Tls { peer, .. }) => assert!(peer == "party-0" || peer == "party-1"),
            Err(e) => panic!("expected Tls, got {e}"),
            Ok(_) => panic!("accepted a foreign server certificate"),
        }
        assert!(results[0].is_err());
    }

    #[test]
    fn certificate_of_the_wrong_party_is_rejected() {
        let (dir, addrs) = deployment(&[]);
        let d = dir.path();
        let mut rogue = config(d, 2, &addrs, 3);
        rogue.cert = d.join("party-1.crt");
        rogue.key = d.join("party-1.key");
        // Locally, the configuration is refused outright.
        assert!(matches!(rogue.validate(), Err(MpcError::Config(_))));
        assert!(matches!(
            TlsTransport::connect(&rogue),
            Err(MpcError::Config(_))
        ));

        // A party 2 that presents party 1's certificate anyway is refused by both listeners.
        let honest: Vec<_> = (0..2)
            .map(|i| {
                let c = config(d, i, &addrs, 3);
                thread::spawn(move || TlsTransport::connect(&c))
            })
            .collect();
        thread::sleep(Duration::from_millis(500)); // parties 0 and 1 connect first
        let identity = Identity::load(&rogue.ca_cert, &rogue.cert, &rogue.key).expect("files");
        match TlsTransport::connect_with(&rogue, &identity) {
            Err(MpcError::Tls { peer, reason }) => {
                assert!(peer == "party-0" || peer == "party-1", "{peer}");
                assert!(reason.contains("refused"), "{reason}");
            }
            Err(e) => panic!("expected Tls, got {e}"),
            Ok(_) => panic!("rogue joined"),
        }
        // Normally both listeners refused the rogue (party 0: party-1 already connected;
        // party 1: its own certificate). Under load the rogue may reach party 0 before the real
        // party 1, which is then the one refused; or be abandoned before reaching party 1.
        let mut refused = 0;
        for h in honest {
            match h.join().expect("no panic") {
                Err(MpcError::Tls { peer, reason }) => {
                    assert!(reason.contains("party-1"), "{peer}: {reason}");
                    refused += 1;
                }
                Err(MpcError::Timeout { peer, .. }) => assert_eq!(peer, "party-2"),
                Err(e) => panic!("expected Tls, got {e}"),
                Ok(_) => panic!("mesh formed with a rogue"),
            }
        }
        assert!(refused >= 1);
    }

    /// Issues a client certificate with a DNS name and a different CN, signed by the CA.
    fn mismatched_client(dir: &Path, dns: &str, cn: &str) {
        let ca_pem = fs::read_to_string(dir.join("ca.crt")).expect("ca");
        let ca_key = KeyPair::from_pem(&fs::read_to_string(dir.join("ca.key")).expect("key"))
            .expect("ca key");
        let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).expect("issuer");
        let mut params = CertificateParams::new(vec![dns.to_owned()]).expect("params");
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &issuer).expect("sign");
        write_new(&dir.join(format!("{dns}.crt")), &cert.pem(), false).expect("write");
        write_new(&dir.join(format!("{dns}.key")), &key.serialize_pem(), true).expect("write");
    }

    #[test]
    fn clients_reach_parties_and_impostors_do_not() {
        let (dir, addrs) = deployment(&["hospital-a"]);
        let d = dir.path();
        add_client(d, "driver").expect("add client");
        mismatched_client(d, "mallory", "party-1");
        let mut nets = mesh(d, &addrs);

        // A data holder sends to every party; each party answers.
        let cfg = ClientLinkConfig::for_dir(d, "hospital-a", &addrs, 10);
        let mut links: Vec<ClientLink> = (0..PARTIES)
            .map(|i| ClientLink::connect(&cfg, i).expect("client connects"))
            .collect();
        for (i, l) in links.iter_mut().enumerate() {
            assert_eq!(l.peer_name(), party_name(i));
            l.send(format!("share for {i}").into_bytes()).expect("send");
        }
        for (i, n) in nets.iter_mut().enumerate() {
            let mut c = n
                .accept_client(Duration::from_secs(5))
                .expect("client arrives");
            assert_eq!(c.peer_name(), "hospital-a");
            assert_eq!(
                c.recv().expect("share"),
                format!("share for {i}").into_bytes()
            );
            c.send(b"thanks".to_vec()).expect("reply");
            assert_eq!(links[i].recv().expect("reply"), b"thanks");
        }
        // A client added later is accepted too.
        let driver = ClientLinkConfig::for_dir(d, "driver", &addrs, 10);
        let mut q = ClientLink::connect(&driver, 2).expect("driver connects");
        let mut at2 = nets[2]
            .accept_client(Duration::from_secs(5))
            .expect("driver");
        assert_eq!(at2.peer_name(), "driver");
        q.send(b"SELECT".to_vec()).expect("send");
        assert_eq!(at2.recv().expect("query"), b"SELECT");

        // A certificate whose CN claims party-1 but whose DNS name is mallory is refused.
        let identity = Identity::load(
            &d.join("ca.crt"),
            &d.join("mallory.crt"),
            &d.join("mallory.key"),
        )
        .expect("files load");
        assert!(identity.name.is_err());
        let tls = identity.client_config().expect("config");
        let deadline = Instant::now() + Duration::from_secs(3);
        let stop = AtomicBool::new(false);
        match dial(&addrs[0], 0, &tls, deadline, Duration::from_secs(5), &stop) {
            Err(MpcError::Tls { peer, reason }) => {
                assert_eq!(peer, "party-0");
                assert!(
                    reason.contains("refused") && reason.contains("CN"),
                    "{reason}"
                );
            }
            Err(e) => panic!("expected Tls, got {e}"),
            Ok(_) => panic!("impostor accepted"),
        }
        match nets[0].accept_client(Duration::from_secs(5)) {
            Err(MpcError::Tls { reason, .. }) => assert!(reason.contains("CN"), "{reason}"),
            Err(e) => panic!("expected Tls, got {e}"),
            Ok(_) => panic!("impostor handed to the party"),
        }
        // A party-1 certificate cannot slip in once the mesh is up (duplicate).
        let p1 = Identity::load(
            &d.join("ca.crt"),
            &d.join("party-1.crt"),
            &d.join("party-1.key"),
        )
        .expect("files");
        let tls = p1.client_config().expect("config");
        assert!(matches!(
            dial(&addrs[0], 0, &tls, deadline, Duration::from_secs(5), &stop),
            Err(MpcError::Tls { ref reason, .. }) if reason.contains("already connected")
        ));
        // The dialler retried until its deadline (a party between meshes looks the same); each
        // attempt was refused and reported, none handed over as a client.
        let mut refusals = 0;
        loop {
            match nets[0].accept_client(Duration::from_millis(200)) {
                Err(MpcError::Tls { reason, .. }) => {
                    assert!(reason.contains("already connected"), "{reason}");
                    refusals += 1;
                }
                Err(MpcError::Timeout { .. }) => break,
                Err(e) => panic!("expected Tls or Timeout, got {e}"),
                Ok(_) => panic!("a duplicate party handed over as a client"),
            }
        }
        assert!(refusals >= 1);
    }

    #[test]
    fn oversized_frame_is_malformed() {
        let (dir, addrs) = deployment(&["hospital-a"]);
        let [mut a, mut b, _c] = mesh(dir.path(), &addrs);
        let huge = u32::try_from(MAX_MESSAGE + 1).expect("fits").to_le_bytes();

        // Party 1 sends one good frame, then a header announcing more than MAX_MESSAGE.
        let link = b.link(0).expect("link");
        link.send(b"fine".to_vec()).expect("send");
        link.out.send(Cmd::Raw(huge.to_vec())).expect("raw");
        assert_eq!(a.recv(1).expect("good frame first"), b"fine");
        match a.recv(1) {
            Err(MpcError::Malformed { peer, reason }) => {
                assert_eq!(peer, "party-1");
                assert!(reason.contains("exceeds"), "{reason}");
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
        assert!(matches!(a.recv(1), Err(MpcError::Disconnected { .. })));
        // The receiver ended the connection, so the sender learns it too, without waiting.
        let t = Instant::now();
        assert!(matches!(b.recv(0), Err(MpcError::Disconnected { .. })));
        assert!(t.elapsed() < Duration::from_secs(5));

        // The same from a client.
        let cfg = ClientLinkConfig::for_dir(dir.path(), "hospital-a", &addrs, 10);
        let client = ClientLink::connect(&cfg, 0).expect("connect");
        let mut at0 = a.accept_client(Duration::from_secs(5)).expect("client");
        client.link.out.send(Cmd::Raw(huge.to_vec())).expect("raw");
        assert!(
            matches!(at0.recv(), Err(MpcError::Malformed { ref peer, .. }) if peer == "hospital-a")
        );
    }
}
