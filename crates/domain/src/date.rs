//! Partial dates: the subset of EDTF (ISO 8601-2) that Pacta keeps.
//!
//! A source gives a date at its own precision: a day (`2009-10-22`), a
//! month (`2008-05`), a year (`2001`), a sub-year grouping (`2011-40`, the
//! first half of 2011), or only bounds (`[2001-11-28..2022-03]`, one day
//! somewhere in that span). Every [`PartialDate`] is an interval of days
//! `[earliest, latest]`; the `?` (uncertain), `~` (approximate) and `%`
//! (both) qualifiers are kept as flags and never move the bounds.
//!
//! Sub-year groupings (EDTF level 1 and 2 codes):
//!
//! | code | meaning | days |
//! |---|---|---|
//! | 21–24 | spring, summer, autumn, winter (northern hemisphere) | Mar–May, Jun–Aug, Sep–Nov, Dec of the year to the end of Feb of the next |
//! | 33–36 | quarters 1–4 | Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec |
//! | 40–41 | halves 1–2 | Jan–Jun, Jul–Dec |
//!
//! Parsing is strict so that formatting round-trips exactly: a year has
//! four digits, a month and a day two.

use std::fmt;
use std::str::FromStr;

/// A civil day in the proleptic Gregorian calendar, counted from
/// 1970-01-01 (day 0).
///
/// Every `Day` built by this module lies in the years 0000–9999 or, for the
/// last day of a winter season of 9999, just after.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i32);

impl Day {
    /// The day of a valid calendar date, or an error saying why the date
    /// does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Day, DateError> {
        let text = format!("{year:04}-{month:02}-{day:02}");
        check_year(&text, year)?;
        check_month(&text, month)?;
        let last = days_in_month(year, month);
        if day == 0 || day > last {
            return Err(DateError::new(
                &text,
                format!(
                    "day {day:02} does not exist in {year:04}-{month:02}, which has {last} days"
                ),
            ));
        }
        Ok(Day(days_from_civil(year, month, day)))
    }

    /// The day with this number (days since 1970-01-01).
    pub const fn from_number(number: i32) -> Day {
        Day(number)
    }

    /// Days since 1970-01-01 (negative before).
    pub const fn number(self) -> i32 {
        self.0
    }

    /// Year, month (1–12) and day of month (1–31).
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// The next day.
    pub const fn succ(self) -> Day {
        Day(self.0 + 1)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Day({self})")
    }
}

impl FromStr for Day {
    type Err = DateError;

    /// Parses exactly `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Day, DateError> {
        match PartialDate::parse(s)?.repr {
            Repr::Single(Single {
                unit: Unit::Day(y, m, d),
                qualifier: Qualifier::None,
            }) => Day::from_ymd(y, m, d),
            _ => Err(DateError::new(s, "expected a day as YYYY-MM-DD")),
        }
    }
}

impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An inclusive interval of days.
///
/// Invariant: `lo <= hi`. An open end is [`Interval::OPEN_LO`] or
/// [`Interval::OPEN_HI`], which compare below and above every real day, so
/// the interval arithmetic of the in-force rule needs no special cases.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Interval {
    lo: i32,
    hi: i32,
}

impl Interval {
    /// The sentinel of an interval unbounded below.
    pub const OPEN_LO: i32 = i32::MIN;
    /// The sentinel of an interval unbounded above.
    pub const OPEN_HI: i32 = i32::MAX;

    /// The interval `[lo, hi]` of day numbers; `None` when `lo > hi`.
    pub fn new(lo: i32, hi: i32) -> Option<Interval> {
        (lo <= hi).then_some(Interval { lo, hi })
    }

    /// The one-day interval.
    pub const fn day(day: Day) -> Interval {
        Interval {
            lo: day.0,
            hi: day.0,
        }
    }

    /// Lower bound as a day number, [`Interval::OPEN_LO`] when open.
    pub const fn lo(self) -> i32 {
        self.lo
    }

    /// Upper bound as a day number, [`Interval::OPEN_HI`] when open.
    pub const fn hi(self) -> i32 {
        self.hi
    }

    /// The earliest day, `None` when unbounded below.
    pub fn earliest(self) -> Option<Day> {
        (self.lo != Self::OPEN_LO).then_some(Day(self.lo))
    }

    /// The latest day, `None` when unbounded above.
    pub fn latest(self) -> Option<Day> {
        (self.hi != Self::OPEN_HI).then_some(Day(self.hi))
    }

