//! Fuzzing the event parser: the JSON of `POST …/events`, of seed files
//! and of every stored record goes through `Event`'s `Deserialize`.
//!
//! Properties: no JSON value and no text makes it (or `validate`) panic;
//! whatever it accepts serializes to JSON that parses to the same event;
//! every well-formed event of every type is accepted and valid.
//!
//! The corpus is the bundled seed data plus generated events of every
//! type; the fuzz mutates both at the level of JSON values (a field
//! dropped, retyped, renamed or replaced by any JSON) and of text (typos,
//! truncations, flipped bits). Cases per property: `PROPTEST_CASES`, or
//! the defaults below.

use pacta_domain::event::MAX_NOTE_CHARS;
use pacta_domain::{Event, EventType};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};

/// `PROPTEST_CASES` when set, else `default`.
fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

/// Every event of the bundled seed data, without the seed envelope (`id`,
/// `stream`): what a client would post.
fn seed_events() -> Vec<Value> {
    let files = [
        include_str!("../../../seeds/parties.ndjson"),
        include_str!("../../../seeds/liberecky-kraj.ndjson"),
        include_str!("../../../seeds/plzensky-kraj.ndjson"),
        include_str!("../../../seeds/ustecky-kraj.ndjson"),
        include_str!("../../../seeds/offers.ndjson"),
    ];
    let events: Vec<Value> = files
        .iter()
        .flat_map(|f| f.lines())
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("seed lines are JSON");
            let map = v.as_object_mut().expect("seed lines are objects");
            map.remove("id");
            map.remove("stream");
            v
        })
        .collect();
    assert!(events.len() > 200, "the seed corpus is there");
    events
}

/// Words the parser knows, so that generated JSON reaches past the first
/// unknown name: field names, wire names of types and enum values, dates.
const WORDS: &[&str] = &[
    "type",
    "date",
    "data",
    "source",
    "note",
    "title",
    "url",
    "reference",
    "kind",
    "names",
    "native",
    "cs",
    "en",
    "aliases",
    "country",
    "iso_3166_2",
    "parent",
    "home",
    "partner",
    "initiative",
    "participants",
    "intermediaries",
    "areas",
    "instrument",
    "place",
    "signatories",
    "outcome",
    "reason",
    "decided_by",
    "mode",
    "resolution",
    "notice",
    "document",
    "target",
    "party",
    "population",
    "population_approximate",
    "region",
    "interests",
    "wished_partner",
    "intermediary",
    "partnership",
    "add_aliases",
    "PartyRegistered",
    "PartyAmended",
    "PartnershipOpened",
    "ContactEstablished",
    "NegotiationStarted",
    "Signed",
    "Amended",
    "ActivityRecorded",
    "Stagnated",
    "Revived",
    "Suspended",
    "Terminated",
    "Attested",
    "Corrected",
    "Retracted",
    "OfferPublished",
    "OfferMatched",
    "OfferWithdrawn",
    "OfferLapsed",
    "visit",
    "letter",
    "official_relations",
    "denounced",
    "took_place",
    "region",
    "home_party",
    "CZ",
    "CZ-51",
    "liberecky-kraj",
    "liberecky-kraj--bursa",
    "01M82V7M3AQAFHDZR0AAFM3JN2",
    "2022-03-01",
    "2008-05?",
    "[2001-11-28..2022-03]",
    "[..2013]",
    "2011-40",
    "",
    " ",
    "\u{0}",
    "\u{202e}",
    "ř",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Numbers with a short decimal form (`12.345`, `-0.5`, `1e-3`), which
/// JSON carries exactly. Floats of any digits do not survive a round trip
/// (see `any_float_in_corrected_data_round_trips`).
fn short_float() -> impl Strategy<Value = f64> {
    (any::<i32>(), 0i32..6).prop_map(|(m, e)| f64::from(m) / 10f64.powi(e))
}

/// Any JSON value, its strings and keys mostly words the parser knows.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        short_float().prop_map(Value::from),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An object shaped like an event: a type the parser knows (mostly) and
/// the event's fields, each with any JSON.
fn eventlike() -> impl Strategy<Value = Value> {
    let ty = prop_oneof![
        5 => prop::sample::select(EventType::ALL.to_vec()).prop_map(|t| Value::from(t.as_str())),
        1 => any_json(),
    ];
    let field = |name: &'static str| prop::option::of(any_json()).prop_map(move |v| (name, v));
    (
        ty,
        field("date"),
        field("data"),
        field("source"),
        field("note"),
        prop::option::of((word(), any_json())),
    )
        .prop_map(|(ty, date, data, source, note, extra)| {
            let mut map = Map::new();
            map.insert("type".into(), ty);
            for (name, value) in [date, data, source, note] {
                if let Some(v) = value {
                    map.insert(name.into(), v);
                }
            }
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            Value::Object(map)
        })
}

/// Plain text a name or note may hold.
fn plain() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z ,.'()-]{0,30}",
        "[a-zřčšžýáíéůúňťďěŘČŠŽ][a-zřčšžýáíéůúňťďě ]{0,20}",
        Just("Plzeň".to_owned()),
        Just("Čuhujiv".to_owned()),
        Just("क्‍ष".to_owned()),
    ]
}

