//! Packing of canonically encoded records into BN254 field elements.
//!
//! Columns are laid out in schema order, each at a bit offset inside a field element of at most
//! [`PACK_BITS`] bits (a column never straddles two elements). A record takes a power-of-two
//! number of elements (unused ones are zero), so that a leaf's [`LEAF_INPUTS`] elements hold a
//! whole number of records. In the circuit each element is the linear combination of its bits,
//! so packing and unpacking cost no constraints beyond the bits' booleanity.

use ark_bn254::Fr;
use ark_ff::{BigInt, PrimeField};
use trustspace_data::{Record, Schema};

use crate::error::{Result, ZkError};
use crate::poseidon::LEAF_INPUTS;

/// Bits used in one packed field element (below the 254-bit modulus, with room to spare).
pub const PACK_BITS: u32 = 248;

/// Where a column lives in a packed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Element index within the record.
    pub element: usize,
    /// Bit offset within the element.
    pub offset: u32,
    /// Width in bits.
    pub width: u32,
}

/// The packing of one schema's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Per column, in schema order.
    pub slots: Vec<Slot>,
    /// Field elements per record (a power of two, at most [`LEAF_INPUTS`]).
    pub elements_per_record: usize,
    /// Records per leaf: `LEAF_INPUTS / elements_per_record`.
    pub records_per_leaf: usize,
}

impl Layout {
    /// Lays out a schema's columns.
    pub fn new(schema: &Schema) -> Result<Layout> {
        let mut slots = Vec::with_capacity(schema.columns().len());
        let (mut element, mut used) = (0usize, 0u32);
        for c in schema.columns() {
            let width = c.width();
            if used + width > PACK_BITS {
                element += 1;
                used = 0;
            }
            slots.push(Slot {
                element,
                offset: used,
                width,
            });
            used += width;
        }
        let elements_per_record = (element + 1).next_power_of_two();
        if elements_per_record > LEAF_INPUTS {
            return Err(ZkError::RecordTooWide {
                bits: schema.record_bits(),
                elements: element + 1,
                limit: LEAF_INPUTS,
            });
        }
        Ok(Layout {
            slots,
            elements_per_record,
            records_per_leaf: LEAF_INPUTS / elements_per_record,
        })
    }

    /// Packs one record (canonical encodings in schema order).
    pub fn pack(&self, record: &Record) -> Vec<Fr> {
        let mut limbs = vec![[0u64; 4]; self.elements_per_record];
        for (slot, &v) in self.slots.iter().zip(record) {
            let l = &mut limbs[slot.element];
            let (i, s) = ((slot.offset / 64) as usize, slot.offset % 64);
            l[i] |= v << s;
            if s > 0 && s + slot.width > 64 {
                l[i + 1] |= v >> (64 - s);
            }
        }
        limbs
            .into_iter()
            .map(|l| Fr::from_bigint(BigInt(l)).expect("248 bits are below the modulus"))
            .collect()
    }
}
