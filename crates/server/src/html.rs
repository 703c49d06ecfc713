//! Printable HTML pages: termination dossiers and the yearly report.
//! Plain HTML with a little CSS for paper: headings, tables of events,
//! and, for dossiers, the verification result and the head digest at the
//! foot.

use std::fmt::Write;

use crate::api::{DossiersDto, EventDto, EventLineDto, InForceLineDto, ReportDto, SourceDto};

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:Georgia,serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}\
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:1px solid #999}h3{font-size:1rem}\
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0 1rem}\
th,td{border:1px solid #bbb;padding:.25rem .4rem;text-align:left;vertical-align:top}\
th{background:#eee}code{font-size:.8rem;word-break:break-all}dl{display:grid;grid-template-columns:12rem 1fr;gap:.2rem 1rem}\
dt{font-weight:bold}footer{margin-top:3rem;border-top:2px solid #111;padding-top:1rem;font-size:.85rem}\
.ok{color:#060}.bad{color:#a00;font-weight:bold}\
@media print{body{margin:0;max-width:none}h2{page-break-before:auto}tr{page-break-inside:avoid}}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        esc(title)
    )
}

fn citation(s: Option<&SourceDto>) -> String {
    match s {
        None => "—".into(),
        Some(s) => {
            let mut out = esc(&s.title);
            if let Some(r) = &s.reference {
                let _ = write!(out, ", {}", esc(r));
            }
            if let Some(d) = &s.date {
                let _ = write!(out, " ({})", esc(d));
            }
            if let Some(l) = &s.locator {
                let _ = write!(out, ", at: {}", esc(l));
            }
            if let Some(u) = &s.url {
                let _ = write!(out, ", {}", esc(u));
            }
            out
        }
    }
}

fn date(e: &EventDto) -> String {
    let mut out = match &e.date {
        Some(d) => format!(
            "{} <small>({})</small>",
            esc(&d.date),
            esc(serde_json::to_value(d.precision)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
                .as_str())
        ),
        None => "undated".into(),
    };
    if let Some(o) = &e.original_date {
        let _ = write!(out, "<br><small>first recorded as {}</small>", esc(o));
    }
    out
}

fn events_table(out: &mut String, events: &[EventDto]) {
    out.push_str("<table><tr><th>Pos.</th><th>Event</th><th>Effective</th><th>Recorded</th><th>Source</th><th>Note</th><th>Hash</th></tr>\n");
    for e in events {
        let mut kind = esc(&e.event_type);
        if !e.corrected_by.is_empty() {
            let _ = write!(
                kind,
                "<br><small>corrected by {}</small>",
                e.corrected_by
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if let Some(r) = e.retracted_by {
            let _ = write!(kind, "<br><small>retracted by {r}</small>");
        }
        if let Some(t) = e.target {
            let _ = write!(kind, "<br><small>of event {t}</small>");
        }
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{kind}</td><td>{}</td><td>{}<br>by {}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            e.position,
            date(e),
            esc(&e.recorded_at),
            esc(&e.recorded_by),
            citation(e.source.as_ref()),
            esc(e.note.as_deref().unwrap_or("")),
            esc(&e.hash),
        );
    }
    out.push_str("</table>\n");
}

/// The printable page of termination dossiers.
pub fn dossiers(d: &DossiersDto) -> String {
    let mut out = String::new();
    out.push_str("<h1>Termination dossiers</h1>\n");
    let _ = writeln!(
        out,
        "<p>Made at {} from the Pacta registry.</p>",
        esc(&d.made_at)
    );
    for x in &d.items {
        let t = &x.termination;
        let _ = writeln!(
            out,
            "<h2>{} – {}</h2>",
            esc(&x.home.name),
            esc(&x.partner.name)
        );
        out.push_str("<dl>");
        let row = |out: &mut String, k: &str, v: String| {
            let _ = write!(out, "<dt>{}</dt><dd>{v}</dd>", esc(k));
        };
        row(
            &mut out,
            "Partnership",
            format!("<code>{}</code>", esc(&x.id)),
        );
        row(
            &mut out,
            "Instrument",
            esc(x.instrument.as_deref().unwrap_or("—")),
        );
        row(&mut out, "Act (decision, denunciation)", date(&t.event));
        row(
            &mut out,
            "Takes effect",
            format!(
                "{} <small>({})</small>",
                esc(t.takes_effect.as_deref().unwrap_or("—")),
                esc(&t.takes_effect_note)
            ),
        );
        let b = &x.before_end;
        row(
            &mut out,
            "Last evidence before the end",
            match &b.last_evidence {
                Some(e) => format!(
                    "{} {} — {}",
                    esc(&e.event_type),
                    esc(e.date.as_deref().unwrap_or("undated")),
                    citation(e.source.as_ref())
                ),
                None => "none".to_owned(),
            },
        );
        row(&mut out, "In force before the end", esc(&b.note));
        row(&mut out, "Mode", esc(t.mode.as_deref().unwrap_or("—")));
        row(&mut out, "Reason", esc(t.reason.as_deref().unwrap_or("—")));
        row(
            &mut out,
            "Decided by",
            esc(t.decided_by.as_deref().unwrap_or("not recorded")),
        );
        row(
            &mut out,
            "Resolution",
            esc(t.resolution.as_deref().unwrap_or("not recorded")),
        );
        row(&mut out, "Notice", citation(t.notice.as_ref()));
        row(&mut out, "Evidence", citation(t.event.source.as_ref()));
        row(
            &mut out,
            "Recorded",
            format!(
                "{} by {}",
                esc(&t.event.recorded_at),
                esc(&t.event.recorded_by)
            ),
        );
        row(
            &mut out,
            "Position, hash",
            format!("{} <code>{}</code>", t.event.position, esc(&t.event.hash)),
        );
        out.push_str("</dl>\n<h3>What preceded it</h3>\n");
        events_table(&mut out, &x.preceding);
        out.push_str("<h3>The termination</h3>\n");
        events_table(&mut out, std::slice::from_ref(&t.event));
        out.push_str("<h3>Corrections and retractions</h3>\n");
        if x.corrections.is_empty() {
            out.push_str("<p>None: the record stands as first made.</p>\n");
        } else {
            events_table(&mut out, &x.corrections);
        }
    }
    if d.items.is_empty() {
        out.push_str("<p>No partnership is recorded as terminated.</p>\n");
    }
    let v = &d.verification;
    let _ = writeln!(
        out,
        "<footer><p>Hash chain recomputed from position 1 to {}: {}</p>\
         <p>Head digest — position {}, hash <code>{}</code></p>\
         <p>Check it later with <code>pacta verify --digest</code> or <code>GET /api/v1/audit/verify?position={}&amp;hash={}</code>.</p></footer>",
        v.head_position,
        if v.ok {
            "<span class=\"ok\">intact</span>".to_owned()
        } else {
            format!(
                "<span class=\"bad\">BROKEN at position {}: {}</span>",
                v.first_bad_position.unwrap_or(0),
                esc(v.reason.as_deref().unwrap_or(""))
            )
        },
        v.head_position,
        esc(&v.head_hash),
        v.head_position,
        esc(&v.head_hash),
    );
    page("Termination dossiers", &out)
}

fn in_force_table(out: &mut String, title: &str, lines: &[InForceLineDto]) {
    let _ = writeln!(out, "<h3>{} ({})</h3>", esc(title), lines.len());
    if lines.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    out.push_str(
        "<table><tr><th>Partner</th><th>In force</th><th>Since</th><th>Source</th></tr>\n",
    );
    for l in lines {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&l.partner.name),
            esc(&l.in_force),
            l.basis.as_ref().map(date).unwrap_or_else(|| "—".into()),
            citation(l.basis.as_ref().and_then(|b| b.source.as_ref())),
        );
    }
    out.push_str("</table>\n");
}

fn event_lines(out: &mut String, title: &str, lines: &[EventLineDto]) {
    let _ = writeln!(out, "<h3>{} ({})</h3>", esc(title), lines.len());
    if lines.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    out.push_str("<table><tr><th>Partner</th><th>Date</th><th>What</th><th>Source</th></tr>\n");
    for l in lines {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}: {}</td><td>{}</td></tr>",
            esc(&l.partner.name),
            date(&l.event),
            esc(&l.event.event_type),
            esc(l.event.note.as_deref().unwrap_or("")),
            citation(l.event.source.as_ref()),
        );
    }
    out.push_str("</table>\n");
}

