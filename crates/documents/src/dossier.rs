//! Termination dossiers for lawyers and auditors: for each terminated
//! partnership, when and how it ended (the act, when it takes effect and
//! on what basis), what its being in force before the end rests on, who
//! decided and recorded it, on what evidence, what preceded it and every
//! correction; at the foot, the hash chain verified to the head and how
//! to check it again later.

use pacta_registry::audit::{BeforeEnd, Dossier, Dossiers, EffectiveBasis};
use pacta_registry::query::EventView;

use crate::describe::{
    self, PartyNames, amendments, date_cell, hash_cell, recorded_cell, what, what_cell,
};
use crate::doc::{Basis, Block, Cell, Doc, Span, citation};
use crate::lang::{Lang, Words, fill};

/// The dossiers as a printable HTML page.
pub fn html(dossiers: &Dossiers, lang: Lang, names: &PartyNames) -> String {
    document(dossiers, lang, names).html()
}

/// The dossiers as plain text.
pub fn text(dossiers: &Dossiers, lang: Lang, names: &PartyNames) -> String {
    document(dossiers, lang, names).text()
}

/// What in force before the end rests on, in words.
pub fn before_end(w: &Words, b: &BeforeEnd) -> String {
    let mut parts = Vec::new();
    match (&b.last_evidence, b.unevidenced) {
        (None, _) => parts.push(w.before_no_evidence.to_owned()),
        (Some(_), Some((first, last))) => parts.push(fill(
            if b.strict {
                w.before_strict
            } else {
                w.before_presumed
            },
            &[&(w.day)(first), &(w.day)(last)],
        )),
        (Some(_), None) if b.ending_window.is_none() => parts.push(w.before_reaches.to_owned()),
        (Some(_), None) => {}
    }
    if let Some((from, to)) = b.ending_window {
        let side = |d: Option<pacta_domain::Day>| {
            d.map_or_else(|| w.before_unknown_day.to_owned(), |d| (w.day)(d))
        };
        parts.push(fill(w.before_window, &[&side(from), &side(to)]));
    }
    parts.join("; ")
}

fn document(d: &Dossiers, lang: Lang, names: &PartyNames) -> Doc {
    let w = lang.words();
    let mut doc = Doc::new(lang, w.dossier_title.to_owned());
    doc.push(Block::Lead(w.dossier_lead.to_owned()));
    for x in &d.dossiers {
        dossier(&mut doc, w, x, lang, names);
    }
    if d.dossiers.is_empty() {
        doc.push(Block::Para(Cell::text(w.dossier_empty)));
    }
    if let Some(proofs) = &d.proofs {
        doc.push(Block::Section(w.proofs_title.to_owned()));
        doc.push(Block::Para(Cell::text(fill(
            w.proofs_lead,
            &[&proofs.checkpoint.size.to_string()],
        ))));
        for (position, bundle) in &proofs.bundles {
            doc.push(Block::Sub(fill(w.proof_of, &[&position.to_string()])));
            doc.push(Block::Pre(bundle.clone()));
        }
    }
    doc.rests_on(&Basis {
        made_at: d.made_at,
        as_known_at: None,
        head: d.head,
        strict: d.strict,
        chain: Some(&d.verification),
    });
    doc
}

fn dossier(doc: &mut Doc, w: &Words, x: &Dossier, lang: Lang, names: &PartyNames) {
    doc.push(Block::Section(format!(
        "{} – {}",
        names.name(lang, &x.home),
        names.name(lang, &x.partner)
    )));
    let t = &x.termination;
    let text_of = |k: &str| t.data.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let or_not_recorded =
        |v: Option<String>| Cell::text(v.unwrap_or_else(|| w.not_recorded.to_owned()));
    let mut takes_effect = Cell::text(w.date_or_undated(x.takes_effect.date.as_ref()));
    takes_effect.remark(match x.takes_effect.basis {
        EffectiveBasis::Stated => w.dossier_effective_stated,
        EffectiveBasis::ActDate => w.dossier_effective_act,
    });
    let last_evidence = match &x.before_end.last_evidence {
        Some(e) => {
            let mut cell = Cell::text(format!(
                "{} ({}) — ",
                what(w, e),
                w.date_or_undated(e.date.as_ref())
            ));
            cell.0.extend(citation(w, e.record.event.source.as_ref()).0);
            cell
        }
        None => Cell::text(w.none),
    };
    let notice = match &t.record.event.payload {
        pacta_domain::Payload::Terminated(p) => p.notice.as_ref(),
        _ => None,
    };
    let mut position = Cell::text(format!("{} ", t.record.envelope.position));
    position.push(Span::Code(t.record.hash.to_string()));
    let mode = describe::mode(t).map_or(w.not_recorded, w.mode);
    doc.push(Block::Fields(vec![
        (
            w.dossier_partnership.to_owned(),
            Cell::code(x.id.to_string()),
        ),
        (
            w.col_instrument.to_owned(),
            Cell::text(x.instrument.map_or("—", w.instrument)),
        ),
        (w.dossier_act.to_owned(), date_cell(w, t)),
        (w.dossier_takes_effect.to_owned(), takes_effect),
        (w.dossier_last_evidence.to_owned(), last_evidence),
        (
            w.dossier_before_end.to_owned(),
            Cell::text(before_end(w, &x.before_end)),
        ),
        (w.dossier_mode.to_owned(), Cell::text(mode)),
        (
            w.dossier_reason.to_owned(),
            or_not_recorded(text_of("reason")),
        ),
        (
            w.dossier_decided_by.to_owned(),
            or_not_recorded(text_of("decided_by")),
        ),
        (
            w.dossier_resolution.to_owned(),
            or_not_recorded(text_of("resolution")),
        ),
        (w.dossier_notice.to_owned(), citation(w, notice)),
        (
            w.dossier_evidence.to_owned(),
            citation(w, t.record.event.source.as_ref()),
        ),
        (w.dossier_recorded.to_owned(), recorded_cell(w, t)),
        (w.dossier_position.to_owned(), position),
    ]));
    events(doc, w, w.dossier_preceding, &x.preceding, None);
    events(doc, w, w.dossier_termination, std::slice::from_ref(t), None);
    events(
        doc,
        w,
        w.dossier_corrections,
        &x.corrections,
        Some(w.dossier_no_corrections),
    );
}

/// A table of events with everything a reader needs to find and check
/// each one: position, what, when, who recorded it, source, note, hash.
fn events(doc: &mut Doc, w: &Words, title: &str, views: &[EventView], empty: Option<&str>) {
    doc.push(Block::Sub(title.to_owned()));
    if views.is_empty() {
        doc.push(Block::Para(Cell::text(empty.unwrap_or(w.none))));
        return;
    }
    let rows = views
        .iter()
        .map(|v| {
            let mut kind = what_cell(w, v);
            amendments(w, v, &mut kind);
            vec![
                Cell::text(v.record.envelope.position.to_string()),
                kind,
                date_cell(w, v),
                recorded_cell(w, v),
                citation(w, v.record.event.source.as_ref()),
                hash_cell(v),
            ]
        })
        .collect();
    doc.push(Block::Table {
        head: vec![
            w.col_position.to_owned(),
            w.col_event.to_owned(),
            w.col_effective.to_owned(),
            w.col_recorded.to_owned(),
            w.col_source.to_owned(),
            w.col_hash.to_owned(),
        ],
        rows,
    });
}
