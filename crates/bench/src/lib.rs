//! Shared helpers of Pacta's benchmark binaries: timing, medians and
//! realistic events.
#![deny(missing_docs)]

use std::time::Instant;

use pacta_domain::event::ActivityRecorded;
use pacta_domain::{ActivityKind, Event, EventId, Payload, Source};

/// A realistic event of about the size the seeds have (a letter with a
/// citation and a note).
pub fn sample_event(i: u64) -> Event {
    Event {
        payload: Payload::ActivityRecorded(ActivityRecorded {
            kind: ActivityKind::Letter,
            outcome: None,
            place: Some("Liberec".into()),
            participants: vec!["hejtman of the Liberec Region".into()],
            areas: vec!["tourism".into(), "culture".into(), "education".into()],
        }),
        date: Some("2010-05-17".parse().expect("a valid date")),
        source: Some(Source {
            title: "Uzavřená dohoda".into(),
            url: Some("https://www.kraj-lbc.cz/".into()),
            reference: Some("001_3457ff16fb4a1bf4.txt".into()),
            locator: None,
            date: Some("[2022-03-01..]".parse().expect("a valid date")),
        }),
        note: Some(format!(
            "letter {i} with detailed proposals for cooperation"
        )),
    }
}

/// A deterministic event id.
pub fn event_id(i: u64) -> EventId {
    EventId::from_bytes((u128::from(i) | 1 << 100).to_be_bytes())
}

/// Seconds taken by `f`.
pub fn time<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed().as_secs_f64(), out)
}

/// The median of a non-empty list.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The value at quantile `q` (0..=1) of a non-empty list.
pub fn quantile(xs: &mut [f64], q: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let i = ((xs.len() - 1) as f64 * q).round() as usize;
    xs[i]
}
