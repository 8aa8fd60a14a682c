//! The declared sum (count, value width, columns) and the encoding and noise budget derived
//! from it.
//!
//! ## Encoding
//! A value `m < 2^value_bits` is encrypted as `Δ·m` in the body of an LWE slot, Δ = 2^δ. The
//! aggregator adds up to `L` lists slot-wise, so a slot ends up holding at most
//! `L·(2^value_bits − 1)`; the plaintext space `t = 2^(64−δ)` is the smallest power of two above
//! that, so a slot sum never wraps. The `log2 t − value_bits` top bits of every message are
//! zero, and the holder's proof says so (tfhe's "MSB zero padding"): each proven value is below
//! `2^value_bits` — an out-of-range value cannot be injected.
//!
//! ## Noise budget
//! Under the compact public key `(a, b = a⋆s + e)` (s binary, e ~ TUniform(β), polynomials
//! mod X^n + 1), a list is `(a⋆r + e₁, b⋆r + e₂ + Δm)` with r binary and e₁, e₂ ~ TUniform(β).
//! Slot j of the slot-wise sum of L lists decrypts to `Δ·Σm + E` with
//!
//! `E = Σ_i e_i·c_i + Σ_l e₂,l,j − Σ_l ⟨rot_j(e₁,l), s⟩`, where |c_i| ≤ L (c counts the r's).
//!
//! Conditioned on r and s (which the holders and the key holder pick independently of the
//! noise), E is a sum of independent, zero-mean terms bounded by 2^β times a coefficient:
//! at most n terms with coefficient ≤ L (key noise), L·n with coefficient ≤ 1 (mask noise) and
//! L with coefficient 1 (body noise). Hoeffding's inequality gives
//! `P(|E| ≥ x) ≤ 2·exp(−x² / (2σ²))`, `σ² = 4^β·(n·L² + n·L + L)`,
//! and a union bound over the k slots of the sum bounds the probability that *any* slot rounds
//! wrongly (|E| ≥ Δ/2) by `2k·exp(−(Δ/2)²/(2σ²))`. [`SumParams::new`] computes this and refuses
//! parameters where it is above 2^-64. No Gaussian approximation is involved: TUniform is
//! bounded, so the bound is exact up to the inequality's slack.
//!
//! What the budget does *not* cover: a holder who picks its encryption noise by hand rather
//! than sampling it. The proof (tfhe's ZK PKE v2) bounds that noise's norm, but not its sign,
//! so a coalition of such holders can move slot noise past the budget; decryption then finds
//! a slot further than the budget's bound from any multiple of Δ and refuses with an error
//! instead of returning a total ([`super::decrypt_total`]).

use tfhe::core_crypto::prelude::{DynamicDistribution, LweDimension};
use tfhe::shortint::parameters::{
    CompactPublicKeyEncryptionParameters, PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128,
};

use crate::error::{HeError, Result};

/// The tfhe parameter set whose compact-public-key encryption (LWE dimension, noise
/// distribution, 128-bit security) path B uses, by its published name.
pub const PARAMETER_SET: &str = "PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128";

/// Slots per compact list by default: one list holds this many values under one shared mask,
/// the dimension of the parameter set (the most a list can hold), for the fewest bytes per value.
pub const DEFAULT_SLOTS: usize = 2048;

/// The most values one sum may be declared for.
pub const MAX_VALUES: u64 = 1 << 32;

/// The most columns (one per holder, typically) one sum may be declared for.
pub const MAX_COLUMNS: u64 = 1 << 16;

/// Failure probability the parameters must stay under, as log2: 2^-64.
pub const FAILURE_BUDGET_LOG2: f64 = -64.0;

/// The pinned parameter set.
pub(crate) fn pke_params() -> CompactPublicKeyEncryptionParameters {
    PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128
}

/// log2 of the TUniform noise bound of the pinned set (its noise is uniform-ish on [−2^β, 2^β]).
fn noise_bound_log2() -> Result<u32> {
    match pke_params().encryption_noise_distribution {
        DynamicDistribution::TUniform(t) => Ok(t.bound_log2()),
        other => Err(HeError::InvalidParameter {
            what: "parameter set",
            reason: format!("{PARAMETER_SET} uses {other}, the budget is derived for TUniform"),
        }),
    }
}

/// A declared sum: what holders may contribute, and the encoding that follows from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SumParams {
    max_values: u64,
    value_bits: u32,
    max_columns: u64,
    slots: usize,
    max_lists: u64,
    delta_log: u32,
    failure_log2: f64,
    slot_noise_bound: f64,
}

