//! Signed notes ([c2sp.org/signed-note](https://c2sp.org/signed-note)),
//! with Ed25519 keys.
//!
//! A signed note is a text ending in a newline, a blank line, and one or
//! more signature lines:
//!
//! ```text
//! If you think cryptography is the answer to your problem,
//! then you don't know what your problem is.
//!
//! — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=
//! ```
//!
//! A signature line is an em dash (U+2014), a space, the key name, a
//! space, and the base64 of the 4-byte big-endian key ID followed by the
//! signature of the text (including its final newline). The text is
//! separated from the signatures by the last blank line, and the whole
//! note is UTF-8 with no control character other than newline.
//!
//! A key is named by its key name (non-empty, with no Unicode space and no
//! `+`) and its key ID, `SHA-256(name || 0x0A || signature type || public
//! key)[:4]` ([`key_id`]). This crate implements two signature types:
//!
//! - `0x01`, Ed25519 over the note text ([`Signer`]);
//! - `0x04`, the timestamped Ed25519 checkpoint cosignatures of
//!   [c2sp.org/tlog-cosignature](https://c2sp.org/tlog-cosignature)
//!   (signed with [`Cosigner`](crate::cosignature::Cosigner)).
//!
//! A [`Verifier`] of either type checks signatures in [`open`]. Keys are
//! written as text:
//!
//! - verifier keys (vkeys): `<name>+<hex key ID>+<base64(type || public key)>`
//!   ([`Verifier::to_vkey`]), e.g.
//!   `PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`;
//! - signer keys (skeys), in the form of Go's
//!   [`golang.org/x/mod/sumdb/note`](https://pkg.go.dev/golang.org/x/mod/sumdb/note):
//!   `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>`
//!   ([`Signer::to_skey`]).
//!
//! [`open`] follows the specification's rules: signatures by keys it was
//! not given are ignored (even when they share the name or the key ID of a
//! given key, but not both), a signature by a given key that does not
//! verify rejects the note, and so does a note with no signature by a
//! given key. It accepts at most [`MAX_SIGNATURES`] signature lines.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::Error;
use crate::util::{b64_decode, b64_encode, parse_key_id};

/// The most signature lines [`open`] accepts in one note (the
/// specification asks verifiers to accept at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The separator before every signature line: an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The signature types of the keys this crate handles, with their
/// signed-note type identifier bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureType {
    /// `0x01`: Ed25519 signatures over the note text.
    Ed25519,
    /// `0x04`: timestamped Ed25519 checkpoint cosignatures
    /// (`cosignature/v1`, see [`crate::cosignature`]).
    CosignatureV1,
}

impl SignatureType {
    /// The type identifier byte.
    pub const fn id(self) -> u8 {
        match self {
            Self::Ed25519 => 0x01,
            Self::CosignatureV1 => 0x04,
        }
    }

    /// The type with identifier byte `id`, if this crate implements it.
    pub const fn from_id(id: u8) -> Option<Self> {
        match id {
            0x01 => Some(Self::Ed25519),
            0x04 => Some(Self::CosignatureV1),
            _ => None,
        }
    }
}

/// The key ID of a key: the first four bytes, big-endian, of
/// `SHA-256(name || 0x0A || signature_type || public_key)`.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', signature_type]);
    hasher.update(public_key);
    let digest: [u8; 32] = hasher.finalize().into();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Whether `name` may name a key: non-empty, with no Unicode space, no
/// `+` and no control character.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || u32::from(c) < 0x20)
}

fn check_name(name: &str) -> Result<(), Error> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidKeyName)
    }
}

