//! When an ending takes effect: a `Terminated` event's `date` is the act
//! (decision, denunciation); `data.effective`, where the source gives it,
//! is when in force ends. A dossier says which one it took.

use pacta_domain::event::{Corrected, PartnershipOpened, Signed, Terminated};
use pacta_domain::{
    Day, Event, EventId, InForce, Instrument, Payload, Slug, Status, StreamId, TerminationMode,
};
use pacta_registry::audit::EffectiveBasis;
use pacta_registry::{Actor, Command, CommandError, Registry};

mod common;

use common::seeded;

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

fn append(registry: &Registry, id: &str, event: Event) -> Result<EventId, CommandError> {
    let out = registry.execute_blocking(
        &Actor::system("auditor"),
        Command {
            stream: StreamId::partnership(slug(id)),
            events: vec![(None, event)],
            expected_version: None,
        },
    )?;
    Ok(out.events.last().unwrap().event_id)
}

fn ending(mode: TerminationMode, act: &str, effective: Option<&str>) -> Event {
    let mut end = Event::new(Payload::Terminated(Terminated {
        mode,
        reason: "the council ended it".into(),
        effective: effective.map(|e| e.parse().unwrap()),
        decided_by: None,
        resolution: None,
        notice: None,
    }));
    end.date = Some(act.parse().unwrap());
    end
}

/// A new partnership of the Ústí Region with Molde, signed on 2015-06-01.
fn signed(registry: &Registry) -> String {
    let id = registry
        .new_partnership_id(&slug("ustecky-kraj"), &slug("molde"))
        .unwrap();
    let open = Event::new(Payload::PartnershipOpened(PartnershipOpened {
        home: slug("ustecky-kraj"),
        partner: slug("molde"),
        initiative: None,
    }));
    append(registry, id.as_str(), open).unwrap();
    let mut sign = Event::new(Payload::Signed(Signed {
        instrument: Instrument::CooperationAgreement,
        title: None,
        place: None,
        signatories: vec![],
        areas: vec![],
    }));
    sign.date = Some("2015-06-01".parse().unwrap());
    append(registry, id.as_str(), sign).unwrap();
    id.to_string()
}

/// Mode, the act's date, the effective date, a day, in force and status
/// that day.
type Row = (
    TerminationMode,
    &'static str,
    Option<&'static str>,
    &'static str,
    InForce,
    Status,
);

#[test]
fn in_force_ends_when_the_ending_takes_effect_not_on_the_act() {
    let rows: &[Row] = &[
        // Denounced on 2022-03-01 with six months' notice: in force
        // until the notice runs out.
        (
            TerminationMode::Denounced,
            "2022-03-01",
            Some("2022-09-01"),
            "2022-03-01",
            InForce::Yes,
            Status::Active,
        ),
        (
            TerminationMode::Denounced,
            "2022-03-01",
            Some("2022-09-01"),
            "2022-08-31",
            InForce::Yes,
            Status::Active,
        ),
        (
            TerminationMode::Denounced,
            "2022-03-01",
            Some("2022-09-01"),
            "2022-09-01",
            InForce::No,
            Status::Terminated,
        ),
        // Takes effect some day of a month: uncertain within it.
        (
            TerminationMode::Mutual,
            "2020-01-10",
            Some("2020-06"),
            "2020-06-15",
            InForce::Uncertain,
            Status::Active,
        ),
        (
            TerminationMode::Mutual,
            "2020-01-10",
            Some("2020-06"),
            "2020-07-01",
            InForce::No,
            Status::Terminated,
        ),
        // No effective date given: the act's date is taken.
        (
            TerminationMode::Denounced,
            "2022-03-01",
            None,
            "2022-02-28",
            InForce::Yes,
            Status::Active,
        ),
        (
            TerminationMode::Denounced,
            "2022-03-01",
            None,
            "2022-03-01",
            InForce::No,
            Status::Terminated,
        ),
        // Ended, the source not saying how.
        (
            TerminationMode::Unknown,
            "[2016..2018]",
            None,
            "2015-12-31",
            InForce::Yes,
            Status::Active,
        ),
        (
            TerminationMode::Unknown,
            "[2016..2018]",
            None,
            "2017-06-01",
            InForce::Uncertain,
            Status::Active,
        ),
        (
            TerminationMode::Unknown,
            "[2016..2018]",
            None,
            "2019-01-01",
            InForce::No,
            Status::Terminated,
        ),
    ];
    let (_dir, registry) = seeded();
    for &(mode, act, effective, on, in_force, status) in rows {
        let id = signed(&registry);
        append(&registry, &id, ending(mode, act, effective)).unwrap();
        let state = registry.partnership(&id, day(on), None).unwrap().unwrap();
        assert_eq!(
            (state.in_force, state.status),
            (in_force, status),
            "{mode} on {act}, effective {effective:?}, on {on}"
        );
    }
}

#[test]
fn an_ending_cannot_take_effect_before_its_act() {
    let (_dir, registry) = seeded();
    let id = signed(&registry);
    let err = append(
        &registry,
        &id,
        ending(TerminationMode::Denounced, "2022-03-01", Some("2022-02")),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains(
            "data.effective 2022-02 ends before the act's date 2022-03-01; an ending takes \
             effect on or after the act that ends it"
        ),
        "{err}"
    );
}

