//! Bearer tokens: named, with a role, stored only as SHA-256 hashes.
//!
//! A token is shown once, when it is made. The `tokens` tree keeps
//! `n/NAME` → the token's record (JSON) and `h/HASH` → `NAME`, so a
//! presented token is found by its hash. Names are never reused: events
//! record them as `recorded_by`.

use std::fmt;
use std::str::FromStr;

use pacta_domain::{Slug, Timestamp};
use pacta_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Actor, now};

/// What a token may do.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads only (reads are public anyway; a reader token identifies a client).
    Reader,
    /// Writes partnerships and offers of its own party; registers parties.
    Clerk,
    /// Writes anything.
    Admin,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Clerk => "clerk",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "reader" => Ok(Role::Reader),
            "clerk" => Ok(Role::Clerk),
            "admin" => Ok(Role::Admin),
            _ => Err(format!("unknown role {s:?} (reader, clerk or admin)")),
        }
    }
}

/// A token's record. The token itself is not kept.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Its name, recorded as `recorded_by`.
    pub name: Slug,
    /// Its role.
    pub role: Role,
    /// A clerk's party.
    pub party: Option<Slug>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The name is taken (names are never reused).
    #[error("a token named {0} exists already (names are never reused)")]
    Exists(Slug),
    /// No such token.
    #[error("no token named {0}")]
    Unknown(String),
    /// A clerk needs a party; others take none.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] pacta_store::Error),
    /// sled failed.
    #[error("token storage: {0}")]
    Sled(#[from] sled::Error),
    /// The system's random source failed.
    #[error("no randomness for a token: {0}")]
    Random(String),
}

/// The token store.
#[derive(Clone)]
pub struct Tokens {
    tree: sled::Tree,
    store: Store,
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Tokens {
    /// The tokens of a store.
    pub fn open(store: &Store) -> Result<Tokens, TokenError> {
        Ok(Tokens {
            tree: store.aux_tree("tokens")?,
            store: store.clone(),
        })
    }

    /// Makes a token and returns it; only its hash is stored.
    pub fn add(&self, name: &Slug, role: Role, party: Option<Slug>) -> Result<String, TokenError> {
        match (role, &party) {
            (Role::Clerk, None) => {
                return Err(TokenError::Invalid("a clerk token needs --party".into()));
            }
            (Role::Reader | Role::Admin, Some(_)) => {
                return Err(TokenError::Invalid(format!(
                    "only clerk tokens have a party; a {role} token takes no --party"
                )));
            }
            _ => {}
        }
        let key = format!("n/{name}");
        if self.tree.contains_key(&key)? {
            return Err(TokenError::Exists(name.clone()));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
        let token = format!(
            "pacta_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let info = TokenInfo {
            name: name.clone(),
            role,
            party,
            created_at: now(),
            revoked_at: None,
        };
        let json = serde_json::to_vec(&info).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let mut batch = sled::Batch::default();
        batch.insert(key.as_bytes(), json);
        batch.insert(
            format!("h/{}", hash(&token)).as_bytes(),
            name.as_str().as_bytes(),
        );
        self.tree.apply_batch(batch)?;
        self.store.flush()?;
        Ok(token)
    }

    /// Every token's record, by name.
    pub fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(b"n/") {
            let (_, v) = item?;
            out.push(serde_json::from_slice(&v).map_err(|e| TokenError::Invalid(e.to_string()))?);
        }
        Ok(out)
    }

    /// Revokes a token: it no longer authenticates.
    pub fn revoke(&self, name: &str) -> Result<TokenInfo, TokenError> {
        let key = format!("n/{name}");
        let Some(v) = self.tree.get(&key)? else {
            return Err(TokenError::Unknown(name.to_owned()));
        };
        let mut info: TokenInfo =
            serde_json::from_slice(&v).map_err(|e| TokenError::Invalid(e.to_string()))?;
        if info.revoked_at.is_none() {
            info.revoked_at = Some(now());
            let json = serde_json::to_vec(&info).map_err(|e| TokenError::Invalid(e.to_string()))?;
            self.tree.insert(key, json)?;
            self.store.flush()?;
        }
        Ok(info)
    }

    /// The actor a presented token stands for, if it is valid.
    pub fn authenticate(&self, token: &str) -> Option<Actor> {
        let name = self.tree.get(format!("h/{}", hash(token))).ok()??;
        let info: TokenInfo =
            serde_json::from_slice(&self.tree.get([b"n/".as_slice(), &name].concat()).ok()??)
                .ok()?;
        if info.revoked_at.is_some() {
            return None;
        }
        Some(Actor {
            name: info.name.to_string(),
            role: info.role,
            party: info.party,
        })
    }
}
