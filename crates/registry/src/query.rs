//! Read views shared by the CLI and the HTTP API: one partnership on a
//! day as known at a time, its history, listings.
//!
//! Status and in force come from the partnerships projection; the full
//! records (data, sources, hashes) of the one stream asked about are read
//! through the store's stream index.

use pacta_domain::{
    Day, DayState, EventType, Evidence, InForce, Initiative, Instrument, Over, PartialDate,
    Payload, Recorded, Slug, Span, Status, StreamId, Timestamp,
};
use pacta_projections::{ListFilter, Lookup, PartyView};

use crate::{CommandError, Registry};

/// A party named in a view: id and display name.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PartyRef {
    /// Its id.
    pub id: Slug,
    /// Its English, Czech or native name.
    pub name: std::sync::Arc<str>,
}

/// One record with what later records (known at the time asked about) say
/// of it.
#[derive(Clone, PartialEq, Debug)]
pub struct EventView {
    /// The record as stored.
    pub record: Recorded,
    /// Its effective date after corrections.
    pub date: Option<PartialDate>,
    /// Its data after corrections.
    pub data: serde_json::Value,
    /// Positions of the corrections applied to it, in order.
    pub corrected_by: Vec<u64>,
    /// Position of the retraction that withdrew it.
    pub retracted_by: Option<u64>,
    /// For a correction or retraction: the position of the event it points at.
    pub target: Option<u64>,
}

impl EventView {
    /// For a date open at its end (`[2009-04-22..]`): the day answers take
    /// as its end, and why — `source_date` (the last day of the reporting
    /// source's date: a source cannot report a later event) or
    /// `recorded` (the day it was recorded, when the source's date is open
    /// too or missing). See `pacta_domain::history`.
    pub fn open_end_bound(&self) -> Option<(Day, &'static str)> {
        let source_date = self.record.event.source.as_ref().and_then(|s| s.date);
        let (interval, open) = pacta_domain::history::bounded(
            self.date.as_ref(),
            source_date.as_ref(),
            self.record.envelope.recorded_at,
        );
        if !open {
            return None;
        }
        let by_source = source_date.is_some_and(|d| d.interval().latest().is_some());
        let day = interval.latest()?;
        Some((day, if by_source { "source_date" } else { "recorded" }))
    }
}

/// Annotates a stream's records (log order, all known at one time) with
/// their corrections and retractions.
pub fn annotate(records: &[Recorded]) -> Vec<EventView> {
    let mut views: Vec<EventView> = records
        .iter()
        .map(|r| EventView {
            record: r.clone(),
            date: r.event.date,
            data: r.event.payload.to_value(),
            corrected_by: Vec::new(),
            retracted_by: None,
            target: None,
        })
        .collect();
    for i in 0..views.len() {
        let (target, date, patch) = match &views[i].record.event.payload {
            Payload::Corrected(c) => (c.target, c.date, c.data.clone()),
            Payload::Retracted(r) => (r.target, None, None),
            _ => continue,
        };
        let position = views[i].record.envelope.position;
        let is_correction = views[i].record.event.event_type() == EventType::Corrected;
        let Some(j) = views[..i]
            .iter()
            .position(|v| v.record.envelope.event_id == target)
        else {
            continue;
        };
        views[i].target = Some(views[j].record.envelope.position);
        let original = &mut views[j];
        if is_correction {
            if date.is_some() {
                original.date = date;
            }
            if let (Some(patch), serde_json::Value::Object(data)) = (patch, &mut original.data) {
                data.extend(patch);
            }
            original.corrected_by.push(position);
        } else {
            original.retracted_by = Some(position);
        }
    }
    views
}

/// How a party named by text was found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PartyMatch {
    /// By its id, or a whole name, alias or former name.
    Exact,
    /// As the only result of a search by words and prefixes.
    Searched,
}

