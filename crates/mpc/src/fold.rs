//! Plan-time folding of `WHERE` comparisons that a column's declared domain decides.
//!
//! Every column has a declared domain `[min, max]` (its `min` / `max`, or its type's range),
//! which loaders enforce. A comparison of a column with a literal that this domain decides — the
//! literal lies outside it, or on its edge so that the answer cannot vary (`age > 150` where
//! `age` is declared `max = 120`, `age >= 0` for a `uint`) — is replaced by the constant SQL
//! would answer on every row ([`Pred::Const`]), and the constants are simplified away under
//! `AND`, `OR` and `NOT`. A literal is read by the column's *type* without its declared bounds
//! (and, for numbers, without its bit width), so `age > 300` on an 8-bit column, `age > -1` on an
//! unsigned one and a literal beyond 64 bits all fold rather than fail; only a literal the type
//! cannot read at all (`age > 'abc'`, a decimal with more places than the scale, an unknown
//! category) is refused.

use trustspace_data::{Column, ColumnSpec, Kind, Reason, Schema, TypeName};

use crate::error::{MpcError, Result};
use crate::sql::{Cmp, Operand, Pred, ring_bounds, ring_value};

/// A literal read against a column's type, ignoring the column's declared bounds and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Literal {
    /// A value in ring units ([`ring_value`]).
    Value(i64),
    /// A number beyond the 64-bit ring: above every ring value (`true`) or below (`false`).
    Beyond(bool),
}

impl Literal {
    fn wide(self) -> i128 {
        match self {
            Literal::Value(v) => i128::from(v),
            Literal::Beyond(true) => i128::MAX,
            Literal::Beyond(false) => i128::MIN,
        }
    }
}

/// A message for a literal the column's type cannot read (Display text of the data crate's
/// reason; the untrusted literal is quoted with escapes).
fn bad_literal(text: &str, col: &Column, reason: &Reason) -> MpcError {
    MpcError::Query(format!("{text:?} for column {}: {reason}", col.name()))
}

/// Reads `text` as a value of `col`'s type, without `col`'s declared `min` / `max` and, for
/// numbers, without its bit width (integers and decimals are read as 64-bit signed values of the
/// column's scale).
pub(crate) fn parse_literal(col: &Column, text: &str) -> Result<Literal> {
    let spec = match col.kind() {
        Kind::Uint { .. } | Kind::Int { .. } => ColumnSpec::int("literal", 64),
        Kind::Decimal { scale, .. } => ColumnSpec::decimal("literal", *scale, 64).signed(),
        Kind::Date => ColumnSpec::new("literal", TypeName::Date),
        Kind::Timestamp => ColumnSpec::new("literal", TypeName::Timestamp),
        // bool and categorical: the type's domain is the declared one.
        _ => {
            let enc = col.parse(text).map_err(|e| bad_literal(text, col, &e))?;
            let v = col.decode(enc).map_err(|e| bad_literal(text, col, &e))?;
            return Ok(Literal::Value(ring_value(&v)?));
        }
    };
    let wide = Schema::new("literal", vec![spec])
        .map_err(|e| MpcError::Query(format!("column {}: {e}", col.name())))?;
    let wide = &wide.columns()[0];
    match wide.parse(text) {
        Ok(enc) => {
            let v = wide.decode(enc).map_err(|e| bad_literal(text, col, &e))?;
            Ok(Literal::Value(ring_value(&v)?))
        }
        // Well formed, but beyond 64 bits: outside every column's domain.
        Err(Reason::TooWide { .. }) => Ok(Literal::Beyond(!text.starts_with('-'))),
        Err(e) => Err(bad_literal(text, col, &e)),
    }
}

