//! The canonical encodings behind every digest (`trustspace_zk::canon`), read back by a decoder
//! written here from the documented layout: decoding an encoding gives back what was encoded, so
//! each encoding is injective (two different policies, statements or key sets never share one)
//! and follows its documented layout field for field. Also the `fr` and `idx` primitives.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use ark_serialize::CanonicalDeserialize;
use proptest::prelude::*;
use trustspace_zk::bundle::{ChunkProof, FinalProof, ProofBundle, Revealed};
use trustspace_zk::canon::{self, Canon, Domain};
use trustspace_zk::digests::CircuitDigests;
use trustspace_zk::policy::{Atom, Counter, Inequality, Op, Plan, Reveal, Rule, Term};
use trustspace_zk::{Commitment, VerifyingKeys};

/// Reads the primitives of `trustspace_data::canon`; every read fails the test on a short or
/// malformed encoding.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn start(b: &'a [u8], domain: Domain) -> Reader<'a> {
        let mut r = Reader { b };
        assert_eq!(r.str(), domain.tag);
        assert_eq!(r.u32(), domain.version);
        r
    }
    fn raw(&mut self, n: usize) -> &'a [u8] {
        assert!(self.b.len() >= n, "encoding too short");
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        head
    }
    fn u8(&mut self) -> u8 {
        self.raw(1)[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.raw(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.raw(8).try_into().unwrap())
    }
    fn u128(&mut self) -> u128 {
        u128::from_be_bytes(self.raw(16).try_into().unwrap())
    }
    fn idx(&mut self) -> usize {
        usize::try_from(self.u64()).unwrap()
    }
    fn count(&mut self) -> usize {
        match self.u32() {
            u32::MAX => usize::try_from(self.u64()).unwrap(),
            n => n as usize,
        }
    }
    fn bytes(&mut self) -> &'a [u8] {
        let n = self.count();
        self.raw(n)
    }
    fn str(&mut self) -> String {
        String::from_utf8(self.bytes().to_vec()).unwrap()
    }
    fn digest(&mut self) -> [u8; 32] {
        self.raw(32).try_into().unwrap()
    }
    fn fr(&mut self) -> Fr {
        let b = self.raw(32);
        let x = Fr::from_be_bytes_mod_order(b);
        assert_eq!(x.into_bigint().to_bytes_be(), b, "fr is below the modulus");
        x
    }
    fn option<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        match self.u8() {
            0 => None,
            1 => Some(f(self)),
            t => panic!("option tag {t}"),
        }
    }
    fn seq<T>(&mut self, mut f: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let n = self.count();
        (0..n).map(|_| f(self)).collect()
    }
    fn end(&self) {
        assert!(
            self.b.is_empty(),
            "{} bytes after the encoding",
            self.b.len()
        );
    }

    fn op(&mut self) -> Op {
        match self.u8() {
            1 => Op::Eq,
            2 => Op::Ne,
            3 => Op::Lt,
            4 => Op::Le,
            5 => Op::Gt,
            6 => Op::Ge,
            t => panic!("op {t}"),
        }
    }
    fn ranges(&mut self) -> Vec<(u64, u64)> {
        self.seq(|r| (r.u64(), r.u64()))
    }
    fn atom(&mut self) -> Atom {
        match self.u8() {
            1 => Atom::Const {
                column: self.idx(),
                op: self.op(),
                value: self.u64(),
            },
            2 => Atom::Columns {
                left: self.idx(),
                op: self.op(),
                right: self.idx(),
            },
            3 => Atom::Intervals {
                column: self.idx(),
                ranges: self.ranges(),
            },
            4 => Atom::Tree {
                column: self.idx(),
                ranges: self.ranges(),
            },
            t => panic!("atom {t}"),
        }
    }
    fn terms(&mut self) -> Vec<(u128, Term)> {
        self.seq(|r| {
            let k = r.u128();
            let t = match r.u8() {
                1 => Term::Counter(r.idx()),
                2 => Term::Records,
                3 => Term::One,
                t => panic!("term {t}"),
            };
            (k, t)
        })
    }
}

/// The policy encoding's decoder (layout in `trustspace_zk::canon`).
fn read_plan(c: &Canon) -> Plan {
    let mut r = Reader::start(c.as_bytes(), canon::POLICY);
    let plan = Plan {
        name: r.str(),
        schema_digest: r.digest(),
        rules: r.seq(|r| Rule {
            name: r.str(),
            when: r.option(Reader::atom),
            require: r.atom(),
        }),
        counters: r.seq(|r| Counter {
            column: r.option(Reader::idx),
            filter: r.option(Reader::atom),
        }),
        bounds: r.seq(|r| Inequality {
            name: r.str(),
            left: r.terms(),
            right: r.terms(),
        }),
        reveals: r.seq(|r| Reveal {
            name: r.str(),
            counter: r.idx(),
            scale: r.u32(),
        }),
    };
    r.end();
    plan
}

