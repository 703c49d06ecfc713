//! English: the words of every document.

use pacta_domain::{
    ActivityKind, ActivityOutcome, DateUnit, Day, EventType, Evidence, InForce, Instrument, Status,
    TerminationMode,
};

use super::Words;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const SEASONS: [&str; 4] = ["spring", "summer", "autumn", "winter"];
const ORDINALS: [&str; 4] = ["first", "second", "third", "fourth"];

fn month(m: u32) -> &'static str {
    MONTHS[(m.clamp(1, 12) - 1) as usize]
}

fn ordinal(n: u32) -> &'static str {
    ORDINALS[(n.clamp(1, 4) - 1) as usize]
}

fn day(d: Day) -> String {
    let (y, m, d) = d.ymd();
    format!("{d} {} {y}", month(m))
}

fn unit(u: DateUnit) -> String {
    match u {
        DateUnit::Year(y) => y.to_string(),
        DateUnit::Month(y, m) => format!("{} {y}", month(m)),
        DateUnit::Day(y, m, d) => format!("{d} {} {y}", month(m)),
        // A winter runs into the next year.
        DateUnit::Season(y, 4) => format!("winter {y}/{}", y + 1),
        DateUnit::Season(y, s) => format!("{} {y}", SEASONS[(s.clamp(1, 4) - 1) as usize]),
        DateUnit::Quarter(y, q) => format!("{} quarter of {y}", ordinal(q)),
        DateUnit::Half(y, h) => format!("{} half of {y}", ordinal(h)),
    }
}

/// Inside a sentence a half or a quarter takes "the".
fn unit_in_sentence(u: DateUnit) -> String {
    match u {
        DateUnit::Quarter(..) | DateUnit::Half(..) => format!("the {}", unit(u)),
        _ => unit(u),
    }
}

fn instrument(i: Instrument) -> &'static str {
    match i {
        Instrument::MemorandumOfFriendship => "memorandum of friendship",
        Instrument::MemorandumOfUnderstanding => "memorandum of understanding",
        Instrument::CooperationAgreement => "cooperation agreement",
        Instrument::DeclarationOfCooperation => "declaration of cooperation",
        Instrument::PartnershipContract => "partnership contract",
        Instrument::OfficialRelations => "official relations without a named document",
    }
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Proposed => "proposed",
        Status::Negotiating => "negotiating",
        Status::Active => "active",
        Status::Stagnating => "stagnating",
        Status::Suspended => "suspended",
        Status::Terminated => "terminated",
    }
}

fn mode(m: TerminationMode) -> &'static str {
    match m {
        TerminationMode::Denounced => "denounced",
        TerminationMode::Mutual => "ended by mutual agreement",
        TerminationMode::Expired => "expired",
        TerminationMode::Lapsed => "lapsed, fell out of use",
        TerminationMode::Superseded => "superseded by a newer agreement",
        TerminationMode::Unknown => "ended; the source does not say how",
    }
}

fn event_type(t: EventType) -> &'static str {
    match t {
        EventType::PartyRegistered => "party registered",
        EventType::PartyAmended => "party amended",
        EventType::PartnershipOpened => "record of the partnership opened",
        EventType::ContactEstablished => "contact established",
        EventType::NegotiationStarted => "negotiation started",
        EventType::Signed => "signed",
        EventType::Amended => "agreement amended",
        EventType::ActivityRecorded => "activity",
        EventType::Stagnated => "stagnated",
        EventType::Revived => "revived",
        EventType::Suspended => "suspended",
        EventType::Terminated => "terminated",
        EventType::Attested => "attested as in force",
        EventType::Corrected => "correction",
        EventType::Retracted => "retraction",
        EventType::OfferPublished => "offer published",
        EventType::OfferMatched => "offer matched",
        EventType::OfferWithdrawn => "offer withdrawn",
        EventType::OfferLapsed => "offer lapsed",
    }
}

fn in_force(f: InForce) -> &'static str {
    match f {
        InForce::Yes => "in force",
        InForce::No => "not in force",
        InForce::Uncertain => "uncertain",
    }
}

fn evidence(e: Evidence) -> &'static str {
    match e {
        Evidence::Evidenced => "evidenced",
        Evidence::Presumed => "presumed",
    }
}

fn activity(k: ActivityKind) -> &'static str {
    match k {
        ActivityKind::Visit => "visit",
        ActivityKind::Letter => "letter",
        ActivityKind::Meeting => "meeting",
        ActivityKind::Conference => "conference",
        ActivityKind::Other => "other activity",
    }
}

