//! The tfhe golden document: an encrypted verdict (`total > limit`) written once by the code
//! under keys that are not committed (megabytes, and not reproducible from a seed). It pins
//! the envelope (magic, key id) and tfhe's versioned serialization of an `FheBool`.

use trustspace_he::HeError;
use trustspace_he::fhe_int::EncryptedVerdict;

use super::read;

const VERDICT: &str = "fhe-int-verdict.bin";
/// The id of the keys the verdict was made under.
const VERDICT_KEYS_ID: &str = "b02eccbc0a6c4a5e86753b9285af2ca0ca622be21d056d675c5c9fb784b1827e";

#[test]
fn fhe_int_verdict_decodes_and_reencodes_byte_for_byte() {
    let bytes = read(VERDICT);
    let verdict = EncryptedVerdict::from_bytes(&bytes).unwrap();
    assert_eq!(verdict.to_bytes().unwrap(), bytes);
    assert_eq!(&bytes[..8], b"TSFHEVD1");
    assert_eq!(hex::encode(&bytes[8..40]), VERDICT_KEYS_ID);
}

#[test]
fn damaged_fhe_int_verdicts_are_refused() {
    let bytes = read(VERDICT);
    let format = |b: &[u8]| matches!(EncryptedVerdict::from_bytes(b), Err(HeError::Format { .. }));
    // Truncated: in the magic, the key id, tfhe's header, its body.
    for cut in [0, 5, 20, 60, bytes.len() / 2, bytes.len() - 1] {
        assert!(format(&bytes[..cut]), "cut at {cut}");
    }
    // Another version (the magic's last byte) or another type's name in tfhe's header.
    let mut other = bytes.clone();
    other[7] = b'2';
    assert!(format(&other));
    let at = bytes
        .windows(7)
        .position(|w| w == b"FheBool")
        .expect("tfhe names the type");
    let mut other = bytes.clone();
    other[at] ^= 0x01;
    assert!(format(&other));
    // Oversized: one byte more, or beyond the 16 MiB a result may take.
    for len in [bytes.len() + 1, 17 << 20] {
        let mut big = bytes.clone();
        big.resize(len, 0);
        assert!(format(&big), "{len} bytes");
    }
}
