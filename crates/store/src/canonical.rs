//! The bytes the hash chain covers, defined once.
//!
//! `canonical_bytes(record)` is the record's JSON without `prev_hash` and
//! `hash`, written as RFC 8785 (JSON Canonicalization Scheme) for the
//! values Pacta stores: object members sorted by their names' UTF-16 code
//! units, no whitespace, strings escaped as ECMAScript's `JSON.stringify`
//! does (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters
//! as `\u00xx`, everything else as UTF-8), and numbers only as integers
//! (records hold no fractions). Then
//!
//! `hash_n = SHA-256(hash_{n-1} || canonical_bytes(record_n))`,
//!
//! with `hash_0` = 32 zero bytes and `||` concatenation of the raw 32
//! digest bytes and the canonical bytes. `docs/hash-chain.md` shows how to
//! check an export with other tools. Changing anything here breaks every
//! stored chain: don't.

use pacta_domain::{Digest, Envelope, Event, RECORD_SCHEMA, Recorded};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Why a value has no canonical form.
#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    /// The value holds a number with a fraction or out of the integer range.
    #[error("record holds a non-integer number {0}, which has no canonical form here")]
    NotAnInteger(String),
    /// The record did not serialize.
    #[error("record does not serialize: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// The canonical bytes of a record: its unhashed JSON in canonical form.
pub fn canonical_bytes(record: &Recorded) -> Result<Vec<u8>, CanonicalError> {
    let value = serde_json::to_value(record.unhashed())?;
    let mut out = Vec::with_capacity(512);
    write_canonical(&value, &mut out)?;
    Ok(out)
}

/// An event's members (`type`, `date`, `data`, `source`, `note`) in
/// canonical form, prepared before the writer assigns the envelope, so
/// that the single writer only merges in a few short envelope members.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CanonicalEvent {
    /// Member names and canonical values, sorted by name.
    members: Vec<(String, Vec<u8>)>,
}

impl CanonicalEvent {
    /// Serializes the event's members.
    pub fn new(event: &Event) -> Result<CanonicalEvent, CanonicalError> {
        let Value::Object(map) = serde_json::to_value(event)? else {
            unreachable!("an event serializes as a JSON object");
        };
        let mut members = Vec::with_capacity(map.len());
        for (k, v) in map {
            let mut bytes = Vec::with_capacity(64);
            write_canonical(&v, &mut bytes)?;
            members.push((k, bytes));
        }
        members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
        Ok(CanonicalEvent { members })
    }

    /// The bytes of the event's members (names and values), without the
    /// envelope's.
    pub fn len(&self) -> usize {
        self.members
            .iter()
            .map(|(k, v)| k.len() + 4 + v.len())
            .sum()
    }

    /// Whether the event has no members (it always has `type`).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The canonical bytes of the record made of `envelope` and this
    /// event: equal to [`canonical_bytes`] of that record.
    pub fn with_envelope(&self, envelope: &Envelope) -> Vec<u8> {
        let mut strings: [(&str, Vec<u8>); 4] = [
            ("event_id", Vec::new()),
            ("recorded_at", Vec::new()),
            ("recorded_by", Vec::new()),
            ("stream", Vec::new()),
        ];
        write_string(&envelope.event_id.to_string(), &mut strings[0].1);
        write_string(&envelope.recorded_at.to_string(), &mut strings[1].1);
        write_string(&envelope.recorded_by, &mut strings[2].1);
        write_string(&envelope.stream.to_string(), &mut strings[3].1);
        let mut env: Vec<(&str, Vec<u8>)> = vec![
            ("position", envelope.position.to_string().into_bytes()),
            ("schema", RECORD_SCHEMA.to_string().into_bytes()),
            ("version", envelope.version.to_string().into_bytes()),
        ];
        env.extend(strings);
        // All envelope names are ASCII: byte order is UTF-16 order.
        env.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = Vec::with_capacity(
            64 + self
                .members
                .iter()
                .map(|m| m.0.len() + m.1.len() + 4)
                .sum::<usize>(),
        );
        out.push(b'{');
        let (mut i, mut j) = (0, 0);
        let mut first = true;
        while i < env.len() || j < self.members.len() {
            let take_env = j == self.members.len()
                || (i < env.len() && env[i].0.encode_utf16().lt(self.members[j].0.encode_utf16()));
            let (name, value) = if take_env {
                i += 1;
                (env[i - 1].0, env[i - 1].1.as_slice())
            } else {
                j += 1;
                (
                    self.members[j - 1].0.as_str(),
                    self.members[j - 1].1.as_slice(),
                )
            };
            if !first {
                out.push(b',');
            }
            first = false;
            write_string(name, &mut out);
            out.push(b':');
            out.extend_from_slice(value);
        }
        out.push(b'}');
        out
    }
}

