//! A witness (C2SP `tlog-witness`): it cosigns checkpoints of the logs it
//! knows, each only if it extends the latest one it cosigned for that log
//! (a consistency proof), so that two institutions holding cosigned
//! checkpoints know nobody was shown a history that forks from theirs.
//!
//! Its directory holds its cosigning key (`witness-key`, mode 0600: its
//! name and Ed25519 seed) and the latest cosigned size and root of each
//! log (`witnessed.json`), written before a cosignature leaves. The logs it
//! knows are given by their verifier keys (`pacta key show` of each);
//! the key's name is the log's origin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use pacta_tlog::checkpoint::Checkpoint;
use pacta_tlog::cosignature::Cosigner;
use pacta_tlog::note::{self, Verifier};
use pacta_tlog::{Hash, check_tree, empty_root};
use serde::{Deserialize, Serialize};

/// Why a submission was not cosigned: the HTTP status the protocol gives
/// it, and the body.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    /// 400, 403, 404, 409 or 422 as `tlog-witness` says; 500 when the
    /// witness could not keep its state.
    pub status: u16,
    /// For 409, the latest cosigned size and a newline
    /// (`text/x.tlog.size`); otherwise why, in words.
    pub body: String,
}

fn refuse(status: u16, body: impl Into<String>) -> Refusal {
    Refusal {
        status,
        body: body.into(),
    }
}

#[derive(Serialize, Deserialize, Clone)]
struct Seen {
    size: u64,
    root: String,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    name: String,
    /// The Ed25519 seed, base64.
    seed: String,
}

/// A witness over its directory.
pub struct Witness {
    cosigner: Cosigner,
    logs: BTreeMap<String, Verifier>,
    state_file: PathBuf,
    /// The latest cosigned checkpoint of each origin; checked and updated
    /// under this lock, and written before a cosignature leaves.
    seen: Mutex<BTreeMap<String, Seen>>,
}

impl Witness {
    /// Opens the witness in `dir` (its key made there, named `name`, if it
    /// has none) for the logs of these verifier keys.
    pub fn open(dir: &Path, name: &str, log_keys: &[String]) -> Result<Witness, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let key_path = dir.join("witness-key");
        let key: KeyFile = match std::fs::read_to_string(&key_path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", key_path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
                let key = KeyFile {
                    name: name.to_owned(),
                    seed: Hash(seed).to_base64(),
                };
                crate::transparency::write_private(
                    &key_path,
                    &serde_json::to_string(&key).map_err(|e| e.to_string())?,
                )
                .map_err(|e| format!("{}: {e}", key_path.display()))?;
                key
            }
            Err(e) => return Err(format!("{}: {e}", key_path.display())),
        };
        let seed = Hash::from_base64(&key.seed).map_err(|e| e.to_string())?;
        let cosigner = Cosigner::new(&key.name, &seed.0).map_err(|e| e.to_string())?;
        let mut logs = BTreeMap::new();
        for vkey in log_keys {
            let v = Verifier::from_vkey(vkey.trim()).map_err(|e| format!("{vkey}: {e}"))?;
            logs.insert(v.name().to_owned(), v);
        }
        let state_file = dir.join("witnessed.json");
        let seen = match std::fs::read_to_string(&state_file) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", state_file.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(format!("{}: {e}", state_file.display())),
        };
        Ok(Witness {
            cosigner,
            logs,
            state_file,
            seen: Mutex::new(seen),
        })
    }

    /// The witness's verifier key (cosignature/v1), for the logs and
    /// their readers.
    pub fn verifier_key(&self) -> String {
        self.cosigner.verifier().to_vkey()
    }

    /// The latest size cosigned for `origin` (0: none).
    pub fn latest(&self, origin: &str) -> u64 {
        self.lock().get(origin).map_or(0, |s| s.size)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Seen>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `add-checkpoint`: the request body (old size line, consistency
    /// proof lines, empty line, signed checkpoint) and the time now in
    /// seconds; the cosignature line, or why not.
    pub fn add_checkpoint(&self, body: &str, now: u64) -> Result<String, Refusal> {
        let (head, note_text) = body
            .split_once("\n\n")
            .ok_or_else(|| refuse(400, "no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old: u64 = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .filter(|n| *n == "0" || !n.starts_with('0'))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| refuse(400, "the first line must be `old SIZE`"))?;
        let proof = lines
            .map(Hash::from_base64)
            .collect::<Result<Vec<Hash>, _>>()
            .map_err(|e| refuse(400, format!("a consistency proof line: {e}")))?;
        if proof.len() > 63 {
            return Err(refuse(400, "more than 63 consistency proof lines"));
        }
        // The origin first: 404 for a log this witness does not know.
        let origin = note_text.lines().next().unwrap_or("");
        let verifier = self
            .logs
            .get(origin)
            .ok_or_else(|| refuse(404, format!("unknown log {origin:?}")))?;
        let opened = note::open(note_text, &[verifier])
            .map_err(|e| refuse(403, format!("the checkpoint's signature: {e}")))?;
        let checkpoint = Checkpoint::parse(&opened.text).map_err(|e| refuse(400, e.to_string()))?;
        if old > checkpoint.size {
            return Err(refuse(400, "the old size is above the checkpoint's"));
        }
        if checkpoint.size == 0 && checkpoint.root != empty_root() {
            return Err(refuse(422, "an empty tree with another root"));
        }
        let mut seen = self.lock();
        let latest = seen.get(origin).cloned();
        let latest_size = latest.as_ref().map_or(0, |s| s.size);
        if old != latest_size {
            return Err(refuse(409, format!("{latest_size}\n")));
        }
        match &latest {
            None if !proof.is_empty() => {
                return Err(refuse(422, "a proof from the empty tree must be empty"));
            }
            None => {}
            Some(s) => {
                let root = Hash::from_base64(&s.root).map_err(|e| refuse(500, e.to_string()))?;
                let consistent = if s.size == checkpoint.size {
                    root == checkpoint.root && proof.is_empty()
                } else {
                    check_tree(&proof, checkpoint.size, checkpoint.root, s.size, root).is_ok()
                };
                if !consistent {
                    tracing::warn!(
                        origin,
                        old = s.size,
                        new = checkpoint.size,
                        "a checkpoint that does not extend the one cosigned: refused"
                    );
                    return Err(refuse(
                        422,
                        "the checkpoint does not extend the one this witness cosigned",
                    ));
                }
            }
        }
        let line = self
            .cosigner
            .sign(&opened.text, now)
            .map_err(|e| refuse(500, e.to_string()))?;
        let mut next = seen.clone();
        next.insert(
            origin.to_owned(),
            Seen {
                size: checkpoint.size,
                root: checkpoint.root.to_base64(),
            },
        );
        let text = serde_json::to_string_pretty(&next).map_err(|e| refuse(500, e.to_string()))?;
        crate::transparency::write_private(&self.state_file, &text)
            .map_err(|e| refuse(500, format!("cannot keep the witness's state: {e}")))?;
        *seen = next;
        Ok(line)
    }
}