/// One partnership on a day as known at a time.
#[derive(Clone, PartialEq, Debug)]
pub struct PartnershipDetail {
    /// Its id.
    pub id: Slug,
    /// The Czech side.
    pub home: PartyRef,
    /// The partner.
    pub partner: PartyRef,
    /// Who initiated it.
    pub initiative: Option<Initiative>,
    /// The day asked about: the last day of `span`.
    pub valid_on: Day,
    /// The days asked about (one day, a month, a period). Status, events
    /// and instrument are those of its last day; in force is over all of it.
    pub span: Span,
    /// In force over `span`, and read strictly.
    pub over: (Over, Over),
    /// The record time asked about (`None`: now).
    pub as_known_at: Option<Timestamp>,
    /// Status on the day.
    pub status: Status,
    /// In force over the days asked about (see [`Over::in_force`]).
    pub in_force: InForce,
    /// The instrument on the day.
    pub instrument: Option<Instrument>,
    /// Areas of cooperation of the agreement on the day.
    pub areas: Vec<String>,
    /// The signing (or, without one, the earliest attestation).
    pub signed: Option<EventView>,
    /// The termination.
    pub terminated: Option<EventView>,
    /// The last activity on or before the day.
    pub last_activity: Option<EventView>,
    /// The lifecycle events that count on the day, and those that
    /// certainly happened by then after a pending one, in effective order.
    pub steps: Vec<EventView>,
    /// Every record of the stream known at the time, in log order.
    pub version: u64,
    /// When in force is `yes`: whether evidence reaches the day.
    pub evidence: Option<Evidence>,
    /// The latest event that shows it alive.
    pub last_evidence: Option<EventView>,
    /// Events whose date allows the day both before and after them: they
    /// may or may not have happened by then.
    pub pending: Vec<EventView>,
    /// The statuses possible on the day: `status` first, then the status
    /// after each pending event.
    pub possible_statuses: Vec<Status>,
    /// Why in force is less than the partnership's own history says (see
    /// [`ListRow::in_force_reason`]).
    pub in_force_reason: Option<String>,
}

impl PartnershipDetail {
    /// In force, strictly read (a presumed `yes` is `uncertain`) or not.
    pub fn in_force_read(&self, strict: bool) -> InForce {
        self.over_read(strict).in_force()
    }

    /// In force over the days asked, strictly read or not.
    pub fn over_read(&self, strict: bool) -> Over {
        if strict { self.over.1 } else { self.over.0 }
    }
}

impl ListRow {
    /// In force, strictly read (a presumed `yes` is `uncertain`) or not.
    pub fn in_force_read(&self, strict: bool) -> InForce {
        self.over_read(strict).in_force()
    }

    /// In force over the days asked, strictly read or not.
    pub fn over_read(&self, strict: bool) -> Over {
        if strict { self.over.1 } else { self.over.0 }
    }
}

/// In force over a span as the parties' existence limits it.
struct Limited {
    over: (Over, Over),
    evidence: Option<Evidence>,
    reason: Option<String>,
}

/// A row of a listing.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ListRow {
    /// The partnership id.
    pub id: Slug,
    /// The Czech side.
    pub home: PartyRef,
    /// The partner.
    pub partner: PartyRef,
    /// Status on the day (the last day asked about).
    pub status: Status,
    /// In force over the days asked about (see [`Over::in_force`]).
    pub in_force: InForce,
    /// In force over the days asked about, and read strictly.
    pub over: (Over, Over),
    /// The instrument on the day.
    pub instrument: Option<Instrument>,
    /// When in force is `yes` on some day asked: whether evidence reaches
    /// every such day (`presumed` when it misses one).
    pub evidence: Option<Evidence>,
    /// Why in force is less than the partnership's own history says: a
    /// party that did not exist yet, or no longer, on the day.
    pub in_force_reason: Option<String>,
}

