//! The registry's own witnesses: it submits its signed checkpoints to
//! them (C2SP `tlog-witness`, `add-checkpoint`), keeps the cosignatures
//! they give, and serves them with the checkpoint, so that a reader
//! holding a cosigned checkpoint knows the witnesses saw the same history.
//!
//! A witness is configured by its URL and its verifier key
//! (`cosignature/v1`, what `pacta witness key` prints), as `URL=VKEY`.
//! What each witness has cosigned is kept in `DATA/witnesses.json`,
//! written before it is served: its latest cosigned size and root, the
//! cosignature line, and the last error. A cosignature is served only
//! with the very checkpoint it signs (same size and root); checkpoints
//! are deterministic (Ed25519), so a restart at the same size serves the
//! cosignatures held before it.
//!
//! This module builds requests and reads answers; the transport (HTTP)
//! is the server's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use pacta_tlog::cosignature;
use pacta_tlog::note::{SignatureType, Verifier};
use serde::{Deserialize, Serialize};

use crate::Registry;
use crate::transparency::{SignedCheckpoint, TransparencyError};

/// The file in the data directory holding what the witnesses cosigned.
pub const WITNESSES_FILE: &str = "witnesses.json";

/// A witness the registry submits its checkpoints to.
#[derive(Clone, Debug)]
pub struct WitnessRef {
    /// Where it answers: `add-checkpoint` is posted to `URL/add-checkpoint`.
    pub url: String,
    /// Its cosignature key.
    pub verifier: Verifier,
}

impl FromStr for WitnessRef {
    type Err = String;

    /// `URL=VKEY`: an `http://` URL, then the witness's verifier key.
    fn from_str(text: &str) -> Result<WitnessRef, String> {
        let (url, vkey) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: a witness is URL=VKEY"))?;
        let url = url.trim().trim_end_matches('/');
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url:?}: a witness URL starts with http://"))?;
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(format!("{url:?}: not a URL"));
        }
        let verifier =
            Verifier::from_vkey(vkey.trim()).map_err(|e| format!("witness key {vkey:?}: {e}"))?;
        if verifier.signature_type() != SignatureType::CosignatureV1 {
            return Err(format!(
                "witness key {vkey:?}: not a cosignature/v1 key (`pacta witness key` prints one)"
            ));
        }
        Ok(WitnessRef {
            url: url.to_owned(),
            verifier,
        })
    }
}

/// What the registry holds from one witness.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Held {
    /// The witness's name (its key's name).
    pub name: String,
    /// Where it answers.
    pub url: String,
    /// Its verifier key.
    pub key: String,
    /// The latest tree size it cosigned, or said it holds (0: none).
    pub size: u64,
    /// The root of the checkpoint of [`Held::cosignature`] (base64).
    pub root: Option<String>,
    /// Its cosignature line over the checkpoint of that size and root.
    pub cosignature: Option<String>,
    /// When it cosigned (the cosignature's timestamp, Unix seconds).
    pub cosigned_at: Option<u64>,
    /// Why the last submission failed, if it did.
    pub error: Option<String>,
}

/// What to do after a witness answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// It cosigned the checkpoint.
    Cosigned,
    /// It holds another size: submit again from it.
    Resubmit,
    /// It refused, or its answer is not acceptable (kept as the error).
    Failed(String),
}

/// The registry's witnesses and what they cosigned.
pub struct Witnesses {
    refs: Vec<WitnessRef>,
    file: PathBuf,
    held: Mutex<BTreeMap<String, Held>>,
}

impl Witnesses {
    /// The witnesses `refs` of the data directory `dir`, with what
    /// `DATA/witnesses.json` says they cosigned (entries of witnesses no
    /// longer configured, or whose key changed, are dropped).
    pub fn open(dir: &Path, refs: Vec<WitnessRef>) -> Result<Witnesses, TransparencyError> {
        let file = dir.join(WITNESSES_FILE);
        let mut stored = read_held(&file)?;
        let mut held = BTreeMap::new();
        for r in &refs {
            let name = r.verifier.name().to_owned();
            if held.contains_key(&name) {
                return Err(TransparencyError::Range(format!(
                    "two witnesses are named {name:?}"
                )));
            }
            let key = r.verifier.to_vkey();
            let entry = stored
                .remove(&name)
                .filter(|h| h.key == key)
                .unwrap_or_else(|| Held {
                    name: name.clone(),
                    key,
                    ..Held::default()
                });
            held.insert(
                name,
                Held {
                    url: r.url.clone(),
                    ..entry
                },
            );
        }
        Ok(Witnesses {
            refs,
            file,
            held: Mutex::new(held),
        })
    }

    /// What `DATA/witnesses.json` holds, for reading only (no witness is
    /// contacted): the cosignatures a server kept, for documents made
    /// while it is stopped.
    pub fn stored(dir: &Path) -> Result<Witnesses, TransparencyError> {
        let file = dir.join(WITNESSES_FILE);
        let held = read_held(&file)?;
        Ok(Witnesses {
            refs: Vec::new(),
            file,
            held: Mutex::new(held),
        })
    }

