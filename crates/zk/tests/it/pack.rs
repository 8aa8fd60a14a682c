//! Packing records into field elements (`trustspace_zk::pack`): every column's value is read
//! back from its slot, nothing else is set, and the slots of a layout neither overlap nor leave
//! [`PACK_BITS`] bits; so packing is injective on the records a schema allows.

use ark_ff::PrimeField;
use proptest::prelude::*;
use trustspace_data::schema::ColumnSpec;
use trustspace_data::{Record, Schema};
use trustspace_zk::ZkError;
use trustspace_zk::pack::{Layout, PACK_BITS};
use trustspace_zk::poseidon::LEAF_INPUTS;

/// Bit `i` of a field element's canonical integer.
fn bit(limbs: &[u64; 4], i: u32) -> u64 {
    (limbs[(i / 64) as usize] >> (i % 64)) & 1
}

/// A schema of unsigned columns of the given widths and a record of values within them.
fn schema_and_record() -> impl Strategy<Value = (Schema, Record)> {
    prop::collection::vec(1u32..=64, 1..80).prop_flat_map(|widths| {
        let specs = widths
            .iter()
            .enumerate()
            .map(|(i, &w)| ColumnSpec::uint(format!("c{i}"), w))
            .collect();
        let schema = Schema::new("packing", specs).unwrap();
        let values: Vec<_> = widths
            .iter()
            .map(|&w| {
                prop_oneof![
                    Just(0u64),
                    Just(u64::MAX >> (64 - w)),
                    0..=u64::MAX >> (64 - w),
                ]
            })
            .collect();
        (Just(schema), values)
    })
}

proptest! {
    #[test]
    fn packed_records_unpack_to_themselves((schema, record) in schema_and_record()) {
        let layout = match Layout::new(&schema) {
            Ok(layout) => layout,
            Err(e) => {
                // Too wide for a leaf: refused with the cause, never packed.
                prop_assert!(
                    matches!(e, ZkError::RecordTooWide { elements, limit, .. }
                        if elements > limit && limit == LEAF_INPUTS),
                    "{e:?}"
                );
                return Ok(());
            }
        };
        prop_assert!(layout.elements_per_record.is_power_of_two());
        prop_assert_eq!(layout.records_per_leaf * layout.elements_per_record, LEAF_INPUTS);
        let packed = layout.pack(&record);
        prop_assert_eq!(packed.len(), layout.elements_per_record);
        let limbs: Vec<[u64; 4]> = packed.iter().map(|x| x.into_bigint().0).collect();
        let mut used = vec![[false; 256]; packed.len()];
        for (slot, &value) in layout.slots.iter().zip(&record) {
            prop_assert!(slot.offset + slot.width <= PACK_BITS);
            let mut read = 0u64;
            for i in 0..slot.width {
                let u = &mut used[slot.element][(slot.offset + i) as usize];
                prop_assert!(!*u, "slots overlap");
                *u = true;
                read |= bit(&limbs[slot.element], slot.offset + i) << i;
            }
            prop_assert_eq!(read, value);
        }
        for (element, used) in used.iter().enumerate() {
            for i in (0..256).filter(|&i| !used[i as usize]) {
                prop_assert_eq!(bit(&limbs[element], i), 0, "stray bit {} of element {}", i, element);
            }
        }
    }
}
