//! The knowledge base as CSV: [`write`] for the export, [`parse`] for the import. Pure: no
//! I/O; the store applies the rows ([`super::Knowledge::import`]).
//!
//! The format (also in `AI.md`): RFC 4180 (comma-separated, fields with commas, quotes or line
//! breaks quoted, `""` for a quote), UTF-8, CRLF line ends, a header row naming the columns
//! `id, question, alternatives, answer, tags, locale, enabled`. The export begins with a UTF-8
//! byte order mark so Excel reads Chinese text right; the import skips one when present.
//! `alternatives` and `tags` hold several values in one cell, one per line (a line break inside
//! the quoted cell, Alt+Enter in Excel). `enabled` is `true` or `false` (also `yes`/`no`,
//! `1`/`0`; empty is `true`).
//!
//! On import the columns may come in any order and only `question` and `answer` are required;
//! a row with an `id` replaces that entry, a row without one adds an entry. Rows that are
//! empty in every column are skipped. Every row is checked before anything is stored; the
//! errors name the row (the header is row 1, as a spreadsheet numbers them), the column and
//! the reason.

use serde::Serialize;
use utoipa::ToSchema;

use super::{KnowledgeInput, KnowledgeView};
use crate::error::StoreError;

/// The columns, in the order the export writes them.
pub const COLUMNS: [&str; 7] = [
    "id",
    "question",
    "alternatives",
    "answer",
    "tags",
    "locale",
    "enabled",
];

/// The most entries one import may hold.
pub const MAX_IMPORT_ROWS: usize = 5000;

/// The most row errors one refused import lists.
pub const MAX_ROW_ERRORS: usize = 200;

/// The UTF-8 byte order mark the export begins with.
pub const BOM: &str = "\u{feff}";

/// What is wrong with one cell (or row) of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// The row, counted as a spreadsheet does: the header is row 1.
    pub row: usize,
    /// The column (`question`, `tags`...); `row` when the row as a whole is wrong, `file`
    /// when the file is.
    pub field: String,
    /// What is wrong, for humans.
    pub reason: String,
}

impl RowError {
    fn new(row: usize, field: &str, reason: impl Into<String>) -> Self {
        Self {
            row,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// One checked row of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Its row number (the header is row 1).
    pub row: usize,
    /// The entry it replaces; `None` adds one.
    pub id: Option<i64>,
    /// The entry, checked ([`KnowledgeInput::checked`]).
    pub input: KnowledgeInput,
}

/// The entries as CSV, with the byte order mark and the header row.
pub fn write(entries: &[KnowledgeView]) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; a failure would only drop rows, so it is ignored rather
    // than unwrapped.
    let _ = w.write_record(COLUMNS);
    for e in entries {
        let _ = w.write_record([
            e.id.to_string(),
            e.question.clone(),
            e.alternatives.join("\n"),
            e.answer.clone(),
            e.tags.join("\n"),
            e.locale.clone().unwrap_or_default(),
            e.enabled.to_string(),
        ]);
    }
    let body = w.into_inner().unwrap_or_default();
    format!("{BOM}{}", String::from_utf8_lossy(&body))
}

/// The rows of an uploaded file, every one checked; or every error found (at most
/// [`MAX_ROW_ERRORS`]), in which case nothing may be stored.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => {
            return Err(vec![RowError::new(
                1,
                "file",
                "the file is empty; its first row must name the columns",
            )]);
        }
        Some(Err(e)) => return Err(vec![RowError::new(1, "file", e.to_string())]),
        Some(Ok(h)) => h,
    };
    let columns = header_columns(&header)?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut ids: Vec<(i64, usize)> = Vec::new();
    for (i, record) in records.enumerate() {
        let row = i + 2;
        if rows.len() >= MAX_IMPORT_ROWS {
            errors.push(RowError::new(
                row,
                "row",
                format!("a file may hold at most {MAX_IMPORT_ROWS} entries"),
            ));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError::new(row, "row", e.to_string()));
                continue;
            }
        };
        match parse_row(row, &columns, &record, &mut ids) {
            Ok(Some(r)) => rows.push(r),
            Ok(None) => {}
            Err(mut e) => errors.append(&mut e),
        }
        if errors.len() >= MAX_ROW_ERRORS {
            break;
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        errors.truncate(MAX_ROW_ERRORS);
        Err(errors)
    }
}

