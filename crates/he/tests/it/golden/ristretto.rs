//! The ristretto golden documents: written by the code, decoded and re-encoded byte for byte,
//! digests pinned, the total decrypted, the DKG transcript replayed to the same keys.

use trustspace_he::HeError;
use trustspace_he::ristretto::dkg::{
    Commitment, Complaint, ComplaintAnswer, DkgOutcome, Message, Reveal, SecretShare, round2,
    round3,
};
use trustspace_he::ristretto::{
    Authority, DlogTable, EncryptedColumn, EncryptedTotal, KeySet, PartialDecryption, aggregate,
    decrypt_total,
};

use super::{
    AUTHORITY, COLUMN, KEY_ID, KEY_SET, PARTIAL_0, PARTIAL_2, SEED, SPEC_ID, TOTAL, TOTAL_DIGEST,
    TOTAL_DOC, decoded, dir, read, scenario, spec, text, transcript,
};
use crate::common::{participants, rng};

#[test]
fn golden_files_are_what_the_seeded_scenario_writes() {
    let bless = std::env::var_os("TRUSTSPACE_HE_BLESS").is_some_and(|v| v == "1");
    for (name, contents) in scenario() {
        if bless {
            std::fs::write(dir().join(name), &contents).expect("write golden file");
        }
        assert!(
            text(name) == contents,
            "{name} differs from what the code writes"
        );
    }
}

#[test]
fn golden_documents_decode_and_reencode_byte_for_byte() {
    let key = text(KEY_SET);
    assert_eq!(KeySet::from_json(key.as_bytes()).unwrap().to_json(), key);
    let authority = text(AUTHORITY);
    let decoded = Authority::from_secret_json(authority.as_bytes()).unwrap();
    assert_eq!(*decoded.to_secret_json(), authority);
    let column = text(COLUMN);
    let decoded = EncryptedColumn::from_json(column.as_bytes()).unwrap();
    assert_eq!(decoded.to_json().unwrap(), column);
    let total = text(TOTAL_DOC);
    assert_eq!(
        EncryptedTotal::from_json(total.as_bytes())
            .unwrap()
            .to_json(),
        total
    );
    for name in [PARTIAL_0, PARTIAL_2] {
        let partial = text(name);
        assert_eq!(
            PartialDecryption::from_json(partial.as_bytes())
                .unwrap()
                .to_json(),
            partial
        );
    }
    // Every DKG message kind, through the any-kind decoder and the kind's own.
    let mut kinds = std::collections::BTreeSet::new();
    for line in transcript() {
        let message = Message::from_json(line.as_bytes()).unwrap();
        assert_eq!(*message.to_json(), line);
        let again = match &message {
            Message::Commitment(_) => Commitment::from_json(line.as_bytes()).unwrap().to_json(),
            Message::Reveal(_) => Reveal::from_json(line.as_bytes()).unwrap().to_json(),
            Message::Share(_) => SecretShare::from_json(line.as_bytes())
                .unwrap()
                .to_json()
                .to_string(),
            Message::Complaint(_) => Complaint::from_json(line.as_bytes()).unwrap().to_json(),
            Message::Answer(_) => ComplaintAnswer::from_json(line.as_bytes())
                .unwrap()
                .to_json(),
        };
        assert_eq!(again, line);
        kinds.insert(format!("{}", message.kind()));
    }
    assert_eq!(kinds.len(), 5, "the transcript holds every kind: {kinds:?}");
}

#[test]
fn golden_digests_are_pinned() {
    let d = decoded();
    assert_eq!(d.key.id().to_string(), KEY_ID);
    assert_eq!(hex::encode(spec().id()), SPEC_ID);
    assert_eq!(d.column.key_id().to_string(), KEY_ID);
    assert_eq!(hex::encode(d.column.spec_id()), SPEC_ID);
    assert_eq!(d.total.key_id().to_string(), KEY_ID);
    assert_eq!(hex::encode(d.total.digest()), TOTAL_DIGEST);
    for name in [PARTIAL_0, PARTIAL_2] {
        let v: serde_json::Value = serde_json::from_slice(&read(name)).unwrap();
        assert_eq!(v["total"], TOTAL_DIGEST, "{name}");
        assert_eq!(v["key_id"], KEY_ID, "{name}");
    }
}

