//! The partner map (`/map`): every partnership's partner as a point on a
//! world map, with Europe drawn larger beside it, coloured by in force on
//! the day asked; the same facts as a table below.
//!
//! Everything is drawn here, as inline SVG: the country outlines and the
//! places are bundled (`data/world.json`, `data/places.json`, written once
//! by `tools/places.py`; sources and licences in `NOTICE`), so the page
//! needs nothing from the internet. It lists every partnership the home
//! page lists with `in_force=all`, and each marker says what the API says
//! of in force that day.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use maud::{Markup, html};
use pacta_domain::InForce;
use pacta_projections::InForceFilter;
use pacta_registry::Registry;
use pacta_registry::query::ListRow;
use serde_json::Value;

use super::home::{Refused, rows};
use super::{Chain, View, page};
use crate::{Lang, PartyNames, lang::fill};

/// Where a party is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
    /// The gazetteer's name of the place.
    pub name: String,
    /// Its GeoNames id.
    pub geonameid: u64,
    /// What the point stands for.
    pub represents: Represents,
}

/// What a party's point stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Represents {
    /// The party is the place (a town, a city).
    Place,
    /// A region, province or state, drawn at its capital or seat.
    Capital,
    /// A place the gazetteer's table lacks, drawn at the place it
    /// belongs to.
    Nearby,
}

/// The bundled places: party id → where it is drawn. Parties without a
/// place are in [`unplaced`].
pub fn places() -> &'static BTreeMap<String, Place> {
    &BUNDLED.0
}

/// The parties the map cannot place, and why.
pub fn unplaced() -> &'static BTreeMap<String, String> {
    &BUNDLED.1
}

type Bundled = (BTreeMap<String, Place>, BTreeMap<String, String>);

// The file is compiled in and checked by this module's tests: a malformed
// entry is a build that fails its tests, never a reader's input.
static BUNDLED: LazyLock<Bundled> = LazyLock::new(|| {
    let v: Value = serde_json::from_str(include_str!("../../data/places.json"))
        .expect("data/places.json is JSON (see the tests)");
    let mut places = BTreeMap::new();
    for (id, p) in v["places"].as_object().into_iter().flatten() {
        let num = |k: &str| p[k].as_f64().expect("a place has lat and lon");
        let represents = match p["represents"].as_str() {
            Some("capital") => Represents::Capital,
            Some("nearby") => Represents::Nearby,
            _ => Represents::Place,
        };
        places.insert(
            id.clone(),
            Place {
                lat: num("lat"),
                lon: num("lon"),
                name: p["name"].as_str().unwrap_or_default().to_owned(),
                geonameid: p["geonameid"].as_u64().unwrap_or_default(),
                represents,
            },
        );
    }
    let unplaced = v["unplaced"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, why)| (k.clone(), why.as_str().unwrap_or_default().to_owned()))
        .collect();
    (places, unplaced)
});

/// One projected map: an equirectangular projection of a box of
/// longitudes and latitudes onto `width` units, longitudes shrunk by the
/// cosine of `mid_lat` so that shapes near that latitude keep their
/// proportions.
struct Frame {
    west: f64,
    south: f64,
    east: f64,
    north: f64,
    mid_lat: f64,
    width: f64,
}

impl Frame {
    fn scale(&self) -> f64 {
        self.width / ((self.east - self.west) * self.mid_lat.to_radians().cos())
    }

    fn height(&self) -> f64 {
        (self.north - self.south) * self.scale()
    }

    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        let k = self.scale();
        (
            (lon - self.west) * self.mid_lat.to_radians().cos() * k,
            (self.north - lat) * k,
        )
    }

    fn contains(&self, lon: f64, lat: f64) -> bool {
        (self.west..=self.east).contains(&lon) && (self.south..=self.north).contains(&lat)
    }
}

/// The world, Antarctica left out.
const WORLD: Frame = Frame {
    west: -180.0,
    south: -58.0,
    east: 180.0,
    north: 84.0,
    mid_lat: 0.0,
    width: 1000.0,
};

