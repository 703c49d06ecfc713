//! Fuzzing the date parsers that read outside input: `PartialDate` (event
//! dates), `Day` (`valid_on`) and `Timestamp` (`as_known_at`, records'
//! `recorded_at`).
//!
//! Properties: no text makes a parser panic; whatever a parser accepts
//! prints back as the very text it read (dates) or as text that parses
//! to the same value (timestamps); every date built from its parts is
//! accepted with the interval its parts say.
//!
//! Cases per property: `PROPTEST_CASES`, or the defaults below, sized so
//! the whole fuzz harness stays within a minute in a debug build.

use pacta_domain::{Day, PartialDate, Precision, Qualifier, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// `PROPTEST_CASES` when set, else `default`.
fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        // Shrinking a string of a few dozen characters is quick; bound it
        // anyway so a failure reports within seconds.
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

/// Characters dates and timestamps are made of, and their neighbours.
const ALPHABET: &[char] = &[
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-', '.', '[', ']', '?', '~', '%', 'T', 't',
    'Z', 'z', ':', '+', ' ', '/', 'W', 'X', 'x', 'u', 'E', '\0', '\n', 'é', '٣', '−', '\u{FEFF}',
];

/// Text over [`ALPHABET`], so that most of it is almost a date.
fn datelike() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..40)
        .prop_map(|chars| chars.into_iter().collect())
}

/// One edit of a text: what a typo, a truncation or a bad copy does.
#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
    Truncate(usize),
    /// Repeats a piece of the text after itself.
    Duplicate(usize, usize),
    Swap(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = || {
        prop_oneof![
            3 => prop::sample::select(ALPHABET),
            1 => any::<char>(),
        ]
    };
    prop_oneof![
        (any::<usize>(), ch()).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), ch()).prop_map(|(i, c)| Edit::Replace(i, c)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..8).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Swap(i, j)),
    ]
}