impl Registry {
    /// How a party's existence limits what is in force on `day`: `No`
    /// before it came into being or after it ceased to exist, `Uncertain`
    /// while the dates allow both; with the reason, citing its source.
    pub fn existence_limit(&self, party: &Slug, day: Day) -> Option<(InForce, String)> {
        let view = self.projections().parties().existence(party.as_str())?;
        let d = day.number();
        let name = &view.name;
        let cite = view
            .source_title
            .as_ref()
            .map(|title| format!(" ({title})"))
            .unwrap_or_default();
        if let Some(e) = view.established {
            let i = e.interval();
            if d < i.lo() {
                return Some((
                    InForce::No,
                    format!("{name} did not exist before {e}{cite}"),
                ));
            }
            if d < i.hi() {
                return Some((
                    InForce::Uncertain,
                    format!("{name} came into being within {e}{cite}"),
                ));
            }
        }
        if let Some(x) = view.dissolved {
            let i = x.interval();
            if i.hi() != pacta_domain::Interval::OPEN_HI && d >= i.hi() {
                return Some((InForce::No, format!("{name} ceased to exist by {x}{cite}")));
            }
            if d >= i.lo() {
                return Some((
                    InForce::Uncertain,
                    format!("{name} ceased to exist within {x}{cite}"),
                ));
            }
        }
        None
    }

    /// In force over `span`, from the partnership's own answers on its
    /// change days (`samples`, first day first), limited by the existence
    /// of both parties on every day, with the first reason it was limited.
    fn limited_over(
        &self,
        home: &Slug,
        partner: &Slug,
        span: Span,
        samples: &[(Day, DayState)],
    ) -> Limited {
        let mut days: Vec<Day> = samples.iter().map(|(d, _)| *d).collect();
        for party in [home, partner] {
            let Some(view) = self.projections().parties().existence(party.as_str()) else {
                continue;
            };
            for date in [view.established, view.dissolved].into_iter().flatten() {
                let i = date.interval();
                for d in [i.earliest(), i.latest().map(Day::succ)]
                    .into_iter()
                    .flatten()
                {
                    if span.contains(d) {
                        days.push(d);
                    }
                }
            }
        }
        days.sort_unstable();
        days.dedup();
        let mut read = (Vec::new(), Vec::new());
        let (mut presumed, mut evidenced, mut reason) = (false, false, None);
        for d in days {
            let at = samples.partition_point(|(s, _)| *s <= d);
            let Some((_, state)) = at.checked_sub(1).map(|i| samples[i]) else {
                continue;
            };
            let (in_force, why) = self.limited_by_parties(home, partner, d, state.in_force);
            reason = reason.or(why);
            let evidence = state.evidence.filter(|_| in_force == InForce::Yes);
            presumed |= evidence == Some(Evidence::Presumed);
            evidenced |= evidence == Some(Evidence::Evidenced);
            read.0.push(in_force);
            read.1.push(pacta_domain::history::read_in_force(
                in_force, evidence, true,
            ));
        }
        Limited {
            over: (Over::of(read.0), Over::of(read.1)),
            evidence: if presumed {
                Some(Evidence::Presumed)
            } else {
                evidenced.then_some(Evidence::Evidenced)
            },
            reason,
        }
    }

    /// In force on `day` limited by the existence of both parties, with
    /// the reason when it was limited.
    fn limited_by_parties(
        &self,
        home: &Slug,
        partner: &Slug,
        day: Day,
        in_force: InForce,
    ) -> (InForce, Option<String>) {
        let rank = |f: InForce| match f {
            InForce::No => 0,
            InForce::Uncertain => 1,
            InForce::Yes => 2,
        };
        let mut out = (in_force, None);
        for party in [home, partner] {
            if let Some((limit, reason)) = self.existence_limit(party, day)
                && rank(limit) < rank(out.0)
            {
                out = (limit, Some(reason));
            }
        }
        out
    }
    /// The party a text names — an id, a name or an alias, as a person
    /// types it: the party with this id (in any letter case) before
    /// anything else, else the one party that answers to it as a name,
    /// alias or former name (letter case, diacritics and spacing aside).
    ///
    /// `Err(Lookup::Ambiguous(candidates))` when several parties answer to
    /// the name (data stored before names were kept unique), the
    /// candidates by id; `Err(Lookup::NotFound)` when none does. Every
    /// `--party`, `?party=` and `/parties/{id}` resolves its text here.
    pub fn lookup_party(&self, text: &str) -> Result<PartyView, Lookup> {
        self.find_party(text).map(|(party, _)| party)
    }