/// Europe and Turkey: the box `tools/places.py` cuts the 1:50m outlines
/// to (`europe_box` in `data/world.json`).
const EUROPE: Frame = Frame {
    west: -12.0,
    south: 33.0,
    east: 46.0,
    north: 67.0,
    mid_lat: 50.0,
    width: 800.0,
};

/// Czechia's ISO 3166-1 numeric code, the id of its outline.
const CZECHIA: &str = "203";

/// The outlines as SVG path data, projected once: (other countries,
/// Czechia) for the world and for Europe.
static OUTLINES: LazyLock<[(String, String); 2]> = LazyLock::new(|| {
    let v: Value = serde_json::from_str(include_str!("../../data/world.json"))
        .expect("data/world.json is JSON (see the tests)");
    [("world", &WORLD), ("europe", &EUROPE)].map(|(key, frame)| {
        let (mut rest, mut cz) = (String::new(), String::new());
        for country in v[key].as_array().into_iter().flatten() {
            let out = if country["id"].as_str() == Some(CZECHIA) {
                &mut cz
            } else {
                &mut rest
            };
            for ring in country["rings"].as_array().into_iter().flatten() {
                let coords: Vec<f64> = ring
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_f64)
                    .collect();
                for (i, pair) in coords.chunks_exact(2).enumerate() {
                    let (x, y) = frame.xy(pair[0], pair[1]);
                    // After M, further pairs are lines (SVG path grammar).
                    let _ = write!(out, "{}{:.1} {:.1}", if i == 0 { "M" } else { " " }, x, y);
                }
                out.push('Z');
            }
        }
        (rest, cz)
    })
});

/// A partnership on the map: its row and its partner's place.
struct Pin<'a> {
    row: &'a ListRow,
    place: &'a Place,
    in_force: InForce,
}