/// Applies edits to the characters of a text; indexes wrap around.
fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let n = chars.len();
        let at = |i: usize| if n == 0 { 0 } else { i % n };
        match *e {
            Edit::Insert(i, c) => chars.insert(i % (n + 1), c),
            Edit::Delete(i) if n > 0 => {
                chars.remove(at(i));
            }
            Edit::Replace(i, c) if n > 0 => chars[at(i)] = c,
            Edit::Truncate(i) => chars.truncate(i % (n + 1)),
            Edit::Duplicate(i, len) if n > 0 => {
                let start = at(i);
                let piece: Vec<char> = chars[start..(start + len).min(n)].to_vec();
                let end = start + piece.len();
                chars.splice(end..end, piece);
            }
            Edit::Swap(i, j) if n > 0 => chars.swap(at(i), at(j)),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// A valid single date with the first and last day it denotes, computed
/// here from the calendar rather than by the parser.
#[derive(Clone, Debug)]
struct Single {
    text: String,
    first: (i32, u32, u32),
    last: (i32, u32, u32),
    precision: Precision,
    qualifier: Qualifier,
}

fn qualifier() -> impl Strategy<Value = (Qualifier, &'static str)> {
    prop_oneof![
        3 => Just((Qualifier::None, "")),
        1 => Just((Qualifier::Uncertain, "?")),
        1 => Just((Qualifier::Approximate, "~")),
        1 => Just((Qualifier::UncertainApproximate, "%")),
    ]
}

/// Years, with the edges of the four-digit range and leap years common.
fn year() -> impl Strategy<Value = i32> {
    prop_oneof![
        4 => 0i32..=9999,
        1 => prop::sample::select(vec![0, 1, 1582, 1600, 1900, 1969, 1970, 2000, 2024, 9998, 9999]),
    ]
}

fn single() -> impl Strategy<Value = Single> {
    let year_unit =
        year().prop_map(|y| (format!("{y:04}"), (y, 1, 1), (y, 12, 31), Precision::Year));
    let month_unit = (year(), 1u32..=12).prop_map(|(y, m)| {
        (
            format!("{y:04}-{m:02}"),
            (y, m, 1),
            (y, m, days_in_month(y, m)),
            Precision::Month,
        )
    });
    let day_unit = (year(), 1u32..=12, 0.0f64..1.0).prop_map(|(y, m, f)| {
        let d = 1 + (f * f64::from(days_in_month(y, m))) as u32;
        (
            format!("{y:04}-{m:02}-{d:02}"),
            (y, m, d),
            (y, m, d),
            Precision::Day,
        )
    });
    let sub_year = (
        year(),
        prop::sample::select(vec![21u32, 22, 23, 24, 33, 34, 35, 36, 40, 41]),
    )
        .prop_map(|(y, code)| {
            let (first, last, precision) = match code {
                21 => ((y, 3, 1), (y, 5, 31), Precision::Season),
                22 => ((y, 6, 1), (y, 8, 31), Precision::Season),
                23 => ((y, 9, 1), (y, 11, 30), Precision::Season),
                24 => (
                    (y, 12, 1),
                    (y + 1, 2, days_in_month(y + 1, 2)),
                    Precision::Season,
                ),
                33..=36 => {
                    let q = code - 33;
                    let last_month = 3 * q + 3;
                    (
                        (y, 3 * q + 1, 1),
                        (y, last_month, days_in_month(y, last_month)),
                        Precision::Quarter,
                    )
                }
                40 => ((y, 1, 1), (y, 6, 30), Precision::HalfYear),
                _ => ((y, 7, 1), (y, 12, 31), Precision::HalfYear),
            };
            (format!("{y:04}-{code:02}"), first, last, precision)
        });
    (
        prop_oneof![year_unit, month_unit, day_unit, sub_year],
        qualifier(),
    )
        .prop_map(
            |((text, first, last, precision), (qualifier, suffix))| Single {
                text: format!("{text}{suffix}"),
                first,
                last,
                precision,
                qualifier,
            },
        )
}

/// Day number of a civil date, by counting days: slow but obviously
/// right, and independent of the parser's arithmetic.
fn day_number(ymd: (i32, u32, u32)) -> i32 {
    let (y, m, d) = ymd;
    // Days from 0000-01-01 to 1970-01-01.
    const EPOCH: i32 = 719_528;
    let mut n = 0i32;
    // 400-year cycles have 146 097 days; count what remains year by year.
    n += (y / 400) * 146_097;
    for year in (y / 400) * 400..y {
        n += if days_in_month(year, 2) == 29 {
            366
        } else {
            365
        };
    }
    for month in 1..m {
        n += days_in_month(y, month) as i32;
    }
    n + d as i32 - 1 - EPOCH
}

/// The date a `Single` stands for, checked against the parser.
#[track_caller]
fn check_single(date: &PartialDate, s: &Single) {
    assert_eq!(date.to_string(), s.text);
    assert_eq!(date.precision(), s.precision, "{}", s.text);
    assert_eq!(date.qualifier(), s.qualifier, "{}", s.text);
    let i = date.interval();
    assert_eq!(i.lo(), day_number(s.first), "{}: first day", s.text);
    assert_eq!(i.hi(), day_number(s.last), "{}: last day", s.text);
}

/// What every accepted date must satisfy, whatever text it came from.
#[track_caller]
fn check_accepted(text: &str, date: &PartialDate) {
    // The documented invariant: the text read is the text printed.
    assert_eq!(date.to_string(), text, "printing {date:?}");
    let again = PartialDate::parse(&date.to_string())
        .unwrap_or_else(|e| panic!("{text:?} was accepted, its printed form is refused: {e}"));
    assert_eq!(&again, date);
    let i = date.interval();
    assert!(i.lo() <= i.hi(), "{text:?}: {i:?}");
    // The bounds are real days that print and parse back (a winter of
    // 9999 ends in 10000, which no date text can name: skip that one).
    for day in [date.earliest(), date.latest()].into_iter().flatten() {
        if day.ymd().0 <= 9999 {
            assert_eq!(day.to_string().parse::<Day>(), Ok(day));
        }
    }
    // JSON carries the same text.
    let json = serde_json::to_string(date).unwrap();
    assert_eq!(serde_json::from_str::<PartialDate>(&json).unwrap(), *date);
}

#[track_caller]
fn check_any_text(text: &str) {
    if let Ok(date) = PartialDate::parse(text) {
        check_accepted(text, &date);
    }
    if let Ok(day) = text.parse::<Day>() {
        assert_eq!(day.to_string(), text, "a day prints as it was read");
        let (y, m, d) = day.ymd();
        assert_eq!(Day::from_ymd(y, m, d), Ok(day));
        assert_eq!(
            PartialDate::parse(text).map(|p| p.precision()),
            Ok(Precision::Day)
        );
    }
    if let Ok(t) = Timestamp::parse(text) {
        let printed = t.to_string();
        let again = Timestamp::parse(&printed).unwrap_or_else(|e| {
            panic!("{text:?} was accepted as {printed:?}, which is refused: {e}")
        });
        assert_eq!(again, t, "{text:?} printed as {printed:?}");
        assert_eq!(again.to_string(), printed);
    }
    // Refusals say what was refused, never panic while saying it.
    if let Err(e) = PartialDate::parse(text) {
        assert!(!e.to_string().is_empty());
    }
}

/// A valid RFC 3339 timestamp with its microseconds since the epoch,
/// computed here (the microsecond it falls in), and whether that is exact
/// (no digits beyond microseconds); the text varies the forms RFC 3339
/// allows.
fn timestamp() -> impl Strategy<Value = (String, i64, bool)> {
    (
        // Within a day of 0000 and 9999 an offset moves the instant out of
        // what the parser can read or print; the edges have their own
        // tests.
        prop_oneof![4 => 1i32..=9998, 1 => prop::sample::select(vec![1, 1969, 1970, 2000, 9998])],
        1u32..=12,
        0.0f64..1.0,
        0u32..24,
        0u32..60,
        0u32..60,
        prop::option::of((0u32..1_000_000_000, 1usize..=9)),
        prop_oneof![
            Just(None),
            (-(23 * 60 + 59)..=(23i32 * 60 + 59)).prop_map(Some)
        ],
        any::<(bool, bool)>(),
    )
        .prop_map(|(y, mo, f, h, mi, s, frac, offset, (lower_t, lower_z))| {
            let d = 1 + (f * f64::from(days_in_month(y, mo))) as u32;
            let mut text = format!(
                "{y:04}-{mo:02}-{d:02}{}{h:02}:{mi:02}:{s:02}",
                if lower_t { 't' } else { 'T' }
            );
            let mut micros = 0i64;
            let mut exact = true;
            if let Some((nanos, digits)) = frac {
                exact = digits <= 6 || shown_rest_is_zero(nanos, digits);
                let shown = format!("{nanos:09}");
                text.push('.');
                text.push_str(&shown[..digits]);
                let kept: String = shown[..digits.min(6)].to_owned();
                micros = format!("{kept:0<6}").parse().unwrap();
            }
            let offset_minutes = offset.unwrap_or(0);
            match offset {
                None => text.push(if lower_z { 'z' } else { 'Z' }),
                Some(o) => {
                    let sign = if o < 0 { '-' } else { '+' };
                    text.push_str(&format!("{sign}{:02}:{:02}", o.abs() / 60, o.abs() % 60));
                }
            }
            let local =
                i64::from(day_number((y, mo, d))) * 86_400 + i64::from(h * 3600 + mi * 60 + s);
            let utc = local - i64::from(offset_minutes) * 60;
            (text, utc * 1_000_000 + micros, exact)
        })
}

/// Whether the digits shown beyond the sixth are all zero.
fn shown_rest_is_zero(nanos: u32, digits: usize) -> bool {
    format!("{nanos:09}")[6..digits].bytes().all(|b| b == b'0')
}

proptest! {
    #![proptest_config(config(2000))]

    /// Any Unicode text.
    #[test]
    fn no_text_makes_a_date_parser_panic(text in any::<String>()) {
        check_any_text(&text);
    }

    /// Text made of the characters dates are made of.
    #[test]
    fn datelike_text_is_accepted_only_in_its_printed_form(text in datelike()) {
        check_any_text(&text);
    }

    /// Valid dates with typos: whatever survives is still a date that
    /// prints as it was read.
    #[test]
    fn mutated_dates_are_refused_or_round_trip(
        s in single(),
        bound in prop::option::of(single()),
        form in 0u8..3,
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let text = match (form, bound) {
            (_, None) | (0, _) => s.text.clone(),
            (1, Some(b)) => format!("[{}..{}]", s.text, b.text),
            (_, Some(_)) => format!("[..{}]", s.text),
        };
        check_any_text(&mutate(&text, &edits));
    }

    /// Valid timestamps with typos.
    #[test]
    fn mutated_timestamps_are_refused_or_round_trip(
        (text, _, _) in timestamp(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        check_any_text(&mutate(&text, &edits));
    }

    /// Every date built from its parts is accepted, with the days, the
    /// precision and the qualifier its parts say.
    #[test]
    fn every_valid_single_date_is_accepted(s in single()) {
        let date = PartialDate::parse(&s.text)
            .unwrap_or_else(|e| panic!("{:?} refused: {e}", s.text));
        check_single(&date, &s);
        check_accepted(&s.text, &date);
    }

    /// Ranges of valid bounds are accepted exactly when they do not start
    /// after they end, and span from the first bound's first day to the
    /// second's last.
    #[test]
    fn every_ordered_range_is_accepted(
        a in prop::option::of(single()),
        b in prop::option::of(single()),
    ) {
        let text = format!(
            "[{}..{}]",
            a.as_ref().map_or("", |s| &s.text),
            b.as_ref().map_or("", |s| &s.text)
        );
        let parsed = PartialDate::parse(&text);
        let ordered = match (&a, &b) {
            (None, None) => false,
            (Some(a), Some(b)) => day_number(a.first) <= day_number(b.last),
            _ => true,
        };
        prop_assert_eq!(parsed.is_ok(), ordered, "{} gave {:?}", text, parsed);
        if let Ok(date) = parsed {
            prop_assert_eq!(date.precision(), Precision::Range);
            let i = date.interval();
            prop_assert_eq!(i.earliest().map(Day::number), a.as_ref().map(|s| day_number(s.first)));
            prop_assert_eq!(i.latest().map(Day::number), b.as_ref().map(|s| day_number(s.last)));
            check_accepted(&text, &date);
        }
    }

    /// Every calendar day is a `Day`, with the number the calendar gives.
    #[test]
    fn every_valid_day_is_accepted(y in year(), m in 1u32..=12, f in 0.0f64..1.0) {
        let d = 1 + (f * f64::from(days_in_month(y, m))) as u32;
        let text = format!("{y:04}-{m:02}-{d:02}");
        let day: Day = text.parse().unwrap_or_else(|e| panic!("{text} refused: {e}"));
        prop_assert_eq!(day.number(), day_number((y, m, d)));
        prop_assert_eq!(day.to_string(), text);
        prop_assert_eq!(Day::from_ymd(y, m, d), Ok(day));
    }

    /// Days that do not exist are refused, by the text parser and by
    /// `from_ymd` alike.
    #[test]
    fn impossible_days_are_refused(y in year(), m in 0u32..=99, d in 0u32..=99) {
        let exists = (1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d);
        let text = format!("{y:04}-{m:02}-{d:02}");
        prop_assert_eq!(text.parse::<Day>().is_ok(), exists, "{}", text);
        prop_assert_eq!(Day::from_ymd(y, m, d).is_ok(), exists, "{}", text);
        prop_assert_eq!(PartialDate::parse(&text).is_ok(), exists, "{}", text);
    }

    /// Every RFC 3339 timestamp in the years 0000–9999 is accepted, at the
    /// instant it names, and prints in the one canonical form, which
    /// parses back to it. (Digits beyond microseconds: see
    /// `sub_microsecond_digits_are_truncated`.)
    #[test]
    fn every_valid_timestamp_is_accepted((text, micros, exact) in timestamp()) {
        let t = Timestamp::parse(&text).unwrap_or_else(|e| panic!("{text} refused: {e}"));
        if exact || micros >= 0 {
            prop_assert_eq!(t.micros(), micros, "{}", text);
        }
        let printed = t.to_string();
        prop_assert_eq!(printed.len(), "2026-11-23T09:15:19.123456Z".len(), "{}", printed);
        prop_assert_eq!(Timestamp::parse(&printed), Ok(t));
    }
}

proptest! {
    #![proptest_config(config(200))]

    /// "Sub-microsecond digits are truncated": the instant is the
    /// microsecond the text's instant falls in, before 1970 as after.
    #[test]
    fn sub_microsecond_digits_are_truncated((text, micros, _) in timestamp()) {
        let t = Timestamp::parse(&text).unwrap_or_else(|e| panic!("{text} refused: {e}"));
        prop_assert_eq!(t.micros(), micros, "{} parsed as {}", text, t);
    }
}

/// The smallest case of `sub_microsecond_digits_are_truncated`.
#[test]
fn the_last_instant_of_1969_is_in_1969() {
    let t = Timestamp::parse("1969-12-31T23:59:59.9999999Z").unwrap();
    assert_eq!(t.to_string(), "1969-12-31T23:59:59.999999Z");
    assert_eq!(t.day().to_string(), "1969-12-31");
}

/// Texts at the edges of what RFC 3339 and the parser's calendar allow:
/// each is refused, or accepted and printed in a form that parses back.
/// (The parser's range ends at 9999-12-30T22:00:00Z, where jiff's does.)
#[test]
fn timestamps_at_the_edges_of_the_calendar() {
    for text in [
        "0000-01-01T00:00:00-23:59",
        "0000-01-01T00:00:00Z",
        "+002024-01-01T00:00:00Z",
        "9999-12-30T22:00:00Z",
        "9999-12-30T22:00:01Z",
        "9999-12-31T23:59:59-23:59",
        "2024-02-29T24:00:00Z",
        "2016-12-31T23:59:60Z",
        "-009999-01-01T00:00:00Z",
        "-000000-01-01T00:00:00Z",
    ] {
        check_any_text(text);
    }
}

/// An instant before the year 0000 has no RFC 3339 form: it is refused,
/// or printed in a form that parses back.
#[test]
fn timestamps_before_the_year_0000() {
    for text in ["0000-01-01T00:00:00+01:00", "-000001-12-31T23:59:59Z"] {
        check_any_text(text);
    }
}
