//! The words of the web pages, one table per language (beside the
//! documents' [`super::Words`], in the same two files).

/// What the web pages say, in one language.
pub struct PageWords {
    /// The site's name, in the title bar and the header.
    pub site: &'static str,
    /// A line under it.
    pub tagline: &'static str,
    /// Navigation: partnerships on a day.
    pub nav_home: &'static str,
    /// Navigation: the notice board.
    pub nav_offers: &'static str,
    /// Navigation: the annual report.
    pub nav_report: &'static str,
    /// Navigation: termination dossiers.
    pub nav_dossiers: &'static str,
    /// The link to the other language (in that language).
    pub other_language: &'static str,
    /// The home page's heading, `{}` the day in words.
    pub home_title: &'static str,
    /// The heading over a period, `{}` `{}` the first and last day.
    pub home_title_period: &'static str,
    /// Form labels.
    pub label_on: &'static str,
    /// The slider over the years.
    pub label_year: &'static str,
    /// As known at.
    pub label_known_at: &'static str,
    /// Party.
    pub label_party: &'static str,
    /// Country.
    pub label_country: &'static str,
    /// Status.
    pub label_status: &'static str,
    /// In force.
    pub label_in_force: &'static str,
    /// Search.
    pub label_q: &'static str,
    /// The submit button.
    pub show: &'static str,
    /// Any value of a filter.
    pub any: &'static str,
    /// The default in-force filter: in force or uncertain.
    pub in_force_default: &'static str,
    /// The filter that shows every partnership.
    pub in_force_all: &'static str,
    /// How many are shown, `{}` the number.
    pub count: &'static str,
    /// None match.
    pub nothing: &'static str,
    /// Column heads of the listing.
    pub col_home: &'static str,
    /// Partner.
    pub col_partner: &'static str,
    /// Country.
    pub col_country: &'static str,
    /// Instrument.
    pub col_instrument: &'static str,
    /// Status.
    pub col_status: &'static str,
    /// In force.
    pub col_in_force: &'static str,
    /// Presumed beyond the last evidence (a mark beside `yes`).
    pub presumed: &'static str,
    /// The footer: the chain verified to a position, `{}` position, `{}` hash.
    pub foot_chain: &'static str,
    /// The footer: the chain broken at a position, `{}` position.
    pub foot_broken: &'static str,
    /// The footer: the API.
    pub foot_api: &'static str,
    /// Partnership page: the timeline's heading.
    pub timeline: &'static str,
    /// Partnership page: the timeline as a table (text alternative).
    pub timeline_table: &'static str,
    /// From.
    pub col_from: &'static str,
    /// To.
    pub col_to: &'static str,
    /// Certain or not.
    pub col_certain: &'static str,
    /// Yes.
    pub yes: &'static str,
    /// No: the span's ends are uncertain.
    pub uncertain_span: &'static str,
    /// Partnership page: the events' heading.
    pub events: &'static str,
    /// Event column heads: position.
    pub col_position: &'static str,
    /// Event.
    pub col_event: &'static str,
    /// Date.
    pub col_date: &'static str,
    /// Source.
    pub col_source: &'static str,
    /// Recorded by and when.
    pub col_recorded: &'static str,
    /// Hash.
    pub col_hash: &'static str,
    /// Corrected by `{}`.
    pub corrected_by: &'static str,
    /// Retracted by `{}`.
    pub retracted_by: &'static str,
    /// A correction of event `{}`.
    pub correction_of: &'static str,
    /// The raw JSON link.
    pub raw_json: &'static str,
    /// The dossier link.
    pub dossier: &'static str,
    /// On the day `{}`: status `{}`, in force `{}`.
    pub state_on: &'static str,
    /// The possible statuses line.
    pub possible: &'static str,
    /// Not found.
    pub not_found: &'static str,
    /// How many offers are shown, `{}` the number.
    pub offers_count: &'static str,
    /// The notice board's heading.
    pub offers_title: &'static str,
    /// Offers column heads: published.
    pub col_published: &'static str,
    /// Town.
    pub col_town: &'static str,
    /// Population.
    pub col_population: &'static str,
    /// What it seeks.
    pub col_interests: &'static str,
    /// Its other spellings.
    pub col_aliases: &'static str,
    /// Year (offers filter).
    pub label_published: &'static str,
    /// Offer statuses in words.
    pub offer_status: fn(pacta_domain::OfferStatus) -> &'static str,
    /// Navigation: the partner map.
    pub nav_map: &'static str,
    /// The map's heading, `{}` the day in words.
    pub map_title: &'static str,
    /// The map's heading over a period, `{}` `{}` the first and last day.
    pub map_title_period: &'static str,
    /// That the map shows every partnership, in force that day or not.
    pub map_all: &'static str,
    /// The world map's title.
    pub map_world: &'static str,
    /// Europe's map's title.
    pub map_europe: &'static str,
    /// The world map's frame around Europe, a link to Europe's map.
    pub map_europe_link: &'static str,
    /// The heading of the map's table.
    pub map_table: &'static str,
    /// Place (column head).
    pub col_place: &'static str,
    /// Beside a place that stands for a region: its capital or seat.
    pub map_capital: &'static str,
    /// Beside a place that stands for a smaller one nearby.
    pub map_nearby: &'static str,
    /// A partner the map cannot place.
    pub map_no_place: &'static str,
    /// Where the places and outlines come from, and their licences.
    pub map_sources: &'static str,
}
