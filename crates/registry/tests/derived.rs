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