/// What a statement encoding holds: everything of a bundle but the proofs and revealed values.
#[derive(Debug, PartialEq)]
struct Statement {
    circuit: CircuitDigests,
    commitment: Commitment,
    policy_digest: [u8; 32],
    chunks: Vec<(u64, Vec<Fr>)>,
    final_inputs: Option<Vec<Fr>>,
}

impl Statement {
    fn of(b: &ProofBundle) -> Statement {
        Statement {
            circuit: b.circuit.clone(),
            commitment: b.commitment.clone(),
            policy_digest: b.policy_digest,
            chunks: b
                .chunks
                .iter()
                .map(|c| (c.index, c.public_inputs.clone()))
                .collect(),
            final_inputs: b.final_.as_ref().map(|f| f.public_inputs.clone()),
        }
    }
}

fn read_statement(c: &Canon) -> Statement {
    let mut r = Reader::start(c.as_bytes(), canon::STATEMENT);
    let circuit = CircuitDigests {
        chunk: r.str(),
        final_: r.option(Reader::str),
    };
    let commitment = Commitment {
        version: r.u32(),
        root: r.fr(),
        schema_digest: r.digest(),
        records: r.u64(),
        chunk_size: r.u64(),
        owner: r.digest(),
    };
    let s = Statement {
        circuit,
        commitment,
        policy_digest: r.digest(),
        chunks: r.seq(|r| (r.u64(), r.seq(Reader::fr))),
        final_inputs: r.option(|r| r.seq(Reader::fr)),
    };
    r.end();
    s
}

fn read_verifying_keys(c: &Canon) -> VerifyingKeys {
    let mut r = Reader::start(c.as_bytes(), canon::VERIFYING_KEYS);
    let key = |b: &[u8]| {
        ark_groth16::VerifyingKey::<ark_bn254::Bn254>::deserialize_compressed(b).unwrap()
    };
    let vk = VerifyingKeys {
        digests: CircuitDigests {
            chunk: r.str(),
            final_: r.option(Reader::str),
        },
        policy_digest: r.digest(),
        schema_digest: r.digest(),
        chunk_size: r.u64(),
        reveals: r.seq(Reader::str),
        reveal_scales: r.seq(Reader::u32),
        counters: r.idx(),
        chunk: key(r.bytes()),
        final_: r.option(|r| key(r.bytes())),
        ceremony: None,
    };
    r.end();
    vk
}

fn fr() -> impl Strategy<Value = Fr> {
    prop_oneof![
        1 => Just(Fr::from(0u64)),
        1 => Just(-Fr::from(1u64)),
        8 => any::<[u8; 32]>().prop_map(|b| Fr::from_be_bytes_mod_order(&b)),
    ]
}

fn name() -> impl Strategy<Value = String> {
    // Short names over a few characters, so that different field lists often share bytes.
    "[ab.\u{e9}]{0,4}"
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Eq),
        Just(Op::Ne),
        Just(Op::Lt),
        Just(Op::Le),
        Just(Op::Gt),
        Just(Op::Ge)
    ]
}

fn atom() -> impl Strategy<Value = Atom> {
    let ranges = || prop::collection::vec((0u64..4, 0u64..4), 0..3);
    prop_oneof![
        (0usize..3, op(), 0u64..4).prop_map(|(column, op, value)| Atom::Const {
            column,
            op,
            value
        }),
        (0usize..3, op(), 0usize..3).prop_map(|(left, op, right)| Atom::Columns {
            left,
            op,
            right
        }),
        (0usize..3, ranges()).prop_map(|(column, ranges)| Atom::Intervals { column, ranges }),
        (0usize..3, ranges()).prop_map(|(column, ranges)| Atom::Tree { column, ranges }),
    ]
}

fn terms() -> impl Strategy<Value = Vec<(u128, Term)>> {
    let term = prop_oneof![
        (0usize..3).prop_map(Term::Counter),
        Just(Term::Records),
        Just(Term::One)
    ];
    prop::collection::vec((0u128..3, term), 0..3)
}

fn plan() -> impl Strategy<Value = Plan> {
    let rule = (name(), prop::option::of(atom()), atom()).prop_map(|(name, when, require)| Rule {
        name,
        when,
        require,
    });
    let counter = (prop::option::of(0usize..3), prop::option::of(atom()))
        .prop_map(|(column, filter)| Counter { column, filter });
    let bound =
        (name(), terms(), terms()).prop_map(|(name, left, right)| Inequality { name, left, right });
    let reveal = (name(), 0usize..3, 0u32..3).prop_map(|(name, counter, scale)| Reveal {
        name,
        counter,
        scale,
    });
    (
        name(),
        prop_oneof![Just([0u8; 32]), Just([1u8; 32])],
        prop::collection::vec(rule, 0..3),
        prop::collection::vec(counter, 0..3),
        prop::collection::vec(bound, 0..3),
        prop::collection::vec(reveal, 0..3),
    )
        .prop_map(
            |(name, schema_digest, rules, counters, bounds, reveals)| Plan {
                name,
                schema_digest,
                rules,
                counters,
                bounds,
                reveals,
            },
        )
}