    /// Whether the day lies in the interval.
    pub fn contains(self, day: Day) -> bool {
        self.lo <= day.0 && day.0 <= self.hi
    }
}

/// The `?`, `~` and `%` qualifiers of EDTF.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Qualifier {
    /// No qualifier.
    #[default]
    None,
    /// `?`: the source is unsure of the date.
    Uncertain,
    /// `~`: the date is approximate.
    Approximate,
    /// `%`: both uncertain and approximate.
    UncertainApproximate,
}

impl Qualifier {
    fn suffix(self) -> &'static str {
        match self {
            Qualifier::None => "",
            Qualifier::Uncertain => "?",
            Qualifier::Approximate => "~",
            Qualifier::UncertainApproximate => "%",
        }
    }
}

/// How precisely a source gave a date.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// A single day.
    Day,
    /// A calendar month.
    Month,
    /// A season (EDTF 21–24).
    Season,
    /// A quarter (EDTF 33–36).
    Quarter,
    /// A half year (EDTF 40–41).
    HalfYear,
    /// A calendar year.
    Year,
    /// Only bounds: one day somewhere in `[A..B]`, `[..B]` or `[A..]`.
    Range,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Unit {
    Year(i32),
    Month(i32, u32),
    Day(i32, u32, u32),
    /// Year and EDTF sub-year code (21–24, 33–36, 40–41).
    SubYear(i32, u32),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Single {
    unit: Unit,
    qualifier: Qualifier,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Repr {
    Single(Single),
    /// At least one bound is present.
    Range {
        start: Option<Single>,
        end: Option<Single>,
    },
}

/// A date at the precision its source gave, as EDTF text.
///
/// Invariants: the text it was parsed from is exactly what [`fmt::Display`]
/// prints, and `earliest <= latest` (a range never starts after it ends).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialDate {
    repr: Repr,
}

impl PartialDate {
    /// Parses the EDTF subset described in the module docs.
    pub fn parse(text: &str) -> Result<PartialDate, DateError> {
        if let Some(inner) = text.strip_prefix('[') {
            let Some(inner) = inner.strip_suffix(']') else {
                return Err(DateError::new(text, "a range must end with ']'"));
            };
            let Some((a, b)) = inner.split_once("..") else {
                return Err(DateError::new(
                    text,
                    "a range is written [A..B], [..B] or [A..]",
                ));
            };
            if a.is_empty() && b.is_empty() {
                return Err(DateError::new(
                    text,
                    "a range needs at least one bound: [A..B], [..B] or [A..]",
                ));
            }
            let start = (!a.is_empty()).then(|| parse_single(text, a)).transpose()?;
            let end = (!b.is_empty()).then(|| parse_single(text, b)).transpose()?;
            if let (Some(s), Some(e)) = (start, end)
                && s.interval().lo > e.interval().hi
            {
                return Err(DateError::new(
                    text,
                    format!("the range starts ({a}) after it ends ({b})"),
                ));
            }
            Ok(PartialDate {
                repr: Repr::Range { start, end },
            })
        } else {
            Ok(PartialDate {
                repr: Repr::Single(parse_single(text, text)?),
            })
        }
    }

    /// The date of one day, without qualifier.
    pub fn day(day: Day) -> PartialDate {
        let (y, m, d) = day.ymd();
        PartialDate {
            repr: Repr::Single(Single {
                unit: Unit::Day(y, m, d),
                qualifier: Qualifier::None,
            }),
        }
    }

    /// The range `[..day]`: one day up to and including `day`.
    pub fn up_to(day: Day) -> PartialDate {
        let (y, m, d) = day.ymd();
        PartialDate {
            repr: Repr::Range {
                start: None,
                end: Some(Single {
                    unit: Unit::Day(y, m, d),
                    qualifier: Qualifier::None,
                }),
            },
        }
    }

    /// The days this date may denote.
    pub fn interval(&self) -> Interval {
        match self.repr {
            Repr::Single(s) => s.interval(),
            Repr::Range { start, end } => Interval {
                lo: start.map_or(Interval::OPEN_LO, |s| s.interval().lo),
                hi: end.map_or(Interval::OPEN_HI, |e| e.interval().hi),
            },
        }
    }

    /// The earliest day, `None` for `[..B]`.
    pub fn earliest(&self) -> Option<Day> {
        self.interval().earliest()
    }

    /// The latest day, `None` for `[A..]`.
    pub fn latest(&self) -> Option<Day> {
        self.interval().latest()
    }

    /// How precisely the date was given.
    pub fn precision(&self) -> Precision {
        match self.repr {
            Repr::Range { .. } => Precision::Range,
            Repr::Single(s) => match s.unit {
                Unit::Year(_) => Precision::Year,
                Unit::Month(..) => Precision::Month,
                Unit::Day(..) => Precision::Day,
                Unit::SubYear(_, code) => match code {
                    21..=24 => Precision::Season,
                    33..=36 => Precision::Quarter,
                    _ => Precision::HalfYear,
                },
            },
        }
    }

    /// The qualifier of a single date; ranges carry theirs on the bounds
    /// and report [`Qualifier::None`] here.
    pub fn qualifier(&self) -> Qualifier {
        match self.repr {
            Repr::Single(s) => s.qualifier,
            Repr::Range { .. } => Qualifier::None,
        }
    }

    /// Whether the date, or one of its bounds, is marked uncertain (`?` or `%`).
    pub fn is_uncertain(&self) -> bool {
        self.qualifiers()
            .any(|q| matches!(q, Qualifier::Uncertain | Qualifier::UncertainApproximate))
    }

    /// Whether the date, or one of its bounds, is marked approximate (`~` or `%`).
    pub fn is_approximate(&self) -> bool {
        self.qualifiers()
            .any(|q| matches!(q, Qualifier::Approximate | Qualifier::UncertainApproximate))
    }

    fn qualifiers(&self) -> impl Iterator<Item = Qualifier> {
        let (a, b) = match self.repr {
            Repr::Single(s) => (Some(s), None),
            Repr::Range { start, end } => (start, end),
        };
        a.into_iter().chain(b).map(|s| s.qualifier)
    }
}

impl Single {
    fn interval(self) -> Interval {
        let first = |y, m| days_from_civil(y, m, 1);
        let last = |y, m| days_from_civil(y, m, days_in_month(y, m));
        let (lo, hi) = match self.unit {
            Unit::Year(y) => (first(y, 1), last(y, 12)),
            Unit::Month(y, m) => (first(y, m), last(y, m)),
            Unit::Day(y, m, d) => {
                let n = days_from_civil(y, m, d);
                (n, n)
            }
            Unit::SubYear(y, code) => match code {
                21 => (first(y, 3), last(y, 5)),
                22 => (first(y, 6), last(y, 8)),
                23 => (first(y, 9), last(y, 11)),
                24 => (first(y, 12), last(y + 1, 2)),
                33..=36 => {
                    let q = code - 33;
                    (first(y, 3 * q + 1), last(y, 3 * q + 3))
                }
                40 => (first(y, 1), last(y, 6)),
                _ => (first(y, 7), last(y, 12)),
            },
        };
        Interval { lo, hi }
    }
}

fn parse_single(whole: &str, text: &str) -> Result<Single, DateError> {
    let (core, qualifier) = match text.as_bytes().last() {
        Some(b'?') => (&text[..text.len() - 1], Qualifier::Uncertain),
        Some(b'~') => (&text[..text.len() - 1], Qualifier::Approximate),
        Some(b'%') => (&text[..text.len() - 1], Qualifier::UncertainApproximate),
        _ => (text, Qualifier::None),
    };
    let parts: Vec<&str> = core.split('-').collect();
    let number = |part: &str, what: &str, width: usize| -> Result<u32, DateError> {
        if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DateError::new(
                whole,
                format!("the {what} must be exactly {width} digits, found {part:?}"),
            ));
        }
        part.parse()
            .map_err(|_| DateError::new(whole, format!("the {what} {part:?} is not a number")))
    };
    let unit = match parts.as_slice() {
        [y] => Unit::Year(number(y, "year", 4)? as i32),
        [y, m] => {
            let year = number(y, "year", 4)? as i32;
            let code = number(m, "month", 2)?;
            match code {
                1..=12 => Unit::Month(year, code),
                21..=24 | 33..=36 | 40..=41 => Unit::SubYear(year, code),
                25..=32 | 37..=39 => {
                    return Err(DateError::new(
                        whole,
                        format!(
                            "the sub-year grouping {code} is not supported \
                             (supported: 21–24 seasons, 33–36 quarters, 40–41 halves)"
                        ),
                    ));
                }
                _ => {
                    return Err(DateError::new(
                        whole,
                        format!(
                            "{code:02} is neither a month (01–12) nor a sub-year grouping \
                             (21–24 seasons, 33–36 quarters, 40–41 halves)"
                        ),
                    ));
                }
            }
        }
        [y, m, d] => {
            let year = number(y, "year", 4)? as i32;
            let month = number(m, "month", 2)?;
            let day = number(d, "day", 2)?;
            if month > 12 || month == 0 {
                return Err(DateError::new(
                    whole,
                    format!("month {month:02} does not exist (months are 01–12)"),
                ));
            }
            let last = days_in_month(year, month);
            if day == 0 || day > last {
                return Err(DateError::new(
                    whole,
                    format!(
                        "day {day:02} does not exist in {year:04}-{month:02}, which has {last} days"
                    ),
                ));
            }
            Unit::Day(year, month, day)
        }
        _ => {
            return Err(DateError::new(
                whole,
                "expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-SS (sub-year), \
                 optionally followed by ?, ~ or %",
            ));
        }
    };
    Ok(Single { unit, qualifier })
}