/// An Ed25519 signing key (signature type `0x01`) with its key name.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Signer {
    /// The signer named `name` whose Ed25519 private key is the 32-byte
    /// `seed` (RFC 8032).
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Self, Error> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id(
            name,
            SignatureType::Ed25519.id(),
            key.verifying_key().as_bytes(),
        );
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// A new signer named `name`, from 32 bytes that the caller takes from
    /// a cryptographically secure random source. They become the key's
    /// seed, so this is [`Signer::new`] under the name that says where
    /// the bytes must come from.
    pub fn generate(name: &str, random: [u8; 32]) -> Result<Self, Error> {
        Self::new(name, &random)
    }

    /// Parses a signer key `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ||
    /// seed)>`, checking that the key ID is the one of the derived public
    /// key.
    pub fn from_skey(skey: &str) -> Result<Self, Error> {
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(Error::MalformedKey("a signer key starts with PRIVATE+KEY+"))?;
        let (name, id, key) = split_key(rest)?;
        let (&key_type, seed) = key.split_first().ok_or(Error::MalformedKey("empty key"))?;
        if key_type != SignatureType::Ed25519.id() {
            return Err(Error::UnknownSignatureType(key_type));
        }
        let seed: &[u8; 32] = seed
            .try_into()
            .map_err(|_| Error::MalformedKey("an Ed25519 seed has 32 bytes"))?;
        let signer = Self::new(name, seed)?;
        if signer.key_id != id {
            return Err(Error::KeyIdMismatch {
                expected: signer.key_id,
                found: id,
            });
        }
        Ok(signer)
    }

    /// The signer key text, `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ||
    /// seed)>`. It holds the private key.
    pub fn to_skey(&self) -> String {
        let mut key = vec![SignatureType::Ed25519.id()];
        key.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            b64_encode(&key)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The verifier of this signer's signatures.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            signature_type: SignatureType::Ed25519,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line of this key for the note text `text`.
    fn signature(&self, text: &str) -> NoteSignature {
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        }
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// Splits `<name>+<key ID>+<base64 key>` and decodes the parts.
fn split_key(text: &str) -> Result<(&str, u32, Vec<u8>), Error> {
    // Names hold no '+', key IDs are hex; base64 may hold '+'.
    let (name, rest) = text
        .split_once('+')
        .ok_or(Error::MalformedKey("missing key ID"))?;
    let (id, key) = rest
        .split_once('+')
        .ok_or(Error::MalformedKey("missing key"))?;
    check_name(name)?;
    let id = parse_key_id(id).ok_or(Error::MalformedKey("a key ID is 8 lowercase hex digits"))?;
    let key = b64_decode(key).ok_or(Error::MalformedKey("key is not canonical base64"))?;
    Ok((name, id, key))
}

/// A public key that verifies note signatures: its name, key ID,
/// signature type and Ed25519 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    signature_type: SignatureType,
    key: VerifyingKey,
}

impl Verifier {
    /// The verifier named `name` of the given type with the 32-byte
    /// Ed25519 `public_key`.
    pub fn new(
        name: &str,
        signature_type: SignatureType,
        public_key: &[u8; 32],
    ) -> Result<Self, Error> {
        check_name(name)?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| Error::MalformedKey("not an Ed25519 public key"))?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, signature_type.id(), public_key),
            signature_type,
            key,
        })
    }

    /// Parses a verifier key `<name>+<key ID>+<base64(type || public
    /// key)>` of type `0x01` or `0x04`, checking its key ID.
    pub fn from_vkey(vkey: &str) -> Result<Self, Error> {
        let (name, id, key) = split_key(vkey)?;
        let (&key_type, public_key) = key.split_first().ok_or(Error::MalformedKey("empty key"))?;
        let signature_type =
            SignatureType::from_id(key_type).ok_or(Error::UnknownSignatureType(key_type))?;
        let public_key: &[u8; 32] = public_key
            .try_into()
            .map_err(|_| Error::MalformedKey("an Ed25519 public key has 32 bytes"))?;
        let verifier = Self::new(name, signature_type, public_key)?;
        if verifier.key_id != id {
            return Err(Error::KeyIdMismatch {
                expected: verifier.key_id,
                found: id,
            });
        }
        Ok(verifier)
    }

    /// The verifier key text, `<name>+<key ID>+<base64(type || public
    /// key)>`.
    pub fn to_vkey(&self) -> String {
        let mut key = vec![self.signature_type.id()];
        key.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, b64_encode(&key))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature type.
    pub fn signature_type(&self) -> SignatureType {
        self.signature_type
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether `signature` (the bytes after the key ID) is this key's
    /// signature of the note text `text`. Ed25519 signatures are checked
    /// strictly (RFC 8032 with canonical encodings and no small-order
    /// keys). For a cosignature key, `signature` is the 8-byte timestamp
    /// and the signature of the timestamped message (see
    /// [`crate::cosignature`]).
    pub fn verify(&self, text: &str, signature: &[u8]) -> bool {
        match self.signature_type {
            SignatureType::Ed25519 => self.verify_raw(text.as_bytes(), signature),
            SignatureType::CosignatureV1 => {
                let Some((timestamp, signature)) = crate::cosignature::split_signature(signature)
                else {
                    return false;
                };
                let Ok(message) = crate::cosignature::signed_message(text, timestamp) else {
                    return false;
                };
                self.verify_raw(message.as_bytes(), signature)
            }
        }
    }

    fn verify_raw(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::from_slice(signature)
            .is_ok_and(|signature| self.key.verify_strict(message, &signature).is_ok())
    }
}

