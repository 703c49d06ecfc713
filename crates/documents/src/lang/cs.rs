//! Czech: the words of every document.

use pacta_domain::{
    ActivityKind, ActivityOutcome, DateUnit, Day, EventType, Evidence, InForce, Instrument, Status,
    TerminationMode,
};

use super::Words;

const MONTHS: [&str; 12] = [
    "leden",
    "únor",
    "březen",
    "duben",
    "květen",
    "červen",
    "červenec",
    "srpen",
    "září",
    "říjen",
    "listopad",
    "prosinec",
];
/// After a day's number: "1. března".
const MONTHS_OF: [&str; 12] = [
    "ledna",
    "února",
    "března",
    "dubna",
    "května",
    "června",
    "července",
    "srpna",
    "září",
    "října",
    "listopadu",
    "prosince",
];
/// After "mezi": "mezi květnem 2008 a …".
const MONTHS_WITH: [&str; 12] = [
    "lednem",
    "únorem",
    "březnem",
    "dubnem",
    "květnem",
    "červnem",
    "červencem",
    "srpnem",
    "zářím",
    "říjnem",
    "listopadem",
    "prosincem",
];
/// After "v": "v květnu 2008".
const MONTHS_IN: [&str; 12] = [
    "lednu",
    "únoru",
    "březnu",
    "dubnu",
    "květnu",
    "červnu",
    "červenci",
    "srpnu",
    "září",
    "říjnu",
    "listopadu",
    "prosinci",
];
const SEASONS: [&str; 4] = ["jaro", "léto", "podzim", "zima"];
const SEASONS_WITH: [&str; 4] = ["jarem", "létem", "podzimem", "zimou"];
const SEASONS_IN: [&str; 4] = ["na jaře", "v létě", "na podzim", "v zimě"];

fn month(table: &[&'static str; 12], m: u32) -> &'static str {
    table[(m.clamp(1, 12) - 1) as usize]
}

fn season(table: &[&'static str; 4], s: u32) -> &'static str {
    table[(s.clamp(1, 4) - 1) as usize]
}

/// A winter runs into the next year: "2011/2012".
fn season_year(y: i32, s: u32) -> String {
    if s == 4 {
        format!("{y}/{}", y + 1)
    } else {
        y.to_string()
    }
}

fn day(d: Day) -> String {
    let (y, m, d) = d.ymd();
    format!("{d}. {} {y}", month(&MONTHS_OF, m))
}

/// "v" before 1, "ve" before 2, 3 and 4 ("ve druhém", "ve třetím", "ve
/// čtvrtém").
fn in_nth(n: u32) -> &'static str {
    if n == 1 { "v" } else { "ve" }
}

fn unit(u: DateUnit) -> String {
    match u {
        DateUnit::Year(y) => format!("rok {y}"),
        DateUnit::Month(y, m) => format!("{} {y}", month(&MONTHS, m)),
        DateUnit::Day(y, m, d) => format!("{d}. {} {y}", month(&MONTHS_OF, m)),
        DateUnit::Season(y, s) => format!("{} {}", season(&SEASONS, s), season_year(y, s)),
        DateUnit::Quarter(y, q) => format!("{q}. čtvrtletí {y}"),
        DateUnit::Half(y, h) => format!("{h}. pololetí {y}"),
    }
}

fn unit_between(u: DateUnit) -> String {
    match u {
        DateUnit::Year(y) => format!("rokem {y}"),
        DateUnit::Month(y, m) => format!("{} {y}", month(&MONTHS_WITH, m)),
        DateUnit::Day(..) => unit(u),
        DateUnit::Season(y, s) => format!("{} {}", season(&SEASONS_WITH, s), season_year(y, s)),
        DateUnit::Quarter(y, q) => format!("{q}. čtvrtletím {y}"),
        DateUnit::Half(y, h) => format!("{h}. pololetím {y}"),
    }
}

fn unit_bound(u: DateUnit) -> String {
    match u {
        DateUnit::Year(y) => format!("v roce {y}"),
        DateUnit::Month(y, m) => format!("v {} {y}", month(&MONTHS_IN, m)),
        DateUnit::Day(..) => unit(u),
        DateUnit::Season(y, s) => format!("{} {}", season(&SEASONS_IN, s), season_year(y, s)),
        DateUnit::Quarter(y, q) => format!("{} {q}. čtvrtletí {y}", in_nth(q)),
        DateUnit::Half(y, h) => format!("{} {h}. pololetí {y}", in_nth(h)),
    }
}

fn instrument(i: Instrument) -> &'static str {
    match i {
        Instrument::MemorandumOfFriendship => "memorandum o přátelství",
        Instrument::MemorandumOfUnderstanding => "memorandum o spolupráci",
        Instrument::CooperationAgreement => "dohoda o spolupráci",
        Instrument::DeclarationOfCooperation => "deklarace o spolupráci",
        Instrument::PartnershipContract => "partnerská smlouva",
        Instrument::OfficialRelations => "oficiální vztahy bez pojmenovaného dokumentu",
    }
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Proposed => "navrženo",
        Status::Negotiating => "v jednání",
        Status::Active => "aktivní",
        Status::Stagnating => "stagnuje",
        Status::Suspended => "pozastaveno",
        Status::Terminated => "ukončeno",
    }
}

fn mode(m: TerminationMode) -> &'static str {
    match m {
        TerminationMode::Denounced => "vypovězeno",
        TerminationMode::Mutual => "ukončeno dohodou stran",
        TerminationMode::Expired => "uplynula doba platnosti",
        TerminationMode::Lapsed => "zaniklo, přestalo se naplňovat",
        TerminationMode::Superseded => "nahrazeno novější dohodou",
        TerminationMode::Unknown => "ukončeno, zdroj neuvádí jak",
    }
}

