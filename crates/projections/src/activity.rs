//! The activity view: how many activities each home party recorded per
//! year, by the annual report's rule — an activity counts for a year when
//! every day its date allows lies in that year; corrections move it,
//! retractions remove it. Written with the [`View`] recipe: the fold and
//! its answer, no storage code (see `docs/views.md`).

use std::collections::BTreeMap;

use pacta_domain::{EventType, Interval, Recorded, Slug};
use serde::{Deserialize, Serialize};

use crate::view::{Context, Serve, View};

/// Activities per home party and year.
#[derive(Default, Serialize, Deserialize)]
pub struct Activity {
    counts: BTreeMap<Slug, BTreeMap<i32, u64>>,
}

/// The year every day of `days` lies in, if there is one.
fn year(days: Interval) -> Option<i32> {
    let (first, last) = (days.earliest()?, days.latest()?);
    (first.ymd().0 == last.ymd().0).then_some(first.ymd().0)
}

impl Activity {
    fn add(&mut self, home: Slug, year: Option<i32>, by: i64) {
        let Some(year) = year else { return };
        let count = self
            .counts
            .entry(home)
            .or_default()
            .entry(year)
            .or_default();
        *count = count.saturating_add_signed(by);
    }
}

impl View for Activity {
    const NAME: &'static str = "activity";
    const VERSION: u32 = 1;

    fn reads(ty: EventType) -> bool {
        matches!(
            ty,
            EventType::ActivityRecorded | EventType::Corrected | EventType::Retracted
        )
    }

    fn apply(&mut self, record: &Recorded, ctx: &Context<'_>) {
        let Some(home) = ctx.home(record) else { return };
        if record.event.event_type() == EventType::ActivityRecorded {
            self.add(home, ctx.effective(record).and_then(year), 1);
        } else if let Some(target) = ctx.target(record)
            && target.before.ty == EventType::ActivityRecorded
        {
            self.add(home.clone(), year(target.before.effective), -1);
            let after = target.after.and_then(|step| year(step.effective));
            self.add(home, after, 1);
        }
    }
}

/// One row of the activity view.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ActivityRow {
    /// The home party (region or town).
    #[schema(value_type = String)]
    pub home: Slug,
    /// The year.
    pub year: i32,
    /// Activities dated within it.
    pub activities: u64,
}

impl Serve for Activity {
    type Row = ActivityRow;

    fn rows(&self, party: Option<&Slug>) -> Vec<ActivityRow> {
        let counts = self
            .counts
            .iter()
            .filter(|(home, _)| party.is_none_or(|p| p == *home));
        counts
            .flat_map(|(home, years)| {
                years
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(&year, &activities)| ActivityRow {
                        home: home.clone(),
                        year,
                        activities,
                    })
            })
            .collect()
    }
}