/// `col op lit`, folded to a constant if `col`'s declared domain decides it.
pub(crate) fn compare(schema: &Schema, op: Cmp, col: usize, lit: Literal) -> Result<Pred> {
    let (lo, hi) = ring_bounds(&schema.columns()[col])?;
    let (lo, hi, l) = (i128::from(lo), i128::from(hi), lit.wide());
    let decided = match op {
        Cmp::Lt if l <= lo => Some(false),
        Cmp::Lt if l > hi => Some(true),
        Cmp::Le if l < lo => Some(false),
        Cmp::Le if l >= hi => Some(true),
        Cmp::Gt if l >= hi => Some(false),
        Cmp::Gt if l < lo => Some(true),
        Cmp::Ge if l > hi => Some(false),
        Cmp::Ge if l <= lo => Some(true),
        Cmp::Eq | Cmp::Ne if l < lo || l > hi => Some(op == Cmp::Ne),
        Cmp::Eq | Cmp::Ne if lo == hi => Some(op == Cmp::Eq),
        _ => None,
    };
    Ok(match (decided, lit) {
        (Some(b), _) => Pred::Const(b),
        (None, Literal::Value(v)) => Pred::Cmp(op, Operand::Col(col), Operand::Lit(v)),
        (None, Literal::Beyond(_)) => {
            unreachable!("a literal beyond 64 bits is outside the domain")
        }
    })
}

/// `col IN (lits)` (`NOT IN` if `negated`): literals outside `col`'s declared domain never match
/// and are dropped; with none left the predicate is the constant `negated`.
pub(crate) fn in_list(
    schema: &Schema,
    col: usize,
    lits: &[Literal],
    negated: bool,
) -> Result<Pred> {
    let (lo, hi) = ring_bounds(&schema.columns()[col])?;
    let mut vals: Vec<i64> = lits
        .iter()
        .filter_map(|l| match *l {
            Literal::Value(v) if (lo..=hi).contains(&v) => Some(v),
            _ => None,
        })
        .collect();
    vals.sort_unstable();
    vals.dedup();
    Ok(if vals.is_empty() {
        Pred::Const(negated)
    } else {
        Pred::In(col, vals, negated)
    })
}

/// `a AND b`, with constants simplified away.
pub(crate) fn and(a: Pred, b: Pred) -> Pred {
    match (a, b) {
        (Pred::Const(false), _) | (_, Pred::Const(false)) => Pred::Const(false),
        (Pred::Const(true), x) | (x, Pred::Const(true)) => x,
        (a, b) => Pred::And(Box::new(a), Box::new(b)),
    }
}

/// `a OR b`, with constants simplified away.
pub(crate) fn or(a: Pred, b: Pred) -> Pred {
    match (a, b) {
        (Pred::Const(true), _) | (_, Pred::Const(true)) => Pred::Const(true),
        (Pred::Const(false), x) | (x, Pred::Const(false)) => x,
        (a, b) => Pred::Or(Box::new(a), Box::new(b)),
    }
}