impl fmt::Display for Single {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            Unit::Year(y) => write!(f, "{y:04}")?,
            Unit::Month(y, m) | Unit::SubYear(y, m) => write!(f, "{y:04}-{m:02}")?,
            Unit::Day(y, m, d) => write!(f, "{y:04}-{m:02}-{d:02}")?,
        }
        f.write_str(self.qualifier.suffix())
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr {
            Repr::Single(s) => s.fmt(f),
            Repr::Range { start, end } => {
                f.write_str("[")?;
                if let Some(s) = start {
                    s.fmt(f)?;
                }
                f.write_str("..")?;
                if let Some(e) = end {
                    e.fmt(f)?;
                }
                f.write_str("]")
            }
        }
    }
}

impl fmt::Debug for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartialDate({self})")
    }
}

/// One side of a [`PartialDate`] as its parts, for those who put a date
/// into words (the printable documents): the unit the source gave and its
/// qualifier.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DatePart {
    /// What the source gave.
    pub unit: DateUnit,
    /// `?`, `~`, `%` or none.
    pub qualifier: Qualifier,
}

/// The unit of a [`DatePart`]. Every value is a real date: months are
/// 1–12, days exist in their month, and the sub-year numbers are 1–4
/// (seasons and quarters) or 1–2 (halves).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DateUnit {
    /// A calendar year.
    Year(i32),
    /// Year and month (1–12).
    Month(i32, u32),
    /// Year, month and day.
    Day(i32, u32, u32),
    /// Year and season, 1 spring … 4 winter (EDTF 21–24; winter runs from
    /// December of the year into the next).
    Season(i32, u32),
    /// Year and quarter, 1–4 (EDTF 33–36).
    Quarter(i32, u32),
    /// Year and half, 1–2 (EDTF 40–41).
    Half(i32, u32),
}

