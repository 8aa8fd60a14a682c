//! The interactive protocols of one compute party: multiplication, opening, inputs, comparison.
//!
//! Correlated randomness: party `i` holds PRF streams `k_i` (shared with party `i-1`) and
//! `k_{i+1}` (shared with party `i+1`), ChaCha20 keyed by seeds exchanged once at set-up. Every
//! party draws from its streams in the same protocol order, so the streams stay in step.
//!
//! - Multiplication (Araki et al., CCS'16): party `i` computes
//!   `z_i = x_i y_i + x_i y_{i+1} + x_{i+1} y_i + α_i` with the zero-sharing
//!   `α_i = F(k_i) - F(k_{i+1})`, and sends `z_i` to party `i-1`: one ring element per party per
//!   product, one round. Boolean AND is the same with `&` and `^`.
//! - Opening: party `i` receives the missing component `x_{i+2}` from party `i+1`; in
//!   malicious-with-abort mode also from party `i+2` (who holds it too), and aborts with
//!   [`MpcError::CheatingDetected`] if the two copies differ.
//! - Comparison `x < y`: the sign bit of `x - y`, for `|x - y| < 2^63` (the caller's range
//!   check). The arithmetic sharing is converted to a boolean one (party 0 inputs `x0 + x1`,
//!   `x2` is trivially shared), the sign bit is computed with a bit-sliced ripple-carry adder
//!   (63 rounds of one AND per bit, each over whole bit planes, so a million comparisons move
//!   about 8 MB per party), and injected back into the arithmetic ring (one input and one
//!   multiplication).
//!
//! Security: semi-honest by default. Malicious-with-abort mode ([`Mode::Malicious`]) cross-checks
//! every opening and every input sharing through the replication, so a party sending shares that
//! disagree with the other replicas is caught; it does not verify multiplications (an additive
//! attack inside a product is not detected), which the module states rather than hides.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::error::{MpcError, Result};
use crate::share::{Kind, Shares, to_planes};
use crate::transport::{PartyId, Transport};

/// Security mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Honest-but-curious parties.
    SemiHonest,
    /// Parties that may deviate: inconsistent shares abort the computation.
    Malicious,
}

/// One compute party: its transport, its PRF streams, its mode, and operation counters.
pub struct Party<T: Transport> {
    net: T,
    me: PartyId,
    mode: Mode,
    own: ChaCha20Rng,
    next: ChaCha20Rng,
    /// Multiplications (and ANDs, per 64-bit word) performed, for benchmarks and reports.
    pub products: u64,
    /// Communication rounds.
    pub rounds: u64,
}

