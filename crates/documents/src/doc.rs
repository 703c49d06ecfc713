//! A document as blocks (headings, paragraphs, tables, fields, a foot),
//! and its two renderings: a printable HTML page and plain text for the
//! terminal. The report and the dossiers build a [`Doc`]; neither writes
//! HTML or escapes text itself.

use std::fmt::Write;

use pacta_domain::{Source, Timestamp};
use pacta_store::{Head, VerifyReport};

use crate::lang::{Lang, Words, fill};

/// A piece of a cell's content.
#[derive(Clone, Debug)]
pub(crate) enum Span {
    /// Plain text.
    Text(String),
    /// An identifier or a hash, set apart.
    Code(String),
    /// A remark in smaller type.
    Small(String),
    /// A line break.
    Break,
    /// A good result.
    Good(String),
    /// A bad result, for the eye.
    Bad(String),
}

/// The content of a table cell, a field or a paragraph.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cell(pub Vec<Span>);

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell(vec![Span::Text(s.into())])
    }

    pub fn code(s: impl Into<String>) -> Cell {
        Cell(vec![Span::Code(s.into())])
    }

    pub fn push(&mut self, span: Span) -> &mut Cell {
        self.0.push(span);
        self
    }

    /// A remark on a line of its own, after what is there.
    pub fn remark(&mut self, s: impl Into<String>) -> &mut Cell {
        if !self.0.is_empty() {
            self.0.push(Span::Break);
        }
        self.0.push(Span::Small(s.into()));
        self
    }
}

/// A block of a document.
#[derive(Clone, Debug)]
pub(crate) enum Block {
    /// The document's lead paragraph.
    Lead(String),
    /// A section heading (one per home party, or per dossier).
    Section(String),
    /// A heading within a section.
    Sub(String),
    /// The heading of a list with nothing in it: one quiet line.
    Empty(String),
    /// A paragraph.
    Para(Cell),
    /// A table with a header row.
    Table {
        head: Vec<String>,
        rows: Vec<Vec<Cell>>,
    },
    /// Named values.
    Fields(Vec<(String, Cell)>),
    /// Text kept exactly as it is, line for line (a proof bundle).
    Pre(String),
}

/// What a document rests on, stated at its foot.
pub(crate) struct Basis<'a> {
    /// When it was made.
    pub made_at: Timestamp,
    /// The record time it was made as of (`None`: now).
    pub as_known_at: Option<Timestamp>,
    /// The log's head it rests on.
    pub head: Head,
    /// Whether evidence was read strictly.
    pub strict: bool,
    /// The chain verification, when the document made one.
    pub chain: Option<&'a VerifyReport>,
}

/// A document in one language.
pub(crate) struct Doc {
    pub lang: Lang,
    pub title: String,
    pub blocks: Vec<Block>,
    pub foot: Vec<Cell>,
}

impl Doc {
    pub fn new(lang: Lang, title: String) -> Doc {
        Doc {
            lang,
            title,
            blocks: Vec::new(),
            foot: Vec::new(),
        }
    }

    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    /// A sub-heading with the count, and the table when there are rows.
    pub fn listing(&mut self, title: &str, head: Vec<String>, rows: Vec<Vec<Cell>>) {
        if rows.is_empty() {
            self.push(Block::Empty(format!("{title} (0)")));
        } else {
            self.push(Block::Sub(format!("{title} ({})", rows.len())));
            self.push(Block::Table { head, rows });
        }
    }

    /// States what the document rests on, and how to check it.
    pub fn rests_on(&mut self, basis: &Basis<'_>) {
        let w = self.lang.words();
        let mut foot = Vec::new();
        if let Some(v) = basis.chain {
            foot.push(if v.ok {
                Cell(vec![Span::Good(fill(
                    w.foot_chain_ok,
                    &[&v.head_position.to_string()],
                ))])
            } else {
                Cell(vec![Span::Bad(fill(
                    w.foot_chain_bad,
                    &[
                        &v.first_bad_position.unwrap_or(0).to_string(),
                        v.reason.as_deref().unwrap_or(""),
                    ],
                ))])
            });
        }
        foot.push(Cell::text(fill(
            w.foot_made_at,
            &[&w.timestamp(basis.made_at)],
        )));
        foot.push(Cell::text(match basis.as_known_at {
            Some(t) => fill(w.foot_known_at, &[&format!("{} ({t})", w.timestamp(t))]),
            None => w.foot_known_now.to_owned(),
        }));
        let position = basis.head.position.to_string();
        let hash = basis.head.hash.to_string();
        foot.push(spans_of(
            w.foot_head,
            [Span::Text(position.clone()), Span::Code(hash.clone())],
        ));
        foot.push(Cell::text(if basis.strict {
            w.foot_strict
        } else {
            w.foot_presumed
        }));
        foot.push(spans_of(
            w.foot_verify,
            [
                Span::Code("pacta verify --digest DIGEST.json".to_owned()),
                Span::Code(format!(
                    "GET /api/v1/audit/verify?position={position}&hash={hash}"
                )),
            ],
        ));
        self.foot = foot;
    }

