//! Termination dossiers: when exactly an agreement ended, who decided it,
//! on what evidence, who recorded it and when, and whether the record has
//! changed since.

use pacta_domain::{
    Day, EventType, InForce, Instrument, Interval, PartialDate, Slug, StreamId, Timestamp,
};
use pacta_store::{Head, VerifyReport};

use crate::query::{EventView, PartyRef, annotate};
use crate::{CommandError, Registry, now};

/// How many activities before the end a dossier shows.
pub const LAST_ACTIVITIES: usize = 3;

/// One terminated partnership's dossier.
#[derive(Clone, Debug)]
pub struct Dossier {
    /// The partnership.
    pub id: Slug,
    /// The Czech side.
    pub home: PartyRef,
    /// The partner.
    pub partner: PartyRef,
    /// The instrument that ended.
    pub instrument: Option<Instrument>,
    /// The `Terminated` event (date as corrected, original beside it).
    pub termination: EventView,
    /// When the ending took effect, and whether the source says so.
    pub takes_effect: TakesEffect,
    /// What preceded it, in effective order: signing (or attestation),
    /// stagnation, suspension, revival, and the last activities.
    pub preceding: Vec<EventView>,
    /// Every `Corrected` or `Retracted` event that touches the
    /// termination or anything preceding it.
    pub corrections: Vec<EventView>,
    /// What in force before the end rests on.
    pub before_end: BeforeEnd,
}

/// What a terminated agreement's being in force before its end rests on.
#[derive(Clone, Debug)]
pub struct BeforeEnd {
    /// The last fact before the end that shows it alive (a signing, an
    /// attestation, an amendment, a revival, an activity that took place).
    pub last_evidence: Option<EventView>,
    /// The days from the day after that evidence's latest day to the day
    /// before the ending's earliest effective day, when there are any: no
    /// fact shows the agreement alive then, and no end had taken effect.
    pub unevidenced: Option<(Day, Day)>,
    /// In force on those days: `yes` (presumed), or `uncertain` when read
    /// strictly.
    pub in_force: InForce,
    /// The days the ending may have taken effect on, when its date allows
    /// more than one (`None` for a side that is open): in force is
    /// `uncertain` on them.
    pub ending_window: Option<(Option<Day>, Option<Day>)>,
    /// Whether it was read strictly (`evidence=strict`).
    pub strict: bool,
}

impl BeforeEnd {
    /// The evidence before an ending that takes effect on a day in `end`.
    fn of(last: Option<(EventView, i32)>, end: Interval, strict: bool) -> BeforeEnd {
        let unevidenced = last.as_ref().and_then(|(_, hi)| {
            let first = hi.checked_add(1)?;
            let last = end.lo().checked_sub(1)?;
            (first <= last).then(|| (Day::from_number(first), Day::from_number(last)))
        });
        BeforeEnd {
            last_evidence: last.map(|(v, _)| v),
            unevidenced,
            in_force: pacta_domain::history::read_in_force(
                InForce::Yes,
                Some(pacta_domain::Evidence::Presumed),
                strict,
            ),
            ending_window: (end.lo() != end.hi()).then(|| (end.earliest(), end.latest())),
            strict,
        }
    }

    /// What a reader is told of it.
    pub fn explain(&self) -> String {
        let mut parts = Vec::new();
        match (&self.last_evidence, self.unevidenced) {
            (None, _) => parts.push("no fact before the end shows the agreement alive".to_owned()),
            (Some(_), Some((first, last))) if self.strict => parts.push(format!(
                "no fact shows the agreement alive from {first} to {last}; read strictly, \
                 in force on those days is uncertain"
            )),
            (Some(_), Some((first, last))) => parts.push(format!(
                "no fact shows the agreement alive from {first} to {last}; in force on those \
                 days is presumed, since no end had taken effect"
            )),
            (Some(_), None) if self.ending_window.is_none() => parts.push(
                "a fact shows the agreement alive up to the day before the ending takes effect"
                    .to_owned(),
            ),
            (Some(_), None) => {}
        }
        if let Some((from, to)) = self.ending_window {
            let side =
                |d: Option<Day>| d.map_or_else(|| "an unknown day".to_owned(), |d| d.to_string());
            parts.push(format!(
                "the ending took effect on a day from {} to {}; in force on those days is uncertain",
                side(from),
                side(to)
            ));
        }
        parts.join("; ")
    }
}

/// When an ending takes effect, as the registry reckons in force.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TakesEffect {
    /// The date in force ends on: the termination's `data.effective`
    /// where the source gives one, else the act's date.
    pub date: Option<PartialDate>,
    /// Where that date comes from.
    pub basis: EffectiveBasis,
}

/// Where a dossier's "takes effect" date comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EffectiveBasis {
    /// The source gives the day the ending takes effect.
    Stated,
    /// The source gives no effective date: the act's date (decision,
    /// denunciation) is taken in its place. A dossier says so rather than
    /// stating it as fact.
    ActDate,
}

impl EffectiveBasis {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EffectiveBasis::Stated => "stated",
            EffectiveBasis::ActDate => "act_date",
        }
    }

    /// What a reader is told of it.
    pub fn explain(self) -> &'static str {
        match self {
            EffectiveBasis::Stated => "the source gives the date the ending takes effect",
            EffectiveBasis::ActDate => {
                "the source gives no effective date; the date of the act is taken"
            }
        }
    }
}

