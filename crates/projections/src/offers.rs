//! The offers projection: towns seeking a Czech partner, with their status.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::RwLock;

use pacta_domain::{
    EventType, OfferStatus, PartialDate, Payload, PopulationBound, Recorded, Slug, Source,
    StreamKind, Timestamp, lifecycle::offer_transition,
};
use serde::{Deserialize, Serialize};

use pacta_store::kv::{self, WriteSet};

use crate::{ApplyContext, Error, Projection};

const NAME: &str = "offers";

/// An offer as the registry knows it now.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OfferView {
    /// Its id.
    pub id: Slug,
    /// The town seeking a partner.
    pub party: Slug,
    /// The Czech body holding it.
    pub home: Slug,
    /// Its status.
    pub status: OfferStatus,
    /// When it was published.
    pub published: Option<PartialDate>,
    /// Population, as the notice gives it.
    pub population: Option<u64>,
    /// Whether the population is approximate (any bound).
    pub population_approximate: bool,
    /// How the population bounds the real figure (`under`, `over`,
    /// `about`), where the notice words it so.
    #[serde(default)]
    pub population_bound: Option<PopulationBound>,
    /// The town's region.
    pub region: Option<String>,
    /// What it wants to cooperate on.
    pub interests: Vec<String>,
    /// The partner it wishes for.
    pub wished_partner: Option<String>,
    /// Who passed it on.
    pub intermediary: Option<String>,
    /// The partnership it became.
    pub partnership: Option<Slug>,
    /// The notice it comes from.
    pub source: Option<Source>,
    /// The recorder's note.
    pub note: Option<String>,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Position of the last event applied.
    pub last_position: u64,
}

/// The offers projection.
#[derive(Default)]
pub struct Offers {
    state: RwLock<BTreeMap<Slug, OfferView>>,
}

impl Offers {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Slug, OfferView>> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// One offer.
    pub fn get(&self, id: &str) -> Option<OfferView> {
        self.read().get(id).cloned()
    }

    /// Offers, optionally of one status, newest publication first.
    pub fn list(&self, status: Option<OfferStatus>) -> Vec<OfferView> {
        let mut out: Vec<OfferView> = self
            .read()
            .values()
            .filter(|o| status.is_none_or(|s| s == o.status))
            .cloned()
            .collect();
        out.sort_by_key(|o| {
            std::cmp::Reverse((o.published.map(|d| d.interval().hi()), o.id.clone()))
        });
        out
    }
}

impl Projection for Offers {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self, ty: EventType) -> bool {
        ty.stream_kind() == StreamKind::Offer
    }

    fn reset(&self) {
        self.state
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn load(&self, keyspace: &kv::Reader<'_>) -> Result<(), Error> {
        let state = keyspace
            .json_values::<OfferView>()
            .map(|view| view.map(|view| (view.id.clone(), view)))
            .collect::<Result<_, _>>()?;
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
            let ty = record.event.event_type();
            let current = state.get(&id).map(|o| o.status);
            let Some(status) = offer_transition(current, ty) else {
                tracing::warn!(position = record.envelope.position, %id, %ty, "an offer event that does not fit; skipped");
                continue;
            };
            let view = match (&record.event.payload, state.get(&id)) {
                (Payload::OfferPublished(p), _) => OfferView {
                    id: id.clone(),
                    party: p.party.clone(),
                    home: p.home.clone(),
                    status,
                    published: record.event.date,
                    population: p.population,
                    population_approximate: p.population_approximate
                        || p.population_bound.is_some(),
                    // Records written before `population_bound` said only
                    // "approximate": read as `about`.
                    population_bound: p
                        .population_bound
                        .or(p.population_approximate.then_some(PopulationBound::About)),
                    region: p.region.clone(),
                    interests: p.interests.clone(),
                    wished_partner: p.wished_partner.clone(),
                    intermediary: p.intermediary.clone(),
                    partnership: None,
                    source: record.event.source.clone(),
                    note: record.event.note.clone(),
                    recorded_at: record.envelope.recorded_at,
                    last_position: record.envelope.position,
                },
                (payload, Some(old)) => {
                    let mut view = old.clone();
                    view.status = status;
                    if let Payload::OfferMatched(m) = payload {
                        view.partnership = Some(m.partnership.clone());
                    }
                    view.last_position = record.envelope.position;
                    view
                }
                (_, None) => continue,
            };
            writes.put_json(id.as_str(), &view)?;
            state.insert(id, view);
        }
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
