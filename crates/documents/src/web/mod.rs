//! The web pages `pacta serve` answers at `/`, `/partnerships/{id}` and
//! `/offers`: server-rendered HTML (maud templates compiled into the
//! binary) that works before any script runs, in Czech unless English is
//! asked for.
//!
//! Every page takes the same query parameters ([`View`]) and says what the
//! API says: the home page lists exactly what
//! `GET /api/v1/partnerships?valid_on=` answers for the same day. The HTTP
//! crate parses and routes; what a page shows and how it says it is here.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use pacta_domain::{Day, PartialDate, Status, Timestamp};
use pacta_projections::InForceFilter;
use pacta_registry::Registry;

use crate::Lang;

pub mod home;
pub mod map;
pub mod offers;
pub mod partnership;

/// The query parameters every page takes (`on`, `as_known_at`, `party`,
/// `country`, `status`, `in_force`, `q`, `lang`), already read.
#[derive(Clone, Debug, Default)]
pub struct View {
    /// The day (or month, year) asked about; today in Prague when absent.
    pub on: Option<PartialDate>,
    /// The record time asked about; now when absent.
    pub as_known_at: Option<Timestamp>,
    /// A party by id, name or words of a name.
    pub party: Option<String>,
    /// The partner's country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// A status on the day.
    pub status: Option<Status>,
    /// Which to list by in force (default: in force or uncertain).
    pub in_force: Option<InForceFilter>,
    /// Words of a name of either party.
    pub q: Option<String>,
    /// The language.
    pub lang: Lang,
}

impl View {
    /// The query string of this view with `lang` set to `lang`, the
    /// others as they are: a link reproduces the view.
    pub fn query_with_lang(&self, lang: Lang) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(on) = &self.on {
            pairs.push(("on", on.to_string()));
        }
        if let Some(t) = &self.as_known_at {
            pairs.push(("as_known_at", t.to_string()));
        }
        for (k, v) in [
            ("party", &self.party),
            ("country", &self.country),
            ("q", &self.q),
        ] {
            if let Some(v) = v {
                pairs.push((k, v.clone()));
            }
        }
        if let Some(s) = self.status {
            pairs.push(("status", s.to_string()));
        }
        if let Some(f) = self.in_force {
            pairs.push(("in_force", f.as_str().to_owned()));
        }
        pairs.push(("lang", lang.code().to_owned()));
        let mut out = String::from("?");
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(&encode(v));
        }
        out
    }
}