fn event_type(t: EventType) -> &'static str {
    match t {
        EventType::PartyRegistered => "zápis strany",
        EventType::PartyAmended => "změna údajů strany",
        EventType::PartnershipOpened => "založení záznamu o partnerství",
        EventType::ContactEstablished => "navázání kontaktu",
        EventType::NegotiationStarted => "zahájení jednání",
        EventType::Signed => "podpis",
        EventType::Amended => "změna dohody",
        EventType::ActivityRecorded => "aktivita",
        EventType::Stagnated => "stagnace",
        EventType::Revived => "obnovení spolupráce",
        EventType::Suspended => "pozastavení",
        EventType::Terminated => "ukončení",
        EventType::Attested => "doloženo jako platné",
        EventType::Corrected => "oprava záznamu",
        EventType::Retracted => "odvolání záznamu",
        EventType::OfferPublished => "zveřejnění nabídky",
        EventType::OfferMatched => "nabídka našla partnera",
        EventType::OfferWithdrawn => "stažení nabídky",
        EventType::OfferLapsed => "nabídka pozbyla platnosti",
    }
}

fn in_force(f: InForce) -> &'static str {
    match f {
        InForce::Yes => "platí",
        InForce::No => "neplatí",
        InForce::Uncertain => "nejisté",
    }
}

fn evidence(e: Evidence) -> &'static str {
    match e {
        Evidence::Evidenced => "doloženo",
        Evidence::Presumed => "předpokládá se",
    }
}

fn activity(k: ActivityKind) -> &'static str {
    match k {
        ActivityKind::Visit => "návštěva",
        ActivityKind::Letter => "dopis",
        ActivityKind::Meeting => "jednání",
        ActivityKind::Conference => "konference",
        ActivityKind::Other => "jiná aktivita",
    }
}

fn outcome(o: ActivityOutcome) -> &'static str {
    match o {
        ActivityOutcome::TookPlace => "uskutečnila se",
        ActivityOutcome::Planned => "plánována",
        ActivityOutcome::DidNotTakePlace => "neuskutečnila se",
        ActivityOutcome::Unanswered => "bez odpovědi",
    }
}

