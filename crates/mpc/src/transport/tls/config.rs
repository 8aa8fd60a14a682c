//! The network configurations (JSON): a compute party's [`PartyConfig`] and a client's
//! [`ClientLinkConfig`], their shared checks and timeouts, and loading the [`Identity`] each
//! names.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::identity::{Identity, MAX_FILE, read_limited};
use super::names::{PeerId, party_name, shown};
use crate::error::{MpcError, Result};
use crate::transport::{PARTIES, PartyId};

/// Version of the JSON configuration formats ([`PartyConfig`], [`ClientLinkConfig`]).
pub const CONFIG_VERSION: u32 = 1;

/// Default `connect_timeout_secs`.
pub(super) const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 30;
/// Largest accepted timeout, seconds (one day).
const MAX_TIMEOUT_SECS: u64 = 86_400;

fn default_connect_timeout() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_SECS
}

/// Parses a JSON configuration that came from `origin` (at most [`MAX_FILE`] bytes, like a
/// file).
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], origin: &Path) -> Result<T> {
    if bytes.len() as u64 > MAX_FILE {
        return Err(MpcError::FileTooLarge {
            path: origin.display().to_string(),
            limit: MAX_FILE,
        });
    }
    serde_json::from_slice(bytes)
        .map_err(|e| MpcError::Config(format!("{}: {e}", origin.display())))
}

/// A configuration as pretty JSON.
fn to_json<T: Serialize>(config: &T) -> Result<String> {
    serde_json::to_string_pretty(config)
        .map_err(|e| MpcError::Config(format!("configuration not representable as JSON: {e}")))
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
    /// How long [`super::TlsTransport::connect`] waits for the whole mesh, seconds.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
}

impl PartyConfig {
    /// The configuration of party `id` for a [`crate::pki::keygen`] directory (absolute file
    /// paths).
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
        let config = Self::from_bytes(&read_limited(path, false)?, path)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses the JSON of a configuration file `origin` (which names it in errors; relative
    /// paths are resolved against its directory) and checks its fields, without reading the
    /// files it names ([`PartyConfig::validate`] does): for configurations that do not come from
    /// a file, and for checking one before it is written.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self> {
        let mut config: PartyConfig = parse_json(bytes, origin)?;
        let base = origin.parent().unwrap_or(Path::new("."));
        config.ca_cert = resolve(base, &config.ca_cert);
        config.cert = resolve(base, &config.cert);
        config.key = resolve(base, &config.key);
        config.check_fields()?;
        Ok(config)
    }

    /// The configuration as the JSON of its file (what [`PartyConfig::from_bytes`] reads);
    /// [`MpcError::Config`] if a path is not UTF-8.
    pub fn to_json(&self) -> Result<String> {
        to_json(self)
    }

    /// Checks the fields and that the files load and the certificate names `party-{id}`.
    pub fn validate(&self) -> Result<()> {
        self.load_identity().map(|_| ())
    }

    /// Checks the fields (version, addresses, timeouts, id), not the files.
    fn check_fields(&self) -> Result<()> {
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
        Ok(())
    }

    /// The receive timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// Checks the fields and loads the files; the certificate must name `party-{id}`.
    pub(super) fn load_identity(&self) -> Result<Identity> {
        self.check_fields()?;
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
    /// How long [`super::ClientLink::connect`] keeps trying to reach a party, seconds.
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

    /// The configuration of client `name` for a [`crate::pki::keygen`] directory (absolute
    /// file paths).
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
        let config = Self::from_bytes(&read_limited(path, false)?, path)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses the JSON of a configuration file `origin` (which names it in errors; relative
    /// paths are resolved against its directory) and checks its fields, without reading the
    /// files it names ([`ClientLinkConfig::validate`] does).
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self> {
        let mut config: ClientLinkConfig = parse_json(bytes, origin)?;
        let base = origin.parent().unwrap_or(Path::new("."));
        config.ca_cert = resolve(base, &config.ca_cert);
        config.cert = resolve(base, &config.cert);
        config.key = resolve(base, &config.key);
        check_common(
            config.version,
            &config.parties,
            config.timeout_secs,
            config.connect_timeout_secs,
        )?;
        Ok(config)
    }

    /// The configuration as the JSON of its file (what [`ClientLinkConfig::from_bytes`] reads);
    /// [`MpcError::Config`] if a path is not UTF-8.
    pub fn to_json(&self) -> Result<String> {
        to_json(self)
    }

    /// Checks the fields and that the files load and the certificate names a client.
    pub fn validate(&self) -> Result<()> {
        self.load_identity().map(|_| ())
    }

    /// Checks the fields and loads the files; the certificate must name a client.
    pub(super) fn load_identity(&self) -> Result<Identity> {
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

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