/// One signature line of a note: the key name, the key ID and the
/// signature bytes after the key ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID.
    pub key_id: u32,
    /// The signature, without the key ID in front.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Parses a signature line, `— <name> <base64(key ID || signature)>`,
    /// with or without its final newline.
    pub fn from_line(line: &str) -> Result<Self, Error> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.contains('\n') {
            return Err(Error::MalformedNote("a signature line is one line"));
        }
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(Error::MalformedNote(
                "a signature line starts with an em dash and a space",
            ))?;
        let (name, encoded) = rest.split_once(' ').ok_or(Error::MalformedNote(
            "a signature line has a name and a signature",
        ))?;
        if !is_valid_key_name(name) {
            return Err(Error::MalformedNote("invalid key name in a signature line"));
        }
        let bytes =
            b64_decode(encoded).ok_or(Error::MalformedNote("a signature is canonical base64"))?;
        if bytes.len() < 5 {
            return Err(Error::MalformedNote(
                "a signature has a key ID and at least one byte",
            ));
        }
        let (id, signature) = bytes.split_at(4);
        Ok(Self {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: signature.to_vec(),
        })
    }

    /// The signature line, ending in a newline.
    pub fn to_line(&self) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, b64_encode(&bytes))
    }
}

/// A note whose signatures were checked by [`open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The note text, with its final newline.
    pub text: String,
    /// The signatures by the given keys, all verified, one per key, in
    /// note order.
    pub verified: Vec<NoteSignature>,
    /// The signatures by other keys, not checked, without repeats, in
    /// note order.
    pub unverified: Vec<NoteSignature>,
}

/// Checks that `text` can be the text of a note: it ends in a newline and
/// holds no control character other than newline.
fn check_text(text: &str) -> Result<(), Error> {
    if !text.ends_with('\n') {
        return Err(Error::MalformedNote("the text must end in a newline"));
    }
    if text.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(Error::MalformedNote("control character"));
    }
    Ok(())
}

/// Signs the note text `text` (which must end in a newline) with every
/// signer, returning the note: the text, a blank line and one signature
/// line per signer, in order. A signer given twice signs once.
pub fn sign(text: &str, signers: &[&Signer]) -> Result<String, Error> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(Error::MalformedNote("a note needs at least one signature"));
    }
    let mut note = String::with_capacity(text.len() + 1 + signers.len() * 110);
    note.push_str(text);
    note.push('\n');
    let mut signed: Vec<(&str, u32)> = Vec::with_capacity(signers.len());
    for signer in signers {
        if signed.contains(&(signer.name(), signer.key_id())) {
            continue;
        }
        signed.push((signer.name(), signer.key_id()));
        note.push_str(&signer.signature(text).to_line());
    }
    Ok(note)
}

/// Splits a note into its text and its signature lines, checking the
/// note's form but no signature.
pub(crate) fn split(note: &str) -> Result<(&str, Vec<NoteSignature>), Error> {
    if note.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(Error::MalformedNote("control character"));
    }
    let blank = note
        .rfind("\n\n")
        .ok_or(Error::MalformedNote("no blank line before the signatures"))?;
    let (text, signatures) = (&note[..=blank], &note[blank + 2..]);
    let Some(lines) = signatures.strip_suffix('\n') else {
        return Err(Error::MalformedNote(
            "a note ends with a signature line and a newline",
        ));
    };
    let lines: Vec<&str> = lines.split('\n').collect();
    if lines.len() > MAX_SIGNATURES {
        return Err(Error::MalformedNote("too many signatures"));
    }
    let signatures = lines
        .into_iter()
        .map(NoteSignature::from_line)
        .collect::<Result<_, _>>()?;
    Ok((text, signatures))
}

/// Opens a signed note, checking its signatures by the given `verifiers`.
///
/// Every signature whose key name and key ID match a given verifier must
/// verify, or the note is rejected ([`Error::InvalidSignature`]); other
/// signatures are returned unchecked. A note with no signature by a given
/// verifier is rejected ([`Error::UnverifiedNote`]), and so is a note
/// that names two different given keys sharing a name and key ID
/// ([`Error::AmbiguousKey`]).
pub fn open(note: &str, verifiers: &[&Verifier]) -> Result<Opened, Error> {
    let (text, signatures) = split(note)?;
    let mut opened = Opened {
        text: text.to_owned(),
        verified: Vec::new(),
        unverified: Vec::new(),
    };
    for signature in signatures {
        let mut known = verifiers
            .iter()
            .filter(|v| v.name == signature.name && v.key_id == signature.key_id);
        let Some(verifier) = known.next() else {
            if !opened.unverified.contains(&signature) {
                opened.unverified.push(signature);
            }
            continue;
        };
        if known.any(|other| other != verifier) {
            return Err(Error::AmbiguousKey {
                name: signature.name,
                key_id: signature.key_id,
            });
        }
        if !verifier.verify(text, &signature.signature) {
            return Err(Error::InvalidSignature {
                name: signature.name,
                key_id: signature.key_id,
            });
        }
        let repeated = opened
            .verified
            .iter()
            .any(|s| s.name == signature.name && s.key_id == signature.key_id);
        if !repeated {
            opened.verified.push(signature);
        }
    }
    if opened.verified.is_empty() {
        return Err(Error::UnverifiedNote);
    }
    Ok(opened)
}