    /// The party a text names as [`Registry::lookup_party`] finds it, else
    /// the one party a search finds ([`pacta_projections::Parties::search`]:
    /// `plzen` for the Plzeň Region), saying which way it was found, so
    /// that the caller can name a searched match. Several search results
    /// are `Ambiguous`, never a guess.
    pub fn find_party(&self, text: &str) -> Result<(PartyView, PartyMatch), Lookup> {
        let parties = self.projections().parties();
        match parties.lookup(text) {
            Err(Lookup::NotFound) => {}
            found => return found.map(|p| (p, PartyMatch::Exact)),
        }
        let mut found = parties.search(text);
        match found.len() {
            0 => Err(Lookup::NotFound),
            1 => Ok((found.remove(0), PartyMatch::Searched)),
            _ => Err(Lookup::Ambiguous(found)),
        }
    }

    /// A party reference with its display name.
    pub fn party_ref(&self, id: &Slug) -> PartyRef {
        PartyRef {
            id: id.clone(),
            name: self.projections().parties().display_name(id.as_str()),
        }
    }

    /// The stream's records known at a time, in log order.
    pub fn records_known_at(
        &self,
        stream: &StreamId,
        as_known_at: Option<Timestamp>,
    ) -> Result<Vec<Recorded>, CommandError> {
        let mut records = self.store().stream(stream)?;
        if let Some(t) = as_known_at {
            records.retain(|r| r.envelope.recorded_at <= t);
        }
        Ok(records)
    }

    /// One partnership on `valid_on` as known at `as_known_at`; `None`
    /// when it does not exist (or did not yet, at that time).
    pub fn partnership(
        &self,
        id: &str,
        valid_on: Day,
        as_known_at: Option<Timestamp>,
    ) -> Result<Option<PartnershipDetail>, CommandError> {
        self.partnership_over(id, Span::day(valid_on), as_known_at)
    }

