//! RFC 9162 Merkle tree hashing with SHA-256.
//!
//! [RFC 9162 §2.1.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1.1)
//! (unchanged from [RFC 6962 §2.1](https://www.rfc-editor.org/rfc/rfc6962.html#section-2.1))
//! defines the Merkle Tree Hash of a list of leaves:
//!
//! - the empty list hashes to `SHA-256("")` ([`empty_root`]);
//! - a leaf hashes to `SHA-256(0x00 || data)` ([`leaf_hash`]);
//! - an interior node hashes to `SHA-256(0x01 || left || right)`
//!   ([`node_hash`]), where the left subtree holds the largest power of two
//!   of leaves smaller than the node's leaf count.
//!
//! The two prefixes keep a leaf from ever hashing like an interior node.

use std::fmt;

use sha2::{Digest as _, Sha256};

use crate::Error;
use crate::util::{b64_decode, b64_encode};

/// The size of a [`Hash`](struct@Hash) in bytes.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash of a leaf, an interior node or a tree root.
///
/// `Display` writes it as 64 lowercase hex digits; checkpoints and proofs
/// carry it in base64 ([`Hash::to_base64`], [`Hash::from_base64`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_SIZE]);

impl Hash {
    /// The hash's bytes.
    pub const fn as_bytes(&self) -> &[u8; HASH_SIZE] {
        &self.0
    }

    /// The standard base64 encoding (44 characters, with padding).
    pub fn to_base64(&self) -> String {
        b64_encode(&self.0)
    }

    /// Parses the canonical standard base64 encoding of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let bytes = b64_decode(text).ok_or(Error::MalformedHash)?;
        Ok(Self(bytes.try_into().map_err(|_| Error::MalformedHash)?))
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let bytes = text.as_bytes();
        if bytes.len() != 2 * HASH_SIZE {
            return Err(Error::MalformedHash);
        }
        let mut out = [0u8; HASH_SIZE];
        for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let digit = |c: u8| match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                b'A'..=b'F' => Ok(c - b'A' + 10),
                _ => Err(Error::MalformedHash),
            };
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Ok(Self(out))
    }
}

impl From<[u8; HASH_SIZE]> for Hash {
    fn from(bytes: [u8; HASH_SIZE]) -> Self {
        Self(bytes)
    }
}

impl From<Hash> for [u8; HASH_SIZE] {
    fn from(hash: Hash) -> Self {
        hash.0
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// The hash of a leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    Hash(hasher.finalize().into())
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: Hash, right: Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * HASH_SIZE];
    buf[0] = 0x01;
    buf[1..1 + HASH_SIZE].copy_from_slice(&left.0);
    buf[1 + HASH_SIZE..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

/// The root hash of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest(b"").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            empty_root().to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn leaf_and_node_prefixes() {
        // RFC 6962 test vectors: the leaf hash of the empty string, and
        // the root of the two-leaf tree ("", "\x00").
        assert_eq!(
            leaf_hash(b"").to_string(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            node_hash(leaf_hash(b""), leaf_hash(b"\x00")).to_string(),
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
        );
    }

    #[test]
    fn text_forms_round_trip() {
        let h = leaf_hash(b"pacta");
        assert_eq!(Hash::from_base64(&h.to_base64()).unwrap(), h);
        assert_eq!(Hash::from_hex(&h.to_string()).unwrap(), h);
        assert_eq!(Hash::from_hex(&h.to_string().to_uppercase()).unwrap(), h);
        assert_eq!(h.to_base64().len(), 44);
        assert_eq!(format!("{h:?}"), format!("Hash({h})"));
    }

    #[test]
    fn malformed_text_forms() {
        let h = leaf_hash(b"pacta");
        let b64 = h.to_base64();
        // 31 and 33 bytes.
        assert!(Hash::from_base64(&b64_encode(&[0; 31])).is_err());
        assert!(Hash::from_base64(&b64_encode(&[0; 33])).is_err());
        // Missing padding, non-canonical trailing bits, stray characters.
        assert!(Hash::from_base64(b64.trim_end_matches('=')).is_err());
        // The last character before the padding carries two unused bits,
        // which must be zero: "…AB=" decodes to the same bytes as "…AA=".
        let zero = Hash([0; HASH_SIZE]).to_base64();
        assert!(zero.ends_with("AA="));
        assert!(Hash::from_base64(&format!("{}B=", &zero[..42])).is_err());
        assert!(Hash::from_base64(&format!(" {b64}")).is_err());
        assert!(Hash::from_hex(&h.to_string()[1..]).is_err());
        assert!(Hash::from_hex(&format!("{}g", &h.to_string()[1..])).is_err());
        assert!(Hash::from_hex(&format!("+{}", &h.to_string()[1..])).is_err());
    }
}