fn slug() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,3}"
}

fn partial_date() -> impl Strategy<Value = String> {
    prop_oneof![
        (1900i32..2100, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        (1900i32..2100, 1u32..=12).prop_map(|(y, m)| format!("{y}-{m:02}~")),
        (1900i32..2100).prop_map(|y| format!("{y}?")),
        (1900i32..2100).prop_map(|y| format!("{y}-40")),
        (1900i32..2000, 2000i32..2100).prop_map(|(a, b)| format!("[{a}..{b}-03]")),
        (1900i32..2100).prop_map(|y| format!("[..{y}]")),
    ]
}

fn ulid() -> impl Strategy<Value = String> {
    "[0-7][0-9A-HJKMNP-TV-Z]{25}"
}

fn strings(n: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(plain(), 0..n)
}

fn pick(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(values).prop_map(str::to_owned)
}

const INSTRUMENTS: &[&str] = &[
    "memorandum_of_friendship",
    "memorandum_of_understanding",
    "cooperation_agreement",
    "declaration_of_cooperation",
    "partnership_contract",
    "official_relations",
];

/// `data` of a well-formed event of each type, with the type's name.
fn data() -> impl Strategy<Value = (&'static str, Value)> {
    let party_kind = pick(&["region", "town", "city", "oblast", "municipality", "other"]);
    let names = || {
        (
            prop::option::of(plain()),
            prop::option::of(plain()),
            prop::option::of(plain()),
        )
            .prop_map(|(native, cs, en)| {
                let mut m = Map::new();
                for (k, v) in [("native", native), ("cs", cs), ("en", en)] {
                    if let Some(v) = v {
                        m.insert(k.into(), v.into());
                    }
                }
                if m.is_empty() {
                    m.insert("cs".into(), "Liberec".into());
                }
                Value::Object(m)
            })
    };
    let change = (prop::option::of(plain()), prop::option::of(plain()))
        .prop_map(|(r, d)| json!({ "reason": r, "decided_by": d }));
    prop_oneof![
        (
            party_kind,
            names(),
            strings(3),
            "[A-Z]{2}",
            prop::option::of("[A-Z0-9]{1,3}"),
            prop::option::of(slug())
        )
            .prop_map(|(kind, names, aliases, country, sub, parent)| {
                let iso = sub.map(|s| format!("{country}-{s}"));
                (
                    "PartyRegistered",
                    json!({"kind": kind, "names": names, "aliases": aliases,
                    "country": country, "iso_3166_2": iso, "parent": parent}),
                )
            }),
        (
            prop::option::of(names()),
            strings(3),
            prop::option::of(slug())
        )
            .prop_map(|(names, add, parent)| (
                "PartyAmended",
                json!({"names": names, "add_aliases": add, "parent": parent})
            )),
        (
            slug(),
            slug(),
            prop::option::of(pick(&["home_party", "home_actor", "foreign_side"]))
        )
            .prop_filter("two parties", |(h, p, _)| h != p)
            .prop_map(|(home, partner, i)| (
                "PartnershipOpened",
                json!({"home": home, "partner": partner, "initiative": i})
            )),
        (strings(3), strings(3), strings(3), any::<bool>()).prop_map(|(p, i, a, negotiation)| {
            (
                if negotiation {
                    "NegotiationStarted"
                } else {
                    "ContactEstablished"
                },
                json!({"participants": p, "intermediaries": i, "areas": a}),
            )
        }),
        (
            pick(INSTRUMENTS),
            prop::option::of(plain()),
            prop::option::of(plain()),
            strings(3),
            strings(3)
        )
            .prop_map(|(instrument, title, place, s, a)| (
                "Signed",
                json!({"instrument": instrument,
                "title": title, "place": place, "signatories": s, "areas": a})
            )),
        (
            prop::option::of(pick(INSTRUMENTS)),
            prop::option::of(plain()),
            prop::option::of(strings(3))
        )
            .prop_map(|(i, t, a)| ("Amended", json!({"instrument": i, "title": t, "areas": a}))),
        (
            pick(&["visit", "letter", "meeting", "conference", "other"]),
            prop::option::of(pick(&[
                "took_place",
                "planned",
                "did_not_take_place",
                "unanswered"
            ])),
            prop::option::of(plain()),
            strings(3),
            strings(3)
        )
            .prop_map(|(kind, outcome, place, p, a)| (
                "ActivityRecorded",
                json!({"kind": kind,
                "outcome": outcome, "place": place, "participants": p, "areas": a})
            )),
        (
            prop::sample::select(
                &[
                    "Stagnated",
                    "Revived",
                    "Suspended",
                    "OfferWithdrawn",
                    "OfferLapsed"
                ][..]
            ),
            change
        ),
        (
            pick(&["denounced", "mutual", "expired", "lapsed", "superseded"]),
            plain(),
            prop::option::of(plain()),
            prop::option::of(plain()),
            prop::option::of(plain())
        )
            .prop_map(|(mode, reason, by, res, notice)| (
                "Terminated",
                json!({"mode": mode,
                "reason": reason, "decided_by": by, "resolution": res,
                "notice": notice.map(|t| json!({"title": t}))})
            )),
        (
            prop::option::of(pick(INSTRUMENTS)),
            prop::option::of(plain())
        )
            .prop_map(|(i, d)| ("Attested", json!({"instrument": i, "document": d}))),
        (
            ulid(),
            plain(),
            prop::option::of(partial_date()),
            prop::option::of(any_json())
        )
            .prop_map(|(target, reason, date, value)| {
                let data = json!({"place": value.unwrap_or(Value::from("Liberec"))});
                (
                    "Corrected",
                    json!({"target": target, "reason": reason, "date": date, "data": data}),
                )
            }),
        (ulid(), plain()).prop_map(|(target, reason)| (
            "Retracted",
            json!({"target": target, "reason": reason})
        )),
        (
            slug(),
            slug(),
            prop::option::of(any::<u64>()),
            any::<bool>(),
            prop::option::of(plain()),
            strings(3)
        )
            .prop_map(|(party, home, population, approx, region, interests)| (
                "OfferPublished",
                json!({
                "party": party, "home": home, "population": population,
                "population_approximate": approx, "region": region, "interests": interests})
            )),
        (slug(), slug())
            .prop_map(|(a, b)| ("OfferMatched", json!({"partnership": format!("{a}--{b}")}))),
    ]
}

/// A well-formed event of any type: valid `data`, a date (required by
/// `Signed` and `Terminated`, optional elsewhere), maybe a source and a
/// note. Absent options are left out or written as `null`.
fn valid_event() -> impl Strategy<Value = Value> {
    (
        data(),
        prop::option::of(partial_date()),
        prop::option::of((
            plain(),
            prop::option::of("https://[a-z]{1,10}\\.cz/[a-z]{0,8}"),
            prop::option::of(partial_date()),
        )),
        prop::option::of(prop_oneof![
            plain(),
            "[a-z\n\t ]{0,40}",
            Just("ř".repeat(MAX_NOTE_CHARS))
        ]),
        any::<bool>(),
    )
        .prop_map(|((ty, data), date, source, note, nulls)| {
            let date = match (ty, date) {
                ("Signed" | "Terminated", None) => Some("2001".to_owned()),
                (_, d) => d,
            };
            let mut map = Map::new();
            map.insert("type".into(), ty.into());
            map.insert("data".into(), without_nulls(data, nulls));
            let source = source.map(|(title, url, date)| {
                without_nulls(json!({"title": title, "url": url, "date": date}), nulls)
            });
            for (k, v) in [
                ("date", date.map(Value::from)),
                ("source", source),
                ("note", note.map(Value::from)),
            ] {
                match v {
                    Some(v) => {
                        map.insert(k.into(), v);
                    }
                    None if nulls => {
                        map.insert(k.into(), Value::Null);
                    }
                    None => {}
                }
            }
            Value::Object(map)
        })
}

/// Drops `null` members of an object, unless `keep`.
fn without_nulls(v: Value, keep: bool) -> Value {
    match v {
        Value::Object(m) if !keep => {
            Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        v => v,
    }
}

/// One change to a JSON value, at a path chosen by the indexes.
#[derive(Clone, Debug)]
enum Mutation {
    /// Removes a member or an element.
    Remove(Vec<usize>),
    /// Replaces a value with any JSON.
    Replace(Vec<usize>, Value),
    /// Adds a member to an object (or an element to an array).
    Add(Vec<usize>, String, Value),
    /// Renames a member.
    Rename(Vec<usize>, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let path = || prop::collection::vec(any::<usize>(), 0..4);
    prop_oneof![
        path().prop_map(Mutation::Remove),
        (path(), any_json()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        (path(), word(), any_json()).prop_map(|(p, k, v)| Mutation::Add(p, k, v)),
        (path(), word()).prop_map(|(p, k)| Mutation::Rename(p, k)),
    ]
}

/// The value a path leads to: each index picks a member or an element
/// (wrapping); the path stops early at a leaf.
fn walk<'a>(mut v: &'a mut Value, path: &[usize]) -> &'a mut Value {
    for &i in path {
        let len = match &*v {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if len == 0 {
            break;
        }
        v = match v {
            Value::Object(m) => m.values_mut().nth(i % len).expect("within len"),
            Value::Array(a) => &mut a[i % len],
            _ => unreachable!("only containers have a length"),
        };
    }
    v
}

fn apply(mut v: Value, m: &Mutation) -> Value {
    match m {
        Mutation::Remove(path) => {
            let (last, parent) = path.split_last().map_or((0, &[][..]), |(l, p)| (*l, p));
            match walk(&mut v, parent) {
                Value::Object(map) if !map.is_empty() => {
                    let key = map
                        .keys()
                        .nth(last % map.len())
                        .cloned()
                        .expect("within len");
                    map.remove(&key);
                }
                Value::Array(a) if !a.is_empty() => {
                    let n = a.len();
                    a.remove(last % n);
                }
                _ => {}
            }
        }
        Mutation::Replace(path, new) => *walk(&mut v, path) = new.clone(),
        Mutation::Add(path, key, new) => match walk(&mut v, path) {
            Value::Object(map) => {
                map.insert(key.clone(), new.clone());
            }
            Value::Array(a) => a.push(new.clone()),
            other => *other = json!({ key.clone(): new.clone() }),
        },
        Mutation::Rename(path, key) => {
            let (last, parent) = path.split_last().map_or((0, &[][..]), |(l, p)| (*l, p));
            if let Value::Object(map) = walk(&mut v, parent)
                && !map.is_empty()
            {
                let old = map
                    .keys()
                    .nth(last % map.len())
                    .cloned()
                    .expect("within len");
                let value = map.remove(&old).expect("present");
                map.insert(key.clone(), value);
            }
        }
    }
    v
}

/// One change to the bytes of a text.
#[derive(Clone, Debug)]
enum ByteEdit {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Delete(usize),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    let interesting = prop::sample::select(b"{}[]\":,\\0-9 \0\xff\xc3\x80ulntfe.".to_vec());
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, bit)| ByteEdit::Flip(i, 1 << bit)),
        any::<usize>().prop_map(ByteEdit::Truncate),
        (any::<usize>(), prop_oneof![interesting, any::<u8>()])
            .prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        any::<usize>().prop_map(ByteEdit::Delete),
    ]
}