/// `SHA-256(prev || canonical)`.
pub fn chain_hash(prev: &Digest, canonical: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update(prev.0);
    h.update(canonical);
    Digest(h.finalize().into())
}

/// Writes a JSON value in canonical form.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                return Err(CanonicalError::NotAnInteger(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            // RFC 8785 §3.2.3: sort by UTF-16 code units. For the ASCII
            // names Pacta uses this equals byte order; compare code units
            // anyway so that the rule holds for any name.
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: Value) -> String {
        let mut out = Vec::new();
        write_canonical(&v, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sorted_compact_escaped() {
        assert_eq!(
            canon(json!({"b": 1, "a": [true, null, "x"], "é": "\u{1}\n\"č"})),
            "{\"a\":[true,null,\"x\"],\"b\":1,\"é\":\"\\u0001\\n\\\"č\"}"
        );
        assert!(write_canonical(&json!(1.5), &mut Vec::new()).is_err());
    }

    #[test]
    fn utf16_order_differs_from_code_point_order() {
        // U+FF61 sorts before U+1F600 by code point but after it in UTF-16,
        // where U+1F600 begins with the surrogate 0xD83D.
        assert_eq!(
            canon(json!({"\u{1F600}": 1, "\u{FF61}": 2})),
            "{\"\u{1F600}\":1,\"\u{FF61}\":2}"
        );
    }

    #[test]
    fn prepared_events_give_the_same_bytes() {
        use pacta_domain::event::{Contact, Terminated};
        use pacta_domain::{EventId, Payload, Source, StreamId, Timestamp};
        let events = [
            Event::new(Payload::ContactEstablished(Contact::default())),
            Event {
                payload: Payload::Terminated(Terminated {
                    mode: pacta_domain::TerminationMode::Denounced,
                    reason: "invasion \"of\" Ukraine\n\u{1}".into(),
                    effective: None,
                    decided_by: None,
                    resolution: Some("č. 1/22".into()),
                    notice: None,
                }),
                date: Some("2022-03-01".parse().unwrap()),
                source: Some(Source {
                    title: "Uzavřená dohoda".into(),
                    url: None,
                    reference: None,
                    locator: None,
                    date: None,
                }),
                note: Some("ž".into()),
            },
        ];
        for event in events {
            let record = Recorded {
                envelope: Envelope {
                    position: 42,
                    event_id: EventId::from_bytes([7; 16]),
                    stream: StreamId::parse("partnership/a--b").unwrap(),
                    version: 3,
                    recorded_at: Timestamp::from_micros(1_700_000_000_123_456),
                    recorded_by: "clerk \"x\"".into(),
                },
                event,
                prev_hash: Digest::ZERO,
                hash: Digest::ZERO,
            };
            let prepared = CanonicalEvent::new(&record.event).unwrap();
            assert_eq!(
                String::from_utf8(prepared.with_envelope(&record.envelope)).unwrap(),
                String::from_utf8(canonical_bytes(&record).unwrap()).unwrap()
            );
        }
    }

    #[test]
    fn chain_hash_is_sha256_of_prev_and_bytes() {
        // SHA-256 of 32 zero bytes followed by "abc".
        let h = chain_hash(&Digest::ZERO, b"abc");
        let mut h2 = Sha256::new();
        h2.update([0u8; 32]);
        h2.update(b"abc");
        assert_eq!(h.0, <[u8; 32]>::from(h2.finalize()));
        assert_ne!(h, chain_hash(&Digest::ZERO, b"abd"));
    }
}
