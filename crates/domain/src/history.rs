//! Folding a partnership's history: status and "in force" on any day, as
//! known at any record time.
//!
//! The fold works on [`Fact`]s, the compact form of a partnership's events.
//! Given the facts and a record time `T`, [`Timeline::resolve`]:
//!
//! 1. keeps the facts recorded at or before `T`;
//! 2. applies each `Corrected` and `Retracted` (in log order) to the event
//!    it points at, so the original stays in the log and a correction
//!    counts only from its own record time on;
//! 3. orders the remaining lifecycle steps by effective date: by the last
//!    day each date allows, then by its first day, then by log position;
//! 4. folds them through the lifecycle ([`crate::lifecycle::transition`]),
//!    refusing a history in which a step does not fit.
//!
//! **Status on day D** is the state after the steps whose effective date
//! lies entirely on or before D (a step counts from the start of the last
//! day it may have happened). **In force on day D** is three-valued, from
//! the signing interval `[s_lo, s_hi]` (no `Signed` but an `Attested`:
//! `[-inf, latest day of the earliest attestation]`) and the termination
//! interval `[t_lo, t_hi]` (none: never), with `t_lo = max(t_lo, s_lo)`:
//! `yes` when `s_hi <= D < t_lo`, `no` when `D < s_lo` or `D >= t_hi`,
//! `uncertain` otherwise. A termination takes effect at the start of its
//! day.
//!
//! A fact is never later than the evidence of it: a range open at its end
//! (`[A..]`) ends on the last day of the date of the source that reports
//! it, where that date is closed (a source cannot report a later event),
//! else on the day it was recorded (or on `A`, if that is later). An event
//! without a date counts from the day it was recorded, as if dated that
//! day. (Its record keeps no date: the source gave none.) A date with a
//! known end may lie in the future (a denunciation taking effect next
//! year).
//!
//! **Order.** Steps fold in order of effective date: a step with a closed
//! date by the last day it allows, a step whose date is open at its end by
//! its first day (where its end was bounded says nothing of when it
//! happened, so a later fact is never refused because of that bound). A
//! refusal names the step refused and the step before it, with both dates.
//!
//! **Certain and pending.** On day D a step is certain when its last day
//! is on or before D, or when a termination certain by D follows it
//! (nothing follows a termination, so it happened before). The status on D is the state after the longest run of
//! certain steps; the steps after it whose first day is on or before D
//! are pending (they may or may not have happened by D), and the statuses
//! after each of them are the possible statuses.
//!
//! **Evidence.** The last evidence of a partnership is its latest step
//! that shows it alive: a signing, an attestation, an amendment, a
//! revival, an activity that took place (or whose outcome is not given).
//! It counts up to the last day its date allows. On a day after it, with
//! no end recorded, an agreement in force is *presumed* in force; on or
//! before it, *evidenced*.

use serde::{Deserialize, Serialize};

use crate::date::{Day, Interval};
use crate::event::{
    ActivityKind, ActivityOutcome, Event, EventType, Instrument, Payload, TerminationMode,
};
use crate::id::EventId;
use crate::lifecycle::{Refusal, Status, Transition, transition};
use crate::time::Timestamp;

/// Whether an agreement was in force on a day.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InForce {
    /// Certainly in force.
    Yes,
    /// Certainly not in force.
    No,
    /// The sources' precision allows both.
    Uncertain,
}

impl InForce {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InForce::Yes => "yes",
            InForce::No => "no",
            InForce::Uncertain => "uncertain",
        }
    }
}

impl std::fmt::Display for InForce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The in-force rule of the design guide, for a signing interval (none:
/// never signed) and a termination interval (none: never terminated).
pub fn in_force(signing: Option<Interval>, termination: Option<Interval>, day: Day) -> InForce {
    let Some(s) = signing else {
        return InForce::No;
    };
    let (t_lo, t_hi) = match termination {
        Some(t) => (t.lo().max(s.lo()), t.hi()),
        None => (Interval::OPEN_HI, Interval::OPEN_HI),
    };
    let d = day.number();
    if s.hi() <= d && d < t_lo {
        InForce::Yes
    } else if d < s.lo() || (t_hi != Interval::OPEN_HI && d >= t_hi) {
        InForce::No
    } else {
        InForce::Uncertain
    }
}

/// The fields of an event's data that status and in-force depend on.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Detail {
    /// Of `Signed` and `Amended`.
    pub instrument: Option<Instrument>,
    /// Of `Terminated`.
    pub mode: Option<TerminationMode>,
    /// Of `ActivityRecorded`.
    pub activity: Option<ActivityKind>,
    /// Of `ActivityRecorded`.
    pub outcome: Option<ActivityOutcome>,
}

impl Detail {
    fn overlay(&mut self, patch: Detail) {
        self.instrument = patch.instrument.or(self.instrument);
        self.mode = patch.mode.or(self.mode);
        self.activity = patch.activity.or(self.activity);
        self.outcome = patch.outcome.or(self.outcome);
    }
}

/// The compact form of one partnership event, as the fold needs it.
///
/// Invariant: `target` is non-zero exactly for `Corrected` and `Retracted`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fact {
    /// Log position (orders corrections; breaks ties in effective order).
    pub position: u64,
    /// When the registry learned it.
    pub recorded_at: Timestamp,
    /// The event type.
    pub ty: EventType,
    /// The days it may have happened on; for a `Corrected`, the corrected
    /// date (meaningful when `corrects_date`).
    pub effective: Interval,
    /// The data fields the fold uses; for a `Corrected`, the replacements.
    pub detail: Detail,
    /// For `Corrected` and `Retracted`: the position of the event it
    /// points at; otherwise 0.
    pub target: u64,
    /// For `Corrected`: whether it replaces the date.
    pub corrects_date: bool,
    /// Whether the date is open at its end (`[A..]`), so that the end of
    /// `effective` is a bound (the source's date, or the record day).
    pub open_end: bool,
    /// For a `Terminated`: `effective` is the date the source says the
    /// ending takes effect (`data.effective`), not the act's date. For a
    /// `Corrected`: it corrects that effective date. A correction of a
    /// termination's act date alone then leaves its end in force where it is.
    pub effective_stated: bool,
}

