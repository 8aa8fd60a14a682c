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
//! `'2026-01-31'`, categories by name, decimals exactly).

use sqlparser::ast::{
    BinaryOperator, DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, InTarget, LimitClause, OrderByKind, OrderBySort, SelectItem, SetExpr, Statement,
    TableFactor, UnaryOperator, Value as SqlValue,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use trustspace_data::{Column, Kind as ColKind, Schema, Value};

use crate::error::{MpcError, Result};

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

/// An aggregate over a column (`None` for `COUNT(*)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Agg {
    /// The function.
    pub func: AggFn,
    /// Column index in the schema.
    pub column: Option<usize>,
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
    /// WHERE.
    pub filter: Option<Pred>,
    /// GROUP BY column (categorical).
    pub group_by: Option<usize>,
    /// HAVING.
    pub having: Option<Having>,
    /// ORDER BY aggregate index, descending?
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

/// The smallest and largest ring value a column may hold (from its declared bounds).
pub fn ring_bounds(col: &Column) -> Result<(i64, i64)> {
    let lo = col
        .decode(col.min_encoded())
        .map_err(|e| MpcError::Query(format!("column {}: {e:?}", col.name())))?;
    let hi = col
        .decode(col.max_encoded())
        .map_err(|e| MpcError::Query(format!("column {}: {e:?}", col.name())))?;
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

    fn literal(&self, col: usize, e: &Expr) -> Result<i64> {
        let text = match e {
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
            Expr::Nested(inner) => return self.literal(col, inner),
            other => {
                return Err(unsupported(format!(
                    "expression {other} where a literal is expected"
                )));
            }
        };
        let c = &self.schema.columns()[col];
        let enc = c
            .parse(&text)
            .map_err(|e| MpcError::Query(format!("{text:?} for column {}: {e:?}", c.name())))?;
        let v = c
            .decode(enc)
            .map_err(|e| MpcError::Query(format!("{text:?} for column {}: {e:?}", c.name())))?;
        ring_value(&v)
    }

    fn operand(&self, e: &Expr, other: &Expr) -> Result<Operand> {
        if self.column(e).is_ok() {
            return Ok(Operand::Col(self.column(e)?));
        }
        // A literal takes the type of the column it is compared with.
        let col = self.column(other)?;
        Ok(Operand::Lit(self.literal(col, e)?))
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
            } => Ok(Pred::Not(Box::new(self.pred(expr)?))),
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And => Ok(Pred::And(
                    Box::new(self.pred(left)?),
                    Box::new(self.pred(right)?),
                )),
                BinaryOperator::Or => Ok(Pred::Or(
                    Box::new(self.pred(left)?),
                    Box::new(self.pred(right)?),
                )),
                op => {
                    let cmp =
                        Self::cmp_op(op).ok_or_else(|| unsupported(format!("operator {op}")))?;
                    let (a, b) = (self.operand(left, right)?, self.operand(right, left)?);
                    if let (Operand::Lit(_), Operand::Lit(_)) = (a, b) {
                        return Err(unsupported("a comparison of two literals"));
                    }
                    Ok(Pred::Cmp(cmp, a, b))
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
                let p = Pred::And(
                    Box::new(Pred::Cmp(Cmp::Ge, Operand::Col(col), Operand::Lit(lo))),
                    Box::new(Pred::Cmp(Cmp::Le, Operand::Col(col), Operand::Lit(hi))),
                );
                Ok(if *negated { Pred::Not(Box::new(p)) } else { p })
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
                let mut vals = list
                    .iter()
                    .map(|v| self.literal(col, v))
                    .collect::<Result<Vec<_>>>()?;
                vals.sort_unstable();
                vals.dedup();
                Ok(Pred::In(col, vals, *negated))
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
        let unit = self.literal(v, unit)?;
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
                        let flipped = match cmp {
                            Cmp::Lt => Cmp::Gt,
                            Cmp::Le => Cmp::Ge,
                            Cmp::Gt => Cmp::Lt,
                            Cmp::Ge => Cmp::Le,
                            c => c,
                        };
                        (right, left, flipped)
                    };
                    let i = self.agg(agg_expr)?;
                    let a = self.aggs[i];
                    let value = match (a.func, a.column) {
                        (AggFn::Sum | AggFn::Avg | AggFn::Min | AggFn::Max, Some(c)) => {
                            self.literal(c, lit)?
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

/// Parses and checks `sql` against `schema`.
pub fn plan(sql: &str, schema: &Schema) -> Result<Plan> {
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
    let filter = s.selection.as_ref().map(|e| ctx.pred(e)).transpose()?;
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
                // ORDER BY an alias of a selected aggregate, or the aggregate itself.
                let by_alias = outputs
                    .iter()
                    .find_map(|(out, label)| match (out, &x.expr) {
                        (Output::Agg(i), Expr::Identifier(id)) if id.value == *label => Some(*i),
                        _ => None,
                    });
                let i = match by_alias {
                    Some(i) => i,
                    None => ctx.agg(&x.expr)?,
                };
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
