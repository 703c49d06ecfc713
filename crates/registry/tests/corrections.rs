//! Corrections and retractions: the original stays, the correction counts
//! from its own record time, and an impossible correction is refused.

use pacta_domain::event::{
    ActivityRecorded, Corrected, PartnershipOpened, Retracted, Signed, Terminated,
};
use pacta_domain::{
    ActivityKind, Day, Event, EventId, InForce, Instrument, Payload, Slug, Status, StreamId,
    TerminationMode,
};
use pacta_registry::{Actor, Command, CommandError, Registry};

mod common;

use common::seeded;

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
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

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

#[test]
fn a_corrected_date_counts_from_the_correction_on() {
    let (_dir, registry) = seeded();
    let id = "liberecky-kraj--orenburg-oblast";
    let records = registry
        .store()
        .stream(&StreamId::partnership(slug(id)))
        .unwrap();
    let terminated = records
        .iter()
        .find(|r| r.event.event_type() == pacta_domain::EventType::Terminated)
        .unwrap();
    let before_correction = registry.store().head();
    let t0 = registry
        .store()
        .get(before_correction.position)
        .unwrap()
        .unwrap()
        .envelope
        .recorded_at;

    // Say a later document shows the denunciation took effect on 2022-03-15.
    let mut event = Event::new(Payload::Corrected(Corrected {
        target: terminated.envelope.event_id,
        reason: "the notice period ran to 2022-03-15".into(),
        date: Some("2022-03-15".parse().unwrap()),
        data: None,
    }));
    event.note = Some("correction from the assembly's resolution".into());
    std::thread::sleep(std::time::Duration::from_millis(2));
    append(&registry, id, event).unwrap();

    // Now: in force until 14 March.
    let now = registry
        .partnership(id, day("2022-03-10"), None)
        .unwrap()
        .unwrap();
    assert_eq!(now.in_force, InForce::Yes);
    assert_eq!(now.status, Status::Suspended);
    // As known before the correction: ended on 1 March.
    let then = registry
        .partnership(id, day("2022-03-10"), Some(t0))
        .unwrap()
        .unwrap();
    assert_eq!(then.in_force, InForce::No);
    assert_eq!(then.status, Status::Terminated);

    // The history keeps both, side by side.
    let history = registry.history(id, None).unwrap().unwrap();
    let original = history
        .iter()
        .find(|v| v.record.envelope.event_id == terminated.envelope.event_id)
        .unwrap();
    assert_eq!(
        original.record.event.date.unwrap().to_string(),
        "2022-03-01"
    );
    assert_eq!(original.date.unwrap().to_string(), "2022-03-15");
    assert_eq!(original.corrected_by.len(), 1);
    let correction = history.last().unwrap();
    assert_eq!(correction.target, Some(terminated.envelope.position));
    // And as known before, the original shows uncorrected.
    let old = registry.history(id, Some(t0)).unwrap().unwrap();
    let original = old
        .iter()
        .find(|v| v.record.envelope.event_id == terminated.envelope.event_id)
        .unwrap();
    assert_eq!(original.date.unwrap().to_string(), "2022-03-01");
    assert!(original.corrected_by.is_empty());

    // The dossier shows the correction beside the original.
    let dossiers = registry
        .termination_dossiers(Some(id), false)
        .unwrap()
        .unwrap();
    let d = &dossiers.dossiers[0];
    assert_eq!(d.termination.date.unwrap().to_string(), "2022-03-15");
    assert_eq!(d.corrections.len(), 1);
    assert!(dossiers.verification.ok);
}

