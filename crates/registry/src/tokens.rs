//! Bearer tokens: named, with a role, stored only as SHA-256 hashes.
//!
//! A token is shown once, when it is made. The store's tokens keyspace
//! ([`Store::tokens_keyspace`], a database of its own, apart from the
//! derived views that a rebuild may set aside) keeps `n/NAME` → the
//! token's record (JSON) and `h/HASH` → `NAME`, so a presented token is
//! found by its hash. Names are never reused: events record them as
//! `recorded_by`.
//!
//! Tokens are not derived from the log, so nothing rebuilds them: their
//! keyspace has no checkpoint, and its writes are ordered so that a crash
//! between them leaves nothing unsafe: the record that takes the name is
//! written before the hash that makes the token valid, so a hash never
//! points at a name whose record was written for another token. Adding
//! and revoking flush before they return.
//!
//! On PostgreSQL the tokens live in the database, shared by every
//! instance, and a lookup is two round trips: a token that authenticated
//! is then remembered for [`CACHE_FOR`]. A revocation through this
//! instance takes effect here at once; one made through another instance
//! takes effect here within [`CACHE_FOR`].

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pacta_domain::{Slug, Timestamp};
use pacta_store::Store;
use pacta_store::kv::{Keyspace, WriteSet};
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
    /// The tokens' keyspace failed.
    #[error("token storage: {0}")]
    Kv(#[from] pacta_store::kv::Error),
    /// A stored token record does not decode.
    #[error("a stored token record does not decode: {0}")]
    Corrupt(String),
    /// The system's random source failed.
    #[error("no randomness for a token: {0}")]
    Random(String),
}

/// How long a token that authenticated is taken as valid without asking
/// the database again, when the tokens live in PostgreSQL.
pub const CACHE_FOR: Duration = Duration::from_secs(2);

/// Tokens that authenticated, by hash, and when they were looked up.
type Cache = Mutex<HashMap<String, (Actor, Instant)>>;

/// The token store.
#[derive(Clone)]
pub struct Tokens {
    keyspace: Keyspace,
    /// On PostgreSQL: tokens that authenticated lately.
    cache: Option<Arc<Cache>>,
}

fn decode(json: &[u8]) -> Result<TokenInfo, TokenError> {
    serde_json::from_slice(json).map_err(|e| TokenError::Corrupt(e.to_string()))
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
            keyspace: store.tokens_keyspace()?,
            cache: store.postgres().map(|_| Arc::default()),
        })
    }

    fn record(&self, name: &[u8]) -> Result<Option<TokenInfo>, TokenError> {
        self.keyspace
            .get(&[b"n/".as_slice(), name].concat())?
            .map(|v| decode(&v))
            .transpose()
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
        if self.record(name.as_str().as_bytes())?.is_some() {
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
        // The record first: a crash before the hash leaves the name taken
        // by a token that was never shown and never authenticates.
        let mut writes = WriteSet::new();
        writes.put_json(format!("n/{name}"), &info)?;
        writes.put(format!("h/{}", hash(&token)), name.as_str());
        self.keyspace.write(&writes)?;
        self.keyspace.flush()?;
        Ok(token)
    }

    /// Every token's record, by name.
    pub fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        self.keyspace
            .scan_prefix(b"n/")?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    /// Revokes a token: it no longer authenticates.
    pub fn revoke(&self, name: &str) -> Result<TokenInfo, TokenError> {
        let Some(mut info) = self.record(name.as_bytes())? else {
            return Err(TokenError::Unknown(name.to_owned()));
        };
        if info.revoked_at.is_none() {
            info.revoked_at = Some(now());
            let mut writes = WriteSet::new();
            writes.put_json(format!("n/{name}"), &info)?;
            self.keyspace.write(&writes)?;
            self.keyspace.flush()?;
        }
        if let Some(cache) = &self.cache {
            cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, (actor, _)| actor.name != name);
        }
        Ok(info)
    }

    /// The actor a presented token stands for; `None` when it is unknown
    /// or revoked. A failed read is an error, not an unknown token.
    pub fn authenticate(&self, token: &str) -> Result<Option<Actor>, TokenError> {
        let hash = hash(token);
        let Some(cache) = &self.cache else {
            return self.look_up(&hash);
        };
        if let Some((actor, at)) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&hash)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(Some(actor.clone()));
        }
        let found = self.look_up(&hash)?;
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, (_, at)| at.elapsed() < CACHE_FOR);
        match &found {
            Some(actor) => cache.insert(hash, (actor.clone(), Instant::now())),
            None => cache.remove(&hash),
        };
        Ok(found)
    }

    fn look_up(&self, hash: &str) -> Result<Option<Actor>, TokenError> {
        let Some(name) = self.keyspace.get(format!("h/{hash}").as_bytes())? else {
            return Ok(None);
        };
        let Some(info) = self.record(&name)? else {
            return Err(TokenError::Corrupt(format!(
                "the hash of a token points at {:?}, which has no record",
                String::from_utf8_lossy(&name)
            )));
        };
        if info.revoked_at.is_some() {
            return Ok(None);
        }
        Ok(Some(Actor {
            name: info.name.to_string(),
            role: info.role,
            party: info.party,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(s: &str) -> Slug {
        Slug::parse(s).unwrap()
    }

    #[test]
    fn tokens_survive_a_reopen_and_revoking_is_final() {
        let dir = tempfile::tempdir().unwrap();
        let (clerk, admin) = {
            let store = Store::open(dir.path()).unwrap();
            let tokens = Tokens::open(&store).unwrap();
            let clerk = tokens
                .add(&slug("desk"), Role::Clerk, Some(slug("liberecky-kraj")))
                .unwrap();
            let admin = tokens.add(&slug("boss"), Role::Admin, None).unwrap();
            assert!(matches!(
                tokens.add(&slug("desk"), Role::Admin, None),
                Err(TokenError::Exists(_))
            ));
            tokens.revoke("boss").unwrap();
            (clerk, admin)
        };
        let store = Store::open(dir.path()).unwrap();
        let tokens = Tokens::open(&store).unwrap();
        let actor = tokens.authenticate(&clerk).unwrap().unwrap();
        assert_eq!(
            (actor.name.as_str(), actor.role, actor.party),
            ("desk", Role::Clerk, Some(slug("liberecky-kraj")))
        );
        assert_eq!(tokens.authenticate(&admin).unwrap(), None);
        assert_eq!(tokens.authenticate("pacta_nonsense").unwrap(), None);
        let names: Vec<String> = tokens
            .list()
            .unwrap()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        assert_eq!(names, ["boss", "desk"]);
    }

    /// `add` writes the record before the hash: cut short between them,
    /// it leaves the name taken (names are never reused) by a token
    /// nobody can use, which can be listed and revoked.
    #[test]
    fn an_add_cut_short_takes_the_name_and_authenticates_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tokens = Tokens::open(&store).unwrap();
        let info = TokenInfo {
            name: slug("desk"),
            role: Role::Admin,
            party: None,
            created_at: now(),
            revoked_at: None,
        };
        let mut writes = WriteSet::new();
        writes.put_json("n/desk", &info).unwrap();
        tokens.keyspace.write(&writes).unwrap();
        assert!(matches!(
            tokens.add(&slug("desk"), Role::Admin, None),
            Err(TokenError::Exists(_))
        ));
        assert_eq!(tokens.list().unwrap(), [info]);
        assert!(tokens.revoke("desk").unwrap().revoked_at.is_some());
    }
}
