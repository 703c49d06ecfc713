//! How long an event's texts and lists may be: every free-text field and
//! every list of the event types has a bound, stated here once.
//!
//! The registry keeps what a source says, briefly: a title, a place, who
//! took part. Long texts belong in the cited document, not in the log,
//! which every reader replays and every verifier hashes. Each bound is
//! generous against the bundled seed data (the longest value of each
//! field there is given beside it) and small against what a client could
//! send.
//!
//! [`Event::validate`](crate::Event::validate) checks them, so every write
//! path (the HTTP API, seed files, `pacta import`) meets them through
//! `decide`; a refusal names the field by its path in the wire form:
//! `source.title: at most 500 characters (got 1000000)`,
//! `data.participants: at most 200 items (got 100000)`,
//! `data.aliases[3]: at most 200 characters (got 201)`.
//!
//! Lengths are counted in Unicode scalar values (Rust `char`s), so `ř`
//! counts once. Records stored before a bound existed stay readable: the
//! bounds apply to new events, not to decoding the log.

use crate::event::{EventError, Names, Payload, Source};

/// `note` (seeds: 198).
pub const MAX_NOTE_CHARS: usize = 2000;
/// `data.reason` of `Terminated`, `Corrected`, `Retracted`, `Stagnated`,
/// `Revived`, `Suspended` and of an offer's end (seeds: 92).
pub const MAX_REASON_CHARS: usize = 2000;
/// A party's name (`data.names.native`, `.cs`, `.en`) and each alias
/// (`data.aliases[i]`, `data.add_aliases[i]`) (seeds: 55).
pub const MAX_NAME_CHARS: usize = 200;
/// How many aliases one event gives a party (seeds: 2).
pub const MAX_ALIASES: usize = 50;
/// A document's title: `source.title`, `data.title`, `data.document`,
/// `data.notice.title` (seeds: 100).
pub const MAX_TITLE_CHARS: usize = 500;
/// `source.url`, `data.notice.url` (seeds: 82). Browsers and servers
/// commonly cut URLs at about 2000 characters.
pub const MAX_URL_CHARS: usize = 2000;
/// A reference within or of a document (a file name, a resolution
/// number): `source.reference`, `data.notice.reference`,
/// `data.resolution` (seeds: 24).
pub const MAX_REFERENCE_CHARS: usize = 200;
/// Where in a document a fact stands (a section heading, a paragraph, a
/// notice's date): `source.locator`, `data.notice.locator` (seeds: 120).
pub const MAX_LOCATOR_CHARS: usize = 200;
/// A short line: `data.place`, `data.decided_by`, `data.region`,
/// `data.intermediary`, `data.wished_partner`, and each item of a list
/// (seeds: 79).
pub const MAX_LINE_CHARS: usize = 300;
/// How many items a list holds: `data.participants`,
/// `data.intermediaries`, `data.signatories`, `data.areas`,
/// `data.interests` (seeds: 9).
pub const MAX_LIST_ITEMS: usize = 200;
/// An ISO 3166-2 code, `data.iso_3166_2` (`GB-NTH`: two letters, a dash
/// and at most three more).
pub const MAX_SUBDIVISION_CHARS: usize = 6;
/// How many fields a correction replaces, `data.data` of `Corrected`
/// (no event type has more).
pub const MAX_CORRECTED_FIELDS: usize = 16;

/// Checks the bounds of an event's note, source and data.
pub(crate) fn check_event(
    note: Option<&str>,
    source: Option<&Source>,
    payload: &Payload,
) -> Result<(), EventError> {
    text("", "note", note, MAX_NOTE_CHARS)?;
    if let Some(source) = source {
        check_source("source", source)?;
    }
    check_payload("data", payload)
}

