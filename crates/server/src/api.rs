//! The JSON shapes of the public interface, converted by hand from the
//! registry's views. The CLI's `--format json` prints these too, so the
//! command line and the HTTP API answer alike.

use pacta_domain::{PartialDate, Precision, Recorded, Source};
use pacta_projections::{OfferView, PartyView};
use pacta_registry::query::{EventView, ListRow, PartnershipDetail, PartyRef};
use serde::Serialize;
use utoipa::ToSchema;

/// A party named in an answer.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct PartyRefDto {
    /// Its id.
    pub id: String,
    /// Its English, Czech or native name.
    pub name: String,
}

impl From<&PartyRef> for PartyRefDto {
    fn from(p: &PartyRef) -> Self {
        PartyRefDto {
            id: p.id.to_string(),
            name: p.name.to_string(),
        }
    }
}

/// A partial date with its bounds.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct DateDto {
    /// The date as the source gave it (EDTF), e.g. `2008-05` or `[2001-11-28..]`.
    pub date: String,
    /// `day`, `month`, `season`, `quarter`, `half_year`, `year` or `range`.
    #[schema(value_type = String, example = "month")]
    pub precision: Precision,
    /// The first day it allows (absent: open).
    pub earliest: Option<String>,
    /// The last day it allows (absent: open).
    pub latest: Option<String>,
    /// Marked `?` or `%`.
    pub uncertain: bool,
    /// Marked `~` or `%`.
    pub approximate: bool,
}

impl From<&PartialDate> for DateDto {
    fn from(d: &PartialDate) -> Self {
        DateDto {
            date: d.to_string(),
            precision: d.precision(),
            earliest: d.earliest().map(|x| x.to_string()),
            latest: d.latest().map(|x| x.to_string()),
            uncertain: d.is_uncertain(),
            approximate: d.is_approximate(),
        }
    }
}

/// A citation.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct SourceDto {
    /// Title of the document.
    pub title: String,
    /// Where to read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A file name or resolution number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Where in the document: a section heading, a paragraph, a notice's date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
    /// The source's own date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

impl From<&Source> for SourceDto {
    fn from(s: &Source) -> Self {
        SourceDto {
            title: s.title.clone(),
            url: s.url.clone(),
            reference: s.reference.clone(),
            locator: s.locator.clone(),
            date: s.date.map(|d| d.to_string()),
        }
    }
}

/// One event of a history, with what later events say of it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct EventDto {
    /// Position in the global log.
    pub position: u64,
    /// Version within its stream.
    pub version: u64,
    /// Its id (ULID).
    pub event_id: String,
    /// Its stream, `kind/id`.
    pub stream: String,
    /// Its type, e.g. `Signed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Its effective date, after corrections.
    pub date: Option<DateDto>,
    /// The date as first recorded, when a correction changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_date: Option<String>,
    /// For a date open at its end: the day answers take as its end...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounded_at: Option<String>,
    /// ...and why: `source_date` (the last day of the reporting source's
    /// date) or `recorded` (the day it was recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounded_by: Option<String>,
    /// Its data, after corrections.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Its data as first recorded, when a correction changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub original_data: Option<serde_json::Value>,
    /// Where the fact comes from.
    pub source: Option<SourceDto>,
    /// The recorder's note.
    pub note: Option<String>,
    /// When the registry learned it (UTC).
    pub recorded_at: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// The previous record's hash.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
    /// Positions of corrections applied to it.
    pub corrected_by: Vec<u64>,
    /// Position of the retraction that withdrew it.
    pub retracted_by: Option<u64>,
    /// For `Corrected` and `Retracted`: the position of the event it points at.
    pub target: Option<u64>,
}

impl From<&EventView> for EventDto {
    fn from(v: &EventView) -> Self {
        let r = &v.record;
        let original_data = r.event.payload.to_value();
        let changed_data = original_data != v.data;
        let bound = v.open_end_bound();
        EventDto {
            position: r.envelope.position,
            version: r.envelope.version,
            event_id: r.envelope.event_id.to_string(),
            stream: r.envelope.stream.to_string(),
            event_type: r.event.event_type().to_string(),
            date: v.date.as_ref().map(DateDto::from),
            original_date: (v.date != r.event.date)
                .then(|| r.event.date.map(|d| d.to_string()))
                .flatten(),
            bounded_at: bound.map(|(d, _)| d.to_string()),
            bounded_by: bound.map(|(_, by)| by.to_owned()),
            data: v.data.clone(),
            original_data: changed_data.then_some(original_data),
            source: r.event.source.as_ref().map(SourceDto::from),
            note: r.event.note.clone(),
            recorded_at: r.envelope.recorded_at.to_string(),
            recorded_by: r.envelope.recorded_by.clone(),
            prev_hash: r.prev_hash.to_string(),
            hash: r.hash.to_string(),
            corrected_by: v.corrected_by.clone(),
            retracted_by: v.retracted_by,
            target: v.target,
        }
    }
}