#[test]
fn an_impossible_correction_is_refused_and_writes_nothing() {
    let (_dir, registry) = seeded();
    let id = "liberecky-kraj--orenburg-oblast";
    let records = registry
        .store()
        .stream(&StreamId::partnership(slug(id)))
        .unwrap();
    let signed = records
        .iter()
        .find(|r| r.event.event_type() == pacta_domain::EventType::Signed)
        .unwrap();
    let head = registry.store().head();
    // Signing moved after the termination: the history becomes impossible.
    let err = append(
        &registry,
        id,
        Event::new(Payload::Corrected(Corrected {
            target: signed.envelope.event_id,
            reason: "typo".into(),
            date: Some("2023-01-01".parse().unwrap()),
            data: None,
        })),
    )
    .unwrap_err();
    assert!(matches!(err, CommandError::Refused(_)), "{err}");
    // Corrected data must still make a valid event of the target's type.
    let mut data = serde_json::Map::new();
    data.insert("instrument".into(), serde_json::json!("treaty"));
    let err = append(
        &registry,
        id,
        Event::new(Payload::Corrected(Corrected {
            target: signed.envelope.event_id,
            reason: "typo".into(),
            date: None,
            data: Some(data),
        })),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a valid Signed"), "{err}");
    // Retracting the signing would leave a termination of nothing.
    let err = append(
        &registry,
        id,
        Event::new(Payload::Retracted(Retracted {
            target: signed.envelope.event_id,
            reason: "never happened".into(),
        })),
    )
    .unwrap_err();
    assert!(matches!(err, CommandError::Refused(_)), "{err}");
    assert_eq!(registry.store().head(), head);
}

#[test]
fn a_retraction_withdraws_from_its_record_time_on() {
    let (_dir, registry) = seeded();
    let id = "plzensky-kraj--can-tho";
    let visit = append(
        &registry,
        id,
        Event {
            payload: Payload::ActivityRecorded(ActivityRecorded {
                kind: ActivityKind::Visit,
                outcome: None,
                place: Some("Plzeň".into()),
                participants: vec![],
                areas: vec![],
            }),
            date: Some("2016-09".parse().unwrap()),
            source: None,
            note: Some("delegation".into()),
        },
    )
    .unwrap();
    let t1 = registry
        .store()
        .get(registry.store().head().position)
        .unwrap()
        .unwrap()
        .envelope
        .recorded_at;
    std::thread::sleep(std::time::Duration::from_millis(2));
    append(
        &registry,
        id,
        Event::new(Payload::Retracted(Retracted {
            target: visit,
            reason: "a different delegation".into(),
        })),
    )
    .unwrap();
    let now = registry
        .partnership(id, day("2017-01-01"), None)
        .unwrap()
        .unwrap();
    assert!(now.last_activity.is_none());
    let then = registry
        .partnership(id, day("2017-01-01"), Some(t1))
        .unwrap()
        .unwrap();
    assert_eq!(then.last_activity.unwrap().record.envelope.event_id, visit);
    // A retracted event cannot be retracted again.
    let err = append(
        &registry,
        id,
        Event::new(Payload::Retracted(Retracted {
            target: visit,
            reason: "again".into(),
        })),
    )
    .unwrap_err();
    assert!(err.to_string().contains("retracted already"), "{err}");
}

#[test]
fn a_new_partnership_through_its_whole_life() {
    let (_dir, registry) = seeded();
    let id = registry
        .new_partnership_id(&slug("ustecky-kraj"), &slug("molde"))
        .unwrap();
    let open = Event::new(Payload::PartnershipOpened(PartnershipOpened {
        home: slug("ustecky-kraj"),
        partner: slug("molde"),
        initiative: None,
    }));
    append(&registry, id.as_str(), open).unwrap();
    let mut signed = Event::new(Payload::Signed(Signed {
        instrument: Instrument::CooperationAgreement,
        title: None,
        place: None,
        signatories: vec![],
        areas: vec!["culture".into()],
    }));
    signed.date = Some("2024-05".parse().unwrap());
    append(&registry, id.as_str(), signed).unwrap();
    let mut end = Event::new(Payload::Terminated(Terminated {
        mode: TerminationMode::Expired,
        reason: "term ran out".into(),
        effective: None,
        decided_by: Some("regional council".into()),
        resolution: Some("RK 12/2026".into()),
        notice: None,
    }));
    end.date = Some("2025-12-31".parse().unwrap());
    append(&registry, id.as_str(), end).unwrap();
    let d = |s| {
        registry
            .partnership(id.as_str(), day(s), None)
            .unwrap()
            .unwrap()
    };
    assert_eq!(d("2024-05-15").in_force, InForce::Uncertain);
    assert_eq!(d("2024-06-01").in_force, InForce::Yes);
    assert_eq!(d("2025-12-30").in_force, InForce::Yes);
    assert_eq!(d("2025-12-31").in_force, InForce::No);
    assert_eq!(d("2025-01-01").areas, ["culture"]);
}
