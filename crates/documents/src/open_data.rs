//! Open data: the partnerships in force on a day and the log's events as
//! CSV (UTF-8, RFC 4180: a header row, fields quoted where they hold a
//! comma, a quote or a line break, CRLF line ends), each table described
//! by a W3C CSV on the Web (CSVW) metadata document whose columns carry
//! Czech and English titles, a datatype and a description.
//!
//! Values are the registry's wire values, not words: `in_force` is `yes`,
//! `no` or `uncertain`, an instrument `cooperation_agreement`, a date the
//! partial date as the source gave it (EDTF, `2011-40`, `[2009-04-22..]`),
//! so that the CSV answers what the JSON answers, field for field.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use pacta_domain::{Recorded, Span, Timestamp};
use pacta_registry::query::ListRow;
use pacta_registry::{CommandError, Registry};

use crate::describe::PartyNames;

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The output could not be written (a closed pipe, a full disk).
    #[error("cannot write the table")]
    Io(#[source] std::io::Error),
    /// The CSV writer refused a record.
    #[error(transparent)]
    Csv(csv::Error),
    /// The registry could not answer.
    #[error(transparent)]
    Registry(#[from] CommandError),
}

impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Error {
        if !e.is_io_error() {
            return Error::Csv(e);
        }
        match e.into_kind() {
            csv::ErrorKind::Io(io) => Error::Io(io),
            other => Error::Csv(csv::Error::from(std::io::Error::other(format!(
                "{other:?}"
            )))),
        }
    }
}

/// One column of a table.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// Its name: the header cell, and the CSVW `name`.
    pub name: &'static str,
    /// Its title in Czech.
    pub title_cs: &'static str,
    /// Its title in English.
    pub title_en: &'static str,
    /// Its CSVW datatype (`string`, `integer`, `date`, `dateTime`, `json`).
    pub datatype: &'static str,
    /// Whether every row has a value.
    pub required: bool,
    /// What it holds.
    pub description: &'static str,
}

const fn column(
    name: &'static str,
    title_cs: &'static str,
    title_en: &'static str,
    datatype: &'static str,
    required: bool,
    description: &'static str,
) -> Column {
    Column {
        name,
        title_cs,
        title_en,
        datatype,
        required,
        description,
    }
}

/// The tables Pacta publishes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Table {
    /// The partnerships in force (`yes` or `uncertain`) on a day, one row
    /// each.
    Partnerships,
    /// The log's events, one row each, in log order.
    Events,
}

impl Table {
    /// Both tables.
    pub const ALL: [Table; 2] = [Table::Partnerships, Table::Events];

    /// Its name: `partnerships` or `events`.
    pub fn name(self) -> &'static str {
        match self {
            Table::Partnerships => "partnerships",
            Table::Events => "events",
        }
    }

    /// Its columns, in order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Partnerships => PARTNERSHIP_COLUMNS,
            Table::Events => EVENT_COLUMNS,
        }
    }

    /// The CSVW metadata document describing the table found at `url`
    /// (relative to the metadata's own location, as CSVW resolves it).
    pub fn metadata(self, url: &str) -> serde_json::Value {
        use serde_json::json;
        let columns: Vec<serde_json::Value> = self
            .columns()
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "titles": {"cs": c.title_cs, "en": c.title_en},
                    "datatype": c.datatype,
                    "required": c.required,
                    "dc:description": c.description,
                })
            })
            .collect();
        let (title_cs, title_en, description, key) = match self {
            Table::Partnerships => (
                "Mezinárodní partnerství českých krajů a obcí platná k danému dni",
                "International partnerships of Czech regions and towns in force on a day",
                "One row per partnership listed for the days from valid_from to valid_to (by \
                 default those in force, yes or uncertain, on some of them), as the Pacta \
                 registry knew it: its parties, instrument, status, in force, evidence and dates \
                 at the precision of their sources (EDTF).",
                json!(["valid_from", "valid_to", "id"]),
            ),
            Table::Events => (
                "Události registru mezinárodních partnerství",
                "Events of the registry of international partnerships",
                "One row per event of the Pacta registry's append-only log, in log order: what \
                 happened, when (EDTF), who recorded it and when, its source and its hash in \
                 the chain.",
                json!("position"),
            ),
        };
        json!({
            "@context": "http://www.w3.org/ns/csvw",
            "url": url,
            "dc:title": [
                {"@value": title_cs, "@language": "cs"},
                {"@value": title_en, "@language": "en"},
            ],
            "dc:description": description,
            "dc:publisher": "Pacta",
            "dc:license": "https://creativecommons.org/publicdomain/zero/1.0/",
            "dialect": {
                "encoding": "utf-8",
                "header": true,
                "delimiter": ",",
                "doubleQuote": true,
                "lineTerminators": ["\r\n"],
            },
            "tableSchema": {
                "columns": columns,
                "primaryKey": key,
            },
        })
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Table {
    type Err = String;

    /// `partnerships` or `events`.
    fn from_str(s: &str) -> Result<Table, String> {
        Table::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| format!("unknown table {s:?} (expected partnerships or events)"))
    }
}

