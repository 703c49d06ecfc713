//! Checkpoint cosignatures ([c2sp.org/tlog-cosignature](https://c2sp.org/tlog-cosignature)),
//! the Ed25519 `cosignature/v1` type.
//!
//! A cosigner (a witness) states that, as of a time, the checkpoint is the
//! largest consistent tree it has seen of the log. Its cosignature is one
//! more signature line on the checkpoint note:
//!
//! ```text
//! — witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==
//! ```
//!
//! - The key ID is `SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4]`:
//!   signature type `0x04`, so a cosigner's key never verifies as a plain
//!   note key.
//! - After the key ID, the signature is a `timestamped_signature`: the
//!   timestamp (POSIX seconds, at most 2^63 − 1) as 8 bytes big-endian,
//!   then the 64-byte Ed25519 signature.
//! - The signed message is two lines and the whole checkpoint body
//!   ([`signed_message`]):
//!
//! ```text
//! cosignature/v1
//! time 1679315147
//! example.com/behind-the-sofa
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//! ```
//!
//! A cosigner's public key is a [`Verifier`] of type
//! [`SignatureType::CosignatureV1`], written as a vkey with type byte
//! `0x04`; it verifies cosignatures in [`crate::note::open`] like any other
//! key, or one line at a time with [`verify_line`].

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey};

use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::note::{NoteSignature, SignatureType, Verifier, is_valid_key_name, key_id};

/// The header line of the signed message, for domain separation.
pub const HEADER: &str = "cosignature/v1";

/// The largest timestamp a cosignature may carry: 2^63 − 1.
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// The length of a `timestamped_signature`: 8 bytes of timestamp and 64 of
/// Ed25519 signature.
const TIMESTAMPED_SIGNATURE_SIZE: usize = 8 + 64;

/// The message a cosigner signs: `cosignature/v1`, `time <timestamp>`
/// and the checkpoint body, which must end in a newline.
pub fn signed_message(checkpoint_body: &str, timestamp: u64) -> Result<String, Error> {
    if timestamp > MAX_TIMESTAMP {
        return Err(Error::MalformedCosignature("timestamp above 2^63 - 1"));
    }
    if !checkpoint_body.ends_with('\n') {
        return Err(Error::MalformedCheckpoint("the body must end in a newline"));
    }
    Ok(format!("{HEADER}\ntime {timestamp}\n{checkpoint_body}"))
}

/// Splits a `timestamped_signature` into its timestamp and Ed25519
/// signature.
pub(crate) fn split_signature(signature: &[u8]) -> Option<(u64, &[u8])> {
    if signature.len() != TIMESTAMPED_SIGNATURE_SIZE {
        return None;
    }
    let (timestamp, signature) = signature.split_at(8);
    let timestamp = u64::from_be_bytes(timestamp.try_into().ok()?);
    Some((timestamp, signature))
}

/// The timestamp of a cosignature line (not verified).
pub fn timestamp(signature: &NoteSignature) -> Result<u64, Error> {
    let (timestamp, _) = split_signature(&signature.signature)
        .ok_or(Error::MalformedCosignature("a cosignature has 72 bytes"))?;
    if timestamp > MAX_TIMESTAMP {
        return Err(Error::MalformedCosignature("timestamp above 2^63 - 1"));
    }
    Ok(timestamp)
}

/// An Ed25519 cosigner key with its name.
#[derive(Clone)]
pub struct Cosigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Cosigner {
    /// The cosigner named `name` whose Ed25519 private key is the 32-byte
    /// `seed`. The key must not also sign as a plain note key or for
    /// another cosigner.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Self, Error> {
        if !is_valid_key_name(name) {
            return Err(Error::InvalidKeyName);
        }
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id(
            name,
            SignatureType::CosignatureV1.id(),
            key.verifying_key().as_bytes(),
        );
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID (computed with signature type `0x04`).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The verifier of this cosigner's cosignatures.
    pub fn verifier(&self) -> Verifier {
        Verifier::new(
            &self.name,
            SignatureType::CosignatureV1,
            self.key.verifying_key().as_bytes(),
        )
        .expect("a cosigner's name and key are valid")
    }

    /// Cosigns the checkpoint body `checkpoint_body` at `timestamp` (POSIX
    /// seconds), returning the signature line, with its newline, to append
    /// to the checkpoint note. The body must be a valid checkpoint.
    pub fn sign(&self, checkpoint_body: &str, timestamp: u64) -> Result<String, Error> {
        Checkpoint::parse(checkpoint_body)?;
        let message = signed_message(checkpoint_body, timestamp)?;
        let mut signature = Vec::with_capacity(TIMESTAMPED_SIGNATURE_SIZE);
        signature.extend_from_slice(&timestamp.to_be_bytes());
        signature.extend_from_slice(&self.key.sign(message.as_bytes()).to_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature,
        }
        .to_line())
    }
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cosigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// Verifies one cosignature line over `checkpoint_body` with the
/// cosigner key `verifier` (of type [`SignatureType::CosignatureV1`]),
/// returning the cosignature's timestamp.
///
/// Fails with [`Error::KeyMismatch`] if the line is by another key name or
/// key ID, and with [`Error::InvalidSignature`] if it does not verify.
pub fn verify_line(verifier: &Verifier, checkpoint_body: &str, line: &str) -> Result<u64, Error> {
    if verifier.signature_type() != SignatureType::CosignatureV1 {
        return Err(Error::MalformedKey("not a cosignature key"));
    }
    let signature = NoteSignature::from_line(line)?;
    if signature.name != verifier.name() || signature.key_id != verifier.key_id() {
        return Err(Error::KeyMismatch {
            name: signature.name,
            key_id: signature.key_id,
        });
    }
    let timestamp = timestamp(&signature)?;
    if !verifier.verify(checkpoint_body, &signature.signature) {
        return Err(Error::InvalidSignature {
            name: signature.name,
            key_id: signature.key_id,
        });
    }
    Ok(timestamp)
}
