//! Fuzz targets of trustspace-zk's decoders: the policy TOML (compiled against the golden
//! schema), and the commitment, opening, proof bundle, verifying-key and proving-key files
//! (their byte decoders, `from_bytes`, which the loaders run after a bounded read).
//!
//! None of these formats is canonical (JSON and TOML allow other spacing, hex other case, a
//! compressed point at infinity other padding), so on an accepted input each target checks that
//! the crate's writer output decodes to the same value and that this output is itself a fixed
//! point of decode-then-write (the writer's form is canonical).

use std::fmt::Debug;
use std::sync::LazyLock;

use trustspace_data::Schema;
use trustspace_zk::bundle::{ProofBundle, proof_from_hex, proof_to_hex};
use trustspace_zk::policy::PolicyFile;
use trustspace_zk::{Commitment, Opening, Policy, ProvingKeys, VerifyingKeys};

use crate::Target;
use crate::props::{canonical, round_trips};

/// This crate's targets.
pub(crate) const TARGETS: &[Target] = &[
    Target {
        name: "zk_policy_toml",
        about: "trustspace-zk policy TOML compiled against the golden schema: the spec's TOML \
                writer round-trips, and so does the compiled policy",
        run: policy_toml,
    },
    Target {
        name: "zk_commitment",
        about: "trustspace-zk commitment file (JSON, validated)",
        run: commitment,
    },
    Target {
        name: "zk_opening",
        about: "trustspace-zk opening file (JSON, a 32-byte secret key in hex)",
        run: opening,
    },
    Target {
        name: "zk_bundle",
        about: "trustspace-zk proof bundle (JSON: field elements, the commitment, proofs as \
                compressed curve points)",
        run: bundle,
    },
    Target {
        name: "zk_verifying_keys",
        about: "trustspace-zk verifying keys (JSON with compressed, subgroup-checked points)",
        run: verifying_keys,
    },
    Target {
        name: "zk_proving_keys",
        about: "trustspace-zk proving keys (binary: magic, JSON header, uncompressed points)",
        run: proving_keys,
    },
];

/// Inputs above this are skipped (the decoders' own limits are 64 KiB to 256 MiB); it keeps
/// one execution in milliseconds.
const MAX_INPUT: usize = 64 << 10;
/// Verifying-key inputs above this are skipped (the golden file is 2.4 KiB; every point costs
/// a decompression and a subgroup check).
const MAX_VERIFYING_KEYS: usize = 16 << 10;
/// Proving-key inputs above this are skipped (real keys are megabytes; the decoder streams).
const MAX_PROVING_KEYS: usize = 8 << 10;
/// Proofs of one bundle decoded at most (each costs point decompressions and a G2 subgroup
/// check).
const MAX_PROOFS: usize = 4;

/// The golden schema the policies are compiled against, built once.
static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    Schema::from_toml(
        include_str!("../../zk/tests/golden/schema.toml"),
        "zk golden schema",
    )
    .expect("the golden schema parses")
});

/// On a value a file decoder accepted: the writer's bytes decode to the same value, and
/// decoding then writing them again gives the same bytes.
fn file_format<T, E>(
    what: &str,
    value: &T,
    write: impl Fn(&T) -> Vec<u8>,
    read: impl Fn(&[u8]) -> Result<T, E>,
) where
    T: PartialEq + Debug,
    E: Debug,
{
    round_trips(what, value, &write, |b: &Vec<u8>| read(b));
    let bytes = write(value);
    if let Ok(again) = read(&bytes) {
        canonical(what, &bytes, &write(&again));
    }
}

fn policy_toml(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let Ok(file) = PolicyFile::from_toml(text, "fuzz") else {
        return;
    };
    let written = file.to_toml();
    round_trips(
        "policy file",
        &file,
        |_| written.clone(),
        |t: &String| PolicyFile::from_toml(t, "re-encoded"),
    );
    if let Ok(again) = PolicyFile::from_toml(&written, "re-encoded") {
        canonical(
            "policy file",
            written.as_bytes(),
            again.to_toml().as_bytes(),
        );
    }
    match Policy::from_toml(text, "fuzz", None, &SCHEMA) {
        Ok(policy) => {
            assert_eq!(
                policy.digest(),
                policy.plan().digest(),
                "policy: the digest is the plan's"
            );
            round_trips(
                "compiled policy",
                &policy,
                |_| written.clone(),
                |t: &String| Policy::from_toml(t, "re-encoded", None, &SCHEMA),
            );
        }
        Err(_) => assert!(
            Policy::from_toml(&written, "re-encoded", None, &SCHEMA).is_err(),
            "policy: a refused policy compiles once re-encoded"
        ),
    }
}

fn commitment(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    if let Ok(c) = Commitment::from_bytes(input) {
        file_format(
            "commitment",
            &c,
            Commitment::to_bytes,
            Commitment::from_bytes,
        );
    }
}

fn opening(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    // An opening is a secret without `==`: its file bytes (a function of the key alone) stand
    // for it.
    if let Ok(o) = Opening::from_bytes(input) {
        let bytes = o.to_bytes();
        match Opening::from_bytes(&bytes) {
            Ok(again) => canonical("opening", &bytes, &again.to_bytes()),
            Err(e) => panic!("opening: the encoding of an accepted value is refused: {e:?}"),
        }
    }
}

fn bundle(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    let Ok(b) = ProofBundle::from_bytes(input) else {
        return;
    };
    file_format(
        "proof bundle",
        &b,
        ProofBundle::to_bytes,
        ProofBundle::from_bytes,
    );
    // The commitment a bundle carries is one the commitment decoder accepts.
    round_trips(
        "bundle's commitment",
        &b.commitment,
        Commitment::to_bytes,
        |c: &Vec<u8>| Commitment::from_bytes(c),
    );
    let proofs = b.chunks.iter().map(|c| &c.proof);
    for proof in proofs
        .chain(b.final_.iter().map(|f| &f.proof))
        .take(MAX_PROOFS)
    {
        if let Ok(p) = proof_from_hex(proof, "proof") {
            round_trips("proof", &p, proof_to_hex, |h: &String| {
                proof_from_hex(h, "proof")
            });
        }
    }
}

fn verifying_keys(input: &[u8]) {
    if input.len() > MAX_VERIFYING_KEYS {
        return;
    }
    if let Ok(vk) = VerifyingKeys::from_bytes(input) {
        file_format(
            "verifying keys",
            &vk,
            VerifyingKeys::to_bytes,
            VerifyingKeys::from_bytes,
        );
        round_trips(
            "verifying keys (JSON value)",
            &vk,
            VerifyingKeys::to_json,
            |v| VerifyingKeys::from_json(v.clone(), "re-encoded"),
        );
    }
}

fn proving_keys(input: &[u8]) {
    if input.len() > MAX_PROVING_KEYS {
        return;
    }
    if let Ok(pk) = ProvingKeys::from_bytes(input) {
        file_format(
            "proving keys",
            &pk,
            ProvingKeys::to_bytes,
            ProvingKeys::from_bytes,
        );
    }
}
