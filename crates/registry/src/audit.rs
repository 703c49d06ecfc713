//! Termination dossiers: when exactly an agreement ended, who decided it,
//! on what evidence, who recorded it and when, and whether the record has
//! changed since.

use pacta_domain::{EventType, Instrument, PartialDate, Slug, StreamId, Timestamp};
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
}

impl Registry {
    /// The termination dossier of one partnership (`Some(id)`) or of
    /// every terminated one, as known now, with a verification of the
    /// whole chain. `Ok(None)` when `id` is unknown or not terminated.
    pub fn termination_dossiers(&self, id: Option<&str>) -> Result<Option<Dossiers>, CommandError> {
        let headers = match id {
            Some(id) => match self.projections().partnerships().header(id) {
                Some(h) => vec![h],
                None => return Ok(None),
            },
            None => self.projections().partnerships().headers(),
        };
        let mut dossiers = Vec::new();
        for header in headers {
            if let Some(d) = self.dossier(&header.id)? {
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
        }))
    }

    fn dossier(&self, id: &Slug) -> Result<Option<Dossier>, CommandError> {
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
        }))
    }
}
