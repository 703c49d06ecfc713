//! A party's id, names and aliases belong to it alone: a clerk cannot
//! register a party that answers to another party's id or name, and a
//! look-up by an id always finds that party.

use pacta_domain::{Event, EventId, Slug, StreamId};
use pacta_registry::seeds::SeedFile;
use pacta_registry::{Actor, Command, CommandError, Lookup, Registry, Role};
use pacta_store::{Append, NewEvent};

mod common;

use common::seeded;

fn plzen_clerk() -> Actor {
    Actor {
        name: "plzen-desk".into(),
        role: Role::Clerk,
        party: Some(Slug::parse("plzensky-kraj").unwrap()),
    }
}

fn party_event(names: &str, aliases: &str) -> Event {
    serde_json::from_str(&format!(
        r#"{{"type":"PartyRegistered","data":{{"kind":"town","names":{names},"aliases":{aliases},"country":"DE"}}}}"#
    ))
    .unwrap()
}

fn register(registry: &Registry, id: &str, event: Event) -> Result<(), CommandError> {
    registry
        .execute_blocking(
            &plzen_clerk(),
            Command {
                stream: StreamId::parse(&format!("party/{id}")).unwrap(),
                events: vec![(None, event)],
                expected_version: None,
            },
        )
        .map(|_| ())
}

/// The party a text resolves to, or how the look-up failed.
fn resolved(registry: &Registry, text: &str) -> String {
    match registry.lookup_party(text) {
        Ok(p) => p.id.to_string(),
        Err(Lookup::NotFound) => "not found".into(),
        Err(Lookup::Ambiguous(c)) => {
            let ids: Vec<&str> = c.iter().map(|p| p.id.as_str()).collect();
            format!("ambiguous: {}", ids.join(" "))
        }
    }
}

#[test]
fn a_clerk_cannot_register_a_party_under_other_parties_ids_and_names() {
    let (dir, registry) = seeded();
    // What a clerk of the Plzeň Region once could POST to /api/v1/parties.
    let attack = party_event(
        r#"{"native":"Plzeň Region"}"#,
        r#"["liberecky-kraj","ustecky-kraj"]"#,
    );
    let err = register(&registry, "zzz-evil", attack).unwrap_err();
    assert!(matches!(err, CommandError::Invalid(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        r#"name "Plzeň Region" is already a name of party plzensky-kraj"#
    );
    let aliases_only = party_event(
        r#"{"native":"Evil"}"#,
        r#"["liberecky-kraj","ustecky-kraj"]"#,
    );
    let err = register(&registry, "zzz-evil", aliases_only).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"alias "liberecky-kraj" is already the id of party liberecky-kraj"#
    );
    // Spelt without diacritics, in capitals.
    let err = register(
        &registry,
        "zzz-evil",
        party_event(r#"{"en":"PLZEN REGION"}"#, "[]"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"name "PLZEN REGION" is already a name of party plzensky-kraj"#
    );
    // A party whose names are its own is welcome.
    register(
        &registry,
        "kassel",
        party_event(r#"{"native":"Kassel","en":"Kassel"}"#, r#"["kassel"]"#),
    )
    .unwrap();

    let stream = StreamId::parse("party/zzz-evil").unwrap();
    assert_eq!(registry.store().stream_version(&stream).unwrap(), 0);
    for _ in 0..2 {
        assert_eq!(resolved(&registry, "liberecky-kraj"), "liberecky-kraj");
        assert_eq!(resolved(&registry, "ustecky-kraj"), "ustecky-kraj");
        assert_eq!(resolved(&registry, "Plzeň Region"), "plzensky-kraj");
        assert_eq!(resolved(&registry, "kassel"), "kassel");
    }
    // And after a restart.
    drop(registry);
    let registry = Registry::open(dir.path()).unwrap();
    assert_eq!(resolved(&registry, "liberecky-kraj"), "liberecky-kraj");
    assert_eq!(resolved(&registry, "plzen region"), "plzensky-kraj");
}

#[test]
fn seed_files_cannot_give_two_parties_one_name() {
    let (_dir, registry) = seeded();
    let line = |id: &str, n: u8, names: &str| {
        format!(
            r#"{{"id":"{}","stream":"party/{id}","type":"PartyRegistered","data":{{"kind":"town","names":{names},"country":"DE"}}}}"#,
            EventId::from_bytes(u128::from(n).to_be_bytes())
        )
    };
    let text = [
        line("bad-tolz", 1, r#"{"native":"Bad Tölz"}"#),
        line("bad-toelz", 2, r#"{"en":"Bad Tolz"}"#),
    ]
    .join("\n");
    let files = [SeedFile {
        name: "towns.ndjson".into(),
        text,
    }];
    let err = registry
        .load_seeds(&files, &Actor::system("import"), false)
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with(r#"towns.ndjson:2: name "Bad Tolz" is already a name of party bad-tolz"#),
        "{err}"
    );
}

#[test]
fn a_name_several_parties_answer_to_names_them_all() {
    let (_dir, registry) = seeded();
    // Stored before names were kept unique: straight into the log.
    let event = party_event(r#"{"en":"Plzeň Region"}"#, r#"["liberecky-kraj"]"#);
    registry
        .store()
        .append_blocking(Append {
            stream: StreamId::parse("party/zzz-old").unwrap(),
            expected_version: Some(0),
            events: vec![NewEvent {
                event_id: EventId::from_bytes(7u128.to_be_bytes()),
                event,
                recorded_by: "old".into(),
            }],
        })
        .unwrap();
    registry.catch_up().unwrap();
    assert_eq!(
        resolved(&registry, "Plzeň Region"),
        "ambiguous: plzensky-kraj zzz-old"
    );
    assert_eq!(
        resolved(&registry, "PLZEN REGION"),
        "ambiguous: plzensky-kraj zzz-old"
    );
    assert_eq!(resolved(&registry, "liberecky-kraj"), "liberecky-kraj");
    assert_eq!(resolved(&registry, "plzensky-kraj"), "plzensky-kraj");
    assert_eq!(resolved(&registry, "zzz-old"), "zzz-old");
    assert_eq!(resolved(&registry, "Atlantis"), "not found");
}
