//! The crate's one error type.

/// Everything that can go wrong in this crate: a proof that does not
/// verify, arguments that describe no tree, storage that cannot be read,
/// and text (hashes, checkpoints, notes, keys, tlog proofs, cosignatures)
/// that does not follow its specification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An inclusion or consistency proof does not lead to the expected
    /// root hash, or has the wrong number of hashes.
    #[error("invalid transparency proof")]
    ProofFailed,

    /// Tree sizes or leaf indexes that describe no tree or no proof, such
    /// as a leaf index not below the tree size, or a tree larger than
    /// [`MAX_TREE_SIZE`](crate::MAX_TREE_SIZE) where stored hashes are used.
    #[error("invalid tree arguments: {0}")]
    InvalidArguments(&'static str),

    /// A [`HashReader`](crate::HashReader) could not read the hashes it was
    /// asked for.
    #[error("reading stored hashes: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),

    /// A [`HashReader`](crate::HashReader) returned a different number of
    /// hashes than it was asked for.
    #[error("hash reader returned {got} hashes for {want} indexes")]
    HashCount {
        /// How many hashes were asked for.
        want: usize,
        /// How many came back.
        got: usize,
    },

    /// An in-memory hash store holds no hash at this stored hash index.
    #[error("no stored hash at index {0}")]
    MissingHash(u64),

    /// A tile path or entry bundle that does not follow
    /// c2sp.org/tlog-tiles.
    #[error("malformed tile: {0}")]
    MalformedTilePath(&'static str),

    /// A hash that is not 32 bytes in canonical base64 or hex.
    #[error("malformed hash")]
    MalformedHash,

    /// Checkpoint text that does not follow c2sp.org/tlog-checkpoint.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),

    /// Note text that does not follow c2sp.org/signed-note.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),

    /// A signer or verifier key string that does not follow its format.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),

    /// A key name that is empty or holds a space, a plus sign or a control
    /// character.
    #[error("invalid key name")]
    InvalidKeyName,

    /// A key of a signature type this crate does not implement.
    #[error("unknown signature type {0:#04x}")]
    UnknownSignatureType(u8),

    /// A key string whose key ID is not the one its name and public key
    /// give.
    #[error("key ID {found:08x} does not match the key, which has {expected:08x}")]
    KeyIdMismatch {
        /// The key ID the name and public key give.
        expected: u32,
        /// The key ID in the key string.
        found: u32,
    },

    /// Two different keys with the same name and key ID were given as
    /// verifiers, and a signature names them.
    #[error("ambiguous key {name}+{key_id:08x}")]
    AmbiguousKey {
        /// The key name.
        name: String,
        /// The key ID.
        key_id: u32,
    },

    /// A signature by a known key that does not verify.
    #[error("invalid signature for key {name}+{key_id:08x}")]
    InvalidSignature {
        /// The key name.
        name: String,
        /// The key ID.
        key_id: u32,
    },

    /// A signature line by another key than the one it was checked with.
    #[error("signature is by {name}+{key_id:08x}, not by the given key")]
    KeyMismatch {
        /// The key name in the signature line.
        name: String,
        /// The key ID in the signature line.
        key_id: u32,
    },

    /// A well-formed note with no signature by any of the given keys.
    #[error("note has no verifiable signatures")]
    UnverifiedNote,

    /// A checkpoint note verified only by cosigners, not by a log key.
    #[error("checkpoint has no signature by a log key")]
    NoLogSignature,

    /// A checkpoint from another log than the one expected.
    #[error("checkpoint origin {found:?} is not the expected {expected:?}")]
    OriginMismatch {
        /// The origin the caller expected.
        expected: String,
        /// The origin line of the checkpoint.
        found: String,
    },

    /// Proof text that does not follow c2sp.org/tlog-proof.
    #[error("malformed tlog proof: {0}")]
    MalformedProof(&'static str),

    /// A cosignature that does not follow c2sp.org/tlog-cosignature.
    #[error("malformed cosignature: {0}")]
    MalformedCosignature(&'static str),
}
