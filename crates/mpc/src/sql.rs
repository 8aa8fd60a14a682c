//! The SQL subset, parsed with `sqlparser` and checked against a schema into a [`Plan`].
//!
//! ```sql
//! SELECT [group column,] agg, ... FROM table
//!   [WHERE predicate] [GROUP BY categorical column] [HAVING predicate on aggregates]
//!   [ORDER BY aggregate [ASC|DESC] LIMIT k]
//! ```
//! Aggregates: `COUNT(*)`, `COUNT(col)`, `SUM`, `AVG`, `MIN`, `MAX`, `VAR`/`VAR_SAMP`,
//! `VAR_POP`, `STDDEV`/`STDDEV_SAMP`, `STDDEV_POP`, `COUNT(DISTINCT col)` (categorical col),
//! and the composite `HHI(value, key, keys, unit)` (market concentration, see [`AggFn::Hhi`]).
//! Predicates: `=`, `<>`, `<`, `<=`, `>`, `>=` between a column and a literal or two columns,
//! `BETWEEN`, `IN (...)`, combined with `AND`, `OR`, `NOT`. Anything else is refused with an
//! error naming the construct. Literals are parsed by the column's own type (dates as
//! `'2026-01-31'`, categories by name, decimals exactly). A comparison with a literal that the
//! column's declared range decides (`age > 150` where `age` is declared `max = 120`) is folded
//! to SQL's constant answer at plan time ([`crate::fold`], [`Pred::Const`]).
//!
//! `ORDER BY` ranks groups by one aggregate — `COUNT`, `SUM`, `AVG`, `MIN`, `MAX` or
//! `COUNT(DISTINCT)`, written as the aggregate or as the alias of a selected one — `ASC` or
//! `DESC`; ties go to the group whose key comes first in the GROUP BY column's dictionary
//! (declaration order), in either direction. `VAR`/`STDDEV` and `HHI` are not ranked.

use sqlparser::ast::{
    BinaryOperator, DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, InTarget, LimitClause, OrderByKind, OrderBySort, SelectItem, SetExpr, Statement,
    TableFactor, UnaryOperator, Value as SqlValue,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use trustspace_data::{Column, Kind as ColKind, Schema, Value};

use crate::error::{MpcError, Result};
use crate::fold::{self, Literal};

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFn {
    /// `COUNT(*)` or `COUNT(col)` (columns have no NULLs, so they agree).
    Count,
    /// `SUM(col)`.
    Sum,
    /// `AVG(col)`, exact, rounded half away from zero to the column's scale.
    Avg,
    /// `MIN(col)`.
    Min,
    /// `MAX(col)`.
    Max,
    /// Sample (`pop == false`) or population variance.
    Var {
        /// Population variance.
        pop: bool,
    },
    /// Sample or population standard deviation.
    Stddev {
        /// Population standard deviation.
        pop: bool,
    },
    /// `COUNT(DISTINCT col)` over a categorical column.
    CountDistinct,
    /// `HHI(value, key, keys, unit)`: the Herfindahl–Hirschman index of market concentration,
    /// `10,000 × Σ_k s_k² / (Σ_k s_k)²`, where `s_k` is the total `value` of key `k` (e.g. a
    /// company's revenue) over all holders, counted in whole `unit`s (each holder rounds its
    /// per-key totals to the nearest unit). Keys are `0..keys`. Holders share per-key totals
    /// ([`crate::query::Strategy::Partials`] only); the recipients learn the index and the market
    /// total `Σ s_k` (in units), nothing per key.
    Hhi {
        /// The key column (uint or categorical), e.g. the company.
        key: usize,
        /// Number of keys (a public registry size).
        keys: u32,
        /// Value units per counted unit (in the value column's ring units, ≥ 1).
        unit: i64,
    },
}

impl AggFn {
    /// The function's SQL name (`COUNT(DISTINCT` for [`AggFn::CountDistinct`]).
    pub fn sql_name(&self) -> &'static str {
        match self {
            AggFn::Count => "COUNT",
            AggFn::Sum => "SUM",
            AggFn::Avg => "AVG",
            AggFn::Min => "MIN",
            AggFn::Max => "MAX",
            AggFn::Var { pop: false } => "VAR_SAMP",
            AggFn::Var { pop: true } => "VAR_POP",
            AggFn::Stddev { pop: false } => "STDDEV_SAMP",
            AggFn::Stddev { pop: true } => "STDDEV_POP",
            AggFn::CountDistinct => "COUNT(DISTINCT",
            AggFn::Hhi { .. } => "HHI",
        }
    }

    /// Whether `ORDER BY` can rank groups by this aggregate (in MPC, exactly).
    pub fn rankable(&self) -> bool {
        matches!(
            self,
            AggFn::Count | AggFn::Sum | AggFn::Avg | AggFn::Min | AggFn::Max | AggFn::CountDistinct
        )
    }
}

