//! Why a DKG step failed, as data: which dealer misbehaved and how ([`Misbehaviour`]), which
//! message broke the protocol ([`Violation`]), why no key came out ([`Failure`]). Each prints
//! the sentence the error message shows.

use std::fmt;

use super::messages::MessageKind;

/// What a dealer did that disqualified it (carried by
/// [`HeError::Disqualified`](crate::HeError::Disqualified) and listed in
/// [`DkgOutcome::disqualified`](super::DkgOutcome::disqualified)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misbehaviour {
    /// It sent no commitment in round 1.
    NoCommitment,
    /// Its reveal does not open its commitment.
    RevealMismatch,
    /// Its public polynomial (degree, proof of possession) does not validate.
    InvalidPolynomial {
        /// elastic-elgamal's reason.
        reason: String,
    },
    /// It revealed no polynomial in round 2.
    NoReveal,
    /// The share it published in answer to `accuser`'s complaint does not lie on its polynomial.
    InvalidAnswer {
        /// The authority that complained.
        accuser: u32,
    },
    /// It did not answer `accuser`'s complaint.
    Unanswered {
        /// The authority that complained.
        accuser: u32,
    },
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misbehaviour::NoCommitment => f.write_str("sent no commitment"),
            Misbehaviour::RevealMismatch => f.write_str("its reveal does not open its commitment"),
            Misbehaviour::InvalidPolynomial { reason } => {
                write!(f, "its public polynomial does not validate ({reason})")
            }
            Misbehaviour::NoReveal => f.write_str("revealed no polynomial"),
            Misbehaviour::InvalidAnswer { accuser } => write!(
                f,
                "its published share for authority {accuser} does not lie on its polynomial"
            ),
            Misbehaviour::Unanswered { accuser } => {
                write!(f, "did not answer authority {accuser}'s complaint")
            }
        }
    }
}

/// A message that does not fit the session (carried by
/// [`HeError::DkgProtocol`](crate::HeError::DkgProtocol)); the message is refused, nobody is
/// disqualified for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// The sender is not one of the n authorities.
    UnknownSender {
        /// The message's kind.
        message: MessageKind,
        /// The index it claims.
        from: u32,
        /// n.
        authorities: u32,
    },
    /// The message claims to come from the authority receiving it.
    FromSelf {
        /// The message's kind.
        message: MessageKind,
        /// The index it claims.
        from: u32,
    },
    /// A second commitment, different from the first, from the same sender.
    SecondCommitment {
        /// The sender.
        from: u32,
    },
    /// A second reveal from the same sender.
    SecondReveal {
        /// The sender.
        from: u32,
    },
    /// A second share from the same dealer.
    SecondShare {
        /// The dealer.
        from: u32,
    },
    /// A share addressed to another authority than the one receiving it.
    Misaddressed {
        /// The dealer.
        from: u32,
        /// The authority it is addressed to.
        to: u32,
        /// The authority that received it.
        receiver: u32,
    },
    /// A complaint that does not name two distinct authorities of the session.
    InvalidComplaint {
        /// The accuser it names.
        from: u32,
        /// The accused it names.
        against: u32,
        /// n.
        authorities: u32,
    },
    /// A complaint the authority asked to answer it is not accused by.
    NotAnswerable {
        /// The accuser it names.
        from: u32,
        /// The accused it names.
        against: u32,
        /// The authority asked to answer.
        answerer: u32,
    },
    /// An answer to no pending complaint.
    UnexpectedAnswer {
        /// The dealer that answered.
        from: u32,
        /// The accuser it answers.
        to: u32,
    },
    /// This authority's own dealing does not validate (a broken generator or a bug).
    OwnDealing {
        /// elastic-elgamal's reason.
        reason: String,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::UnknownSender {
                message,
                from,
                authorities,
            } => write!(
                f,
                "{message} from authority {from}, but there are only {authorities} authorities"
            ),
            Violation::FromSelf { message, from } => {
                write!(f, "{message} claims to come from this authority ({from})")
            }
            Violation::SecondCommitment { from } => {
                write!(f, "authority {from} sent a second, different commitment")
            }
            Violation::SecondReveal { from } => write!(f, "authority {from} revealed twice"),
            Violation::SecondShare { from } => write!(f, "authority {from} sent a second share"),
            Violation::Misaddressed { from, to, receiver } => write!(
                f,
                "share from authority {from} is addressed to authority {to}, not {receiver}"
            ),
            Violation::InvalidComplaint {
                from,
                against,
                authorities,
            } => write!(
                f,
                "complaint by {from} against {against} does not name two of the {authorities} \
                 authorities"
            ),
            Violation::NotAnswerable {
                from,
                against,
                answerer,
            } => write!(
                f,
                "complaint by {from} against {against} is not one authority {answerer} can answer"
            ),
            Violation::UnexpectedAnswer { from, to } => write!(
                f,
                "answer from authority {from} to authority {to} matches no pending complaint"
            ),
            Violation::OwnDealing { reason } => {
                write!(f, "own dealing does not validate: {reason}")
            }
        }
    }
}

/// Why the DKG produced no key (carried by [`HeError::DkgFailed`](crate::HeError::DkgFailed)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// Fewer qualified dealers than the threshold: the key could be one corrupt parties chose.
    TooFewQualified {
        /// Dealers left qualified.
        qualified: usize,
        /// t.
        threshold: usize,
    },
    /// No dealing is on record for a qualified dealer.
    MissingDealing {
        /// The dealer.
        dealer: u32,
    },
    /// This authority holds no share from a qualified dealer.
    MissingShare {
        /// This authority.
        authority: u32,
        /// The dealer.
        dealer: u32,
    },
    /// The summed key material does not fit together (a bug, or a corrupted dealing).
    Inconsistent {
        /// What does not fit.
        reason: String,
    },
    /// [`run_local`](super::run_local): a share from `from` to `to` did not verify.
    LocalShare {
        /// The dealer.
        from: u32,
        /// The receiver.
        to: u32,
    },
    /// [`run_local`](super::run_local): an all-honest run produced complaints.
    LocalComplaints,
    /// [`run_local`](super::run_local): no authority came out.
    NoAuthorities,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::TooFewQualified {
                qualified,
                threshold,
            } => write!(
                f,
                "{qualified} qualified authorities, fewer than the threshold {threshold}"
            ),
            Failure::MissingDealing { dealer } => {
                write!(f, "no dealing from qualified authority {dealer}")
            }
            Failure::MissingShare { authority, dealer } => write!(
                f,
                "authority {authority} holds no share from qualified authority {dealer}"
            ),
            Failure::Inconsistent { reason } => f.write_str(reason),
            Failure::LocalShare { from, to } => {
                write!(f, "share from {from} to {to} did not verify")
            }
            Failure::LocalComplaints => f.write_str("an honest run produced complaints"),
            Failure::NoAuthorities => f.write_str("no authorities"),
        }
    }
}