/// `NOT a`, with a constant negated.
pub(crate) fn not(a: Pred) -> Pred {
    match a {
        Pred::Const(b) => Pred::Const(!b),
        a => Pred::Not(Box::new(a)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::from_toml(
            "name = \"s\"\n[[columns]]\nname = \"age\"\ntype = \"uint\"\nbits = 8\nmax = 120\n\
             [[columns]]\nname = \"ts\"\ntype = \"timestamp\"\nmin = \"2020-01-01T00:00:00Z\"\n",
            "s.toml",
        )
        .unwrap()
    }

    #[test]
    fn literals_are_read_by_type_without_bounds_or_width() {
        let s = schema();
        let age = &s.columns()[0];
        assert_eq!(parse_literal(age, "150").unwrap(), Literal::Value(150));
        assert_eq!(parse_literal(age, "-3").unwrap(), Literal::Value(-3));
        assert_eq!(parse_literal(age, "1000").unwrap(), Literal::Value(1000));
        assert_eq!(
            parse_literal(age, "99999999999999999999").unwrap(),
            Literal::Beyond(true)
        );
        assert_eq!(
            parse_literal(age, "-9223372036854775809").unwrap(),
            Literal::Beyond(false)
        );
        assert!(matches!(parse_literal(age, "1.5"), Err(MpcError::Query(_))));
        let ts = &s.columns()[1];
        // Before the declared min: read, not refused (seconds since 1970).
        assert_eq!(
            parse_literal(ts, "1970-01-01T00:00:01Z").unwrap(),
            Literal::Value(1)
        );
    }

    #[test]
    fn comparisons_the_domain_decides_are_constants() {
        let s = schema();
        let c = |op, v| compare(&s, op, 0, Literal::Value(v)).unwrap();
        assert_eq!(c(Cmp::Gt, 150), Pred::Const(false));
        assert_eq!(c(Cmp::Lt, 150), Pred::Const(true));
        assert_eq!(c(Cmp::Eq, 150), Pred::Const(false));
        assert_eq!(c(Cmp::Ne, 150), Pred::Const(true));
        assert_eq!(c(Cmp::Ge, -1), Pred::Const(true));
        assert_eq!(c(Cmp::Le, -1), Pred::Const(false));
        assert_eq!(c(Cmp::Gt, 120), Pred::Const(false));
        assert_eq!(c(Cmp::Ge, 0), Pred::Const(true));
        assert_eq!(
            c(Cmp::Ge, 120),
            Pred::Cmp(Cmp::Ge, Operand::Col(0), Operand::Lit(120))
        );
        assert_eq!(
            compare(&s, Cmp::Lt, 0, Literal::Beyond(true)).unwrap(),
            Pred::Const(true)
        );
        let x = c(Cmp::Gt, 5);
        assert_eq!(and(Pred::Const(true), x.clone()), x);
        assert_eq!(and(x.clone(), Pred::Const(false)), Pred::Const(false));
        assert_eq!(or(Pred::Const(false), x.clone()), x);
        assert_eq!(or(x.clone(), Pred::Const(true)), Pred::Const(true));
        assert_eq!(not(Pred::Const(true)), Pred::Const(false));
        assert_eq!(
            in_list(&s, 0, &[Literal::Value(200), Literal::Beyond(false)], true).unwrap(),
            Pred::Const(true)
        );
    }
}

/// Properties of the folding: a constant is what every value of the domain answers, and only
/// then; simplifying constants away never changes a predicate's answer.
#[cfg(test)]
mod props {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    const OPS: [Cmp; 6] = [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge];

    /// One `int` column declared `lo ..= hi`.
    fn bounded(lo: i64, hi: i64) -> Schema {
        Schema::from_toml(
            &format!(
                "name = \"s\"\n[[columns]]\nname = \"v\"\ntype = \"int\"\nbits = 16\n\
                 min = {lo}\nmax = {hi}\n"
            ),
            "s.toml",
        )
        .expect("schema")
    }

    fn cmp(op: Cmp, a: i64, b: i64) -> bool {
        match op {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }

    /// A predicate's answer on a row whose column 0 is `v`.
    fn holds(p: &Pred, v: i64) -> bool {
        let val = |o: &Operand| match o {
            Operand::Col(_) => v,
            Operand::Lit(l) => *l,
        };
        match p {
            Pred::Cmp(op, a, b) => cmp(*op, val(a), val(b)),
            Pred::In(_, vals, negated) => vals.contains(&v) != *negated,
            Pred::And(x, y) => holds(x, v) && holds(y, v),
            Pred::Or(x, y) => holds(x, v) || holds(y, v),
            Pred::Not(x) => !holds(x, v),
            Pred::Const(b) => *b,
        }
    }

    fn has_inner_const(p: &Pred) -> bool {
        match p {
            Pred::And(x, y) | Pred::Or(x, y) => {
                matches!(**x, Pred::Const(_))
                    || matches!(**y, Pred::Const(_))
                    || has_inner_const(x)
                    || has_inner_const(y)
            }
            Pred::Not(x) => matches!(**x, Pred::Const(_)) || has_inner_const(x),
            _ => false,
        }
    }

    /// A predicate as written: constants and comparisons combined without simplification.
    #[derive(Debug, Clone)]
    enum Written {
        Const(bool),
        Cmp(usize, i64),
        And(Box<Written>, Box<Written>),
        Or(Box<Written>, Box<Written>),
        Not(Box<Written>),
    }

    fn written() -> impl Strategy<Value = Written> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Written::Const),
            (0..OPS.len(), -6i64..6).prop_map(|(op, l)| Written::Cmp(op, l)),
        ];
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Written::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Written::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Written::Not(Box::new(a))),
            ]
        })
    }

    fn answer(w: &Written, v: i64) -> bool {
        match w {
            Written::Const(b) => *b,
            Written::Cmp(op, l) => cmp(OPS[*op], v, *l),
            Written::And(a, b) => answer(a, v) && answer(b, v),
            Written::Or(a, b) => answer(a, v) || answer(b, v),
            Written::Not(a) => !answer(a, v),
        }
    }

    fn fold_written(w: &Written) -> Pred {
        match w {
            Written::Const(b) => Pred::Const(*b),
            Written::Cmp(op, l) => Pred::Cmp(OPS[*op], Operand::Col(0), Operand::Lit(*l)),
            Written::And(a, b) => and(fold_written(a), fold_written(b)),
            Written::Or(a, b) => or(fold_written(a), fold_written(b)),
            Written::Not(a) => not(fold_written(a)),
        }
    }

    proptest! {
        #[test]
        fn a_comparison_folds_exactly_when_the_domain_decides_it(
            (lo, hi) in (-300i64..300, 0i64..200).prop_map(|(lo, w)| (lo, lo + w)),
            lit in -600i64..600,
            op in 0..OPS.len(),
        ) {
            let s = bounded(lo, hi);
            let op = OPS[op];
            let answers: BTreeSet<bool> = (lo..=hi).map(|v| cmp(op, v, lit)).collect();
            match compare(&s, op, 0, Literal::Value(lit)).expect("compare") {
                Pred::Const(b) => prop_assert_eq!(answers, BTreeSet::from([b])),
                Pred::Cmp(o, Operand::Col(0), Operand::Lit(l)) => {
                    prop_assert_eq!((o, l), (op, lit));
                    prop_assert_eq!(answers.len(), 2, "left to MPC, though the domain decides it");
                }
                other => prop_assert!(false, "{:?}", other),
            }
            // Literals beyond 64 bits are beyond every domain.
            for beyond in [true, false] {
                let p = compare(&s, op, 0, Literal::Beyond(beyond)).expect("compare");
                let want = cmp(op, 0, if beyond { i64::MAX } else { i64::MIN });
                prop_assert_eq!(p, Pred::Const(want));
            }
        }

        #[test]
        fn an_in_list_keeps_exactly_its_literals_in_the_domain(
            (lo, hi) in (-50i64..50, 0i64..40).prop_map(|(lo, w)| (lo, lo + w)),
            lits in prop::collection::vec(-120i64..120, 0..8),
            negated in any::<bool>(),
        ) {
            let s = bounded(lo, hi);
            let values: Vec<Literal> = lits.iter().map(|l| Literal::Value(*l)).collect();
            let p = in_list(&s, 0, &values, negated).expect("in list");
            for v in lo..=hi {
                prop_assert_eq!(holds(&p, v), lits.contains(&v) != negated, "v = {}", v);
            }
        }

        #[test]
        fn constants_simplify_away_without_changing_the_answer(w in written()) {
            let p = fold_written(&w);
            prop_assert!(!has_inner_const(&p), "{:?}", p);
            for v in -7..=7 {
                prop_assert_eq!(holds(&p, v), answer(&w, v), "v = {}", v);
            }
        }
    }
}
