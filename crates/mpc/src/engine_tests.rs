//! Tests of one party's protocols: exactness against plaintext, and every deviation caught.

use super::*;
use crate::share::{reconstruct, split};
use crate::transport::memory;
use std::time::Duration;

/// Runs `f` at three parties on in-process transports; returns their results.
pub(crate) fn run3<R: Send + 'static>(
    mode: Mode,
    f: impl Fn(&mut Party<memory::MemoryTransport>) -> Result<R> + Send + Sync + 'static,
) -> [Result<R>; 3] {
    let f = std::sync::Arc::new(f);
    let handles: Vec<_> = memory::mesh(Duration::from_secs(10))
        .into_iter()
        .map(|t| {
            let f = f.clone();
            std::thread::spawn(move || {
                let mut p = Party::new(t, mode)?;
                f(&mut p)
            })
        })
        .collect();
    let mut out = handles.into_iter().map(|h| h.join().expect("no panic"));
    std::array::from_fn(|_| out.next().expect("three"))
}

fn shared(values: Vec<u64>, seed: u64) -> [Shares; 3] {
    use rand::SeedableRng;
    split(
        Kind::Arithmetic,
        &values,
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(seed),
    )
}

#[test]
fn multiplication_and_opening_are_exact() {
    let x: Vec<u64> = vec![3, u64::MAX, 1 << 40, 0, 12345];
    let y: Vec<u64> = vec![5, 2, 1 << 30, 77, u64::MAX - 1];
    let (sx, sy) = (shared(x.clone(), 1), shared(y.clone(), 2));
    for mode in [Mode::SemiHonest, Mode::Malicious] {
        let (sx, sy) = (sx.clone(), sy.clone());
        let r = run3(mode, move |p| {
            let z = p.mul(&sx[p.me()], &sy[p.me()])?;
            p.open(&z)
        });
        let expect: Vec<u64> = x.iter().zip(&y).map(|(a, b)| a.wrapping_mul(*b)).collect();
        for out in r {
            assert_eq!(out.unwrap(), expect);
        }
    }
}

#[test]
fn inputs_by_a_party_are_shared_correctly() {
    for owner in 0..3 {
        let r = run3(Mode::Malicious, move |p| {
            let v = vec![10u64, 20, u64::MAX];
            let mine = (p.me() == owner).then_some(v.as_slice());
            let s = p.input(Kind::Arithmetic, owner, mine, 3)?;
            p.check_consistent(&s, "input")?;
            let b = p.input(Kind::Boolean, owner, mine, 3)?;
            Ok((s, b))
        });
        let parts: Vec<(Shares, Shares)> = r.into_iter().map(|x| x.unwrap()).collect();
        let arith: [Shares; 3] = std::array::from_fn(|i| parts[i].0.clone());
        let boolean: [Shares; 3] = std::array::from_fn(|i| parts[i].1.clone());
        assert_eq!(reconstruct(&arith).unwrap(), vec![10, 20, u64::MAX]);
        assert_eq!(reconstruct(&boolean).unwrap(), vec![10, 20, u64::MAX]);
    }
}

#[test]
fn comparisons_match_plaintext_at_the_edges() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
    let lim = 1i64 << 61;
    let mut x: Vec<i64> = (0..300).map(|_| rng.gen_range(-lim..lim)).collect();
    let mut y: Vec<i64> = (0..300).map(|_| rng.gen_range(-lim..lim)).collect();
    // Edges: equal, adjacent, zero, extremes of the allowed range.
    for (a, b) in [
        (0, 0),
        (1, 0),
        (0, 1),
        (-1, 0),
        (lim, -lim),
        (-lim, lim),
        (5, 5),
    ] {
        x.push(a);
        y.push(b);
    }
    let n = x.len();
    let (sx, sy) = (
        shared(x.iter().map(|v| *v as u64).collect(), 3),
        shared(y.iter().map(|v| *v as u64).collect(), 4),
    );
    let expect: Vec<u64> = (0..n).map(|k| u64::from(x[k] < y[k])).collect();
    for mode in [Mode::SemiHonest, Mode::Malicious] {
        let (sx, sy) = (sx.clone(), sy.clone());
        let r = run3(mode, move |p| {
            let lt = p.less_than(&sx[p.me()], &sy[p.me()])?;
            let rounds = p.rounds;
            p.verify()?;
            Ok((p.open(&lt)?, rounds))
        });
        for out in r {
            let (got, rounds) = out.unwrap();
            assert_eq!(got, expect, "{mode:?}");
            assert!(rounds <= 72, "{rounds} rounds");
        }
    }
}

/// A transport whose party alters the `nth` message it sends to `to` (adds 1 to its first
/// ring element): a malicious party deviating inside a protocol.
struct Tamper {
    inner: memory::MemoryTransport,
    to: PartyId,
    nth: usize,
    sent: usize,
}

