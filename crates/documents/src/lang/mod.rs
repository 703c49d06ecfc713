//! The languages of documents, each one table of words ([`Words`]) in a
//! file of its own (`cs.rs`, `en.rs`). Code that builds a document asks
//! the table; no wording lives anywhere else.
//!
//! A phrase with a value in it is a template: each `{}` is replaced, in
//! order, by [`fill`].

use std::fmt;
use std::str::FromStr;

use pacta_domain::{
    ActivityKind, ActivityOutcome, DateShape, DateUnit, Day, EventType, Evidence, InForce,
    Instrument, PartialDate, Qualifier, Status, TerminationMode, Timestamp,
};

mod cs;
mod en;
pub mod page;

/// The language of a document. Czech is the default: the documents are
/// for a Czech assembly and Czech lawyers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Lang {
    /// Czech (`cs`).
    #[default]
    Cs,
    /// English (`en`).
    En,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::Cs, Lang::En];

    /// The language's code (BCP 47), as `lang=` and the HTML `lang`
    /// attribute write it.
    pub fn code(self) -> &'static str {
        self.words().code
    }

    /// Its table of words.
    pub fn words(self) -> &'static Words {
        match self {
            Lang::Cs => &cs::WORDS,
            Lang::En => &en::WORDS,
        }
    }

    /// Its table of the web pages' words.
    pub fn page(self) -> &'static page::PageWords {
        match self {
            Lang::Cs => &cs::PAGE,
            Lang::En => &en::PAGE,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;

    /// `cs` or `en`.
    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| format!("unknown language {s:?} (expected cs or en)"))
    }
}

/// Everything a document says, in one language.
///
/// The `fn` fields are tables too (one `match` each); they are functions
/// only where a language inflects (Czech says "květen 2008" alone,
/// "mezi květnem 2008 a …", "nejdříve v květnu 2008").
pub struct Words {
    /// The language's code.
    pub code: &'static str,

    // Dates.
    /// A date unit standing alone: "květen 2008", "May 2008".
    pub unit: fn(DateUnit) -> String,
    /// A date unit as a side of "between": "květnem 2008".
    pub unit_between: fn(DateUnit) -> String,
    /// A date unit after "no earlier/later than": "v květnu 2008".
    pub unit_bound: fn(DateUnit) -> String,
    /// A date known to lie within two bounds: "mezi {} a {}".
    pub between: &'static str,
    /// A date open at its end: "nejdříve {}".
    pub from: &'static str,
    /// A date open at its start: "nejpozději {}".
    pub until: &'static str,
    /// The `?` qualifier, after the date it qualifies.
    pub uncertain: &'static str,
    /// The `~` qualifier.
    pub approximate: &'static str,
    /// The `%` qualifier.
    pub uncertain_approximate: &'static str,
    /// A day in words: "1. března 2022".
    pub day: fn(Day) -> String,
    /// An event without a date.
    pub undated: &'static str,
    /// A record time: day in words, then `{}` the time of day (UTC).
    pub instant: &'static str,

    // The registry's vocabulary.
    /// An instrument in words.
    pub instrument: fn(Instrument) -> &'static str,
    /// A status in words.
    pub status: fn(Status) -> &'static str,
    /// A termination mode in words.
    pub mode: fn(TerminationMode) -> &'static str,
    /// An event type in words.
    pub event_type: fn(EventType) -> &'static str,
    /// In force in words.
    pub in_force: fn(InForce) -> &'static str,
    /// Evidence in words.
    pub evidence: fn(Evidence) -> &'static str,
    /// An activity kind in words.
    pub activity: fn(ActivityKind) -> &'static str,
    /// What became of an activity.
    pub outcome: fn(ActivityOutcome) -> &'static str,

    // Shared by documents.
    /// Nothing to list.
    pub none: &'static str,
    /// A value not recorded.
    pub not_recorded: &'static str,
    /// Column: the partner.
    pub col_partner: &'static str,
    /// Column: the date.
    pub col_date: &'static str,
    /// Column: what happened.
    pub col_what: &'static str,
    /// Column: the source.
    pub col_source: &'static str,
    /// Column: the instrument.
    pub col_instrument: &'static str,
    /// Column: in force.
    pub col_in_force: &'static str,
    /// Column: since (the signing or attestation an in-force line rests on).
    pub col_since: &'static str,
    /// A citation's locator: ", místo: {}".
    pub cite_at: &'static str,

