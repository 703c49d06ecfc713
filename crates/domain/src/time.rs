//! Record time: when the registry learned a fact.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::date::Day;

/// An instant in UTC with microsecond resolution, counted from the Unix
/// epoch.
///
/// It prints as RFC 3339 in UTC with exactly six fraction digits
/// (`2026-11-23T09:15:19.123456Z`); that text is part of every stored
/// record and so of its hash, and never changes form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Timestamp {
    /// The earliest representable instant.
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    /// The latest representable instant.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// The instant this many microseconds after the epoch.
    pub const fn from_micros(micros: i64) -> Timestamp {
        Timestamp(micros)
    }

    /// Microseconds since the epoch.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// The instant of a system clock reading (clamped to the epoch).
    pub fn from_system_time(t: SystemTime) -> Timestamp {
        let micros = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros().min(i64::MAX as u128) as i64)
            .unwrap_or(0);
        Timestamp(micros)
    }

    /// The UTC day this instant falls on.
    pub fn day(self) -> Day {
        Day::from_number(self.0.div_euclid(MICROS_PER_DAY) as i32)
    }

    /// The first instant of a UTC day.
    pub fn start_of(day: Day) -> Timestamp {
        Timestamp(i64::from(day.number()) * MICROS_PER_DAY)
    }

    /// Parses RFC 3339 with any offset (`2024-05-01T12:00:00+02:00`) and
    /// converts it to UTC. Sub-microsecond digits are truncated.
    ///
    /// Every instant from year 1 to the end of year 9999 is accepted, the
    /// last day included (jiff's own instants stop a day short of it, to
    /// leave room for offsets; those are computed here instead).
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        let parsed = Timestamp::parse_any(text)?;
        if parsed < Timestamp::FIRST_PRINTABLE || parsed > Timestamp::LAST_PRINTABLE {
            return Err(TimestampError {
                input: text.to_owned(),
                reason: "it lies outside the years 1 to 9999, which RFC 3339 can print".to_owned(),
            });
        }
        Ok(parsed)
    }

    /// The first instant [`Timestamp::parse`] takes: 0001-01-01T00:00:00Z.
    pub const FIRST_PRINTABLE: Timestamp = Timestamp(-62_135_596_800_000_000);
    /// The last instant [`Timestamp::parse`] takes: 9999-12-31T23:59:59.999999Z.
    pub const LAST_PRINTABLE: Timestamp = Timestamp(253_402_300_799_999_999);

    /// A record time asked about (`as_known_at`): any RFC 3339 instant,
    /// one outside the years 1 to 9999 taken as the nearest instant inside
    /// them (every record lies inside, so the answer is the same).
    pub fn parse_clamped(text: &str) -> Result<Timestamp, TimestampError> {
        Ok(
            Timestamp::parse_any(text)?
                .clamp(Timestamp::FIRST_PRINTABLE, Timestamp::LAST_PRINTABLE),
        )
    }

    /// A record time asked about as a person writes it: an RFC 3339
    /// instant (see [`Timestamp::parse_clamped`]), or a date (`2026-01-01`,
    /// `2026-01`, `2026`), meaning the end of its last day, UTC: everything
    /// recorded on or before that day.
    pub fn parse_known_at(text: &str) -> Result<Timestamp, TimestampError> {
        if let Ok(t) = Timestamp::parse_clamped(text) {
            return Ok(t);
        }
        let date = crate::PartialDate::parse(text).map_err(|e| TimestampError {
            input: text.to_owned(),
            reason: format!(
                "expected an RFC 3339 instant (2026-01-01T12:00:00Z) or a date (2026-01-01, \
                 meaning the end of that day, UTC): {e}"
            ),
        })?;
        let last = date.interval().latest().ok_or_else(|| TimestampError {
            input: text.to_owned(),
            reason: "a record time cannot be open at its end".to_owned(),
        })?;
        let end = Timestamp(Timestamp::start_of(last.succ()).0 - 1);
        Ok(end.clamp(Timestamp::FIRST_PRINTABLE, Timestamp::LAST_PRINTABLE))
    }

    fn parse_any(text: &str) -> Result<Timestamp, TimestampError> {
        let parsed = match jiff::Timestamp::from_str(text) {
            // Digits below a microsecond are dropped toward the past,
            // before 1970 as after (so the instant stays on its day).
            Ok(ts) => Timestamp(
                i64::try_from(ts.as_nanosecond().div_euclid(1000))
                    .expect("jiff's range fits in i64 microseconds"),
            ),
            Err(e) => Timestamp::from_pieces(text).ok_or_else(|| TimestampError {
                input: text.to_owned(),
                reason: e.to_string(),
            })?,
        };
        Ok(parsed)
    }

    /// An RFC 3339 instant at the edges of jiff's range, from its parts:
    /// a date, a time and an offset (`Z` or numeric), all required.
    fn from_pieces(text: &str) -> Option<Timestamp> {
        use jiff::fmt::temporal::{Pieces, PiecesOffset};
        let pieces = Pieces::parse(text).ok()?;
        let time = pieces.time()?;
        let offset_seconds = match pieces.offset()? {
            PiecesOffset::Zulu => 0,
            PiecesOffset::Numeric(n) => i64::from(n.offset().seconds()),
            _ => return None,
        };
        if pieces.time_zone_annotation().is_some() {
            return None;
        }
        let date = pieces.date();
        let day = Day::from_ymd(
            i32::from(date.year()),
            u32::try_from(date.month()).ok()?,
            u32::try_from(date.day()).ok()?,
        )
        .ok()?;
        let seconds = i64::from(time.hour()) * 3600
            + i64::from(time.minute()) * 60
            + i64::from(time.second())
            - offset_seconds;
        let micros = i64::from(day.number()) * MICROS_PER_DAY
            + seconds * 1_000_000
            + i64::from(time.subsec_nanosecond()) / 1000;
        Some(Timestamp(micros))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = self.day();
        let rem = self.0.rem_euclid(MICROS_PER_DAY);
        let secs = rem / 1_000_000;
        let micros = rem % 1_000_000;
        write!(
            f,
            "{day}T{:02}:{:02}:{:02}.{micros:06}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Timestamp, TimestampError> {
        Timestamp::parse(s)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A record time that is not RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {input:?}: {reason} (expected RFC 3339, e.g. 2024-05-01T12:00:00Z)")]
pub struct TimestampError {
    input: String,
    reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_time_may_be_a_date_meaning_the_end_of_its_last_day() {
        let at = |s: &str| Timestamp::parse_known_at(s).map(|t| t.to_string());
        assert_eq!(at("2026-01-01").unwrap(), "2026-01-01T23:59:59.999999Z");
        assert_eq!(at("2026-02").unwrap(), "2026-02-28T23:59:59.999999Z");
        assert_eq!(at("2025").unwrap(), "2025-12-31T23:59:59.999999Z");
        assert_eq!(
            at("2026-01-01T10:00:00+01:00").unwrap(),
            "2026-01-01T09:00:00.000000Z"
        );
        assert!(at("[2020..]").is_err());
        assert!(
            at("yesterday")
                .unwrap_err()
                .to_string()
                .contains("or a date")
        );
    }

    #[test]
    fn prints_utc_with_six_digits() {
        let t = Timestamp::parse("2024-05-01T12:00:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2024-05-01T10:00:00.000000Z");
        let t = Timestamp::parse("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.500000Z");
        assert_eq!(t.day().to_string(), "1969-12-31");
    }

    #[test]
    fn round_trips() {
        for text in ["2026-11-23T09:15:19.123456Z", "2001-01-01T00:00:00.000000Z"] {
            assert_eq!(Timestamp::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn the_whole_range_of_years_parses() {
        let t = Timestamp::parse("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(t.to_string(), "9999-12-31T23:59:59.000000Z");
        let t = Timestamp::parse("9999-12-31T23:59:59.25+01:00").unwrap();
        assert_eq!(t.to_string(), "9999-12-31T22:59:59.250000Z");
        let t = Timestamp::parse("0001-01-01T00:00:00Z").unwrap();
        assert_eq!(t.to_string(), "0001-01-01T00:00:00.000000Z");
        assert!(Timestamp::parse("9999-12-31").is_err());
        assert!(Timestamp::parse("9999-12-31T23:59:59").is_err());
        assert!(Timestamp::parse("9999-12-31T23:59:59Z[Europe/Prague]").is_err());
    }

    #[test]
    fn the_printable_range_and_clamping() {
        let first = Day::from_ymd(1, 1, 1).unwrap();
        assert_eq!(Timestamp::FIRST_PRINTABLE, Timestamp::start_of(first));
        let after = Day::from_ymd(9999, 12, 31).unwrap().succ();
        assert_eq!(
            Timestamp::LAST_PRINTABLE,
            Timestamp::from_micros(Timestamp::start_of(after).micros() - 1)
        );
        let text = "0001-01-01T02:16:51.853591+22:34";
        assert!(Timestamp::parse(text).is_err());
        assert_eq!(
            Timestamp::parse_clamped(text).unwrap(),
            Timestamp::FIRST_PRINTABLE
        );
        assert_eq!(
            Timestamp::parse_clamped("9999-12-31T23:59:59-23:59").unwrap(),
            Timestamp::LAST_PRINTABLE
        );
        assert!(Timestamp::parse_clamped("yesterday").is_err());
    }

    #[test]
    fn refuses_dates_without_time() {
        let err = Timestamp::parse("2024-05-01").unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
    }
}
