//! Participant names: the syntax of a certificate's name, the compute parties' names
//! (`party-{i}`), and who a verified certificate names ([`identity_of`]).

use x509_parser::extensions::GeneralName;

use crate::error::{IdentityFault, MpcError, Peer, Result};
use crate::transport::{PARTIES, PartyId};

/// The certificate (DNS) name of compute party `id`: `party-{id}`.
pub fn party_name(id: PartyId) -> String {
    format!("party-{id}")
}

/// `s` for an error message: at most 64 characters, escaped.
pub(crate) fn shown(s: &str) -> String {
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

/// Checks a client name for [`crate::pki`]: valid syntax, not a party or the CA.
pub(crate) fn check_client_name(name: &str) -> Result<()> {
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
pub(crate) enum PeerId {
    /// A compute party.
    Party(PartyId),
    /// A data holder or query driver.
    Client(String),
}

impl PeerId {
    /// Who it is, in errors.
    pub(crate) fn peer(&self) -> Peer {
        match self {
            PeerId::Party(k) => Peer::Party(*k),
            PeerId::Client(n) => Peer::Client(n.clone()),
        }
    }

    /// The certificate name.
    pub(crate) fn name(&self) -> String {
        match self {
            PeerId::Party(k) => party_name(*k),
            PeerId::Client(n) => n.clone(),
        }
    }
}

/// Why a certificate names no acceptable participant: the cause, and its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadIdentity {
    /// The cause.
    pub(crate) fault: IdentityFault,
    /// What is wrong, naming what the certificate carries.
    pub(crate) detail: String,
}

impl BadIdentity {
    pub(super) fn new(fault: IdentityFault, detail: impl Into<String>) -> BadIdentity {
        BadIdentity {
            fault,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for BadIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// Maps a certificate (already verified against the CA, or our own) to the participant it
/// names: its single subjectAltName DNS name, which the subject CN (if any) must repeat.
pub(crate) fn identity_of(der: &[u8]) -> std::result::Result<PeerId, BadIdentity> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| {
        BadIdentity::new(
            IdentityFault::Unparsable,
            format!("unparsable certificate: {e}"),
        )
    })?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| {
            BadIdentity::new(IdentityFault::NoDnsName, format!("bad subjectAltName: {e}"))
        })?
        .ok_or_else(|| {
            BadIdentity::new(
                IdentityFault::NoDnsName,
                "certificate has no subjectAltName",
            )
        })?;
    let mut dns = san.value.general_names.iter().filter_map(|g| match g {
        GeneralName::DNSName(s) => Some(*s),
        _ => None,
    });
    let name = match (dns.next(), dns.next()) {
        (Some(n), None) => n,
        (None, _) => {
            return Err(BadIdentity::new(
                IdentityFault::NoDnsName,
                "certificate has no DNS name",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(BadIdentity::new(
                IdentityFault::SeveralDnsNames,
                "certificate has more than one DNS name",
            ));
        }
    };
    check_name_syntax(name).map_err(|e| BadIdentity::new(IdentityFault::BadName, e))?;
    for cn in cert.subject().iter_common_name() {
        let cn = cn.as_str().map_err(|e| {
            BadIdentity::new(
                IdentityFault::CnMismatch,
                format!("unreadable subject CN: {e}"),
            )
        })?;
        if cn != name {
            return Err(BadIdentity::new(
                IdentityFault::CnMismatch,
                format!(
                    "subject CN {} differs from the DNS name {}",
                    shown(cn),
                    shown(name)
                ),
            ));
        }
    }
    match name.strip_prefix("party-") {
        Some(digits) => match digits.parse::<usize>() {
            Ok(k) if k < PARTIES && party_name(k) == name => Ok(PeerId::Party(k)),
            _ => Err(BadIdentity::new(
                IdentityFault::NotAParty,
                format!("{} is not a party of this mesh", shown(name)),
            )),
        },
        None => Ok(PeerId::Client(name.to_owned())),
    }
}

#[cfg(test)]
#[path = "names_tests.rs"]
mod tests;
