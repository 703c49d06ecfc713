//! The partnerships projection: one timeline of facts per partnership and
//! an index by party.
//!
//! Durable state: the projection's keyspace holds segments, one per
//! applied slice of events, keyed by the slice's first log position
//! (8 bytes, big-endian), in the compact encoding ([`pacta_store::kv::Enc`]). A segment lists, for
//! each partnership the batch touched, its new header (from
//! `PartnershipOpened`) or its new facts in compact form. Loading replays
//! the segments in order into memory.
//!
//! In memory: per partnership its header and facts (log order), and a
//! lazily built [`Timeline`] of the facts as known now; an index from each
//! party to its partnerships. Answers for "now" come from the cached
//! timeline (a binary search per partnership); answers for an earlier
//! record time fold that partnership's facts up to it.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use pacta_domain::{
    Day, DayState, EventType, Fact, InForce, Initiative, Instrument, Payload, Recorded, Slug, Span,
    Status, StreamKind, Timeline, Timestamp,
};

use pacta_store::kv::{self, Dec, DecodeError, Enc, WriteSet};

use crate::codec::{DecodeDomain, EncodeDomain};
use crate::{ApplyContext, Error, Projection};

const NAME: &str = "partnerships";
const TAG_HEADER: u8 = 0;
const TAG_FACT: u8 = 1;
const TAG_NAME: u8 = 2;

/// Who a partnership is between: its stream header.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Header {
    /// The partnership id.
    pub id: Slug,
    /// The Czech side.
    pub home: Slug,
    /// The partner.
    pub partner: Slug,
    /// Who initiated it.
    pub initiative: Option<Initiative>,
    /// Position of `PartnershipOpened`.
    pub opened_position: u64,
    /// When it was opened in the registry.
    pub opened_at: Timestamp,
}

struct Entry {
    header: Header,
    /// Display names of home and partner (kept current from party events).
    home_name: Arc<str>,
    partner_name: Arc<str>,
    facts: Vec<Fact>,
    /// The timeline as known now, built on first use after a change.
    current: OnceLock<Option<Timeline>>,
    /// The answer for every day as known now, built on first use.
    answers: OnceLock<Answers>,
}

/// The answer of a timeline for every day, as a step function: the
/// answer changes only on the timeline's breakpoints.
///
/// Invariant: `days` ascending; `values[i]` holds on `[days[i], days[i+1])`;
/// `before` holds before `days[0]` (or everywhere when `days` is empty).
struct Answers {
    days: Vec<i32>,
    values: Vec<Answer>,
    before: Answer,
}

#[derive(Clone, Copy)]
struct Answer {
    state: DayState,
    instrument: Option<Instrument>,
}

impl Answers {
    fn of(timeline: &Timeline) -> Answers {
        let at = |d: i32| {
            let state = timeline.on(Day::from_number(d));
            Answer {
                state,
                instrument: instrument_of(timeline, state.applied),
            }
        };
        let days = timeline.breakpoints();
        let before = at(days.first().map_or(0, |&d| d - 1));
        let values = days.iter().map(|&d| at(d)).collect();
        Answers {
            days,
            values,
            before,
        }
    }

    fn on(&self, day: Day) -> Answer {
        match self.days.partition_point(|&d| d <= day.number()) {
            0 => self.before,
            i => self.values[i - 1],
        }
    }

    /// The answer on each day of `span` on which it may change.
    fn samples(&self, span: Span) -> Vec<(Day, DayState)> {
        pacta_domain::history::change_days(span, &self.days)
            .into_iter()
            .map(|d| (d, self.on(d).state))
            .collect()
    }
}

impl Entry {
    fn last_recorded(&self) -> Timestamp {
        self.facts
            .last()
            .map_or(self.header.opened_at, |f| f.recorded_at)
    }

    fn answers(&self) -> Option<&Answers> {
        if let Some(a) = self.answers.get() {
            return Some(a);
        }
        let timeline = self.current()?;
        Some(self.answers.get_or_init(|| Answers::of(timeline)))
    }

