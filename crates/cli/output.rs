//! Printing answers: aligned tables for people, JSON for programs.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::value::RawValue;

/// How listings and views are printed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// The same JSON the HTTP API answers.
    Json,
}

/// How views are printed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum ViewFormat {
    /// Aligned columns, one per field of a row.
    Table,
    /// The same JSON the HTTP API answers.
    Json,
    /// CSV with a header row (RFC 4180).
    Csv,
}

/// How documents (dossiers, reports) are printed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum DocFormat {
    /// The document as plain text, in the language of `--lang`.
    Table,
    /// The same JSON the HTTP API answers.
    Json,
    /// A printable HTML page (the API's `Accept: text/html`), in the
    /// language of `--lang`.
    Html,
}

/// Prints a value as pretty JSON.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// A table: a header row and rows of cells, printed with aligned columns.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Prints it; the last column is not padded.
    pub fn print(&self) -> io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(cell.chars().count());
                }
            }
        }
        let mut out = io::stdout().lock();
        let line = |out: &mut io::StdoutLock<'_>, cells: &[String]| -> io::Result<()> {
            let last = cells.len().saturating_sub(1);
            for (i, cell) in cells.iter().enumerate() {
                if i == last {
                    write!(out, "{cell}")?;
                } else {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    write!(out, "{cell}{}  ", " ".repeat(pad))?;
                }
            }
            writeln!(out)
        };
        line(&mut out, &self.header)?;
        for row in &self.rows {
            line(&mut out, row)?;
        }
        Ok(())
    }
}

/// An optional value as a cell.
pub fn cell<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

/// A row of a view as its fields, in the order its type declares them
/// (a JSON object read without sorting its keys).
fn fields(row: &RawValue) -> anyhow::Result<Vec<(String, String)>> {
    struct Fields;
    impl<'de> serde::de::Visitor<'de> for Fields {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a row: a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut fields = Vec::new();
            while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                let cell = match value {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                fields.push((key, cell));
            }
            Ok(fields)
        }
    }
    use serde::Deserializer;
    Ok(serde_json::Deserializer::from_str(row.get()).deserialize_map(Fields)?)
}

/// The header and cells of a view's rows (the header of its first row).
fn columns(rows: &[Box<RawValue>]) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>)> {
    let rows: Vec<Vec<(String, String)>> =
        rows.iter().map(|r| fields(r)).collect::<Result<_, _>>()?;
    let header: Vec<String> = rows
        .first()
        .map(|r| r.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let cells = rows
        .into_iter()
        .map(|r| r.into_iter().map(|(_, v)| v).collect())
        .collect();
    Ok((header, cells))
}

/// A view's rows as a table, its columns named after the fields.
pub fn rows_table(rows: &[Box<RawValue>]) -> anyhow::Result<Table> {
    let (header, cells) = columns(rows)?;
    let upper: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
    let mut table = Table::new(&upper.iter().map(String::as_str).collect::<Vec<_>>());
    for row in cells {
        table.row(row);
    }
    Ok(table)
}

/// Prints a view's rows as CSV with a header row.
pub fn rows_csv(rows: &[Box<RawValue>]) -> anyhow::Result<()> {
    let (header, cells) = columns(rows)?;
    let mut out = csv::Writer::from_writer(io::stdout().lock());
    if !header.is_empty() {
        out.write_record(&header)?;
    }
    for row in cells {
        out.write_record(&row)?;
    }
    out.flush()?;
    Ok(())
}