fn outcome(o: ActivityOutcome) -> &'static str {
    match o {
        ActivityOutcome::TookPlace => "took place",
        ActivityOutcome::Planned => "planned",
        ActivityOutcome::DidNotTakePlace => "did not take place",
        ActivityOutcome::Unanswered => "unanswered",
    }
}

/// The English table.
pub static WORDS: Words = Words {
    code: "en",
    unit,
    unit_between: unit_in_sentence,
    unit_bound: unit_in_sentence,
    between: "between {} and {}",
    from: "no earlier than {}",
    until: "no later than {}",
    uncertain: "(uncertain)",
    approximate: "(approximate)",
    uncertain_approximate: "(approximate, uncertain)",
    day,
    undated: "undated",
    instant: "{}, {}",

    instrument,
    status,
    mode,
    event_type,
    in_force,
    evidence,
    activity,
    outcome,

    none: "None.",
    not_recorded: "not recorded",
    col_partner: "Partner",
    col_date: "Date",
    col_what: "What",
    col_source: "Source",
    col_instrument: "Instrument",
    col_in_force: "In force",
    col_since: "Since",
    cite_at: ", at: {}",

    foot_title: "What this document rests on",
    foot_made_at: "Made {}.",
    foot_known_at: "As the registry knew it at {}.",
    foot_known_now: "As the registry knew it when the document was made.",
    foot_head: "Log head: position {}, hash {}.",
    foot_strict: "Evidence read strictly: in force that no fact reaching the day supports is listed as uncertain.",
    foot_presumed: "Evidence read as usual: a partnership with no end recorded is presumed in force after its last evidence.",
    foot_verify: "To check that nobody has altered the record since: {} or {}.",
    foot_chain_ok: "Hash chain recomputed from position 1 to {}: intact.",
    foot_chain_bad: "Hash chain BROKEN at position {}: {}.",

    report_title: "International cooperation in {}",
    report_lead: "Summary of ongoing international cooperation for the regional assembly, from the Pacta registry.",
    report_overview: "Partners at a glance",
    report_col_start: "On 1 January {}",
    report_col_end: "On 31 December {}",
    report_col_year: "During the year",
    report_in_force_start: "In force on 1 January {}",
    report_uncertain_start: "Perhaps in force on 1 January {} (uncertain)",
    report_in_force_end: "In force on 31 December {}",
    report_uncertain_end: "Perhaps in force on 31 December {} (uncertain)",
    report_signed: "Signed or attested in the year",
    report_activities: "Active cooperation (activities of the year)",
    report_stagnated: "Stagnated",
    report_suspended: "Suspended",
    report_revived: "Revived",
    report_terminated: "Ended in the year",
    report_offers: "Partnership offers published",
    report_possibly: "Possibly in {} (the date allows this year and others)",
    report_maybe: "possibly {}",
    report_empty: "Nothing is recorded for this year.",

    dossier_title: "Termination dossiers",
    dossier_lead: "When and how each agreement ended, who decided and recorded it, on what evidence, what preceded it, and whether the record has changed since.",
    dossier_partnership: "Partnership",
    dossier_act: "Act (decision, denunciation)",
    dossier_takes_effect: "Takes effect",
    dossier_effective_stated: "the source gives the date the ending takes effect",
    dossier_effective_act: "the source gives no effective date; the date of the act is taken",
    dossier_last_evidence: "Last evidence before the end",
    dossier_before_end: "In force before the end",
    before_no_evidence: "no fact before the end shows the agreement alive",
    before_presumed: "no fact shows the agreement alive from {} to {}; in force on those days is presumed, since no end had taken effect",
    before_strict: "no fact shows the agreement alive from {} to {}; read strictly, in force on those days is uncertain",
    before_reaches: "a fact shows the agreement alive up to the day before the ending takes effect",
    before_window: "the ending took effect on a day from {} to {}; in force on those days is uncertain",
    before_unknown_day: "an unknown day",
    dossier_mode: "Mode",
    dossier_reason: "Reason",
    dossier_decided_by: "Decided by",
    dossier_resolution: "Resolution",
    dossier_notice: "Notice",
    dossier_evidence: "Evidence",
    dossier_recorded: "Recorded",
    dossier_recorded_by: "{} by {}",
    dossier_position: "Position, hash",
    dossier_preceding: "What preceded it",
    dossier_termination: "The termination",
    dossier_corrections: "Corrections and retractions",
    dossier_no_corrections: "None: the record stands as first made.",
    dossier_empty: "No partnership is recorded as terminated.",
    proofs_title: "Appendix: proofs of record",
    proofs_lead: "Each event of the dossier comes with a proof that it is in the registry: \
        the record, its path in the Merkle tree, and a checkpoint of the tree of {} records \
        signed with the registry's key. Anyone can check one without access to the registry: \
        save its text to a file and run pacta proof verify FILE --key KEY (pacta key show \
        prints the key).",
    proof_of: "Record {}",
    col_position: "Pos.",
    col_event: "Event",
    col_effective: "Effective",
    col_recorded: "Recorded",
    col_hash: "Hash",
    corrected_by: "corrected by {}",
    retracted_by: "retracted by {}",
    of_event: "of event {}",
    first_recorded_as: "first recorded as {}",
};