fn edit_bytes(mut bytes: Vec<u8>, edits: &[ByteEdit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len();
        match *e {
            ByteEdit::Flip(i, mask) if n > 0 => bytes[i % n] ^= mask,
            ByteEdit::Truncate(i) => bytes.truncate(i % (n + 1)),
            ByteEdit::Insert(i, b) => bytes.insert(i % (n + 1), b),
            ByteEdit::Delete(i) if n > 0 => {
                bytes.remove(i % n);
            }
            _ => {}
        }
    }
    bytes
}

/// The property: parsing never panics (the harness would report it);
/// whatever parses is an event whose JSON parses to it again, and
/// checking and serializing it do not panic either.
#[track_caller]
fn check_bytes(bytes: &[u8]) -> Option<Event> {
    let event: Event = serde_json::from_slice(bytes).ok()?;
    // From text as well as from bytes: the server parses text.
    if let Ok(text) = std::str::from_utf8(bytes) {
        assert_eq!(
            serde_json::from_str::<Event>(text).ok().as_ref(),
            Some(&event)
        );
    }
    let _ = event.validate();
    let _ = event.payload.to_value();
    let json = serde_json::to_string(&event).expect("an event serializes");
    let again: Event = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{event:?} serialized as {json}, which is refused: {e}"));
    assert_eq!(again, event, "{json}");
    // Serializing is deterministic: the stored form of an event is stable.
    assert_eq!(serde_json::to_string(&again).unwrap(), json);
    Some(event)
}

