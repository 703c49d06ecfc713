//! The parties projection: every party with its names and aliases, and an
//! index from every name and alias (compared as a [`NameKey`]: letter
//! case, diacritics and spacing aside) to the parties that answer to it.
//!
//! Text is resolved to a party by [`Parties::lookup`]: an id always means
//! its own party, before any name or alias; a name more than one party
//! answers to (possible only in data stored before `decide` kept names
//! unique) answers with the candidates rather than one of them.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use pacta_domain::{
    EventType, Held, NameHolder, NameKey, PartyKind, Payload, Recorded, Slug, Source, Timestamp,
};
use serde::{Deserialize, Serialize};

use pacta_store::kv::{self, WriteSet};

use crate::{ApplyContext, Error, Projection};

const NAME: &str = "parties";

/// A party as the registry knows it now.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PartyView {
    /// Its id.
    pub id: Slug,
    /// What kind of body.
    pub kind: PartyKind,
    /// Its names.
    pub names: pacta_domain::Names,
    /// Other spellings.
    pub aliases: Vec<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// ISO 3166-2, where one exists.
    pub iso_3166_2: Option<String>,
    /// The party it belongs to.
    pub parent: Option<Slug>,
    /// The citation of its registration.
    pub source: Option<Source>,
    /// When it was registered.
    pub registered_at: Timestamp,
    /// When it came into being, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub established: Option<pacta_domain::PartialDate>,
    /// When it ceased to exist, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dissolved: Option<pacta_domain::PartialDate>,
    /// The citation of the event that recorded those dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existence_source: Option<Source>,
    /// Position of the last event applied to it.
    pub last_position: u64,
}

/// A party's existence dates ([`Parties::existence`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Existence {
    /// Its display name.
    pub name: String,
    /// When it came into being.
    pub established: Option<pacta_domain::PartialDate>,
    /// When it ceased to exist.
    pub dissolved: Option<pacta_domain::PartialDate>,
    /// The title of the source of those dates.
    pub source_title: Option<String>,
}

/// Why a text names no single party ([`Parties::lookup`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Lookup {
    /// No party has it as its id, a name, an alias or a former name.
    NotFound,
    /// Several parties answer to it as a name, alias or former name: the
    /// candidates, by id (at least two).
    Ambiguous(Vec<PartyView>),
}

impl std::fmt::Display for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::NotFound => f.write_str("no party has this id, name or alias"),
            Lookup::Ambiguous(candidates) => {
                let ids: Vec<&str> = candidates.iter().map(|p| p.id.as_str()).collect();
                write!(f, "several parties answer to this name: {}", ids.join(", "))
            }
        }
    }
}

impl std::error::Error for Lookup {}

#[derive(Default)]
struct State {
    by_id: BTreeMap<Slug, PartyView>,
    /// Every name, alias and former name, to the parties that answer to
    /// it (sorted, each once). Ids are not here: `by_id` answers them.
    by_name: HashMap<NameKey, Vec<Slug>>,
    /// Display names, shared so listings copy no text.
    display: HashMap<Slug, Arc<str>>,
}

/// The parties projection.
#[derive(Default)]
pub struct Parties {
    state: RwLock<State>,
}

impl State {
    /// Indexes a party's names and aliases. Names an amendment replaced
    /// stay in the index (a party is still found by a former name).
    fn index(&mut self, view: &PartyView) {
        let display: Arc<str> = view.names.display().unwrap_or(view.id.as_str()).into();
        self.display.insert(view.id.clone(), display);
        for name in view
            .names
            .all()
            .chain(view.aliases.iter().map(String::as_str))
        {
            let holders = self.by_name.entry(NameKey::of(name)).or_default();
            if let Err(at) = holders.binary_search(&view.id) {
                holders.insert(at, view.id.clone());
            }
        }
    }

    fn lookup(&self, text: &str) -> Result<PartyView, Lookup> {
        let key = NameKey::of(text);
        // An id first, as typed or in any letter case: no name can take
        // a party's id from it.
        if let Some(view) = self
            .by_id
            .get(text.trim())
            .or_else(|| self.by_id.get(key.as_str()))
        {
            return Ok(view.clone());
        }
        match self.by_name.get(&key).map(Vec::as_slice) {
            None | Some([]) => Err(Lookup::NotFound),
            Some([one]) => self.by_id.get(one).cloned().ok_or(Lookup::NotFound),
            Some(several) => Err(Lookup::Ambiguous(
                several
                    .iter()
                    .filter_map(|id| self.by_id.get(id).cloned())
                    .collect(),
            )),
        }
    }
}

