//! The registry's transparency log: its signing key, signed checkpoints of
//! the Merkle tree over the log, and proof bundles a third party checks
//! offline (the formats are those of `pacta_tlog`: C2SP signed notes,
//! `tlog-checkpoint`, `tlog-proof`).
//!
//! The key pair is made the first time it is needed, in `DATA/log-key`
//! (mode 0600), as a signed-note private key whose name is the log's
//! **origin**: [`origin_setting`] (`PACTA_ORIGIN`, default
//! [`DEFAULT_ORIGIN`]) when the key is made; after that the key file's
//! name is the origin. `pacta key show` prints the verifier key a third
//! party needs. [`LogKey::rotate`] keeps the old key beside the new one
//! (`DATA/log-key.KEYID.old`): checkpoints signed with it still verify with
//! its verifier key, which a rotation prints.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use pacta_tlog::checkpoint::Checkpoint;
use pacta_tlog::note::{self, Signer, Verifier};
use pacta_tlog::proof::TlogProof;

use crate::Registry;

/// The key file in the data directory.
pub const KEY_FILE: &str = "log-key";

/// The origin of a log whose key was made with no `PACTA_ORIGIN`.
pub const DEFAULT_ORIGIN: &str = "localhost/pacta";

/// What went wrong with the key, a checkpoint or a proof.
#[derive(Debug, thiserror::Error)]
pub enum TransparencyError {
    /// The key file could not be read or written.
    #[error("the log's key {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A signed-note, checkpoint or proof text was refused.
    #[error("{0}")]
    Format(#[from] pacta_tlog::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] pacta_store::Error),
    /// A position or size outside the tree.
    #[error("{0}")]
    Range(String),
}

/// The origin for a new key: `PACTA_ORIGIN`, or [`DEFAULT_ORIGIN`].
pub fn origin_setting() -> String {
    std::env::var("PACTA_ORIGIN")
        .ok()
        .filter(|o| !o.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ORIGIN.to_owned())
}

/// The log's signing key.
pub struct LogKey {
    signer: Signer,
}

impl LogKey {
    /// The key of the data directory `dir`, made now (named
    /// [`origin_setting`]) if it has none.
    pub fn load_or_create(dir: &Path) -> Result<LogKey, TransparencyError> {
        let path = dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(LogKey {
                signer: Signer::from_skey(text.trim()).map_err(|e| key_error(&path, e))?,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = LogKey::generate(&origin_setting(), &path)?;
                tracing::info!(origin = key.origin(), path = %path.display(),
                    "made the log's signing key");
                Ok(key)
            }
            Err(e) => Err(key_error(&path, e)),
        }
    }