#[test]
fn golden_documents_decrypt_to_the_golden_total() {
    let d = decoded();
    let table = DlogTable::new(3000).unwrap();
    let got = decrypt_total(&d.key, &d.total, &d.partials, &table).unwrap();
    assert_eq!((got.units, got.count, got.used), (TOTAL, 3, vec![0, 2]));
    // The golden column aggregates to the golden total.
    let again = aggregate(&d.key, &spec(), std::slice::from_ref(&d.column)).unwrap();
    assert_eq!(again, d.total);
    // The golden authority document decrypts with either partial.
    let a1 = Authority::from_secret_json(&read(AUTHORITY)).unwrap();
    assert_eq!(a1.key_set(), &d.key);
    let p1 = a1.partial_decrypt(&d.total, &mut rng(1)).unwrap();
    for other in &d.partials {
        let ps = [p1.clone(), other.clone()];
        assert_eq!(
            decrypt_total(&d.key, &d.total, &ps, &table).unwrap().units,
            TOTAL
        );
    }
}

/// What replaying a transcript produced.
pub(super) struct Replay {
    /// Each participant's outcome.
    pub outcomes: Vec<DkgOutcome>,
    /// The complaints the participants raised at the close of the share round.
    pub complaints: Vec<Complaint>,
}

/// Replays a DKG transcript among the golden scenario's participants (re-created from the
/// seed, so they hold the same polynomials): every message comes from `lines`, none from the
/// participants themselves. Stops at the first refusal.
pub(super) fn replay(lines: &[String]) -> Result<Replay, HeError> {
    let messages = lines
        .iter()
        .map(|l| Message::from_json(l.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ps = participants(3, 2, &mut rng(SEED));
    for m in &messages {
        if let Message::Commitment(c) = m {
            for p in ps.iter_mut().filter(|p| p.index() != c.from) {
                p.receive_commitment(c)?;
            }
        }
    }
    let mut ps = ps
        .into_iter()
        .map(|p| p.reveal().map(|(p, _)| p))
        .collect::<Result<Vec<_>, _>>()?;
    for m in &messages {
        if let Message::Reveal(r) = m {
            for p in ps.iter_mut().filter(|p| p.index() != r.from) {
                p.receive_reveal(r)?;
            }
        }
    }
    let mut ps: Vec<_> = ps
        .into_iter()
        .map(|p| round2::Participant::shares_for_others(p).0)
        .collect();
    for m in &messages {
        if let Message::Share(s) = m {
            if let Some(p) = ps.iter_mut().find(|p| p.index() == s.to) {
                p.receive_share(s)?;
            }
        }
    }
    let (mut ps, raised): (Vec<_>, Vec<_>) =
        ps.into_iter().map(round3::Participant::complaints).unzip();
    for m in &messages {
        if let Message::Complaint(c) = m {
            for p in &mut ps {
                p.receive_complaint(c)?;
            }
        }
    }
    for m in &messages {
        if let Message::Answer(a) = m {
            for p in &mut ps {
                p.receive_answer(a)?;
            }
        }
    }
    Ok(Replay {
        outcomes: ps
            .into_iter()
            .map(|p| p.finish())
            .collect::<Result<Vec<_>, _>>()?,
        complaints: raised.into_iter().flatten().collect(),
    })
}

#[test]
fn golden_transcript_replays_to_the_golden_keys() {
    let lines = transcript();
    let replay = replay(&lines).unwrap();
    // The participants raise exactly the transcript's complaints ...
    let recorded: Vec<Complaint> = lines
        .iter()
        .filter_map(|l| match Message::from_json(l.as_bytes()).unwrap() {
            Message::Complaint(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(replay.complaints, recorded);
    assert_eq!(recorded.len(), 2);
    // ... and end with the golden key set and authority.
    let key = KeySet::from_json(&read(KEY_SET)).unwrap();
    for o in &replay.outcomes {
        assert_eq!(o.qualified, vec![0, 1, 2]);
        assert!(o.disqualified.is_empty());
        assert_eq!(o.authority.key_set(), &key);
    }
    assert_eq!(
        *replay.outcomes[1].authority.to_secret_json(),
        text(AUTHORITY)
    );
}