impl Parties {
    /// Every party that answers to each word of `text` with a word of its
    /// id, a name, an alias or a former name that begins with it (letter
    /// case and diacritics aside; `-` separates words): `plzen` finds the
    /// Plzeň Region, `cuhujiv` Čuhujiv, `upper pal` the Upper Palatinate.
    /// By id; none for a text without words.
    pub fn search(&self, text: &str) -> Vec<PartyView> {
        let query = NameKey::of(&text.replace('-', " "));
        let words: Vec<&str> = query
            .as_str()
            .split(' ')
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Vec::new();
        }
        let matches = |key: &str| {
            words
                .iter()
                .all(|q| key.split([' ', '-']).any(|w| w.starts_with(q)))
        };
        let state = self.read();
        let mut found: std::collections::BTreeSet<&Slug> = state
            .by_id
            .keys()
            .filter(|id| matches(id.as_str()))
            .collect();
        for (key, ids) in &state.by_name {
            if matches(key.as_str()) {
                found.extend(ids.iter());
            }
        }
        found
            .into_iter()
            .filter_map(|id| state.by_id.get(id).cloned())
            .collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// One party.
    pub fn get(&self, id: &str) -> Option<PartyView> {
        self.read().by_id.get(id).cloned()
    }

    /// When a party came into being and ceased to exist; `None` for a
    /// party with neither date (most), without copying its view.
    pub fn existence(&self, id: &str) -> Option<Existence> {
        let state = self.read();
        let view = state.by_id.get(id)?;
        if view.established.is_none() && view.dissolved.is_none() {
            return None;
        }
        Some(Existence {
            name: view.names.display().unwrap_or(view.id.as_str()).to_owned(),
            established: view.established,
            dissolved: view.dissolved,
            source_title: view.existence_source.as_ref().map(|s| s.title.clone()),
        })
    }

    /// Whether a party exists.
    pub fn contains(&self, id: &str) -> bool {
        self.read().by_id.contains_key(id)
    }

    /// Every party, by id.
    pub fn all(&self) -> Vec<PartyView> {
        self.read().by_id.values().cloned().collect()
    }

    /// The party a text names: the party with this id (in any letter
    /// case) before anything else, else the one party that has it as a
    /// name, alias or former name, compared as a [`NameKey`] (letter case,
    /// diacritics and spacing aside).
    ///
    /// `Err(Lookup::Ambiguous)` lists the candidates, by id, when several
    /// parties answer to the name; `Err(Lookup::NotFound)` when none does.
    pub fn lookup(&self, text: &str) -> Result<PartyView, Lookup> {
        self.read().lookup(text)
    }

    /// [`Parties::lookup`] without the reason: `None` when no party or
    /// several parties answer to the text.
    pub fn find(&self, text: &str) -> Option<PartyView> {
        self.lookup(text).ok()
    }

    /// Every party that answers to `key` as its id, a name, an alias or a
    /// former name, each once as the first of those that applies, by id
    /// (`decide`'s question before a party takes a name).
    pub fn name_holders(&self, key: &NameKey) -> Vec<NameHolder> {
        let state = self.read();
        let mut holders = Vec::new();
        if let Some(view) = state.by_id.get(key.as_str()) {
            holders.push(NameHolder {
                party: view.id.clone(),
                held: Held::Id,
            });
        }
        for id in state.by_name.get(key).into_iter().flatten() {
            let Some(view) = state.by_id.get(id) else {
                continue;
            };
            if holders.iter().any(|h| &h.party == id) {
                continue;
            }
            let held = if view.names.all().any(|n| NameKey::of(n) == *key) {
                Held::Name
            } else if view.aliases.iter().any(|a| NameKey::of(a) == *key) {
                Held::Alias
            } else {
                Held::FormerName
            };
            holders.push(NameHolder {
                party: id.clone(),
                held,
            });
        }
        holders
    }

    /// A display name for a party id: its English, Czech or native name
    /// (the id itself for an unknown party).
    pub fn display_name(&self, id: &str) -> Arc<str> {
        self.names().get(id)
    }

    /// A lookup of display names under one read lock, for listings.
    pub fn names(&self) -> Names<'_> {
        Names(self.read())
    }
}

/// Display names of parties, read under one lock.
pub struct Names<'a>(std::sync::RwLockReadGuard<'a, State>);

impl Names<'_> {
    /// The display name of a party id (the id itself when unknown).
    pub fn get(&self, id: &str) -> Arc<str> {
        self.0.display.get(id).cloned().unwrap_or_else(|| id.into())
    }
}

