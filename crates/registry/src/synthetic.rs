//! Synthetic partnership histories for benchmarks.
//!
//! `generate` writes parties and N partnerships with realistic histories:
//! first contact, negotiation, signing at a random precision, a dozen or
//! more visits, letters and meetings, some stagnating, reviving,
//! suspended or terminated, some corrected or retracted, and some facts
//! recorded after later ones (backdated). Histories of different
//! partnerships interleave in the log. Every history is valid by
//! construction, and every event still takes the registry's write path
//! (authorized as the system actor, decided by the domain's `decide`),
//! many appends in flight at once, so the store's writer groups them.

use pacta_domain::event::{
    ActivityRecorded, Attested, Change, Contact, Corrected, PartnershipOpened, PartyRegistered,
    Retracted, Signed, Terminated,
};
use pacta_domain::{
    ActivityKind, ActivityOutcome, Day, Event, EventId, Instrument, Names, PartialDate, PartyKind,
    Payload, Proposed, Slug, Source, StreamId, TerminationMode,
};

use crate::write::Batch;
use crate::{Actor, CommandError, Registry, now};

/// A small, fast, seedable generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    /// A generator with a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `p` percent.
    pub fn chance(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// The Czech home parties of the synthetic data.
pub const HOME_PARTIES: u64 = 14;
/// The foreign parties.
pub const FOREIGN_PARTIES: u64 = 4_000;

/// The id of synthetic home party `i`.
pub fn home_party(i: u64) -> Slug {
    Slug::parse(&format!("home-{i}")).expect("a valid slug")
}

fn foreign_party(i: u64) -> Slug {
    Slug::parse(&format!("partner-{i}")).expect("a valid slug")
}

fn source(date: Day) -> Source {
    Source {
        title: "Synthetic register extract".into(),
        url: None,
        reference: Some("synthetic".into()),
        locator: None,
        date: Some(PartialDate::day(date)),
    }
}

/// A date at a random precision around a day, no earlier than `after`;
/// returns the date and the last day it allows.
fn date_after(rng: &mut Rng, after: i32) -> (PartialDate, i32) {
    let day = Day::from_number(after + 1 + rng.below(200) as i32);
    let (y, m, _) = day.ymd();
    let text = match rng.below(10) {
        0 => format!("{y:04}"),
        1..=3 => format!("{y:04}-{m:02}"),
        _ => day.to_string(),
    };
    let date: PartialDate = text.parse().expect("a valid date");
    // A coarse date may start before `after`: keep histories ordered by
    // moving on to a day-precision date when it would.
    let interval = date.interval();
    if interval.lo() <= after {
        return (PartialDate::day(day), day.number());
    }
    (date, interval.hi())
}

fn event(payload: Payload, date: Option<PartialDate>, note: &str, day: i32) -> Event {
    Event {
        payload,
        date,
        source: Some(source(Day::from_number(day.max(0)))),
        note: Some(note.to_owned()),
    }
}

/// One partnership's history in emission order.
fn history(rng: &mut Rng, n: u64, id_base: u64) -> (StreamId, Vec<(EventId, Event)>) {
    let home = home_party(n % HOME_PARTIES);
    let partner = foreign_party(rng.below(FOREIGN_PARTIES));
    let id = Slug::parse(&format!("{home}--{partner}-{n}")).expect("a valid slug");
    let mut events: Vec<Event> = Vec::new();
    let mut cursor =
        Day::from_ymd(1992, 1, 1).expect("a real day").number() + rng.below(3000) as i32;
    events.push(Event::new(Payload::PartnershipOpened(PartnershipOpened {
        home,
        partner,
        initiative: None,
    })));
    let (d, hi) = date_after(rng, cursor);
    cursor = hi;
    events.push(event(
        Payload::ContactEstablished(Contact::default()),
        Some(d),
        "first contact",
        cursor,
    ));
    if rng.chance(50) {
        let (d, hi) = date_after(rng, cursor);
        cursor = hi;
        events.push(event(
            Payload::NegotiationStarted(Contact::default()),
            Some(d),
            "negotiation opened",
            cursor,
        ));
    }
    let signing_index = events.len();
    if rng.chance(90) {
        let (d, hi) = date_after(rng, cursor);
        cursor = hi;
        events.push(event(
            Payload::Signed(Signed {
                instrument: Instrument::ALL[rng.below(Instrument::ALL.len() as u64) as usize],
                title: None,
                place: None,
                signatories: vec![],
                areas: vec!["culture".into(), "tourism".into()],
            }),
            Some(d),
            "agreement signed",
            cursor,
        ));
    } else {
        let (d, hi) = date_after(rng, cursor);
        cursor = hi;
        events.push(event(
            Payload::Attested(Attested::default()),
            Some(d),
            "found in force",
            cursor,
        ));
    }
    let activities = 8 + rng.below(14);
    let mut stagnating = false;
    for a in 0..activities {
        let (d, hi) = date_after(rng, cursor);
        cursor = hi;
        let kind = ActivityKind::ALL[rng.below(ActivityKind::ALL.len() as u64) as usize];
        let outcome = match rng.below(10) {
            0 => Some(ActivityOutcome::DidNotTakePlace),
            1 if kind == ActivityKind::Letter => Some(ActivityOutcome::Unanswered),
            _ => None,
        };
        events.push(event(
            Payload::ActivityRecorded(ActivityRecorded {
                kind,
                outcome,
                place: None,
                participants: vec![],
                areas: vec![],
            }),
            Some(d),
            "activity",
            cursor,
        ));
        if a % 5 == 4 && rng.chance(30) {
            let (d, hi) = date_after(rng, cursor);
            cursor = hi;
            let payload = if stagnating {
                Payload::Revived(Change::default())
            } else {
                Payload::Stagnated(Change::default())
            };
            stagnating = !stagnating;
            events.push(event(payload, Some(d), "change of pace", cursor));
        }
    }
    if rng.chance(25) {
        if rng.chance(30) {
            let (d, hi) = date_after(rng, cursor);
            cursor = hi;
            events.push(event(
                Payload::Suspended(Change::default()),
                Some(d),
                "suspended",
                cursor,
            ));
        }
        let (d, hi) = date_after(rng, cursor);
        cursor = hi;
        events.push(event(
            Payload::Terminated(Terminated {
                mode: TerminationMode::ALL[rng.below(TerminationMode::ALL.len() as u64) as usize],
                reason: "synthetic end".into(),
                effective: None,
                decided_by: None,
                resolution: None,
                notice: None,
            }),
            Some(d),
            "ended",
            cursor,
        ));
    }
    let ids: Vec<EventId> = (0..events.len() as u64)
        .map(|i| EventId::from_bytes((u128::from(id_base + i) | 1 << 120).to_be_bytes()))
        .collect();
    // Corrections and retractions of activities, recorded last.
    let activity_indices: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.payload, Payload::ActivityRecorded(_)))
        .map(|(i, _)| i)
        .collect();
    let mut extra: Vec<(EventId, Event)> = Vec::new();
    let mut next_id = id_base + events.len() as u64;
    if rng.chance(10)
        && let Some(&i) = activity_indices.first()
    {
        let mut data = serde_json::Map::new();
        data.insert("kind".into(), serde_json::json!("meeting"));
        extra.push((
            EventId::from_bytes((u128::from(next_id) | 1 << 120).to_be_bytes()),
            event(
                Payload::Corrected(Corrected {
                    target: ids[i],
                    reason: "kind of activity corrected".into(),
                    date: None,
                    data: Some(data),
                }),
                None,
                "correction",
                cursor,
            ),
        ));
        next_id += 1;
    }
    if rng.chance(5)
        && let Some(&i) = activity_indices.last()
    {
        extra.push((
            EventId::from_bytes((u128::from(next_id) | 1 << 120).to_be_bytes()),
            event(
                Payload::Retracted(Retracted {
                    target: ids[i],
                    reason: "recorded in error".into(),
                }),
                None,
                "retraction",
                cursor,
            ),
        ));
    }
    let mut out: Vec<(EventId, Event)> = ids.into_iter().zip(events).collect();
    // Backdating: some activities before the signing's end are recorded
    // after everything else (effective early, learned late).
    if rng.chance(20) && out.len() > signing_index + 3 {
        let late = out.remove(signing_index + 1);
        out.push(late);
    }
    out.extend(extra);
    (StreamId::partnership(id), out)
}

