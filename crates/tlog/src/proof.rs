//! Offline-verifiable proofs that a record is in the log
//! ([c2sp.org/tlog-proof](https://c2sp.org/tlog-proof)).
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6
//! index 73894
//! gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
//! B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
//!
//! example.com/fancylog
//! 109482
//! sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=
//!
//! — example.com/fancylog hI2DJw…
//! — witness1.example mJirIklj…
//! ```
//!
//! Lines, each ending in a newline:
//!
//! 1. the header `c2sp.org/tlog-proof@v1`;
//! 2. optionally, `extra ` and base64 opaque data, which is not
//!    authenticated and must not be trusted;
//! 3. `index ` and the record's zero-based index in the log, in decimal
//!    with no leading zeroes;
//! 4. zero or more base64 hashes: the RFC 9162 inclusion proof of the
//!    record in the checkpoint's tree, from the leaf's sibling up;
//! 5. an empty line, then the signed checkpoint note verbatim, with the
//!    log's signature and any witness cosignatures.

use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::hash::{Hash, leaf_hash};
use crate::note::{SignatureType, Verifier, open, split};
use crate::tree::check_record;
use crate::util::{b64_decode, b64_encode, parse_decimal};

/// The first line of a tlog proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most hashes an inclusion proof can have: one per level of a tree
/// of at most 2^64 leaves.
const MAX_PROOF_HASHES: usize = 64;

/// A tlog proof: a record's index, its inclusion proof, and the signed
/// checkpoint the proof leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated data for the application, if any.
    pub extra: Option<Vec<u8>>,
    /// The record's zero-based index in the log.
    pub index: u64,
    /// The inclusion proof of the record's leaf in the checkpoint's tree.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint note, verbatim, ending in a newline.
    pub checkpoint_note: String,
}

impl TlogProof {
    /// The proof text. Fails if the checkpoint note is not a well-formed
    /// note whose text is a checkpoint, or the proof has more than 64
    /// hashes.
    pub fn to_text(&self) -> Result<String, Error> {
        check_checkpoint_note(&self.checkpoint_note)?;
        if self.hashes.len() > MAX_PROOF_HASHES {
            return Err(Error::MalformedProof("more than 64 hashes"));
        }
        let mut text = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            text.push_str("extra ");
            text.push_str(&b64_encode(extra));
            text.push('\n');
        }
        text.push_str(&format!("index {}\n", self.index));
        for hash in &self.hashes {
            text.push_str(&hash.to_base64());
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint_note);
        Ok(text)
    }

    /// Parses a proof text strictly. The checkpoint note must be a
    /// well-formed note whose text is a checkpoint; its signatures are
    /// checked by [`TlogProof::verify`], not here.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut rest = text
            .strip_prefix(HEADER)
            .and_then(|rest| rest.strip_prefix('\n'))
            .ok_or(Error::MalformedProof(
                "missing c2sp.org/tlog-proof@v1 header",
            ))?;

        let mut extra = None;
        if let Some(after) = rest.strip_prefix("extra ") {
            let (encoded, after) = after
                .split_once('\n')
                .ok_or(Error::MalformedProof("unterminated extra line"))?;
            extra = Some(
                b64_decode(encoded)
                    .ok_or(Error::MalformedProof("extra data is not canonical base64"))?,
            );
            rest = after;
        }

        let (index, after) = rest
            .strip_prefix("index ")
            .and_then(|after| after.split_once('\n'))
            .ok_or(Error::MalformedProof("missing index line"))?;
        let index = parse_decimal(index).ok_or(Error::MalformedProof(
            "the index is a decimal with no leading zeroes",
        ))?;
        rest = after;

        let mut hashes = Vec::new();
        loop {
            let (line, after) = rest.split_once('\n').ok_or(Error::MalformedProof(
                "missing empty line before the checkpoint",
            ))?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if hashes.len() == MAX_PROOF_HASHES {
                return Err(Error::MalformedProof("more than 64 hashes"));
            }
            hashes.push(
                Hash::from_base64(line)
                    .map_err(|_| Error::MalformedProof("a proof hash is base64 of 32 bytes"))?,
            );
        }

        check_checkpoint_note(rest)?;
        Ok(Self {
            extra,
            index,
            hashes,
            checkpoint_note: rest.to_owned(),
        })
    }

    /// Verifies that the record `leaf_data` is at [`index`](Self::index)
    /// in the log named `origin`, returning the checkpoint.
    ///
    /// `verifiers` are the keys trusted for that log, and may include
    /// witness cosigner keys: the checkpoint must carry a valid signature
    /// by at least one of the given Ed25519 (type `0x01`) keys, and every
    /// signature by a given key must verify (see [`crate::note::open`]).
    /// Then the checkpoint's origin must be `origin`, and the inclusion
    /// proof must lead from the record's leaf hash to the checkpoint's
    /// root hash. A policy on witnesses (how many cosignatures, by whom)
    /// is the caller's: [`crate::note::open`] on
    /// [`checkpoint_note`](Self::checkpoint_note) lists the verified
    /// cosignatures.
    pub fn verify(
        &self,
        leaf_data: &[u8],
        verifiers: &[&Verifier],
        origin: &str,
    ) -> Result<Checkpoint, Error> {
        let leaf = leaf_hash(leaf_data);
        let opened = open(&self.checkpoint_note, verifiers)?;
        let by_log = opened.verified.iter().any(|signature| {
            verifiers.iter().any(|v| {
                v.signature_type() == SignatureType::Ed25519
                    && v.name() == signature.name
                    && v.key_id() == signature.key_id
            })
        });
        if !by_log {
            return Err(Error::NoLogSignature);
        }
        let checkpoint = Checkpoint::parse(&opened.text)?;
        if checkpoint.origin != origin {
            return Err(Error::OriginMismatch {
                expected: origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        if self.index >= checkpoint.size {
            return Err(Error::ProofFailed);
        }
        check_record(
            &self.hashes,
            checkpoint.size,
            checkpoint.root,
            self.index,
            leaf,
        )?;
        Ok(checkpoint)
    }
}

/// Checks that `note` is a well-formed signed note whose text is a
/// checkpoint.
fn check_checkpoint_note(note: &str) -> Result<(), Error> {
    let (text, _) = split(note)?;
    Checkpoint::parse(text)?;
    Ok(())
}