/// The Czech table.
pub static WORDS: Words = Words {
    code: "cs",
    unit,
    unit_between,
    unit_bound,
    between: "mezi {} a {}",
    from: "nejdříve {}",
    until: "nejpozději {}",
    uncertain: "(nejisté)",
    approximate: "(přibližně)",
    uncertain_approximate: "(přibližně, nejisté)",
    day,
    undated: "bez data",
    instant: "{} v {}",

    instrument,
    status,
    mode,
    event_type,
    in_force,
    evidence,
    activity,
    outcome,

    none: "Žádné.",
    not_recorded: "nezaznamenáno",
    col_partner: "Partner",
    col_date: "Datum",
    col_what: "Co",
    col_source: "Zdroj",
    col_instrument: "Dokument",
    col_in_force: "Platnost",
    col_since: "Od",
    cite_at: ", místo: {}",

    foot_title: "Na čem dokument spočívá",
    foot_made_at: "Vytvořeno {}.",
    foot_known_at: "Podle stavu záznamů k {}.",
    foot_known_now: "Podle stavu záznamů v okamžiku vytvoření.",
    foot_head: "Hlava záznamu (log): pozice {}, haš {}.",
    foot_strict: "Doklady čteny přísně: platnost, kterou žádná skutečnost k danému dni nedokládá, je uvedena jako nejistá.",
    foot_presumed: "Doklady čteny obvyklým způsobem: partnerství bez zaznamenaného konce se považuje za platné i po posledním dokladu (předpokládá se).",
    foot_verify: "Ověření, že záznam od té doby nikdo nezměnil: {} nebo {}.",
    foot_chain_ok: "Řetězec hašů přepočten od pozice 1 do {}: neporušen.",
    foot_chain_bad: "Řetězec hašů je PORUŠEN na pozici {}: {}.",

    report_title: "Mezinárodní spolupráce v roce {}",
    report_lead: "Souhrnná informace o probíhající mezinárodní spolupráci pro zastupitelstvo kraje, z registru Pacta.",
    report_overview: "Přehled partnerů",
    report_col_start: "K 1. lednu {}",
    report_col_end: "K 31. prosinci {}",
    report_col_year: "V průběhu roku",
    report_in_force_start: "Platné k 1. lednu {}",
    report_uncertain_start: "Možná platné k 1. lednu {} (nejisté)",
    report_in_force_end: "Platné k 31. prosinci {}",
    report_uncertain_end: "Možná platné k 31. prosinci {} (nejisté)",
    report_signed: "Podepsáno nebo doloženo v roce",
    report_activities: "Aktivní spolupráce (aktivity roku)",
    report_stagnated: "Stagnuje",
    report_suspended: "Pozastaveno",
    report_revived: "Obnoveno",
    report_terminated: "Ukončeno v roce",
    report_offers: "Zveřejněné nabídky partnerství",
    report_possibly: "Možná v roce {} (datum připouští i jiné roky)",
    report_maybe: "možná {}",
    report_empty: "Pro tento rok není nic zaznamenáno.",

    dossier_title: "Spisy o ukončení partnerství",
    dossier_lead: "Kdy a jak dohoda skončila, kdo to rozhodl a zaznamenal, na základě čeho, co předcházelo a zda byl záznam od té doby změněn.",
    dossier_partnership: "Partnerství",
    dossier_act: "Akt (rozhodnutí, výpověď)",
    dossier_takes_effect: "Účinnost ukončení",
    dossier_effective_stated: "zdroj uvádí den účinnosti",
    dossier_effective_act: "zdroj den účinnosti neuvádí; použito datum aktu",
    dossier_last_evidence: "Poslední doklad před koncem",
    dossier_before_end: "Platnost před koncem",
    before_no_evidence: "žádná skutečnost před koncem nedokládá, že dohoda byla naplňována",
    before_presumed: "od {} do {} žádná skutečnost nedokládá, že dohoda byla naplňována; platnost se v těchto dnech předpokládá, protože žádné ukončení dosud nenabylo účinnosti",
    before_strict: "od {} do {} žádná skutečnost nedokládá, že dohoda byla naplňována; při přísném čtení je platnost v těchto dnech nejistá",
    before_reaches: "skutečnosti dokládají naplňování dohody až do dne před účinností ukončení",
    before_window: "ukončení nabylo účinnosti v některý den od {} do {}; platnost je v těchto dnech nejistá",
    before_unknown_day: "neznámého dne",
    dossier_mode: "Způsob ukončení",
    dossier_reason: "Důvod",
    dossier_decided_by: "Rozhodl",
    dossier_resolution: "Usnesení",
    dossier_notice: "Oznámení",
    dossier_evidence: "Doklad",
    dossier_recorded: "Zaznamenáno",
    dossier_recorded_by: "{}, zapsal {}",
    dossier_position: "Pozice, haš",
    dossier_preceding: "Co předcházelo",
    dossier_termination: "Ukončení",
    dossier_corrections: "Opravy a odvolání",
    dossier_no_corrections: "Žádné: záznam platí tak, jak byl pořízen.",
    dossier_empty: "Žádné partnerství není zaznamenáno jako ukončené.",
    proofs_title: "Příloha: důkazy zápisu",
    proofs_lead: "Ke každé události dokumentace patří důkaz, že je zapsána v rejstříku: \
        záznam, jeho cesta v Merkleově stromu a kontrolní bod stromu o {} záznamech podepsaný \
        klíčem rejstříku. Kdokoli jej ověří bez přístupu k rejstříku: text důkazu uložte do \
        souboru a spusťte pacta proof verify SOUBOR --key KLÍČ (klíč vypíše pacta key show).",
    proof_of: "Záznam {}",
    col_position: "Poz.",
    col_event: "Událost",
    col_effective: "Účinnost",
    col_recorded: "Zaznamenáno",
    col_hash: "Haš",
    corrected_by: "opraveno záznamem {}",
    retracted_by: "odvoláno záznamem {}",
    of_event: "k záznamu {}",
    first_recorded_as: "původně zaznamenáno jako {}",
};