impl TakesEffect {
    /// From a termination as corrected.
    pub fn of(termination: &EventView) -> TakesEffect {
        let stated = termination
            .data
            .get("effective")
            .and_then(|v| serde_json::from_value::<PartialDate>(v.clone()).ok());
        match stated {
            Some(date) => TakesEffect {
                date: Some(date),
                basis: EffectiveBasis::Stated,
            },
            None => TakesEffect {
                date: termination.date,
                basis: EffectiveBasis::ActDate,
            },
        }
    }
}

/// Dossiers with the verification of the chain they rest on.
#[derive(Clone, Debug)]
pub struct Dossiers {
    /// The dossiers, one per terminated partnership.
    pub dossiers: Vec<Dossier>,
    /// The hash chain recomputed up to the head.
    pub verification: VerifyReport,
    /// The head the verification reached: a digest to keep.
    pub head: Head,
    /// When the dossiers were made.
    pub made_at: Timestamp,
    /// Whether in force before each end was read strictly.
    pub strict: bool,
    /// Each event's offline proof bundle, when attached
    /// ([`Registry::attach_proofs`]).
    pub proofs: Option<crate::transparency::Proofs>,
}

impl Registry {
    /// The termination dossier of one partnership (`Some(id)`) or of
    /// every terminated one, as known now, with a verification of the
    /// whole chain. `Ok(None)` when `id` is unknown or not terminated.
    /// `strict` reads in force before the end strictly: days past the last
    /// evidence are `uncertain`, not presumed `yes`.
    pub fn termination_dossiers(
        &self,
        id: Option<&str>,
        strict: bool,
    ) -> Result<Option<Dossiers>, CommandError> {
        let headers = match id {
            Some(id) => match self.projections().partnerships().header(id) {
                Some(h) => vec![h],
                None => return Ok(None),
            },
            None => self.projections().partnerships().headers(),
        };
        let mut dossiers = Vec::new();
        for header in headers {
            if let Some(d) = self.dossier(&header.id, strict)? {
                dossiers.push(d);
            }
        }
        if id.is_some() && dossiers.is_empty() {
            return Ok(None);
        }
        let verification = self.store().verify(&mut |_, _| {})?;
        Ok(Some(Dossiers {
            dossiers,
            head: Head {
                position: verification.head_position,
                hash: verification.head_hash,
            },
            verification,
            made_at: now(),
            strict,
            proofs: None,
        }))
    }

    fn dossier(&self, id: &Slug, strict: bool) -> Result<Option<Dossier>, CommandError> {
        let Some(resolved) =
            self.projections()
                .partnerships()
                .resolve(id.as_str(), now().day(), None)
        else {
            return Ok(None);
        };
        let steps = resolved.timeline.steps();
        let Some(end_index) = steps.iter().position(|s| s.ty == EventType::Terminated) else {
            return Ok(None);
        };
        let records = self.store().stream(&StreamId::partnership(id.clone()))?;
        let views = annotate(&records);
        let view = |position: u64| {
            views
                .iter()
                .find(|v| v.record.envelope.position == position)
                .cloned()
        };
        let Some(termination) = view(steps[end_index].position) else {
            return Ok(None);
        };
        let before = &steps[..end_index];
        let last_evidence = before
            .iter()
            .filter(|s| s.is_evidence())
            .max_by_key(|s| (s.effective.hi(), s.position))
            .and_then(|s| Some((view(s.position)?, s.effective.hi())));
        let before_end = BeforeEnd::of(last_evidence, steps[end_index].effective, strict);
        let mut preceding: Vec<EventView> = before
            .iter()
            .filter(|s| {
                matches!(
                    s.ty,
                    EventType::Signed
                        | EventType::Attested
                        | EventType::Stagnated
                        | EventType::Suspended
                        | EventType::Revived
                        | EventType::Amended
                )
            })
            .filter_map(|s| view(s.position))
            .collect();
        let activities: Vec<EventView> = before
            .iter()
            .filter(|s| s.ty == EventType::ActivityRecorded)
            .filter_map(|s| view(s.position))
            .collect();
        let skip = activities.len().saturating_sub(LAST_ACTIVITIES);
        preceding.extend(activities.into_iter().skip(skip));
        // Back to effective order.
        let order = |v: &EventView| {
            steps
                .iter()
                .position(|s| s.position == v.record.envelope.position)
                .unwrap_or(usize::MAX)
        };
        preceding.sort_by_key(order);
        let touched: Vec<u64> = preceding
            .iter()
            .chain(std::iter::once(&termination))
            .map(|v| v.record.envelope.position)
            .collect();
        // Corrections and retractions of anything shown, retracted steps
        // included (they are not in the timeline any more).
        let corrections: Vec<EventView> = views
            .iter()
            .filter(|v| {
                v.target.is_some_and(|t| {
                    touched.contains(&t)
                        || views
                            .iter()
                            .any(|o| o.record.envelope.position == t && o.retracted_by.is_some())
                })
            })
            .cloned()
            .collect();
        Ok(Some(Dossier {
            id: id.clone(),
            home: self.party_ref(&resolved.header.home),
            partner: self.party_ref(&resolved.header.partner),
            instrument: pacta_projections::partnerships::instrument_of(
                &resolved.timeline,
                end_index,
            ),
            takes_effect: TakesEffect::of(&termination),
            termination,
            preceding,
            corrections,
            before_end,
        }))
    }
}