/// The most events one partnership's state embeds.
pub const DETAIL_EVENTS: usize = 100;

/// One partnership on a day, as known at a time.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct PartnershipDto {
    /// Its id.
    pub id: String,
    /// The Czech side.
    pub home: PartyRefDto,
    /// The partner.
    pub partner: PartyRefDto,
    /// `home_party`, `home_actor` or `foreign_side`.
    pub initiative: Option<String>,
    /// The day asked about: the last of the days asked; status, events and
    /// instrument are those of this day.
    pub valid_on: String,
    /// The days asked about (one day, a month, a period).
    pub days_asked: DaysDto,
    /// In force over the days asked: `throughout`, `sometime`, `never` or
    /// `uncertain` (read strictly with `evidence=strict`).
    pub in_force_over: String,
    /// The record time asked about (absent: now).
    pub as_known_at: Option<String>,
    /// Status on the day: `proposed`, `negotiating`, `active`, `stagnating`, `suspended`, `terminated`
    /// (what is certain by then; see `possible_statuses`).
    pub status: String,
    /// The statuses possible on the day: `status` first, then the status
    /// after each pending event.
    pub possible_statuses: Vec<String>,
    /// Events whose date allows the day both before and after them (they
    /// may or may not have happened by then), in effective order.
    pub pending: Vec<EventDto>,
    /// In force on the day: `yes`, `no` or `uncertain` (with
    /// `evidence=strict`, a presumed `yes` reads `uncertain`).
    pub in_force: String,
    /// When in force is `yes`: `evidenced` (a fact dated on or after the
    /// day shows it alive) or `presumed` (no end is recorded, but its last
    /// evidence is older).
    pub evidence: Option<String>,
    /// The latest event that shows it alive (a signing, an attestation, an
    /// amendment, a revival, an activity that took place).
    pub last_evidence: Option<EvidenceDto>,
    /// Whether `in_force` was read strictly (`evidence=strict`).
    pub strict: bool,
    /// Why in force is less than the partnership's own history says: a
    /// party that did not exist yet (or no longer) on the day, with the source.
    pub in_force_reason: Option<String>,
    /// The instrument on the day.
    pub instrument: Option<String>,
    /// Areas of cooperation of the agreement.
    pub areas: Vec<String>,
    /// The signing (or the earliest attestation).
    pub signed: Option<EventDto>,
    /// The termination.
    pub terminated: Option<EventDto>,
    /// The last activity by the day.
    pub last_activity: Option<EventDto>,
    /// The events that count on the day, in effective order: the latest
    /// [`DETAIL_EVENTS`] when there are more (`events_total` says how many;
    /// `/partnerships/{id}/events` pages through all of them).
    pub events: Vec<EventDto>,
    /// How many events count on the day.
    pub events_total: u64,
    /// The stream's version as known at the time.
    pub version: u64,
}

/// The event an answer's evidence rests on.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct EvidenceDto {
    /// Its id.
    pub event_id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Its effective date, as the source gives it.
    pub date: Option<String>,
    /// Its source.
    pub source: Option<SourceDto>,
}

impl From<&EventView> for EvidenceDto {
    fn from(v: &EventView) -> Self {
        EvidenceDto {
            event_id: v.record.envelope.event_id.to_string(),
            event_type: v.record.event.event_type().to_string(),
            date: v.date.map(|d| d.to_string()),
            source: v.record.event.source.as_ref().map(SourceDto::from),
        }
    }
}

impl From<&PartnershipDetail> for PartnershipDto {
    fn from(d: &PartnershipDetail) -> Self {
        PartnershipDto::of(d, false)
    }
}

