//! The properties a target checks on an input its decoder accepted.

use std::fmt::Debug;

/// Panics unless `value`, encoded by `encode` and decoded again by `decode`, is `value`.
pub(crate) fn round_trips<T, E, B>(
    what: &str,
    value: &T,
    encode: impl FnOnce(&T) -> B,
    decode: impl FnOnce(&B) -> Result<T, E>,
) where
    T: PartialEq + Debug,
    E: Debug,
{
    let bytes = encode(value);
    match decode(&bytes) {
        Ok(again) => assert_eq!(&again, value, "{what}: decode(encode(x)) != x"),
        Err(e) => panic!("{what}: the encoding of an accepted value is refused: {e:?}"),
    }
}

/// Panics unless an accepted input of a canonical format re-encodes to the same bytes.
pub(crate) fn canonical(what: &str, input: &[u8], reencoded: &[u8]) {
    assert!(
        input == reencoded,
        "{what}: accepted a non-canonical encoding ({} bytes re-encode to {} different bytes)",
        input.len(),
        reencoded.len()
    );
}