/// An aggregate over a column (`None` for `COUNT(*)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Agg {
    /// The function.
    pub func: AggFn,
    /// Column index in the schema.
    pub column: Option<usize>,
}

impl Agg {
    /// The aggregate as SQL text for messages, e.g. `AVG(cost)`, `COUNT(*)`,
    /// `COUNT(DISTINCT grp)`, `HHI(revenue, company, ...)`.
    pub fn to_sql(&self, schema: &Schema) -> String {
        let col = |c: usize| schema.columns()[c].name().to_string();
        match (self.func, self.column) {
            (AggFn::Count, _) | (_, None) => "COUNT(*)".into(),
            (AggFn::CountDistinct, Some(c)) => format!("COUNT(DISTINCT {})", col(c)),
            (AggFn::Hhi { key, .. }, Some(c)) => format!("HHI({}, {}, ...)", col(c), col(key)),
            (f, Some(c)) => format!("{}({})", f.sql_name(), col(c)),
        }
    }
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The GROUP BY column's value.
    GroupKey,
    /// An aggregate (index into [`Plan::aggs`]).
    Agg(usize),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    /// The operator with its operands swapped: `a op b` is `b op.flip() a`.
    pub fn flip(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            c => c,
        }
    }
}

/// A comparison operand: a column or a literal (ring value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// Column index.
    Col(usize),
    /// A literal in ring units.
    Lit(i64),
}

/// A row predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pred {
    /// `a op b`.
    Cmp(Cmp, Operand, Operand),
    /// `col IN (values)` (`negated` for NOT IN).
    In(usize, Vec<i64>, bool),
    /// Conjunction.
    And(Box<Pred>, Box<Pred>),
    /// Disjunction.
    Or(Box<Pred>, Box<Pred>),
    /// Negation.
    Not(Box<Pred>),
    /// A constant: a comparison that the column's declared range decides (see [`crate::fold`]).
    /// Plans simplify constants away, so one appears only as a whole `WHERE` that is always
    /// false (a `WHERE` that is always true is no filter).
    Const(bool),
}

/// A predicate on aggregates (HAVING): `agg op literal`, combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Having {
    /// `aggs[i] op literal` (literal in the aggregate's units; AVG compares `SUM` with
    /// `literal × COUNT` exactly).
    Cmp(Cmp, usize, i64),
    /// Conjunction.
    And(Box<Having>, Box<Having>),
    /// Disjunction.
    Or(Box<Having>, Box<Having>),
    /// Negation.
    Not(Box<Having>),
}

/// A checked query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Output columns, in SELECT order, with their labels.
    pub outputs: Vec<(Output, String)>,
    /// Distinct aggregates to compute (outputs, HAVING and ORDER BY refer to them).
    pub aggs: Vec<Agg>,
    /// WHERE (`None` when there is none or it is always true; [`Pred::Const`]`(false)` when it
    /// is always false).
    pub filter: Option<Pred>,
    /// GROUP BY column (categorical).
    pub group_by: Option<usize>,
    /// HAVING.
    pub having: Option<Having>,
    /// ORDER BY aggregate index, descending? (a [`AggFn::rankable`] aggregate; ties go to the
    /// group first in the GROUP BY column's dictionary)
    pub order: Option<(usize, bool)>,
    /// LIMIT.
    pub limit: Option<usize>,
}

fn unsupported(what: impl std::fmt::Display) -> MpcError {
    MpcError::Unsupported(what.to_string())
}

