//! Events and parties in a document's words: what an event was, when, and
//! the names a language calls parties by.

use std::collections::HashMap;

use pacta_domain::{
    ActivityKind, ActivityOutcome, EventType, Instrument, Names, Slug, TerminationMode,
};
use pacta_registry::Registry;
use pacta_registry::query::{EventView, PartyRef};

use crate::doc::{Cell, Span};
use crate::lang::{Lang, Words, fill};

/// Every party's names and country, so that a document names each party
/// in its own language ("Orenburská oblast", "Orenburg Oblast"). A party
/// without a name in the language gets another of its names.
#[derive(Clone, Debug, Default)]
pub struct PartyNames(HashMap<Slug, (Names, String)>);

impl PartyNames {
    /// The names of every party the registry knows.
    pub fn of(registry: &Registry) -> PartyNames {
        PartyNames(
            registry
                .projections()
                .parties()
                .all()
                .into_iter()
                .map(|p| (p.id, (p.names, p.country)))
                .collect(),
        )
    }

    /// A party's name in a language: Czech, else native, else English for
    /// `cs`; English, else Czech, else native for `en`; else the name the
    /// view carries.
    pub fn name(&self, lang: Lang, party: &PartyRef) -> String {
        let names = self.0.get(&party.id).map(|(n, _)| n);
        let pick = names.and_then(|n| match lang {
            Lang::Cs => n.cs.as_ref().or(n.native.as_ref()).or(n.en.as_ref()),
            Lang::En => n.en.as_ref().or(n.cs.as_ref()).or(n.native.as_ref()),
        });
        pick.map_or_else(|| party.name.to_string(), Clone::clone)
    }

    /// A party's country (ISO 3166-1 alpha-2).
    pub fn country(&self, party: &Slug) -> Option<&str> {
        self.0.get(party).map(|(_, c)| c.as_str())
    }
}

/// A data field of an event read as one of the registry's words.
fn field<T: std::str::FromStr>(view: &EventView, name: &str) -> Option<T> {
    view.data.get(name)?.as_str()?.parse().ok()
}

/// The instrument an event names (a signing, an attestation, an amendment).
pub(crate) fn instrument(view: &EventView) -> Option<Instrument> {
    field(view, "instrument")
}

/// How a termination ended.
pub(crate) fn mode(view: &EventView) -> Option<TerminationMode> {
    field(view, "mode")
}

/// What an event was, in words: its type and what its data says of it
/// ("ukončení: vypovězeno", "aktivita: návštěva, neuskutečnila se").
pub(crate) fn what(w: &Words, view: &EventView) -> String {
    let ty = view.record.event.event_type();
    let mut details: Vec<&str> = Vec::new();
    match ty {
        EventType::Signed | EventType::Attested | EventType::Amended => {
            details.extend(instrument(view).map(w.instrument));
        }
        EventType::Terminated => {
            details.extend(mode(view).map(w.mode));
        }
        EventType::ActivityRecorded => {
            details.extend(field::<ActivityKind>(view, "kind").map(w.activity));
            details.extend(field::<ActivityOutcome>(view, "outcome").map(w.outcome));
        }
        _ => {}
    }
    let ty = (w.event_type)(ty);
    if details.is_empty() {
        ty.to_owned()
    } else {
        format!("{ty}: {}", details.join(", "))
    }
}

/// What an event was, with the recorder's note under it.
pub(crate) fn what_cell(w: &Words, view: &EventView) -> Cell {
    let mut cell = Cell::text(what(w, view));
    if let Some(note) = &view.record.event.note {
        cell.remark(note.clone());
    }
    cell
}

/// An event's effective date in words, and what it was first recorded as
/// when a correction changed it.
pub(crate) fn date_cell(w: &Words, view: &EventView) -> Cell {
    let mut cell = Cell::text(w.date_or_undated(view.date.as_ref()));
    if view.date != view.record.event.date {
        cell.remark(fill(
            w.first_recorded_as,
            &[&w.date_or_undated(view.record.event.date.as_ref())],
        ));
    }
    cell
}

/// The corrections and retractions an event carries, or its target.
pub(crate) fn amendments(w: &Words, view: &EventView, cell: &mut Cell) {
    if !view.corrected_by.is_empty() {
        let positions: Vec<String> = view.corrected_by.iter().map(u64::to_string).collect();
        cell.remark(fill(w.corrected_by, &[&positions.join(", ")]));
    }
    if let Some(r) = view.retracted_by {
        cell.remark(fill(w.retracted_by, &[&r.to_string()]));
    }
    if let Some(t) = view.target {
        cell.remark(fill(w.of_event, &[&t.to_string()]));
    }
}

/// The record of an event: when and by whom.
pub(crate) fn recorded_cell(w: &Words, view: &EventView) -> Cell {
    Cell::text(fill(
        w.dossier_recorded_by,
        &[
            &w.timestamp(view.record.envelope.recorded_at),
            &view.record.envelope.recorded_by,
        ],
    ))
}

/// A hash, set apart.
pub(crate) fn hash_cell(view: &EventView) -> Cell {
    Cell(vec![Span::Code(view.record.hash.to_string())])
}
