//! The parties projection: every party with its names and aliases, and an
//! index from every name and alias (case-insensitive) to the party.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use pacta_domain::{EventType, PartyKind, Payload, Recorded, Slug, Source, Timestamp};
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
    /// Position of the last event applied to it.
    pub last_position: u64,
}

#[derive(Default)]
struct State {
    by_id: BTreeMap<Slug, PartyView>,
    by_name: HashMap<String, Slug>,
    /// Display names, shared so listings copy no text.
    display: HashMap<Slug, Arc<str>>,
}

/// The parties projection.
#[derive(Default)]
pub struct Parties {
    state: RwLock<State>,
}

fn fold_name(name: &str) -> String {
    name.trim().to_lowercase()
}

impl State {
    fn index(&mut self, view: &PartyView) {
        let display: Arc<str> = view.names.display().unwrap_or(view.id.as_str()).into();
        self.display.insert(view.id.clone(), display);
        for name in view
            .names
            .all()
            .chain(view.aliases.iter().map(String::as_str))
        {
            self.by_name.insert(fold_name(name), view.id.clone());
        }
        self.by_name
            .insert(view.id.as_str().to_owned(), view.id.clone());
    }
}

impl Parties {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// One party.
    pub fn get(&self, id: &str) -> Option<PartyView> {
        self.read().by_id.get(id).cloned()
    }

    /// Whether a party exists.
    pub fn contains(&self, id: &str) -> bool {
        self.read().by_id.contains_key(id)
    }

    /// Every party, by id.
    pub fn all(&self) -> Vec<PartyView> {
        self.read().by_id.values().cloned().collect()
    }

    /// The party with this name or alias (any letter case), or this id.
    pub fn find(&self, name: &str) -> Option<PartyView> {
        let state = self.read();
        let id = state.by_name.get(&fold_name(name))?;
        state.by_id.get(id).cloned()
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
