//! The SQL subset, parsed with `sqlparser` and checked against a schema into a [`Plan`].
//!
//! ```sql
//! SELECT [group column,] agg, ... FROM table
//!   [WHERE predicate] [GROUP BY categorical column] [HAVING predicate on aggregates]
//!   [ORDER BY aggregate [ASC|DESC] LIMIT k]
//! ```
//! Aggregates: `COUNT(*)`, `COUNT(col)`, `SUM`, `AVG`, `MIN`, `MAX`, `VAR`/`VAR_SAMP`,
//! `VAR_POP`, `STDDEV`/`STDDEV_SAMP`, `STDDEV_POP`, `COUNT(DISTINCT col)` (categorical col),
//! and the composite `HHI(value, key, keys, unit)` (market concentration, see [`Agg::Hhi`]).
//! Predicates: `=`, `<>`, `<`, `<=`, `>`, `>=` between a column and a literal or two columns,
//! `BETWEEN`, `IN (...)`, combined with `AND`, `OR`, `NOT`. Anything else is refused with an
//! error naming the construct, and so is nesting deeper than [`MAX_NESTING`] levels. Literals
//! are parsed by the column's own type (dates as `'2026-01-31'`, categories by name, decimals
//! exactly). A comparison with a literal that the
//! column's declared range decides (`age > 150` where `age` is declared `max = 120`) is folded
//! to SQL's constant answer at plan time ([`crate::fold`], [`Pred::Const`]).
//!
//! `ORDER BY` ranks groups by one aggregate — `COUNT`, `SUM`, `AVG`, `MIN`, `MAX` or
//! `COUNT(DISTINCT)`, written as the aggregate or as the alias of a selected one — `ASC` or
//! `DESC`; ties go to the group whose key comes first in the GROUP BY column's dictionary
//! (declaration order), in either direction. `VAR`/`STDDEV` and `HHI` are not ranked.
//!
//! The plan's types are in `types` ([`Plan`], [`Agg`], ...); values as ring elements in `ring`
//! ([`ring_of`], [`ring_bounds`], [`domain`]); this module parses and checks ([`plan`]).

use sqlparser::ast::{
    BinaryOperator, DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, InTarget, LimitClause, OrderByKind, OrderBySort, SelectItem, SetExpr, Statement,
    TableFactor, UnaryOperator, Value as SqlValue,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use trustspace_data::{Kind as ColKind, Schema};

use crate::error::{MpcError, Result};
use crate::fold::{self, Literal};

mod ring;
mod types;

pub use ring::{domain, ring_bounds, ring_of, ring_value};
pub use types::{Agg, AggFn, Cmp, Having, Operand, Output, Plan, Pred};

fn unsupported(what: impl std::fmt::Display) -> MpcError {
    MpcError::Unsupported(what.to_string())
}

/// The planner's state: the schema, and the aggregates met so far (each once).
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
        let c = match list.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if name == "COUNT" && !distinct => {
                return Ok(self.push_agg(Agg::Count));
            }
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(x))] => self.column(x)?,
            _ => return Err(unsupported(format!("arguments of {e}"))),
        };
        let agg = match (name.as_str(), distinct) {
            ("COUNT", false) => Agg::Count,
            ("COUNT", true) => Agg::CountDistinct(c),
            ("SUM", false) => Agg::Sum(c),
            ("AVG", false) => Agg::Avg(c),
            ("MIN", false) => Agg::Min(c),
            ("MAX", false) => Agg::Max(c),
            ("VAR" | "VARIANCE" | "VAR_SAMP", false) => Agg::Var {
                column: c,
                pop: false,
            },
            ("VAR_POP", false) => Agg::Var {
                column: c,
                pop: true,
            },
            ("STDDEV" | "STDDEV_SAMP", false) => Agg::Stddev {
                column: c,
                pop: false,
            },
            ("STDDEV_POP", false) => Agg::Stddev {
                column: c,
                pop: true,
            },
            _ => return Err(unsupported(format!("aggregate {e}"))),
        };
        let kind = self.schema.columns()[c].kind();
        let categorical = matches!(kind, ColKind::Categorical { .. });
        match agg {
            Agg::CountDistinct(_) if !categorical => {
                return Err(unsupported(format!(
                    "COUNT(DISTINCT) over {} (needs a categorical column, whose domain is declared)",
                    self.schema.columns()[c].name()
                )));
            }
            Agg::Sum(_) | Agg::Avg(_) | Agg::Var { .. } | Agg::Stddev { .. } if categorical => {
                return Err(MpcError::Query(format!("{e} over a categorical column")));
            }
            _ => {}
        }
        Ok(self.push_agg(agg))
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
        Ok(self.push_agg(Agg::Hhi {
            value: v,
            key: k,
            keys,
            unit,
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
                    let value = match self.aggs[i] {
                        // In the aggregate's units, which may lie beyond the column's range.
                        Agg::Sum(c) | Agg::Avg(c) | Agg::Min(c) | Agg::Max(c) => {
                            self.literal_i64(c, lit)?
                        }
                        Agg::Count | Agg::CountDistinct(_) => match lit.as_ref() {
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

/// The parser's recursion limit: the deepest nesting of expressions, subqueries and
/// parenthesised tables it follows. The SQL subset needs a few levels; sqlparser's own default
/// (50) let a text of nested parentheses (`FROM ((((… t WHERE ((((…`) exhaust a 2 MiB thread
/// stack where sqlparser is built unoptimised (the workspace's test profile), aborting the
/// process that parses a client's query.
pub const MAX_NESTING: usize = 16;

/// Parses `sql` with the [`MAX_NESTING`] limit: [`MpcError::Unsupported`] for deeper nesting,
/// [`MpcError::Query`] for a syntax error.
pub(crate) fn parse(sql: &str) -> Result<Vec<Statement>> {
    Parser::new(&GenericDialect {})
        .with_recursion_limit(MAX_NESTING)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| match e {
            ParserError::RecursionLimitExceeded => unsupported(format!(
                "nesting deeper than {MAX_NESTING} levels (parentheses, subqueries, NOT)"
            )),
            e => MpcError::Query(format!("parse error: {e}")),
        })
}

fn plan_unescaped(sql: &str, schema: &Schema) -> Result<Plan> {
    let statements = parse(sql)?;
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
                let func = ctx.aggs[i].func();
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