/// Checks the bounds of an event's data, its fields named under `prefix`
/// (`data`; `data.data` for the fields a correction gives).
pub fn check_payload(prefix: &str, payload: &Payload) -> Result<(), EventError> {
    let line =
        |field: &str, value: &Option<String>| text(prefix, field, value.as_deref(), MAX_LINE_CHARS);
    let reason = |value: &str| text(prefix, "reason", Some(value), MAX_REASON_CHARS);
    let title = |field: &str, value: &Option<String>| {
        text(prefix, field, value.as_deref(), MAX_TITLE_CHARS)
    };
    let items =
        |field: &str, list: &[String]| list_of(prefix, field, list, MAX_LIST_ITEMS, MAX_LINE_CHARS);
    let subdivision = |value: &Option<String>| {
        text(
            prefix,
            "iso_3166_2",
            value.as_deref(),
            MAX_SUBDIVISION_CHARS,
        )
    };
    match payload {
        Payload::PartyRegistered(p) => {
            check_names(prefix, &p.names)?;
            list_of(prefix, "aliases", &p.aliases, MAX_ALIASES, MAX_NAME_CHARS)?;
            subdivision(&p.iso_3166_2)?;
        }
        Payload::PartyAmended(a) => {
            if let Some(names) = &a.names {
                check_names(prefix, names)?;
            }
            list_of(
                prefix,
                "add_aliases",
                &a.add_aliases,
                MAX_ALIASES,
                MAX_NAME_CHARS,
            )?;
            subdivision(&a.iso_3166_2)?;
        }
        Payload::PartnershipOpened(_) | Payload::OfferMatched(_) => {}
        Payload::ContactEstablished(c) | Payload::NegotiationStarted(c) => {
            items("participants", &c.participants)?;
            items("intermediaries", &c.intermediaries)?;
            items("areas", &c.areas)?;
        }
        Payload::Signed(s) => {
            title("title", &s.title)?;
            line("place", &s.place)?;
            items("signatories", &s.signatories)?;
            items("areas", &s.areas)?;
        }
        Payload::Amended(a) => {
            title("title", &a.title)?;
            items("areas", a.areas.as_deref().unwrap_or_default())?;
        }
        Payload::ActivityRecorded(a) => {
            line("place", &a.place)?;
            items("participants", &a.participants)?;
            items("areas", &a.areas)?;
        }
        Payload::Stagnated(c)
        | Payload::Revived(c)
        | Payload::Suspended(c)
        | Payload::OfferWithdrawn(c)
        | Payload::OfferLapsed(c) => {
            text(prefix, "reason", c.reason.as_deref(), MAX_REASON_CHARS)?;
            line("decided_by", &c.decided_by)?;
        }
        Payload::Terminated(t) => {
            reason(&t.reason)?;
            line("decided_by", &t.decided_by)?;
            text(
                prefix,
                "resolution",
                t.resolution.as_deref(),
                MAX_REFERENCE_CHARS,
            )?;
            if let Some(notice) = &t.notice {
                check_source(&join(prefix, "notice"), notice)?;
            }
        }
        Payload::Attested(a) => title("document", &a.document)?,
        Payload::Corrected(c) => {
            reason(&c.reason)?;
            let n = c.data.as_ref().map_or(0, |d| d.len());
            if n > MAX_CORRECTED_FIELDS {
                return Err(EventError::new(format!(
                    "{}: at most {MAX_CORRECTED_FIELDS} fields (got {n})",
                    join(prefix, "data")
                )));
            }
        }
        Payload::Retracted(r) => reason(&r.reason)?,
        Payload::OfferPublished(o) => {
            line("region", &o.region)?;
            items("interests", &o.interests)?;
            line("wished_partner", &o.wished_partner)?;
            line("intermediary", &o.intermediary)?;
        }
    }
    Ok(())
}

fn check_source(prefix: &str, source: &Source) -> Result<(), EventError> {
    text(prefix, "title", Some(&source.title), MAX_TITLE_CHARS)?;
    text(prefix, "url", source.url.as_deref(), MAX_URL_CHARS)?;
    text(
        prefix,
        "reference",
        source.reference.as_deref(),
        MAX_REFERENCE_CHARS,
    )?;
    text(
        prefix,
        "locator",
        source.locator.as_deref(),
        MAX_LOCATOR_CHARS,
    )
}

