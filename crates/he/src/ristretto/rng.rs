//! Hands the caller's random generator (the workspace's `rand` 0.8 traits) to elastic-elgamal,
//! which takes `rand_core` 0.10 generators. Every byte comes from the caller's generator; this
//! adapter only forwards calls and adds no randomness of its own.

use core::convert::Infallible;

use elastic_elgamal::elliptic_curve::rand_core::{TryCryptoRng, TryRng};

/// Borrows a `rand` 0.8 cryptographic generator as a `rand_core` 0.10 one.
pub(crate) struct Bridge<'a, R: ?Sized>(pub(crate) &'a mut R);

impl<R: rand::RngCore + rand::CryptoRng + ?Sized> TryRng for Bridge<'_, R> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

/// The caller's generator is cryptographic (`rand::CryptoRng`), so the bridge is too.
impl<R: rand::RngCore + rand::CryptoRng + ?Sized> TryCryptoRng for Bridge<'_, R> {}
