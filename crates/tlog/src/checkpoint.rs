//! Checkpoints ([c2sp.org/tlog-checkpoint](https://c2sp.org/tlog-checkpoint)):
//! the signed tree head of a log, as the text of a signed note.
//!
//! ```text
//! example.com/behind-the-sofa
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//! ```
//!
//! The body is at least three non-empty lines, each ending in a newline:
//!
//! 1. the origin, which names the log (non-empty; it should be a
//!    schema-less URL with no spaces and no `+`, which is not enforced);
//! 2. the tree size in ASCII decimal, with no leading zeroes;
//! 3. the RFC 9162 root hash of the tree at that size, in base64;
//!
//! and then optional, opaque, non-empty extension lines. The log signs the
//! body as a note ([`crate::note::sign`]); witnesses add cosignatures
//! ([`crate::cosignature`]).

use crate::Error;
use crate::hash::Hash;
use crate::util::parse_decimal;

/// A checkpoint body: a log's origin, tree size and root hash, and any
/// extension lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The origin line, naming the log.
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The root hash of the tree at `size`.
    pub root: Hash,
    /// The extension lines, without their newlines; usually none.
    pub extensions: Vec<String>,
}

/// Whether `line` can be a line of a checkpoint: non-empty, with no
/// newline or other control character.
fn is_valid_line(line: &str) -> bool {
    !line.is_empty() && !line.bytes().any(|b| b < 0x20)
}

impl Checkpoint {
    /// A checkpoint with no extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The body text, ending in a newline. Fails if the origin or an
    /// extension line is empty or holds a newline or other control
    /// character.
    pub fn to_body(&self) -> Result<String, Error> {
        if !is_valid_line(&self.origin) {
            return Err(Error::MalformedCheckpoint(
                "the origin is a non-empty line with no control characters",
            ));
        }
        if !self.extensions.iter().all(|line| is_valid_line(line)) {
            return Err(Error::MalformedCheckpoint(
                "extension lines are non-empty with no control characters",
            ));
        }
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for line in &self.extensions {
            body.push_str(line);
            body.push('\n');
        }
        Ok(body)
    }

    /// Parses a checkpoint body (a note's text), strictly: it must end in
    /// a newline, every line must be non-empty, the size must be a
    /// decimal with no leading zeroes that fits in a `u64`, and the root
    /// hash the canonical base64 of 32 bytes.
    pub fn parse(body: &str) -> Result<Self, Error> {
        let Some(body) = body.strip_suffix('\n') else {
            return Err(Error::MalformedCheckpoint("the body must end in a newline"));
        };
        if body.bytes().any(|b| b < 0x20 && b != b'\n') {
            return Err(Error::MalformedCheckpoint("control character"));
        }
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(Error::MalformedCheckpoint("fewer than three lines"));
        };
        if origin.is_empty() {
            return Err(Error::MalformedCheckpoint("empty origin"));
        }
        let size = parse_decimal(size).ok_or(Error::MalformedCheckpoint(
            "the size is a decimal with no leading zeroes",
        ))?;
        let root = Hash::from_base64(root)
            .map_err(|_| Error::MalformedCheckpoint("the root hash is base64 of 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(Error::MalformedCheckpoint("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_specification_example() {
        let checkpoint = Checkpoint::parse(EXAMPLE).unwrap();
        assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
        assert_eq!(checkpoint.size, 20852163);
        assert_eq!(
            checkpoint.root.to_base64(),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
        assert!(checkpoint.extensions.is_empty());
        assert_eq!(checkpoint.to_body().unwrap(), EXAMPLE);
    }
}