impl Fact {
    /// The fact of an event. `target_position` resolves the event id a
    /// `Corrected` or `Retracted` points at within the same stream.
    pub fn from_event(
        position: u64,
        recorded_at: Timestamp,
        event: &Event,
        target_position: impl FnOnce(EventId) -> Option<u64>,
    ) -> Result<Fact, String> {
        let ty = event.event_type();
        let when = Effective::of(event, recorded_at)?;
        let mut fact = Fact {
            position,
            recorded_at,
            ty,
            effective: when.days,
            detail: Detail::default(),
            target: 0,
            corrects_date: when.corrects_date,
            open_end: when.open_end,
            effective_stated: when.stated,
        };
        match &event.payload {
            Payload::Signed(s) => fact.detail.instrument = Some(s.instrument),
            Payload::Attested(a) => fact.detail.instrument = a.instrument,
            Payload::Amended(a) => fact.detail.instrument = a.instrument,
            Payload::Terminated(t) => fact.detail.mode = Some(t.mode),
            Payload::ActivityRecorded(a) => {
                fact.detail.activity = Some(a.kind);
                fact.detail.outcome = a.outcome;
            }
            Payload::Corrected(c) => {
                fact.target = target_position(c.target).ok_or_else(|| {
                    format!(
                        "Corrected points at {}, which is not an event of this partnership",
                        c.target
                    )
                })?;
                if let Some(data) = &c.data {
                    fact.detail = detail_patch(data)?;
                }
            }
            Payload::Retracted(r) => {
                fact.target = target_position(r.target).ok_or_else(|| {
                    format!(
                        "Retracted points at {}, which is not an event of this partnership",
                        r.target
                    )
                })?;
            }
            _ => {}
        }
        Ok(fact)
    }
}

/// When an event takes effect, as the fold reads it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Effective {
    /// The days it may take effect on (see [`bounded`]): its date; for a
    /// `Terminated` the date its ending takes effect (`data.effective`)
    /// where the source gives one; for a `Corrected` the date it puts in
    /// place (`data.date`, or `data.data.effective`) where it gives one;
    /// for an undated event the day it was recorded.
    pub days: Interval,
    /// Whether the date is open at its end (see [`Fact::open_end`]).
    pub open_end: bool,
    /// Whether `days` is a stated effective date (see
    /// [`Fact::effective_stated`]).
    pub stated: bool,
    /// For a `Corrected`: whether it puts a date in place.
    pub corrects_date: bool,
}

impl Effective {
    /// When `event`, recorded at `recorded_at`, takes effect. Fails on a
    /// correction whose `data.effective` is not a date.
    pub fn of(event: &Event, recorded_at: Timestamp) -> Result<Effective, String> {
        let source_date = event.source.as_ref().and_then(|s| s.date.as_ref());
        let at = |date: Option<&crate::PartialDate>| bounded(date, source_date, recorded_at);
        let (days, open_end) = at(event.date.as_ref());
        let mut when = Effective {
            days,
            open_end,
            stated: false,
            corrects_date: false,
        };
        let mut put = |date: &crate::PartialDate, stated: bool, corrects: bool| {
            (when.days, when.open_end) = at(Some(date));
            when.stated |= stated;
            when.corrects_date |= corrects;
        };
        match &event.payload {
            // In force ends when the ending takes effect: the effective
            // date where the source gives one, else the act's date.
            Payload::Terminated(t) => {
                if let Some(effective) = &t.effective {
                    put(effective, true, false);
                }
            }
            Payload::Corrected(c) => {
                if let Some(date) = &c.date {
                    put(date, false, true);
                }
                // A corrected effective date of a `Terminated` moves its
                // end as the date of any other step would.
                if let Some(value) = c.data.as_ref().and_then(|d| d.get("effective")) {
                    let effective: crate::PartialDate = serde_json::from_value(value.clone())
                        .map_err(|e| format!("Corrected data.effective: {e}"))?;
                    put(&effective, true, true);
                }
            }
            _ => {}
        }
        Ok(when)
    }
}

impl Fact {
    /// The day it folds at (see [`Step::order_day`]).
    pub fn order_day(&self) -> i32 {
        order_day(self.effective, self.open_end)
    }
}

/// The last day of a closed date, the first of one open at its end.
fn order_day(effective: Interval, open_end: bool) -> i32 {
    if open_end {
        effective.lo()
    } else {
        effective.hi()
    }
}

/// The days an event may have happened on, given the date of the source
/// that reports it and when it was recorded (see the module docs), and
/// whether its end is such a bound rather than the date's own.
pub fn bounded(
    date: Option<&crate::PartialDate>,
    source_date: Option<&crate::PartialDate>,
    recorded_at: Timestamp,
) -> (Interval, bool) {
    let recorded = recorded_at.day().number();
    match date {
        None => (
            Interval::new(recorded, recorded).expect("a day is an interval"),
            false,
        ),
        Some(d) => {
            let i = d.interval();
            if i.hi() != Interval::OPEN_HI {
                return (i, false);
            }
            let bound = source_date
                .map(|s| s.interval().hi())
                .filter(|&hi| hi != Interval::OPEN_HI)
                .unwrap_or(recorded);
            (
                Interval::new(i.lo(), bound.max(i.lo())).expect("lo <= max(lo, bound)"),
                true,
            )
        }
    }
}