    // The foot of every document.
    /// Heading of the foot.
    pub foot_title: &'static str,
    /// When the document was made: `{}`.
    pub foot_made_at: &'static str,
    /// As known at a record time `{}`.
    pub foot_known_at: &'static str,
    /// As known when made.
    pub foot_known_now: &'static str,
    /// The head: position `{}`, hash `{}`.
    pub foot_head: &'static str,
    /// Evidence read strictly.
    pub foot_strict: &'static str,
    /// Evidence read as usual.
    pub foot_presumed: &'static str,
    /// How to check it: the CLI command `{}` and the HTTP request `{}`.
    pub foot_verify: &'static str,
    /// The chain recomputed up to `{}`: intact.
    pub foot_chain_ok: &'static str,
    /// The chain broken at `{}` for the reason `{}`.
    pub foot_chain_bad: &'static str,

    // The annual report.
    /// Its title, with the year.
    pub report_title: &'static str,
    /// The line under the title.
    pub report_lead: &'static str,
    /// The overview of partners.
    pub report_overview: &'static str,
    /// Column: in force on 1 January `{}`.
    pub report_col_start: &'static str,
    /// Column: in force on 31 December `{}`.
    pub report_col_end: &'static str,
    /// Column: what happened in the year.
    pub report_col_year: &'static str,
    /// In force on 1 January `{}`.
    pub report_in_force_start: &'static str,
    /// Perhaps in force on 1 January `{}`.
    pub report_uncertain_start: &'static str,
    /// In force on 31 December `{}`.
    pub report_in_force_end: &'static str,
    /// Perhaps in force on 31 December `{}`.
    pub report_uncertain_end: &'static str,
    /// Signed in the year.
    pub report_signed: &'static str,
    /// Activities of the year (active cooperation).
    pub report_activities: &'static str,
    /// Stagnated in the year.
    pub report_stagnated: &'static str,
    /// Suspended in the year.
    pub report_suspended: &'static str,
    /// Revived in the year.
    pub report_revived: &'static str,
    /// Ended in the year.
    pub report_terminated: &'static str,
    /// Offers published in the year.
    pub report_offers: &'static str,
    /// Possibly in the year `{}`.
    pub report_possibly: &'static str,
    /// An event of the overview that possibly lies in the year: `{}`.
    pub report_maybe: &'static str,
    /// Nothing recorded for the year.
    pub report_empty: &'static str,

    // Termination dossiers.
    /// Their title.
    pub dossier_title: &'static str,
    /// The line under the title.
    pub dossier_lead: &'static str,
    /// Field: the partnership's id.
    pub dossier_partnership: &'static str,
    /// Field: the act ending it.
    pub dossier_act: &'static str,
    /// Field: when the ending takes effect.
    pub dossier_takes_effect: &'static str,
    /// The source gives the effective date.
    pub dossier_effective_stated: &'static str,
    /// The source gives none; the act's date is taken.
    pub dossier_effective_act: &'static str,
    /// Field: the last evidence before the end.
    pub dossier_last_evidence: &'static str,
    /// Field: what in force before the end rests on.
    pub dossier_before_end: &'static str,
    /// No fact before the end shows the agreement alive.
    pub before_no_evidence: &'static str,
    /// No fact shows it alive from `{}` to `{}`; presumed in force.
    pub before_presumed: &'static str,
    /// No fact shows it alive from `{}` to `{}`; strictly uncertain.
    pub before_strict: &'static str,
    /// A fact shows it alive up to the day before the end.
    pub before_reaches: &'static str,
    /// The ending took effect on a day from `{}` to `{}`.
    pub before_window: &'static str,
    /// An open side of that window.
    pub before_unknown_day: &'static str,
    /// Field: the mode.
    pub dossier_mode: &'static str,
    /// Field: the reason.
    pub dossier_reason: &'static str,
    /// Field: the deciding body.
    pub dossier_decided_by: &'static str,
    /// Field: the resolution.
    pub dossier_resolution: &'static str,
    /// Field: the notice.
    pub dossier_notice: &'static str,
    /// Field: the evidence (the termination's source).
    pub dossier_evidence: &'static str,
    /// Field: recorded.
    pub dossier_recorded: &'static str,
    /// Recorded at `{}` by `{}`.
    pub dossier_recorded_by: &'static str,
    /// Field: position and hash.
    pub dossier_position: &'static str,
    /// What preceded the end.
    pub dossier_preceding: &'static str,
    /// The termination itself.
    pub dossier_termination: &'static str,
    /// Corrections and retractions.
    pub dossier_corrections: &'static str,
    /// No corrections.
    pub dossier_no_corrections: &'static str,
    /// Nothing terminated.
    pub dossier_empty: &'static str,
    /// The heading of the appendix of proof bundles.
    pub proofs_title: &'static str,
    /// What the proof bundles are and how to check one ({}: the number
    /// of records of the checkpoint).
    pub proofs_lead: &'static str,
    /// The heading of one record's bundle ({}: its position).
    pub proof_of: &'static str,
    /// Column: position.
    pub col_position: &'static str,
    /// Column: the event.
    pub col_event: &'static str,
    /// Column: effective date.
    pub col_effective: &'static str,
    /// Column: record time and author.
    pub col_recorded: &'static str,
    /// Column: the hash.
    pub col_hash: &'static str,
    /// Corrected by the events at `{}`.
    pub corrected_by: &'static str,
    /// Retracted by the event at `{}`.
    pub retracted_by: &'static str,
    /// A correction of the event at `{}`.
    pub of_event: &'static str,
    /// First recorded as `{}`.
    pub first_recorded_as: &'static str,
}