const PARTNERSHIP_COLUMNS: &[Column] = &[
    column(
        "valid_from",
        "Od dne",
        "From day",
        "date",
        true,
        "The first day the row answers for (YYYY-MM-DD).",
    ),
    column(
        "valid_to",
        "Do dne",
        "To day",
        "date",
        true,
        "The last day the row answers for (YYYY-MM-DD); the same as valid_from for one day.",
    ),
    column(
        "id",
        "Partnerství",
        "Partnership",
        "string",
        true,
        "The partnership's id in the registry.",
    ),
    column(
        "home_id",
        "Domácí strana (id)",
        "Home party (id)",
        "string",
        true,
        "The Czech side's id.",
    ),
    column(
        "home_name",
        "Domácí strana",
        "Home party",
        "string",
        true,
        "The Czech side's name (English where the registry has one).",
    ),
    column(
        "partner_id",
        "Partner (id)",
        "Partner (id)",
        "string",
        true,
        "The partner's id.",
    ),
    column(
        "partner_name",
        "Partner",
        "Partner",
        "string",
        true,
        "The partner's name (English where the registry has one).",
    ),
    column(
        "partner_country",
        "Země partnera",
        "Partner's country",
        "string",
        false,
        "The partner's country, ISO 3166-1 alpha-2.",
    ),
    column(
        "instrument",
        "Dokument",
        "Instrument",
        "string",
        false,
        "The founding document on the day: memorandum_of_friendship, \
         memorandum_of_understanding, cooperation_agreement, declaration_of_cooperation, \
         partnership_contract or official_relations.",
    ),
    column(
        "status",
        "Stav",
        "Status",
        "string",
        true,
        "Status on the day: proposed, negotiating, active, stagnating, suspended or terminated.",
    ),
    column(
        "in_force",
        "Platnost",
        "In force",
        "string",
        true,
        "In force on the days: yes (on all of them), no (on none) or uncertain (on some, or \
         perhaps: a day lies within the precision of a source's date, or, read strictly, no \
         fact reaching the day supports it).",
    ),
    column(
        "in_force_over",
        "Platnost v období",
        "In force over the days",
        "string",
        true,
        "In force over the days: throughout, sometime (certainly on some day, not certainly on \
         all), never or uncertain.",
    ),
    column(
        "evidence",
        "Doložení",
        "Evidence",
        "string",
        false,
        "When in force is yes: evidenced (a fact dated on or after the day shows it alive) or \
         presumed (no end recorded, but its last evidence is older).",
    ),
    column(
        "signed",
        "Podepsáno",
        "Signed",
        "string",
        false,
        "The signing's date (or, without one, the earliest attestation's), as the source gave \
         it (EDTF: 2001, 2008-05, 2011-40, [2001-11-28..]).",
    ),
    column(
        "terminated",
        "Ukončeno",
        "Terminated",
        "string",
        false,
        "The date of the act that ended it (EDTF), where one is recorded.",
    ),
    column(
        "last_evidence",
        "Poslední doklad",
        "Last evidence",
        "string",
        false,
        "The date of the latest fact that shows it alive (EDTF).",
    ),
];

const EVENT_COLUMNS: &[Column] = &[
    column(
        "position",
        "Pozice",
        "Position",
        "integer",
        true,
        "The event's position in the log, from 1.",
    ),
    column(
        "event_id",
        "Identifikátor události",
        "Event id",
        "string",
        true,
        "The event's id (ULID).",
    ),
    column(
        "stream",
        "Proud",
        "Stream",
        "string",
        true,
        "What the event belongs to, as kind/id: party/…, partnership/…, offer/….",
    ),
    column(
        "type",
        "Typ",
        "Type",
        "string",
        true,
        "The event type in PascalCase, e.g. Signed, ActivityRecorded, Terminated.",
    ),
    column(
        "date",
        "Datum",
        "Date",
        "string",
        false,
        "When it happened, as the source gave it (EDTF), as first recorded (a later \
         Corrected event may change it).",
    ),
    column(
        "recorded_at",
        "Zaznamenáno",
        "Recorded at",
        "dateTime",
        true,
        "When the registry learned it (UTC).",
    ),
    column(
        "recorded_by",
        "Zaznamenal",
        "Recorded by",
        "string",
        true,
        "The token name (or system loader) that recorded it.",
    ),
    column(
        "source_title",
        "Zdroj",
        "Source",
        "string",
        false,
        "The title of the document the fact comes from.",
    ),
    column(
        "source_reference",
        "Označení zdroje",
        "Source reference",
        "string",
        false,
        "The document's reference: a file name, a resolution number.",
    ),
    column(
        "source_locator",
        "Místo ve zdroji",
        "Source locator",
        "string",
        false,
        "Where in the document the fact stands: a section, a paragraph, a notice's date.",
    ),
    column(
        "source_url",
        "Adresa zdroje",
        "Source URL",
        "string",
        false,
        "Where the document can be read.",
    ),
    column(
        "source_date",
        "Datum zdroje",
        "Source date",
        "string",
        false,
        "The source's own date (EDTF).",
    ),
    column(
        "note",
        "Poznámka",
        "Note",
        "string",
        false,
        "The recorder's note.",
    ),
    column(
        "data",
        "Data",
        "Data",
        "json",
        true,
        "The event's data as JSON (instrument, mode, reason, …).",
    ),
    column(
        "hash",
        "Haš",
        "Hash",
        "string",
        true,
        "The record's SHA-256 in the hash chain (64 hex digits).",
    ),
];