/// The web pages in Czech.
pub static PAGE: super::page::PageWords = super::page::PageWords {
    site: "Pacta",
    tagline: "Registr mezinárodních partnerství krajů a obcí",
    nav_home: "Partnerství ke dni",
    nav_offers: "Nabídky partnerství",
    nav_report: "Výroční zpráva",
    nav_dossiers: "Spisy o ukončení",
    other_language: "English",
    home_title: "Partnerství ke dni {}",
    home_title_period: "Partnerství od {} do {}",
    label_on: "Den",
    label_year: "Rok",
    label_known_at: "Podle stavu záznamů k",
    label_party: "Kraj, obec nebo partner",
    label_country: "Země partnera",
    label_status: "Stav",
    label_in_force: "Platnost",
    label_q: "Hledat název",
    show: "Zobrazit",
    any: "vše",
    in_force_default: "platné nebo nejisté",
    in_force_all: "všechna",
    count: "Zobrazeno partnerství: {}",
    nothing: "Žádné partnerství neodpovídá výběru.",
    col_home: "Kraj nebo obec",
    col_partner: "Partner",
    col_country: "Země",
    col_instrument: "Dokument",
    col_status: "Stav",
    col_in_force: "Platnost",
    presumed: "předpoklad: po posledním dokladu",
    foot_chain: "Řetězec záznamů ověřen do pozice {}, hlava {}.",
    foot_broken: "Řetězec záznamů je porušen na pozici {}.",
    foot_api: "Strojově čitelná data: /api/v1 (popis v /openapi.json).",
    timeline: "Časová osa",
    timeline_table: "Časová osa jako tabulka",
    col_from: "Od",
    col_to: "Do",
    col_certain: "Jisté",
    yes: "ano",
    uncertain_span: "ne, přesné meze nejsou známy",
    events: "Události",
    col_position: "Pozice",
    col_event: "Událost",
    col_date: "Datum",
    col_source: "Pramen",
    col_recorded: "Zaznamenal, kdy",
    col_hash: "Haš",
    corrected_by: "opraveno záznamem {}",
    retracted_by: "odvoláno záznamem {}",
    correction_of: "oprava záznamu {}",
    raw_json: "Data ve formátu JSON",
    dossier: "Spis o ukončení",
    state_on: "Ke dni {}: stav {}, platnost {}.",
    possible: "Možné stavy",
    not_found: "Takové partnerství v registru není.",
    offers_count: "Zobrazeno nabídek: {}",
    offers_title: "Nabídky partnerství",
    col_published: "Zveřejněno",
    col_town: "Obec",
    col_population: "Obyvatel",
    col_interests: "Hledá spolupráci v oblasti",
    col_aliases: "Jiné názvy",
    label_published: "Rok zveřejnění",
    offer_status: |s| match s {
        pacta_domain::OfferStatus::Published => "zveřejněna",
        pacta_domain::OfferStatus::Matched => "vedla k partnerství",
        pacta_domain::OfferStatus::Withdrawn => "stažena",
        pacta_domain::OfferStatus::Lapsed => "neaktuální",
    },
    nav_map: "Mapa partnerů",
    map_title: "Partneři na mapě ke dni {}",
    map_title_period: "Partneři na mapě od {} do {}",
    map_all: "Na mapě jsou všechna partnerství, i ta, která v ten den neplatila; barva a tvar značky říkají, zda platilo.",
    map_world: "Svět",
    map_europe: "Evropa",
    map_europe_link: "Evropa: podrobněji na mapě Evropy",
    map_table: "Partneři v tabulce",
    col_place: "Místo",
    map_capital: "(správní středisko regionu)",
    map_nearby: "(nejbližší místo, které místopis uvádí)",
    map_no_place: "místo neznámé",
    map_sources: "Místa: GeoNames (geonames.org), licence CC BY 4.0. Hranice států: Natural Earth (naturalearthdata.com), volné dílo, přes balíček world-atlas. Hranice jsou zjednodušené a nevyjadřují postoj k územním sporům.",
};
