//! The consortium's certificate authority: [`keygen`] writes a deployment's key material into
//! a directory (a CA, `ca.crt`/`ca.key`; `party-{i}.crt`/`.key` for the three parties; and
//! `{name}.crt`/`.key` for each named client), [`add_client`] issues one more client
//! certificate from `ca.crt`/`ca.key`. Certificates follow the transport's naming rules
//! ([`crate::transport::tls`], "Identities"): one DNS name, repeated as the subject CN.
//! Keys are ECDSA P-256, written 0600; existing files are never overwritten.

use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use crate::error::{MpcError, Result};
use crate::transport::PARTIES;
use crate::transport::tls::identity::{ensure_absent, io_err, read_limited, write_new};
use crate::transport::tls::names::{check_client_name, party_name, shown};

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

#[cfg(test)]
#[path = "pki_tests.rs"]
mod tests;
