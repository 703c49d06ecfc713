//! The record: an event with the envelope the store gives it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::date::PartialDate;
use crate::event::{Event, EventType, Source, event_from_parts};
use crate::id::{EventId, StreamId};
use crate::time::Timestamp;

/// The record format's version. A record carries it so that a later
/// format can upcast old records; this is the only version so far.
pub const RECORD_SCHEMA: u32 = 1;

/// A SHA-256 digest, printed as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest that precedes the first record: 32 zero bytes.
    pub const ZERO: Digest = Digest([0; 32]);

    /// Parses 64 hex digits (either case).
    pub fn parse(text: &str) -> Result<Digest, String> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(format!(
                "a hash is 64 hex digits, got {} characters",
                bytes.len()
            ));
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hex = |b: u8| match b {
                b'0'..=b'9' => Ok(b - b'0'),
                b'a'..=b'f' => Ok(b - b'a' + 10),
                b'A'..=b'F' => Ok(b - b'A' + 10),
                _ => Err(format!("{:?} is not a hex digit", b as char)),
            };
            out[i] = hex(pair[0])? << 4 | hex(pair[1])?;
        }
        Ok(Digest(out))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Who and when: the part of a record the store assigns.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Envelope {
    /// Position in the global log, from 1 without gaps.
    pub position: u64,
    /// The event's id.
    pub event_id: EventId,
    /// The stream it belongs to.
    pub stream: StreamId,
    /// Its version within the stream, from 1 without gaps.
    pub version: u64,
    /// When the registry learned it (UTC).
    pub recorded_at: Timestamp,
    /// The authenticated actor who recorded it (a token's name, `seed`).
    pub recorded_by: String,
}

/// One stored event: envelope, event and place in the hash chain.
///
/// On the wire (export, HTTP) a record is one flat JSON object:
/// `schema`, `position`, `event_id`, `stream`, `version`, `recorded_at`,
/// `recorded_by`, `type`, `date`, `data`, `source`, `note`, `prev_hash`,
/// `hash`. Which bytes the hash covers is the store's business
/// (`docs/hash-chain.md`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Recorded {
    /// Who, when, where in the log.
    pub envelope: Envelope,
    /// What happened.
    pub event: Event,
    /// The hash of the previous record ([`Digest::ZERO`] for position 1).
    pub prev_hash: Digest,
    /// This record's hash.
    pub hash: Digest,
}

impl Recorded {
    /// The record without its two hashes: exactly what the hash chain
    /// covers.
    pub fn unhashed(&self) -> Unhashed<'_> {
        Unhashed {
            envelope: &self.envelope,
            event: &self.event,
        }
    }
}

/// A record's fields without `prev_hash` and `hash`.
pub struct Unhashed<'a> {
    /// The envelope.
    pub envelope: &'a Envelope,
    /// The event.
    pub event: &'a Event,
}

impl Serialize for Unhashed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        serialize_unhashed(self.envelope, self.event, &mut map)?;
        map.end()
    }
}

fn serialize_unhashed<M: serde::ser::SerializeMap>(
    e: &Envelope,
    event: &Event,
    map: &mut M,
) -> Result<(), M::Error> {
    map.serialize_entry("schema", &RECORD_SCHEMA)?;
    map.serialize_entry("position", &e.position)?;
    map.serialize_entry("event_id", &e.event_id)?;
    map.serialize_entry("stream", &e.stream)?;
    map.serialize_entry("version", &e.version)?;
    map.serialize_entry("recorded_at", &e.recorded_at)?;
    map.serialize_entry("recorded_by", &e.recorded_by)?;
    event.serialize_fields(map)
}

impl Serialize for Recorded {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        serialize_unhashed(&self.envelope, &self.event, &mut map)?;
        map.serialize_entry("prev_hash", &self.prev_hash)?;
        map.serialize_entry("hash", &self.hash)?;
        map.end()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    schema: u32,
    position: u64,
    event_id: EventId,
    stream: StreamId,
    version: u64,
    recorded_at: Timestamp,
    recorded_by: String,
    #[serde(rename = "type")]
    ty: EventType,
    #[serde(default)]
    date: Option<PartialDate>,
    #[serde(default)]
    data: Option<Box<RawValue>>,
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    prev_hash: Option<Digest>,
    #[serde(default)]
    hash: Option<Digest>,
}

impl RawRecord {
    fn into_parts(self) -> Result<(Envelope, Event, Option<Digest>, Option<Digest>), String> {
        if self.schema != RECORD_SCHEMA {
            return Err(format!(
                "record schema {} is not supported (this version reads schema {RECORD_SCHEMA})",
                self.schema
            ));
        }
        let event = event_from_parts(
            self.ty,
            self.date,
            self.data.as_deref(),
            self.source,
            self.note,
        )?;
        let envelope = Envelope {
            position: self.position,
            event_id: self.event_id,
            stream: self.stream,
            version: self.version,
            recorded_at: self.recorded_at,
            recorded_by: self.recorded_by,
        };
        Ok((envelope, event, self.prev_hash, self.hash))
    }
}

impl<'de> Deserialize<'de> for Recorded {
    /// Reads the wire form; both hashes are required.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Recorded, D::Error> {
        use serde::de::Error;
        let (envelope, event, prev_hash, hash) = RawRecord::deserialize(d)?
            .into_parts()
            .map_err(D::Error::custom)?;
        Ok(Recorded {
            envelope,
            event,
            prev_hash: prev_hash.ok_or_else(|| D::Error::missing_field("prev_hash"))?,
            hash: hash.ok_or_else(|| D::Error::missing_field("hash"))?,
        })
    }
}

/// Decodes the unhashed JSON form of a record (what the store keeps beside
/// the hashes).
pub fn decode_unhashed(json: &[u8]) -> Result<(Envelope, Event), serde_json::Error> {
    decode_unhashed_if(json, &|_| true).map(|decoded| decoded.expect("every type is wanted"))
}

/// [`decode_unhashed`] for a record of a type `wanted` accepts; `None`
/// for another, whose data is then never decoded.
pub fn decode_unhashed_if(
    json: &[u8],
    wanted: &dyn Fn(EventType) -> bool,
) -> Result<Option<(Envelope, Event)>, serde_json::Error> {
    use serde::de::Error;
    let raw: RawRecord = serde_json::from_slice(json)?;
    if !wanted(raw.ty) {
        return Ok(None);
    }
    if raw.hash.is_some() || raw.prev_hash.is_some() {
        return Err(serde_json::Error::custom(
            "unexpected hash fields in an unhashed record",
        ));
    }
    let (envelope, event, _, _) = raw.into_parts().map_err(serde_json::Error::custom)?;
    Ok(Some((envelope, event)))
}
