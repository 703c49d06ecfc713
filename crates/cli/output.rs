//! Printing answers: aligned tables for people, JSON for programs.

use std::io::{self, Write};

use serde::Serialize;

/// How listings and views are printed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// The same JSON the HTTP API answers.
    Json,
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