impl PartnershipDto {
    /// The state of `d`, its in force read strictly or not.
    pub fn of(d: &PartnershipDetail, strict: bool) -> Self {
        PartnershipDto {
            id: d.id.to_string(),
            home: (&d.home).into(),
            partner: (&d.partner).into(),
            initiative: d.initiative.map(|i| i.to_string()),
            valid_on: d.valid_on.to_string(),
            days_asked: d.span.into(),
            in_force_over: d.over_read(strict).to_string(),
            as_known_at: d.as_known_at.map(|t| t.to_string()),
            status: d.status.to_string(),
            possible_statuses: d.possible_statuses.iter().map(|s| s.to_string()).collect(),
            pending: d.pending.iter().map(EventDto::from).collect(),
            in_force: d.in_force_read(strict).to_string(),
            evidence: d.evidence.map(|e| e.as_str().to_owned()),
            last_evidence: d.last_evidence.as_ref().map(EvidenceDto::from),
            strict,
            in_force_reason: d.in_force_reason.clone(),
            instrument: d.instrument.map(|i| i.to_string()),
            areas: d.areas.clone(),
            signed: d.signed.as_ref().map(EventDto::from),
            terminated: d.terminated.as_ref().map(EventDto::from),
            last_activity: d.last_activity.as_ref().map(EventDto::from),
            events: d.steps[d.steps.len().saturating_sub(DETAIL_EVENTS)..]
                .iter()
                .map(EventDto::from)
                .collect(),
            events_total: d.steps.len() as u64,
            version: d.version,
        }
    }
}

/// A partnership in a listing, with its status and in force on the day asked about.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct PartnershipRowDto {
    /// Its id.
    pub id: String,
    /// The Czech side.
    pub home: PartyRefDto,
    /// The partner.
    pub partner: PartyRefDto,
    /// Status on the day.
    pub status: String,
    /// In force on the day, or over the days asked (`yes` throughout, `no`
    /// never, `uncertain` otherwise); with `evidence=strict`, a presumed
    /// `yes` reads `uncertain`.
    pub in_force: String,
    /// In force over the days asked: `throughout`, `sometime` (certainly
    /// on some day, not certainly on all), `never` or `uncertain`.
    pub in_force_over: String,
    /// When in force is `yes`: `evidenced` or `presumed` (see the partnership's state).
    pub evidence: Option<String>,
    /// Why in force is less than the partnership's own history says.
    pub in_force_reason: Option<String>,
    /// The instrument on the day.
    pub instrument: Option<String>,
}

impl From<&ListRow> for PartnershipRowDto {
    fn from(r: &ListRow) -> Self {
        PartnershipRowDto::of(r, false)
    }
}

impl PartnershipRowDto {
    /// A row, its in force read strictly or not.
    pub fn of(r: &ListRow, strict: bool) -> Self {
        PartnershipRowDto {
            id: r.id.to_string(),
            home: (&r.home).into(),
            partner: (&r.partner).into(),
            status: r.status.to_string(),
            in_force: r.in_force_read(strict).to_string(),
            in_force_over: r.over_read(strict).to_string(),
            evidence: r.evidence.map(|e| e.as_str().to_owned()),
            in_force_reason: r.in_force_reason.clone(),
            instrument: r.instrument.map(|i| i.to_string()),
        }
    }
}

/// A list of partnerships.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct PartnershipList {
    /// The party asked about (`party=`), as found: by id, by name, or as
    /// the only party a search by words found.
    pub party: Option<PartyRefDto>,
    /// The days asked about (`valid_on`, or `valid_from`..`valid_to`);
    /// absent when none was named (today, and no in-force filter).
    pub days_asked: Option<DaysDto>,
    /// The partnerships.
    pub items: Vec<PartnershipRowDto>,
}

/// The days a question asked about: its first and last day.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct DaysDto {
    /// The first day, YYYY-MM-DD.
    pub from: String,
    /// The last day, YYYY-MM-DD.
    pub to: String,
}

impl From<pacta_domain::Span> for DaysDto {
    fn from(s: pacta_domain::Span) -> Self {
        DaysDto {
            from: s.from().to_string(),
            to: s.to().to_string(),
        }
    }
}

/// A partnership's history.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct HistoryDto {
    /// The partnership id.
    pub id: String,
    /// The record time asked about (absent: now).
    pub as_known_at: Option<String>,
    /// This page of the events known then, in log order.
    pub items: Vec<EventDto>,
    /// Ask for the next page with `after=` this position; absent on the last page.
    pub next_after: Option<u64>,
    /// How many events it has in all (as known then).
    pub total: u64,
}

