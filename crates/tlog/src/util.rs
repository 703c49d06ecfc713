//! Small text helpers shared by the formats: strict base64, decimals and
//! hex key IDs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Standard base64 (RFC 4648 §4) with padding.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard padded base64, accepting only the canonical encoding
/// (correct padding, zero trailing bits), so every byte string has exactly
/// one accepted text form.
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

/// Parses an ASCII decimal with no sign and no leading zeroes (except `0`
/// itself) that fits in a `u64`.
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return None;
    }
    text.parse().ok()
}

/// Parses a key ID: exactly eight lowercase hex digits.
pub(crate) fn parse_key_id(text: &str) -> Option<u32> {
    let bytes = text.as_bytes();
    if bytes.len() != 8 || !bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_strict() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("10"), Some(10));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1_0",
            "18446744073709551616",
            "١",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn key_ids_are_eight_lowercase_hex_digits() {
        assert_eq!(parse_key_id("c74f20a3"), Some(0xc74f20a3));
        assert_eq!(parse_key_id("00000000"), Some(0));
        for bad in [
            "C74F20A3",
            "c74f20a",
            "c74f20a30",
            "+74f20a3",
            "c74f20g3",
            "",
        ] {
            assert_eq!(parse_key_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn base64_is_canonical() {
        assert_eq!(b64_decode("AA=="), Some(vec![0]));
        assert_eq!(b64_decode("AB=="), None, "non-zero trailing bits");
        assert_eq!(b64_decode("AA"), None, "missing padding");
        assert_eq!(b64_decode("AA==="), None);
        assert_eq!(b64_decode("A A="), None);
        assert_eq!(b64_decode(""), Some(vec![]));
    }
}