    fn current(&self) -> Option<&Timeline> {
        self.current
            .get_or_init(|| match Timeline::resolve(&self.facts, None) {
                Ok(t) => Some(t),
                Err(refusal) => {
                    tracing::error!(id = %self.header.id, %refusal, "a stored history does not fold");
                    None
                }
            })
            .as_ref()
    }

    /// The timeline as known at `known_at`; `None` when the partnership
    /// was not yet in the registry then.
    fn timeline_at(&self, known_at: Option<Timestamp>) -> Option<std::borrow::Cow<'_, Timeline>> {
        match known_at {
            Some(t) if t < self.header.opened_at => None,
            Some(t) if t < self.last_recorded() => Timeline::resolve(&self.facts, Some(t))
                .ok()
                .map(std::borrow::Cow::Owned),
            _ => self.current().map(std::borrow::Cow::Borrowed),
        }
    }
}

#[derive(Default)]
struct State {
    entries: Vec<Entry>,
    by_id: HashMap<Slug, usize>,
    by_party: HashMap<Slug, Vec<usize>>,
    /// Display names of parties.
    names: HashMap<Slug, Arc<str>>,
    /// Entries changed since the last warm-up of their answers.
    dirty: Vec<usize>,
}

impl State {
    fn add_header(&mut self, header: Header) {
        if self.by_id.contains_key(&header.id) {
            return;
        }
        let i = self.entries.len();
        let name = |id: &Slug| {
            self.names
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.as_str().into())
        };
        let (home_name, partner_name) = (name(&header.home), name(&header.partner));
        self.by_id.insert(header.id.clone(), i);
        self.by_party
            .entry(header.home.clone())
            .or_default()
            .push(i);
        self.by_party
            .entry(header.partner.clone())
            .or_default()
            .push(i);
        self.entries.push(Entry {
            header,
            home_name,
            partner_name,
            facts: Vec::new(),
            current: OnceLock::new(),
            answers: OnceLock::new(),
        });
    }

    fn set_name(&mut self, party: &Slug, name: Arc<str>) {
        for &i in self.by_party.get(party).map(Vec::as_slice).unwrap_or(&[]) {
            let entry = &mut self.entries[i];
            if &entry.header.home == party {
                entry.home_name = name.clone();
            }
            if &entry.header.partner == party {
                entry.partner_name = name.clone();
            }
        }
        self.names.insert(party.clone(), name);
    }

    fn add_fact(&mut self, id: &str, fact: Fact) -> bool {
        let Some(&i) = self.by_id.get(id) else {
            return false;
        };
        let entry = &mut self.entries[i];
        entry.facts.push(fact);
        entry.current = OnceLock::new();
        entry.answers = OnceLock::new();
        self.dirty.push(i);
        true
    }
}

/// The partnerships projection.
#[derive(Default)]
pub struct Partnerships {
    state: RwLock<State>,
}

/// Which partnerships to list, on which day, as known when.
#[derive(Clone, Debug)]
pub struct ListFilter {
    /// Only those where this party is home or partner.
    pub party: Option<Slug>,
    /// Only those with this status on the day.
    pub status: Option<Status>,
    /// The days asked about (one day, a month, a period); with them, only
    /// those in force (`yes` or `uncertain`) on some day of them are listed.
    pub valid_on: Option<Span>,
    /// Which to list by in force on the days asked (when days are asked).
    pub in_force: InForceFilter,
    /// The record time (default: now).
    pub as_known_at: Option<Timestamp>,
    /// The day used when `valid_on` is absent.
    pub today: Day,
}

/// Which partnerships a listing on days keeps, by in force on them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InForceFilter {
    /// In force (`yes` or `uncertain`) on some day asked: the default.
    #[default]
    #[serde(rename = "yes_or_uncertain")]
    InForce,
    /// In force `yes` (over every day asked).
    Yes,
    /// In force `uncertain`.
    Uncertain,
    /// Not in force on any day asked (`no`).
    No,
    /// Every one.
    All,
}

