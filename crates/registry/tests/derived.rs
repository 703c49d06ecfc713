//! The `derived` days a log reader gets are the registry's own: for every
//! form of the date grammar, the interval the in-force rules use.

use pacta_domain::{Event, PartialDate, Slug, StreamId, Timestamp};
use pacta_registry::{Actor, Command, Registry};

mod common;

fn activity(date: &str, source_date: Option<&str>) -> Event {
    let mut source = serde_json::json!({"title": "a note"});
    if let Some(d) = source_date {
        source["date"] = d.into();
    }
    serde_json::from_value(serde_json::json!({
        "type": "ActivityRecorded",
        "date": date,
        "data": {"kind": "visit"},
        "source": source,
    }))
    .unwrap()
}

#[test]
fn derived_days_are_the_domains_for_every_date_form() {
    let (_dir, registry): (_, Registry) = common::seeded();
    let stream = StreamId::partnership(Slug::parse("liberecky-kraj--bursa").unwrap());
    #[rustfmt::skip]
    let dates: &[(&str, Option<&str>)] = &[
        ("2012-05-24", None), ("2008-05", None), ("2001", None),
        ("2011-40", None), ("2011-41", None), ("2010-21", None), ("2010-24", None),
        ("2012-05-24?", None), ("2008-05~", None), ("2001%", None),
        ("[2011-10-31..2011-11-01]", None), ("[..2011-11]", None),
        ("[2011-11-02..]", None), ("[2011-11-02..]", Some("2013")),
        ("[2011-11-02..]", Some("[2022-03-01..]")),
    ];
    for &(date, source_date) in dates {
        let out = registry
            .execute_blocking(
                &Actor::system("derived-test"),
                Command {
                    stream: stream.clone(),
                    events: vec![(None, activity(date, source_date))],
                    expected_version: None,
                },
            )
            .unwrap_or_else(|e| panic!("{date}: {e}"));
        let position = out.events[0].position;
        let record = registry.store().get(position).unwrap().unwrap();
        let derived = registry.derived(&record);
        let parsed: PartialDate = date.parse().unwrap();
        let source: Option<PartialDate> = source_date.map(|d| d.parse().unwrap());
        let (interval, open_end) = pacta_domain::history::bounded(
            Some(&parsed),
            source.as_ref(),
            record.envelope.recorded_at,
        );
        assert_eq!(
            (derived.earliest, derived.latest, derived.open_end),
            (interval.earliest(), interval.latest(), open_end),
            "{date} (source {source_date:?})"
        );
        assert_eq!(derived.precision, Some(parsed.precision()), "{date}");
        assert_eq!(
            (
                derived.home.as_ref().map(Slug::as_str),
                derived.partner.as_ref().map(Slug::as_str)
            ),
            (Some("liberecky-kraj"), Some("bursa"))
        );
        // An open end is bounded, never left open: by the source's date,
        // else by the day it was recorded.
        if date.ends_with("..]") {
            let bound = match source.map(|s| s.interval().latest()) {
                Some(Some(day)) => day,
                _ => Timestamp::day(record.envelope.recorded_at),
            };
            assert_eq!(derived.latest, Some(bound), "{date}");
        }
    }
}

/// The days of an undated event, a termination with a stated effective
/// date, and corrections are those the fold uses: the record day, the
/// effective date, the date a correction puts in place (none when it
/// puts none).
#[test]
fn derived_days_follow_the_fold_for_undated_events_terminations_and_corrections() {
    let (_dir, registry): (_, Registry) = common::seeded();
    let stream = StreamId::partnership(Slug::parse("liberecky-kraj--bursa").unwrap());
    let append = |event: serde_json::Value| {
        let event: Event = serde_json::from_value(event).unwrap();
        let out = registry
            .execute_blocking(
                &Actor::system("derived-test"),
                Command {
                    stream: stream.clone(),
                    events: vec![(None, event)],
                    expected_version: None,
                },
            )
            .unwrap();
        let record = registry
            .store()
            .get(out.events[0].position)
            .unwrap()
            .unwrap();
        (
            record.envelope.event_id,
            registry.derived(&record),
            record.envelope.recorded_at,
        )
    };
    let days = |d: &pacta_registry::query::Derived| {
        (
            d.earliest.map(|d| d.to_string()),
            d.latest.map(|d| d.to_string()),
        )
    };
    let some = |a: &str, b: &str| (Some(a.to_owned()), Some(b.to_owned()));

    let (undated, d, recorded_at) = append(serde_json::json!({
        "type": "ActivityRecorded", "data": {"kind": "visit"}}));
    let today = Timestamp::day(recorded_at).to_string();
    assert_eq!(days(&d), some(&today, &today));
    assert_eq!(d.precision, None);

    let (_, d, _) = append(serde_json::json!({
        "type": "Corrected", "date": "2024-02-01",
        "data": {"target": undated.to_string(), "date": "2013-06", "reason": "dated"}}));
    assert_eq!(days(&d), some("2013-06-01", "2013-06-30"));
    assert_eq!(d.precision, Some(pacta_domain::Precision::Month));

    let (_, d, _) = append(serde_json::json!({
        "type": "Corrected", "date": "2024-02-02",
        "data": {"target": undated.to_string(), "data": {"outcome": "took_place"}, "reason": "outcome"}}));
    assert_eq!(
        days(&d),
        (None, None),
        "a correction of data alone has no days"
    );

    let (terminated, d, _) = append(serde_json::json!({
        "type": "Terminated", "date": "2023-05-10",
        "data": {"mode": "denounced", "reason": "war", "effective": "2023-11"}}));
    assert_eq!(days(&d), some("2023-11-01", "2023-11-30"));

    let (_, d, _) = append(serde_json::json!({
        "type": "Corrected", "date": "2024-02-03",
        "data": {"target": terminated.to_string(), "data": {"effective": "2023"}, "reason": "year"}}));
    assert_eq!(days(&d), some("2023-01-01", "2023-12-31"));
    assert_eq!(d.precision, Some(pacta_domain::Precision::Year));
}
