//! The home page: the partnerships on a day (or over a month or a year),
//! filtered as asked, exactly as `GET /api/v1/partnerships?valid_on=`
//! lists them.

use maud::{Markup, html};
use pacta_domain::{InForce, Span, Status};
use pacta_projections::{InForceFilter, ListFilter};
use pacta_registry::Registry;
use pacta_registry::query::ListRow;

use super::{Chain, View, page, prague_today};
use crate::{Lang, PartyNames, lang::fill};

/// Why a page cannot be made from what was asked: a message for the
/// person who asked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The rows the home page shows for a view, and the days they are for.
/// The same rows the API lists for the same day, party, status and
/// in-force filter; `country` and `q` narrow them further.
pub fn rows(registry: &Registry, view: &View) -> Result<(Span, Vec<ListRow>), Refused> {
    let today = prague_today(pacta_registry::now());
    let span = view.days()?;
    let party =
        match view.party.as_deref().filter(|p| !p.trim().is_empty()) {
            None => None,
            Some(text) => Some(registry.find_party(text).map(|(p, _)| p.id).map_err(
                |e| match e {
                    pacta_projections::Lookup::NotFound => {
                        Refused(format!("no party answers to {text:?}"))
                    }
                    pacta_projections::Lookup::Ambiguous(c) => Refused(format!(
                        "{text:?} answers to several parties: {}",
                        c.iter()
                            .map(|p| p.id.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                },
            )?),
        };
    let filter = ListFilter {
        party,
        status: view.status,
        valid_on: Some(span),
        in_force: view.in_force.unwrap_or_default(),
        as_known_at: view.as_known_at,
        today,
    };
    let mut rows = registry.list(&filter);
    if let Some(country) = view.country.as_deref().filter(|c| !c.is_empty()) {
        let names = PartyNames::of(registry);
        rows.retain(|r| {
            names
                .country(&r.partner.id)
                .is_some_and(|c| c.eq_ignore_ascii_case(country))
        });
    }
    if let Some(q) = view.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let found: Vec<_> = registry
            .projections()
            .parties()
            .search(q)
            .into_iter()
            .map(|p| p.id)
            .collect();
        rows.retain(|r| found.contains(&r.home.id) || found.contains(&r.partner.id));
    }
    Ok((span, rows))
}

/// The home page.
pub fn html(registry: &Registry, view: &View, chain: &Chain) -> Result<String, Refused> {
    let (span, rows) = rows(registry, view)?;
    let lang = view.lang;
    let w = lang.words();
    let p = lang.page();
    let names = PartyNames::of(registry);
    let title = if span.is_day() {
        fill(p.home_title, &[&(w.day)(span.from())])
    } else {
        fill(
            p.home_title_period,
            &[&(w.day)(span.from()), &(w.day)(span.to())],
        )
    };
    let countries = countries(registry);
    let first_year = 1990;
    let last_year = prague_today(pacta_registry::now()).ymd().0;
    let body = html! {
        h1 { (title) }
        (form(view, span, &countries, first_year, last_year))
        p.count { (fill(p.count, &[&rows.len().to_string()])) }
        @if rows.is_empty() {
            p { (p.nothing) }
        } @else {
            table.rows {
                thead { tr {
                    th { (p.col_home) } th { (p.col_partner) } th { (p.col_country) }
                    th { (p.col_instrument) } th { (p.col_status) } th { (p.col_in_force) }
                } }
                tbody {
                    @for r in &rows {
                        (row(r, lang, &names, view))
                    }
                }
            }
        }
    };
    Ok(page(view, "/", &title, chain, body))
}

fn row(r: &ListRow, lang: Lang, names: &PartyNames, view: &View) -> Markup {
    let w = lang.words();
    let p = lang.page();
    let in_force = r.in_force_read(false);
    let link = format!(
        "/partnerships/{}{}",
        r.id,
        View {
            on: view.on,
            as_known_at: view.as_known_at,
            ..View::default()
        }
        .query_with_lang(lang)
    );
    html! {
        tr data-partnership=(r.id) data-in-force=(in_force.as_str()) {
            td data-label=(p.col_home) { (names.name(lang, &r.home)) }
            td data-label=(p.col_partner) { a href=(link) { (names.name(lang, &r.partner)) } }
            td data-label=(p.col_country) { (names.country(&r.partner.id).unwrap_or("")) }
            td data-label=(p.col_instrument) { (r.instrument.map_or("—", |i| (w.instrument)(i))) }
            td data-label=(p.col_status) { ((w.status)(r.status)) }
            td data-label=(p.col_in_force) {
                span class={ "in-force " (in_force.as_str()) } { ((w.in_force)(in_force)) }
                @if r.evidence == Some(pacta_domain::Evidence::Presumed) && in_force == InForce::Yes {
                    span.presumed data-evidence="presumed" { (p.presumed) }
                }
            }
        }
    }
}

/// The filter form: it reads and writes the page's query parameters.
fn form(view: &View, span: Span, countries: &[String], first: i32, last: i32) -> Markup {
    let lang = view.lang;
    let w = lang.words();
    let p = lang.page();
    let on = view
        .on
        .map(|d| d.to_string())
        .unwrap_or_else(|| span.to().to_string());
    let year = span.to().ymd().0.clamp(first, last);
    let in_force = view.in_force.unwrap_or_default();
    html! {
        form.filters method="get" action="/" {
            label for="on" { (p.label_on)
                input #on type="date" name="on" value=(on) min="1900-01-01";
            }
            label for="year" { (p.label_year) " " span #year-shown { (year) }
                input #year type="range" min=(first) max=(last) value=(year) aria-label=(p.label_year);
            }
            label { (p.label_q)
                input type="search" name="q" value=(view.q.as_deref().unwrap_or("")) placeholder="plzen";
            }
            label { (p.label_party)
                input type="text" name="party" value=(view.party.as_deref().unwrap_or(""));
            }
            label { (p.label_country)
                select name="country" {
                    option value="" { (p.any) }
                    @for c in countries {
                        option value=(c) selected[view.country.as_deref() == Some(c.as_str())] { (c) }
                    }
                }
            }
            label { (p.label_status)
                select name="status" {
                    option value="" { (p.any) }
                    @for s in Status::ALL {
                        option value=(s.as_str()) selected[view.status == Some(s)] { ((w.status)(s)) }
                    }
                }
            }
            label { (p.label_in_force)
                select name="in_force" {
                    @for (f, text) in [
                        (InForceFilter::InForce, p.in_force_default),
                        (InForceFilter::Yes, (w.in_force)(InForce::Yes)),
                        (InForceFilter::Uncertain, (w.in_force)(InForce::Uncertain)),
                        (InForceFilter::No, (w.in_force)(InForce::No)),
                        (InForceFilter::All, p.in_force_all),
                    ] {
                        option value=(f.as_str()) selected[in_force == f] { (text) }
                    }
                }
            }
            @if let Some(t) = view.as_known_at {
                input type="hidden" name="as_known_at" value=(t.to_string());
            }
            input type="hidden" name="lang" value=(lang.code());
            button type="submit" { (p.show) }
        }
    }
}

/// The partners' countries, sorted.
fn countries(registry: &Registry) -> Vec<String> {
    let mut out: Vec<String> = registry
        .projections()
        .parties()
        .all()
        .into_iter()
        .filter(|p| p.country != "CZ")
        .map(|p| p.country)
        .collect();
    out.sort();
    out.dedup();
    out
}