/// The days an event may have happened on, given only when it was
/// recorded (no source date): see [`bounded`].
pub fn known_by(date: Option<&crate::PartialDate>, recorded_at: Timestamp) -> Interval {
    bounded(date, None, recorded_at).0
}

fn detail_patch(data: &serde_json::Map<String, serde_json::Value>) -> Result<Detail, String> {
    fn field<T: serde::de::DeserializeOwned>(
        data: &serde_json::Map<String, serde_json::Value>,
        key: &str,
    ) -> Result<Option<T>, String> {
        data.get(key)
            .map(|v| {
                serde_json::from_value(v.clone()).map_err(|e| format!("Corrected data.{key}: {e}"))
            })
            .transpose()
    }
    Ok(Detail {
        instrument: field(data, "instrument")?,
        mode: field(data, "mode")?,
        activity: field(data, "kind")?,
        outcome: field(data, "outcome")?,
    })
}

/// Whether an event type is a lifecycle step of a partnership (ordered by
/// effective date), rather than its header or a correction.
pub fn is_step(ty: EventType) -> bool {
    use EventType as E;
    matches!(
        ty,
        E::ContactEstablished
            | E::NegotiationStarted
            | E::Signed
            | E::Amended
            | E::ActivityRecorded
            | E::Stagnated
            | E::Revived
            | E::Suspended
            | E::Terminated
            | E::Attested
    )
}

/// One lifecycle step as the fold applied it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Step {
    /// Log position of the original event.
    pub position: u64,
    /// Its type.
    pub ty: EventType,
    /// Its effective days, after corrections.
    pub effective: Interval,
    /// Its data fields, after corrections.
    pub detail: Detail,
    /// The position of the last correction applied to it, 0 if none.
    pub corrected_by: u64,
    /// Whether its date is open at its end (see [`Fact::open_end`]).
    pub open_end: bool,
    /// Whether `effective` is a termination's stated effective date (see
    /// [`Fact::effective_stated`]).
    pub effective_stated: bool,
}

impl Step {
    /// The step a fact opens, if its type is a step.
    pub fn of(fact: &Fact) -> Option<Step> {
        is_step(fact.ty).then_some(Step {
            position: fact.position,
            ty: fact.ty,
            effective: fact.effective,
            detail: fact.detail,
            corrected_by: 0,
            open_end: fact.open_end,
            effective_stated: fact.effective_stated,
        })
    }

    /// Applies a `Corrected` fact that points at this step.
    pub fn correct(&mut self, fact: &Fact) {
        // A new act date of a termination whose source states when it
        // takes effect does not move its end.
        let moves = fact.effective_stated || !self.effective_stated;
        if fact.corrects_date && moves {
            self.effective = fact.effective;
            self.open_end = fact.open_end;
            self.effective_stated |= fact.effective_stated;
        }
        self.detail.overlay(fact.detail);
        self.corrected_by = fact.position;
    }

    /// The step the fact at position `target` stood as once the facts up
    /// to position `upto` were applied (`facts` in log order): corrected
    /// as they say, `None` if it is not a step or they retracted it.
    pub fn as_of(facts: &[Fact], target: u64, upto: u64) -> Option<Step> {
        let mut step = None;
        for fact in facts.iter().take_while(|f| f.position <= upto) {
            if fact.position == target {
                step = Step::of(fact);
            } else if fact.target == target {
                match fact.ty {
                    EventType::Corrected => {
                        if let Some(step) = step.as_mut() {
                            step.correct(fact);
                        }
                    }
                    EventType::Retracted => return None,
                    _ => {}
                }
            }
        }
        step
    }

    /// The day it folds at: the last day of a closed date, the first of
    /// one open at its end.
    pub fn order_day(&self) -> i32 {
        order_day(self.effective, self.open_end)
    }

    /// Whether it shows the partnership alive (see the module docs).
    pub fn is_evidence(&self) -> bool {
        match self.ty {
            EventType::Signed | EventType::Attested | EventType::Amended | EventType::Revived => {
                true
            }
            EventType::ActivityRecorded => {
                matches!(self.detail.outcome, None | Some(ActivityOutcome::TookPlace))
            }
            _ => false,
        }
    }
}

/// Whether an agreement in force on a day rests on evidence up to that day.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// A fact dated on or after the day shows it alive.
    Evidenced,
    /// No end is recorded, but no fact shows it alive after its last
    /// evidence either.
    Presumed,
}

impl Evidence {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Evidenced => "evidenced",
            Evidence::Presumed => "presumed",
        }
    }
}

/// The days a question asks about: one day, or every day of a month, a
/// year, a period.
///
/// Invariant: `from <= to`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Span {
    from: Day,
    to: Day,
}

impl Span {
    /// One day.
    pub const fn day(day: Day) -> Span {
        Span { from: day, to: day }
    }

    /// The days from `from` to `to`, both included; `None` when `to` is
    /// before `from`.
    pub fn new(from: Day, to: Day) -> Option<Span> {
        (from <= to).then_some(Span { from, to })
    }

    /// Every day a partial date allows (`2022-03`: the month); `None` when
    /// it is open at either end.
    pub fn of(date: &crate::PartialDate) -> Option<Span> {
        let i = date.interval();
        Span::new(i.earliest()?, i.latest()?)
    }

    /// The first day.
    pub const fn from(self) -> Day {
        self.from
    }

    /// The last day.
    pub const fn to(self) -> Day {
        self.to
    }

    /// Whether it is one day.
    pub fn is_day(self) -> bool {
        self.from == self.to
    }

    /// Whether the day lies in it.
    pub fn contains(self, day: Day) -> bool {
        self.from <= day && day <= self.to
    }
}

