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

use pacta_domain::{Digest, Recorded};
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
