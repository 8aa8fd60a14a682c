//! ICD-10-CM three-character categories and chapters (CDC/NCHS and CMS, public domain), bundled
//! from the `simple-icd-10-cm` 1.5.0 code table: a realistic diagnosis dictionary.
//!
//! The bundled table has 1,957 rows but lists 39 categories twice (those whose block is the
//! category itself), with identical fields; each is kept once, giving 1,918 categories in ICD
//! order.

use std::collections::HashMap;
use std::sync::OnceLock;

const CATEGORIES_CSV: &str = include_str!("../../assets/icd10cm_categories.csv");
const CHAPTERS_CSV: &str = include_str!("../../assets/icd10cm_chapters.csv");

/// One ICD-10-CM category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// The three-character code, e.g. `A04`.
    pub code: String,
    /// Chapter number, 1–22.
    pub chapter: u8,
    /// Block, e.g. `A00-A09`.
    pub block: String,
    /// English description.
    pub description: String,
}

fn parse<T>(text: &str, mut row: impl FnMut(csv::StringRecord) -> T) -> Vec<T> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| row(r.expect("bundled ICD-10 table is valid CSV")))
        .collect()
}

/// Number of distinct categories in the bundled table.
pub const CATEGORY_COUNT: usize = 1918;

struct Table {
    categories: Vec<Category>,
    index: HashMap<String, u32>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let rows = parse(CATEGORIES_CSV, |r| Category {
            code: r[0].to_string(),
            chapter: r[1].parse().expect("bundled chapter number"),
            block: r[2].to_string(),
            description: r[3].to_string(),
        });
        let mut t = Table {
            categories: Vec::with_capacity(rows.len()),
            index: HashMap::with_capacity(rows.len()),
        };
        for c in rows {
            match t.index.get(&c.code) {
                Some(&i) => assert_eq!(t.categories[i as usize], c, "conflicting duplicate"),
                None => {
                    t.index.insert(c.code.clone(), t.categories.len() as u32);
                    t.categories.push(c);
                }
            }
        }
        t
    })
}

/// All distinct categories, in the table's (ICD chapter) order.
pub fn categories() -> &'static [Category] {
    &table().categories
}

/// The 22 chapters: number and title.
pub fn chapters() -> &'static [(u8, String)] {
    static CHAPS: OnceLock<Vec<(u8, String)>> = OnceLock::new();
    CHAPS.get_or_init(|| {
        parse(CHAPTERS_CSV, |r| {
            (
                r[0].parse().expect("bundled chapter number"),
                r[1].to_string(),
            )
        })
    })
}

/// The position of `code` in [`categories`] (the categorical encoding of a diagnosis column).
pub fn index_of(code: &str) -> Option<u32> {
    table().index.get(code).copied()
}

/// The codes of [`categories`], for a categorical column's dictionary.
pub fn codes() -> impl Iterator<Item = &'static str> {
    categories().iter().map(|c| c.code.as_str())
}