/// One status over a stretch of days (see [`Timeline::status_spans`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct StatusSpan {
    /// The status.
    pub status: Status,
    /// The days the step that brought it may have happened on.
    pub from: Interval,
    /// The days the step that ended it may have happened on (`None`: it
    /// holds to this day).
    pub to: Option<Interval>,
}

/// How in force held over a [`Span`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Over {
    /// Certainly in force on every day.
    Throughout,
    /// Certainly in force on some day, and not certainly on every day.
    Sometime,
    /// Certainly not in force on any day.
    Never,
    /// Certainly in force on no day, and perhaps on some.
    Uncertain,
}

impl Over {
    /// The answer over days whose in force is `values` (one per day on
    /// which it may change).
    pub fn of(values: impl IntoIterator<Item = InForce>) -> Over {
        let (mut all_yes, mut all_no, mut some_yes) = (true, true, false);
        for v in values {
            all_yes &= v == InForce::Yes;
            all_no &= v == InForce::No;
            some_yes |= v == InForce::Yes;
        }
        match (all_yes, all_no, some_yes) {
            (true, _, true) => Over::Throughout,
            (_, true, _) => Over::Never,
            (_, _, true) => Over::Sometime,
            _ => Over::Uncertain,
        }
    }

    /// In force over the whole span: `yes` throughout, `no` never,
    /// `uncertain` otherwise (in force part of it, or perhaps).
    pub fn in_force(self) -> InForce {
        match self {
            Over::Throughout => InForce::Yes,
            Over::Never => InForce::No,
            Over::Sometime | Over::Uncertain => InForce::Uncertain,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Over::Throughout => "throughout",
            Over::Sometime => "sometime",
            Over::Never => "never",
            Over::Uncertain => "uncertain",
        }
    }
}

impl std::fmt::Display for Over {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The days of `span` on which a step function with changes on
/// `breakpoints` (ascending day numbers) may take a new value: its first
/// day, then each breakpoint within it.
pub fn change_days(span: Span, breakpoints: &[i32]) -> Vec<Day> {
    let (from, to) = (span.from.number(), span.to.number());
    let start = breakpoints.partition_point(|&d| d <= from);
    let end = breakpoints.partition_point(|&d| d <= to);
    std::iter::once(span.from)
        .chain(breakpoints[start..end].iter().map(|&d| Day::from_number(d)))
        .collect()
}

/// A partnership's history as known at one record time, in effective
/// order, ready to answer for any day.
///
/// Invariant: `steps` is sorted by `(order_day, effective.lo, position)`
/// and `status_after[i]` is the status after applying `steps[..=i]`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Timeline {
    steps: Vec<Step>,
    status_after: Vec<Status>,
    signing: Option<Interval>,
    termination: Option<Interval>,
    /// The index in `steps` of the last evidence (latest last day).
    last_evidence: Option<usize>,
}

/// The answer for one day.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DayState {
    /// Status on the day.
    pub status: Status,
    /// In force on the day.
    pub in_force: InForce,
    /// How many of [`Timeline::steps`] count by that day.
    pub applied: usize,
    /// When in force is `yes`: whether evidence reaches the day.
    pub evidence: Option<Evidence>,
}

impl DayState {
    /// In force as an auditor reads it: a presumed `yes` is `uncertain`.
    pub fn in_force_strict(&self) -> InForce {
        read_in_force(self.in_force, self.evidence, true)
    }
}

/// In force read strictly (a presumed `yes` is `uncertain`) or not.
pub fn read_in_force(in_force: InForce, evidence: Option<Evidence>, strict: bool) -> InForce {
    match (strict, in_force, evidence) {
        (true, InForce::Yes, Some(Evidence::Presumed)) => InForce::Uncertain,
        (_, in_force, _) => in_force,
    }
}