fn encode(words: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(words.len() * 8);
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

fn decode(bytes: &[u8], n: usize, peer: PartyId) -> Result<Vec<u64>> {
    if bytes.len() != n * 8 {
        return Err(MpcError::Malformed {
            peer: format!("party-{peer}"),
            reason: format!("expected {n} ring elements, got {} bytes", bytes.len()),
        });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

impl<T: Transport> Party<T> {
    /// Sets up a party: exchanges PRF seeds with its neighbours (party `i` sends its fresh seed
    /// `k_i` to party `i-1` and receives `k_{i+1}` from party `i+1`).
    pub fn new(mut net: T, mode: Mode) -> Result<Party<T>> {
        let me = net.me();
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        net.send((me + 2) % 3, seed.to_vec())?;
        let theirs = net.recv((me + 1) % 3)?;
        let theirs: [u8; 32] = theirs.try_into().map_err(|_| MpcError::Malformed {
            peer: format!("party-{}", (me + 1) % 3),
            reason: "PRF seed is not 32 bytes".into(),
        })?;
        Ok(Party {
            net,
            me,
            mode,
            own: ChaCha20Rng::from_seed(seed),
            next: ChaCha20Rng::from_seed(theirs),
            products: 0,
            rounds: 0,
        })
    }

    /// This party's index.
    pub fn me(&self) -> PartyId {
        self.me
    }

    /// The security mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The transport (e.g. to talk to other parties outside the protocols).
    pub fn net(&mut self) -> &mut T {
        &mut self.net
    }

    fn prev(&self) -> PartyId {
        (self.me + 2) % 3
    }

    fn next_id(&self) -> PartyId {
        (self.me + 1) % 3
    }

    fn send_words(&mut self, to: PartyId, words: &[u64]) -> Result<()> {
        self.net.send(to, encode(words))
    }

    fn recv_words(&mut self, from: PartyId, n: usize) -> Result<Vec<u64>> {
        let bytes = self.net.recv(from)?;
        decode(&bytes, n, from)
    }

    /// Multiplies (arithmetic) or ANDs (boolean) two sharings elementwise: one round.
    pub fn mul(&mut self, x: &Shares, y: &Shares) -> Result<Shares> {
        assert_eq!(x.kind, y.kind, "mixing arithmetic and boolean shares");
        assert_eq!(x.len(), y.len(), "shares of different lengths");
        let n = x.len();
        let mut z = Vec::with_capacity(n);
        for k in 0..n {
            let (r1, r2) = (self.own.next_u64(), self.next.next_u64());
            let v = match x.kind {
                Kind::Arithmetic => x.a[k]
                    .wrapping_mul(y.a[k])
                    .wrapping_add(x.a[k].wrapping_mul(y.b[k]))
                    .wrapping_add(x.b[k].wrapping_mul(y.a[k]))
                    .wrapping_add(r1.wrapping_sub(r2)),
                Kind::Boolean => {
                    (x.a[k] & y.a[k]) ^ (x.a[k] & y.b[k]) ^ (x.b[k] & y.a[k]) ^ r1 ^ r2
                }
            };
            z.push(v);
        }
        let prev = self.prev();
        self.send_words(prev, &z)?;
        let next = self.next_id();
        let b = self.recv_words(next, n)?;
        self.products += n as u64;
        self.rounds += 1;
        Ok(Shares {
            kind: x.kind,
            a: z,
            b,
        })
    }

    /// Opens a sharing to all three parties.
    pub fn open(&mut self, x: &Shares) -> Result<Vec<u64>> {
        let (prev, next) = (self.prev(), self.next_id());
        // Party i-1 lacks x_{i+1}, which is our b; party i+1 lacks x_i, our a.
        self.send_words(prev, &x.b)?;
        if self.mode == Mode::Malicious {
            self.send_words(next, &x.a)?;
        }
        let missing = self.recv_words(next, x.len())?;
        if self.mode == Mode::Malicious {
            let copy = self.recv_words(prev, x.len())?;
            if copy != missing {
                return Err(MpcError::CheatingDetected {
                    check: "opening: the two replicas of a share differ".into(),
                });
            }
        }
        self.rounds += 1;
        Ok((0..x.len())
            .map(|k| match x.kind {
                Kind::Arithmetic => x.a[k].wrapping_add(x.b[k]).wrapping_add(missing[k]),
                Kind::Boolean => x.a[k] ^ x.b[k] ^ missing[k],
            })
            .collect())
    }

    /// Cross-checks, in malicious mode, that the component this party shares with each
    /// neighbour is identical on both sides; used after inputs.
    pub fn check_consistent(&mut self, x: &Shares, what: &str) -> Result<()> {
        if self.mode != Mode::Malicious {
            return Ok(());
        }
        // Each component is held by two parties; they compare SHA-256 digests of their copies
        // (a cheating party cannot make a different vector collide).
        let digest = |w: &[u64]| -> Vec<u64> {
            let d: [u8; 32] = Sha256::digest(encode(w)).into();
            d.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect()
        };
        let (prev, next) = (self.prev(), self.next_id());
        // Our b (= x_{i+1}) is our next neighbour's a; our a (= x_i) is our previous one's b.
        let to_next = digest(&x.b);
        let to_prev = digest(&x.a);
        self.send_words(next, &to_next)?;
        self.send_words(prev, &to_prev)?;
        let from_next = self.recv_words(next, 4)?;
        let from_prev = self.recv_words(prev, 4)?;
        self.rounds += 1;
        if from_next != to_next || from_prev != to_prev {
            return Err(MpcError::CheatingDetected {
                check: format!("{what}: replicated shares differ between parties"),
            });
        }
        Ok(())
    }

    /// A sharing of `values`, which only party `owner` knows (`values` is `Some` exactly there):
    /// components `x_owner` and `x_{owner+1}` come from the PRF streams the owner shares with
    /// its neighbours, and the owner sends the third to both others. `n` elements.
    pub fn input(
        &mut self,
        kind: Kind,
        owner: PartyId,
        values: Option<&[u64]>,
        n: usize,
    ) -> Result<Shares> {
        let me = self.me;
        let combine = |v: u64, r0: u64, r1: u64| match kind {
            Kind::Arithmetic => v.wrapping_sub(r0).wrapping_sub(r1),
            Kind::Boolean => v ^ r0 ^ r1,
        };
        if me == owner {
            let values = values.ok_or_else(|| MpcError::Input("the owner has no values".into()))?;
            if values.len() != n {
                return Err(MpcError::Input(format!(
                    "{} values where {n} were announced",
                    values.len()
                )));
            }
            // x_me from k_me (own), x_{me+1} from k_{me+1} (next).
            let a: Vec<u64> = (0..n).map(|_| self.own.next_u64()).collect();
            let b: Vec<u64> = (0..n).map(|_| self.next.next_u64()).collect();
            let third: Vec<u64> = (0..n).map(|k| combine(values[k], a[k], b[k])).collect();
            let (prev, next) = (self.prev(), self.next_id());
            self.send_words(next, &third)?;
            self.send_words(prev, &third)?;
            self.rounds += 1;
            Ok(Shares { kind, a, b })
        } else if me == (owner + 1) % 3 {
            // We hold (x_{owner+1}, x_{owner+2}): the first from k_{owner+1} = our own stream.
            let a: Vec<u64> = (0..n).map(|_| self.own.next_u64()).collect();
            let b = self.recv_words(owner, n)?;
            self.rounds += 1;
            Ok(Shares { kind, a, b })
        } else {
            // We are owner-1 and hold (x_{owner+2}, x_owner): x_owner from k_owner = our next.
            let b: Vec<u64> = (0..n).map(|_| self.next.next_u64()).collect();
            let a = self.recv_words(owner, n)?;
            self.rounds += 1;
            Ok(Shares { kind, a, b })
        }
    }

    /// Sign bits of arithmetically shared values, as a boolean sharing of packed bits (bit
    /// `k % 64` of word `k / 64` is the sign of element `k`).
    pub fn sign_bits(&mut self, x: &Shares) -> Result<Shares> {
        assert_eq!(x.kind, Kind::Arithmetic);
        let n = x.len();
        // Boolean sharing of s = x0 + x1, which party 0 knows.
        let s_values: Option<Vec<u64>> = (self.me == 0).then(|| {
            x.a.iter()
                .zip(&x.b)
                .map(|(a, b)| a.wrapping_add(*b))
                .collect()
        });
        let s = self.input(Kind::Boolean, 0, s_values.as_deref(), n)?;
        // Boolean sharing of x2: components (0, 0, x2), known to parties 1 and 2.
        let t = match self.me {
            0 => Shares::zeros(Kind::Boolean, n),
            1 => Shares {
                kind: Kind::Boolean,
                a: vec![0; n],
                b: x.b.clone(),
            },
            _ => Shares {
                kind: Kind::Boolean,
                a: x.a.clone(),
                b: vec![0; n],
            },
        };
        let plane = |sh: &Shares| -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
            (to_planes(&sh.a), to_planes(&sh.b))
        };
        let (sa, sb) = plane(&s);
        let (ta, tb) = plane(&t);
        let words = n.div_ceil(64);
        let bit = |pa: &Vec<Vec<u64>>, pb: &Vec<Vec<u64>>, j: usize| Shares {
            kind: Kind::Boolean,
            a: pa[j].clone(),
            b: pb[j].clone(),
        };
        // Ripple carry: c_{j+1} = ((a_j ^ c_j) & (b_j ^ c_j)) ^ c_j, one AND per bit.
        let mut carry = Shares::zeros(Kind::Boolean, words);
        for j in 0..63 {
            let aj = bit(&sa, &sb, j).add(&carry);
            let bj = bit(&ta, &tb, j).add(&carry);
            carry = self.mul(&aj, &bj)?.add(&carry);
        }
        Ok(bit(&sa, &sb, 63).add(&bit(&ta, &tb, 63)).add(&carry))
    }

    /// Injects shared bits (packed, as from [`Party::sign_bits`]) into the arithmetic ring as
    /// 0/1 values: `b = c ^ b2 = c + b2 - 2 c b2` with `c = b0 ^ b1` input by party 0.
    pub fn bits_to_ring(&mut self, bits: &Shares, n: usize) -> Result<Shares> {
        assert_eq!(bits.kind, Kind::Boolean);
        let unpack =
            |w: &[u64]| -> Vec<u64> { (0..n).map(|k| (w[k / 64] >> (k % 64)) & 1).collect() };
        let c_values: Option<Vec<u64>> = (self.me == 0).then(|| {
            let c: Vec<u64> = bits.a.iter().zip(&bits.b).map(|(a, b)| a ^ b).collect();
            unpack(&c)
        });
        let c = self.input(Kind::Arithmetic, 0, c_values.as_deref(), n)?;
        // b2 as an arithmetic sharing (0, 0, b2): party 1 holds it as b, party 2 as a.
        let b2 = match self.me {
            0 => Shares::zeros(Kind::Arithmetic, n),
            1 => Shares {
                kind: Kind::Arithmetic,
                a: vec![0; n],
                b: unpack(&bits.b),
            },
            _ => Shares {
                kind: Kind::Arithmetic,
                a: unpack(&bits.a),
                b: vec![0; n],
            },
        };
        let cb = self.mul(&c, &b2)?;
        Ok(c.add(&b2).sub(&cb.scale(2)))
    }

    /// `[x < y]` as 0/1 arithmetic shares, elementwise, for `|x - y| < 2^63`.
    pub fn less_than(&mut self, x: &Shares, y: &Shares) -> Result<Shares> {
        let d = x.sub(y);
        let bits = self.sign_bits(&d)?;
        self.bits_to_ring(&bits, d.len())
    }
}

#[cfg(test)]
mod tests {
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
        let r = run3(Mode::SemiHonest, move |p| {
            let lt = p.less_than(&sx[p.me()], &sy[p.me()])?;
            Ok((p.open(&lt)?, p.rounds))
        });
        let expect: Vec<u64> = (0..n).map(|k| u64::from(x[k] < y[k])).collect();
        for out in r {
            let (got, rounds) = out.unwrap();
            assert_eq!(got, expect);
            assert!(rounds <= 70, "{rounds} rounds");
        }
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
            matches!(r[0], Err(MpcError::CheatingDetected { .. })),
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
        assert!(
            r.iter()
                .any(|x| matches!(x, Err(MpcError::CheatingDetected { .. })))
        );
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
                return Ok(Vec::new());
            }
            let z = p.mul(&x[p.me()], &x[p.me()])?;
            p.open(&z)
        });
        assert!(
            matches!(&r[0], Err(MpcError::Malformed { peer, .. }) if peer == "party-1"),
            "{:?}",
            r[0].as_ref().map(|_| ())
        );
    }
}