/// A party's names.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct NamesDto {
    /// In its own language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native: Option<String>,
    /// In Czech.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cs: Option<String>,
    /// In English.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

/// A party.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct PartyDto {
    /// Its id.
    pub id: String,
    /// `region`, `province`, `county`, `oblast`, `state`, `district`, `city`, `town`, `municipality`, `community`, `association` or `other`.
    pub kind: String,
    /// Its names.
    pub names: NamesDto,
    /// Other spellings.
    pub aliases: Vec<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// ISO 3166-2.
    pub iso_3166_2: Option<String>,
    /// The party it belongs to.
    pub parent: Option<String>,
    /// The citation of its registration.
    pub source: Option<SourceDto>,
    /// When it was registered.
    pub registered_at: String,
}

impl From<&PartyView> for PartyDto {
    fn from(p: &PartyView) -> Self {
        PartyDto {
            id: p.id.to_string(),
            kind: p.kind.to_string(),
            names: NamesDto {
                native: p.names.native.clone(),
                cs: p.names.cs.clone(),
                en: p.names.en.clone(),
            },
            aliases: p.aliases.clone(),
            country: p.country.clone(),
            iso_3166_2: p.iso_3166_2.clone(),
            parent: p.parent.as_ref().map(ToString::to_string),
            source: p.source.as_ref().map(SourceDto::from),
            registered_at: p.registered_at.to_string(),
        }
    }
}

/// A list of parties.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct PartyList {
    /// The parties.
    pub items: Vec<PartyDto>,
}

/// An offer: a town seeking a Czech partner.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct OfferDto {
    /// Its id.
    pub id: String,
    /// The town.
    pub party: PartyRefDto,
    /// The Czech body holding it.
    pub home: PartyRefDto,
    /// `published`, `matched`, `withdrawn` or `lapsed`.
    pub status: String,
    /// When it was published.
    pub published: Option<DateDto>,
    /// Population, as the notice gives it.
    pub population: Option<u64>,
    /// Whether the population is approximate (any bound).
    pub population_approximate: bool,
    /// `under`, `over` or `about`: how the population bounds the real
    /// figure, where the notice words it so ("under 5 thousand").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub population_bound: Option<String>,
    /// The town's region.
    pub region: Option<String>,
    /// What it wants to cooperate on.
    pub interests: Vec<String>,
    /// The partner it wishes for.
    pub wished_partner: Option<String>,
    /// Who passed it on.
    pub intermediary: Option<String>,
    /// The partnership it became.
    pub partnership: Option<String>,
    /// The notice.
    pub source: Option<SourceDto>,
    /// The recorder's note.
    pub note: Option<String>,
}

/// Converts an offer view, naming its parties.
pub fn offer_dto(o: &OfferView, name: impl Fn(&str) -> std::sync::Arc<str>) -> OfferDto {
    OfferDto {
        id: o.id.to_string(),
        party: PartyRefDto {
            id: o.party.to_string(),
            name: name(o.party.as_str()).to_string(),
        },
        home: PartyRefDto {
            id: o.home.to_string(),
            name: name(o.home.as_str()).to_string(),
        },
        status: o.status.to_string(),
        published: o.published.as_ref().map(DateDto::from),
        population: o.population,
        population_approximate: o.population_approximate,
        population_bound: o.population_bound.map(|b| b.to_string()),
        region: o.region.clone(),
        interests: o.interests.clone(),
        wished_partner: o.wished_partner.clone(),
        intermediary: o.intermediary.clone(),
        partnership: o.partnership.as_ref().map(ToString::to_string),
        source: o.source.as_ref().map(SourceDto::from),
        note: o.note.clone(),
    }
}

/// A list of offers.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct OfferList {
    /// The offers.
    pub items: Vec<OfferDto>,
}

impl OfferList {
    /// The registry's offers, optionally of one status, with their
    /// parties' names.
    pub fn of(
        registry: &pacta_registry::Registry,
        status: Option<pacta_domain::OfferStatus>,
    ) -> OfferList {
        let offers = registry.projections().offers().list(status);
        let names = registry.projections().parties().names();
        OfferList {
            items: offers
                .iter()
                .map(|o| offer_dto(o, |id| names.get(id)))
                .collect(),
        }
    }
}