/// A column's value in ring units (a signed integer): uint, int, decimal (in units of its
/// scale), bool (0/1), date (days since 1970), timestamp (seconds), category (index).
pub fn ring_value(v: &Value) -> Result<i64> {
    Ok(match *v {
        Value::Uint(u) => {
            i64::try_from(u).map_err(|_| MpcError::Input(format!("{u} exceeds 2^63 - 1")))?
        }
        Value::Int(i) => i,
        Value::Decimal(d) => {
            i64::try_from(d).map_err(|_| MpcError::Input(format!("{d} exceeds 64 bits")))?
        }
        Value::Bool(b) => i64::from(b),
        Value::Date(d) => i64::from(d),
        Value::Timestamp(t) => t,
        Value::Category(c) => i64::from(c),
    })
}

/// The ring value of a record's encoding `enc` in column `col`, refused unless it is a valid
/// encoding within the column's declared range (what loaders enforce, and what plan-time folding,
/// MIN/MAX sentinels and the overflow checks rely on).
pub fn ring_of(col: &Column, enc: u64) -> Result<i64> {
    if enc < col.min_encoded() || enc > col.max_encoded() {
        let show = |e: u64| col.format(e).unwrap_or_else(|_| format!("encoding {e}"));
        return Err(MpcError::Input(format!(
            "column {}: {} is outside the declared range {} ..= {}",
            col.name(),
            show(enc),
            show(col.min_encoded()),
            show(col.max_encoded())
        )));
    }
    let v = col
        .decode(enc)
        .map_err(|e| MpcError::Input(format!("column {}: {e}", col.name())))?;
    ring_value(&v)
}

/// The smallest and largest ring value a column may hold (from its declared bounds).
pub fn ring_bounds(col: &Column) -> Result<(i64, i64)> {
    let lo = col
        .decode(col.min_encoded())
        .map_err(|e| MpcError::Query(format!("column {}: {e}", col.name())))?;
    let hi = col
        .decode(col.max_encoded())
        .map_err(|e| MpcError::Query(format!("column {}: {e}", col.name())))?;
    Ok((ring_value(&lo)?, ring_value(&hi)?))
}

struct Ctx<'s> {
    schema: &'s Schema,
    aggs: Vec<Agg>,
}