/// What was generated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Generated {
    /// Partnerships written.
    pub partnerships: u64,
    /// Events written (parties included).
    pub events: u64,
}

/// Appends parties and `partnerships` synthetic histories through the
/// registry's write path. `progress(done, total)` counts partnerships.
/// The projections catch up later (at the next command or open).
pub fn generate(
    registry: &Registry,
    partnerships: u64,
    seed: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Generated, CommandError> {
    let mut rng = Rng::new(seed);
    let mut batch = Batch::new(registry, Actor::system("synthetic"), now());
    let parties = (0..HOME_PARTIES)
        .map(|i| (home_party(i), "CZ", PartyKind::Region))
        .chain((0..FOREIGN_PARTIES).map(|i| (foreign_party(i), "DE", PartyKind::Town)));
    for (k, (id, country, kind)) in parties.enumerate() {
        let registered = Proposed {
            id: EventId::from_bytes((k as u128 | 1 << 121).to_be_bytes()),
            event: Event::new(Payload::PartyRegistered(PartyRegistered {
                kind,
                names: Names {
                    en: Some(id.to_string()),
                    ..Names::default()
                },
                aliases: vec![],
                country: country.into(),
                iso_3166_2: None,
                parent: None,
                established: None,
                dissolved: None,
            })),
        };
        let stream = StreamId::party(id);
        batch.write(&stream, vec![registered])?;
        batch.forget(stream);
    }
    let mut total = batch.append()? as u64;

    // Interleave histories: a window of partnerships in progress, each
    // step emitting the next event of a random one.
    const WINDOW: usize = 2_000;
    let mut active: Vec<(StreamId, std::vec::IntoIter<(EventId, Event)>)> = Vec::new();
    let mut next = 0u64;
    let mut id_base = 0u64;
    let mut done = 0u64;
    loop {
        while active.len() < WINDOW && next < partnerships {
            let (stream, events) = history(&mut rng, next, id_base);
            id_base += 64;
            next += 1;
            active.push((stream, events.into_iter()));
        }
        if active.is_empty() {
            break;
        }
        let i = rng.below(active.len() as u64) as usize;
        match active[i].1.next() {
            Some((id, event)) => batch.write(&active[i].0, vec![Proposed { id, event }])?,
            None => {
                let (stream, _) = active.swap_remove(i);
                batch.forget(stream);
                done += 1;
                if done.is_multiple_of(1_000) {
                    progress(done, partnerships);
                }
            }
        }
        if batch.queued() >= 4_096 {
            total += batch.append()? as u64;
        }
    }
    total += batch.append()? as u64;
    progress(partnerships, partnerships);
    Ok(Generated {
        partnerships,
        events: total,
    })
}