#[test]
fn a_corrected_effective_date_moves_the_end() {
    let (_dir, registry) = seeded();
    let id = signed(&registry);
    let end = append(
        &registry,
        &id,
        ending(TerminationMode::Denounced, "2022-03-01", None),
    )
    .unwrap();
    let mut data = serde_json::Map::new();
    data.insert("effective".into(), "2022-09-01".into());
    let fix = Event::new(Payload::Corrected(Corrected {
        target: end,
        reason: "the notice period was found".into(),
        date: None,
        data: Some(data),
    }));
    append(&registry, &id, fix).unwrap();
    let on = |d| {
        registry
            .partnership(&id, day(d), None)
            .unwrap()
            .unwrap()
            .in_force
    };
    assert_eq!(on("2022-08-31"), InForce::Yes);
    assert_eq!(on("2022-09-01"), InForce::No);
}

/// A correction that carries only a new `date`.
fn redated(target: EventId, date: &str) -> Event {
    Event::new(Payload::Corrected(Corrected {
        target,
        reason: "the decision's date was misread".into(),
        date: Some(date.parse().unwrap()),
        data: None,
    }))
}

#[test]
fn correcting_the_act_date_keeps_a_stated_effective_date() {
    let (_dir, registry) = seeded();
    let id = signed(&registry);
    let end = append(
        &registry,
        &id,
        ending(TerminationMode::Denounced, "2022-03-01", Some("2022-09-01")),
    )
    .unwrap();
    append(&registry, &id, redated(end, "2022-02-15")).unwrap();
    let on = |d| {
        registry
            .partnership(&id, day(d), None)
            .unwrap()
            .unwrap()
            .in_force
    };
    // The act moved; the day the ending takes effect did not.
    assert_eq!(on("2022-08-31"), InForce::Yes);
    assert_eq!(on("2022-09-01"), InForce::No);
    let mut all = registry
        .termination_dossiers(Some(&id), false)
        .unwrap()
        .unwrap();
    let dossier = all.dossiers.remove(0);
    assert_eq!(
        dossier.termination.date.map(|d| d.to_string()).as_deref(),
        Some("2022-02-15")
    );
    assert_eq!(
        dossier.takes_effect.date.map(|d| d.to_string()).as_deref(),
        Some("2022-09-01")
    );
}

#[test]
fn correcting_the_act_date_moves_an_end_with_no_effective_date() {
    let (_dir, registry) = seeded();
    let id = signed(&registry);
    let end = append(
        &registry,
        &id,
        ending(TerminationMode::Denounced, "2022-03-01", None),
    )
    .unwrap();
    append(&registry, &id, redated(end, "2022-02-15")).unwrap();
    let on = |d| {
        registry
            .partnership(&id, day(d), None)
            .unwrap()
            .unwrap()
            .in_force
    };
    assert_eq!(on("2022-02-14"), InForce::Yes);
    assert_eq!(on("2022-02-15"), InForce::No);
}

#[test]
fn a_dossier_says_whether_the_source_gives_the_effective_date() {
    let (_dir, registry) = seeded();
    let stated = signed(&registry);
    append(
        &registry,
        &stated,
        ending(TerminationMode::Denounced, "2022-03-01", Some("2022-09-01")),
    )
    .unwrap();
    let dossier = |id: &str| {
        let mut all = registry
            .termination_dossiers(Some(id), false)
            .unwrap()
            .unwrap();
        all.dossiers.remove(0).takes_effect
    };
    let t = dossier(&stated);
    assert_eq!(
        (t.date.map(|d| d.to_string()).as_deref(), t.basis),
        (Some("2022-09-01"), EffectiveBasis::Stated)
    );
    // Orenburg (seeds, 001:41): denounced on 2022-03-01, no effective date.
    let t = dossier("liberecky-kraj--orenburg-oblast");
    assert_eq!(
        (t.date.map(|d| d.to_string()).as_deref(), t.basis),
        (Some("2022-03-01"), EffectiveBasis::ActDate)
    );
    assert_eq!(
        t.basis.explain(),
        "the source gives no effective date; the date of the act is taken"
    );
}

#[test]
fn a_dossier_says_what_in_force_before_the_end_rests_on() {
    let (_dir, registry) = seeded();
    let before = |id: &str, strict: bool| {
        let mut all = registry
            .termination_dossiers(Some(id), strict)
            .unwrap()
            .unwrap();
        all.dossiers.remove(0).before_end
    };
    // Orenburg (001, Orenburg › Geneze spolupráce): signed 2012-05-24,
    // denounced 2022-03-01; nothing in between shows it alive.
    let b = before("liberecky-kraj--orenburg-oblast", false);
    assert_eq!(b.unevidenced, Some((day("2012-05-25"), day("2022-02-28"))));
    assert_eq!((b.in_force, b.ending_window), (InForce::Yes, None));
    assert_eq!(
        before("liberecky-kraj--orenburg-oblast", true).in_force,
        InForce::Uncertain
    );
    // Møre og Romsdal (001, Møre og Romsdal): signed 2001-11-28, ended at
    // an unknown day after it, no later than the seed data's record time.
    let b = before("liberecky-kraj--more-og-romsdal", false);
    assert_eq!(b.unevidenced, None);
    assert_eq!(
        b.ending_window,
        Some((
            Some(day("2001-11-28")),
            Some(pacta_registry::seeds::RECORD_TIME.day())
        ))
    );
    assert!(
        b.explain().contains("in force on those days is uncertain"),
        "{}",
        b.explain()
    );
}
