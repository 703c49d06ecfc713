//! The yearly summary of international cooperation for a regional
//! assembly: for a year and a home party (or every home party), what was
//! in force on 1 January and on 31 December, what was signed, stagnated,
//! suspended, revived or terminated during the year, the activities of the
//! year and the offers published in it — each line citing its source.
//!
//! An event counts for a year when its effective date lies wholly within
//! it: a signing dated `2001` counts for 2001. One whose date overlaps the
//! year without lying within it (`[2009-04-22..]`, `[..2013]`) is listed
//! as *possibly* in that year, in every year it overlaps, rather than
//! dropped. With a strict reading, a presumed `yes` (no evidence reaching
//! the day) is listed as perhaps in force.

use std::collections::BTreeMap;

use pacta_domain::{Day, EventType, InForce, Interval, Slug, StreamId, Timestamp};
use pacta_projections::ListFilter;
use pacta_store::Head;

use crate::query::{EventView, PartyRef, annotate};
use crate::{CommandError, Registry, now};

/// One partnership in an in-force list.
#[derive(Clone, Debug)]
pub struct InForceLine {
    /// The partnership.
    pub id: Slug,
    /// The partner.
    pub partner: PartyRef,
    /// `yes` or `uncertain`.
    pub in_force: InForce,
    /// The signing (or attestation) it rests on, with its source.
    pub basis: Option<EventView>,
}

/// One event of the year.
#[derive(Clone, Debug)]
pub struct EventLine {
    /// The partnership or offer.
    pub id: Slug,
    /// The partner (or the town of an offer).
    pub partner: PartyRef,
    /// The event, with its source.
    pub event: EventView,
}

/// The report for one home party.
#[derive(Clone, Debug, Default)]
pub struct Section {
    /// The home party.
    pub home: Option<PartyRef>,
    /// In force for certain on 1 January.
    pub in_force_start: Vec<InForceLine>,
    /// Perhaps in force on 1 January (the sources' precision allows both).
    pub uncertain_start: Vec<InForceLine>,
    /// In force for certain on 31 December.
    pub in_force_end: Vec<InForceLine>,
    /// Perhaps in force on 31 December.
    pub uncertain_end: Vec<InForceLine>,
    /// Signed (or found in force) during the year.
    pub signed: Vec<EventLine>,
    /// Stagnated during the year.
    pub stagnated: Vec<EventLine>,
    /// Suspended during the year.
    pub suspended: Vec<EventLine>,
    /// Revived during the year.
    pub revived: Vec<EventLine>,
    /// Terminated during the year.
    pub terminated: Vec<EventLine>,
    /// Activities of the year.
    pub activities: Vec<EventLine>,
    /// Offers published in the year.
    pub offers: Vec<EventLine>,
    /// Events whose date overlaps the year but may lie outside it.
    pub possibly: Vec<EventLine>,
}

/// The yearly report.
#[derive(Clone, Debug)]
pub struct AnnualReport {
    /// The year.
    pub year: i32,
    /// The record time it was made as of (`None`: now).
    pub as_known_at: Option<Timestamp>,
    /// Whether a presumed `yes` was read as uncertain.
    pub strict: bool,
    /// One section per home party, by id.
    pub sections: Vec<Section>,
    /// The log's head when the report was made: every record it rests on
    /// lies at or before it (read last, since the log only grows), so the
    /// report can be checked against a digest (`pacta verify --digest`).
    pub head: Head,
    /// When it was made.
    pub made_at: Timestamp,
}

