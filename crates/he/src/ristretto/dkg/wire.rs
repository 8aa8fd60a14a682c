//! The DKG messages' JSON documents: one serde enum, tagged by `"kind"`, with a variant per
//! message, inside an envelope that carries `"version"` first (as every document of
//! [`crate::ristretto::wire`] does). Fixed-size items are lowercase hex; the proof of
//! possession is elastic-elgamal's serde encoding.
//!
//! Decoding reads the header (`version`, `kind`) first, so a document of another version or
//! kind is refused as such ([`HeError::UnsupportedVersion`], [`HeError::WrongKind`]) before its
//! body is looked at; then the body, with unknown fields refused.

use curve25519_dalek::ristretto::RistrettoPoint;
use elastic_elgamal::ProofOfPossession;
use elastic_elgamal::group::Ristretto;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::messages::{
    Commitment, Complaint, ComplaintAnswer, ComplaintReason, Message, MessageKind, Reveal,
    SecretShare,
};
use crate::error::{HeError, Result, clip};
use crate::ristretto::codec;
use crate::ristretto::keys::MAX_AUTHORITIES;
use crate::ristretto::wire::{self, MAX_DKG_DOC_BYTES};

/// `"kind"` of documents of any DKG message, as named in errors.
const ANY_KIND: &str = "he-ristretto-dkg-*";

/// A document: the format version, then the tagged body.
#[derive(Serialize, Deserialize)]
struct Document {
    version: u32,
    #[serde(flatten)]
    body: Body,
}

/// A document's header, read before its body.
#[derive(Deserialize)]
struct Header {
    version: u32,
    kind: String,
}

/// The body of each kind of document (the `kind` values are the serde variant names).
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
enum Body {
    #[serde(rename = "he-ristretto-dkg-commitment")]
    Commitment { from: u32, digest: String },
    #[serde(rename = "he-ristretto-dkg-reveal")]
    Reveal {
        from: u32,
        polynomial: Vec<String>,
        proof_of_possession: ProofOfPossession<Ristretto>,
        opening: String,
    },
    #[serde(rename = "he-ristretto-dkg-share")]
    Share { from: u32, to: u32, share: String },
    #[serde(rename = "he-ristretto-dkg-complaint")]
    Complaint {
        from: u32,
        against: u32,
        reason: ComplaintReason,
    },
    #[serde(rename = "he-ristretto-dkg-answer")]
    Answer { from: u32, to: u32, share: String },
}

/// The `"kind"` of a message's documents.
fn kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Commitment => "he-ristretto-dkg-commitment",
        MessageKind::Reveal => "he-ristretto-dkg-reveal",
        MessageKind::Share => "he-ristretto-dkg-share",
        MessageKind::Complaint => "he-ristretto-dkg-complaint",
        MessageKind::Answer => "he-ristretto-dkg-answer",
    }
}

/// What a message's documents are called in errors.
fn describe(kind: Option<MessageKind>) -> &'static str {
    match kind {
        Some(MessageKind::Commitment) => "DKG commitment",
        Some(MessageKind::Reveal) => "DKG reveal",
        Some(MessageKind::Share) => "DKG secret share",
        Some(MessageKind::Complaint) => "DKG complaint",
        Some(MessageKind::Answer) => "DKG complaint answer",
        None => "DKG message",
    }
}

const KINDS: [MessageKind; 5] = [
    MessageKind::Commitment,
    MessageKind::Reveal,
    MessageKind::Share,
    MessageKind::Complaint,
    MessageKind::Answer,
];

fn encode(body: Body) -> Zeroizing<String> {
    let mut doc = Document {
        version: wire::VERSION,
        body,
    };
    let text = Zeroizing::new(wire::to_json(&doc));
    if let Body::Share { share, .. } = &mut doc.body {
        share.zeroize();
    }
    text
}

/// Decodes a document of kind `expected` (any DKG kind when `None`).
fn decode(bytes: &[u8], expected: Option<MessageKind>) -> Result<Message> {
    let what = describe(expected);
    let header: Header = codec::json(bytes, what, MAX_DKG_DOC_BYTES)?;
    wire::check_version(header.version, what)?;
    let found = KINDS.into_iter().find(|&k| kind_name(k) == header.kind);
    if found.is_none() || expected.is_some_and(|e| found != Some(e)) {
        return Err(HeError::WrongKind {
            what: what.into(),
            found: clip(&header.kind),
            expected: expected.map_or(ANY_KIND, kind_name),
        });
    }
    let doc: Document = codec::json(bytes, what, MAX_DKG_DOC_BYTES)?;
    from_body(doc.body)
}

