//! Tests of the [`super::Deframer`].

use super::*;
use crate::transport::tls::test_support::pattern;

#[test]
fn deframer_handles_any_split_and_refuses_oversize() {
    let mut stream = Vec::new();
    let msgs: Vec<Vec<u8>> = vec![b"abc".to_vec(), Vec::new(), pattern(70_000, 7), vec![1]];
    for m in &msgs {
        stream.extend_from_slice(&(m.len() as u32).to_le_bytes());
        stream.extend_from_slice(m);
    }
    for chunk in [1, 2, 3, 5, 4096, stream.len()] {
        let mut d = Deframer::default();
        let mut frames = Vec::new();
        for piece in stream.chunks(chunk) {
            d.push(piece, &mut frames).expect("valid stream");
        }
        assert_eq!(frames, msgs, "chunk size {chunk}");
    }
    let mut d = Deframer::default();
    let mut frames = Vec::new();
    let bad = u32::try_from(MAX_MESSAGE + 1).expect("fits").to_le_bytes();
    assert_eq!(
        d.push(&bad, &mut frames),
        Err(Oversize {
            len: MAX_MESSAGE + 1
        })
    );
}