    /// One partnership over the days of `span` as known at `as_known_at`:
    /// status, events and instrument on its last day, in force over all of
    /// it; `None` when it does not exist (or did not yet, at that time).
    pub fn partnership_over(
        &self,
        id: &str,
        span: Span,
        as_known_at: Option<Timestamp>,
    ) -> Result<Option<PartnershipDetail>, CommandError> {
        let valid_on = span.to();
        let Some(resolved) = self
            .projections()
            .partnerships()
            .resolve(id, valid_on, as_known_at)
        else {
            return Ok(None);
        };
        let header = &resolved.header;
        let records =
            self.records_known_at(&StreamId::partnership(header.id.clone()), as_known_at)?;
        let views = annotate(&records);
        let by_position = |p: u64| {
            views
                .iter()
                .find(|v| v.record.envelope.position == p)
                .cloned()
        };
        let all_steps = resolved.timeline.steps();
        // What counts on the day, and what certainly happened by then
        // although a pending step comes before it.
        let day = valid_on.number();
        let steps: Vec<EventView> = all_steps
            .iter()
            .enumerate()
            .filter(|(i, s)| *i < resolved.state.applied || s.effective.hi() <= day)
            .filter_map(|(_, s)| by_position(s.position))
            .collect();
        let (pending, possible_statuses) = resolved.timeline.pending_on(valid_on);
        let pending: Vec<EventView> = pending
            .iter()
            .filter_map(|s| by_position(s.position))
            .collect();
        let first_of = |ty: EventType| {
            all_steps
                .iter()
                .find(|s| s.ty == ty)
                .and_then(|s| by_position(s.position))
        };
        let signed = first_of(EventType::Signed).or_else(|| first_of(EventType::Attested));
        let terminated = first_of(EventType::Terminated);
        let last_activity = steps
            .iter()
            .rev()
            .find(|v| v.record.event.event_type() == EventType::ActivityRecorded)
            .cloned();
        let areas = steps
            .iter()
            .rev()
            .filter(|v| {
                matches!(
                    v.record.event.event_type(),
                    EventType::Signed | EventType::Amended
                )
            })
            .find_map(|v| v.data.get("areas").and_then(|a| a.as_array()).cloned())
            .map(|a| {
                a.into_iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let limited = self.limited_over(
            &header.home,
            &header.partner,
            span,
            &resolved.timeline.samples(span),
        );
        let in_force = limited.over.0.in_force();
        Ok(Some(PartnershipDetail {
            id: header.id.clone(),
            home: self.party_ref(&header.home),
            partner: self.party_ref(&header.partner),
            initiative: header.initiative,
            valid_on,
            span,
            over: limited.over,
            as_known_at,
            status: resolved.state.status,
            in_force,
            instrument: pacta_projections::partnerships::instrument_of(
                &resolved.timeline,
                resolved.state.applied,
            ),
            areas,
            signed,
            terminated,
            last_activity,
            steps,
            version: records.len() as u64,
            evidence: limited.evidence,
            in_force_reason: limited.reason,
            last_evidence: resolved
                .timeline
                .last_evidence()
                .and_then(|s| by_position(s.position)),
            pending,
            possible_statuses,
        }))
    }

    /// A partnership's records known at a time, annotated; `None` when it
    /// does not exist.
    pub fn history(
        &self,
        id: &str,
        as_known_at: Option<Timestamp>,
    ) -> Result<Option<Vec<EventView>>, CommandError> {
        let Ok(slug) = Slug::parse(id) else {
            return Ok(None);
        };
        let records = self.records_known_at(&StreamId::partnership(slug), as_known_at)?;
        if records.is_empty() {
            return Ok(None);
        }
        Ok(Some(annotate(&records)))
    }

    /// The partnerships matching a filter, with party names.
    pub fn list(&self, filter: &ListFilter) -> Vec<ListRow> {
        let mut rows = Vec::new();
        let span = filter.valid_on.unwrap_or(Span::day(filter.today));
        self.projections().partnerships().for_each(filter, |row| {
            let limited =
                self.limited_over(&row.header.home, &row.header.partner, span, &row.samples);
            let in_force = limited.over.0.in_force();
            if filter.valid_on.is_some() && !filter.in_force.keeps(in_force) {
                return;
            }
            rows.push(ListRow {
                id: row.header.id.clone(),
                home: PartyRef {
                    id: row.header.home.clone(),
                    name: row.home_name.clone(),
                },
                partner: PartyRef {
                    id: row.header.partner.clone(),
                    name: row.partner_name.clone(),
                },
                status: row.state.status,
                in_force,
                over: limited.over,
                instrument: row.instrument,
                evidence: limited.evidence,
                in_force_reason: limited.reason,
            });
        });
        rows
    }
}

/// How a question names its days: `valid_on` (a day, or a partial date
/// meaning all its days) or a period `valid_from`..`valid_to`, as the
/// caller spells those names (`valid_on`, `--valid-on`, …).
#[derive(Clone, Copy, Debug)]
pub struct DaysAsked<'a> {
    /// `valid_on` and how the caller calls it.
    pub on: (Option<&'a PartialDate>, &'a str),
    /// `valid_from` and how the caller calls it.
    pub from: (Option<&'a PartialDate>, &'a str),
    /// `valid_to` and how the caller calls it.
    pub to: (Option<&'a PartialDate>, &'a str),
}

impl DaysAsked<'_> {
    /// The days asked about on `today` (`None`: none named), or why they
    /// cannot be: both forms at once, half a period, an open date, a
    /// period that ends before it starts, a day outside
    /// [`pacta_domain::limits::plausible_days`].
    pub fn span(&self, today: Day) -> Result<Option<Span>, String> {
        let whole = |(date, name): (Option<&PartialDate>, &str)| -> Result<Option<Span>, String> {
            let Some(date) = date else { return Ok(None) };
            let span = Span::of(date).ok_or_else(|| {
                format!("{name}: {date} is open at an end; ask about a day, a month, a year or a closed period")
            })?;
            let (first, last) = pacta_domain::limits::plausible_days(today);
            if span.from() < first || span.from() > last {
                return Err(format!(
                    "{name}: {date} is outside the dates the registry answers for: from {first} to {last} (a year from today)"
                ));
            }
            Ok(Some(span))
        };
        let on = whole(self.on)?;
        let from = whole(self.from)?;
        let to = whole(self.to)?;
        match (on, from, to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(format!(
                "{} and {}/{} ask the same question twice; give one of them",
                self.on.1, self.from.1, self.to.1
            )),
            (Some(on), None, None) => Ok(Some(on)),
            (None, Some(from), Some(to)) => {
                Span::new(from.from(), to.to()).map(Some).ok_or_else(|| {
                    format!(
                        "{} {} ends before {} {} begins",
                        self.to.1,
                        self.to.0.map(ToString::to_string).unwrap_or_default(),
                        self.from.1,
                        self.from.0.map(ToString::to_string).unwrap_or_default()
                    )
                })
            }
            (None, Some(_), None) => Err(format!("{} needs {} too", self.from.1, self.to.1)),
            (None, None, Some(_)) => Err(format!("{} needs {} too", self.to.1, self.from.1)),
            (None, None, None) => Ok(None),
        }
    }
}