/// A [`PartialDate`] as its parts.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DateShape {
    /// One unit: `2008-05`, `2011-40?`.
    Single(DatePart),
    /// Bounds, at least one present: `[A..B]`, `[A..]`, `[..B]`.
    Range {
        /// The earliest side, absent when open.
        start: Option<DatePart>,
        /// The latest side, absent when open.
        end: Option<DatePart>,
    },
}

impl PartialDate {
    /// The date's parts, for wording it.
    pub fn shape(&self) -> DateShape {
        let part = |s: Single| DatePart {
            unit: match s.unit {
                Unit::Year(y) => DateUnit::Year(y),
                Unit::Month(y, m) => DateUnit::Month(y, m),
                Unit::Day(y, m, d) => DateUnit::Day(y, m, d),
                Unit::SubYear(y, code @ 21..=24) => DateUnit::Season(y, code - 20),
                Unit::SubYear(y, code @ 33..=36) => DateUnit::Quarter(y, code - 32),
                Unit::SubYear(y, code) => DateUnit::Half(y, code - 39),
            },
            qualifier: s.qualifier,
        };
        match self.repr {
            Repr::Single(s) => DateShape::Single(part(s)),
            Repr::Range { start, end } => DateShape::Range {
                start: start.map(part),
                end: end.map(part),
            },
        }
    }
}

impl FromStr for PartialDate {
    type Err = DateError;
    fn from_str(s: &str) -> Result<PartialDate, DateError> {
        PartialDate::parse(s)
    }
}

impl serde::Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PartialDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PartialDate, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        PartialDate::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A date that does not parse or does not exist, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {input:?}: {reason}")]
pub struct DateError {
    input: String,
    reason: String,
}