    /// The printable page: plain HTML and a little CSS, for paper and for
    /// screens from a phone's width up.
    pub fn html(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{}</title><style>{STYLE}</style></head>\n<body>\n<h1>{}</h1>\n",
            self.lang.code(),
            esc(&self.title),
            esc(&self.title)
        );
        for block in &self.blocks {
            match block {
                Block::Lead(t) => {
                    let _ = writeln!(out, "<p class=\"lead\">{}</p>", esc(t));
                }
                Block::Section(t) => {
                    let _ = writeln!(out, "<h2>{}</h2>", esc(t));
                }
                Block::Sub(t) => {
                    let _ = writeln!(out, "<h3>{}</h3>", esc(t));
                }
                Block::Empty(t) => {
                    let _ = writeln!(out, "<h3 class=\"empty\">{}</h3>", esc(t));
                }
                Block::Para(c) => {
                    let _ = writeln!(out, "<p>{}</p>", cell_html(c));
                }
                Block::Table { head, rows } => {
                    out.push_str("<div class=\"scroll\"><table><thead><tr>");
                    for h in head {
                        let _ = write!(out, "<th>{}</th>", esc(h));
                    }
                    out.push_str("</tr></thead><tbody>\n");
                    for row in rows {
                        out.push_str("<tr>");
                        for (c, h) in row.iter().zip(head) {
                            let _ =
                                write!(out, "<td data-label=\"{}\">{}</td>", esc(h), cell_html(c));
                        }
                        out.push_str("</tr>\n");
                    }
                    out.push_str("</tbody></table></div>\n");
                }
                Block::Pre(t) => {
                    let _ = writeln!(out, "<pre>{}</pre>", esc(t));
                }
                Block::Fields(fields) => {
                    out.push_str("<dl>");
                    for (k, v) in fields {
                        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), cell_html(v));
                    }
                    out.push_str("</dl>\n");
                }
            }
        }
        if !self.foot.is_empty() {
            let _ = write!(
                out,
                "<footer><h2>{}</h2>",
                esc(self.lang.words().foot_title)
            );
            for c in &self.foot {
                let _ = write!(out, "<p>{}</p>", cell_html(c));
            }
            out.push_str("</footer>\n");
        }
        out.push_str("</body></html>\n");
        out
    }

    /// Plain text for a terminal: headings underlined or bracketed, a
    /// table's rows one a line with ` | ` between cells.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title);
        let _ = writeln!(out, "{}", "=".repeat(self.title.chars().count()));
        for block in &self.blocks {
            match block {
                Block::Lead(t) => {
                    let _ = writeln!(out, "{t}");
                }
                Block::Section(t) => {
                    let _ = writeln!(out, "\n== {t} ==");
                }
                Block::Sub(t) | Block::Empty(t) => {
                    let _ = writeln!(out, "\n-- {t} --");
                }
                Block::Para(c) => {
                    let _ = writeln!(out, "{}", cell_text(c));
                }
                Block::Table { head, rows } => {
                    let _ = writeln!(out, "  [{}]", head.join(" | "));
                    for row in rows {
                        let cells: Vec<String> = row.iter().map(cell_text).collect();
                        let _ = writeln!(out, "  {}", cells.join(" | "));
                    }
                }
                Block::Fields(fields) => {
                    for (k, v) in fields {
                        let _ = writeln!(out, "  {k}: {}", cell_text(v));
                    }
                }
                Block::Pre(t) => {
                    out.push_str(t);
                    if !t.ends_with('\n') {
                        out.push('\n');
                    }
                }
            }
        }
        if !self.foot.is_empty() {
            let _ = writeln!(out, "\n-- {} --", self.lang.words().foot_title);
            for c in &self.foot {
                let _ = writeln!(out, "{}", cell_text(c));
            }
        }
        out
    }
}

/// A template whose `{}` are filled with spans (a hash set apart as code).
fn spans_of<const N: usize>(template: &str, args: [Span; N]) -> Cell {
    let mut cell = Cell::default();
    let mut rest = template;
    for arg in args {
        let Some(i) = rest.find("{}") else { break };
        cell.push(Span::Text(rest[..i].to_owned()));
        cell.push(arg);
        rest = &rest[i + 2..];
    }
    cell.push(Span::Text(rest.to_owned()));
    cell
}

/// A citation: the document's title, reference, date (in words), where in
/// it, and where to read it.
pub(crate) fn citation(w: &Words, source: Option<&Source>) -> Cell {
    let Some(s) = source else {
        return Cell::text("—");
    };
    let mut out = s.title.clone();
    if let Some(r) = &s.reference {
        let _ = write!(out, ", {r}");
    }
    if let Some(d) = &s.date {
        let _ = write!(out, " ({})", w.date(d));
    }
    if let Some(l) = &s.locator {
        out.push_str(&fill(w.cite_at, &[l]));
    }
    let mut cell = Cell::text(out);
    if let Some(u) = &s.url {
        cell.push(Span::Text(", ".to_owned()));
        cell.push(Span::Code(u.clone()));
    }
    cell
}

