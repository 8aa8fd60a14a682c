//! The DKG: misbehaving dealers are disqualified with the cause, settled complaints keep the
//! dealer, too few qualified dealers fail the run, and messages that do not fit the session
//! are refused with the violation. (Steps out of order do not compile: see the module docs of
//! `trustspace_he::ristretto::dkg`, whose `compile_fail` examples the doc tests check.)

use rand_chacha::ChaCha20Rng;
use trustspace_he::HeError;
use trustspace_he::ristretto::dkg::{
    self, Complaint, ComplaintAnswer, ComplaintReason, DkgParticipant, Failure, MessageKind,
    Misbehaviour, SecretShare, Violation,
};
use trustspace_he::ristretto::{Authority, SumSpec, ValueRange, aggregate, encrypt_encodings};

use super::decrypt_with;
use crate::common::{participants, rng, run_dkg};

/// All authorities agree on the key set, and the authorities `who` decrypt a sum under it.
fn check_key_works(auths: &[Authority], who: &[usize], r: &mut ChaCha20Rng) {
    let key = auths[0].key_set().clone();
    for a in auths {
        assert_eq!(a.key_set(), &key, "all authorities agree on the key set");
    }
    let spec = SumSpec::new("dkg", ValueRange::unsigned(100).unwrap()).unwrap();
    let col = encrypt_encodings(&key, &spec, &[30, 70, 99], &mut *r).unwrap();
    let total = aggregate(&key, &spec, &[col]).unwrap();
    assert_eq!(decrypt_with(&key, auths, who, &total, r), 199);
}

#[test]
fn dkg_bad_share_with_bad_answer_disqualifies_the_dealer() {
    let mut r = rng(14);
    let ps = participants(4, 2, &mut r);
    // Dealer 3 sends authority 0 a wrong share, and answers the complaint with it again.
    let run = run_dkg(
        ps,
        |s| {
            Some(if s.from == 3 && s.to == 0 {
                SecretShare::from_bytes(3, 0, [9u8; 32])
            } else {
                s
            })
        },
        |a| {
            (a.from != 3)
                .then_some(a)
                .or(Some(ComplaintAnswer::from_bytes(3, 0, [9u8; 32])))
        },
    );
    let outcomes: Vec<_> = run.outcomes.into_iter().map(Result::unwrap).collect();
    for o in &outcomes {
        assert_eq!(o.qualified, vec![0, 1, 2]);
        assert_eq!(
            o.disqualified,
            vec![(3, Misbehaviour::InvalidAnswer { accuser: 0 })]
        );
    }
    let auths: Vec<Authority> = outcomes.into_iter().map(|o| o.authority).collect();
    // The key is the sum of dealers 0..=2; any two authorities decrypt (3 included: it still
    // holds a valid share of the qualified dealings).
    check_key_works(&auths, &[0, 3], &mut r);
    check_key_works(&auths, &[1, 2], &mut r);
}

#[test]
fn dkg_bad_share_with_valid_public_answer_is_settled() {
    let mut r = rng(15);
    let ps = participants(3, 2, &mut r);
    let run = run_dkg(
        ps,
        |s| {
            Some(if s.from == 1 && s.to == 2 {
                SecretShare::from_bytes(1, 2, [1u8; 32])
            } else {
                s
            })
        },
        Some,
    );
    let auths: Vec<Authority> = run
        .outcomes
        .into_iter()
        .map(|o| {
            let o = o.unwrap();
            assert_eq!(o.qualified, vec![0, 1, 2]);
            assert!(o.disqualified.is_empty());
            o.authority
        })
        .collect();
    check_key_works(&auths, &[2, 0], &mut r);
}

#[test]
fn dkg_unanswered_complaint_and_bad_reveals_disqualify() {
    let mut r = rng(16);
    // Dealer 0 withholds authority 1's share and ignores the complaint.
    let run = run_dkg(
        participants(3, 2, &mut r),
        |s| {
            Some(if s.from == 0 && s.to == 1 {
                SecretShare::from_bytes(0, 1, [0u8; 32])
            } else {
                s
            })
        },
        |a| (a.from != 0).then_some(a),
    );
    let auths: Vec<Authority> = run
        .outcomes
        .into_iter()
        .map(|o| {
            let o = o.unwrap();
            assert_eq!(o.qualified, vec![1, 2]);
            assert_eq!(
                o.disqualified,
                vec![(0, Misbehaviour::Unanswered { accuser: 1 })]
            );
            o.authority
        })
        .collect();
    check_key_works(&auths, &[1, 2], &mut r);

    // A reveal that does not open the sender's commitment disqualifies it.
    let mut ps = participants(3, 2, &mut r);
    let cs: Vec<_> = ps.iter().map(DkgParticipant::commitment).collect();
    let mut liar = DkgParticipant::new(3, 2, 2, &mut r).unwrap();
    for p in &mut ps {
        for c in &cs {
            if c.from != p.index() {
                p.receive_commitment(c).unwrap();
            }
        }
    }
    for c in &cs[..2] {
        liar.receive_commitment(c).unwrap();
    }
    let (_, fresh) = liar.reveal().unwrap(); // a polynomial other than the one committed to
    let (mut p0, _) = ps.swap_remove(0).reveal().unwrap();
    let err = p0.receive_reveal(&fresh).unwrap_err();
    assert!(
        matches!(
            &err,
            HeError::Disqualified {
                party: 2,
                reason: Misbehaviour::RevealMismatch
            }
        ),
        "{err}"
    );
    assert!(p0.is_disqualified(2));
    // Its next reveal is refused for the same cause.
    assert!(matches!(
        p0.receive_reveal(&fresh),
        Err(HeError::Disqualified {
            party: 2,
            reason: Misbehaviour::RevealMismatch
        })
    ));

    // Too few qualified dealers: the DKG fails rather than produce a weak key.
    let mut ps = participants(3, 3, &mut r);
    // Authority 0 heard no commitments: both others are disqualified.
    let (p0, _) = ps.swap_remove(0).reveal().unwrap();
    assert!(p0.is_disqualified(1) && p0.is_disqualified(2) && !p0.is_disqualified(0));
    let (p0, shares) = p0.shares_for_others();
    assert_eq!(shares.len(), 2);
    let (p0, complaints) = p0.complaints();
    assert!(
        complaints.is_empty(),
        "no complaints against disqualified dealers"
    );
    assert!(matches!(
        p0.finish(),
        Err(HeError::DkgFailed(Failure::TooFewQualified {
            qualified: 1,
            threshold: 3
        }))
    ));
}