impl std::str::FromStr for InForceFilter {
    type Err = String;

    fn from_str(s: &str) -> Result<InForceFilter, String> {
        [
            InForceFilter::InForce,
            InForceFilter::Yes,
            InForceFilter::Uncertain,
            InForceFilter::No,
            InForceFilter::All,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
        .ok_or_else(|| {
            format!("unknown in_force {s:?} (expected yes_or_uncertain, yes, uncertain, no or all)")
        })
    }
}

impl InForceFilter {
    /// Whether a row with this in force is kept.
    pub fn keeps(self, in_force: InForce) -> bool {
        match self {
            InForceFilter::InForce => in_force != InForce::No,
            InForceFilter::Yes => in_force == InForce::Yes,
            InForceFilter::Uncertain => in_force == InForce::Uncertain,
            InForceFilter::No => in_force == InForce::No,
            InForceFilter::All => true,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InForceFilter::InForce => "yes_or_uncertain",
            InForceFilter::Yes => "yes",
            InForceFilter::Uncertain => "uncertain",
            InForceFilter::No => "no",
            InForceFilter::All => "all",
        }
    }
}

/// A partnership as [`Partnerships::for_each`] passes it.
#[derive(Clone, Debug)]
pub struct Row<'a> {
    /// Its header.
    pub header: &'a Header,
    /// The home party's display name.
    pub home_name: &'a Arc<str>,
    /// The partner's display name.
    pub partner_name: &'a Arc<str>,
    /// Status and in force on the day (the last day of the days asked).
    pub state: DayState,
    /// The state on each day asked about on which it may change, first day
    /// first (one sample for one day).
    pub samples: Vec<(Day, DayState)>,
    /// The instrument on the day.
    pub instrument: Option<Instrument>,
}

/// One partnership resolved for a day and a record time.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Its header.
    pub header: Header,
    /// Every fact known at the record time, in log order.
    pub facts: Vec<Fact>,
    /// The history as known at the record time.
    pub timeline: Timeline,
    /// The answer for the day.
    pub state: DayState,
}

/// The instrument after the steps that count.
pub fn instrument_of(timeline: &Timeline, applied: usize) -> Option<Instrument> {
    timeline.steps()[..applied]
        .iter()
        .rev()
        .find_map(|s| match s.ty {
            EventType::Signed | EventType::Amended | EventType::Attested => s.detail.instrument,
            _ => None,
        })
}