/// The partner map page. The maps are not `role="img"`: their markers
/// are links a keyboard and a screen reader reach, each titled with the
/// partnership and its in force.
pub fn html(registry: &Registry, view: &View, chain: &Chain) -> Result<String, Refused> {
    let all = View {
        in_force: Some(InForceFilter::All),
        ..view.clone()
    };
    let (span, rows) = rows(registry, &all)?;
    let lang = view.lang;
    let w = lang.words();
    let p = lang.page();
    let names = PartyNames::of(registry);
    let title = if span.is_day() {
        fill(p.map_title, &[&(w.day)(span.from())])
    } else {
        fill(
            p.map_title_period,
            &[&(w.day)(span.from()), &(w.day)(span.to())],
        )
    };
    let pins: Vec<Pin> = rows
        .iter()
        .filter_map(|row| {
            Some(Pin {
                row,
                place: places().get(row.partner.id.as_str())?,
                in_force: row.in_force_read(false),
            })
        })
        .collect();
    let (europe, world): (Vec<&Pin>, Vec<&Pin>) = pins
        .iter()
        .partition(|pin| EUROPE.contains(pin.place.lon, pin.place.lat));
    let link = |row: &ListRow| {
        format!(
            "/partnerships/{}{}",
            row.id,
            View {
                on: view.on,
                as_known_at: view.as_known_at,
                ..View::default()
            }
            .query_with_lang(lang)
        )
    };
    let label = |pin: &Pin| {
        format!(
            "{} ({}) — {}: {}",
            names.name(lang, &pin.row.partner),
            pin.place.name,
            names.name(lang, &pin.row.home),
            (w.in_force)(pin.in_force)
        )
    };
    let marker = |pin: &Pin, x: f64, y: f64, r: f64| {
        let state = pin.in_force.as_str();
        html! {
            a.marker href=(link(pin.row)) data-partnership=(pin.row.id) data-in-force=(state) {
                title { (label(pin)) }
                (dot(state, x, y, r))
            }
        }
    };
    let on = view
        .on
        .map(|d| d.to_string())
        .unwrap_or_else(|| span.to().to_string());
    let (world_rest, world_cz) = &OUTLINES[0];
    let (europe_rest, europe_cz) = &OUTLINES[1];
    let (ex0, ey0) = WORLD.xy(EUROPE.west, EUROPE.north);
    let (ex1, ey1) = WORLD.xy(EUROPE.east, EUROPE.south);
    let body = html! {
        h1 { (title) }
        form.filters method="get" action="/map" {
            label for="on" { (p.label_on)
                input #on type="date" name="on" value=(on) min="1900-01-01";
            }
            @if let Some(t) = view.as_known_at {
                input type="hidden" name="as_known_at" value=(t.to_string());
            }
            input type="hidden" name="lang" value=(lang.code());
            button type="submit" { (p.show) }
        }
        p.count { (fill(p.count, &[&rows.len().to_string()])) }
        p { (p.map_all) }
        (legend(lang))
        div.maps {
            figure.map.world {
                svg viewBox={ "0 0 " (WORLD.width) " " (format!("{:.0}", WORLD.height())) } aria-labelledby="world-title" {
                    title #world-title { (p.map_world) }
                    (map_style())
                    rect.sea x="0" y="0" width="100%" height="100%" {}
                    path.land d=(world_rest) {}
                    path.home d=(world_cz) {}
                    a href="#europe" {
                        title { (p.map_europe_link) }
                        rect.inset x=(format!("{ex0:.1}")) y=(format!("{ey0:.1}")) width=(format!("{:.1}", ex1 - ex0)) height=(format!("{:.1}", ey1 - ey0)) {}
                    }
                    // Europe's points are drawn small here; their markers are in Europe's map.
                    @for pin in &europe {
                        @let (x, y) = WORLD.xy(pin.place.lon, pin.place.lat);
                        circle class={ "dot " (pin.in_force.as_str()) } cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="1.8" aria-hidden="true" {}
                    }
                    (markers(&WORLD, &world, 7.0, &marker))
                }
                figcaption { (p.map_world) }
            }
            figure.map.europe #europe {
                svg viewBox={ "0 0 " (EUROPE.width) " " (format!("{:.0}", EUROPE.height())) } aria-labelledby="europe-title" {
                    title #europe-title { (p.map_europe) }
                    rect.sea x="0" y="0" width="100%" height="100%" {}
                    path.land d=(europe_rest) {}
                    path.home d=(europe_cz) {}
                    (markers(&EUROPE, &europe, 8.0, &marker))
                }
                figcaption { (p.map_europe) }
            }
        }
        h2 { (p.map_table) }
        @if rows.is_empty() {
            p { (p.nothing) }
        } @else {
            table.rows {
                thead { tr {
                    th { (p.col_partner) } th { (p.col_place) } th { (p.col_country) }
                    th { (p.col_home) } th { (p.col_in_force) }
                } }
                tbody {
                    @for row in &rows {
                        @let in_force = row.in_force_read(false);
                        @let place = places().get(row.partner.id.as_str());
                        tr {
                            td data-label=(p.col_partner) { a href=(link(row)) { (names.name(lang, &row.partner)) } }
                            td data-label=(p.col_place) {
                                @match place {
                                    Some(place) => {
                                        (place.name)
                                        @match place.represents {
                                            Represents::Place => {},
                                            Represents::Capital => { " " small { (p.map_capital) } },
                                            Represents::Nearby => { " " small { (p.map_nearby) } },
                                        }
                                    },
                                    None => small { (p.map_no_place) },
                                }
                            }
                            td data-label=(p.col_country) { (names.country(&row.partner.id).unwrap_or("")) }
                            td data-label=(p.col_home) { (names.name(lang, &row.home)) }
                            td data-label=(p.col_in_force) {
                                span class={ "in-force " (in_force.as_str()) } { ((w.in_force)(in_force)) }
                            }
                        }
                    }
                }
            }
        }
        p.attribution { small { (p.map_sources) } }
    };
    Ok(page(view, "/map", &title, chain, body))
}