impl Transport for Tamper {
    fn me(&self) -> PartyId {
        self.inner.me()
    }
    fn send(&mut self, to: PartyId, mut payload: Vec<u8>) -> Result<()> {
        if to == self.to {
            if self.sent == self.nth && payload.len() >= 8 {
                payload[0] = payload[0].wrapping_add(1);
            }
            self.sent += 1;
        }
        self.inner.send(to, payload)
    }
    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        self.inner.recv(from)
    }
    fn try_recv(&mut self, from: PartyId) -> Result<Option<Vec<u8>>> {
        self.inner.try_recv(from)
    }
}

/// Runs `f` with party 1 tampering with its `nth` message to party 0 (its previous party,
/// to which it sends its product shares).
fn run3_tampered<R: Send + 'static>(
    mode: Mode,
    nth: usize,
    f: impl Fn(&mut Party<Tamper>) -> Result<R> + Send + Sync + 'static,
) -> Vec<Result<R>> {
    let f = std::sync::Arc::new(f);
    let handles: Vec<_> = memory::mesh(Duration::from_secs(10))
        .into_iter()
        .map(|t| {
            let f = f.clone();
            let nth = if t.me() == 1 { nth } else { usize::MAX };
            std::thread::spawn(move || {
                let t = Tamper {
                    inner: t,
                    to: 0,
                    nth,
                    sent: 0,
                };
                let mut p = Party::new(t, mode)?;
                f(&mut p)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("no panic"))
        .collect()
}

#[test]
fn an_altered_product_is_caught_by_the_triple_check() {
    let (sx, sy) = (shared(vec![6, 7, 8], 11), shared(vec![2, 3, 4], 12));
    // Message 0 to party 0 is the PRF seed; message 1 is party 1's share of x·y.
    let product = |mode| {
        let (sx, sy) = (sx.clone(), sy.clone());
        run3_tampered(mode, 1, move |p| {
            let z = p.mul(&sx[p.me()], &sy[p.me()])?;
            p.verify()?;
            p.open(&z)
        })
    };
    // Semi-honest: the product is silently wrong.
    let r = product(Mode::SemiHonest);
    assert_ne!(r[2].as_ref().unwrap(), &vec![12, 21, 32]);
    // Malicious: the altered message makes the replicas disagree, so the check aborts.
    assert_aborted(product(Mode::Malicious));
    // A consistent additive attack (party 1 adds 5 to its product share on both replicas,
    // so every opening agrees): only the triple check can see it.
    let attack = |mode| {
        let (sx, sy) = (sx.clone(), sy.clone());
        run3(mode, move |p| {
            if p.me() == 1 {
                p.cheat = Some((1, 5));
            }
            let z = p.mul(&sx[p.me()], &sy[p.me()])?;
            p.verify()?;
            p.open(&z)
        })
    };
    let r = attack(Mode::SemiHonest);
    for out in &r {
        assert_eq!(
            out.as_ref().unwrap(),
            &vec![17, 21, 32],
            "undetected without checks"
        );
    }
    for (i, out) in attack(Mode::Malicious).into_iter().enumerate() {
        match out {
            Err(MpcError::CheatingDetected {
                check: Check::Product,
                ..
            }) => {}
            other => panic!("party {i}: {:?}", other.map(|_| ())),
        }
    }
    // Untampered, the check passes and the product opens.
    let (sx, sy) = (sx.clone(), sy.clone());
    let r = run3(Mode::Malicious, move |p| {
        let z = p.mul(&sx[p.me()], &sy[p.me()])?;
        p.verify()?;
        p.open(&z)
    });
    for out in r {
        assert_eq!(out.unwrap(), vec![12, 21, 32]);
    }
}

#[test]
fn a_party_deviating_inside_a_comparison_is_caught() {
    let (sx, sy) = (shared(vec![5, 9, 1 << 40], 13), shared(vec![9, 5, 7], 14));
    // Messages 1..: party 1's AND shares in the carry-save layer and the ripple; tamper
    // with a few different rounds.
    for nth in [1, 2, 30, 64, 66] {
        let (sx, sy) = (sx.clone(), sy.clone());
        let r = run3_tampered(Mode::Malicious, nth, move |p| {
            let lt = p.less_than(&sx[p.me()], &sy[p.me()])?;
            p.verify()?;
            p.open(&lt)
        });
        assert_aborted(r);
    }
    // The consistent additive attack on one AND of the comparison circuit.
    for nth in [1, 2, 40, 65] {
        let (sx, sy) = (sx.clone(), sy.clone());
        let r = run3(Mode::Malicious, move |p| {
            if p.me() == 2 {
                p.cheat = Some((nth, 1));
            }
            let lt = p.less_than(&sx[p.me()], &sy[p.me()])?;
            p.verify()?;
            p.open(&lt)
        });
        for out in r {
            assert!(
                matches!(
                    out,
                    Err(MpcError::CheatingDetected {
                        check: Check::Product | Check::OpenedTriple,
                        ..
                    })
                ),
                "product {nth}: {:?}",
                out.map(|_| ())
            );
        }
    }
}

/// No party finishes; the honest ones abort, at least one naming a failed check (the others
/// may first see the aborting party leave).
fn assert_aborted<R>(r: Vec<Result<R>>) {
    // The others see the aborting party leave.
    assert!(
        r.iter().all(|o| matches!(
            o,
            Err(MpcError::CheatingDetected { .. } | MpcError::Disconnected { .. })
        )),
        "a party finished, or failed otherwise: {:?}",
        r.iter()
            .map(|o| o.as_ref().err().map(ToString::to_string))
            .collect::<Vec<_>>()
    );
    assert!(
        r.iter()
            .enumerate()
            .any(|(i, o)| i != 1 && matches!(o, Err(MpcError::CheatingDetected { .. }))),
        "{:?}",
        r.iter()
            .map(|o| o.as_ref().err().map(ToString::to_string))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_party_lying_in_an_opening_is_caught_in_malicious_mode() {
    let x = shared(vec![1, 2, 3], 5);
    let r = run3(Mode::Malicious, move |p| {
        let mut mine = x[p.me()].clone();
        if p.me() == 1 {
            // Party 1 tampers with its copy of x_2 before opening.
            mine.b[0] ^= 1;
        }
        p.open(&mine)
    });
    // Party 0 receives x_2 from party 1 (tampered) and from party 2 (honest).
    assert!(
        matches!(
            r[0],
            Err(MpcError::CheatingDetected {
                check: Check::Opening,
                ..
            })
        ),
        "{:?}",
        r[0].as_ref().err()
    );
    // In semi-honest mode the same tampering silently changes the result: the mode matters.
    let x = shared(vec![1, 2, 3], 5);
    let r = run3(Mode::SemiHonest, move |p| {
        let mut mine = x[p.me()].clone();
        if p.me() == 1 {
            mine.b[0] ^= 1;
        }
        p.open(&mine)
    });
    assert_ne!(r[0].as_ref().unwrap()[0], 1);
}

#[test]
fn inconsistent_replicas_are_caught_by_the_consistency_check() {
    let x = shared(vec![1, 2, 3, 4], 6);
    let r = run3(Mode::Malicious, move |p| {
        let mut mine = x[p.me()].clone();
        if p.me() == 2 {
            mine.a[3] = mine.a[3].wrapping_add(1);
        }
        p.check_consistent(&mine, "input")
    });
    assert!(r.iter().any(|x| matches!(
        x,
        Err(MpcError::CheatingDetected {
            check: Check::Replicas,
            ..
        })
    )));
}

#[test]
fn a_party_that_leaves_makes_the_others_fail_not_hang() {
    let x = shared(vec![1, 2, 3], 7);
    // Every receive has the mesh's timeout, so this test ends whatever happens.
    let r = run3(Mode::SemiHonest, move |p| {
        if p.me() == 2 {
            // Party 2 dies before the multiplication (its transport is dropped).
            return Err(MpcError::Config("left".into()));
        }
        let z = p.mul(&x[p.me()], &x[p.me()])?;
        p.open(&z)
    });
    for out in &r[..2] {
        assert!(
            matches!(
                out,
                Err(MpcError::Disconnected { .. } | MpcError::Timeout { .. })
            ),
            "{:?}",
            out.as_ref().map(|_| ())
        );
    }
}

#[test]
fn a_malformed_message_is_refused() {
    use crate::transport::Transport;
    let x = shared(vec![1, 2, 3], 8);
    let r = run3(Mode::SemiHonest, move |p| {
        if p.me() == 1 {
            // Party 1 answers the multiplication with 5 bytes instead of 3 ring elements.
            p.net().send(0, vec![1, 2, 3, 4, 5])?;
            // Stay connected until party 0 has judged the message and left: if party 1
            // left at once, party 2's send to it could fail first, party 2 would drop, and
            // party 0's own send to party 2 would report that disconnection instead.
            let _ = p.net().recv(0);
            return Ok(Vec::new());
        }
        let z = p.mul(&x[p.me()], &x[p.me()])?;
        p.open(&z)
    });
    assert!(
        matches!(&r[0], Err(MpcError::Malformed { peer, .. }) if *peer == Peer::Party(1)),
        "{:?}",
        r[0].as_ref().map(|_| ())
    );
}
