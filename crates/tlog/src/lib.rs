//! Pacta's transparency log: a Merkle tree over the event log, and the
//! signed, offline-verifiable statements made about it.
//!
//! The event log's SHA-256 hash chain shows that a copy of the log is
//! intact; it cannot show, without the whole log, that one record is in it,
//! or that today's log extends yesterday's. A Merkle tree over the records
//! can, with proofs of `log₂ n` hashes, and the formats here are those of
//! Certificate Transparency and of the C2SP transparency-log
//! specifications, so that tools made for those logs (witnesses,
//! verifiers, monitors) work with Pacta's.
//!
//! Everything here is pure: no I/O, no clock, no randomness. Storage comes
//! in through [`HashReader`], times and random bytes from the caller.
//!
//! # The tree
//!
//! Leaf `n` of the tree is record `n` of the log (zero-based). Hashing
//! follows [RFC 9162 §2.1](https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1)
//! (the same as [RFC 6962 §2.1](https://www.rfc-editor.org/rfc/rfc6962.html#section-2.1)),
//! see [`hash`]: `SHA-256(0x00 || record)` for a leaf,
//! `SHA-256(0x01 || left || right)` for a node, `SHA-256("")` for the
//! empty tree.
//!
//! The tree is kept as an append-only list of *stored hashes*, in the
//! layout of Go's [`golang.org/x/mod/sumdb/tlog`](https://pkg.go.dev/golang.org/x/mod/sumdb/tlog)
//! (see [`tree`]): each append adds the leaf hash and the hashes of the
//! subtrees it completes, two on average, reading at most `log₂ n` earlier
//! ones ([`stored_hashes`]). From them come the root of any earlier size
//! ([`tree_hash`]), inclusion proofs ([`prove_record`], [`check_record`])
//! and consistency proofs ([`prove_tree`], [`check_tree`]), exactly those
//! of RFC 9162.
//!
//! # The texts
//!
//! - [`checkpoint`]: the signed tree head, origin line, size and root hash
//!   ([c2sp.org/tlog-checkpoint](https://c2sp.org/tlog-checkpoint)).
//! - [`note`]: the signed-note envelope and Ed25519 keys
//!   ([c2sp.org/signed-note](https://c2sp.org/signed-note)), compatible
//!   with Go's [`golang.org/x/mod/sumdb/note`](https://pkg.go.dev/golang.org/x/mod/sumdb/note).
//! - [`cosignature`]: witnesses' timestamped cosignatures of a checkpoint
//!   ([c2sp.org/tlog-cosignature](https://c2sp.org/tlog-cosignature),
//!   `cosignature/v1`).
//! - [`proof`]: a record's index, inclusion proof and signed checkpoint in
//!   one text ([c2sp.org/tlog-proof](https://c2sp.org/tlog-proof)).
//!
//! ```
//! use pacta_tlog::{checkpoint::Checkpoint, note, proof::TlogProof};
//!
//! // The log appends three records, keeping the stored hashes.
//! let records: [&[u8]; 3] = [b"first", b"second", b"third"];
//! let mut stored = Vec::new();
//! for (n, record) in records.iter().enumerate() {
//!     let hashes = pacta_tlog::stored_hashes(n as u64, record, &stored)?;
//!     stored.extend(hashes);
//! }
//!
//! // It signs a checkpoint of the tree (a real key comes from
//! // `Signer::generate` with 32 random bytes).
//! let log = note::Signer::new("example.com/pacta", &[7; 32])?;
//! let root = pacta_tlog::tree_hash(3, &stored)?;
//! let body = Checkpoint::new("example.com/pacta", 3, root).to_body()?;
//! let signed = note::sign(&body, &[&log])?;
//!
//! // A proof that record 1 is in the log, verified offline.
//! let proof = TlogProof {
//!     extra: None,
//!     index: 1,
//!     hashes: pacta_tlog::prove_record(3, 1, &stored)?,
//!     checkpoint_note: signed,
//! };
//! let text = proof.to_text()?;
//! let checkpoint =
//!     TlogProof::parse(&text)?.verify(b"second", &[&log.verifier()], "example.com/pacta")?;
//! assert_eq!(checkpoint.size, 3);
//! # Ok::<(), pacta_tlog::Error>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod checkpoint;
pub mod cosignature;
mod error;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tile;
pub mod tree;
mod util;

pub use error::Error;
pub use hash::{HASH_SIZE, Hash, empty_root, leaf_hash, node_hash};
pub use tree::{
    HashReader, MAX_TREE_SIZE, check_record, check_tree, prove_record, prove_tree,
    split_stored_hash_index, stored_hash_count, stored_hash_index, stored_hashes,
    stored_hashes_for_leaf_hash, tree_hash,
};