/// A template with each `{}` replaced, in order, by an argument. Missing
/// arguments leave the rest of the template as it is.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut args = args.iter();
    let mut rest = template;
    while let Some(i) = rest.find("{}") {
        let Some(arg) = args.next() else { break };
        out.push_str(&rest[..i]);
        out.push_str(arg);
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

impl Words {
    /// A partial date in words, at its precision, with its qualifiers:
    /// `2011-40` → "1. pololetí 2011", `[2022-02-24..2022-03-01]` → "mezi
    /// 24. února 2022 a 1. března 2022".
    pub fn date(&self, date: &PartialDate) -> String {
        let qualified = |text: String, q: Qualifier| match q {
            Qualifier::None => text,
            Qualifier::Uncertain => format!("{text} {}", self.uncertain),
            Qualifier::Approximate => format!("{text} {}", self.approximate),
            Qualifier::UncertainApproximate => format!("{text} {}", self.uncertain_approximate),
        };
        match date.shape() {
            DateShape::Single(p) => qualified((self.unit)(p.unit), p.qualifier),
            DateShape::Range {
                start: Some(a),
                end: Some(b),
            } => fill(
                self.between,
                &[
                    &qualified((self.unit_between)(a.unit), a.qualifier),
                    &qualified((self.unit_between)(b.unit), b.qualifier),
                ],
            ),
            DateShape::Range {
                start: Some(a),
                end: None,
            } => fill(
                self.from,
                &[&qualified((self.unit_bound)(a.unit), a.qualifier)],
            ),
            DateShape::Range {
                start: None,
                end: Some(b),
            } => fill(
                self.until,
                &[&qualified((self.unit_bound)(b.unit), b.qualifier)],
            ),
            // A range has at least one bound (PartialDate's invariant).
            DateShape::Range {
                start: None,
                end: None,
            } => date.to_string(),
        }
    }

    /// An optional date in words ("undated" when absent).
    pub fn date_or_undated(&self, date: Option<&PartialDate>) -> String {
        date.map_or_else(|| self.undated.to_owned(), |d| self.date(d))
    }

    /// A record time in words, to the second, in UTC.
    pub fn timestamp(&self, t: Timestamp) -> String {
        const MICROS_PER_DAY: i64 = 86_400_000_000;
        let seconds = t.micros().rem_euclid(MICROS_PER_DAY) / 1_000_000;
        let time = format!(
            "{:02}:{:02}:{:02} UTC",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        );
        fill(self.instant, &[&(self.day)(t.day()), &time])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(lang: Lang, date: &str, words: &str) {
        let d = PartialDate::parse(date).unwrap();
        assert_eq!(lang.words().date(&d), words, "{date} in {lang}");
    }

    /// Every form of partial date, in both languages: a day, a month, a
    /// year, each season, quarter and half, the qualifiers, and ranges
    /// closed, open at the end and open at the start.
    #[test]
    fn partial_dates_in_words() {
        let table: &[(&str, &str, &str)] = &[
            ("2022-03-01", "1. března 2022", "1 March 2022"),
            ("2009-10-22", "22. října 2009", "22 October 2009"),
            ("2008-05", "květen 2008", "May 2008"),
            ("2024-12", "prosinec 2024", "December 2024"),
            ("2001", "rok 2001", "2001"),
            ("2011-40", "1. pololetí 2011", "first half of 2011"),
            ("2011-41", "2. pololetí 2011", "second half of 2011"),
            ("2011-33", "1. čtvrtletí 2011", "first quarter of 2011"),
            ("2011-36", "4. čtvrtletí 2011", "fourth quarter of 2011"),
            ("2011-21", "jaro 2011", "spring 2011"),
            ("2011-22", "léto 2011", "summer 2011"),
            ("2011-23", "podzim 2011", "autumn 2011"),
            ("2011-24", "zima 2011/2012", "winter 2011/2012"),
            ("2008-05?", "květen 2008 (nejisté)", "May 2008 (uncertain)"),
            (
                "2008-05~",
                "květen 2008 (přibližně)",
                "May 2008 (approximate)",
            ),
            (
                "2008%",
                "rok 2008 (přibližně, nejisté)",
                "2008 (approximate, uncertain)",
            ),
            (
                "[2022-02-24..2022-03-01]",
                "mezi 24. února 2022 a 1. března 2022",
                "between 24 February 2022 and 1 March 2022",
            ),
            (
                "[2001-11-28..2022-03]",
                "mezi 28. listopadu 2001 a březnem 2022",
                "between 28 November 2001 and March 2022",
            ),
            (
                "[2013?..2014~]",
                "mezi rokem 2013 (nejisté) a rokem 2014 (přibližně)",
                "between 2013 (uncertain) and 2014 (approximate)",
            ),
            (
                "[2011-40..2011-23]",
                "mezi 1. pololetím 2011 a podzimem 2011",
                "between the first half of 2011 and autumn 2011",
            ),
            (
                "[2011-33..2011-24]",
                "mezi 1. čtvrtletím 2011 a zimou 2011/2012",
                "between the first quarter of 2011 and winter 2011/2012",
            ),
            (
                "[2009-04-22..]",
                "nejdříve 22. dubna 2009",
                "no earlier than 22 April 2009",
            ),
            (
                "[2013-05..]",
                "nejdříve v květnu 2013",
                "no earlier than May 2013",
            ),
            ("[..2013]", "nejpozději v roce 2013", "no later than 2013"),
            (
                "[..2020-02-05]",
                "nejpozději 5. února 2020",
                "no later than 5 February 2020",
            ),
            (
                "[..2011-41]",
                "nejpozději ve 2. pololetí 2011",
                "no later than the second half of 2011",
            ),
            (
                "[2011-35..]",
                "nejdříve ve 3. čtvrtletí 2011",
                "no earlier than the third quarter of 2011",
            ),
            (
                "[2011-21..]",
                "nejdříve na jaře 2011",
                "no earlier than spring 2011",
            ),
            (
                "[..2011-22]",
                "nejpozději v létě 2011",
                "no later than summer 2011",
            ),
            (
                "[2011-23..]",
                "nejdříve na podzim 2011",
                "no earlier than autumn 2011",
            ),
            (
                "[..2011-24?]",
                "nejpozději v zimě 2011/2012 (nejisté)",
                "no later than winter 2011/2012 (uncertain)",
            ),
        ];
        for (date, cs, en) in table {
            check(Lang::Cs, date, cs);
            check(Lang::En, date, en);
        }
    }

    #[test]
    fn record_times_in_words() {
        let t = Timestamp::parse("2026-01-01T09:05:07.250Z").unwrap();
        assert_eq!(
            Lang::Cs.words().timestamp(t),
            "1. ledna 2026 v 09:05:07 UTC"
        );
        assert_eq!(
            Lang::En.words().timestamp(t),
            "1 January 2026, 09:05:07 UTC"
        );
    }

    #[test]
    fn languages_by_code() {
        assert_eq!("cs".parse::<Lang>(), Ok(Lang::Cs));
        assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
        assert!("de".parse::<Lang>().unwrap_err().contains("cs or en"));
        assert_eq!(Lang::default(), Lang::Cs);
    }

    #[test]
    fn templates_fill_in_order() {
        assert_eq!(fill("mezi {} a {}", &["a", "b"]), "mezi a a b");
        assert_eq!(fill("{} only", &[]), "{} only");
    }
}
