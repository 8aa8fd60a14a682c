//! The parties' evaluation of `WHERE` on rows shared one by one ([`super::Strategy::Rows`]):
//! all comparisons of the predicate in one batch (one sign-bit computation), equality on
//! one-hot columns for free, then the predicate's logic on the 0/1 results.

use trustspace_data::Schema;

use super::{Inputs, SharedTable};
use crate::engine::Party;
use crate::error::{MpcError, Result};
use crate::share::{Kind, Shares};
use crate::sql::{Cmp, Operand, Plan, Pred, domain};
use crate::transport::Transport;

/// One party's evaluation of a `WHERE` over the shared rows of a [`SharedTable`] shared
/// row by row ([`super::Strategy::Rows`]).
pub(super) struct Eval<'a, T: Transport> {
    /// The party.
    pub(super) p: &'a mut Party<T>,
    /// The table's schema.
    pub(super) schema: &'a Schema,
    /// Which columns the rows carry, and how.
    pub(super) inp: &'a Inputs,
    /// The shared rows.
    pub(super) t: &'a SharedTable,
}

impl<T: Transport> Eval<'_, T> {
    /// This party's index.
    pub(super) fn me(&self) -> usize {
        self.p.me()
    }

    /// The shares of value column `c`.
    pub(super) fn value(&self, c: usize) -> Result<&Shares> {
        self.inp
            .values
            .iter()
            .position(|&v| v == c)
            .and_then(|i| self.t.columns.get(i))
            .ok_or_else(|| unshared(c))
    }

    /// The shares of the indicator of value `h` of one-hot column `c`.
    pub(super) fn onehot(&self, c: usize, h: usize) -> Result<&Shares> {
        let mut i = self.inp.values.len();
        for &o in &self.inp.onehot {
            if o == c {
                return self.t.columns.get(i + h).ok_or_else(|| unshared(c));
            }
            i += domain(self.schema, o);
        }
        Err(unshared(c))
    }

    /// The public constant `v`, `n` times, as shares.
    pub(super) fn constant(&self, v: i64, n: usize) -> Shares {
        Shares::public(Kind::Arithmetic, self.me(), &vec![v as u64; n])
    }

    fn operand(&self, o: Operand, n: usize) -> Result<Shares> {
        Ok(match o {
            Operand::Col(c) => self.value(c)?.clone(),
            Operand::Lit(v) => self.constant(v, n),
        })
    }

    /// Leaves that need comparisons, in evaluation order: pairs (x, y) for `x < y`.
    fn leaves(&self, p: &Pred, out: &mut Vec<(Operand, Operand)>) {
        match p {
            Pred::Cmp(op, a, b) => {
                if self.onehot_eq(*op, *a, *b).is_some() {
                    return;
                }
                match op {
                    Cmp::Lt | Cmp::Ge => out.push((*a, *b)),
                    Cmp::Gt | Cmp::Le => out.push((*b, *a)),
                    Cmp::Eq | Cmp::Ne => {
                        out.push((*a, *b));
                        out.push((*b, *a));
                    }
                }
            }
            Pred::In(c, vals, _) => {
                if domain(self.schema, *c) == 0 {
                    for v in vals {
                        out.push((Operand::Col(*c), Operand::Lit(*v)));
                        out.push((Operand::Lit(*v), Operand::Col(*c)));
                    }
                }
            }
            Pred::And(x, y) | Pred::Or(x, y) => {
                self.leaves(x, out);
                self.leaves(y, out);
            }
            Pred::Not(x) => self.leaves(x, out),
            Pred::Const(_) => {}
        }
    }

    /// `Some((c, v))` for `c = v` or `c <> v` on a one-hot column `c`: answered from its
    /// indicators, without a comparison.
    fn onehot_eq(&self, op: Cmp, a: Operand, b: Operand) -> Option<(usize, i64)> {
        match (op, a, b) {
            (Cmp::Eq | Cmp::Ne, Operand::Col(c), Operand::Lit(v))
            | (Cmp::Eq | Cmp::Ne, Operand::Lit(v), Operand::Col(c))
                if domain(self.schema, c) > 0 =>
            {
                Some((c, v))
            }
            _ => None,
        }
    }

    /// The shared indicator of `c = v` (all zeros for a value outside `c`'s domain).
    fn indicator(&self, c: usize, v: i64, n: usize) -> Result<Shares> {
        let d = domain(self.schema, c);
        Ok(if v < 0 || v as usize >= d {
            Shares::zeros(Kind::Arithmetic, n)
        } else {
            self.onehot(c, v as usize)?.clone()
        })
    }

    /// Evaluates a predicate given the comparison results in leaf order.
    fn combine(
        &mut self,
        p: &Pred,
        lts: &mut std::slice::Iter<'_, Shares>,
        n: usize,
    ) -> Result<Shares> {
        let me = self.me();
        let one = |s: &Shares| s.public_minus(me, 1);
        let mut next = || {
            lts.next()
                .cloned()
                .ok_or_else(|| MpcError::Query("a comparison of the WHERE is missing".into()))
        };
        Ok(match p {
            Pred::Cmp(op, a, b) => match self.onehot_eq(*op, *a, *b) {
                Some((c, v)) => {
                    let eq = self.indicator(c, v, n)?;
                    if *op == Cmp::Eq { eq } else { one(&eq) }
                }
                None => match op {
                    Cmp::Lt | Cmp::Gt => next()?,
                    Cmp::Ge | Cmp::Le => one(&next()?),
                    Cmp::Eq => one(&next()?.add(&next()?)),
                    Cmp::Ne => next()?.add(&next()?),
                },
            },
            Pred::In(c, vals, negated) => {
                let mut any = Shares::zeros(Kind::Arithmetic, n);
                for v in vals {
                    let eq = if domain(self.schema, *c) > 0 {
                        self.indicator(*c, *v, n)?
                    } else {
                        let (x, y) = (next()?, next()?);
                        one(&x.add(&y))
                    };
                    any = any.add(&eq); // the values are distinct: disjoint events
                }
                if *negated { one(&any) } else { any }
            }
            Pred::And(x, y) => {
                let (x, y) = (self.combine(x, lts, n)?, self.combine(y, lts, n)?);
                self.p.mul(&x, &y)?
            }
            Pred::Or(x, y) => {
                let (x, y) = (self.combine(x, lts, n)?, self.combine(y, lts, n)?);
                let xy = self.p.mul(&x, &y)?;
                x.add(&y).sub(&xy)
            }
            Pred::Not(x) => one(&self.combine(x, lts, n)?),
            Pred::Const(b) => self.constant(i64::from(*b), n),
        })
    }

    /// The shared 0/1 indicator of the rows passing the plan's `WHERE` (all ones without one).
    pub(super) fn filter(&mut self, plan: &Plan) -> Result<Shares> {
        let n = self.t.rows;
        let Some(pred) = &plan.filter else {
            return Ok(self.constant(1, n));
        };
        let mut leaves = Vec::new();
        self.leaves(pred, &mut leaves);
        let results = if leaves.is_empty() {
            Vec::new()
        } else {
            // All comparisons of the WHERE clause in one batch: one sign-bit computation.
            let xs =
                (leaves.iter().map(|(a, _)| self.operand(*a, n))).collect::<Result<Vec<_>>>()?;
            let ys =
                (leaves.iter().map(|(_, b)| self.operand(*b, n))).collect::<Result<Vec<_>>>()?;
            let x = Shares::concat(&xs.iter().collect::<Vec<_>>());
            let y = Shares::concat(&ys.iter().collect::<Vec<_>>());
            let lt = self.p.less_than(&x, &y)?;
            (0..leaves.len())
                .map(|i| lt.slice(i * n..(i + 1) * n))
                .collect()
        };
        let mut it = results.iter();
        self.combine(pred, &mut it, n)
    }
}

/// A column the plan reads that the shared rows do not carry (the holders shared another
/// plan's columns).
fn unshared(c: usize) -> MpcError {
    MpcError::Input(format!("column {c} is not among the shared columns"))
}
