//! A partnership's page: its state on the day asked, its lifecycle as
//! bars on a time axis (uncertain ends drawn hatched, never as a fake
//! day), and every event with its date in words, citation, recorder,
//! position and hash.

use maud::{Markup, PreEscaped, html};
use pacta_domain::history::StatusSpan;
use pacta_domain::{Day, Interval, Status};
use pacta_registry::Registry;
use pacta_registry::query::EventView;

use super::home::Refused;
use super::{Chain, View, page, prague_today};
use crate::{Lang, PartyNames, lang::fill};

/// The page of partnership `id`; `Ok(None)` when the registry holds no
/// such partnership (as known at the time asked).
pub fn html(
    registry: &Registry,
    id: &str,
    view: &View,
    chain: &Chain,
) -> Result<Option<String>, Refused> {
    let today = prague_today(pacta_registry::now());
    let span = view.days()?;
    let detail = registry
        .partnership_over(id, span, view.as_known_at)
        .map_err(|e| Refused(e.to_string()))?;
    let Some(detail) = detail else {
        return Ok(None);
    };
    let events = registry
        .history(id, view.as_known_at)
        .map_err(|e| Refused(e.to_string()))?
        .unwrap_or_default();
    let spans = registry
        .projections()
        .partnerships()
        .resolve(id, span.to(), view.as_known_at)
        .map(|r| r.timeline.status_spans())
        .unwrap_or_default();
    let lang = view.lang;
    let w = lang.words();
    let p = lang.page();
    let names = PartyNames::of(registry);
    let title = format!(
        "{} – {}",
        names.name(lang, &detail.home),
        names.name(lang, &detail.partner)
    );
    let in_force = detail.in_force_read(false);
    let terminated = detail.terminated.is_some();
    let body = html! {
        h1 data-partnership=(detail.id) data-in-force=(in_force.as_str()) { (title) }
        p {
            (fill(p.state_on, &[
                &(w.day)(span.to()),
                (w.status)(detail.status),
                (w.in_force)(in_force),
            ]))
            @if detail.evidence == Some(pacta_domain::Evidence::Presumed) {
                " " span.presumed { (p.presumed) }
            }
        }
        @if detail.possible_statuses.len() > 1 {
            p { (p.possible) ": "
                (detail.possible_statuses.iter().map(|s| (w.status)(*s)).collect::<Vec<_>>().join(", ")) }
        }
        p {
            a href={ "/api/v1/partnerships/" (detail.id) } { (p.raw_json) }
            @if terminated {
                " · " a href={ "/api/v1/audit/terminations/" (detail.id) "?lang=" (lang.code()) } { (p.dossier) }
            }
        }
        form.filters method="get" action={ "/partnerships/" (detail.id) } {
            label { (p.label_on)
                input type="date" name="on" value=(view.on.map(|d| d.to_string()).unwrap_or_else(|| span.to().to_string())) min="1900-01-01";
            }
            label { (p.label_known_at)
                input type="date" name="as_known_at" value=(view.as_known_at.map(|t| t.day().to_string()).unwrap_or_default());
            }
            input type="hidden" name="lang" value=(lang.code());
            button type="submit" { (p.show) }
        }
        h2 { (p.timeline) }
        (timeline(&spans, lang, today))
        h2 { (p.events) }
        (events_table(&events, lang))
    };
    Ok(Some(page(
        view,
        &format!("/partnerships/{}", detail.id),
        &title,
        chain,
        body,
    )))
}

/// The colour of a status on the timeline.
fn colour(status: Status) -> &'static str {
    match status {
        Status::Proposed => "#999999",
        Status::Negotiating => "#5b7db1",
        Status::Active => "#1b6e20",
        Status::Stagnating => "#b58900",
        Status::Suspended => "#c05a00",
        Status::Terminated => "#8a1c1c",
    }
}

