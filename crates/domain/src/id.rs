//! Identifiers, parsed once at the boundary.

use std::fmt;
use std::str::FromStr;

/// A lowercase ASCII slug: `[a-z0-9]` runs joined by `-`, 1–96 bytes, not
/// starting or ending with `-`. Cloning is cheap (a shared string). A double dash is allowed so that a
/// partnership id can join two party ids (`liberecky-kraj--orenburg-oblast`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(std::sync::Arc<str>);

/// The longest slug accepted, in bytes.
pub const MAX_SLUG_LEN: usize = 96;

impl Slug {
    /// Parses a slug, saying what is wrong with a bad one.
    pub fn parse(text: &str) -> Result<Slug, IdError> {
        let bad = |reason: &str| IdError {
            input: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(bad("an id cannot be empty"));
        }
        if text.len() > MAX_SLUG_LEN {
            return Err(bad("an id is at most 96 characters"));
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad(
                "an id uses only lowercase ASCII letters, digits and '-'",
            ));
        }
        if text.starts_with('-') || text.ends_with('-') {
            return Err(bad("an id cannot start or end with '-'"));
        }
        if text.contains("---") {
            return Err(bad("an id has at most two '-' in a row"));
        }
        Ok(Slug(text.into()))
    }

    /// The slug's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Hash, equality and order of a slug are those of its text, so maps keyed
/// by slugs can be searched with a `&str`.
impl std::borrow::Borrow<str> for Slug {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl FromStr for Slug {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Slug, IdError> {
        Slug::parse(s)
    }
}

impl serde::Serialize for Slug {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Slug, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Slug::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The id of a party (a region, town, …), e.g. `plzensky-kraj`.
pub type PartyId = Slug;
/// The id of a partnership stream, e.g. `liberecky-kraj--orenburg-oblast`.
pub type PartnershipId = Slug;
/// The id of an offer stream, e.g. `chuhuiv-2010-06-24`.
pub type OfferId = Slug;

/// What a stream holds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum StreamKind {
    /// One party's registration and amendments.
    Party,
    /// One partnership's lifecycle.
    Partnership,
    /// One offer's lifecycle.
    Offer,
}

impl StreamKind {
    /// The wire prefix: `party`, `partnership` or `offer`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Party => "party",
            StreamKind::Partnership => "partnership",
            StreamKind::Offer => "offer",
        }
    }
}

/// A stream: its kind and the id of what it describes. On the wire it is
/// `kind/id`, e.g. `partnership/liberecky-kraj--orenburg-oblast`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// What the stream holds.
    pub kind: StreamKind,
    /// The party, partnership or offer id.
    pub id: Slug,
}

impl StreamId {
    /// The stream of a party.
    pub fn party(id: PartyId) -> StreamId {
        StreamId {
            kind: StreamKind::Party,
            id,
        }
    }

    /// The stream of a partnership.
    pub fn partnership(id: PartnershipId) -> StreamId {
        StreamId {
            kind: StreamKind::Partnership,
            id,
        }
    }

    /// The stream of an offer.
    pub fn offer(id: OfferId) -> StreamId {
        StreamId {
            kind: StreamKind::Offer,
            id,
        }
    }

    /// Parses `kind/id`.
    pub fn parse(text: &str) -> Result<StreamId, IdError> {
        let (kind, id) = text.split_once('/').ok_or_else(|| IdError {
            input: text.to_owned(),
            reason: "a stream id is kind/id, e.g. partnership/plzensky-kraj--bergamo".to_owned(),
        })?;
        let kind = match kind {
            "party" => StreamKind::Party,
            "partnership" => StreamKind::Partnership,
            "offer" => StreamKind::Offer,
            _ => {
                return Err(IdError {
                    input: text.to_owned(),
                    reason: "the stream kind is party, partnership or offer".to_owned(),
                });
            }
        };
        Ok(StreamId {
            kind,
            id: Slug::parse(id)?,
        })
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.id)
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({self})")
    }
}

impl FromStr for StreamId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<StreamId, IdError> {
        StreamId::parse(s)
    }
}

impl serde::Serialize for StreamId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for StreamId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StreamId, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        StreamId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The id of one event: a ULID, unique across the whole log. A client may
/// choose it to make a retried append idempotent.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(ulid::Ulid);

impl EventId {
    /// Wraps a ULID.
    pub const fn from_ulid(ulid: ulid::Ulid) -> EventId {
        EventId(ulid)
    }

    /// The 16 bytes of the ULID (big-endian; sorts like the text form).
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_bytes()
    }

    /// The id of 16 ULID bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> EventId {
        EventId(ulid::Ulid::from_bytes(bytes))
    }

    /// Parses the 26-character Crockford base32 form.
    pub fn parse(text: &str) -> Result<EventId, IdError> {
        if text.len() != ulid::ULID_LEN {
            return Err(IdError {
                input: text.to_owned(),
                reason: "an event id is a ULID of 26 characters".to_owned(),
            });
        }
        let id = ulid::Ulid::from_string(text)
            .map(EventId)
            .map_err(|e| IdError {
                input: text.to_owned(),
                reason: format!("not a ULID: {e}"),
            })?;
        // 26 base32 digits hold 130 bits; a ULID has 128, so its first
        // digit is 0–7. Larger spellings would wrap around onto another
        // id; anything that does not spell the id back is refused.
        if !id.to_string().eq_ignore_ascii_case(text) {
            return Err(IdError {
                input: text.to_owned(),
                reason: format!(
                    "not a ULID: out of range (a ULID starts with 0–7; this one would be read as {id})"
                ),
            });
        }
        Ok(id)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; ulid::ULID_LEN];
        f.write_str(self.0.array_to_str(&mut buf))
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

impl FromStr for EventId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<EventId, IdError> {
        EventId::parse(s)
    }
}

impl serde::Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for EventId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<EventId, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        EventId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An id that does not parse, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid id {input:?}: {reason}")]
pub struct IdError {
    input: String,
    reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in [
            "plzensky-kraj",
            "liberecky-kraj--orenburg-oblast",
            "a",
            "x1",
        ] {
            assert_eq!(Slug::parse(ok).unwrap().as_str(), ok);
        }
        for (bad, why) in [
            ("", "empty"),
            ("Plzen", "lowercase"),
            ("-a", "start or end"),
            ("a-", "start or end"),
            ("a---b", "two '-'"),
            ("čuhujiv", "lowercase ASCII"),
        ] {
            let err = Slug::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn stream_ids_round_trip() {
        let s = StreamId::parse("partnership/liberecky-kraj--bursa").unwrap();
        assert_eq!(s.kind, StreamKind::Partnership);
        assert_eq!(s.to_string(), "partnership/liberecky-kraj--bursa");
        assert!(StreamId::parse("thing/x").is_err());
        assert!(StreamId::parse("party").is_err());
    }

    #[test]
    fn event_ids_round_trip() {
        let text = "01HZY3M7P0QK4W9V1X2C3D4E5F";
        let id = EventId::parse(text).unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(EventId::from_bytes(id.to_bytes()), id);
        assert!(EventId::parse("short").is_err());
        // Lower case is the same id.
        assert_eq!(EventId::parse(&text.to_ascii_lowercase()).unwrap(), id);
    }

    #[test]
    fn event_ids_beyond_128_bits_are_refused_not_wrapped() {
        let max = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ";
        assert_eq!(EventId::parse(max).unwrap().to_string(), max);
        for over in [
            "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",
            "80000000000000000000000000",
            "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        ] {
            let err = EventId::parse(over).unwrap_err();
            assert!(err.to_string().contains("out of range"), "{over}: {err}");
        }
    }
}
