//! The projection's answer for any (day D, record time T) equals a naive
//! oracle that re-reads the log up to T and folds it in effective-date
//! order; rebuilding and reopening give the same answers as incremental
//! catch-up.

use pacta_domain::event::{
    ActivityRecorded, Attested, Change, Contact, Corrected, PartnershipOpened, PartyRegistered,
    Retracted, Signed, Terminated,
};
use pacta_domain::lifecycle::{Transition, transition};
use pacta_domain::{
    ActivityKind, Day, Event, EventId, EventType, InForce, Instrument, Interval, Names,
    PartialDate, PartyKind, Payload, Recorded, Slug, Status, StreamId, TerminationMode, Timestamp,
    in_force,
};
use pacta_projections::{ListFilter, Projections};
use pacta_registry::{Actor, Command, Registry};
use proptest::prelude::*;

const PARTNERSHIPS: usize = 3;

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

fn pid(i: usize) -> Slug {
    slug(&format!("home--partner-{i}"))
}

/// One step of a random history.
#[derive(Clone, Debug)]
enum Step {
    Event {
        p: usize,
        kind: u8,
        day: i32,
        precision: u8,
    },
    Correct {
        p: usize,
        back: usize,
        day: i32,
        precision: u8,
    },
    Retract {
        p: usize,
        back: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0..PARTNERSHIPS, 0u8..10, 0i32..2500, 0u8..6)
            .prop_map(|(p, kind, day, precision)| Step::Event { p, kind, day, precision }),
        1 => (0..PARTNERSHIPS, 0usize..6, 0i32..2500, 1u8..6)
            .prop_map(|(p, back, day, precision)| Step::Correct { p, back, day, precision }),
        1 => (0..PARTNERSHIPS, 0usize..6).prop_map(|(p, back)| Step::Retract { p, back }),
    ]
}

fn base() -> i32 {
    Day::from_ymd(2000, 1, 1).unwrap().number()
}

/// A date of some precision around day `n` after 2000-01-01, or none.
fn date(n: i32, precision: u8) -> Option<PartialDate> {
    let day = Day::from_number(base() + n);
    let (y, m, _) = day.ymd();
    let text = match precision {
        0 => return None,
        1 => format!("{y:04}"),
        2 => format!("{y:04}-{m:02}"),
        3 => format!("{y:04}-{}", if m <= 6 { 40 } else { 41 }),
        4 => format!("[{day}..]"),
        _ => day.to_string(),
    };
    Some(text.parse().unwrap())
}

fn payload(kind: u8) -> Payload {
    match kind {
        0 => Payload::ContactEstablished(Contact::default()),
        1 => Payload::NegotiationStarted(Contact::default()),
        2 => Payload::Signed(Signed {
            instrument: Instrument::CooperationAgreement,
            title: None,
            place: None,
            signatories: vec![],
            areas: vec![],
        }),
        3 => Payload::Attested(Attested::default()),
        4 | 5 => Payload::ActivityRecorded(ActivityRecorded {
            kind: ActivityKind::Visit,
            outcome: None,
            place: None,
            participants: vec![],
            areas: vec![],
        }),
        6 => Payload::Stagnated(Change::default()),
        7 => Payload::Revived(Change::default()),
        8 => Payload::Suspended(Change::default()),
        _ => Payload::Terminated(Terminated {
            mode: TerminationMode::Mutual,
            reason: "test".into(),
            effective: None,
            decided_by: None,
            resolution: None,
            notice: None,
        }),
    }
}

fn command(stream: StreamId, event: Event, expected: Option<u64>) -> Command {
    Command {
        stream,
        events: vec![(None, event)],
        expected_version: expected,
    }
}

fn setup(registry: &Registry) {
    let admin = Actor::system("test");
    let parties =
        std::iter::once("home".to_owned()).chain((0..PARTNERSHIPS).map(|i| format!("partner-{i}")));
    for party in parties {
        let event = Event::new(Payload::PartyRegistered(PartyRegistered {
            kind: PartyKind::Region,
            names: Names {
                en: Some(party.clone()),
                ..Names::default()
            },
            aliases: vec![],
            country: "CZ".into(),
            iso_3166_2: None,
            parent: None,
            established: None,
            dissolved: None,
        }));
        registry
            .execute_blocking(
                &admin,
                command(StreamId::party(slug(&party)), event, Some(0)),
            )
            .unwrap();
    }
    for i in 0..PARTNERSHIPS {
        let event = Event::new(Payload::PartnershipOpened(PartnershipOpened {
            home: slug("home"),
            partner: slug(&format!("partner-{i}")),
            initiative: None,
        }));
        registry
            .execute_blocking(
                &admin,
                command(StreamId::partnership(pid(i)), event, Some(0)),
            )
            .unwrap();
    }
}