fn from_body(body: Body) -> Result<Message> {
    Ok(match body {
        Body::Commitment { from, digest } => Message::Commitment(Commitment {
            from,
            digest: codec::hex_array(&digest, "commitment digest")?,
        }),
        Body::Reveal {
            from,
            polynomial,
            proof_of_possession,
            opening,
        } => Message::Reveal(Reveal {
            from,
            polynomial: polynomial_points(from, &polynomial)?,
            proof: proof_of_possession,
            opening: codec::hex_array(&opening, "commitment opening")?,
        }),
        Body::Share {
            from,
            to,
            mut share,
        } => {
            let bytes = codec::hex_secret(&share, "secret share");
            share.zeroize();
            Message::Share(SecretShare {
                from,
                to,
                share: bytes?,
            })
        }
        Body::Complaint {
            from,
            against,
            reason,
        } => Message::Complaint(Complaint {
            from,
            against,
            reason,
        }),
        Body::Answer { from, to, share } => Message::Answer(ComplaintAnswer {
            from,
            to,
            share: codec::hex_array(&share, "published share")?,
        }),
    })
}

/// Canonical, non-identity points, at most [`MAX_AUTHORITIES`] of them (the degree itself is
/// checked against the session when the reveal is received).
fn polynomial_points(from: u32, polynomial: &[String]) -> Result<Vec<RistrettoPoint>> {
    if polynomial.len() > MAX_AUTHORITIES as usize {
        return Err(HeError::TooLarge {
            what: "DKG reveal polynomial".into(),
            size: polynomial.len() as u64,
            limit: u64::from(MAX_AUTHORITIES),
            unit: "coefficients",
        });
    }
    polynomial
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let what = format!("coefficient {k} of authority {from}'s polynomial");
            codec::non_identity_point(&codec::hex_array::<32>(p, &what)?, &what)
        })
        .collect()
}

/// The error for a document of the right header whose body is of another kind (cannot
/// happen: the tag decides the variant; kept so that decoding never panics).
fn mismatch(expected: MessageKind, found: &Message) -> HeError {
    HeError::WrongKind {
        what: describe(Some(expected)).into(),
        found: kind_name(found.kind()).into(),
        expected: kind_name(expected),
    }
}

impl Message {
    /// Encodes as a versioned JSON document. The text is zeroized when dropped, since a
    /// [`SecretShare`] is secret.
    pub fn to_json(&self) -> Zeroizing<String> {
        match self {
            Message::Commitment(m) => Zeroizing::new(m.to_json()),
            Message::Reveal(m) => Zeroizing::new(m.to_json()),
            Message::Share(m) => m.to_json(),
            Message::Complaint(m) => Zeroizing::new(m.to_json()),
            Message::Answer(m) => Zeroizing::new(m.to_json()),
        }
    }

    /// Decodes a document of any DKG message kind.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        decode(bytes, None)
    }
}

impl Commitment {
    /// Encodes as a versioned JSON document.
    pub fn to_json(&self) -> String {
        encode(Body::Commitment {
            from: self.from,
            digest: hex::encode(self.digest),
        })
        .to_string()
    }

    /// Decodes a commitment document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        match decode(bytes, Some(MessageKind::Commitment))? {
            Message::Commitment(m) => Ok(m),
            other => Err(mismatch(MessageKind::Commitment, &other)),
        }
    }
}

impl Reveal {
    /// Encodes as a versioned JSON document.
    pub fn to_json(&self) -> String {
        encode(Body::Reveal {
            from: self.from,
            polynomial: self
                .polynomial
                .iter()
                .map(|p| hex::encode(p.compress().as_bytes()))
                .collect(),
            proof_of_possession: self.proof.clone(),
            opening: hex::encode(self.opening),
        })
        .to_string()
    }

    /// Decodes a reveal document: canonical points, at most [`MAX_AUTHORITIES`]
    /// coefficients (the degree itself is checked against the session when received).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        match decode(bytes, Some(MessageKind::Reveal))? {
            Message::Reveal(m) => Ok(m),
            other => Err(mismatch(MessageKind::Reveal, &other)),
        }
    }
}

impl SecretShare {
    /// Encodes as a versioned JSON document (secret: send only on the private channel to `to`).
    pub fn to_json(&self) -> Zeroizing<String> {
        encode(Body::Share {
            from: self.from,
            to: self.to,
            share: hex::encode(*self.share),
        })
    }

    /// Decodes a share document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        match decode(bytes, Some(MessageKind::Share))? {
            Message::Share(m) => Ok(m),
            other => Err(mismatch(MessageKind::Share, &other)),
        }
    }
}

impl Complaint {
    /// Encodes as a versioned JSON document.
    pub fn to_json(&self) -> String {
        encode(Body::Complaint {
            from: self.from,
            against: self.against,
            reason: self.reason,
        })
        .to_string()
    }

    /// Decodes a complaint document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        match decode(bytes, Some(MessageKind::Complaint))? {
            Message::Complaint(m) => Ok(m),
            other => Err(mismatch(MessageKind::Complaint, &other)),
        }
    }
}

impl ComplaintAnswer {
    /// Encodes as a versioned JSON document.
    pub fn to_json(&self) -> String {
        encode(Body::Answer {
            from: self.from,
            to: self.to,
            share: hex::encode(self.share),
        })
        .to_string()
    }

    /// Decodes a complaint-answer document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        match decode(bytes, Some(MessageKind::Answer))? {
            Message::Answer(m) => Ok(m),
            other => Err(mismatch(MessageKind::Answer, &other)),
        }
    }
}