    /// The configured witnesses.
    pub fn refs(&self) -> &[WitnessRef] {
        &self.refs
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What each witness has cosigned, by name.
    pub fn status(&self) -> Vec<Held> {
        self.lock().values().cloned().collect()
    }

    /// The body of `add-checkpoint` for `witness` and `checkpoint`, or
    /// `None` when it has cosigned this checkpoint already.
    pub fn request(
        &self,
        registry: &Registry,
        witness: &str,
        checkpoint: &SignedCheckpoint,
    ) -> Result<Option<String>, TransparencyError> {
        let root = checkpoint.root.to_base64();
        let old = match self.lock().get(witness) {
            // Cosigned already.
            Some(h) if h.cosignature.is_some() && h.root.as_deref() == Some(root.as_str()) => {
                return Ok(None);
            }
            // The witness holds a larger tree than this log has: nothing
            // to submit (its error says so).
            Some(h) if h.size > checkpoint.size => return Ok(None),
            held => held.map_or(0, |h| h.size),
        };
        let mut body = format!("old {old}\n");
        if old > 0 && old < checkpoint.size {
            for hash in registry.store().prove_consistency(old, checkpoint.size)? {
                body.push_str(&hash.to_base64());
                body.push('\n');
            }
        }
        body.push('\n');
        body.push_str(&checkpoint.note);
        Ok(Some(body))
    }

    /// Takes the witness's answer (`status`, `body`) to the submission of
    /// `checkpoint`, keeps what it says (written to the file before this
    /// returns), and says what to do next.
    pub fn answered(
        &self,
        witness: &str,
        checkpoint: &SignedCheckpoint,
        status: u16,
        body: &str,
    ) -> Answer {
        let Some(r) = self.refs.iter().find(|r| r.verifier.name() == witness) else {
            return Answer::Failed(format!("no witness named {witness:?}"));
        };
        let mut held = self.lock();
        let Some(entry) = held.get_mut(witness) else {
            return Answer::Failed(format!("no witness named {witness:?}"));
        };
        let before = entry.clone();
        let answer = match status {
            200 => match checkpoint_body(&checkpoint.note)
                .and_then(|text| cosignature_line(&r.verifier, &text, body))
            {
                Ok((line, at)) => {
                    entry.size = checkpoint.size;
                    entry.root = Some(checkpoint.root.to_base64());
                    entry.cosignature = Some(line);
                    entry.cosigned_at = Some(at);
                    entry.error = None;
                    Answer::Cosigned
                }
                Err(e) => Answer::Failed(format!("its cosignature does not verify: {e}")),
            },
            409 => match body.trim_end_matches('\n').parse::<u64>() {
                Ok(size) if size > checkpoint.size => Answer::Failed(format!(
                    "it holds a tree of {size} records, larger than this log's {}: this log \
                     was rolled back, or the witness was shown another history",
                    checkpoint.size
                )),
                Ok(size) if size == entry.size => {
                    Answer::Failed(format!("it answered 409 for the size it holds ({size})"))
                }
                Ok(size) => {
                    entry.size = size;
                    entry.root = None;
                    entry.cosignature = None;
                    entry.error = None;
                    Answer::Resubmit
                }
                Err(_) => Answer::Failed(format!("409 without a size: {body:?}")),
            },
            _ => Answer::Failed(format!(
                "it answered {status}: {}",
                body.lines().next().unwrap_or("")
            )),
        };
        if let Answer::Failed(why) = &answer {
            entry.error = Some(why.clone());
        }
        // The file is written (and synced) only when something changed: a
        // witness that keeps refusing for one reason costs no writes.
        if *entry == before {
            return answer;
        }
        if let Err(e) = self.save(&held) {
            return Answer::Failed(format!("cannot keep the cosignature: {e}"));
        }
        answer
    }

    /// Records that the witness could not be reached.
    pub fn unreachable(&self, witness: &str, why: &str) {
        let mut held = self.lock();
        let error = Some(format!("unreachable: {why}"));
        if let Some(entry) = held.get_mut(witness)
            && entry.error != error
        {
            entry.error = error;
            if let Err(e) = self.save(&held) {
                tracing::warn!(error = %e, "cannot keep the witnesses' state");
            }
        }
    }

    fn save(&self, held: &BTreeMap<String, Held>) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(held).map_err(std::io::Error::other)?;
        crate::transparency::write_private(&self.file, &text)
    }

    /// `checkpoint`'s note with the cosignature lines held for exactly
    /// that checkpoint appended.
    pub fn cosigned(&self, checkpoint: &SignedCheckpoint) -> String {
        let root = checkpoint.root.to_base64();
        let mut note = checkpoint.note.clone();
        for h in self.lock().values() {
            if h.size == checkpoint.size
                && h.root.as_deref() == Some(root.as_str())
                && let Some(line) = &h.cosignature
            {
                note.push_str(line);
                note.push('\n');
            }
        }
        note
    }
}

fn key_error(path: &Path, e: impl std::fmt::Display) -> TransparencyError {
    TransparencyError::Key {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// What `file` says each witness cosigned (nothing, when it is absent).
fn read_held(file: &Path) -> Result<BTreeMap<String, Held>, TransparencyError> {
    match std::fs::read_to_string(file) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| key_error(file, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(key_error(file, e)),
    }
}

/// The text (checkpoint body) of a signed note.
fn checkpoint_body(note: &str) -> Result<String, String> {
    note.rfind("\n\n")
        .map(|blank| note[..=blank].to_owned())
        .ok_or_else(|| "the checkpoint is not a signed note".to_owned())
}

/// The cosignature line by `verifier` in a witness's answer, checked over
/// `text`, with its timestamp.
fn cosignature_line(verifier: &Verifier, text: &str, body: &str) -> Result<(String, u64), String> {
    let mut last = "no cosignature line".to_owned();
    for line in body.lines().filter(|l| !l.is_empty()) {
        match cosignature::verify_line(verifier, text, line) {
            Ok(at) => return Ok((line.to_owned(), at)),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}