impl Partnerships {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// How many partnerships there are.
    pub fn len(&self) -> usize {
        self.read().entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The header of one partnership.
    pub fn header(&self, id: &str) -> Option<Header> {
        let state = self.read();
        state
            .by_id
            .get(id)
            .map(|&i| state.entries[i].header.clone())
    }

    /// Calls `f` with one partnership's header, facts (log order) and
    /// timeline as known now, under the projection's read lock: no copy.
    pub fn with_history<R>(
        &self,
        id: &str,
        f: impl FnOnce(&Header, &[Fact], Option<&Timeline>) -> R,
    ) -> Option<R> {
        let state = self.read();
        let entry = &state.entries[*state.by_id.get(id)?];
        Some(f(&entry.header, &entry.facts, entry.current()))
    }

    /// Calls `f` with one partnership's header and facts (log order),
    /// under the projection's read lock, building no timeline.
    pub fn with_facts<R>(&self, id: &str, f: impl FnOnce(&Header, &[Fact]) -> R) -> Option<R> {
        let state = self.read();
        let entry = &state.entries[*state.by_id.get(id)?];
        Some(f(&entry.header, &entry.facts))
    }

    /// One partnership on `day` as known at `as_known_at` (now when
    /// `None`); `None` if unknown then.
    pub fn resolve(&self, id: &str, day: Day, as_known_at: Option<Timestamp>) -> Option<Resolved> {
        let state = self.read();
        let entry = &state.entries[*state.by_id.get(id)?];
        let timeline = entry.timeline_at(as_known_at)?.into_owned();
        let facts = entry
            .facts
            .iter()
            .filter(|f| as_known_at.is_none_or(|t| f.recorded_at <= t))
            .copied()
            .collect();
        Some(Resolved {
            header: entry.header.clone(),
            facts,
            state: timeline.on(day),
            timeline,
        })
    }

    /// Calls `f` for every partnership matching the filter, in the order
    /// they were opened, with the display names of its parties. The fast
    /// path of listings: for "now", one binary search per partnership.
    pub fn for_each(&self, filter: &ListFilter, mut f: impl FnMut(Row<'_>)) {
        let state = self.read();
        let span = filter.valid_on.unwrap_or(Span::day(filter.today));
        let day = span.to();
        let mut visit = |entry: &Entry| {
            let fresh = filter
                .as_known_at
                .is_none_or(|t| t >= entry.last_recorded());
            let (answer, samples) = if fresh {
                match entry.answers() {
                    Some(a) => (a.on(day), a.samples(span)),
                    None => return,
                }
            } else {
                let Some(timeline) = entry.timeline_at(filter.as_known_at) else {
                    return;
                };
                let state = timeline.on(day);
                let answer = Answer {
                    state,
                    instrument: instrument_of(&timeline, state.applied),
                };
                (answer, timeline.samples(span))
            };
            let s = answer.state;
            if filter.valid_on.is_some()
                && !matches!(filter.in_force, InForceFilter::No | InForceFilter::All)
                && samples.iter().all(|(_, s)| s.in_force == InForce::No)
            {
                return;
            }
            if filter.status.is_some_and(|st| st != s.status) {
                return;
            }
            f(Row {
                header: &entry.header,
                home_name: &entry.home_name,
                partner_name: &entry.partner_name,
                state: s,
                samples,
                instrument: answer.instrument,
            });
        };
        match &filter.party {
            Some(party) => {
                for &i in state.by_party.get(party).map(Vec::as_slice).unwrap_or(&[]) {
                    visit(&state.entries[i]);
                }
            }
            None => state.entries.iter().for_each(visit),
        }
    }

    /// Ids of the partnerships a party is in.
    pub fn ids_of_party(&self, party: &str) -> Vec<Slug> {
        let state = self.read();
        state
            .by_party
            .get(party)
            .map(|ix| {
                ix.iter()
                    .map(|&i| state.entries[i].header.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every header, in the order opened.
    pub fn headers(&self) -> Vec<Header> {
        self.read()
            .entries
            .iter()
            .map(|e| e.header.clone())
            .collect()
    }
}

fn corrupt(e: DecodeError) -> Error {
    Error::Corrupt {
        name: NAME,
        reason: e.reason,
    }
}

impl Projection for Partnerships {
    fn name(&self) -> &'static str {
        NAME
    }

    /// 2: facts say whether their date is open at its end, and such an end
    /// is bounded by the source's date (format 1 bounded it by the record
    /// day alone). 3: facts say whether a termination's date is the
    /// stated effective date, so that correcting the act's date alone does
    /// not move the end.
    fn format(&self) -> u32 {
        3
    }

    fn reads(&self, ty: EventType) -> bool {
        ty.stream_kind() == StreamKind::Partnership
            || matches!(ty, EventType::PartyRegistered | EventType::PartyAmended)
    }

    fn reset(&self) {
        *self.write() = State::default();
    }

    fn load(&self, keyspace: &kv::Reader<'_>) -> Result<(), Error> {
        let mut state = State::default();
        for item in keyspace.iter() {
            let (_, v) = item?;
            let mut d = Dec::new(&v);
            while !d.is_empty() {
                match d.u8().map_err(corrupt)? {
                    TAG_HEADER => {
                        let header = Header {
                            id: d.slug().map_err(corrupt)?,
                            home: d.slug().map_err(corrupt)?,
                            partner: d.slug().map_err(corrupt)?,
                            initiative: d.initiative().map_err(corrupt)?,
                            opened_position: d.u64().map_err(corrupt)?,
                            opened_at: Timestamp::from_micros(d.i64().map_err(corrupt)?),
                        };
                        state.add_header(header);
                    }
                    TAG_FACT => {
                        let id = d.str().map_err(corrupt)?;
                        let fact = d.fact().map_err(corrupt)?;
                        if !state.add_fact(id, fact) {
                            return Err(corrupt(
                                format!("a fact of {id} precedes its header").into(),
                            ));
                        }
                    }
                    TAG_NAME => {
                        let id = d.slug().map_err(corrupt)?;
                        let name = d.long_str().map_err(corrupt)?;
                        state.set_name(&id, name.into());
                    }
                    tag => return Err(corrupt(format!("unknown tag {tag}").into())),
                }
            }
        }
        *self.write() = state;
        Ok(())
    }

    fn apply(
        &self,
        ctx: &ApplyContext<'_>,
        events: &[&Recorded],
        writes: &mut WriteSet,
    ) -> Result<(), Error> {
        let mut enc = Enc::default();
        let mut state = self.write();
        for record in events {
            let e = &record.envelope;
            let id = e.stream.id.as_str();
            let names = match &record.event.payload {
                Payload::PartyRegistered(p) => Some(&p.names),
                Payload::PartyAmended(a) => a.names.as_ref(),
                _ => None,
            };
            if let Some(names) = names {
                let name = names.display().unwrap_or(id);
                enc.u8(TAG_NAME);
                enc.str(id);
                enc.long_str(name);
                state.set_name(&e.stream.id, name.into());
                continue;
            }
            if e.stream.kind != StreamKind::Partnership {
                continue;
            }
            if let Payload::PartnershipOpened(p) = &record.event.payload {
                let header = Header {
                    id: e.stream.id.clone(),
                    home: p.home.clone(),
                    partner: p.partner.clone(),
                    initiative: p.initiative,
                    opened_position: e.position,
                    opened_at: e.recorded_at,
                };
                enc.u8(TAG_HEADER);
                enc.str(header.id.as_str());
                enc.str(header.home.as_str());
                enc.str(header.partner.as_str());
                enc.initiative(header.initiative);
                enc.u64(header.opened_position);
                enc.i64(header.opened_at.micros());
                state.add_header(header);
                continue;
            }
            let Some(&i) = state.by_id.get(id) else {
                tracing::warn!(position = e.position, %id, "an event of a partnership without header; skipped");
                continue;
            };
            let entry = &state.entries[i];
            // A correction points at an event id; the fold needs its position
            // within this partnership. A failed lookup is an error, not a
            // correction of nothing.
            let mut lookup = Ok(());
            let fact =
                Fact::from_event(e.position, e.recorded_at, &record.event, |target| match ctx
                    .store
                    .position_of(target)
                {
                    Ok(pos) => {
                        let pos = pos?;
                        entry.facts.iter().any(|f| f.position == pos).then_some(pos)
                    }
                    Err(err) => {
                        lookup = Err(err);
                        None
                    }
                });
            lookup?;
            match fact {
                Ok(fact) => {
                    enc.u8(TAG_FACT);
                    enc.str(id);
                    enc.fact(&fact);
                    state.add_fact(id, fact);
                }
                Err(reason) => {
                    tracing::warn!(position = e.position, %id, %reason, "an event the projection cannot use; skipped");
                }
            }
        }
        if let Some(first) = events.first() {
            writes.put(first.envelope.position.to_be_bytes(), enc.0);
        }
        Ok(())
    }

    fn caught_up(&self) {
        let dirty = std::mem::take(&mut self.write().dirty);
        let state = self.read();
        for i in dirty {
            if let Some(entry) = state.entries.get(i) {
                entry.answers();
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