/// The lifecycle as one lane of bars on a time axis (SVG), and the same
/// as a table for those who cannot see it.
fn timeline(spans: &[StatusSpan], lang: Lang, today: Day) -> Markup {
    let w = lang.words();
    let p = lang.page();
    if spans.is_empty() {
        return html! { p { (w.none) } };
    }
    // The axis: from the first year any span may start to the year after today.
    let first_day = spans
        .iter()
        .filter_map(|s| s.from.earliest().or(s.from.latest()))
        .min()
        .unwrap_or(today);
    let first_year = first_day.ymd().0;
    let last_year = today.ymd().0 + 1;
    let start = Day::from_ymd(first_year, 1, 1).map_or(0, Day::number);
    let end = Day::from_ymd(last_year, 12, 31).map_or(1, Day::number);
    let (left, width) = (24.0_f64, 952.0_f64);
    let x = |d: i32| left + width * f64::from(d.clamp(start, end) - start) / f64::from(end - start);
    let clamp = |i: Interval| {
        (
            i.earliest().map_or(start, Day::number),
            i.latest().map_or(today.number(), Day::number),
        )
    };
    let mut bars = String::new();
    for s in spans {
        let (from_lo, from_hi) = clamp(s.from);
        let (to_lo, to_hi) = match s.to {
            Some(i) => clamp(i),
            None => (today.number(), today.number()),
        };
        let status = s.status.as_str();
        let fill = colour(s.status);
        let label = (w.status)(s.status);
        // Uncertain start: hatched from the earliest to the latest day.
        if from_hi > from_lo {
            bars.push_str(&format!(
                r#"<rect x="{:.1}" y="20" width="{:.1}" height="26" fill="url(#hatch-{status})" data-status="{status}" data-certain="false"><title>{label}</title></rect>"#,
                x(from_lo),
                (x(from_hi) - x(from_lo)).max(1.0)
            ));
        }
        // Certain: from the latest day it may have begun to the earliest it may have ended.
        if to_lo > from_hi {
            bars.push_str(&format!(
                r#"<rect x="{:.1}" y="20" width="{:.1}" height="26" fill="{fill}" data-status="{status}" data-certain="true"><title>{label}</title></rect>"#,
                x(from_hi),
                (x(to_lo) - x(from_hi)).max(1.0)
            ));
        }
        // Uncertain end.
        if to_hi > to_lo && s.to.is_some() {
            bars.push_str(&format!(
                r#"<rect x="{:.1}" y="20" width="{:.1}" height="26" fill="url(#hatch-{status})" data-status="{status}" data-certain="false"><title>{label}</title></rect>"#,
                x(to_lo),
                (x(to_hi) - x(to_lo)).max(1.0)
            ));
        }
        if s.status == Status::Terminated && s.to.is_none() && to_lo <= from_hi {
            bars.push_str(&format!(
                r#"<rect x="{:.1}" y="16" width="3" height="34" fill="{fill}" data-status="{status}" data-certain="{}"><title>{label}</title></rect>"#,
                x(from_hi),
                from_hi == from_lo
            ));
        }
    }
    let mut patterns = String::new();
    for s in Status::ALL {
        patterns.push_str(&format!(
            r##"<pattern id="hatch-{}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="{}"/></pattern>"##,
            s.as_str(),
            colour(s)
        ));
    }
    let mut ticks = String::new();
    let step = ((last_year - first_year) / 8).max(1);
    let mut year = first_year;
    while year <= last_year {
        if let Ok(d) = Day::from_ymd(year, 1, 1) {
            let at = x(d.number());
            ticks.push_str(&format!(
                r##"<line x1="{at:.1}" x2="{at:.1}" y1="48" y2="54" stroke="#555"/><text x="{at:.1}" y="68" text-anchor="middle">{year}</text>"##
            ));
        }
        year += step;
    }
    let svg = format!(
        r##"<svg class="timeline" viewBox="0 0 1000 76" role="img" aria-labelledby="timeline-caption"><defs>{patterns}</defs><line x1="{left}" x2="{:.1}" y1="48" y2="48" stroke="#555"/>{bars}{ticks}</svg>"##,
        left + width
    );
    html! {
        figure {
            (PreEscaped(svg))
            figcaption #timeline-caption .legend {
                @for s in Status::ALL.iter().filter(|s| spans.iter().any(|x| x.status == **s)) {
                    span { i style={ "background:" (colour(*s)) } {} ((w.status)(*s)) }
                }
                span { i style="background:repeating-linear-gradient(45deg,#999 0 3px,#fff 3px 6px)" {} (p.uncertain_span) }
            }
        }
        details {
            summary { (p.timeline_table) }
            table {
                thead { tr { th { (p.col_status) } th { (p.col_from) } th { (p.col_to) } } }
                tbody {
                    @for s in spans {
                        tr {
                            td { ((w.status)(s.status)) }
                            td { (interval_words(s.from, lang)) }
                            td { (s.to.map_or_else(|| "—".to_owned(), |i| interval_words(i, lang))) }
                        }
                    }
                }
            }
        }
    }
}

/// Days an event may have happened on, in words.
fn interval_words(i: Interval, lang: Lang) -> String {
    let w = lang.words();
    match (i.earliest(), i.latest()) {
        (Some(a), Some(b)) if a == b => (w.day)(a),
        (Some(a), Some(b)) => format!("{} {} {} {}", w.between, (w.day)(a), "–", (w.day)(b)),
        (Some(a), None) => format!("{} {}", w.from, (w.day)(a)),
        (None, Some(b)) => format!("{} {}", w.until, (w.day)(b)),
        (None, None) => w.undated.to_owned(),
    }
}

fn events_table(events: &[EventView], lang: Lang) -> Markup {
    let w = lang.words();
    let p = lang.page();
    html! {
        table.rows {
            thead { tr {
                th { (p.col_position) } th { (p.col_event) } th { (p.col_date) }
                th { (p.col_source) } th { (p.col_recorded) } th { (p.col_hash) }
            } }
            tbody {
                @for e in events {
                    tr data-event=(e.record.envelope.event_id.to_string()) {
                        td data-label=(p.col_position) { (e.record.envelope.position) }
                        td data-label=(p.col_event) {
                            ((w.event_type)(e.record.event.event_type()))
                            @if let Some(note) = &e.record.event.note { br; small { (note) } }
                            @if let Some(t) = e.target {
                                br; small { (fill(p.correction_of, &[&t.to_string()])) }
                                @if let Some(reason) = e.data.get("reason").and_then(|r| r.as_str()) {
                                    ": " small { (reason) }
                                }
                            }
                            @for c in &e.corrected_by { br; small { (fill(p.corrected_by, &[&c.to_string()])) } }
                            @if let Some(r) = e.retracted_by { br; small { (fill(p.retracted_by, &[&r.to_string()])) } }
                        }
                        td data-label=(p.col_date) { (w.date_or_undated(e.date.as_ref())) }
                        td data-label=(p.col_source) {
                            @if let Some(s) = &e.record.event.source {
                                (s.title)
                                @if let Some(r) = &s.reference { ", " (r) }
                                @if let Some(l) = &s.locator { br; small { (l) } }
                            } @else { "—" }
                        }
                        td data-label=(p.col_recorded) {
                            (e.record.envelope.recorded_by) br; small { (w.timestamp(e.record.envelope.recorded_at)) }
                        }
                        td data-label=(p.col_hash) { code { (e.record.hash.to_string()) } }
                    }
                }
            }
        }
    }
}
