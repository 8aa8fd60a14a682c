//! Identity files: reading and writing key material safely (size limit, private keys 0600 and
//! never overwritten, refused when others can read them), and a participant's loaded
//! [`Identity`] (trust anchors, certificate chain, key) with the TLS configurations built
//! from it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use super::names::{BadIdentity, PeerId, identity_of};
use crate::error::{MpcError, Peer, Result, TlsStep};

/// Largest configuration, certificate or key file read, bytes.
pub(crate) const MAX_FILE: u64 = 1 << 20;

/// Maps an I/O error on `path` to [`MpcError::Io`] naming it.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> MpcError + '_ {
    move |source| MpcError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads at most [`MAX_FILE`] bytes of `path` (larger files are refused); with `secret`, also
/// refuses (on Unix) a file readable or writable by group or others.
pub(crate) fn read_limited(path: &Path, secret: bool) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(io_err(path))?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(io_err(path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(MpcError::KeyExposed {
                path: path.display().to_string(),
                mode: mode & 0o777,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err(path))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(MpcError::FileTooLarge {
            path: path.display().to_string(),
            limit: MAX_FILE,
        });
    }
    Ok(bytes)
}

/// Creates `path` (never overwriting) with `contents`; mode 0600 if `secret`, else 0644.
pub(crate) fn write_new(path: &Path, contents: &str, secret: bool) -> Result<()> {
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
pub(crate) fn ensure_absent(paths: &[PathBuf]) -> Result<()> {
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

/// One participant's trust anchors, certificate chain and key, with the name its certificate
/// carries.
pub(crate) struct Identity {
    /// Who our certificate names, or why it names no one acceptable.
    pub(crate) name: std::result::Result<PeerId, BadIdentity>,
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
    pub(crate) fn load(ca_cert: &Path, cert: &Path, key: &Path) -> Result<Identity> {
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
            peer: Peer::Other("(local configuration)".into()),
            step: TlsStep::Setup,
            reason: e.to_string(),
        }
    }

    /// Listener side: TLS 1.3, a client certificate chaining to the CA is required.
    pub(super) fn server_config(&self) -> Result<Arc<rustls::ServerConfig>> {
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
    pub(crate) fn client_config(&self) -> Result<Arc<rustls::ClientConfig>> {
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