impl Timeline {
    /// Resolves the facts known at `known_at` (all when `None`). `facts`
    /// must be in log order. Refuses a history in which a step does not
    /// fit its state, naming the step.
    pub fn resolve(facts: &[Fact], known_at: Option<Timestamp>) -> Result<Timeline, Refusal> {
        let mut steps: Vec<Step> = Vec::with_capacity(facts.len());
        let mut retracted: Vec<u64> = Vec::new();
        for fact in facts {
            if known_at.is_some_and(|t| fact.recorded_at > t) {
                continue;
            }
            match fact.ty {
                EventType::Corrected => {
                    if let Some(step) = steps.iter_mut().find(|s| s.position == fact.target) {
                        step.correct(fact);
                    }
                }
                EventType::Retracted => retracted.push(fact.target),
                _ => steps.extend(Step::of(fact)),
            }
        }
        if !retracted.is_empty() {
            steps.retain(|s| !retracted.contains(&s.position));
        }
        steps.sort_by_key(|s| (s.order_day(), s.effective.lo(), s.position));

        let mut status = Status::Proposed;
        let mut status_after = Vec::with_capacity(steps.len());
        let mut signing = None;
        let mut attested_hi: Option<i32> = None;
        let mut termination = None;
        for (i, step) in steps.iter().enumerate() {
            match transition(status, step.ty) {
                Transition::Move(next) => status = next,
                Transition::Keep => {}
                Transition::Refuse => {
                    let before = match i.checked_sub(1).map(|j| &steps[j]) {
                        Some(prev) => format!(
                            "it would follow {} dated {}; ",
                            prev.ty,
                            describe_step(prev)
                        ),
                        None => String::new(),
                    };
                    let mut refusal = Refusal::partnership(status, step.ty).with_detail(format!(
                        "{before}events apply in order of their effective dates (by the \
                         last day each date allows; a date open at its end by its first day)"
                    ));
                    refusal.date = Some(describe_step(step));
                    return Err(refusal);
                }
            }
            match step.ty {
                EventType::Signed if signing.is_none() => signing = Some(step.effective),
                EventType::Attested => {
                    attested_hi = Some(
                        attested_hi.map_or(step.effective.hi(), |h| h.min(step.effective.hi())),
                    );
                }
                EventType::Terminated => termination = Some(step.effective),
                _ => {}
            }
            status_after.push(status);
        }
        let signing = signing.or_else(|| {
            attested_hi
                .map(|hi| Interval::new(Interval::OPEN_LO, hi).expect("OPEN_LO is below every day"))
        });
        let last_evidence = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_evidence())
            .max_by_key(|(i, s)| (s.effective.hi(), *i))
            .map(|(i, _)| i);
        Ok(Timeline {
            steps,
            status_after,
            signing,
            termination,
            last_evidence,
        })
    }

    /// The last evidence that the partnership is alive (see the module
    /// docs), if any.
    pub fn last_evidence(&self) -> Option<&Step> {
        self.last_evidence.map(|i| &self.steps[i])
    }

    /// How many steps count on `day`: the longest run of certain steps
    /// (see the module docs).
    fn certain_run(&self, day: i32) -> usize {
        let certain = |s: &Step| s.effective.hi() <= day;
        let Some(last_certain) = self.steps.iter().rposition(certain) else {
            return 0;
        };
        let mut applied = 0;
        while applied <= last_certain {
            let step = &self.steps[applied];
            let implied = certain(step)
                || (applied + 1..=last_certain).any(|k| {
                    let later = &self.steps[k];
                    later.ty == EventType::Terminated && certain(later)
                });
            if !implied {
                break;
            }
            applied += 1;
        }
        applied
    }

    /// The status after the first `applied` steps.
    fn status_after_run(&self, applied: usize) -> Status {
        applied
            .checked_sub(1)
            .map_or(Status::Proposed, |i| self.status_after[i])
    }

    /// The steps that may or may not have happened by `day` (its date
    /// allows both), after those that count, and the statuses possible
    /// that day: the certain one first, then the status after each
    /// pending step, without repeats.
    pub fn pending_on(&self, day: Day) -> (Vec<&Step>, Vec<Status>) {
        let d = day.number();
        let applied = self.certain_run(d);
        let mut possible = vec![self.status_after_run(applied)];
        let mut pending = Vec::new();
        for (i, step) in self.steps.iter().enumerate().skip(applied) {
            if step.effective.lo() > d || step.effective.hi() <= d {
                continue;
            }
            pending.push(step);
            let after = self.status_after[i];
            if !possible.contains(&after) {
                possible.push(after);
            }
        }
        (pending, possible)
    }

    /// The steps in effective order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The signing interval (from `Signed`, or bounded by the earliest
    /// `Attested`), `None` if never signed.
    pub fn signing(&self) -> Option<Interval> {
        self.signing
    }

    /// The termination interval, `None` if never terminated.
    pub fn termination(&self) -> Option<Interval> {
        self.termination
    }

    /// Status and in force on `day`.
    pub fn on(&self, day: Day) -> DayState {
        let applied = self.certain_run(day.number());
        let status = self.status_after_run(applied);
        let in_force = in_force(self.signing, self.termination, day);
        let evidence = (in_force == InForce::Yes).then(|| match self.last_evidence() {
            Some(e) if day.number() <= e.effective.hi() => Evidence::Evidenced,
            _ => Evidence::Presumed,
        });
        DayState {
            status,
            in_force,
            applied,
            evidence,
        }
    }

    /// The statuses the partnership went through, in effective order, each
    /// from the step that brought it to the step that ended it (`None`:
    /// still so). A step's days are those its date allows: a span's ends
    /// are as uncertain as those dates.
    pub fn status_spans(&self) -> Vec<StatusSpan> {
        let mut out: Vec<StatusSpan> = Vec::new();
        let mut previous = Status::Proposed;
        for (step, &status) in self.steps.iter().zip(&self.status_after) {
            if status == previous {
                continue;
            }
            if let Some(last) = out.last_mut() {
                last.to = Some(step.effective);
            }
            out.push(StatusSpan {
                status,
                from: step.effective,
                to: None,
            });
            previous = status;
        }
        out
    }

    /// The status after every step, whatever its date.
    pub fn final_status(&self) -> Status {
        self.status_after
            .last()
            .copied()
            .unwrap_or(Status::Proposed)
    }

    /// The state on each day of `span` on which it may change: its first
    /// day, then each breakpoint within it (see [`change_days`]).
    pub fn samples(&self, span: Span) -> Vec<(Day, DayState)> {
        change_days(span, &self.breakpoints())
            .into_iter()
            .map(|d| (d, self.on(d)))
            .collect()
    }

    /// The days on which the answer of [`Timeline::on`] may change, ascending.
    pub fn breakpoints(&self) -> Vec<i32> {
        let mut days: Vec<i32> = self.steps.iter().map(|s| s.effective.hi()).collect();
        for i in [self.signing, self.termination].into_iter().flatten() {
            days.push(i.lo());
            days.push(i.hi());
        }
        if let Some(e) = self.last_evidence() {
            days.push(e.effective.hi().saturating_add(1));
        }
        days.retain(|&d| d != Interval::OPEN_LO && d != Interval::OPEN_HI);
        days.sort_unstable();
        days.dedup();
        days
    }
}

/// A step's date as the fold used it: an open end says where it was bounded.
fn describe_step(step: &Step) -> String {
    if step.open_end {
        match step.effective.earliest() {
            Some(lo) => format!("[{lo}..] (bounded at {})", describe(step.effective)),
            None => describe(step.effective),
        }
    } else {
        describe(step.effective)
    }
}

