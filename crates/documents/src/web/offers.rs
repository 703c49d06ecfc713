//! The notice board: foreign towns seeking Czech partners, newest first,
//! filtered by country, year published and words of the town's names
//! (every spelling of one town is one party, so it shows once).

use maud::html;
use pacta_registry::Registry;

use super::home::Refused;
use super::{Chain, View, page};
use crate::lang::fill;

/// What the notice board takes beyond the common parameters.
#[derive(Clone, Debug, Default)]
pub struct OffersFilter {
    /// The year published.
    pub year: Option<i32>,
}

/// The notice board.
pub fn html(
    registry: &Registry,
    view: &View,
    filter: &OffersFilter,
    chain: &Chain,
) -> Result<String, Refused> {
    let lang = view.lang;
    let w = lang.words();
    let p = lang.page();
    let parties = registry.projections().parties();
    let mut offers = registry.projections().offers().list(None);
    if let Some(q) = view.q.as_deref().filter(|q| !q.trim().is_empty()) {
        // A town by any of its spellings, or what it seeks, by the words'
        // beginnings (letter case and diacritics aside).
        let found: Vec<_> = parties.search(q).into_iter().map(|p| p.id).collect();
        let words = pacta_domain::NameKey::of(q);
        let seeks = |text: &str| {
            let key = pacta_domain::NameKey::of(text);
            words.as_str().split(' ').all(|w| {
                key.as_str()
                    .split([' ', ',', '-'])
                    .any(|k| k.starts_with(w))
            })
        };
        offers.retain(|o| found.contains(&o.party) || o.interests.iter().any(|i| seeks(i)));
    }
    if let Some(country) = view.country.as_deref().filter(|c| !c.is_empty()) {
        offers.retain(|o| {
            parties
                .get(o.party.as_str())
                .is_some_and(|p| p.country.eq_ignore_ascii_case(country))
        });
    }
    if let Some(year) = filter.year {
        offers.retain(|o| {
            o.published.is_some_and(|d| {
                let i = d.interval();
                i.earliest().is_some_and(|a| a.ymd().0 <= year)
                    && i.latest().is_some_and(|b| b.ymd().0 >= year)
            })
        });
    }
    // Newest first: by the latest day the publication date allows.
    offers.sort_by_key(|o| std::cmp::Reverse(o.published.and_then(|d| d.interval().latest())));
    let mut countries: Vec<String> = registry
        .projections()
        .offers()
        .list(None)
        .iter()
        .filter_map(|o| parties.get(o.party.as_str()).map(|p| p.country))
        .collect();
    countries.sort();
    countries.dedup();
    let title = p.offers_title;
    let body = html! {
        h1 { (title) }
        form.filters method="get" action="/offers" {
            label { (p.label_q)
                input type="search" name="q" value=(view.q.as_deref().unwrap_or("")) placeholder="cuhujiv";
            }
            label { (p.label_country)
                select name="country" {
                    option value="" { (p.any) }
                    @for c in &countries {
                        option value=(c) selected[view.country.as_deref() == Some(c.as_str())] { (c) }
                    }
                }
            }
            label { (p.label_published)
                input type="number" name="year" min="1900" max="2100" value=(filter.year.map(|y| y.to_string()).unwrap_or_default());
            }
            input type="hidden" name="lang" value=(lang.code());
            button type="submit" { (p.show) }
        }
        p.count { (fill(p.offers_count, &[&offers.len().to_string()])) }
        table.rows {
            thead { tr {
                th { (p.col_published) } th { (p.col_town) } th { (p.col_country) }
                th { (p.col_population) } th { (p.col_interests) } th { (p.col_status) }
            } }
            tbody {
                @for o in &offers {
                    @let party = parties.get(o.party.as_str());
                    tr data-offer=(o.id) {
                        td data-label=(p.col_published) { (w.date_or_undated(o.published.as_ref())) }
                        td data-label=(p.col_town) {
                            (party.as_ref().and_then(|p| p.names.display()).unwrap_or(o.party.as_str()))
                            @if let Some(party) = &party {
                                @let others: Vec<&str> = party.names.all().chain(party.aliases.iter().map(String::as_str))
                                    .filter(|n| Some(*n) != party.names.display()).collect();
                                @if !others.is_empty() { br; small { (p.col_aliases) ": " (others.join(", ")) } }
                            }
                        }
                        td data-label=(p.col_country) { (party.as_ref().map(|p| p.country.as_str()).unwrap_or("")) }
                        td data-label=(p.col_population) {
                            @match o.population { Some(n) => { (population(n, o.population_bound)) }, None => { "—" } }
                        }
                        td data-label=(p.col_interests) { (o.interests.join(", ")) }
                        td data-label=(p.col_status) { ((p.offer_status)(o.status)) }
                    }
                }
            }
        }
    };
    Ok(page(view, "/offers", title, chain, body))
}

/// A town's population as the notice words it: the figure, with `<`,
/// `>` or `≈` when it only bounds the real one, thousands set apart by a
/// narrow space (as Czech and English style guides both allow).
fn population(n: u64, bound: Option<pacta_domain::PopulationBound>) -> String {
    use pacta_domain::PopulationBound as B;
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    match bound {
        Some(B::Under) => format!("<\u{a0}{grouped}"),
        Some(B::Over) => format!(">\u{a0}{grouped}"),
        Some(B::About) => format!("≈\u{a0}{grouped}"),
        None => grouped,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_population_says_how_it_bounds_the_figure() {
        use pacta_domain::PopulationBound as B;
        assert_eq!(
            super::population(4_000, Some(B::Over)),
            ">\u{a0}4\u{202f}000"
        );
        assert_eq!(
            super::population(5_000, Some(B::Under)),
            "<\u{a0}5\u{202f}000"
        );
        assert_eq!(
            super::population(1_234_567, Some(B::About)),
            "≈\u{a0}1\u{202f}234\u{202f}567"
        );
        assert_eq!(super::population(950, None), "950");
    }
}
