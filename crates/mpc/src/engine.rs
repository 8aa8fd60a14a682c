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
//!   check). The arithmetic sharing is converted to a boolean one and the sign bit computed with
//!   a bit-sliced ripple-carry adder (63 rounds of one AND per bit, each over whole bit planes,
//!   so a million comparisons move about 8 MB per party), then injected back into the ring.
//!   Semi-honest: party 0 inputs `x0 + x1` (one adder) and `x2` is shared trivially; the bit
//!   comes back with one input and one product. Malicious: no party inputs anything it could
//!   lie about — all three components are shared trivially (each is known to two parties), a
//!   carry-save layer (one AND per bit) reduces them to two operands, and the bit comes back
//!   through two checked products.
//!
//! Security: semi-honest by default. Malicious-with-abort mode ([`Mode::Malicious`]) cross-checks
//! every opening and every input sharing through the replication (a party sending shares that
//! disagree with the other replicas is caught at once), and [`Party::verify`] checks every
//! multiplication and AND by triple sacrifice with cut-and-choose, so an additive attack inside
//! a product is caught too; the query layer verifies before any output leaves a party.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::error::{Check, MpcError, Peer, Result};
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
    /// Malicious mode: every product `(x, y, z)` since the last [`Party::verify`].
    pending: Vec<(Shares, Shares, Shares)>,
    /// Tests: products started so far (to find the `n`-th).
    #[cfg(test)]
    calls: u64,
    /// Tests: add this error to the first element of this party's share of the `n`-th product
    /// (an additive attack, consistent on both replicas).
    #[cfg(test)]
    cheat: Option<(u64, u64)>,
}

/// Triples per bucket in the multiplication check, and triples opened outright.
const BUCKET: usize = 4;
/// Fewest buckets per check: smaller batches are padded. A cheater succeeds only if the
/// triples it spoiled fill whole buckets: at best `B` spoiled triples, landing in one bucket
/// with probability about `B! / (B^B · N^(B-1))` for `N` buckets of `B` — with `B = 4` and
/// `N ≥ 2^16`, below 2^-51 (2^-45 for a boolean word, union-bounded over its 64 positions).
const MIN_BUCKETS: usize = 1 << 16;

fn op_sub(kind: Kind) -> fn(u64, u64) -> u64 {
    match kind {
        Kind::Arithmetic => u64::wrapping_sub,
        Kind::Boolean => |x, y| x ^ y,
    }
}

fn op_mul(kind: Kind) -> fn(u64, u64) -> u64 {
    match kind {
        Kind::Arithmetic => u64::wrapping_mul,
        Kind::Boolean => |x, y| x & y,
    }
}