impl SumParams {
    /// Declares a sum of at most `max_values` values, each below `2^value_bits`, arriving in
    /// at most `max_columns` encrypted columns (one per holder, typically), packed
    /// [`DEFAULT_SLOTS`] to a list — or, for fewer values, the next power of two above the
    /// count (a smaller CRS and cheaper proofs; bytes per value hardly matter there).
    pub fn new(max_values: u64, value_bits: u32, max_columns: u64) -> Result<Self> {
        let slots = max_values
            .checked_next_power_of_two()
            .map_or(DEFAULT_SLOTS, |p| (p as usize).min(DEFAULT_SLOTS));
        Self::with_slots(max_values, value_bits, max_columns, slots)
    }

    /// As [`SumParams::new`], with `slots` values per list (fewer slots: smaller CRS and
    /// cheaper proofs, more bytes per value).
    pub fn with_slots(
        max_values: u64,
        value_bits: u32,
        max_columns: u64,
        slots: usize,
    ) -> Result<Self> {
        let n = pke_params().encryption_lwe_dimension.0;
        if max_values == 0 || max_values > MAX_VALUES {
            return Err(invalid(
                "max_values",
                format!("must be in 1..={MAX_VALUES}"),
            ));
        }
        if max_columns == 0 || max_columns > MAX_COLUMNS {
            return Err(invalid(
                "max_columns",
                format!("must be in 1..={MAX_COLUMNS}"),
            ));
        }
        if value_bits == 0 || value_bits > 48 {
            return Err(invalid("value_bits", "must be in 1..=48".into()));
        }
        if slots == 0 || slots > n || !slots.is_power_of_two() {
            return Err(invalid(
                "slots",
                format!("must be a power of two in 1..={n} (the LWE dimension)"),
            ));
        }
        // Every column's last list may be partly filled: at most ⌈N/k⌉ + columns lists.
        let max_lists = max_values.div_ceil(slots as u64) + max_columns;
        let slot_bound = u128::from(max_lists) * ((1u128 << value_bits) - 1);
        // Plaintext space t = 2^t_log > slot_bound, with at least one zero MSB per message.
        let t_log = (128 - slot_bound.leading_zeros()).max(value_bits + 1);
        if t_log >= 63 {
            return Err(HeError::NoiseBudget {
                reason: format!(
                    "{max_lists} lists of {value_bits}-bit values need a {t_log}-bit plaintext \
                     space, leaving no room for noise in 64 bits"
                ),
            });
        }
        let delta_log = 64 - t_log;
        let beta = noise_bound_log2()?;
        let (failure_log2, slot_noise_bound) =
            budget(n as f64, max_lists as f64, slots as f64, beta, delta_log);
        if failure_log2 > FAILURE_BUDGET_LOG2 {
            return Err(HeError::NoiseBudget {
                reason: format!(
                    "{max_values} values of {value_bits} bits in ≤ {max_lists} lists: Δ = 2^{delta_log}, \
                     decryption fails with probability ≤ 2^{failure_log2:.1}, above 2^-64; \
                     declare fewer values or narrower ones"
                ),
            });
        }
        Ok(SumParams {
            max_values,
            value_bits,
            max_columns,
            slots,
            max_lists,
            delta_log,
            failure_log2,
            slot_noise_bound,
        })
    }

    /// The declared maximum number of values.
    pub fn max_values(&self) -> u64 {
        self.max_values
    }
    /// Every value is below `2^value_bits` (and each list's proof says so).
    pub fn value_bits(&self) -> u32 {
        self.value_bits
    }
    /// The declared maximum number of encrypted columns.
    pub fn max_columns(&self) -> u64 {
        self.max_columns
    }
    /// Values per compact list.
    pub fn slots(&self) -> usize {
        self.slots
    }
    /// The most lists an aggregate may hold: ⌈max_values / slots⌉ + max_columns.
    pub fn max_lists(&self) -> u64 {
        self.max_lists
    }
    /// log2 of the encoding factor Δ.
    pub fn delta_log(&self) -> u32 {
        self.delta_log
    }
    /// The bits above Δ: the plaintext space is 2^plaintext_bits.
    pub fn plaintext_bits(&self) -> u32 {
        64 - self.delta_log
    }
    /// Top message bits every proven value has at zero.
    pub fn padding_bits(&self) -> u32 {
        self.plaintext_bits() - self.value_bits
    }
    /// log2 of the bound on the probability that decryption rounds any slot wrongly.
    pub fn failure_log2(&self) -> f64 {
        self.failure_log2
    }
    /// The noise magnitude a slot exceeds with probability ≤ 2^-64 (honest inputs); a
    /// decrypted slot further than this from a multiple of Δ is refused.
    pub fn slot_noise_bound(&self) -> f64 {
        self.slot_noise_bound
    }
    /// The largest total the sum can reach: max_values · (2^value_bits − 1).
    pub fn max_total(&self) -> u128 {
        u128::from(self.max_values) * ((1u128 << self.value_bits) - 1)
    }
    /// The encryption noise distribution of the pinned parameter set.
    pub fn noise_distribution(&self) -> DynamicDistribution<u64> {
        pke_params().encryption_noise_distribution
    }
    /// The LWE dimension of the pinned parameter set.
    pub fn lwe_dimension(&self) -> LweDimension {
        pke_params().encryption_lwe_dimension
    }
    /// The parameters as bytes, for the setup id and the setup encoding.
    pub(crate) fn to_bytes(self) -> [u8; 28] {
        let mut out = [0u8; 28];
        out[..8].copy_from_slice(&self.max_values.to_le_bytes());
        out[8..12].copy_from_slice(&self.value_bits.to_le_bytes());
        out[12..20].copy_from_slice(&self.max_columns.to_le_bytes());
        out[20..28].copy_from_slice(&(self.slots as u64).to_le_bytes());
        out
    }
    /// Re-derives parameters from [`SumParams::to_bytes`], with every check of `with_slots`.
    pub(crate) fn from_bytes(bytes: &[u8; 28]) -> Result<Self> {
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let bits = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        let slots =
            usize::try_from(u64_at(20)).map_err(|_| invalid("slots", "too large".into()))?;
        Self::with_slots(u64_at(0), bits, u64_at(12), slots)
    }
}