impl View {
    /// The days the view asks about: `on`, or today in Prague.
    pub fn days(&self) -> Result<pacta_domain::Span, home::Refused> {
        let today = prague_today(pacta_registry::now());
        Ok(pacta_registry::query::DaysAsked {
            on: (self.on.as_ref(), "on"),
            from: (None, "valid_from"),
            to: (None, "valid_to"),
        }
        .span(today)
        .map_err(home::Refused)?
        .unwrap_or(pacta_domain::Span::day(today)))
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What every page's foot says of the log: how far its chain was last
/// verified, and its head.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The position up to which the chain was last recomputed and found
    /// intact (0: not yet).
    pub verified_to: u64,
    /// The first position that did not fit, if the last check found one.
    pub broken_at: Option<u64>,
    /// The head's position.
    pub head_position: u64,
    /// The head's hash.
    pub head_hash: String,
}

/// Today in Prague: UTC plus one hour, two in summer (from 01:00 UTC on
/// the last Sunday of March to 01:00 UTC on the last Sunday of October,
/// the EU rule).
pub fn prague_today(now: Timestamp) -> Day {
    const HOUR: i64 = 3_600_000_000;
    let utc_day = now.day();
    let (year, _, _) = utc_day.ymd();
    let last_sunday = |month: u32| {
        let last = Day::from_ymd(year, month, 31).expect("March and October have 31 days");
        // 1970-01-01 (day 0) was a Thursday.
        let weekday = (last.number() + 3).rem_euclid(7); // 0 = Monday
        Day::from_number(last.number() - (weekday + 1) % 7)
    };
    let start = Timestamp::start_of(last_sunday(3)).micros() + HOUR;
    let end = Timestamp::start_of(last_sunday(10)).micros() + HOUR;
    let offset = if (start..end).contains(&now.micros()) {
        2 * HOUR
    } else {
        HOUR
    };
    Timestamp::from_micros(now.micros() + offset).day()
}

const STYLE: &str = include_str!("pacta.css");

/// The page around `body`: header with navigation and the language
/// switch, the foot with the chain's state. `path` is the page's own path
/// (for the language switch).
pub fn page(view: &View, path: &str, title: &str, chain: &Chain, body: Markup) -> String {
    let lang = view.lang;
    let w = lang.page();
    let other = match lang {
        Lang::Cs => Lang::En,
        Lang::En => Lang::Cs,
    };
    let keep = |target: &str| format!("{target}{}", view.query_with_lang(lang));
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No icon to fetch: every request a page makes is one it needs.
                link rel="icon" href="data:,";
                title { (title) " — " (w.site) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a.site href=(keep("/")) { (w.site) }
                    span.tagline { (w.tagline) }
                    nav {
                        a href=(keep("/")) { (w.nav_home) }
                        a href=(keep("/offers")) { (w.nav_offers) }
                        a href=(keep("/map")) { (w.nav_map) }
                        a href={ "/api/v1/reports/annual?year=" (prague_today(pacta_registry::now()).ymd().0 - 1) "&lang=" (lang.code()) } { (w.nav_report) }
                        a href={ "/api/v1/audit/terminations?lang=" (lang.code()) } { (w.nav_dossiers) }
                        a.lang href={ (path) (view.query_with_lang(other)) } hreflang=(other.code()) lang=(other.code()) { (w.other_language) }
                    }
                }
                main { (body) }
                footer data-verified-position=(chain.verified_to) {
                    @match chain.broken_at {
                        Some(at) => p.bad { (crate::lang::fill(w.foot_broken, &[&at.to_string()])) },
                        None => p { (crate::lang::fill(w.foot_chain, &[&chain.verified_to.to_string(), &chain.head_hash])) },
                    }
                    p { (w.foot_api) }
                }
                script src="/static/pacta.js" defer {}
            }
        }
    };
    markup.into_string()
}

/// A page that only says why the question could not be answered (a
/// date that cannot be meant, an unknown partnership).
pub fn notice(view: &View, chain: &Chain, message: &str) -> String {
    let home = format!("/{}", view.query_with_lang(view.lang));
    let body = html! { h1 { (message) } p { a href=(home) { "← " (view.lang.page().nav_home) } } };
    page(view, "/", message, chain, body)
}

/// The chain's state for the foot, from the store: the head, and how far
/// the last verification reached (given by the caller, which keeps it).
pub fn chain(registry: &Registry, verified_to: u64, broken_at: Option<u64>) -> Chain {
    let head = registry.store().head();
    Chain {
        verified_to,
        broken_at,
        head_position: head.position,
        head_hash: head.hash.to_string(),
    }
}

/// The script the pages load: the year slider moves the date; nothing
/// else needs it.
pub const SCRIPT: &str = include_str!("pacta.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prague_is_an_hour_ahead_in_winter_and_two_in_summer() {
        let at = |s: &str| prague_today(Timestamp::parse(s).unwrap()).to_string();
        assert_eq!(at("2026-01-15T23:30:00Z"), "2026-01-16");
        assert_eq!(at("2026-01-15T22:30:00Z"), "2026-01-15");
        assert_eq!(at("2026-07-15T22:30:00Z"), "2026-07-16");
        assert_eq!(at("2026-07-15T21:30:00Z"), "2026-07-15");
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(at("2026-03-29T00:59:00Z"), "2026-03-29");
        assert_eq!(at("2026-10-24T22:30:00Z"), "2026-10-25");
        assert_eq!(at("2026-10-25T22:30:00Z"), "2026-10-25");
    }

    #[test]
    fn a_view_reproduces_itself_in_a_link() {
        let view = View {
            on: Some("2022-03-01".parse().unwrap()),
            q: Some("Plzeň kraj".into()),
            ..View::default()
        };
        assert_eq!(
            view.query_with_lang(Lang::En),
            "?on=2022-03-01&q=Plze%C5%88%20kraj&lang=en"
        );
    }
}