/// A vector of ring elements as a message: each element as 8 little-endian bytes.
pub(crate) fn encode(words: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(words.len() * 8);
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

/// SHA-256 of a vector of ring elements, as four words.
fn digest_words(w: &[u64]) -> Vec<u64> {
    let d: [u8; 32] = Sha256::digest(encode(w)).into();
    d.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// A PRF key for one session: SHA-256 over a domain label, the session and the exchanged seed.
fn bind_seed(session: &[u8; 32], seed: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"trustspace-mpc/prf-seed/v1\0");
    h.update(session);
    h.update(seed);
    h.finalize().into()
}

/// Decodes [`encode`]'s form of exactly `n` ring elements from `peer` ([`MpcError::Malformed`]
/// for any other length).
pub(crate) fn decode(bytes: &[u8], n: usize, peer: PartyId) -> Result<Vec<u64>> {
    if n.checked_mul(8) != Some(bytes.len()) {
        return Err(MpcError::Malformed {
            peer: Peer::Party(peer),
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
    pub fn new(net: T, mode: Mode) -> Result<Party<T>> {
        Self::in_session(net, mode, &[0u8; 32])
    }

    /// [`Party::new`] for one networked session: the PRF streams (and so every random sharing,
    /// zero-sharing and coin) are keyed by the exchanged seeds *and* the session identifier, so
    /// no correlated randomness of one session can serve another.
    pub fn in_session(mut net: T, mode: Mode, session: &[u8; 32]) -> Result<Party<T>> {
        let me = net.me();
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        net.send((me + 2) % 3, seed.to_vec())?;
        let theirs = net.recv((me + 1) % 3)?;
        let theirs: [u8; 32] = theirs.try_into().map_err(|_| MpcError::Malformed {
            peer: Peer::Party((me + 1) % 3),
            reason: "PRF seed is not 32 bytes".into(),
        })?;
        Ok(Party {
            net,
            me,
            mode,
            own: ChaCha20Rng::from_seed(bind_seed(session, &seed)),
            next: ChaCha20Rng::from_seed(bind_seed(session, &theirs)),
            products: 0,
            rounds: 0,
            pending: Vec::new(),
            #[cfg(test)]
            calls: 0,
            #[cfg(test)]
            cheat: None,
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

    /// Multiplies (arithmetic) or ANDs (boolean) two sharings elementwise: one round. In
    /// malicious mode the product is remembered for [`Party::verify`].
    pub fn mul(&mut self, x: &Shares, y: &Shares) -> Result<Shares> {
        let z = self.mul_unchecked(x, y)?;
        if self.mode == Mode::Malicious {
            self.pending.push((x.clone(), y.clone(), z.clone()));
        }
        Ok(z)
    }

    #[cfg(test)]
    fn products_calls(&mut self) -> u64 {
        self.calls += 1;
        self.calls
    }

    fn mul_unchecked(&mut self, x: &Shares, y: &Shares) -> Result<Shares> {
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
        #[cfg(test)]
        if let Some((nth, delta)) = self.cheat
            && nth == self.products_calls()
            && !z.is_empty()
        {
            z[0] = z[0].wrapping_add(delta);
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

    /// A sharing of `n` random values nobody knows, from the PRF streams (no communication).
    pub fn random(&mut self, kind: Kind, n: usize) -> Shares {
        let a = (0..n).map(|_| self.own.next_u64()).collect();
        let b = (0..n).map(|_| self.next.next_u64()).collect();
        Shares { kind, a, b }
    }

    /// 32 public random bytes no party can bias (a random sharing, opened).
    fn coin(&mut self) -> Result<[u8; 32]> {
        let r = self.random(Kind::Arithmetic, 4);
        let words = self.open(&r)?;
        let mut seed = [0u8; 32];
        for (chunk, w) in seed.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        Ok(seed)
    }

    /// Malicious mode: checks every product since the last call, and aborts with
    /// [`MpcError::CheatingDetected`] if any was altered. Call before revealing anything that
    /// depends on products. Semi-honest mode: nothing to do.
    ///
    /// The check sacrifices triples (Furukawa–Lindell–Nof–Weinstein, Eurocrypt'17, over
    /// Z_2^64 and over bit words): random triples `(a, b, c = a·b)` are made with the same
    /// multiplication; after they are fixed, a coin no party can bias permutes them; `BUCKET` are
    /// opened and must satisfy `c = a·b`; the rest fall into buckets of `BUCKET`, where the first
    /// triple is checked against each other one (open `ρ = a − a'`, `σ = b − b'`; then
    /// `c − c' − σ·a' − ρ·b' − ρσ` must open to 0, i.e. both carry the same additive error); each
    /// product `z = x·y` is finally checked against its bucket's first triple the same way. A
    /// cheating party's deviation in a product is an additive error fixed before the coin, so it
    /// passes only if a whole bucket carries equal errors (see `MIN_BUCKETS` for the bound:
    /// below 2^-45).
    pub fn verify(&mut self) -> Result<()> {
        if self.mode != Mode::Malicious || self.pending.is_empty() {
            self.pending.clear();
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        for kind in [Kind::Arithmetic, Kind::Boolean] {
            let of: Vec<&(Shares, Shares, Shares)> =
                pending.iter().filter(|t| t.0.kind == kind).collect();
            if of.is_empty() {
                continue;
            }
            let cat = |i: usize| -> Shares {
                let parts: Vec<&Shares> = of
                    .iter()
                    .map(|t| match i {
                        0 => &t.0,
                        1 => &t.1,
                        _ => &t.2,
                    })
                    .collect();
                Shares::concat(&parts)
            };
            let (x, y, z) = (cat(0), cat(1), cat(2));
            self.check_products(kind, &x, &y, &z)?;
        }
        Ok(())
    }

    fn check_products(&mut self, kind: Kind, x: &Shares, y: &Shares, z: &Shares) -> Result<()> {
        let mul = op_mul(kind);
        let m = x.len();
        let buckets = m.max(MIN_BUCKETS);
        let total = buckets * BUCKET + BUCKET;
        let a = self.random(kind, total);
        let b = self.random(kind, total);
        let c = self.mul_unchecked(&a, &b)?;
        // The permutation is drawn only now that every triple is fixed; the triples are put in
        // its order once, so the cut is `0..BUCKET` and bucket `t` is the next `BUCKET` after.
        let mut order: Vec<usize> = (0..total).collect();
        rand::seq::SliceRandom::shuffle(
            order.as_mut_slice(),
            &mut ChaCha20Rng::from_seed(self.coin()?),
        );
        let permute = |s: Shares| Shares {
            kind,
            a: order.iter().map(|&i| s.a[i]).collect(),
            b: order.iter().map(|&i| s.b[i]).collect(),
        };
        let (a, b, c) = (permute(a), permute(b), permute(c));
        drop(order);
        // Cut: BUCKET triples opened outright.
        let opened = self.open(&Shares::concat(&[
            &a.slice(0..BUCKET),
            &b.slice(0..BUCKET),
            &c.slice(0..BUCKET),
        ]))?;
        for k in 0..BUCKET {
            let (va, vb, vc) = (opened[k], opened[BUCKET + k], opened[2 * BUCKET + k]);
            if mul(va, vb) != vc {
                return Err(MpcError::CheatingDetected {
                    check: Check::OpenedTriple,
                    detail: "multiplication: an opened triple is not a product".into(),
                });
            }
        }
        // Buckets: the first triple of each (the verified one) against each other one.
        let first = |t: usize| BUCKET + t * BUCKET;
        let pairs: Vec<(usize, usize)> = (0..buckets)
            .flat_map(|t| (1..BUCKET).map(move |j| (first(t), first(t) + j)))
            .collect();
        self.sacrifice(
            kind,
            pairs.len(),
            |k| pairs[k].0,
            (&a, &b, &c),
            |k| pairs[k].1,
            (&a, &b, &c),
            "a triple bucket",
        )?;
        drop(pairs);
        // Each product against its bucket's verified triple.
        self.sacrifice(kind, m, |k| k, (x, y, z), first, (&a, &b, &c), "a product")
    }

    /// Checks triples `(x, y, z)[xi(k)]` against `(a, b, c)[ai(k)]` for `k < n`: opens
    /// `ρ = x − a`, `σ = y − b`, then `z − c − σ·a − ρ·b − ρσ`, which is 0 exactly when both
    /// carry the same additive error.
    #[allow(clippy::too_many_arguments)]
    fn sacrifice(
        &mut self,
        kind: Kind,
        n: usize,
        xi: impl Fn(usize) -> usize,
        (x, y, z): (&Shares, &Shares, &Shares),
        ai: impl Fn(usize) -> usize,
        (a, b, c): (&Shares, &Shares, &Shares),
        what: &str,
    ) -> Result<()> {
        let (sub, mul) = (op_sub(kind), op_mul(kind));
        let mut rs = Shares::zeros(kind, 2 * n);
        for k in 0..n {
            let (i, j) = (xi(k), ai(k));
            rs.a[k] = sub(x.a[i], a.a[j]);
            rs.b[k] = sub(x.b[i], a.b[j]);
            rs.a[n + k] = sub(y.a[i], b.a[j]);
            rs.b[n + k] = sub(y.b[i], b.b[j]);
        }
        let opened = self.open(&rs)?;
        drop(rs);
        let (rho, sigma) = opened.split_at(n);
        // The public term ρσ sits in component x0 (party 0's a, party 2's b).
        let me = self.me;
        let mut chk = Shares::zeros(kind, n);
        for k in 0..n {
            let (i, j) = (xi(k), ai(k));
            let f = |zc: u64, cc: u64, ac: u64, bc: u64| {
                sub(sub(sub(zc, cc), mul(sigma[k], ac)), mul(rho[k], bc))
            };
            chk.a[k] = f(z.a[i], c.a[j], a.a[j], b.a[j]);
            chk.b[k] = f(z.b[i], c.b[j], a.b[j], b.b[j]);
            let public = mul(rho[k], sigma[k]);
            match me {
                0 => chk.a[k] = sub(chk.a[k], public),
                2 => chk.b[k] = sub(chk.b[k], public),
                _ => {}
            }
        }
        if self.open(&chk)?.iter().any(|&v| v != 0) {
            return Err(MpcError::CheatingDetected {
                check: Check::Product,
                detail: format!("multiplication: {what} failed the triple check"),
            });
        }
        Ok(())
    }

    /// Opens a sharing to all three parties.
    pub fn open(&mut self, x: &Shares) -> Result<Vec<u64>> {
        let (prev, next) = (self.prev(), self.next_id());
        // Party i-1 lacks x_{i+1}, which is our b; party i+1 lacks x_i, our a. In malicious
        // mode the second holder of each missing component sends its SHA-256 digest, which the
        // receiver compares with the value it got (half the traffic of a second copy).
        self.send_words(prev, &x.b)?;
        if self.mode == Mode::Malicious {
            self.send_words(next, &digest_words(&x.a))?;
        }
        let missing = self.recv_words(next, x.len())?;
        if self.mode == Mode::Malicious {
            let copy = self.recv_words(prev, 4)?;
            if copy != digest_words(&missing) {
                return Err(MpcError::CheatingDetected {
                    check: Check::Opening,
                    detail: "opening: the two replicas of a share differ".into(),
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
        let digest = digest_words;
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
                check: Check::Replicas,
                detail: format!("{what}: replicated shares differ between parties"),
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
        let words = n.div_ceil(64);
        let planes = |sh: &Shares| -> Vec<Shares> {
            let (pa, pb) = (to_planes(&sh.a), to_planes(&sh.b));
            pa.into_iter()
                .zip(pb)
                .map(|(a, b)| Shares {
                    kind: Kind::Boolean,
                    a,
                    b,
                })
                .collect()
        };
        let (s, t) = if self.mode == Mode::Malicious {
            // Each component x_j is known to two parties, so its trivial boolean sharing needs
            // no one's word: x = x0 + x1 + x2 by a carry-save layer (one AND per bit), then one
            // addition. Only ANDs, all checked by `verify`.
            let [p0, p1, p2] = [0, 1, 2].map(|j| planes(&self.trivial(Kind::Boolean, j, x)));
            let mut xs = Vec::with_capacity(64);
            let mut ys = Vec::with_capacity(64);
            for j in 0..64 {
                xs.push(p0[j].add(&p2[j]));
                ys.push(p1[j].add(&p2[j]));
            }
            let maj = self.mul(
                &Shares::concat(&xs.iter().collect::<Vec<_>>()),
                &Shares::concat(&ys.iter().collect::<Vec<_>>()),
            )?;
            let mut sum = Vec::with_capacity(64);
            let mut carry = vec![Shares::zeros(Kind::Boolean, words)];
            for j in 0..64 {
                sum.push(p0[j].add(&p1[j]).add(&p2[j]));
                if j < 63 {
                    carry.push(maj.slice(j * words..(j + 1) * words).add(&p2[j]));
                }
            }
            (sum, carry)
        } else {
            // Boolean sharing of s = x0 + x1, which party 0 knows, and of x2 (trivially).
            let s_values: Option<Vec<u64>> = (self.me == 0).then(|| {
                x.a.iter()
                    .zip(&x.b)
                    .map(|(a, b)| a.wrapping_add(*b))
                    .collect()
            });
            let s = self.input(Kind::Boolean, 0, s_values.as_deref(), n)?;
            let t = self.trivial(Kind::Boolean, 2, x);
            (planes(&s), planes(&t))
        };
        // Ripple carry: c_{j+1} = ((a_j ^ c_j) & (b_j ^ c_j)) ^ c_j, one AND per bit.
        let mut carry = Shares::zeros(Kind::Boolean, words);
        for j in 0..63 {
            let aj = s[j].add(&carry);
            let bj = t[j].add(&carry);
            carry = self.mul(&aj, &bj)?.add(&carry);
        }
        Ok(s[63].add(&t[63]).add(&carry))
    }

    /// The trivial sharing of component `j` of `x` (as a value of `kind`): component `j` holds
    /// `x_j`, the others 0. The two parties holding `x_j` fill it in; no communication.
    fn trivial(&self, kind: Kind, j: usize, x: &Shares) -> Shares {
        let n = x.len();
        let me = self.me;
        Shares {
            kind,
            a: if j == me { x.a.clone() } else { vec![0; n] },
            b: if j == (me + 1) % 3 {
                x.b.clone()
            } else {
                vec![0; n]
            },
        }
    }

    /// Injects shared bits (packed, as from [`Party::sign_bits`]) into the arithmetic ring as
    /// 0/1 values: `b = c ^ b2 = c + b2 - 2 c b2` with `c = b0 ^ b1` input by party 0.
    pub fn bits_to_ring(&mut self, bits: &Shares, n: usize) -> Result<Shares> {
        assert_eq!(bits.kind, Kind::Boolean);
        let unpack =
            |w: &[u64]| -> Vec<u64> { (0..n).map(|k| (w[k / 64] >> (k % 64)) & 1).collect() };
        let comps = Shares {
            kind: Kind::Arithmetic,
            a: unpack(&bits.a),
            b: unpack(&bits.b),
        };
        let xor = |p: &mut Self, u: &Shares, v: &Shares| -> Result<Shares> {
            let uv = p.mul(u, v)?;
            Ok(u.add(v).sub(&uv.scale(2)))
        };
        if self.mode == Mode::Malicious {
            // b = b0 ^ b1 ^ b2 from the three trivial sharings: two checked products.
            let [t0, t1, t2] = [0, 1, 2].map(|j| self.trivial(Kind::Arithmetic, j, &comps));
            let u = xor(self, &t0, &t1)?;
            return xor(self, &u, &t2);
        }
        let c_values: Option<Vec<u64>> = (self.me == 0).then(|| {
            let c: Vec<u64> = bits.a.iter().zip(&bits.b).map(|(a, b)| a ^ b).collect();
            unpack(&c)
        });
        let c = self.input(Kind::Arithmetic, 0, c_values.as_deref(), n)?;
        // b2 as an arithmetic sharing (0, 0, b2): parties 1 and 2 hold it.
        let b2 = self.trivial(Kind::Arithmetic, 2, &comps);
        xor(self, &c, &b2)
    }

    /// `[x < y]` as 0/1 arithmetic shares, elementwise, for `|x - y| < 2^63`.
    pub fn less_than(&mut self, x: &Shares, y: &Shares) -> Result<Shares> {
        let d = x.sub(y);
        let bits = self.sign_bits(&d)?;
        self.bits_to_ring(&bits, d.len())
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