/// Escapes text for HTML: the one place documents escape.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn cell_html(c: &Cell) -> String {
    let mut out = String::new();
    for span in &c.0 {
        match span {
            Span::Text(t) => out.push_str(&esc(t)),
            Span::Code(t) => {
                let _ = write!(out, "<code>{}</code>", esc(t));
            }
            Span::Small(t) => {
                let _ = write!(out, "<small>{}</small>", esc(t));
            }
            Span::Break => out.push_str("<br>"),
            Span::Good(t) => {
                let _ = write!(out, "<span class=\"ok\">{}</span>", esc(t));
            }
            Span::Bad(t) => {
                let _ = write!(out, "<span class=\"bad\">{}</span>", esc(t));
            }
        }
    }
    out
}

fn cell_text(c: &Cell) -> String {
    let mut out = String::new();
    for span in &c.0 {
        match span {
            Span::Text(t) | Span::Code(t) | Span::Good(t) | Span::Bad(t) => out.push_str(t),
            Span::Small(t) => {
                let _ = write!(out, "({t})");
            }
            Span::Break => out.push(' '),
        }
    }
    out
}

/// Paper first: serif type, ruled tables; on a narrow screen each table
/// row becomes a card whose cells carry their column's name, and fields
/// stack.
const STYLE: &str = "body{font-family:Georgia,'Times New Roman',serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.4}\
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:1px solid #999}h3{font-size:1rem;margin-top:1.5rem}\
.lead{font-style:italic}.empty{font-weight:normal;color:#555;margin:.5rem 0}\
.scroll{overflow-x:auto}\
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0 1rem}\
th,td{border:1px solid #bbb;padding:.25rem .4rem;text-align:left;vertical-align:top}\
th{background:#eee}code{font-size:.8rem;word-break:break-all}small{color:#444}\
dl{display:grid;grid-template-columns:14rem 1fr;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}\
footer{margin-top:3rem;border-top:2px solid #111;padding-top:.5rem;font-size:.85rem}footer h2{border:0;margin-top:.5rem}\
.ok{color:#060}.bad{color:#a00;font-weight:bold}\
pre{font-size:.7rem;white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:.5rem;border:1px solid #ddd}\
@media (max-width:40rem){body{margin:1rem auto}dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}\
table,tbody,tr,td{display:block;width:auto}thead{display:none}tr{border:1px solid #bbb;margin-bottom:.6rem}\
td{border:0;border-bottom:1px solid #eee}td::before{content:attr(data-label);display:block;font-weight:bold;font-size:.75rem;color:#555}}\
@media print{body{margin:0;max-width:none}.scroll{overflow:visible}tr{page-break-inside:avoid}}";

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded text is data: markup in a note or a title is shown, never
    /// obeyed, and the text rendering keeps it as written.
    #[test]
    fn text_from_the_record_is_escaped_once() {
        let mut doc = Doc::new(Lang::En, "A <title> & more".to_owned());
        let mut cell = Cell::text("<script>alert('x')</script>");
        cell.remark("\"quoted\" & <b>");
        doc.push(Block::Table {
            head: vec!["Col <1>".to_owned()],
            rows: vec![vec![cell]],
        });
        let html = doc.html();
        assert!(html.contains("<title>A &lt;title&gt; &amp; more</title>"));
        assert!(html.contains(
            "<td data-label=\"Col &lt;1&gt;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\
             <br><small>&quot;quoted&quot; &amp; &lt;b&gt;</small></td>"
        ));
        assert!(!html.contains("<script>"));
        let text = doc.text();
        assert!(text.contains("<script>alert('x')</script> (\"quoted\" & <b>)"));
    }

    #[test]
    fn the_foot_names_the_head_and_how_to_verify_it() {
        let mut doc = Doc::new(Lang::Cs, "x".to_owned());
        let head = Head {
            position: 221,
            hash: pacta_domain::Digest::parse(&"ab".repeat(32)).unwrap(),
        };
        doc.rests_on(&Basis {
            made_at: Timestamp::parse("2026-01-02T03:04:05Z").unwrap(),
            as_known_at: None,
            head,
            strict: true,
            chain: None,
        });
        let text = doc.text();
        for needle in [
            "Vytvořeno 2. ledna 2026 v 03:04:05 UTC.",
            "Podle stavu záznamů v okamžiku vytvoření.",
            &format!("pozice 221, haš {}", "ab".repeat(32)),
            "Doklady čteny přísně",
            &format!(
                "GET /api/v1/audit/verify?position=221&hash={}",
                "ab".repeat(32)
            ),
        ] {
            assert!(text.contains(needle), "{needle:?} in\n{text}");
        }
    }
}