fn check_names(prefix: &str, names: &Names) -> Result<(), EventError> {
    let prefix = join(prefix, "names");
    text(&prefix, "native", names.native.as_deref(), MAX_NAME_CHARS)?;
    text(&prefix, "cs", names.cs.as_deref(), MAX_NAME_CHARS)?;
    text(&prefix, "en", names.en.as_deref(), MAX_NAME_CHARS)
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// The number of characters of `value` if it has more than `max`.
fn too_long(value: &str, max: usize) -> Option<usize> {
    // A text of at most `max` bytes has at most `max` characters: most
    // texts are never counted.
    if value.len() <= max {
        return None;
    }
    let n = value.chars().count();
    (n > max).then_some(n)
}

fn text(prefix: &str, field: &str, value: Option<&str>, max: usize) -> Result<(), EventError> {
    match value.and_then(|v| too_long(v, max)) {
        None => Ok(()),
        Some(n) => Err(EventError::new(format!(
            "{}: at most {max} characters (got {n})",
            join(prefix, field)
        ))),
    }
}

fn list_of(
    prefix: &str,
    field: &str,
    list: &[String],
    max_items: usize,
    max_chars: usize,
) -> Result<(), EventError> {
    if list.len() > max_items {
        return Err(EventError::new(format!(
            "{}: at most {max_items} items (got {})",
            join(prefix, field),
            list.len()
        )));
    }
    for (i, item) in list.iter().enumerate() {
        if let Some(n) = too_long(item, max_chars) {
            return Err(EventError::new(format!(
                "{}[{i}]: at most {max_chars} characters (got {n})",
                join(prefix, field)
            )));
        }
    }
    Ok(())
}

/// The first year a partnership fact or a question may name: 1900. No
/// international partnership of a Czech region or town predates it; an
/// earlier date is a typing error (`1850` for `1950`).
pub const FIRST_PLAUSIBLE_YEAR: i32 = 1900;

/// How many days past the record day a partnership fact may lie (a
/// year): an agreement signed for next year's start is recorded ahead,
/// `3000-01-01` is a typing error.
pub const FUTURE_DAYS: i32 = 366;

/// The days a partnership fact recorded on `today` may fall on, and a
/// question asked on `today` may ask about: from 1900-01-01 to a year
/// after `today`.
pub fn plausible_days(today: crate::Day) -> (crate::Day, crate::Day) {
    let first = crate::Day::from_ymd(FIRST_PLAUSIBLE_YEAR, 1, 1).expect("a valid day");
    (first, crate::Day::from_number(today.number() + FUTURE_DAYS))
}

/// Whether every bounded end of `date` lies within [`plausible_days`];
/// the error names the field, the date and the accepted range.
pub fn check_plausible(
    field: &str,
    date: &crate::PartialDate,
    today: crate::Day,
) -> Result<(), String> {
    let (first, last) = plausible_days(today);
    let interval = date.interval();
    let outside = interval.earliest().is_some_and(|d| d < first || d > last)
        || interval.latest().is_some_and(|d| d < first);
    if outside {
        return Err(format!(
            "{field}: {date} is outside the dates a partnership fact may have: from {first} to \
             {last} (a year after the record day)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::Event;

    /// An event of `ty` whose field at `path` (`note`, `source.url`,
    /// `data.names.en`…) is `value`, beside what the type needs.
    fn event_with(ty: &str, path: &str, value: Value) -> Event {
        let mut event = json!({"type": ty, "date": "2020"});
        match ty {
            "PartyRegistered" => {
                event["data"] = json!({"kind":"town","names":{"en":"Kassel"},"country":"DE"})
            }
            "Signed" => event["data"] = json!({"instrument":"official_relations"}),
            "Terminated" => event["data"] = json!({"mode":"mutual","reason":"r"}),
            "ActivityRecorded" => event["data"] = json!({"kind":"visit"}),
            "OfferPublished" => event["data"] = json!({"party":"bergamo","home":"smo-cr"}),
            "Retracted" => {
                event["data"] = json!({"target":"01KAF4Q6Y0SEED0000000000A1","reason":"r"})
            }
            "Corrected" => {
                event["data"] =
                    json!({"target":"01KAF4Q6Y0SEED0000000000A1","reason":"r","date":"2021"})
            }
            _ => {}
        }
        let mut at = &mut event;
        let mut keys = path.split('.').peekable();
        while let Some(key) = keys.next() {
            if keys.peek().is_none() {
                at[key] = value;
                break;
            }
            if at.get(key).is_none() {
                at[key] = json!({});
            }
            at = &mut at[key];
        }
        // A citation needs its title.
        for cited in ["/source", "/data/notice"] {
            if let Some(cited) = event.pointer_mut(cited)
                && cited.get("title").is_none()
            {
                cited["title"] = json!("t");
            }
        }
        serde_json::from_value(event).unwrap_or_else(|e| panic!("{ty} {path}: {e}"))
    }

    /// A text of `n` characters, two bytes each.
    fn chars(n: usize) -> Value {
        json!("ř".repeat(n))
    }

    fn items(n: usize) -> Value {
        json!(vec!["x"; n])
    }

    /// At the bound the event is valid; one more is refused, naming the
    /// field.
    #[track_caller]
    fn check(ty: &str, path: &str, max: usize, make: fn(usize) -> Value, unit: &str) {
        event_with(ty, path, make(max))
            .validate()
            .unwrap_or_else(|e| panic!("{ty} {path} at {max}: {e}"));
        let err = event_with(ty, path, make(max + 1)).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{path}: at most {max} {unit} (got {})", max + 1),
            "{ty}"
        );
    }

    #[test]
    fn each_text_is_bounded_at_its_limit() {
        let cases: &[(&str, &str, usize)] = &[
            ("Attested", "note", MAX_NOTE_CHARS),
            ("Attested", "source.title", MAX_TITLE_CHARS),
            ("Attested", "source.url", MAX_URL_CHARS),
            ("Attested", "source.reference", MAX_REFERENCE_CHARS),
            ("Attested", "source.locator", MAX_LOCATOR_CHARS),
            ("Terminated", "data.notice.locator", MAX_LOCATOR_CHARS),
            ("Attested", "data.document", MAX_TITLE_CHARS),
            ("PartyRegistered", "data.names.en", MAX_NAME_CHARS),
            ("PartyRegistered", "data.names.native", MAX_NAME_CHARS),
            ("PartyAmended", "data.names.cs", MAX_NAME_CHARS),
            ("Signed", "data.title", MAX_TITLE_CHARS),
            ("Signed", "data.place", MAX_LINE_CHARS),
            ("ActivityRecorded", "data.place", MAX_LINE_CHARS),
            ("Stagnated", "data.reason", MAX_REASON_CHARS),
            ("Suspended", "data.decided_by", MAX_LINE_CHARS),
            ("Terminated", "data.reason", MAX_REASON_CHARS),
            ("Terminated", "data.resolution", MAX_REFERENCE_CHARS),
            ("Terminated", "data.notice.title", MAX_TITLE_CHARS),
            ("Terminated", "data.notice.url", MAX_URL_CHARS),
            ("Corrected", "data.reason", MAX_REASON_CHARS),
            ("Retracted", "data.reason", MAX_REASON_CHARS),
            ("OfferPublished", "data.region", MAX_LINE_CHARS),
            ("OfferPublished", "data.wished_partner", MAX_LINE_CHARS),
            ("OfferPublished", "data.intermediary", MAX_LINE_CHARS),
            ("OfferWithdrawn", "data.reason", MAX_REASON_CHARS),
        ];
        for &(ty, path, max) in cases {
            check(ty, path, max, chars, "characters");
        }
    }

    #[test]
    fn each_list_is_bounded_in_items_and_in_each_item() {
        let cases: &[(&str, &str, usize)] = &[
            ("PartyRegistered", "data.aliases", MAX_ALIASES),
            ("PartyAmended", "data.add_aliases", MAX_ALIASES),
            ("ContactEstablished", "data.participants", MAX_LIST_ITEMS),
            ("NegotiationStarted", "data.intermediaries", MAX_LIST_ITEMS),
            ("ActivityRecorded", "data.participants", MAX_LIST_ITEMS),
            ("Signed", "data.signatories", MAX_LIST_ITEMS),
            ("Signed", "data.areas", MAX_LIST_ITEMS),
            ("Amended", "data.areas", MAX_LIST_ITEMS),
            ("OfferPublished", "data.interests", MAX_LIST_ITEMS),
        ];
        for &(ty, path, max) in cases {
            check(ty, path, max, items, "items");
        }
        // Each item is a line (a name, for aliases).
        let item = |n: usize| json!(["a", "ř".repeat(n)]);
        event_with(
            "ActivityRecorded",
            "data.participants",
            item(MAX_LINE_CHARS),
        )
        .validate()
        .unwrap();
        let err = event_with(
            "ActivityRecorded",
            "data.participants",
            item(MAX_LINE_CHARS + 1),
        )
        .validate()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "data.participants[1]: at most 300 characters (got 301)"
        );
        let err = event_with("PartyRegistered", "data.aliases", item(MAX_NAME_CHARS + 1))
            .validate()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "data.aliases[1]: at most 200 characters (got 201)"
        );
    }

    #[test]
    fn the_refusal_names_the_field_whatever_the_size() {
        let big = event_with("Attested", "source.title", json!("x".repeat(1_000_000)));
        assert_eq!(
            big.validate().unwrap_err().to_string(),
            "source.title: at most 500 characters (got 1000000)"
        );
        let crowd = event_with("ActivityRecorded", "data.participants", items(100_000));
        assert_eq!(
            crowd.validate().unwrap_err().to_string(),
            "data.participants: at most 200 items (got 100000)"
        );
        let fields: serde_json::Map<String, Value> = (0..=MAX_CORRECTED_FIELDS)
            .map(|i| (format!("f{i}"), json!(1)))
            .collect();
        let correction = event_with("Corrected", "data.data", Value::Object(fields));
        assert_eq!(
            correction.validate().unwrap_err().to_string(),
            "data.data: at most 16 fields (got 17)"
        );
    }
}