fn describe(i: Interval) -> String {
    match (i.earliest(), i.latest()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (a, b) => format!(
            "[{}..{}]",
            a.map(|d| d.to_string()).unwrap_or_default(),
            b.map(|d| d.to_string()).unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_a_span() {
        use InForce::{No, Uncertain, Yes};
        let rows: &[(&[InForce], Over)] = &[
            (&[Yes], Over::Throughout),
            (&[Yes, Yes], Over::Throughout),
            (&[No], Over::Never),
            (&[Uncertain], Over::Uncertain),
            (&[No, Yes], Over::Sometime),
            (&[Yes, Uncertain], Over::Sometime),
            (&[No, Uncertain], Over::Uncertain),
        ];
        for (values, over) in rows {
            assert_eq!(Over::of(values.iter().copied()), *over, "{values:?}");
        }
        let span = Span::new(day("2022-03-01"), day("2022-03-31")).unwrap();
        let n = |s: &str| day(s).number();
        let days = change_days(
            span,
            &[
                n("2022-02-01"),
                n("2022-03-01"),
                n("2022-03-15"),
                n("2022-04-01"),
            ],
        );
        assert_eq!(days, [day("2022-03-01"), day("2022-03-15")]);
        // Orenburg, denounced 2022-03-01: in force part of February–March.
        let t = Timeline::resolve(
            &[
                fact(1, 0, EventType::Signed, "2012-05-24"),
                fact(2, 0, EventType::Terminated, "2022-03-01"),
            ],
            None,
        )
        .unwrap();
        let over = |from: &str, to: &str| {
            let span = Span::new(day(from), day(to)).unwrap();
            Over::of(t.samples(span).iter().map(|(_, s)| s.in_force))
        };
        assert_eq!(over("2022-02-01", "2022-03-31"), Over::Sometime);
        assert_eq!(over("2022-02-01", "2022-02-28"), Over::Throughout);
        assert_eq!(over("2022-03-01", "2022-12-31"), Over::Never);
        assert_eq!(over("2000-01-01", "2012-05-23"), Over::Never);
    }
    use crate::date::PartialDate;
    use proptest::prelude::*;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    fn interval(s: &str) -> Interval {
        PartialDate::parse(s).unwrap().interval()
    }

    #[track_caller]
    fn check_in_force(signing: Option<&str>, termination: Option<&str>, d: &str, expect: InForce) {
        assert_eq!(
            in_force(signing.map(interval), termination.map(interval), day(d)),
            expect,
            "signed {signing:?}, terminated {termination:?}, on {d}"
        );
    }

    #[test]
    fn in_force_table() {
        use InForce::*;
        // Orenburg: denounced on 2022-03-01, in force the day before.
        check_in_force(Some("2012-05-24"), Some("2022-03-01"), "2022-02-28", Yes);
        check_in_force(Some("2012-05-24"), Some("2022-03-01"), "2022-03-01", No);
        check_in_force(Some("2012-05-24"), Some("2022-03-01"), "2012-05-23", No);
        check_in_force(Some("2012-05-24"), Some("2022-03-01"), "2012-05-24", Yes);
        // Zhejiang: July 2007.
        check_in_force(Some("2007-07"), None, "2007-08-01", Yes);
        check_in_force(Some("2007-07"), None, "2007-07-15", Uncertain);
        check_in_force(Some("2007-07"), None, "2007-06-30", No);
        // An end known only within a range.
        check_in_force(
            Some("2001-11-28"),
            Some("[2001-11-28..2022-03]"),
            "2010-01-01",
            Uncertain,
        );
        check_in_force(
            Some("2001-11-28"),
            Some("[2001-11-28..2022-03]"),
            "2022-04-01",
            No,
        );
        check_in_force(
            Some("2001-11-28"),
            Some("[..2022-03]"),
            "2001-11-28",
            Uncertain,
        );
        // Unknown signing bounded by an attestation.
        check_in_force(Some("[..2013-03]"), None, "2013-04-01", Yes);
        check_in_force(Some("[..2013-03]"), None, "1990-01-01", Uncertain);
        check_in_force(None, None, "2020-01-01", No);
    }

    fn ts(n: i64) -> Timestamp {
        Timestamp::from_micros(n)
    }

    fn fact(position: u64, recorded: i64, ty: EventType, date: &str) -> Fact {
        Fact {
            position,
            recorded_at: ts(recorded),
            ty,
            effective: interval(date),
            detail: Detail::default(),
            target: 0,
            corrects_date: false,
            open_end: false,
            effective_stated: false,
        }
    }

    /// A fact as `from_event` makes it: an open end bounded by the
    /// source's date (or the record day, 2026-01-01 here).
    fn sourced(position: u64, ty: EventType, date: &str, source_date: Option<&str>) -> Fact {
        let recorded = Timestamp::start_of(day("2026-01-01"));
        let date = PartialDate::parse(date).unwrap();
        let source_date = source_date.map(|d| PartialDate::parse(d).unwrap());
        let (effective, open_end) = bounded(Some(&date), source_date.as_ref(), recorded);
        Fact {
            position,
            recorded_at: recorded,
            ty,
            effective,
            detail: Detail::default(),
            target: 0,
            corrects_date: false,
            open_end,
            effective_stated: false,
        }
    }

    /// A step as of a position is the step the fold of the facts up to
    /// there holds: after each prefix of a history with corrections (of
    /// dates and of data), a retraction, and a correction of a retracted
    /// step.
    #[test]
    fn a_step_as_of_a_position_is_the_folds_step() {
        use EventType as E;
        let correct = |position, target, date: &str| Fact {
            target,
            corrects_date: true,
            ..fact(position, 0, E::Corrected, date)
        };
        let facts = [
            fact(1, 0, E::Signed, "2001"),
            fact(2, 0, E::ActivityRecorded, "2003-05"),
            fact(3, 0, E::ActivityRecorded, "2004"),
            correct(4, 2, "2005-01-02"),
            Fact {
                detail: Detail {
                    activity: Some(crate::ActivityKind::Visit),
                    ..Detail::default()
                },
                ..Fact {
                    target: 2,
                    ..fact(5, 0, E::Corrected, "2005")
                }
            },
            Fact {
                target: 3,
                ..fact(6, 0, E::Retracted, "2006")
            },
            correct(7, 3, "2007"),
            correct(8, 2, "2002-02"),
        ];
        for upto in 0..=facts.len() as u64 {
            let prefix: Vec<Fact> = facts
                .iter()
                .filter(|f| f.position <= upto)
                .copied()
                .collect();
            let timeline = Timeline::resolve(&prefix, None).unwrap();
            for target in 1..=facts.len() as u64 {
                let folded = timeline.steps().iter().find(|s| s.position == target);
                assert_eq!(
                    Step::as_of(&facts, target, upto).as_ref(),
                    folded,
                    "step {target} as of {upto}"
                );
            }
        }
        let after = Step::as_of(&facts, 2, 8).unwrap();
        assert_eq!(after.effective, interval("2002-02"));
        assert_eq!(after.detail.activity, Some(crate::ActivityKind::Visit));
        assert_eq!(after.corrected_by, 8);
        assert_eq!(
            Step::as_of(&facts, 3, 5).map(|s| s.effective),
            Some(interval("2004"))
        );
    }

    #[test]
    fn an_open_end_is_bounded_by_the_source_then_by_the_record_day() {
        let f = sourced(1, EventType::Stagnated, "[2009-04-22..]", Some("2013"));
        assert_eq!(f.effective, interval("[2009-04-22..2013-12-31]"));
        assert!(f.open_end);
        // A source itself open at its end bounds nothing: the record day does.
        let f = sourced(
            1,
            EventType::Stagnated,
            "[2009-04-22..]",
            Some("[2022-03-01..]"),
        );
        assert_eq!(f.effective, interval("[2009-04-22..2026-01-01]"));
        let f = sourced(1, EventType::Stagnated, "2009", Some("2013"));
        assert!(!f.open_end);
    }

    /// Ha Tinh (source 001, Liberec's page): signed 2009-04-22, stagnated
    /// at some time since, a planned visit in the first half of 2011 that
    /// did not happen.
    fn ha_tinh(extra: &[Fact]) -> Result<Timeline, Refusal> {
        use EventType as E;
        let mut facts = vec![
            sourced(1, E::PartnershipOpened, "2009", None),
            sourced(2, E::Signed, "2009-04-22", None),
            {
                let mut f = sourced(3, E::ActivityRecorded, "2011-40", None);
                f.detail.outcome = Some(ActivityOutcome::DidNotTakePlace);
                f
            },
            sourced(4, E::Stagnated, "[2009-04-22..]", Some("[2022-03-01..]")),
        ];
        facts.extend_from_slice(extra);
        Timeline::resolve(&facts, None)
    }

    #[test]
    fn an_open_stagnation_is_pending_not_hidden() {
        let t = ha_tinh(&[]).unwrap();
        let on = t.on(day("2015-01-01"));
        assert_eq!(on.status, Status::Active, "only what is certain");
        let (pending, possible) = t.pending_on(day("2015-01-01"));
        assert_eq!(
            pending.iter().map(|s| s.ty).collect::<Vec<_>>(),
            [EventType::Stagnated]
        );
        assert_eq!(possible, [Status::Active, Status::Stagnating]);
        // Before the signing nothing is pending.
        let (pending, _) = t.pending_on(day("2009-01-01"));
        assert!(pending.is_empty());
    }

    #[test]
    fn a_later_fact_is_not_refused_for_where_an_open_end_was_bounded() {
        // Terminated in 2025, after a stagnation bounded at the record day
        // (2026-01-01): accepted, and certain from its day on; the
        // stagnation before it is then certain too (nothing follows a
        // termination).
        let t = ha_tinh(&[sourced(5, EventType::Terminated, "2025-06-01", None)]).unwrap();
        let on = t.on(day("2025-07-01"));
        assert_eq!(on.status, Status::Terminated);
        assert_eq!(on.in_force, InForce::No);
        assert!(t.pending_on(day("2025-07-01")).0.is_empty());
    }

    #[test]
    fn a_refusal_names_both_dates() {
        use EventType as E;
        let facts = [
            sourced(1, E::PartnershipOpened, "2009", None),
            sourced(2, E::Signed, "2009-04-22", None),
            sourced(3, E::Terminated, "2012-01-01", None),
            sourced(4, E::Revived, "2015", None),
        ];
        let refusal = Timeline::resolve(&facts, None).unwrap_err();
        let text = refusal.to_string();
        assert!(text.contains("2015"), "{text}");
        assert!(text.contains("Terminated dated 2012-01-01"), "{text}");
    }

    #[test]
    fn presumed_after_the_last_evidence() {
        use EventType as E;
        // Nový Bor–Mědnogorsk: only the 2007 signing.
        let facts = [
            sourced(1, E::PartnershipOpened, "2007", None),
            sourced(2, E::Signed, "2007-05", None),
        ];
        let t = Timeline::resolve(&facts, None).unwrap();
        let on = t.on(day("2007-05-31"));
        assert_eq!(on.evidence, Some(Evidence::Evidenced));
        let on = t.on(day("2022-03-01"));
        assert_eq!(on.in_force, InForce::Yes);
        assert_eq!(on.evidence, Some(Evidence::Presumed));
        assert_eq!(on.in_force_strict(), InForce::Uncertain);
        assert_eq!(t.last_evidence().unwrap().ty, E::Signed);
        // The day the answer changes is a breakpoint.
        assert!(t.breakpoints().contains(&(day("2007-05-31").number() + 1)));
        // An attestation "for 2013" carries the evidence to the end of 2013.
        let mut facts = facts.to_vec();
        facts.push(sourced(3, E::Attested, "2013", None));
        let t = Timeline::resolve(&facts, None).unwrap();
        assert_eq!(t.on(day("2013-12-31")).evidence, Some(Evidence::Evidenced));
        assert_eq!(t.on(day("2014-01-01")).evidence, Some(Evidence::Presumed));
        // Not in force: no evidence claim.
        assert_eq!(t.on(day("2006-01-01")).evidence, None);
    }

    #[test]
    fn steps_apply_in_effective_order_and_late_facts_change_the_past() {
        use EventType as E;
        let facts = [
            fact(1, 1, E::PartnershipOpened, "2000"),
            fact(2, 1, E::Signed, "2012-05-24"),
            // recorded later, effective earlier
            fact(3, 5, E::ContactEstablished, "2007-02"),
            fact(4, 6, E::Terminated, "2022-03-01"),
        ];
        let now = Timeline::resolve(&facts, None).unwrap();
        assert_eq!(
            now.steps().iter().map(|s| s.position).collect::<Vec<_>>(),
            [3, 2, 4]
        );
        assert_eq!(now.on(day("2010-01-01")).status, Status::Negotiating);
        assert_eq!(now.on(day("2022-02-28")).status, Status::Active);
        assert_eq!(now.on(day("2022-03-01")).status, Status::Terminated);
        let before = Timeline::resolve(&facts, Some(ts(4))).unwrap();
        assert_eq!(before.on(day("2010-01-01")).status, Status::Proposed);
        assert_eq!(before.on(day("2023-01-01")).in_force, InForce::Yes);
    }

    #[test]
    fn corrections_and_retractions_count_from_their_record_time() {
        use EventType as E;
        let mut correction = fact(3, 10, E::Corrected, "2009-04-22");
        correction.target = 2;
        correction.corrects_date = true;
        let mut retraction = fact(5, 20, E::Retracted, "2020");
        retraction.target = 4;
        let facts = [
            fact(1, 1, E::PartnershipOpened, "2000"),
            fact(2, 1, E::Signed, "2009-05-22"),
            correction,
            fact(4, 15, E::Stagnated, "2011"),
            retraction,
        ];
        let d = day("2009-05-01");
        assert_eq!(
            Timeline::resolve(&facts, Some(ts(9)))
                .unwrap()
                .on(d)
                .in_force,
            InForce::No
        );
        assert_eq!(
            Timeline::resolve(&facts, Some(ts(10)))
                .unwrap()
                .on(d)
                .in_force,
            InForce::Yes
        );
        let d = day("2012-01-01");
        assert_eq!(
            Timeline::resolve(&facts, Some(ts(19)))
                .unwrap()
                .on(d)
                .status,
            Status::Stagnating
        );
        assert_eq!(
            Timeline::resolve(&facts, None).unwrap().on(d).status,
            Status::Active
        );
    }

    #[test]
    fn open_ends_close_when_recorded() {
        let recorded = Timestamp::start_of(day("2026-11-23"));
        let d = |s: &str| PartialDate::parse(s).unwrap();
        assert_eq!(
            known_by(Some(&d("[2001-11-28..]")), recorded),
            interval("[2001-11-28..2026-11-23]")
        );
        assert_eq!(
            known_by(Some(&d("[2030..]")), recorded),
            interval("2030-01-01")
        );
        assert_eq!(known_by(Some(&d("2030")), recorded), interval("2030"));
        assert_eq!(known_by(None, recorded), interval("2026-11-23"));
    }

    #[test]
    fn impossible_histories_are_refused() {
        use EventType as E;
        let facts = [
            fact(1, 1, E::PartnershipOpened, "2000"),
            fact(2, 1, E::Signed, "2009"),
            fact(3, 2, E::Stagnated, "2008-05"),
        ];
        let err = Timeline::resolve(&facts, None).unwrap_err();
        assert_eq!(err.event, E::Stagnated);
        assert_eq!(err.state, "proposed");
        assert_eq!(err.date.as_deref(), Some("[2008-05-01..2008-05-31]"));
    }

    /// Brute force: every (signing day, termination day) pair the
    /// intervals allow, with the end never before the start.
    fn brute_force(s: (i32, i32), t: Option<(i32, i32)>, d: i32) -> InForce {
        let (mut any_in, mut any_out) = (false, false);
        for sd in s.0..=s.1 {
            match t {
                None => {
                    if sd <= d {
                        any_in = true
                    } else {
                        any_out = true
                    }
                }
                Some((t0, t1)) => {
                    for td in t0.max(sd)..=t1 {
                        if sd <= d && d < td {
                            any_in = true
                        } else {
                            any_out = true
                        }
                    }
                }
            }
        }
        match (any_in, any_out) {
            (true, false) => InForce::Yes,
            (false, true) => InForce::No,
            _ => InForce::Uncertain,
        }
    }

    proptest! {
        #[test]
        fn in_force_agrees_with_brute_force(
            s0 in 0i32..40, slen in 0i32..15,
            t in proptest::option::of((0i32..60, 0i32..15)),
            d in -5i32..80,
        ) {
            let s = (s0, s0 + slen);
            let t = t.map(|(t0, len)| (t0, t0 + len)).filter(|&(_, t1)| t1 >= s.0);
            let got = in_force(
                Interval::new(s.0, s.1),
                t.and_then(|(a, b)| Interval::new(a, b)),
                Day::from_number(d),
            );
            prop_assert_eq!(got, brute_force(s, t, d));
        }
    }
}