/// A page of the global log: records exactly as exported (and hashed),
/// each with a `derived` object outside what is hashed (see
/// [`record_out`]).
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct EventPage {
    /// The records, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    /// The position to pass as `after` for the next page (absent at the head).
    pub next_after: Option<u64>,
    /// The head position now.
    pub head_position: u64,
}

/// Where an appended event landed.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct LandedDto {
    /// Its id.
    pub event_id: String,
    /// Its position in the log.
    pub position: u64,
    /// Its version in the stream.
    pub version: u64,
    /// When it was recorded.
    pub recorded_at: String,
    /// Its hash.
    pub hash: String,
}

/// The answer to a write.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct AppendedDto {
    /// The id of the party, partnership or offer written to.
    pub id: String,
    /// Its stream.
    pub stream: String,
    /// The stream's version after the write.
    pub version: u64,
    /// Each event written (or, for a retry, stored before).
    pub events: Vec<LandedDto>,
    /// True when this was a retry of events already stored.
    pub duplicate: bool,
}

impl From<&pacta_registry::Outcome> for AppendedDto {
    fn from(o: &pacta_registry::Outcome) -> Self {
        AppendedDto {
            id: o.stream.id.to_string(),
            stream: o.stream.to_string(),
            version: o.events.last().map_or(0, |e| e.version),
            events: o
                .events
                .iter()
                .map(|e| LandedDto {
                    event_id: e.event_id.to_string(),
                    position: e.position,
                    version: e.version,
                    recorded_at: e.recorded_at.to_string(),
                    hash: e.hash.to_string(),
                })
                .collect(),
            duplicate: o.duplicate,
        }
    }
}

/// The result of verifying the hash chain.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct VerifyDto {
    /// True when the chain is intact (and extends the digest, if one was given).
    pub ok: bool,
    /// The head position.
    pub head_position: u64,
    /// The head hash.
    pub head_hash: String,
    /// The first position that does not fit, if any.
    pub first_bad_position: Option<u64>,
    /// What does not fit.
    pub reason: Option<String>,
    /// How many positions have no readable record.
    pub unreadable_count: u64,
    /// The digest checked, if one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<DigestDto>,
}

/// A digest: a position and the hash the log had there.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct DigestDto {
    /// The position.
    pub position: u64,
    /// The hash (64 hex digits).
    pub hash: String,
    /// The hash stored there now, if there is a record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_hash: Option<String>,
}

/// How an agreement ended.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct TerminationDto {
    /// The `Terminated` event (effective date after corrections, original beside it).
    pub event: EventDto,
    /// `denounced`, `mutual`, `expired`, `lapsed`, `superseded` or `unknown`.
    pub mode: Option<String>,
    /// The date the ending takes effect, as in-force reckons it: the
    /// source's effective date, else the act's date.
    pub takes_effect: Option<String>,
    /// `stated` (the source gives the effective date) or `act_date` (it
    /// gives none; the act's date is taken).
    pub takes_effect_basis: String,
    /// `takes_effect_basis` in words.
    pub takes_effect_note: String,
    /// Why.
    pub reason: Option<String>,
    /// The body that decided it.
    pub decided_by: Option<String>,
    /// The resolution number.
    pub resolution: Option<String>,
    /// The notice or other document that ended it.
    pub notice: Option<SourceDto>,
}

/// A terminated partnership's dossier.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct DossierDto {
    /// The partnership.
    pub id: String,
    /// The Czech side.
    pub home: PartyRefDto,
    /// The partner.
    pub partner: PartyRefDto,
    /// The instrument that ended.
    pub instrument: Option<String>,
    /// The termination.
    pub termination: TerminationDto,
    /// Signing, stagnation, suspension, revival and the last activities before the end.
    pub preceding: Vec<EventDto>,
    /// Corrections and retractions of any of these, beside the originals.
    pub corrections: Vec<EventDto>,
    /// What in force before the end rests on.
    pub before_end: BeforeEndDto,
}

/// What a terminated agreement's being in force before its end rests on.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct BeforeEndDto {
    /// The last fact before the end that shows it alive.
    pub last_evidence: Option<EvidenceDto>,
    /// The first day no fact shows it alive and no end had taken effect.
    pub unevidenced_from: Option<String>,
    /// The last such day: the day before the ending takes effect.
    pub unevidenced_to: Option<String>,
    /// In force on those days: `yes` (presumed) or, read strictly, `uncertain`.
    pub in_force: String,
    /// Whether it was read strictly (`evidence=strict`).
    pub strict: bool,
    /// The same in words.
    pub note: String,
}