/// The markers of one map. Markers that would overlap (partners at one
/// place, or close together at this scale) are set in a ring around
/// their middle, each its own link, with a line to its own point.
fn markers(
    frame: &Frame,
    pins: &[&Pin],
    r: f64,
    marker: &dyn Fn(&Pin, f64, f64, f64) -> Markup,
) -> Markup {
    let mut clusters: Vec<Vec<(&Pin, f64, f64)>> = Vec::new();
    for pin in pins {
        let (x, y) = frame.xy(pin.place.lon, pin.place.lat);
        let near = |c: &Vec<(&Pin, f64, f64)>| {
            c.iter()
                .any(|&(_, cx, cy)| (cx - x).hypot(cy - y) < 2.2 * r)
        };
        match clusters.iter_mut().find(|c| near(c)) {
            Some(c) => c.push((pin, x, y)),
            None => clusters.push(vec![(pin, x, y)]),
        }
    }
    // (pin, its point, where its marker goes)
    type Xy = (f64, f64);
    let mut placed: Vec<(&Pin, Xy, Xy)> = Vec::new();
    for mut group in clusters {
        if let [(pin, x, y)] = group[..] {
            placed.push((pin, (x, y), (x, y)));
            continue;
        }
        let n = group.len() as f64;
        let cx = group.iter().map(|g| g.1).sum::<f64>() / n;
        let cy = group.iter().map(|g| g.2).sum::<f64>() / n;
        // Round the ring in the order the points lie around the middle,
        // so the lines do not cross; far enough out that neighbours do
        // not touch.
        group.sort_by(|a, b| {
            (a.2 - cy)
                .atan2(a.1 - cx)
                .total_cmp(&(b.2 - cy).atan2(b.1 - cx))
        });
        let ring = (r * 1.6).max(n * r * 2.4 / std::f64::consts::TAU);
        for (i, (pin, x, y)) in group.into_iter().enumerate() {
            let angle = std::f64::consts::TAU * i as f64 / n - std::f64::consts::PI;
            placed.push((
                pin,
                (x, y),
                (cx + ring * angle.cos(), cy + ring * angle.sin()),
            ));
        }
    }
    let f = |v: f64| format!("{v:.1}");
    html! {
        @for &(_, (x, y), (mx, my)) in &placed {
            @if (x, y) != (mx, my) {
                line.spoke x1=(f(x)) y1=(f(y)) x2=(f(mx)) y2=(f(my)) {}
                circle.hub cx=(f(x)) cy=(f(y)) r=(f(r * 0.3)) {}
            }
        }
        @for &(pin, _, (mx, my)) in &placed {
            (marker(pin, mx, my, r))
        }
    }
}

/// A marker's shape, by in force: filled (`yes`), hollow (`no`), half
/// filled (`uncertain`), as the listing's ● ○ ◐, so colour is not the
/// only difference.
fn dot(state: &str, x: f64, y: f64, r: f64) -> Markup {
    html! {
        circle class={ "pin " (state) } cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r=(format!("{r:.1}")) {}
        @if state == "uncertain" {
            path.half d=(format!("M{x:.1} {:.1}A{r:.1} {r:.1} 0 0 0 {x:.1} {:.1}Z", y - r, y + r)) {}
        }
    }
}

/// The legend: the three shapes and their words.
fn legend(lang: Lang) -> Markup {
    let w = lang.words();
    html! {
        p.legend.map-legend {
            @for state in [InForce::Yes, InForce::Uncertain, InForce::No] {
                span {
                    svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" { (dot(state.as_str(), 8.0, 8.0, 6.0)) }
                    " " ((w.in_force)(state))
                }
            }
        }
    }
}

/// The maps' own style (inside the first map's SVG, so the shared sheet
/// stays as it is), in the listing's palette. On a phone the maps are a
/// third of their width in units, so markers are drawn larger there.
fn map_style() -> Markup {
    html! {
        style { (maud::PreEscaped(MAP_STYLE)) }
    }
}

const MAP_STYLE: &str = "\
.maps{display:flex;flex-direction:column;gap:1rem}figure.map.europe{max-width:52rem}\
figure.map{margin:0}figure.map svg{width:100%;height:auto;display:block;border:1px solid var(--line)}\
figure.map figcaption{font-size:.85rem;color:var(--muted)}\
.sea{fill:#eef3f7}.land{fill:#dcdcd4;stroke:#fff;stroke-width:.4}.home{fill:#b9b9ad;stroke:#fff;stroke-width:.4}\
.inset{fill:none;stroke:var(--ink);stroke-width:1;stroke-dasharray:3 2}\
.dot.yes{fill:var(--yes)}.dot.no{fill:var(--no)}.dot.uncertain{fill:var(--unc)}\
.pin{stroke-width:2}.pin.yes{fill:var(--yes);stroke:#fff}.pin.no{fill:#fff;stroke:var(--no)}\
.pin.uncertain{fill:#fff;stroke:var(--unc)}.half{fill:var(--unc)}\
.hub{fill:var(--ink)}.spoke{stroke:var(--ink);stroke-width:1}\
a.marker:hover .pin,a.marker:focus .pin{stroke:#f0b400;stroke-width:3}\
.map-legend svg{vertical-align:middle}\
@media (max-width:40rem){a.marker{transform-box:fill-box;transform-origin:center;transform:scale(1.6)}}\
";