impl Projection for Parties {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self, ty: EventType) -> bool {
        matches!(ty, EventType::PartyRegistered | EventType::PartyAmended)
    }

    fn reset(&self) {
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = State::default();
    }

    fn load(&self, keyspace: &kv::Reader<'_>) -> Result<(), Error> {
        let mut state = State::default();
        for view in keyspace.json_values::<PartyView>() {
            let view = view?;
            state.index(&view);
            state.by_id.insert(view.id.clone(), view);
        }
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = state;
        Ok(())
    }

    fn apply(
        &self,
        _ctx: &ApplyContext<'_>,
        events: &[&Recorded],
        writes: &mut WriteSet,
    ) -> Result<(), Error> {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        for record in events {
            let id = record.envelope.stream.id.clone();
            let view = match &record.event.payload {
                Payload::PartyRegistered(p) => PartyView {
                    id: id.clone(),
                    kind: p.kind,
                    names: p.names.clone(),
                    aliases: p.aliases.clone(),
                    country: p.country.clone(),
                    iso_3166_2: p.iso_3166_2.clone(),
                    parent: p.parent.clone(),
                    source: record.event.source.clone(),
                    registered_at: record.envelope.recorded_at,
                    established: p.established,
                    dissolved: p.dissolved,
                    existence_source: (p.established.is_some() || p.dissolved.is_some())
                        .then(|| record.event.source.clone())
                        .flatten(),
                    last_position: record.envelope.position,
                },
                Payload::PartyAmended(a) => {
                    let Some(mut view) = state.by_id.get(&id).cloned() else {
                        continue;
                    };
                    if let Some(names) = &a.names {
                        view.names = names.clone();
                    }
                    for alias in &a.add_aliases {
                        if !view.aliases.contains(alias) {
                            view.aliases.push(alias.clone());
                        }
                    }
                    if a.iso_3166_2.is_some() {
                        view.iso_3166_2 = a.iso_3166_2.clone();
                    }
                    if a.parent.is_some() {
                        view.parent = a.parent.clone();
                    }
                    if a.established.is_some() || a.dissolved.is_some() {
                        view.established = a.established.or(view.established);
                        view.dissolved = a.dissolved.or(view.dissolved);
                        view.existence_source = record.event.source.clone();
                    }
                    view.last_position = record.envelope.position;
                    view
                }
                _ => continue,
            };
            writes.put_json(id.as_str(), &view)?;
            state.index(&view);
            state.by_id.insert(id, view);
        }
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use pacta_domain::event::PartyRegistered;
    use pacta_domain::{Event, EventId, Names, Payload, StreamId};
    use pacta_store::{Append, NewEvent, Store};

    use super::*;
    use crate::Projections;

    /// Stores a party straight into the log, as data written before
    /// `decide` kept names unique could be.
    fn register(store: &Store, n: u8, id: &str, name: &str, aliases: &[&str]) {
        let event = Event::new(Payload::PartyRegistered(PartyRegistered {
            kind: PartyKind::Region,
            names: Names {
                en: Some(name.into()),
                ..Names::default()
            },
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            country: "CZ".into(),
            iso_3166_2: None,
            parent: None,
            established: None,
            dissolved: None,
        }));
        store
            .append_blocking(Append {
                stream: StreamId::parse(&format!("party/{id}")).unwrap(),
                expected_version: Some(0),
                events: vec![NewEvent {
                    event_id: EventId::from_bytes(u128::from(n + 1).to_be_bytes()),
                    event,
                    recorded_by: "test".into(),
                }],
            })
            .unwrap();
    }

    #[track_caller]
    fn check(parties: &Parties, text: &str, expect: &str) {
        let got = match parties.lookup(text) {
            Ok(view) => view.id.to_string(),
            Err(Lookup::NotFound) => "not found".to_owned(),
            Err(Lookup::Ambiguous(c)) => {
                let ids: Vec<&str> = c.iter().map(|p| p.id.as_str()).collect();
                format!("ambiguous: {}", ids.join(" "))
            }
        };
        assert_eq!(got, expect, "{text:?}");
    }

    /// A party that took other parties' ids and names as its own (stored
    /// before `decide` refused it) takes none of them from their owners:
    /// an id finds its own party first, and a shared name finds both.
    #[test]
    fn an_id_wins_over_any_name_or_alias() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        register(&store, 0, "liberecky-kraj", "Liberec Region", &[]);
        register(&store, 1, "plzensky-kraj", "Plzeň Region", &["Pilsen"]);
        register(
            &store,
            2,
            "zzz-evil",
            "Plzeň Region",
            &["liberecky-kraj", "ustecky-kraj"],
        );
        let cases = [
            ("liberecky-kraj", "liberecky-kraj"),
            (" Liberecky-Kraj ", "liberecky-kraj"),
            ("liberec region", "liberecky-kraj"),
            ("PILSEN", "plzensky-kraj"),
            ("zzz-evil", "zzz-evil"),
            // No party has this id: the alias answers.
            ("ustecky-kraj", "zzz-evil"),
            ("Plzeň Region", "ambiguous: plzensky-kraj zzz-evil"),
            ("plzen  region", "ambiguous: plzensky-kraj zzz-evil"),
            ("atlantis", "not found"),
        ];
        {
            let projections = Projections::open(&store).unwrap();
            projections.catch_up(&mut |_, _| {}).unwrap();
            for (text, expect) in cases {
                check(projections.parties(), text, expect);
            }
            assert_eq!(projections.parties().find("Plzeň Region"), None);
            let holders = projections
                .parties()
                .name_holders(&NameKey::of("Liberecky-kraj"));
            let held: Vec<(&str, Held)> =
                holders.iter().map(|h| (h.party.as_str(), h.held)).collect();
            assert_eq!(
                held,
                [("liberecky-kraj", Held::Id), ("zzz-evil", Held::Alias)]
            );
            projections.persist().unwrap();
        }
        // The same once the view is loaded from its keyspace.
        let projections = Projections::open(&store).unwrap();
        for (text, expect) in cases {
            check(projections.parties(), text, expect);
        }
    }
}