/// What a consumer of the log would otherwise work out itself, from the
/// registry's own rules: not part of the hashed record.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Derived {
    /// The first day the event may take effect on (`None`: open at its
    /// start). Its date; for a `Terminated` the date its ending takes
    /// effect where the source gives one; for a `Corrected` the date it
    /// puts in place (none when it corrects no date); for an undated
    /// event the day it was recorded — the days the registry's own
    /// answers use.
    pub earliest: Option<Day>,
    /// The last day it may take effect on, an open end bounded as answers
    /// bound it: by the date of the source that reports it, else the day
    /// it was recorded.
    pub latest: Option<Day>,
    /// Whether `latest` is such a bound rather than the date's own end.
    pub open_end: bool,
    /// `day`, `month`, `year`, `season`, `half`, `range`, … of that date
    /// (`None` when undated).
    pub precision: Option<pacta_domain::Precision>,
    /// For a partnership's event: its home party.
    pub home: Option<Slug>,
    /// For a partnership's event: its partner.
    pub partner: Option<Slug>,
}

impl Registry {
    /// The derived facts of a record (see [`Derived`]).
    pub fn derived(&self, record: &Recorded) -> Derived {
        let event = &record.event;
        // The days as the fold reads them; a correction that puts no
        // date in place has none of its own.
        let when = pacta_domain::Effective::of(event, record.envelope.recorded_at)
            .ok()
            .filter(|w| {
                event.event_type() != pacta_domain::EventType::Corrected || w.corrects_date
            });
        // The date those days come from (a correction's `data.effective`
        // outweighs its `date`, as in the fold).
        let date = match &event.payload {
            pacta_domain::Payload::Terminated(t) => t.effective.or(event.date),
            pacta_domain::Payload::Corrected(c) => c
                .data
                .as_ref()
                .and_then(|d| d.get("effective"))
                .and_then(|v| serde_json::from_value::<PartialDate>(v.clone()).ok())
                .or(c.date),
            _ => event.date,
        };
        let header = (record.envelope.stream.kind == pacta_domain::StreamKind::Partnership)
            .then(|| {
                self.projections()
                    .partnerships()
                    .header(record.envelope.stream.id.as_str())
            })
            .flatten();
        Derived {
            earliest: when.and_then(|w| w.days.earliest()),
            latest: when.and_then(|w| w.days.latest()),
            open_end: when.is_some_and(|w| w.open_end),
            precision: date.as_ref().map(PartialDate::precision),
            home: header.as_ref().map(|h| h.home.clone()),
            partner: header.map(|h| h.partner),
        }
    }
}