fn commitment() -> impl Strategy<Value = Commitment> {
    (
        fr(),
        any::<[u8; 32]>(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        any::<[u8; 32]>(),
    )
        .prop_map(
            |(root, schema_digest, version, records, chunk_size, owner)| Commitment {
                version,
                root,
                schema_digest,
                records,
                chunk_size,
                owner,
            },
        )
}

fn bundle() -> impl Strategy<Value = ProofBundle> {
    let inputs = || prop::collection::vec(fr(), 0..3);
    let chunk = (0u64..3, inputs()).prop_map(|(index, public_inputs)| ChunkProof {
        index,
        public_inputs,
        proof: "00".into(),
    });
    let final_ = inputs().prop_map(|public_inputs| FinalProof {
        public_inputs,
        revealed: vec![Revealed {
            name: "n".into(),
            value: "1".into(),
        }],
        proof: "00".into(),
    });
    (
        name(),
        prop::option::of(name()),
        commitment(),
        prop_oneof![Just([0u8; 32]), Just([2u8; 32])],
        prop::collection::vec(chunk, 0..3),
        prop::option::of(final_),
    )
        .prop_map(
            |(chunk, final_digest, commitment, policy_digest, chunks, final_)| ProofBundle {
                version: 1,
                circuit: CircuitDigests {
                    chunk,
                    final_: final_digest,
                },
                commitment,
                policy_digest,
                chunks,
                final_,
            },
        )
}

proptest! {
    #[test]
    fn the_policy_encoding_decodes_to_the_plan(a in plan(), b in plan()) {
        let (ca, cb) = (a.canonical(), b.canonical());
        prop_assert_eq!(&read_plan(&ca), &a);
        // Injective: different plans, different bytes (and digests).
        prop_assert_eq!(a == b, ca.as_bytes() == cb.as_bytes());
        prop_assert_eq!(a.digest(), ca.sha256());
    }

    #[test]
    fn the_statement_encoding_decodes_to_the_statement(a in bundle(), b in bundle()) {
        let (ca, cb) = (a.statement_canonical(), b.statement_canonical());
        prop_assert_eq!(read_statement(&ca), Statement::of(&a));
        prop_assert_eq!(
            Statement::of(&a) == Statement::of(&b),
            ca.as_bytes() == cb.as_bytes()
        );
        prop_assert_eq!(a.statement_digest(), ca.sha256());
    }

    #[test]
    fn fr_writes_the_canonical_integer_and_idx_a_u64(x in fr(), i in any::<u64>()) {
        let mut c = Canon::new("t", 1);
        canon::fr(&mut c, &x);
        canon::idx(&mut c, i as usize);
        let mut r = Reader { b: c.as_bytes() };
        prop_assert_eq!(r.str(), "t");
        prop_assert_eq!(r.u32(), 1);
        prop_assert_eq!(r.fr(), x);
        prop_assert_eq!(r.u64(), i);
        r.end();
    }
}

/// The golden verifying keys, decoded once per test.
fn golden_keys() -> VerifyingKeys {
    VerifyingKeys::from_bytes(include_bytes!("../golden/verifying_keys.json")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn the_key_encoding_decodes_to_the_keys(
        chunk in name(),
        final_digest in name(),
        policy_digest in any::<[u8; 32]>(),
        chunk_size in any::<u64>(),
        reveals in prop::collection::vec(name(), 4),
        scales in prop::collection::vec(0u32..=18, 4),
        counters in 1usize..1 << 20,
        swap in any::<bool>(),
    ) {
        let golden = golden_keys();
        let mut vk = golden.clone();
        vk.digests = CircuitDigests { chunk, final_: Some(final_digest) };
        vk.policy_digest = policy_digest;
        vk.chunk_size = chunk_size;
        vk.reveals = reveals;
        vk.reveal_scales = scales;
        vk.counters = counters;
        if swap {
            std::mem::swap(&mut vk.chunk, vk.final_.as_mut().unwrap());
        }
        let c = vk.canonical();
        prop_assert_eq!(&read_verifying_keys(&c), &vk);
        prop_assert_eq!(vk == golden, c.as_bytes() == golden.canonical().as_bytes());
        prop_assert_eq!(vk.digest(), c.sha256());
    }
}
