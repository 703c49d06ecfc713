//! The annual report for a regional assembly, laid out as such a paper
//! is: for each home region, its partners at a glance (what was in force
//! on 1 January and on 31 December, what happened during the year), then
//! the lists — in force at the start and the end, signed, active,
//! stagnating, suspended, revived, ended, offers, and what possibly
//! happened in the year — each line citing its source; at the foot, what
//! the report rests on.

use std::collections::BTreeMap;

use pacta_domain::{InForce, Instrument};
use pacta_registry::report::{AnnualReport, EventLine, InForceLine, Section};

use crate::describe::{PartyNames, date_cell, instrument, what, what_cell};
use crate::doc::{Basis, Block, Cell, Doc, citation};
use crate::lang::{Lang, Words, fill};

/// The report as a printable HTML page.
pub fn html(report: &AnnualReport, lang: Lang, names: &PartyNames) -> String {
    document(report, lang, names).html()
}

/// The report as plain text.
pub fn text(report: &AnnualReport, lang: Lang, names: &PartyNames) -> String {
    document(report, lang, names).text()
}

fn document(r: &AnnualReport, lang: Lang, names: &PartyNames) -> Doc {
    let w = lang.words();
    let year = r.year.to_string();
    let mut doc = Doc::new(lang, fill(w.report_title, &[&year]));
    doc.push(Block::Lead(w.report_lead.to_owned()));
    for s in &r.sections {
        let home = s
            .home
            .as_ref()
            .map_or_else(|| "—".to_owned(), |h| names.name(lang, h));
        doc.push(Block::Section(home));
        overview(&mut doc, w, s, &year, lang, names);
        let in_force = [
            (w.report_in_force_start, &s.in_force_start),
            (w.report_uncertain_start, &s.uncertain_start),
            (w.report_in_force_end, &s.in_force_end),
            (w.report_uncertain_end, &s.uncertain_end),
        ];
        for (title, lines) in in_force {
            in_force_table(&mut doc, &fill(title, &[&year]), lines, lang, names);
        }
        let events = [
            (w.report_signed.to_owned(), &s.signed),
            (w.report_activities.to_owned(), &s.activities),
            (w.report_stagnated.to_owned(), &s.stagnated),
            (w.report_suspended.to_owned(), &s.suspended),
            (w.report_revived.to_owned(), &s.revived),
            (w.report_terminated.to_owned(), &s.terminated),
            (w.report_offers.to_owned(), &s.offers),
            (fill(w.report_possibly, &[&year]), &s.possibly),
        ];
        for (title, lines) in events {
            event_table(&mut doc, &title, lines, lang, names);
        }
    }
    if r.sections.is_empty() {
        doc.push(Block::Para(Cell::text(w.report_empty)));
    }
    doc.rests_on(&Basis {
        made_at: r.made_at,
        as_known_at: r.as_known_at,
        head: r.head,
        strict: r.strict,
        chain: None,
    });
    doc
}

/// One row per partnership of the section (offers apart): its partner,
/// instrument, in force at both ends of the year and what happened in it.
fn overview(doc: &mut Doc, w: &Words, s: &Section, year: &str, lang: Lang, names: &PartyNames) {
    #[derive(Default)]
    struct Row {
        partner: String,
        instrument: Option<Instrument>,
        start: Option<InForce>,
        end: Option<InForce>,
        during: Vec<String>,
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    fn row<'a>(rows: &'a mut BTreeMap<String, Row>, id: &str, partner: String) -> &'a mut Row {
        let r = rows.entry(id.to_owned()).or_default();
        r.partner = partner;
        r
    }
    for (lines, start) in [
        (&s.in_force_start, true),
        (&s.uncertain_start, true),
        (&s.in_force_end, false),
        (&s.uncertain_end, false),
    ] {
        for l in lines {
            let r = row(&mut rows, l.id.as_str(), names.name(lang, &l.partner));
            if start {
                r.start = Some(l.in_force);
            } else {
                r.end = Some(l.in_force);
            }
            r.instrument = r
                .instrument
                .or_else(|| l.basis.as_ref().and_then(instrument));
        }
    }
    for (lines, possibly) in [
        (&s.signed, false),
        (&s.activities, false),
        (&s.stagnated, false),
        (&s.suspended, false),
        (&s.revived, false),
        (&s.terminated, false),
        (&s.possibly, true),
    ] {
        for l in lines {
            let r = row(&mut rows, l.id.as_str(), names.name(lang, &l.partner));
            r.instrument = r.instrument.or_else(|| instrument(&l.event));
            let line = format!(
                "{} ({})",
                what(w, &l.event),
                w.date_or_undated(l.event.date.as_ref())
            );
            r.during.push(if possibly {
                fill(w.report_maybe, &[&line])
            } else {
                line
            });
        }
    }
    if rows.is_empty() {
        return;
    }
    let mut rows: Vec<Row> = rows.into_values().collect();
    rows.sort_by(|a, b| a.partner.cmp(&b.partner));
    let in_force = |f: Option<InForce>| (w.in_force)(f.unwrap_or(InForce::No)).to_owned();
    doc.push(Block::Sub(w.report_overview.to_owned()));
    doc.push(Block::Table {
        head: vec![
            w.col_partner.to_owned(),
            w.col_instrument.to_owned(),
            fill(w.report_col_start, &[year]),
            fill(w.report_col_end, &[year]),
            w.report_col_year.to_owned(),
        ],
        rows: rows
            .into_iter()
            .map(|r| {
                vec![
                    Cell::text(r.partner),
                    Cell::text(r.instrument.map_or("—", w.instrument)),
                    Cell::text(in_force(r.start)),
                    Cell::text(in_force(r.end)),
                    Cell::text(if r.during.is_empty() {
                        "—".to_owned()
                    } else {
                        r.during.join("; ")
                    }),
                ]
            })
            .collect(),
    });
}

fn in_force_table(
    doc: &mut Doc,
    title: &str,
    lines: &[InForceLine],
    lang: Lang,
    names: &PartyNames,
) {
    let w = lang.words();
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                Cell::text(names.name(lang, &l.partner)),
                Cell::text((w.in_force)(l.in_force)),
                Cell::text(
                    l.basis
                        .as_ref()
                        .and_then(instrument)
                        .map_or("—", w.instrument),
                ),
                l.basis
                    .as_ref()
                    .map_or_else(|| Cell::text("—"), |b| date_cell(w, b)),
                citation(
                    w,
                    l.basis
                        .as_ref()
                        .and_then(|b| b.record.event.source.as_ref()),
                ),
            ]
        })
        .collect();
    doc.listing(
        title,
        vec![
            w.col_partner.to_owned(),
            w.col_in_force.to_owned(),
            w.col_instrument.to_owned(),
            w.col_since.to_owned(),
            w.col_source.to_owned(),
        ],
        rows,
    );
}

fn event_table(doc: &mut Doc, title: &str, lines: &[EventLine], lang: Lang, names: &PartyNames) {
    let w = lang.words();
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                Cell::text(names.name(lang, &l.partner)),
                date_cell(w, &l.event),
                what_cell(w, &l.event),
                citation(w, l.event.record.event.source.as_ref()),
            ]
        })
        .collect();
    doc.listing(
        title,
        vec![
            w.col_partner.to_owned(),
            w.col_date.to_owned(),
            w.col_what.to_owned(),
            w.col_source.to_owned(),
        ],
        rows,
    );
}