    fn generate(origin: &str, path: &Path) -> Result<LogKey, TransparencyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| key_error(path, e))?;
        let signer = Signer::generate(origin, seed).map_err(|e| key_error(path, e))?;
        write_private(path, &signer.to_skey()).map_err(|e| key_error(path, e))?;
        Ok(LogKey { signer })
    }

    /// Makes a new key (named `origin`, or the old key's name), keeping
    /// the old one as `log-key.KEYID.old`. Returns the old and the new
    /// verifier keys: checkpoints signed before verify with the old one.
    pub fn rotate(dir: &Path, origin: Option<&str>) -> Result<(String, String), TransparencyError> {
        let old = LogKey::load_or_create(dir)?;
        let path = dir.join(KEY_FILE);
        let kept = dir.join(format!("{KEY_FILE}.{:08x}.old", old.signer.key_id()));
        std::fs::rename(&path, &kept).map_err(|e| key_error(&path, e))?;
        let new = LogKey::generate(origin.unwrap_or(old.origin()), &path)?;
        Ok((old.verifier_key(), new.verifier_key()))
    }

    /// The log's origin (the key's name).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The verifier key in the signed-note format (`name+keyid+key`).
    pub fn verifier_key(&self) -> String {
        self.signer.verifier().to_vkey()
    }

    /// The verifiers of this key and of the keys it replaced.
    pub fn verifiers(dir: &Path) -> Result<Vec<Verifier>, TransparencyError> {
        let mut out = vec![LogKey::load_or_create(dir)?.signer.verifier()];
        let entries = std::fs::read_dir(dir).map_err(|e| key_error(dir, e))?;
        for entry in entries {
            let path = entry.map_err(|e| key_error(dir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with(&format!("{KEY_FILE}.")) && name.ends_with(".old") {
                let text = std::fs::read_to_string(&path).map_err(|e| key_error(&path, e))?;
                let signer = Signer::from_skey(text.trim()).map_err(|e| key_error(&path, e))?;
                out.push(signer.verifier());
            }
        }
        Ok(out)
    }

    /// Signs a checkpoint of the tree of `size` records with root `root`.
    pub fn sign(&self, size: u64, root: pacta_tlog::Hash) -> Result<String, TransparencyError> {
        let body = Checkpoint::new(self.origin(), size, root).to_body()?;
        Ok(note::sign(&body, &[&self.signer])?)
    }
}

fn key_error(path: &Path, e: impl std::fmt::Display) -> TransparencyError {
    TransparencyError::Key {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Writes a file only its owner reads, completely or not at all.
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// A signed checkpoint and what it says.
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    /// The number of records the tree holds.
    pub size: u64,
    /// The tree's root.
    pub root: pacta_tlog::Hash,
    /// The signed note.
    pub note: String,
}

impl Registry {
    /// A checkpoint of the tree as it stands, signed with `key`.
    pub fn checkpoint(&self, key: &LogKey) -> Result<SignedCheckpoint, TransparencyError> {
        let size = self.store().tree_size()?;
        let root = self.store().tree_root(size)?;
        Ok(SignedCheckpoint {
            size,
            root,
            note: key.sign(size, root)?,
        })
    }

    /// The proof bundle of the record at `position` (C2SP `tlog-proof`):
    /// the record's canonical bytes as its `extra` data, its index, its
    /// inclusion proof, and `checkpoint` (which must hold the record).
    pub fn proof_bundle(
        &self,
        position: u64,
        checkpoint: &SignedCheckpoint,
    ) -> Result<String, TransparencyError> {
        if position == 0 || position > checkpoint.size {
            return Err(TransparencyError::Range(format!(
                "position {position} is not in the checkpoint's tree of {} records",
                checkpoint.size
            )));
        }
        let bytes = self
            .store()
            .leaf_bytes(position)?
            .ok_or_else(|| TransparencyError::Range(format!("no record at {position}")))?;
        let proof = TlogProof {
            extra: Some(bytes),
            index: position - 1,
            hashes: self.store().prove_inclusion(position, checkpoint.size)?,
            checkpoint_note: checkpoint.note.clone(),
        };
        Ok(proof.to_text()?)
    }
}

/// The proof bundles of a document's events, against one checkpoint.
#[derive(Clone, Debug)]
pub struct Proofs {
    /// The checkpoint every bundle leads to.
    pub checkpoint: SignedCheckpoint,
    /// Each event's bundle (C2SP tlog-proof), by its position.
    pub bundles: std::collections::BTreeMap<u64, String>,
}

impl Registry {
    /// Gives every event of the dossiers its proof bundle, against one
    /// checkpoint of the tree signed now with `key` (with the cosignatures
    /// `witnesses` hold for it). The tree follows the
    /// log behind the acknowledgement: this waits (a moment) until it
    /// covers the newest event.
    pub fn attach_proofs(
        &self,
        dossiers: &mut crate::audit::Dossiers,
        key: &LogKey,
        witnesses: Option<&crate::witnessing::Witnesses>,
    ) -> Result<(), TransparencyError> {
        let positions: std::collections::BTreeSet<u64> = dossiers
            .dossiers
            .iter()
            .flat_map(|d| {
                std::iter::once(&d.termination)
                    .chain(&d.preceding)
                    .chain(&d.corrections)
                    .map(|e| e.record.envelope.position)
            })
            .collect();
        let newest = positions.last().copied().unwrap_or(0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.store().tree_size()? < newest && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let mut checkpoint = self.checkpoint(key)?;
        if let Some(witnesses) = witnesses {
            checkpoint.note = witnesses.cosigned(&checkpoint);
        }
        let bundles = positions
            .into_iter()
            .map(|p| Ok((p, self.proof_bundle(p, &checkpoint)?)))
            .collect::<Result<_, TransparencyError>>()?;
        dossiers.proofs = Some(Proofs {
            checkpoint,
            bundles,
        });
        Ok(())
    }
}

/// What a verified proof bundle shows.
#[derive(Debug)]
pub struct Verified {
    /// The record's position.
    pub position: u64,
    /// The record's canonical JSON.
    pub record: Vec<u8>,
    /// The checkpoint it is in.
    pub checkpoint: Checkpoint,
    /// The witnesses asked for whose cosignature of that checkpoint
    /// verified, with its timestamp (Unix seconds).
    pub cosigned_by: Vec<(String, u64)>,
}

/// Checks a proof bundle with no store: the record (its `extra`) hashes
/// to a leaf, the leaf's inclusion proof leads to the checkpoint's root,
/// and the checkpoint is signed by `vkey` (its name is the origin).
pub fn verify_bundle(text: &str, vkey: &str) -> Result<Verified, TransparencyError> {
    verify_witnessed_bundle(text, vkey, &[])
}

/// [`verify_bundle`], and also that the checkpoint carries a valid
/// cosignature (C2SP `cosignature/v1`) by each witness key of
/// `witness_keys`: that witness saw this tree and had seen nothing it
/// does not extend.
pub fn verify_witnessed_bundle(
    text: &str,
    vkey: &str,
    witness_keys: &[String],
) -> Result<Verified, TransparencyError> {
    let verifier = Verifier::from_vkey(vkey.trim())?;
    let proof = TlogProof::parse(text)?;
    let record = proof.extra.clone().ok_or_else(|| {
        TransparencyError::Range("the bundle carries no record (no extra line)".into())
    })?;
    let checkpoint = proof.verify(&record, &[&verifier], verifier.name())?;
    let mut cosigned_by = Vec::new();
    for wkey in witness_keys {
        let witness = Verifier::from_vkey(wkey.trim())?;
        if witness.signature_type() != note::SignatureType::CosignatureV1 {
            return Err(TransparencyError::Range(format!(
                "{}: not a witness key (cosignature/v1)",
                witness.name()
            )));
        }
        let opened = note::open(&proof.checkpoint_note, &[&witness]).map_err(|e| {
            TransparencyError::Range(format!(
                "the checkpoint is not cosigned by witness {}: {e}",
                witness.name()
            ))
        })?;
        let at = opened
            .verified
            .first()
            .map(pacta_tlog::cosignature::timestamp)
            .transpose()?
            .unwrap_or(0);
        cosigned_by.push((witness.name().to_owned(), at));
    }
    Ok(Verified {
        position: proof.index + 1,
        record,
        checkpoint,
        cosigned_by,
    })
}