impl Ctx<'_> {
    fn column(&self, e: &Expr) -> Result<usize> {
        let name = match e {
            Expr::Identifier(id) => id.value.clone(),
            Expr::CompoundIdentifier(parts) if parts.len() == 2 => parts[1].value.clone(),
            Expr::Nested(inner) => return self.column(inner),
            other => {
                return Err(unsupported(format!(
                    "expression {other} where a column is expected"
                )));
            }
        };
        self.schema
            .index_of(&name)
            .ok_or_else(|| MpcError::Query(format!("no column {name:?} in {}", self.schema.name())))
    }

    /// The text of a literal expression (a number, a string, a boolean, or a negative number).
    fn literal_text(e: &Expr) -> Result<String> {
        Ok(match e {
            Expr::Value(v) => match &v.value {
                SqlValue::Number(n, _) => n.clone(),
                SqlValue::SingleQuotedString(s) => s.clone(),
                SqlValue::Boolean(b) => b.to_string(),
                other => return Err(unsupported(format!("literal {other}"))),
            },
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => match expr.as_ref() {
                Expr::Value(v) => match &v.value {
                    SqlValue::Number(n, _) => format!("-{n}"),
                    other => return Err(unsupported(format!("literal -{other}"))),
                },
                other => return Err(unsupported(format!("expression -{other}"))),
            },
            Expr::Nested(inner) => return Self::literal_text(inner),
            other => {
                return Err(unsupported(format!(
                    "expression {other} where a literal is expected"
                )));
            }
        })
    }

    /// A literal read by column `col`'s type, regardless of the column's declared range.
    fn literal(&self, col: usize, e: &Expr) -> Result<Literal> {
        fold::parse_literal(&self.schema.columns()[col], &Self::literal_text(e)?)
    }

    /// A literal in `col`'s units that must fit the 64-bit ring (a HAVING bound, HHI's unit).
    fn literal_i64(&self, col: usize, e: &Expr) -> Result<i64> {
        match self.literal(col, e)? {
            Literal::Value(v) => Ok(v),
            Literal::Beyond(_) => Err(MpcError::Query(format!(
                "{e} is beyond the 64-bit range of column {}",
                self.schema.columns()[col].name()
            ))),
        }
    }

    /// Whether `e` names a column (rather than being a literal).
    fn is_column_ref(e: &Expr) -> bool {
        match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
            Expr::Nested(inner) => Self::is_column_ref(inner),
            _ => false,
        }
    }

    /// `left op right`, where at least one side is a column; a literal takes the type of the
    /// column it is compared with, and a comparison the column's range decides is folded.
    fn comparison(&self, op: Cmp, left: &Expr, right: &Expr) -> Result<Pred> {
        match (self.column(left), self.column(right)) {
            (Ok(a), Ok(b)) => Ok(Pred::Cmp(op, Operand::Col(a), Operand::Col(b))),
            (Ok(c), Err(e)) => {
                if Self::is_column_ref(right) {
                    return Err(e);
                }
                fold::compare(self.schema, op, c, self.literal(c, right)?)
            }
            (Err(e), Ok(c)) => {
                if Self::is_column_ref(left) {
                    return Err(e);
                }
                fold::compare(self.schema, op.flip(), c, self.literal(c, left)?)
            }
            (Err(e), Err(f)) => Err(if Self::is_column_ref(left) {
                e
            } else if Self::is_column_ref(right) {
                f
            } else {
                unsupported("a comparison of two literals")
            }),
        }
    }

    fn cmp_op(op: &BinaryOperator) -> Option<Cmp> {
        Some(match op {
            BinaryOperator::Eq => Cmp::Eq,
            BinaryOperator::NotEq => Cmp::Ne,
            BinaryOperator::Lt => Cmp::Lt,
            BinaryOperator::LtEq => Cmp::Le,
            BinaryOperator::Gt => Cmp::Gt,
            BinaryOperator::GtEq => Cmp::Ge,
            _ => return None,
        })
    }

    fn pred(&self, e: &Expr) -> Result<Pred> {
        match e {
            Expr::Nested(inner) => self.pred(inner),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => Ok(fold::not(self.pred(expr)?)),
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And => Ok(fold::and(self.pred(left)?, self.pred(right)?)),
                BinaryOperator::Or => Ok(fold::or(self.pred(left)?, self.pred(right)?)),
                op => {
                    let cmp =
                        Self::cmp_op(op).ok_or_else(|| unsupported(format!("operator {op}")))?;
                    self.comparison(cmp, left, right)
                }
            },
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let col = self.column(expr)?;
                let (lo, hi) = (self.literal(col, low)?, self.literal(col, high)?);
                let p = fold::and(
                    fold::compare(self.schema, Cmp::Ge, col, lo)?,
                    fold::compare(self.schema, Cmp::Le, col, hi)?,
                );
                Ok(if *negated { fold::not(p) } else { p })
            }
            Expr::In {
                expr,
                target,
                negated,
                global: false,
            } => {
                let InTarget::List(list) = target else {
                    return Err(unsupported(format!("IN target in {e}")));
                };
                let col = self.column(expr)?;
                let lits = list
                    .iter()
                    .map(|v| self.literal(col, v))
                    .collect::<Result<Vec<_>>>()?;
                fold::in_list(self.schema, col, &lits, *negated)
            }
            other => Err(unsupported(format!("predicate {other}"))),
        }
    }

    fn agg(&mut self, e: &Expr) -> Result<usize> {
        let Expr::Function(f) = e else {
            return Err(unsupported(format!(
                "expression {e} (only aggregates and the GROUP BY column may be selected)"
            )));
        };
        let name = f.name.to_string().to_ascii_uppercase();
        let FunctionArguments::List(list) = &f.args else {
            return Err(unsupported(format!("function call {e}")));
        };
        if f.filter.is_some() || f.over.is_some() || !list.clauses.is_empty() {
            return Err(unsupported(format!("function clauses in {e}")));
        }
        let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
        if name == "HHI" {
            return self.hhi(e, &list.args, distinct);
        }
        let column = match list.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if name == "COUNT" && !distinct => {
                None
            }
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(x))] => Some(self.column(x)?),
            _ => return Err(unsupported(format!("arguments of {e}"))),
        };
        let func = match (name.as_str(), distinct) {
            ("COUNT", false) => AggFn::Count,
            ("COUNT", true) => AggFn::CountDistinct,
            ("SUM", false) => AggFn::Sum,
            ("AVG", false) => AggFn::Avg,
            ("MIN", false) => AggFn::Min,
            ("MAX", false) => AggFn::Max,
            ("VAR" | "VARIANCE" | "VAR_SAMP", false) => AggFn::Var { pop: false },
            ("VAR_POP", false) => AggFn::Var { pop: true },
            ("STDDEV" | "STDDEV_SAMP", false) => AggFn::Stddev { pop: false },
            ("STDDEV_POP", false) => AggFn::Stddev { pop: true },
            _ => return Err(unsupported(format!("aggregate {e}"))),
        };
        if let Some(c) = column {
            let kind = self.schema.columns()[c].kind();
            let categorical = matches!(kind, ColKind::Categorical { .. });
            match func {
                AggFn::CountDistinct if !categorical => {
                    return Err(unsupported(format!(
                        "COUNT(DISTINCT) over {} (needs a categorical column, whose domain is declared)",
                        self.schema.columns()[c].name()
                    )));
                }
                AggFn::Sum | AggFn::Avg | AggFn::Var { .. } | AggFn::Stddev { .. }
                    if categorical =>
                {
                    return Err(MpcError::Query(format!("{e} over a categorical column")));
                }
                _ => {}
            }
        }
        Ok(self.push_agg(Agg {
            func,
            column: if func == AggFn::Count { None } else { column },
        }))
    }

    fn push_agg(&mut self, agg: Agg) -> usize {
        match self.aggs.iter().position(|a| *a == agg) {
            Some(i) => i,
            None => {
                self.aggs.push(agg);
                self.aggs.len() - 1
            }
        }
    }

    /// `HHI(value, key, keys, unit)`.
    fn hhi(&mut self, e: &Expr, args: &[FunctionArg], distinct: bool) -> Result<usize> {
        let exprs: Vec<&Expr> = args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x),
                _ => None,
            })
            .collect();
        let [value, key, keys, unit] = exprs.as_slice() else {
            return Err(unsupported(format!(
                "arguments of {e} (HHI(value, key, keys, unit))"
            )));
        };
        if distinct || exprs.len() != args.len() {
            return Err(unsupported(format!("arguments of {e}")));
        }
        let (v, k) = (self.column(value)?, self.column(key)?);
        let (vcol, kcol) = (&self.schema.columns()[v], &self.schema.columns()[k]);
        if matches!(vcol.kind(), ColKind::Categorical { .. } | ColKind::Bool)
            || ring_bounds(vcol)?.0 < 0
        {
            return Err(MpcError::Query(format!(
                "HHI over {}: needs a numeric column declared non-negative (min >= 0)",
                vcol.name()
            )));
        }
        if !matches!(
            kcol.kind(),
            ColKind::Uint { .. } | ColKind::Categorical { .. }
        ) {
            return Err(MpcError::Query(format!(
                "HHI key {}: needs a uint or categorical column",
                kcol.name()
            )));
        }
        let keys = match keys {
            Expr::Value(x) => match &x.value {
                SqlValue::Number(n, _) => n.parse::<u32>().ok(),
                _ => None,
            },
            _ => None,
        }
        .filter(|n| (1..=1 << 22).contains(n))
        .ok_or_else(|| {
            MpcError::Query(format!(
                "HHI: the number of keys {keys} must be 1 to 4194304"
            ))
        })?;
        let unit = self.literal_i64(v, unit)?;
        if unit < 1 {
            return Err(MpcError::Query(format!(
                "HHI: unit {unit} must be positive"
            )));
        }
        Ok(self.push_agg(Agg {
            func: AggFn::Hhi { key: k, keys, unit },
            column: Some(v),
        }))
    }

    fn having(&mut self, e: &Expr) -> Result<Having> {
        match e {
            Expr::Nested(inner) => self.having(inner),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => Ok(Having::Not(Box::new(self.having(expr)?))),
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And => Ok(Having::And(
                    Box::new(self.having(left)?),
                    Box::new(self.having(right)?),
                )),
                BinaryOperator::Or => Ok(Having::Or(
                    Box::new(self.having(left)?),
                    Box::new(self.having(right)?),
                )),
                op => {
                    let cmp =
                        Self::cmp_op(op).ok_or_else(|| unsupported(format!("operator {op}")))?;
                    let (agg_expr, lit, cmp) = if matches!(left.as_ref(), Expr::Function(_)) {
                        (left, right, cmp)
                    } else {
                        (right, left, cmp.flip())
                    };
                    let i = self.agg(agg_expr)?;
                    let a = self.aggs[i];
                    let value = match (a.func, a.column) {
                        // In the aggregate's units, which may lie beyond the column's range.
                        (AggFn::Sum | AggFn::Avg | AggFn::Min | AggFn::Max, Some(c)) => {
                            self.literal_i64(c, lit)?
                        }
                        (AggFn::Count | AggFn::CountDistinct, _) => match lit.as_ref() {
                            Expr::Value(v) => match &v.value {
                                SqlValue::Number(n, _) => n
                                    .parse()
                                    .map_err(|_| MpcError::Query(format!("count bound {n}")))?,
                                other => return Err(unsupported(format!("literal {other}"))),
                            },
                            other => return Err(unsupported(format!("expression {other}"))),
                        },
                        _ => return Err(unsupported(format!("HAVING on {agg_expr}"))),
                    };
                    Ok(Having::Cmp(cmp, i, value))
                }
            },
            other => Err(unsupported(format!("HAVING predicate {other}"))),
        }
    }
}