/// The column each header cell names, checked: known names only, each once, `question` and
/// `answer` present.
fn header_columns(header: &::csv::ByteRecord) -> Result<Vec<&'static str>, Vec<RowError>> {
    let mut columns = Vec::new();
    let mut errors = Vec::new();
    for cell in header {
        let name = String::from_utf8_lossy(cell).trim().to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == name) {
            Some(c) if columns.contains(c) => {
                errors.push(RowError::new(1, c, "the column appears twice"));
            }
            Some(c) => columns.push(*c),
            None => errors.push(RowError::new(
                1,
                "header",
                format!(
                    "{name:?} is not a column; the columns are {}",
                    COLUMNS.join(", ")
                ),
            )),
        }
    }
    for required in ["question", "answer"] {
        if !columns.contains(&required) {
            errors.push(RowError::new(1, required, "the column is missing"));
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

/// One data row; `None` when every cell is blank.
fn parse_row(
    row: usize,
    columns: &[&'static str],
    record: &::csv::ByteRecord,
    ids: &mut Vec<(i64, usize)>,
) -> Result<Option<ImportRow>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut cells: Vec<(&'static str, String)> = Vec::new();
    for (column, cell) in columns.iter().zip(record.iter()) {
        match std::str::from_utf8(cell) {
            Ok(text) if text.contains('\0') => {
                errors.push(RowError::new(
                    row,
                    column,
                    "must not contain NUL characters",
                ));
            }
            Ok(text) => cells.push((*column, text.replace("\r\n", "\n"))),
            Err(_) => errors.push(RowError::new(row, column, "is not UTF-8 text")),
        }
    }
    if !errors.is_empty() {
        // An undecodable cell says nothing more about the row.
        return Err(errors);
    }
    if cells.iter().all(|(_, v)| v.trim().is_empty()) {
        return Ok(None);
    }
    if record.len() != columns.len() {
        errors.push(RowError::new(
            row,
            "row",
            format!(
                "has {} cells; the header names {} columns",
                record.len(),
                columns.len()
            ),
        ));
    }
    let get = |c: &str| {
        cells
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let lines = |c: &str| -> Vec<String> {
        get(c)
            .split('\n')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let id = match get("id").trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(n) if n > 0 => {
                if let Some((_, first)) = ids.iter().find(|(i, _)| *i == n) {
                    errors.push(RowError::new(
                        row,
                        "id",
                        format!("entry {n} is also on row {first}"),
                    ));
                } else {
                    ids.push((n, row));
                }
                Some(n)
            }
            _ => {
                errors.push(RowError::new(
                    row,
                    "id",
                    format!("{v:?} is not an entry's id; leave it empty to add an entry"),
                ));
                None
            }
        },
    };
    let enabled = match get("enabled").trim().to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "1" => true,
        "false" | "no" | "0" => false,
        other => {
            errors.push(RowError::new(
                row,
                "enabled",
                format!("{other:?} is neither true nor false"),
            ));
            true
        }
    };
    let locale = get("locale").trim();
    let input = KnowledgeInput {
        question: get("question").to_owned(),
        alternatives: lines("alternatives"),
        answer: get("answer").to_owned(),
        locale: (!locale.is_empty()).then(|| locale.to_owned()),
        tags: lines("tags"),
        enabled: Some(enabled),
        attachment_ids: None,
    };
    let input = match input.checked() {
        Ok(i) => Some(i),
        Err(StoreError::Invalid(reason)) => {
            errors.push(RowError::new(row, field_of(&reason), reason));
            None
        }
        Err(e) => {
            errors.push(RowError::new(row, "row", e.to_string()));
            None
        }
    };
    match input {
        Some(input) if errors.is_empty() => Ok(Some(ImportRow { row, id, input })),
        _ => Err(errors),
    }
}

/// The column a [`KnowledgeInput::checked`] message is about.
pub fn field_of(reason: &str) -> &'static str {
    ["question", "alternatives", "answer", "tags", "locale"]
        .into_iter()
        .find(|f| reason.starts_with(f) || reason.starts_with(&format!("each of {f}")))
        .unwrap_or(if reason.starts_with("each tag") {
            "tags"
        } else {
            "row"
        })
}

#[cfg(test)]
#[path = "csv_tests.rs"]
mod tests;