/// A CSV writer as Pacta writes CSV: RFC 4180 with CRLF line ends, the
/// table's header row first.
fn writer<W: Write>(out: W, table: Table) -> Result<csv::Writer<W>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(table.columns().iter().map(|c| c.name))?;
    Ok(w)
}

/// The partnerships of a listing on the days of `span` (as known at
/// `as_known_at`), one row each, with the dates of their signing,
/// termination and last evidence (as of the span's last day); in force
/// read strictly or not, as the JSON listing reads it.
pub fn partnerships(
    registry: &Registry,
    rows: &[ListRow],
    span: Span,
    as_known_at: Option<Timestamp>,
    strict: bool,
) -> Result<Vec<u8>, Error> {
    let parties = PartyNames::of(registry);
    let mut w = writer(Vec::new(), Table::Partnerships)?;
    let (from, to) = (span.from().to_string(), span.to().to_string());
    for r in rows {
        let detail = registry.partnership(r.id.as_str(), span.to(), as_known_at)?;
        let date_of = |v: Option<&pacta_registry::query::EventView>| {
            v.and_then(|v| v.date)
                .map(|d| d.to_string())
                .unwrap_or_default()
        };
        let (signed, terminated, last_evidence) = match &detail {
            Some(d) => (
                date_of(d.signed.as_ref()),
                date_of(d.terminated.as_ref()),
                date_of(d.last_evidence.as_ref()),
            ),
            None => Default::default(),
        };
        w.write_record([
            from.as_str(),
            to.as_str(),
            r.id.as_str(),
            r.home.id.as_str(),
            &r.home.name,
            r.partner.id.as_str(),
            &r.partner.name,
            parties.country(&r.partner.id).unwrap_or(""),
            r.instrument.map_or("", |i| i.as_str()),
            r.status.as_str(),
            r.in_force_read(strict).as_str(),
            &r.over_read(strict).to_string(),
            r.evidence.map_or("", |e| e.as_str()),
            &signed,
            &terminated,
            &last_evidence,
        ])?;
    }
    Ok(w.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?)
}

/// The events table written row by row (an export of the whole log does
/// not hold it in memory).
pub struct EventsCsv<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> EventsCsv<W> {
    /// Starts the table: writes its header row.
    pub fn new(out: W) -> Result<EventsCsv<W>, Error> {
        Ok(EventsCsv {
            w: writer(out, Table::Events)?,
        })
    }

    /// Writes one record as a row.
    pub fn row(&mut self, r: &Recorded) -> Result<(), Error> {
        let source = r.event.source.as_ref();
        let text = |f: fn(&pacta_domain::Source) -> Option<&String>| {
            source.and_then(f).map_or("", String::as_str)
        };
        self.w.write_record([
            r.envelope.position.to_string().as_str(),
            &r.envelope.event_id.to_string(),
            &r.envelope.stream.to_string(),
            r.event.event_type().as_str(),
            &r.event.date.map(|d| d.to_string()).unwrap_or_default(),
            &r.envelope.recorded_at.to_string(),
            &r.envelope.recorded_by,
            source.map_or("", |s| s.title.as_str()),
            text(|s| s.reference.as_ref()),
            text(|s| s.locator.as_ref()),
            text(|s| s.url.as_ref()),
            &source
                .and_then(|s| s.date)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            r.event.note.as_deref().unwrap_or(""),
            &r.event.payload.to_value().to_string(),
            &r.hash.to_string(),
        ])?;
        Ok(())
    }

    /// Ends the table and gives the output back, flushed.
    pub fn finish(self) -> Result<W, Error> {
        self.w.into_inner().map_err(|e| Error::Io(e.into_error()))
    }
}

/// The events of `records` as a CSV table.
pub fn events(records: &[Recorded]) -> Result<Vec<u8>, Error> {
    let mut t = EventsCsv::new(Vec::new())?;
    for r in records {
        t.row(r)?;
    }
    t.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_describes_every_column_in_both_languages() {
        for table in Table::ALL {
            let m = table.metadata("x.csv");
            assert_eq!(m["@context"], "http://www.w3.org/ns/csvw");
            assert_eq!(m["url"], "x.csv");
            let columns = m["tableSchema"]["columns"].as_array().unwrap();
            assert_eq!(columns.len(), table.columns().len());
            for c in columns {
                assert!(c["titles"]["cs"].is_string() && c["titles"]["en"].is_string());
                assert!(c["dc:description"].as_str().is_some_and(|d| !d.is_empty()));
                assert!(c["datatype"].is_string());
            }
            assert_eq!(table.name().parse::<Table>(), Ok(table));
        }
    }
}