/// `msg` with the characters that could forge or hide text on a terminal escaped: messages
/// quote the query's SQL, which is untrusted.
fn escape_controls(msg: String) -> String {
    trustspace_data::error::escape_controls(&msg).into_owned()
}

/// Parses and checks `sql` against `schema`. Errors are [`MpcError::Unsupported`] (naming the
/// construct) or [`MpcError::Query`] (naming the column, literal or clause and why), with the
/// SQL they quote escaped.
pub fn plan(sql: &str, schema: &Schema) -> Result<Plan> {
    plan_unescaped(sql, schema).map_err(|e| match e {
        MpcError::Unsupported(m) => MpcError::Unsupported(escape_controls(m)),
        MpcError::Query(m) => MpcError::Query(escape_controls(m)),
        e => e,
    })
}

fn plan_unescaped(sql: &str, schema: &Schema) -> Result<Plan> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql)
        .map_err(|e| MpcError::Query(format!("parse error: {e}")))?;
    let [Statement::Query(q)] = statements.as_slice() else {
        return Err(unsupported("anything but a single SELECT statement"));
    };
    if q.with.is_some() || q.fetch.is_some() || !q.locks.is_empty() {
        return Err(unsupported("WITH, FETCH or locking clauses"));
    }
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Err(unsupported(
            "set operations (UNION, ...) and nested queries",
        ));
    };
    if s.distinct.is_some() || s.top.is_some() || s.into.is_some() || s.qualify.is_some() {
        return Err(unsupported("DISTINCT, TOP, INTO or QUALIFY"));
    }
    match s.from.as_slice() {
        [t] if t.joins.is_empty() => match &t.relation {
            TableFactor::Table { name, .. }
                if name.to_string().eq_ignore_ascii_case(schema.name()) => {}
            TableFactor::Table { name, .. } => {
                return Err(MpcError::Query(format!(
                    "no table {name}; this data space holds {}",
                    schema.name()
                )));
            }
            other => return Err(unsupported(format!("FROM {other}"))),
        },
        [_] => return Err(unsupported("JOIN")),
        _ => return Err(unsupported("a FROM clause with other than one table")),
    }
    let mut ctx = Ctx {
        schema,
        aggs: Vec::new(),
    };
    let group_by = match &s.group_by {
        GroupByExpr::Expressions(exprs, mods) if mods.is_empty() => match exprs.as_slice() {
            [] => None,
            [e] => {
                let c = ctx.column(e)?;
                if !matches!(
                    schema.columns()[c].kind(),
                    ColKind::Categorical { .. } | ColKind::Bool
                ) {
                    return Err(unsupported(format!(
                        "GROUP BY {} (needs a categorical or bool column, whose domain is declared)",
                        schema.columns()[c].name()
                    )));
                }
                Some(c)
            }
            _ => return Err(unsupported("GROUP BY more than one column")),
        },
        _ => return Err(unsupported("GROUP BY ALL or grouping modifiers")),
    };
    let filter = match s.selection.as_ref().map(|e| ctx.pred(e)).transpose()? {
        Some(Pred::Const(true)) => None,
        f => f,
    };
    let mut outputs = Vec::new();
    for item in &s.projection {
        let (e, label) = match item {
            SelectItem::UnnamedExpr(e) => (e, e.to_string()),
            SelectItem::ExprWithAlias { expr, alias } => (expr, alias.value.clone()),
            other => return Err(unsupported(format!("select item {other}"))),
        };
        if let Some(g) = group_by {
            if ctx.column(e).ok() == Some(g) {
                outputs.push((Output::GroupKey, label));
                continue;
            }
        }
        outputs.push((Output::Agg(ctx.agg(e)?), label));
    }
    if outputs.is_empty() {
        return Err(MpcError::Query("nothing selected".into()));
    }
    let having = s.having.as_ref().map(|e| ctx.having(e)).transpose()?;
    let order = match &q.order_by {
        None => None,
        Some(o) => match &o.kind {
            OrderByKind::Expressions(v) if v.len() == 1 => {
                let x = &v[0];
                // ORDER BY an alias of a selected aggregate, or an aggregate itself.
                let by_alias = outputs
                    .iter()
                    .find_map(|(out, label)| match (out, &x.expr) {
                        (Output::Agg(i), Expr::Identifier(id))
                            if id.value == *label
                                || (id.quote_style.is_none()
                                    && id.value.eq_ignore_ascii_case(label)) =>
                        {
                            Some(*i)
                        }
                        _ => None,
                    });
                let i = match by_alias {
                    Some(i) => i,
                    None if matches!(x.expr, Expr::Function(_)) => ctx.agg(&x.expr)?,
                    None => {
                        return Err(unsupported(format!(
                            "ORDER BY {} (ORDER BY takes one aggregate, e.g. ORDER BY AVG(cost) \
                             DESC, or the alias of a selected aggregate)",
                            x.expr
                        )));
                    }
                };
                let func = ctx.aggs[i].func;
                if !func.rankable() {
                    return Err(unsupported(format!(
                        "ORDER BY {}: ORDER BY supports COUNT, SUM, AVG, MIN, MAX and \
                         COUNT(DISTINCT)",
                        ctx.aggs[i].to_sql(schema)
                    )));
                }
                let desc = matches!(x.options.sort, Some(OrderBySort::Desc));
                if group_by.is_none() {
                    return Err(unsupported("ORDER BY without GROUP BY"));
                }
                Some((i, desc))
            }
            _ => return Err(unsupported("ORDER BY other than one aggregate")),
        },
    };
    let limit = match &q.limit_clause {
        None => None,
        Some(LimitClause::LimitOffset {
            limit: Some(Expr::Value(v)),
            offset: None,
            limit_by,
        }) if limit_by.is_empty() => match &v.value {
            SqlValue::Number(n, _) => Some(
                n.parse::<usize>()
                    .map_err(|_| MpcError::Query(format!("LIMIT {n}")))?,
            ),
            other => return Err(unsupported(format!("LIMIT {other}"))),
        },
        Some(other) => return Err(unsupported(format!("{other}"))),
    };
    if limit.is_some() && order.is_none() {
        return Err(unsupported("LIMIT without ORDER BY an aggregate"));
    }
    Ok(Plan {
        outputs,
        aggs: ctx.aggs,
        filter,
        group_by,
        having,
        order,
        limit,
    })
}
