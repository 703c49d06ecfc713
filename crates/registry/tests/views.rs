//! The activity view, a fold written with the view recipe, counts what
//! the annual report counts — on the seed data and on a synthetic store
//! whose activities are corrected to other dates (of every precision),
//! retracted, and corrected after being retracted — and a rebuild or a
//! reopen gives the same view.

use std::collections::BTreeMap;

use pacta_domain::{EventType, Slug, StreamId};
use pacta_registry::{Actor, Command, Registry};
use serde_json::json;

mod common;

/// (home, year) → count, from the view.
fn view(registry: &Registry) -> BTreeMap<(String, i32), u64> {
    let (view, _) = registry.projections().view("activity").expect("served");
    view.rows(None)
        .iter()
        .map(|row| {
            let row: serde_json::Value = serde_json::from_str(row.get()).unwrap();
            (
                (
                    row["home"].as_str().unwrap().to_owned(),
                    row["year"].as_i64().unwrap() as i32,
                ),
                row["activities"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// (home, year) → count, from the annual report of every year from
/// `first` to `last`.
fn report(registry: &Registry, first: i32, last: i32) -> BTreeMap<(String, i32), u64> {
    let mut counts = BTreeMap::new();
    for year in first..=last {
        let report = registry.annual_report(year, None, None, false).unwrap();
        for section in report.sections {
            let home = section.home.unwrap().id.to_string();
            if !section.activities.is_empty() {
                counts.insert((home, year), section.activities.len() as u64);
            }
        }
    }
    counts
}

/// The view agrees with the report over every year it or the report
/// could name.
#[track_caller]
fn agree(registry: &Registry) {
    let view = view(registry);
    let first = view.keys().map(|(_, y)| *y).min().unwrap_or(2000).min(1990);
    let last = pacta_domain::limits::plausible_days(pacta_registry::now().day())
        .1
        .ymd()
        .0;
    assert!(!view.is_empty());
    assert_eq!(view, report(registry, first, last));
}

#[test]
fn the_activity_view_counts_what_the_report_counts_on_the_seeds() {
    let (_dir, registry) = common::seeded();
    agree(&registry);
}

#[test]
fn the_activity_view_follows_corrections_and_retractions_and_survives_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path()).unwrap();
    pacta_registry::synthetic::generate(&registry, 120, 7, &mut |_, _| {}).unwrap();
    registry.catch_up().unwrap();
    agree(&registry);

    // Every activity of the synthetic store, by stream.
    let activities: Vec<(StreamId, pacta_domain::EventId)> = registry
        .store()
        .read_from(0)
        .map(Result::unwrap)
        .filter(|r| r.event.event_type() == EventType::ActivityRecorded)
        .map(|r| (r.envelope.stream.clone(), r.envelope.event_id))
        .collect();
    assert!(activities.len() > 100, "{} activities", activities.len());
    // Dates of every precision, inside one year and across two, so that
    // corrections move activities between years, into none and back.
    let dates = [
        "2012-05-24",
        "2008-05",
        "2001",
        "2011-21",
        "2011-40",
        "2012-05-24?",
        "2008-05~",
        "[2011-10-31..2011-11-01]",
        "[2010-12-30..2011-01-02]",
        "[..2011-11]",
        "[2011-11-02..]",
        "2015",
    ];
    let correct = |stream: &StreamId, data: serde_json::Value| {
        let event = serde_json::from_value(json!({
            "type": "Corrected", "date": "2024-01-01", "data": data}))
        .unwrap();
        registry.execute_blocking(
            &Actor::system("views-test"),
            Command {
                stream: stream.clone(),
                events: vec![(None, event)],
                expected_version: None,
            },
        )
    };
    let mut changed = 0;
    for (i, (stream, target)) in activities.iter().enumerate().step_by(3) {
        let target = target.to_string();
        let outcome = match i % 4 {
            0 | 1 => correct(
                stream,
                json!({"target": target, "date": dates[i % dates.len()], "reason": "redated"}),
            ),
            2 => correct(
                stream,
                json!({"target": target, "data": {"outcome": "took_place"}, "reason": "outcome"}),
            ),
            _ => {
                let event = serde_json::from_value(json!({
                    "type": "Retracted", "date": "2024-01-02",
                    "data": {"target": target, "reason": "not so"}}))
                .unwrap();
                let retracted = registry.execute_blocking(
                    &Actor::system("views-test"),
                    Command {
                        stream: stream.clone(),
                        events: vec![(None, event)],
                        expected_version: None,
                    },
                );
                if retracted.is_ok() {
                    // A correction of a retracted activity moves nothing.
                    let _ = correct(
                        stream,
                        json!({"target": target, "date": "2003", "reason": "after retraction"}),
                    );
                }
                retracted
            }
        };
        // A correction the partnership's lifecycle cannot take is refused
        // and changes nothing; the rest must be accepted.
        if outcome.is_ok() {
            changed += 1;
        }
    }
    assert!(
        changed > activities.len() / 6,
        "{changed} of {} changed",
        activities.len()
    );
    agree(&registry);
    let before = view(&registry);

    registry.rebuild(Some("activity"), &mut |_, _| {}).unwrap();
    assert_eq!(view(&registry), before, "a rebuild gives the same view");
    drop(registry);
    let reopened = Registry::open(dir.path()).unwrap();
    assert_eq!(view(&reopened), before, "a reopen gives the same view");

    // A party's rows are its own.
    let home = before.keys().next().unwrap().0.clone();
    let (view, _) = reopened.projections().view("activity").unwrap();
    let rows = view.rows(Some(&Slug::parse(&home).unwrap()));
    assert_eq!(
        rows.len(),
        before.keys().filter(|(h, _)| *h == home).count()
    );
}