impl From<&pacta_registry::audit::BeforeEnd> for BeforeEndDto {
    fn from(b: &pacta_registry::audit::BeforeEnd) -> Self {
        BeforeEndDto {
            last_evidence: b.last_evidence.as_ref().map(EvidenceDto::from),
            unevidenced_from: b.unevidenced.map(|(d, _)| d.to_string()),
            unevidenced_to: b.unevidenced.map(|(_, d)| d.to_string()),
            in_force: b.in_force.to_string(),
            strict: b.strict,
            note: b.explain(),
        }
    }
}

impl From<&pacta_registry::audit::Dossier> for DossierDto {
    fn from(d: &pacta_registry::audit::Dossier) -> Self {
        let event = EventDto::from(&d.termination);
        let field = |k: &str| {
            event
                .data
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let notice = match &d.termination.record.event.payload {
            pacta_domain::Payload::Terminated(t) => t.notice.as_ref().map(SourceDto::from),
            _ => None,
        };
        DossierDto {
            id: d.id.to_string(),
            home: (&d.home).into(),
            partner: (&d.partner).into(),
            instrument: d.instrument.map(|i| i.to_string()),
            termination: TerminationDto {
                mode: field("mode"),
                takes_effect: d.takes_effect.date.map(|x| x.to_string()),
                takes_effect_basis: d.takes_effect.basis.as_str().to_owned(),
                takes_effect_note: d.takes_effect.basis.explain().to_owned(),
                reason: field("reason"),
                decided_by: field("decided_by"),
                resolution: field("resolution"),
                notice,
                event,
            },
            preceding: d.preceding.iter().map(EventDto::from).collect(),
            corrections: d.corrections.iter().map(EventDto::from).collect(),
            before_end: BeforeEndDto::from(&d.before_end),
        }
    }
}

/// Termination dossiers with the verification of the chain behind them.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct DossiersDto {
    /// One dossier per terminated partnership.
    pub items: Vec<DossierDto>,
    /// The chain recomputed up to the head.
    pub verification: VerifyDto,
    /// When the dossiers were made.
    pub made_at: String,
    /// Each event's offline proof bundle (absent where the store keeps
    /// no Merkle tree).
    #[serde(default)]
    pub proofs: Option<ProofsDto>,
}

/// The proof bundles of a document's events, against one signed
/// checkpoint.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ProofsDto {
    /// The signed checkpoint note every bundle ends with.
    pub checkpoint: String,
    /// The number of records of the checkpoint's tree.
    pub size: u64,
    /// Each event's C2SP tlog-proof, by its position in decimal (`pacta
    /// proof verify FILE --key VKEY` checks one).
    pub bundles: std::collections::BTreeMap<String, String>,
}

impl From<&pacta_registry::transparency::Proofs> for ProofsDto {
    fn from(p: &pacta_registry::transparency::Proofs) -> Self {
        ProofsDto {
            checkpoint: p.checkpoint.note.clone(),
            size: p.checkpoint.size,
            bundles: p
                .bundles
                .iter()
                .map(|(position, bundle)| (position.to_string(), bundle.clone()))
                .collect(),
        }
    }
}

/// One terminated partnership's dossier with the verification of the
/// chain behind it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct DossierProofDto {
    /// The dossier.
    #[serde(flatten)]
    pub dossier: DossierDto,
    /// The chain recomputed up to the head.
    pub verification: VerifyDto,
    /// When the dossier was made.
    pub made_at: String,
    /// Each event's offline proof bundle (absent where the store keeps
    /// no Merkle tree).
    #[serde(default)]
    pub proofs: Option<ProofsDto>,
}

impl DossiersDto {
    /// The only dossier, with the proof behind it.
    pub fn single(self) -> Option<DossierProofDto> {
        let [dossier]: [DossierDto; 1] = self.items.try_into().ok()?;
        Some(DossierProofDto {
            dossier,
            verification: self.verification,
            made_at: self.made_at,
            proofs: self.proofs,
        })
    }
}

impl From<&pacta_registry::audit::Dossiers> for DossiersDto {
    fn from(d: &pacta_registry::audit::Dossiers) -> Self {
        DossiersDto {
            items: d.dossiers.iter().map(DossierDto::from).collect(),
            verification: VerifyDto {
                ok: d.verification.ok,
                head_position: d.head.position,
                head_hash: d.head.hash.to_string(),
                first_bad_position: d.verification.first_bad_position,
                reason: d.verification.reason.clone(),
                unreadable_count: d.verification.unreadable_count,
                digest: None,
            },
            made_at: d.made_at.to_string(),
            proofs: d.proofs.as_ref().map(ProofsDto::from),
        }
    }
}

