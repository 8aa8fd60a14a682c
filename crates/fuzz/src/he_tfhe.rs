//! Fuzz targets of trustspace-he's tfhe documents (feature `tfhe`): encrypted verdicts,
//! values and contributions of `fhe_int`, its keys' envelopes, and `lwe_sum`'s setup, secret
//! key, columns and sums. tfhe keys cannot be made from a seed, so each process makes its
//! contexts once ([`prepare`]); corpus files name them with an all-zero key id.

use std::borrow::Cow;
use std::sync::LazyLock;

use trustspace_he::HeError;
use trustspace_he::fhe_int::{
    self, AggregatorKeys, Contribution, EncryptedValue, EncryptedVerdict, IntParams, KeyHolder,
    PublicKeys,
};
use trustspace_he::lwe_sum::{
    self, EncryptedColumn as LweColumn, EncryptedSum, PublicSetup, SecretKey, SumParams,
};

use crate::Target;
use crate::he::capped;
use crate::props::{canonical, round_trips};

/// Largest input of the tfhe targets whose documents are small (verdicts, secret keys, sums,
/// keys' envelopes).
const MAX_TFHE_INPUT: usize = 64 << 10;
/// Largest input of the targets whose documents hold proven lists (a contribution, an
/// `lwe_sum` column): one list of about 20 KiB. Decoding a list checks its proof's points,
/// a few ms each, so more lists are not worth their time.
const MAX_TFHE_LIST_INPUT: usize = 32 << 10;
/// Largest input of the encrypted value target: a 16-bit value is 8 blocks of 16 KiB.
const MAX_TFHE_VALUE_INPUT: usize = 192 << 10;

/// The tfhe document targets.
pub(crate) const TARGETS: &[Target] = &[
    Target {
        name: "he_fhe_verdict",
        about: "fhe_int encrypted verdict (EncryptedVerdict::from_bytes): canonical",
        run: fhe_verdict,
    },
    Target {
        name: "he_fhe_value",
        about: "fhe_int encrypted value (EncryptedValue::from_bytes): canonical",
        run: fhe_value,
    },
    Target {
        name: "he_fhe_contribution",
        about: "fhe_int holder contribution (Contribution::from_bytes): canonical",
        run: fhe_contribution,
    },
    Target {
        name: "he_fhe_public_keys",
        about: "fhe_int public keys envelope (PublicKeys::from_bytes, inputs <= 64 KiB)",
        run: fhe_public_keys,
    },
    Target {
        name: "he_fhe_server_key",
        about: "fhe_int server key envelope (AggregatorKeys::from_server_key_bytes, <= 64 KiB)",
        run: fhe_server_key,
    },
    Target {
        name: "he_fhe_client_key",
        about: "fhe_int client key (KeyHolder::from_bytes): canonical",
        run: fhe_client_key,
    },
    Target {
        name: "he_lwe_setup",
        about: "lwe_sum public setup envelope (PublicSetup::from_bytes, inputs <= 64 KiB)",
        run: lwe_setup,
    },
    Target {
        name: "he_lwe_secret_key",
        about: "lwe_sum secret key (SecretKey::from_bytes): canonical",
        run: lwe_secret_key,
    },
    Target {
        name: "he_lwe_column",
        about: "lwe_sum encrypted column (EncryptedColumn::from_bytes): canonical",
        run: lwe_column,
    },
    Target {
        name: "he_lwe_sum",
        about: "lwe_sum encrypted sum (EncryptedSum::from_bytes): canonical, decode equal",
        run: lwe_sum,
    },
];

/// Panics unless an accepted tfhe document decodes equal (its re-encoding decodes, and
/// re-encodes to itself) and its re-encoding is as long as the input (no byte rode along).
fn tfhe_stable<T, B: AsRef<[u8]>>(
    what: &str,
    input: &[u8],
    value: &T,
    encode: impl Fn(&T) -> Result<B, HeError>,
    decode: impl Fn(&[u8]) -> Result<T, HeError>,
) {
    let text = encode(value)
        .unwrap_or_else(|e| panic!("{what}: an accepted document does not encode: {e:?}"));
    let text = text.as_ref();
    assert_eq!(
        text.len(),
        input.len(),
        "{what}: the re-encoding of an accepted document is of another length"
    );
    let again = decode(text).unwrap_or_else(|e| {
        panic!("{what}: the encoding of an accepted document is refused: {e:?}")
    });
    let twice = encode(&again)
        .unwrap_or_else(|e| panic!("{what}: a decoded re-encoding does not encode: {e:?}"));
    canonical(what, text, twice.as_ref());
}

/// `input` with the 32-byte key id at `at` replaced by `id` when it is all zeros (how corpus
/// files name the context's keys, which are new in every process).
fn with_id<'a>(input: &'a [u8], at: usize, id: &[u8; 32]) -> Cow<'a, [u8]> {
    match input.get(at..at + 32) {
        Some(field) if field.iter().all(|&b| b == 0) => {
            let mut fixed = input.to_vec();
            fixed[at..at + 32].copy_from_slice(id);
            Cow::Owned(fixed)
        }
        _ => Cow::Borrowed(input),
    }
}