fn nth_step(registry: &Registry, p: usize, back: usize) -> Option<EventId> {
    let records = registry
        .store()
        .stream(&StreamId::partnership(pid(p)))
        .unwrap();
    let steps: Vec<_> = records
        .iter()
        .filter(|r| pacta_domain::history::is_step(r.event.event_type()))
        .collect();
    steps
        .iter()
        .rev()
        .nth(back % steps.len().max(1))
        .map(|r| r.envelope.event_id)
}

/// Runs the steps; refused ones are skipped, as a clerk would.
fn run(registry: &Registry, steps: &[Step]) {
    let admin = Actor::system("test");
    for s in steps {
        let (p, event) = match s {
            Step::Event {
                p,
                kind,
                day,
                precision,
            } => {
                let ty = payload(*kind).event_type();
                let d = date(*day, *precision)
                    .or_else(|| ty.needs_date().then(|| date(*day, 5).unwrap()));
                (
                    *p,
                    Event {
                        payload: payload(*kind),
                        date: d,
                        source: None,
                        note: None,
                    },
                )
            }
            Step::Correct {
                p,
                back,
                day,
                precision,
            } => {
                let Some(target) = nth_step(registry, *p, *back) else {
                    continue;
                };
                let correction = Corrected {
                    target,
                    reason: "date corrected".into(),
                    date: date(*day, *precision),
                    data: None,
                };
                (*p, Event::new(Payload::Corrected(correction)))
            }
            Step::Retract { p, back } => {
                let Some(target) = nth_step(registry, *p, *back) else {
                    continue;
                };
                let retraction = Retracted {
                    target,
                    reason: "in error".into(),
                };
                (*p, Event::new(Payload::Retracted(retraction)))
            }
        };
        let _ =
            registry.execute_blocking(&admin, command(StreamId::partnership(pid(p)), event, None));
    }
}

/// One event as the oracle tracks it.
struct Item {
    id: EventId,
    position: u64,
    ty: EventType,
    lo: i32,
    hi: i32,
    /// The date is open at its end: `hi` is where it was bounded.
    open: bool,
    retracted: bool,
}

/// The oracle: re-read the whole log, keep what was recorded by T, apply
/// corrections and retractions by hand, sort by effective date, fold.
fn oracle(log: &[Recorded], p: usize, d: Day, t: Timestamp) -> Option<(Status, InForce)> {
    let stream = StreamId::partnership(pid(p));
    let known: Vec<&Recorded> = log
        .iter()
        .filter(|r| r.envelope.stream == stream && r.envelope.recorded_at <= t)
        .collect();
    if known.is_empty() {
        return None;
    }
    // An undated event counts from the day it was recorded; an open range
    // ends then (these events cite no source whose date could bound it).
    let effective = |date: Option<&PartialDate>, at: Timestamp| -> (i32, i32, bool) {
        let recorded = at.day().number();
        match date.map(|d| d.interval()) {
            None => (recorded, recorded, false),
            Some(i) if i.hi() == Interval::OPEN_HI => (i.lo(), recorded.max(i.lo()), true),
            Some(i) => (i.lo(), i.hi(), false),
        }
    };
    let mut items: Vec<Item> = Vec::new();
    for r in &known {
        let e = &r.event;
        match &e.payload {
            Payload::Corrected(c) => {
                if let Some(item) = items.iter_mut().find(|x| x.id == c.target)
                    && let Some(date) = &c.date
                {
                    (item.lo, item.hi, item.open) = effective(Some(date), r.envelope.recorded_at);
                }
            }
            Payload::Retracted(x) => {
                items
                    .iter_mut()
                    .filter(|i| i.id == x.target)
                    .for_each(|i| i.retracted = true);
            }
            Payload::PartnershipOpened(_) => {}
            _ => {
                let (lo, hi, open) = effective(e.date.as_ref(), r.envelope.recorded_at);
                items.push(Item {
                    id: r.envelope.event_id,
                    position: r.envelope.position,
                    ty: e.event_type(),
                    lo,
                    hi,
                    open,
                    retracted: false,
                });
            }
        }
    }
    items.retain(|x| !x.retracted);
    // A closed date folds at its last day, an open one at its first.
    items.sort_by_key(|x| (if x.open { x.lo } else { x.hi }, x.lo, x.position));
    // Certain on D: its last day is by then, or a termination certain by
    // then comes after it. The status is that after the first run of
    // certain steps.
    let last_termination = items
        .iter()
        .rposition(|x| x.ty == EventType::Terminated && x.hi <= d.number());
    let mut status = Status::Proposed;
    let mut counting = true;
    let mut signing = None;
    let mut attested: Option<i32> = None;
    let mut termination = None;
    for (i, item) in items.iter().enumerate() {
        let certain = item.hi <= d.number() || last_termination.is_some_and(|j| j > i);
        counting &= certain;
        match transition(status, item.ty) {
            Transition::Move(s) if counting => status = s,
            Transition::Refuse if counting => {
                panic!("the registry accepted an impossible history")
            }
            _ => {}
        }
        match item.ty {
            EventType::Signed if signing.is_none() => signing = Interval::new(item.lo, item.hi),
            EventType::Attested => attested = Some(attested.map_or(item.hi, |a| a.min(item.hi))),
            EventType::Terminated => termination = Interval::new(item.lo, item.hi),
            _ => {}
        }
    }
    let signing = signing.or_else(|| attested.and_then(|hi| Interval::new(Interval::OPEN_LO, hi)));
    Some((status, in_force(signing, termination, d)))
}