/// A partnership in force at one end of the year.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct InForceLineDto {
    /// The partnership.
    pub id: String,
    /// The partner.
    pub partner: PartyRefDto,
    /// `yes` or `uncertain`.
    pub in_force: String,
    /// The signing (or attestation) it rests on, with its source.
    pub basis: Option<EventDto>,
}

/// An event of the year.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct EventLineDto {
    /// The partnership or offer.
    pub id: String,
    /// The partner (or the town of an offer).
    pub partner: PartyRefDto,
    /// The event with its source.
    pub event: EventDto,
}

/// The report for one home party.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct SectionDto {
    /// The home party.
    pub home: Option<PartyRefDto>,
    /// In force for certain on 1 January.
    pub in_force_start: Vec<InForceLineDto>,
    /// Perhaps in force on 1 January.
    pub uncertain_start: Vec<InForceLineDto>,
    /// In force for certain on 31 December.
    pub in_force_end: Vec<InForceLineDto>,
    /// Perhaps in force on 31 December.
    pub uncertain_end: Vec<InForceLineDto>,
    /// Signed (or found in force) during the year.
    pub signed: Vec<EventLineDto>,
    /// Stagnated during the year.
    pub stagnated: Vec<EventLineDto>,
    /// Suspended during the year.
    pub suspended: Vec<EventLineDto>,
    /// Revived during the year.
    pub revived: Vec<EventLineDto>,
    /// Terminated during the year.
    pub terminated: Vec<EventLineDto>,
    /// Activities of the year.
    pub activities: Vec<EventLineDto>,
    /// Offers published in the year.
    pub offers: Vec<EventLineDto>,
    /// Events whose date overlaps the year but may lie outside it
    /// ("possibly in the year").
    pub possibly: Vec<EventLineDto>,
}

/// The yearly report for the assembly.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ReportDto {
    /// The year.
    pub year: i32,
    /// The record time it was made as of (absent: now).
    pub as_known_at: Option<String>,
    /// Whether a presumed `yes` was listed as perhaps in force (`evidence=strict`).
    pub strict: bool,
    /// One section per home party.
    pub sections: Vec<SectionDto>,
    /// When it was made.
    pub made_at: String,
    /// The log's head position it rests on: every record it used lies at
    /// or before it (check with `/audit/verify?position=&hash=`).
    pub head_position: u64,
    /// The hash of the log at that position.
    pub head_hash: String,
}

impl From<&pacta_registry::report::AnnualReport> for ReportDto {
    fn from(r: &pacta_registry::report::AnnualReport) -> Self {
        use pacta_registry::report::{EventLine, InForceLine};
        let f = |l: &Vec<InForceLine>| -> Vec<InForceLineDto> {
            l.iter()
                .map(|x| InForceLineDto {
                    id: x.id.to_string(),
                    partner: (&x.partner).into(),
                    in_force: x.in_force.to_string(),
                    basis: x.basis.as_ref().map(EventDto::from),
                })
                .collect()
        };
        let e = |l: &Vec<EventLine>| -> Vec<EventLineDto> {
            l.iter()
                .map(|x| EventLineDto {
                    id: x.id.to_string(),
                    partner: (&x.partner).into(),
                    event: EventDto::from(&x.event),
                })
                .collect()
        };
        ReportDto {
            year: r.year,
            as_known_at: r.as_known_at.map(|t| t.to_string()),
            strict: r.strict,
            made_at: r.made_at.to_string(),
            head_position: r.head.position,
            head_hash: r.head.hash.to_string(),
            sections: r
                .sections
                .iter()
                .map(|s| SectionDto {
                    home: s.home.as_ref().map(PartyRefDto::from),
                    in_force_start: f(&s.in_force_start),
                    uncertain_start: f(&s.uncertain_start),
                    in_force_end: f(&s.in_force_end),
                    uncertain_end: f(&s.uncertain_end),
                    signed: e(&s.signed),
                    stagnated: e(&s.stagnated),
                    suspended: e(&s.suspended),
                    revived: e(&s.revived),
                    terminated: e(&s.terminated),
                    activities: e(&s.activities),
                    offers: e(&s.offers),
                    possibly: e(&s.possibly),
                })
                .collect(),
        }
    }
}