impl DateError {
    fn new(input: &str, reason: impl Into<String>) -> DateError {
        DateError {
            input: input.to_owned(),
            reason: reason.into(),
        }
    }

    /// Why the date was refused.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

fn check_year(text: &str, year: i32) -> Result<(), DateError> {
    if (0..=9999).contains(&year) {
        Ok(())
    } else {
        Err(DateError::new(text, "the year must lie in 0000–9999"))
    }
}

fn check_month(text: &str, month: u32) -> Result<(), DateError> {
    if (1..=12).contains(&month) {
        Ok(())
    } else {
        Err(DateError::new(
            text,
            format!("month {month:02} does not exist (months are 01–12)"),
        ))
    }
}

/// Whether the Gregorian year is a leap year.
pub fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap_year(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a valid civil date (H. Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// The civil date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(n: i32) -> (i32, u32, u32) {
    let z = i64::from(n) + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn check(text: &str, earliest: Option<&str>, latest: Option<&str>, precision: Precision) {
        let date = PartialDate::parse(text).unwrap();
        assert_eq!(date.to_string(), text, "round trip");
        assert_eq!(date.earliest().map(|d| d.to_string()).as_deref(), earliest);
        assert_eq!(date.latest().map(|d| d.to_string()).as_deref(), latest);
        assert_eq!(date.precision(), precision);
    }

    #[track_caller]
    fn check_err(text: &str, reason_contains: &str) {
        let err = PartialDate::parse(text).unwrap_err();
        assert!(
            err.to_string().contains(reason_contains),
            "{text}: {err} should mention {reason_contains:?}"
        );
    }

    #[test]
    fn intervals() {
        use Precision::*;
        check("2009-10-22", Some("2009-10-22"), Some("2009-10-22"), Day);
        check("2008-05", Some("2008-05-01"), Some("2008-05-31"), Month);
        check("2024-02", Some("2024-02-01"), Some("2024-02-29"), Month);
        check("2001", Some("2001-01-01"), Some("2001-12-31"), Year);
        check("2011-40", Some("2011-01-01"), Some("2011-06-30"), HalfYear);
        check("2011-41", Some("2011-07-01"), Some("2011-12-31"), HalfYear);
        check("2011-21", Some("2011-03-01"), Some("2011-05-31"), Season);
        check("2011-24", Some("2011-12-01"), Some("2012-02-29"), Season);
        check("2011-33", Some("2011-01-01"), Some("2011-03-31"), Quarter);
        check("2011-36", Some("2011-10-01"), Some("2011-12-31"), Quarter);
        check("2008-05?", Some("2008-05-01"), Some("2008-05-31"), Month);
        check("2008-05~", Some("2008-05-01"), Some("2008-05-31"), Month);
        check("2008%", Some("2008-01-01"), Some("2008-12-31"), Year);
        check(
            "[2001-11-28..2022-03]",
            Some("2001-11-28"),
            Some("2022-03-31"),
            Range,
        );
        check("[..2013]", None, Some("2013-12-31"), Range);
        check("[2013-05..]", Some("2013-05-01"), None, Range);
        check(
            "[2013?..2014~]",
            Some("2013-01-01"),
            Some("2014-12-31"),
            Range,
        );
    }

    #[test]
    fn shapes_name_the_parts() {
        let part = |unit, qualifier| DatePart { unit, qualifier };
        let shape = |t: &str| PartialDate::parse(t).unwrap().shape();
        assert_eq!(
            shape("2011-40"),
            DateShape::Single(part(DateUnit::Half(2011, 1), Qualifier::None))
        );
        assert_eq!(
            shape("2011-41?"),
            DateShape::Single(part(DateUnit::Half(2011, 2), Qualifier::Uncertain))
        );
        assert_eq!(
            shape("2011-24~"),
            DateShape::Single(part(DateUnit::Season(2011, 4), Qualifier::Approximate))
        );
        assert_eq!(
            shape("2011-33"),
            DateShape::Single(part(DateUnit::Quarter(2011, 1), Qualifier::None))
        );
        assert_eq!(
            shape("[2009-04-22..]"),
            DateShape::Range {
                start: Some(part(DateUnit::Day(2009, 4, 22), Qualifier::None)),
                end: None
            }
        );
        assert_eq!(
            shape("[..2013%]"),
            DateShape::Range {
                start: None,
                end: Some(part(DateUnit::Year(2013), Qualifier::UncertainApproximate))
            }
        );
    }

    #[test]
    fn qualifiers_are_flags() {
        let d = PartialDate::parse("2008-05?").unwrap();
        assert!(d.is_uncertain() && !d.is_approximate());
        let d = PartialDate::parse("2008-05%").unwrap();
        assert!(d.is_uncertain() && d.is_approximate());
        let d = PartialDate::parse("[2008~..2009]").unwrap();
        assert!(!d.is_uncertain() && d.is_approximate());
    }

    #[test]
    fn impossible_dates_say_why() {
        check_err("2012-13-40", "month 13 does not exist");
        check_err("2023-02-29", "2023-02, which has 28 days");
        check_err("2023-04-31", "which has 30 days");
        check_err(
            "2012-13",
            "13 is neither a month (01–12) nor a sub-year grouping",
        );
        check_err("2012-00", "00 is neither a month");
        check_err(
            "2011-42",
            "42 is neither a month (01–12) nor a sub-year grouping",
        );
        check_err("2012-25", "sub-year grouping 25 is not supported");
        check_err("2012-5", "month must be exactly 2 digits");
        check_err("12", "year must be exactly 4 digits");
        check_err("2012-05-01-01", "expected YYYY");
        check_err("[..]", "at least one bound");
        check_err("[2014..2013]", "starts (2014) after it ends (2013)");
        check_err("[2013", "must end with ']'");
        check_err("[2013]", "[A..B]");
        check_err("", "year must be exactly 4 digits");
        check_err("2012-40-01", "month 40 does not exist");
    }

    #[test]
    fn leap_days() {
        assert!(PartialDate::parse("2024-02-29").is_ok());
        assert!(PartialDate::parse("2000-02-29").is_ok());
        check_err("1900-02-29", "which has 28 days");
    }

    #[test]
    fn day_numbers_match_the_calendar() {
        assert_eq!(Day::from_ymd(1970, 1, 1).unwrap().number(), 0);
        assert_eq!(Day::from_ymd(2000, 3, 1).unwrap().number(), 11_017);
        assert_eq!(Day::from_ymd(1969, 12, 31).unwrap().number(), -1);
        assert_eq!(
            "2022-03-01".parse::<Day>().unwrap().to_string(),
            "2022-03-01"
        );
    }

    fn single_strategy() -> impl Strategy<Value = String> {
        let qualifier = prop_oneof![Just(""), Just("?"), Just("~"), Just("%")];
        let unit = prop_oneof![
            (0i32..=9999).prop_map(|y| format!("{y:04}")),
            (0i32..=9999, 1u32..=12).prop_map(|(y, m)| format!("{y:04}-{m:02}")),
            (0i32..=9999, 1u32..=12, 1u32..=31).prop_filter_map("real day", |(y, m, d)| {
                (d <= days_in_month(y, m)).then(|| format!("{y:04}-{m:02}-{d:02}"))
            }),
            (0i32..=9999, prop_oneof![21u32..=24, 33u32..=36, 40u32..=41])
                .prop_map(|(y, c)| format!("{y:04}-{c:02}")),
        ];
        (unit, qualifier).prop_map(|(u, q)| format!("{u}{q}"))
    }

    fn date_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => single_strategy(),
            1 => (single_strategy(), single_strategy()).prop_filter_map("ordered", |(a, b)| {
                let s = format!("[{a}..{b}]");
                PartialDate::parse(&s).ok().map(|_| s)
            }),
            1 => single_strategy().prop_map(|a| format!("[{a}..]")),
            1 => single_strategy().prop_map(|b| format!("[..{b}]")),
        ]
    }

    proptest! {
        #[test]
        fn format_of_parse_is_identity(text in date_strategy()) {
            let date = PartialDate::parse(&text).unwrap();
            prop_assert_eq!(date.to_string(), text);
        }

        #[test]
        fn parse_of_format_is_identity(text in date_strategy()) {
            let date = PartialDate::parse(&text).unwrap();
            prop_assert_eq!(PartialDate::parse(&date.to_string()).unwrap(), date);
        }

        #[test]
        fn earliest_is_never_after_latest(text in date_strategy()) {
            let i = PartialDate::parse(&text).unwrap().interval();
            prop_assert!(i.lo() <= i.hi());
        }

        #[test]
        fn day_numbers_round_trip(n in -719_528i32..2_932_896) {
            let (y, m, d) = Day::from_number(n).ymd();
            prop_assert_eq!(Day::from_ymd(y, m, d).unwrap().number(), n);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,24}") {
            let _ = PartialDate::parse(&text);
        }
    }
}