/// The `fhe_int` context: public keys, and the declared sum the corpus contributions are for
/// (16-bit values, at most 40 rows, one group: 128 values per proven list).
struct FheContext {
    public: PublicKeys,
    params: IntParams,
}

static FHE: LazyLock<FheContext> = LazyLock::new(|| {
    let (_, _, public) = fhe_int::generate().expect("fhe_int keys");
    FheContext {
        public,
        params: IntParams::new(40, 1000, 1).expect("fhe_int params"),
    }
});

/// The `lwe_sum` context: a setup for at most 48 8-bit values in 3 columns (64 slots).
static LWE: LazyLock<PublicSetup> = LazyLock::new(|| {
    let params = SumParams::new(48, 8, 3).expect("lwe_sum params");
    lwe_sum::generate(params).expect("lwe_sum setup").1
});

/// Builds the tfhe key contexts (tens of seconds): the AFL++ driver calls this before its fork
/// server starts, so that forked children do not each make keys.
pub(crate) fn prepare() {
    LazyLock::force(&FHE);
    LazyLock::force(&LWE);
}

fn fhe_verdict(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_INPUT) else {
        return;
    };
    if let Ok(v) = EncryptedVerdict::from_bytes(input) {
        let what = "encrypted verdict";
        tfhe_stable(
            what,
            input,
            &v,
            EncryptedVerdict::to_bytes,
            EncryptedVerdict::from_bytes,
        );
    }
}

fn fhe_value(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_VALUE_INPUT) else {
        return;
    };
    if let Ok(v) = EncryptedValue::from_bytes(input) {
        let what = "encrypted value";
        tfhe_stable(
            what,
            input,
            &v,
            EncryptedValue::to_bytes,
            EncryptedValue::from_bytes,
        );
    }
}

fn fhe_contribution(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_LIST_INPUT) else {
        return;
    };
    let ctx = &*FHE;
    let decode = |b: &[u8]| Contribution::from_bytes(b, &ctx.public, &ctx.params);
    if let Ok(c) = decode(input) {
        tfhe_stable("contribution", input, &c, Contribution::to_bytes, decode);
    }
}

fn fhe_public_keys(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_INPUT) else {
        return;
    };
    if let Ok(k) = PublicKeys::from_bytes(input) {
        let what = "public keys";
        tfhe_stable(
            what,
            input,
            &k,
            PublicKeys::to_bytes,
            PublicKeys::from_bytes,
        );
    }
}

fn fhe_server_key(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_INPUT) else {
        return;
    };
    let ctx = &*FHE;
    let input = with_id(input, 0, &ctx.public.id());
    let decode = |b: &[u8]| AggregatorKeys::from_server_key_bytes(b, ctx.public.clone());
    if let Ok(k) = decode(&input) {
        let encode = AggregatorKeys::server_key_bytes;
        tfhe_stable("server key", &input, &k, encode, decode);
    }
}

fn fhe_client_key(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_INPUT) else {
        return;
    };
    let ctx = &*FHE;
    let input = with_id(input, 0, &ctx.public.id());
    let decode = |b: &[u8]| KeyHolder::from_bytes(b, &ctx.public);
    if let Ok(k) = decode(&input) {
        tfhe_stable("client key", &input, &k, KeyHolder::to_bytes, decode);
    }
}

fn lwe_setup(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_INPUT) else {
        return;
    };
    if let Ok(s) = PublicSetup::from_bytes(input) {
        let encode = |s: &PublicSetup| Ok(s.to_bytes());
        tfhe_stable("setup", input, &s, encode, PublicSetup::from_bytes);
    }
}

fn lwe_secret_key(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_INPUT) else {
        return;
    };
    let setup = &*LWE;
    let input = with_id(input, 8, &setup.id());
    let decode = |b: &[u8]| SecretKey::from_bytes(b, setup);
    if let Ok(k) = decode(&input) {
        let encode = |k: &SecretKey| Ok(k.to_bytes());
        tfhe_stable("secret key", &input, &k, encode, decode);
    }
}

fn lwe_column(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_LIST_INPUT) else {
        return;
    };
    let decode = |b: &[u8]| LweColumn::from_bytes(b, &LWE);
    if let Ok(c) = decode(input) {
        tfhe_stable("lwe column", input, &c, LweColumn::to_bytes, decode);
    }
}

fn lwe_sum(input: &[u8]) {
    let Some(input) = capped(input, MAX_TFHE_INPUT) else {
        return;
    };
    let setup = &*LWE;
    if let Ok(s) = EncryptedSum::from_bytes(input, setup) {
        // No tfhe encoding inside: canonical, byte for byte, and decode equal.
        canonical("encrypted sum", input, &s.to_bytes());
        round_trips(
            "encrypted sum",
            &s,
            EncryptedSum::to_bytes,
            |b: &Vec<u8>| EncryptedSum::from_bytes(b, setup),
        );
    }
}