#[track_caller]
fn check_value(v: &Value) -> Option<Event> {
    check_bytes(v.to_string().as_bytes())
}

proptest! {
    #![proptest_config(config(1000))]

    /// Any JSON at all.
    #[test]
    fn any_json_is_refused_or_round_trips(v in any_json()) {
        check_value(&v);
    }

    /// Objects shaped like events, every field any JSON.
    #[test]
    fn eventlike_json_is_refused_or_round_trips(v in eventlike()) {
        check_value(&v);
    }

    /// Well-formed events of every type are accepted, valid, and round
    /// trip.
    #[test]
    fn every_well_formed_event_is_accepted(v in valid_event()) {
        let event = check_value(&v)
            .unwrap_or_else(|| panic!("refused: {v}: {:?}", serde_json::from_value::<Event>(v.clone()).err()));
        // `from_value` cannot hand raw `data` over; the text form can.
        let text = serde_json::from_str::<Event>(&v.to_string()).unwrap();
        prop_assert_eq!(&text, &event);
        if let Err(e) = event.validate() {
            return Err(TestCaseError::fail(format!("{v} is refused by validate: {e}")));
        }
    }

    /// Seed and generated events with their JSON changed.
    #[test]
    fn mutated_events_are_refused_or_round_trip(
        seed in prop::sample::select(seed_events()),
        generated in valid_event(),
        from_seed in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut v = if from_seed { seed } else { generated };
        for m in &mutations {
            v = apply(v, m);
        }
        check_value(&v);
    }

    /// Seed and generated events with their bytes changed.
    #[test]
    fn corrupted_event_text_is_refused_or_round_trips(
        seed in prop::sample::select(seed_events()),
        generated in valid_event(),
        from_seed in any::<bool>(),
        edits in prop::collection::vec(byte_edit(), 1..6),
    ) {
        let v = if from_seed { seed } else { generated };
        check_bytes(&edit_bytes(v.to_string().into_bytes(), &edits));
    }
}

proptest! {
    #![proptest_config(config(200))]

    /// `Corrected.data` holds any JSON, floats too: those must come back
    /// as they went in.
    #[test]
    fn any_float_in_corrected_data_round_trips(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
        let v = json!({"type": "Corrected", "data": {"target": "01M82V7M3AQAFHDZR0AAFM3JN2",
            "reason": "typo", "data": {"x": x}}});
        prop_assert!(check_value(&v).is_some(), "{} refused", v);
    }
}

/// The corpus itself: every seed event is accepted, valid and round trips.
#[test]
fn every_seed_event_is_accepted() {
    for v in seed_events() {
        let event = check_value(&v).unwrap_or_else(|| panic!("refused: {v}"));
        event.validate().unwrap_or_else(|e| panic!("{v}: {e}"));
    }
}