/// The printable yearly report.
pub fn report(r: &ReportDto) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<h1>International cooperation in {}</h1>", r.year);
    let _ = writeln!(
        out,
        "<p>Summary for the regional assembly, as the registry knows it {}.</p>",
        r.as_known_at
            .as_ref()
            .map(|t| format!("at {}", esc(t)))
            .unwrap_or_else(|| "now".into())
    );
    for s in &r.sections {
        let home = s.home.as_ref().map(|h| h.name.as_str()).unwrap_or("—");
        let _ = writeln!(out, "<h2>{}</h2>", esc(home));
        in_force_table(
            &mut out,
            &format!("In force on 1 January {}", r.year),
            &s.in_force_start,
        );
        in_force_table(
            &mut out,
            "Perhaps in force on 1 January (uncertain)",
            &s.uncertain_start,
        );
        in_force_table(
            &mut out,
            &format!("In force on 31 December {}", r.year),
            &s.in_force_end,
        );
        in_force_table(
            &mut out,
            "Perhaps in force on 31 December (uncertain)",
            &s.uncertain_end,
        );
        event_lines(&mut out, "Signed", &s.signed);
        event_lines(&mut out, "Stagnated", &s.stagnated);
        event_lines(&mut out, "Suspended", &s.suspended);
        event_lines(&mut out, "Revived", &s.revived);
        event_lines(&mut out, "Terminated", &s.terminated);
        event_lines(&mut out, "Activities", &s.activities);
        event_lines(&mut out, "Offers published", &s.offers);
        event_lines(
            &mut out,
            &format!(
                "Possibly in {} (the date allows this year and others)",
                r.year
            ),
            &s.possibly,
        );
    }
    if r.sections.is_empty() {
        out.push_str("<p>Nothing is recorded for this year.</p>\n");
    }
    page(&format!("International cooperation in {}", r.year), &out)
}