fn invalid(what: &'static str, reason: String) -> HeError {
    HeError::InvalidParameter { what, reason }
}

/// The module-level bound: (log2 of the failure probability, the per-slot noise magnitude
/// exceeded with probability ≤ 2^-64 over all slots).
fn budget(n: f64, lists: f64, slots: f64, beta: u32, delta_log: u32) -> (f64, f64) {
    let b2 = 4f64.powi(beta as i32);
    let sigma2 = b2 * (n * lists * lists + n * lists + lists);
    let half_delta = 2f64.powi(delta_log as i32 - 1);
    let exponent = half_delta * half_delta / (2.0 * sigma2);
    let failure_log2 = (2.0 * slots).log2() - exponent / std::f64::consts::LN_2;
    // x with 2k·exp(−x²/(2σ²)) = 2^-64.
    let bound = (2.0 * sigma2 * ((2.0 * slots).ln() + 64.0 * std::f64::consts::LN_2)).sqrt();
    (failure_log2, bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_set_is_the_published_one() {
        let p = pke_params();
        assert_eq!(p.encryption_lwe_dimension.0, 2048);
        assert_eq!(noise_bound_log2().unwrap(), 17);
    }

    #[test]
    fn a_million_16_bit_values_fit_with_margin() {
        let p = SumParams::new(1_000_000, 16, 3).unwrap();
        assert_eq!(p.slots(), DEFAULT_SLOTS);
        assert_eq!(p.max_lists(), 489 + 3);
        // 492 · 65535 < 2^25: t = 2^25, Δ = 2^39.
        assert_eq!(p.plaintext_bits(), 25);
        assert_eq!(p.delta_log(), 39);
        assert_eq!(p.padding_bits(), 9);
        assert!(p.failure_log2() < -1000.0, "{}", p.failure_log2());
        assert!(p.slot_noise_bound() < 2f64.powi(38));
    }

    #[test]
    fn budget_boundary_is_enforced() {
        // Find the largest accepted count for 24-bit values, then check one list more fails.
        let accepted = |n: u64| SumParams::new(n, 24, 1).is_ok();
        let (mut lo, mut hi) = (1u64, MAX_VALUES);
        assert!(accepted(lo));
        assert!(!accepted(hi));
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if accepted(mid) { lo = mid } else { hi = mid }
        }
        let ok = SumParams::new(lo, 24, 1).unwrap();
        assert!(ok.failure_log2() <= FAILURE_BUDGET_LOG2);
        match SumParams::new(hi, 24, 1) {
            Err(HeError::NoiseBudget { .. }) => {}
            other => panic!("expected a budget refusal, got {other:?}"),
        }
    }

    #[test]
    fn small_sums_use_small_lists() {
        assert_eq!(SumParams::new(48, 8, 3).unwrap().slots(), 64);
        assert_eq!(SumParams::new(1, 8, 1).unwrap().slots(), 1);
        assert_eq!(SumParams::new(5000, 8, 1).unwrap().slots(), DEFAULT_SLOTS);
    }

    #[test]
    fn wide_values_are_refused() {
        assert!(matches!(
            SumParams::new(1_000_000, 40, 3),
            Err(HeError::NoiseBudget { .. })
        ));
        assert!(SumParams::new(0, 16, 1).is_err());
        assert!(SumParams::new(10, 0, 1).is_err());
        assert!(SumParams::with_slots(10, 8, 1, 3).is_err());
        assert!(SumParams::with_slots(10, 8, 1, 4096).is_err());
    }

    #[test]
    fn params_round_trip_through_bytes() {
        let p = SumParams::with_slots(5000, 12, 4, 256).unwrap();
        assert_eq!(SumParams::from_bytes(&p.to_bytes()).unwrap(), p);
    }
}
