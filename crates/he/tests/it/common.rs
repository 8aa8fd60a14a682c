//! Helpers shared by the test modules: seeded generators and a DKG driver that passes every
//! message through its JSON document, as separate processes would.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use trustspace_he::HeError;
use trustspace_he::ristretto::dkg::{
    self, Commitment, ComplaintAnswer, DkgOutcome, DkgParticipant, Misbehaviour, Reveal,
    SecretShare, round2, round3, round4,
};

/// A deterministic generator for test `seed`.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// n participants of a t-of-n DKG, drawn from `r` in index order.
pub fn participants(n: u32, t: u32, r: &mut ChaCha20Rng) -> Vec<DkgParticipant> {
    (0..n)
        .map(|i| DkgParticipant::new(n, t, i, r).expect("participant"))
        .collect()
}

/// What a DKG run delivered and how it ended.
pub struct DkgRun {
    /// Each participant's `finish`.
    pub outcomes: Vec<Result<DkgOutcome, HeError>>,
    /// Every document delivered, in order: commitments, reveals, shares, complaints, answers.
    pub transcript: Vec<String>,
}

/// Runs the DKG rounds among `ps`. `share` may rewrite (or withhold, `None`) each share before
/// delivery, `answer` each complaint answer. A bad answer must disqualify its dealer.
pub fn run_dkg(
    mut ps: Vec<DkgParticipant>,
    share: impl Fn(SecretShare) -> Option<SecretShare>,
    answer: impl Fn(ComplaintAnswer) -> Option<ComplaintAnswer>,
) -> DkgRun {
    let mut transcript = Vec::new();
    let cs: Vec<String> = ps.iter().map(|p| p.commitment().to_json()).collect();
    transcript.extend(cs.iter().cloned());
    for p in &mut ps {
        for doc in &cs {
            let c = Commitment::from_json(doc.as_bytes()).expect("commitment document");
            if c.from != p.index() {
                p.receive_commitment(&c).expect("commitment");
            }
        }
    }
    let (mut ps, reveals): (Vec<_>, Vec<_>) =
        ps.into_iter().map(|p| p.reveal().expect("reveal")).unzip();
    let reveals: Vec<String> = reveals.iter().map(Reveal::to_json).collect();
    transcript.extend(reveals.iter().cloned());
    for p in &mut ps {
        for doc in &reveals {
            let rv = Reveal::from_json(doc.as_bytes()).expect("reveal document");
            if rv.from != p.index() {
                p.receive_reveal(&rv).expect("reveal");
            }
        }
    }
    let (mut ps, mail): (Vec<_>, Vec<_>) = ps
        .into_iter()
        .map(round2::Participant::shares_for_others)
        .unzip();
    let (mut early, mut withheld) = (Vec::new(), 0);
    for s in mail.into_iter().flatten() {
        let Some(s) = share(s) else {
            withheld += 1;
            continue;
        };
        let doc = s.to_json();
        transcript.push(doc.to_string());
        let s = SecretShare::from_json(doc.as_bytes()).expect("share document");
        if let Some(c) = ps[s.to as usize].receive_share(&s).expect("share") {
            early.push(c);
        }
    }
    let (mut ps, complaints): (Vec<_>, Vec<_>) =
        ps.into_iter().map(round3::Participant::complaints).unzip();
    let complaints: Vec<_> = complaints.into_iter().flatten().collect();
    // Every invalid share was complained about at once, and every missing one at the close.
    assert!(early.iter().all(|c| complaints.contains(c)));
    assert_eq!(early.len() + withheld, complaints.len());
    for c in &complaints {
        let doc = c.to_json();
        transcript.push(doc.clone());
        let c = dkg::Complaint::from_json(doc.as_bytes()).expect("complaint document");
        for p in &mut ps {
            p.receive_complaint(&c).expect("complaint");
        }
    }
    for c in &complaints {
        let a = ps[c.against as usize].answer(c).expect("answer");
        let Some(a) = answer(a) else { continue };
        let doc = a.to_json();
        transcript.push(doc.clone());
        let a = ComplaintAnswer::from_json(doc.as_bytes()).expect("answer document");
        for p in &mut ps {
            match p.receive_answer(&a) {
                Ok(()) => {}
                Err(HeError::Disqualified {
                    party,
                    reason: Misbehaviour::InvalidAnswer { accuser },
                }) if party == a.from && accuser == a.to => {}
                Err(e) => panic!("answer from {} to {}: {e}", a.from, a.to),
            }
        }
    }
    DkgRun {
        outcomes: ps.into_iter().map(round4::Participant::finish).collect(),
        transcript,
    }
}