/// The web pages in English.
pub static PAGE: super::page::PageWords = super::page::PageWords {
    site: "Pacta",
    tagline: "Registry of international partnerships of Czech regions and towns",
    nav_home: "Partnerships on a day",
    nav_offers: "Partnership offers",
    nav_report: "Annual report",
    nav_dossiers: "Termination dossiers",
    other_language: "Česky",
    home_title: "Partnerships on {}",
    home_title_period: "Partnerships from {} to {}",
    label_on: "Day",
    label_year: "Year",
    label_known_at: "As recorded by",
    label_party: "Region, town or partner",
    label_country: "Partner's country",
    label_status: "Status",
    label_in_force: "In force",
    label_q: "Search a name",
    show: "Show",
    any: "any",
    in_force_default: "in force or uncertain",
    in_force_all: "all",
    count: "Partnerships shown: {}",
    nothing: "No partnership matches.",
    col_home: "Region or town",
    col_partner: "Partner",
    col_country: "Country",
    col_instrument: "Instrument",
    col_status: "Status",
    col_in_force: "In force",
    presumed: "presumed: after the last evidence",
    foot_chain: "Record chain verified to position {}, head {}.",
    foot_broken: "The record chain is broken at position {}.",
    foot_api: "Machine-readable data: /api/v1 (described at /openapi.json).",
    timeline: "Timeline",
    timeline_table: "The timeline as a table",
    col_from: "From",
    col_to: "To",
    col_certain: "Certain",
    yes: "yes",
    uncertain_span: "no, its ends are not known exactly",
    events: "Events",
    col_position: "Position",
    col_event: "Event",
    col_date: "Date",
    col_source: "Source",
    col_recorded: "Recorded by, when",
    col_hash: "Hash",
    corrected_by: "corrected by record {}",
    retracted_by: "retracted by record {}",
    correction_of: "correction of record {}",
    raw_json: "The data as JSON",
    dossier: "Termination dossier",
    state_on: "On {}: status {}, in force {}.",
    possible: "Possible statuses",
    not_found: "The registry holds no such partnership.",
    offers_count: "Offers shown: {}",
    offers_title: "Partnership offers",
    col_published: "Published",
    col_town: "Town",
    col_population: "Population",
    col_interests: "Seeks cooperation in",
    col_aliases: "Other names",
    label_published: "Year published",
    offer_status: |s| match s {
        pacta_domain::OfferStatus::Published => "published",
        pacta_domain::OfferStatus::Matched => "led to a partnership",
        pacta_domain::OfferStatus::Withdrawn => "withdrawn",
        pacta_domain::OfferStatus::Lapsed => "lapsed",
    },
    nav_map: "Partner map",
    map_title: "Partners on the map on {}",
    map_title_period: "Partners on the map from {} to {}",
    map_all: "The map shows every partnership, in force that day or not; a marker's colour and shape say which.",
    map_world: "The world",
    map_europe: "Europe",
    map_europe_link: "Europe: in more detail on the map of Europe",
    map_table: "The partners as a table",
    col_place: "Place",
    map_capital: "(the region's capital or seat)",
    map_nearby: "(the nearest place the gazetteer lists)",
    map_no_place: "place unknown",
    map_sources: "Places: GeoNames (geonames.org), licensed CC BY 4.0. Country borders: Natural Earth (naturalearthdata.com), public domain, via the world-atlas package. Borders are simplified and take no position on disputed territory.",
};