fn check_against_oracle(registry: &Registry, days: &[i32]) -> Result<(), TestCaseError> {
    check_projection(
        registry.store(),
        registry.projections().partnerships(),
        days,
    )
}

fn check_projection(
    store: &pacta_store::Store,
    partnerships: &pacta_projections::Partnerships,
    days: &[i32],
) -> Result<(), TestCaseError> {
    let log: Vec<Recorded> = store.read_from(0).map(Result::unwrap).collect();
    let mut times: Vec<Timestamp> = log.iter().map(|r| r.envelope.recorded_at).collect();
    times.dedup();
    let probes: Vec<Timestamp> = times
        .iter()
        .step_by((times.len() / 6).max(1))
        .flat_map(|t| [Timestamp::from_micros(t.micros() - 1), *t])
        .chain([Timestamp::MAX])
        .collect();
    for &t in &probes {
        let known_at = (t != Timestamp::MAX).then_some(t);
        for &n in days {
            let d = Day::from_number(base() + n);
            let mut listed = Vec::new();
            let filter = ListFilter {
                party: Some(slug("home")),
                status: None,
                valid_on: Some(pacta_domain::Span::day(d)),
                in_force: Default::default(),
                as_known_at: known_at,
                today: d,
            };
            partnerships.for_each(&filter, |r| {
                listed.push((r.header.id.clone(), r.state.status, r.state.in_force))
            });
            for p in 0..PARTNERSHIPS {
                let expect = oracle(&log, p, d, t);
                let got = partnerships
                    .resolve(pid(p).as_str(), d, known_at)
                    .map(|r| (r.state.status, r.state.in_force));
                prop_assert_eq!(
                    got,
                    expect,
                    "partnership {} on {} as known at {:?}",
                    p,
                    d,
                    t
                );
                let in_list = listed.iter().find(|x| x.0 == pid(p)).map(|x| (x.1, x.2));
                let expect_listed = expect.filter(|(_, f)| *f != InForce::No);
                prop_assert_eq!(in_list, expect_listed, "listing of {} on {}", p, d);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn projection_equals_the_naive_oracle(
        steps in proptest::collection::vec(step(), 1..45),
        days in proptest::collection::vec(-100i32..2700, 8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path()).unwrap();
        setup(&registry);
        run(&registry, &steps);
        check_against_oracle(&registry, &days)?;
        // A restart that finds only what reached the trees (appends leave
        // their state pending in memory) applies the rest again and
        // answers the same.
        let projections = registry.projections();
        let stored = projections.stored_checkpoints();
        let head = registry.store().head().position;
        let restarted = Projections::open(registry.store()).unwrap();
        prop_assert_eq!(restarted.checkpoints(), stored.clone());
        let read = restarted.catch_up(&mut |_, _| {}).unwrap();
        prop_assert_eq!(read, head - stored.iter().map(|c| c.1).min().unwrap());
        check_projection(registry.store(), restarted.partnerships(), &days)?;
        // Once persisted, the trees hold everything memory holds.
        projections.persist().unwrap();
        prop_assert_eq!(projections.stored_checkpoints(), projections.checkpoints());
        let reopened = Projections::open(registry.store()).unwrap();
        prop_assert_eq!(reopened.catch_up(&mut |_, _| {}).unwrap(), 0);
        check_projection(registry.store(), reopened.partnerships(), &days)?;
        drop((restarted, reopened));
        // Rebuilding from position 0 gives the same answers.
        registry.rebuild(None, &mut |_, _| {}).unwrap();
        check_against_oracle(&registry, &days)?;
        // So does reopening (loading the persisted state).
        drop(registry);
        let registry = Registry::open(dir.path()).unwrap();
        check_against_oracle(&registry, &days)?;
    }
}