#[test]
fn dkg_bad_parameters_are_errors() {
    let mut r = rng(17);
    assert!(matches!(
        DkgParticipant::new(3, 4, 0, &mut r),
        Err(HeError::InvalidParameter {
            what: "threshold",
            ..
        })
    ));
    assert!(matches!(
        DkgParticipant::new(3, 2, 3, &mut r),
        Err(HeError::InvalidParameter { what: "index", .. })
    ));
    assert!(matches!(
        dkg::run_local(0, 0, &mut r),
        Err(HeError::DkgFailed(Failure::NoAuthorities))
    ));
}

#[test]
fn dkg_messages_that_do_not_fit_are_refused_with_the_violation() {
    let mut r = rng(17);
    let mut ps = participants(3, 2, &mut r);
    let c = ps[0].commitment();
    // Round 1: its own commitment, a sender beyond n, a second different commitment.
    assert!(matches!(
        ps[0].receive_commitment(&c),
        Err(HeError::DkgProtocol(Violation::FromSelf {
            message: MessageKind::Commitment,
            from: 0
        }))
    ));
    let mut forged = c.clone();
    forged.from = 7;
    assert!(matches!(
        ps[0].receive_commitment(&forged),
        Err(HeError::DkgProtocol(Violation::UnknownSender {
            message: MessageKind::Commitment,
            from: 7,
            authorities: 3
        }))
    ));
    let cs: Vec<_> = ps.iter().map(DkgParticipant::commitment).collect();
    for p in &mut ps {
        for c in &cs {
            if c.from != p.index() {
                p.receive_commitment(c).unwrap();
                p.receive_commitment(c).unwrap(); // the same one again is accepted
            }
        }
    }
    let mut other = cs[1].clone();
    other.digest[0] ^= 1;
    assert!(matches!(
        ps[0].receive_commitment(&other),
        Err(HeError::DkgProtocol(Violation::SecondCommitment {
            from: 1
        }))
    ));

    // Round 2: a second reveal.
    let (mut ps, reveals): (Vec<_>, Vec<_>) = ps.into_iter().map(|p| p.reveal().unwrap()).unzip();
    for p in &mut ps {
        for rv in &reveals {
            if rv.from != p.index() {
                p.receive_reveal(rv).unwrap();
            }
        }
    }
    assert!(matches!(
        ps[0].receive_reveal(&reveals[1]),
        Err(HeError::DkgProtocol(Violation::SecondReveal { from: 1 }))
    ));

    // Round 3: a share for someone else, a second share.
    let (mut ps, mail): (Vec<_>, Vec<_>) = ps
        .into_iter()
        .map(dkg::round2::Participant::shares_for_others)
        .unzip();
    let to_2 = mail[1].iter().find(|s| s.to == 2).unwrap();
    assert!(matches!(
        ps[0].receive_share(to_2),
        Err(HeError::DkgProtocol(Violation::Misaddressed {
            from: 1,
            to: 2,
            receiver: 0
        }))
    ));
    let to_0 = mail[1].iter().find(|s| s.to == 0).unwrap();
    assert!(ps[0].receive_share(to_0).unwrap().is_none());
    assert!(matches!(
        ps[0].receive_share(to_0),
        Err(HeError::DkgProtocol(Violation::SecondShare { from: 1 }))
    ));

    // Round 4: complaints that name no two authorities, answers nobody asked for.
    let mut ps: Vec<_> = ps.into_iter().map(|p| p.complaints().0).collect();
    let bad = Complaint {
        from: 1,
        against: 1,
        reason: ComplaintReason::Missing,
    };
    assert!(matches!(
        ps[0].receive_complaint(&bad),
        Err(HeError::DkgProtocol(Violation::InvalidComplaint {
            from: 1,
            against: 1,
            authorities: 3
        }))
    ));
    let against_2 = Complaint {
        from: 1,
        against: 2,
        reason: ComplaintReason::Invalid,
    };
    assert!(matches!(
        ps[0].answer(&against_2),
        Err(HeError::DkgProtocol(Violation::NotAnswerable {
            from: 1,
            against: 2,
            answerer: 0
        }))
    ));
    let unasked = ps[2].answer(&against_2).unwrap();
    assert!(matches!(
        ps[0].receive_answer(&unasked),
        Err(HeError::DkgProtocol(Violation::UnexpectedAnswer {
            from: 2,
            to: 1
        }))
    ));
}