/// A record as `/events` and the live stream give it: the exported (and
/// hashed) record's fields, plus `derived`, which is not hashed: the
/// effective date's days as the registry bounds them
/// (`earliest`, `latest`, `open_end`), its `precision`, and for a
/// partnership's event its `home` and `partner`.
pub fn record_out(registry: &pacta_registry::Registry, record: &Recorded) -> serde_json::Value {
    let mut value = serde_json::to_value(record).unwrap_or(serde_json::Value::Null);
    if let (Some(map), Ok(derived)) = (
        value.as_object_mut(),
        serde_json::to_value(registry.derived(record)),
    ) {
        map.insert("derived".into(), derived);
    }
    value
}

/// The record of a `record_out` value, `derived` set aside.
pub fn record_in(mut value: serde_json::Value) -> Result<Recorded, serde_json::Error> {
    if let Some(map) = value.as_object_mut() {
        map.remove("derived");
    }
    serde_json::from_value(value)
}

/// A view's answer (`GET /api/v1/views/{name}`, `pacta view NAME`).
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ViewAnswer {
    /// The view's name.
    pub view: String,
    /// The version of its fold.
    pub version: u32,
    /// The log position it has applied: it answers as of this record.
    pub position: u64,
    /// The party asked about (`party=`), as found.
    pub party: Option<PartyRefDto>,
    /// Its rows, each as the view's row type declares it.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Box<serde_json::value::RawValue>>,
}

impl ViewAnswer {
    /// The served view `name` about `party` (all when `None`); `None`
    /// when no view of that name is served.
    pub fn of(
        registry: &pacta_registry::Registry,
        name: &str,
        party: Option<&pacta_domain::Slug>,
    ) -> Option<ViewAnswer> {
        let (view, position) = registry.projections().view(name)?;
        Some(ViewAnswer {
            view: view.name().to_owned(),
            version: view.version(),
            position,
            party: party.map(|p| PartyRefDto::from(&registry.party_ref(p))),
            rows: view.rows(party),
        })
    }

    /// The names of the served views, for an error naming them.
    pub fn known(registry: &pacta_registry::Registry) -> String {
        let served = registry.projections().served();
        served
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An inclusion proof of one record in the log's Merkle tree (RFC 9162),
/// hashes in base64.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct InclusionProofDto {
    /// The record's position in the log.
    pub position: u64,
    /// Its leaf's index in the tree (`position - 1`).
    pub index: u64,
    /// The tree's size, in records.
    pub size: u64,
    /// The tree's root.
    pub root: String,
    /// The record's leaf hash: SHA-256 of 0x00 and its canonical bytes.
    pub leaf_hash: String,
    /// The proof, from the leaf's sibling up.
    pub hashes: Vec<String>,
}

/// A witness of the registry and what it has cosigned.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct WitnessDto {
    /// Its name (its key's name).
    pub name: String,
    /// Where the registry submits checkpoints to it.
    pub url: String,
    /// Its verifier key (cosignature/v1), to check its cosignatures with
    /// (`pacta proof verify --witness`).
    pub key: String,
    /// The latest tree size it cosigned, or said it holds (0: none).
    pub size: u64,
    /// The root of the checkpoint it cosigned (base64).
    pub root: Option<String>,
    /// Its cosignature line over that checkpoint.
    pub cosignature: Option<String>,
    /// When it cosigned (Unix seconds, from the cosignature).
    pub cosigned_at: Option<u64>,
    /// Why the last submission failed, if it did.
    pub error: Option<String>,
}

impl From<pacta_registry::witnessing::Held> for WitnessDto {
    fn from(h: pacta_registry::witnessing::Held) -> WitnessDto {
        WitnessDto {
            name: h.name,
            url: h.url,
            key: h.key,
            size: h.size,
            root: h.root,
            cosignature: h.cosignature,
            cosigned_at: h.cosigned_at,
            error: h.error,
        }
    }
}

/// A consistency proof between two sizes of the log's Merkle tree (RFC
/// 9162), hashes in base64.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ConsistencyProofDto {
    /// The older size.
    pub from: u64,
    /// The newer size.
    pub to: u64,
    /// The older tree's root.
    pub from_root: String,
    /// The newer tree's root.
    pub to_root: String,
    /// The proof.
    pub hashes: Vec<String>,
}