impl Registry {
    /// The yearly report for `year`, for one home party or all, as known
    /// at a time (now by default).
    pub fn annual_report(
        &self,
        year: i32,
        party: Option<&Slug>,
        as_known_at: Option<Timestamp>,
        strict: bool,
    ) -> Result<AnnualReport, CommandError> {
        check_year(year, crate::now().day()).map_err(CommandError::Invalid)?;
        let first = Day::from_ymd(year, 1, 1).map_err(|e| CommandError::Invalid(e.to_string()))?;
        let last = Day::from_ymd(year, 12, 31).map_err(|e| CommandError::Invalid(e.to_string()))?;
        let within = |i: Interval| first.number() <= i.lo() && i.hi() <= last.number();
        let overlaps = |i: Interval| i.lo() <= last.number() && first.number() <= i.hi();
        let mut sections: BTreeMap<Slug, Section> = BTreeMap::new();

        // In force at both ends of the year.
        for (day, start) in [(first, true), (last, false)] {
            let filter = ListFilter {
                party: party.cloned(),
                status: None,
                valid_on: Some(pacta_domain::Span::day(day)),
                in_force: Default::default(),
                as_known_at,
                today: day,
            };
            for row in self.list(&filter) {
                if party.is_some_and(|p| p != &row.home.id) {
                    continue;
                }
                let basis = self
                    .partnership(row.id.as_str(), day, as_known_at)?
                    .and_then(|d| d.signed);
                let line = InForceLine {
                    id: row.id.clone(),
                    partner: row.partner.clone(),
                    in_force: row.in_force_read(strict),
                    basis,
                };
                let s = sections.entry(row.home.id.clone()).or_default();
                match (start, line.in_force) {
                    (true, InForce::Yes) => s.in_force_start.push(line),
                    (true, _) => s.uncertain_start.push(line),
                    (false, InForce::Yes) => s.in_force_end.push(line),
                    (false, _) => s.uncertain_end.push(line),
                }
            }
        }

        // Events of the year, partnership by partnership.
        let headers = self.projections().partnerships().headers();
        for header in headers {
            if party.is_some_and(|p| p != &header.home) {
                continue;
            }
            if as_known_at.is_some_and(|t| t < header.opened_at) {
                continue;
            }
            let Some(resolved) =
                self.projections()
                    .partnerships()
                    .resolve(header.id.as_str(), last, as_known_at)
            else {
                continue;
            };
            let records =
                self.records_known_at(&StreamId::partnership(header.id.clone()), as_known_at)?;
            let views = annotate(&records);
            let partner = self.party_ref(&header.partner);
            for step in resolved.timeline.steps() {
                let wholly = within(step.effective);
                if !wholly && !overlaps(step.effective) {
                    continue;
                }
                let Some(view) = views
                    .iter()
                    .find(|v| v.record.envelope.position == step.position)
                else {
                    continue;
                };
                let line = EventLine {
                    id: header.id.clone(),
                    partner: partner.clone(),
                    event: view.clone(),
                };
                let s = sections.entry(header.home.clone()).or_default();
                if !wholly {
                    if step.ty != EventType::Amended {
                        s.possibly.push(line);
                    }
                    continue;
                }
                match step.ty {
                    EventType::Signed | EventType::Attested => s.signed.push(line),
                    EventType::Stagnated => s.stagnated.push(line),
                    EventType::Suspended => s.suspended.push(line),
                    EventType::Revived => s.revived.push(line),
                    EventType::Terminated => s.terminated.push(line),
                    EventType::ActivityRecorded => s.activities.push(line),
                    _ => {}
                }
            }
        }

        // Offers published in the year.
        for offer in self.projections().offers().list(None) {
            if party.is_some_and(|p| p != &offer.home) {
                continue;
            }
            if as_known_at.is_some_and(|t| t < offer.recorded_at) {
                continue;
            }
            if !offer.published.is_some_and(|d| within(d.interval())) {
                continue;
            }
            let records = self.records_known_at(&StreamId::offer(offer.id.clone()), as_known_at)?;
            let Some(view) = annotate(&records).into_iter().next() else {
                continue;
            };
            let s = sections.entry(offer.home.clone()).or_default();
            s.offers.push(EventLine {
                id: offer.id.clone(),
                partner: self.party_ref(&offer.party),
                event: view,
            });
        }

        let mut out = Vec::new();
        for (home, mut s) in sections {
            s.home = Some(self.party_ref(&home));
            let by_date = |l: &EventLine| {
                (
                    l.event.date.map(|d| (d.interval().hi(), d.interval().lo())),
                    l.event.record.envelope.position,
                )
            };
            for list in [
                &mut s.signed,
                &mut s.stagnated,
                &mut s.suspended,
                &mut s.revived,
                &mut s.terminated,
                &mut s.activities,
                &mut s.offers,
                &mut s.possibly,
            ] {
                list.sort_by_key(by_date);
            }
            out.push(s);
        }
        let head = self.store().head();
        Ok(AnnualReport {
            year,
            as_known_at,
            strict,
            sections: out,
            head,
            made_at: now(),
        })
    }
}

/// Whether a report may be asked for `year` on `today`: from
/// [`pacta_domain::limits::FIRST_PLAUSIBLE_YEAR`] to the year a year from
/// today falls in; the error names the range.
pub fn check_year(year: i32, today: Day) -> Result<(), String> {
    let (first, last) = pacta_domain::limits::plausible_days(today);
    let (first, last) = (first.ymd().0, last.ymd().0);
    if (first..=last).contains(&year) {
        Ok(())
    } else {
        Err(format!(
            "year {year} is outside the years the registry reports on: {first} to {last}"
        ))
    }
}