#[cfg(test)]
mod tests {
    use super::*;

    /// The partners of the bundled seeds' partnerships, and every other
    /// party they register.
    fn seed_parties() -> (Vec<String>, Vec<(String, String)>) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds");
        let mut partners = Vec::new();
        let mut parties = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("ndjson") {
                continue;
            }
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                if line.trim().is_empty() || line.starts_with('#') {
                    continue;
                }
                let e: Value = serde_json::from_str(line).unwrap();
                let data = &e["data"];
                match e["type"].as_str() {
                    Some("PartnershipOpened") => {
                        partners.push(data["partner"].as_str().unwrap().to_owned())
                    }
                    Some("PartyRegistered") => parties.push((
                        e["stream"]
                            .as_str()
                            .unwrap()
                            .trim_start_matches("party/")
                            .to_owned(),
                        data["country"].as_str().unwrap().to_owned(),
                    )),
                    _ => {}
                }
            }
        }
        (partners, parties)
    }

    #[test]
    fn every_partner_in_the_seeds_has_a_place() {
        let (partners, parties) = seed_parties();
        assert_eq!(partners.len(), 25);
        for partner in &partners {
            assert!(places().contains_key(partner), "{partner} has no place");
        }
        // Every other party too, or a stated reason why not.
        for (party, country) in &parties {
            assert!(
                places().contains_key(party) || unplaced().contains_key(party),
                "{party} ({country}) is neither placed nor said to be unplaceable"
            );
        }
        assert_eq!(unplaced().keys().collect::<Vec<_>>(), ["slobozhanska"]);
    }

    #[test]
    fn places_lie_where_their_names_say() {
        let check = |id: &str, name: &str, lat: f64, lon: f64| {
            let p = &places()[id];
            assert_eq!(p.name, name, "{id}");
            assert!(
                (p.lat - lat).abs() < 0.5 && (p.lon - lon).abs() < 0.5,
                "{id}: {p:?}"
            );
        };
        check("orenburg-oblast", "Orenburg", 51.8, 55.1);
        check("liberecky-kraj", "Liberec", 50.8, 15.1);
        check("itapua", "Encarnación", -27.3, -55.9);
        // Gračanica in Tuzla Canton, not the village near Sarajevo.
        check("gracanica", "Gračanica", 44.7, 18.3);
        assert_eq!(places()["bursa"].represents, Represents::Capital);
        assert_eq!(places()["molde"].represents, Represents::Place);
    }

    #[test]
    fn the_outlines_are_bundled_and_czechia_is_among_them() {
        for (rest, cz) in OUTLINES.iter() {
            assert!(rest.len() > 10_000, "{}", rest.len());
            assert!(cz.starts_with('M') && cz.ends_with('Z'), "{cz}");
        }
        // The page's Europe is the box the outlines were cut to.
        let v: Value = serde_json::from_str(include_str!("../../data/world.json")).unwrap();
        assert_eq!(
            v["europe_box"],
            serde_json::json!([EUROPE.west, EUROPE.south, EUROPE.east, EUROPE.north])
        );
    }

    #[test]
    fn the_projection_puts_the_corners_at_the_corners() {
        assert_eq!(WORLD.xy(-180.0, 84.0), (0.0, 0.0));
        let (x, y) = WORLD.xy(180.0, -58.0);
        assert!((x - 1000.0).abs() < 1e-9 && (y - WORLD.height()).abs() < 1e-9);
        let (x, _) = EUROPE.xy(46.0, 50.0);
        assert!((x - 800.0).abs() < 1e-9);
    }
}
