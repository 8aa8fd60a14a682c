//! The checked query ([`Plan`]) and its parts: aggregates ([`Agg`], with the columns they
//! read), outputs, row predicates and `HAVING` predicates.

use trustspace_data::Schema;

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
    /// `HHI(value, key, keys, unit)`: the Herfindahl–Hirschman index of market concentration
    /// (see [`Agg::Hhi`]).
    Hhi,
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
            AggFn::Hhi => "HHI",
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

/// An aggregate with the columns it reads (column indices in the schema): every variant but
/// `COUNT` carries its column, so no consumer has to ask whether there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agg {
    /// `COUNT(*)` or `COUNT(col)` (columns have no NULLs, so they agree).
    Count,
    /// `SUM(col)`.
    Sum(usize),
    /// `AVG(col)`, exact, rounded half away from zero to the column's scale.
    Avg(usize),
    /// `MIN(col)`.
    Min(usize),
    /// `MAX(col)`.
    Max(usize),
    /// Sample (`pop == false`) or population variance of `column`.
    Var {
        /// The column.
        column: usize,
        /// Population variance.
        pop: bool,
    },
    /// Sample or population standard deviation of `column`.
    Stddev {
        /// The column.
        column: usize,
        /// Population standard deviation.
        pop: bool,
    },
    /// `COUNT(DISTINCT col)` over a categorical column.
    CountDistinct(usize),
    /// `HHI(value, key, keys, unit)`: the Herfindahl–Hirschman index of market concentration,
    /// `10,000 × Σ_k s_k² / (Σ_k s_k)²`, where `s_k` is the total `value` of key `k` (e.g. a
    /// company's revenue) over all holders, counted in whole `unit`s (each holder rounds its
    /// per-key totals to the nearest unit). Keys are `0..keys`. Holders share per-key totals
    /// ([`crate::query::Strategy::Partials`] only); the recipients learn the index and the market
    /// total `Σ s_k` (in units), nothing per key.
    Hhi {
        /// The value column (numeric, declared non-negative), e.g. the revenue.
        value: usize,
        /// The key column (uint or categorical), e.g. the company.
        key: usize,
        /// Number of keys (a public registry size).
        keys: u32,
        /// Value units per counted unit (in the value column's ring units, ≥ 1).
        unit: i64,
    },
}

impl Agg {
    /// The function.
    pub fn func(&self) -> AggFn {
        match *self {
            Agg::Count => AggFn::Count,
            Agg::Sum(_) => AggFn::Sum,
            Agg::Avg(_) => AggFn::Avg,
            Agg::Min(_) => AggFn::Min,
            Agg::Max(_) => AggFn::Max,
            Agg::Var { pop, .. } => AggFn::Var { pop },
            Agg::Stddev { pop, .. } => AggFn::Stddev { pop },
            Agg::CountDistinct(_) => AggFn::CountDistinct,
            Agg::Hhi { .. } => AggFn::Hhi,
        }
    }

    /// The column whose values are aggregated (HHI's value column); `None` for `COUNT`.
    pub fn column(&self) -> Option<usize> {
        match *self {
            Agg::Count => None,
            Agg::Sum(c)
            | Agg::Avg(c)
            | Agg::Min(c)
            | Agg::Max(c)
            | Agg::Var { column: c, .. }
            | Agg::Stddev { column: c, .. }
            | Agg::CountDistinct(c)
            | Agg::Hhi { value: c, .. } => Some(c),
        }
    }

    /// The aggregate as SQL text for messages, e.g. `AVG(cost)`, `COUNT(*)`,
    /// `COUNT(DISTINCT grp)`, `HHI(revenue, company, ...)`.
    pub fn to_sql(&self, schema: &Schema) -> String {
        let col = |c: usize| schema.columns()[c].name().to_string();
        match *self {
            Agg::Count => "COUNT(*)".into(),
            Agg::CountDistinct(c) => format!("COUNT(DISTINCT {})", col(c)),
            Agg::Hhi { value, key, .. } => format!("HHI({}, {}, ...)", col(value), col(key)),
            Agg::Sum(c)
            | Agg::Avg(c)
            | Agg::Min(c)
            | Agg::Max(c)
            | Agg::Var { column: c, .. }
            | Agg::Stddev { column: c, .. } => format!("{}({})", self.func().sql_name(), col(c)),
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
