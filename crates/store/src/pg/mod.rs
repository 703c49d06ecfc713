//! Pacta's log in PostgreSQL, with the sled log's contract: the first
//! step of a second backend. [`PgLog`] appends, reads, verifies, imports
//! and announces the head; [`PgStore`] gives it [`Store`](crate::Store)'s
//! synchronous API, and a `Store` opened after [`crate::use_postgres`]
//! sends every method on the log to one.
//!
//! **Same records, same chain.** A record's stored bytes are its canonical
//! JSON ([`canonical`](crate::canonical)), byte for byte what the sled log
//! keeps after the two hashes, and `hash_n = SHA-256(hash_{n-1} ||
//! bytes_n)`: the same events with the same record times give the same
//! head hash in either backend, and `pacta export` from one imports into
//! the other with the same head.
//!
//! # Schema
//!
//! Versioned migrations, `crates/store/migrations/NNN_name.sql`, are
//! compiled in and applied by [`PgLog::connect`], each once, in order, in
//! its own transaction under an advisory lock, and recorded in
//! `schema_migrations(version int primary key, applied_at timestamptz)`.
//! A database with a version this build does not know is refused.
//!
//! | table | columns | |
//! |---|---|---|
//! | `log` | `position bigint` primary key (from 1, no gaps), `event_id bytea` unique (the ULID's 16 bytes), `stream text`, `version bigint`, unique `(stream, version)`, `hash bytea`, `prev_hash bytea`, `record bytea` | one row per record; `record` is the canonical JSON, the rest repeats what it says for the indexes; UPDATE, DELETE and TRUNCATE are refused by triggers |
//! | `head` | `id boolean` (the one row), `position bigint`, `hash bytea`, `epoch bigint` | the last record, moved in the records' transaction; `epoch` fences writers |
//!
//! One database holds one log.
//!
//! # Leadership and fencing
//!
//! One writer per log at a time. A [`PgLog`] takes the leadership on its
//! first write (or [`PgLog::lead`]): on a dedicated connection it takes the
//! session-level `pg_try_advisory_lock(`[`LEADER_LOCK`]`)`, raises
//! `head.epoch` by one and reads the head, then checks the log's last
//! [`TAIL_CHECKED`](crate::TAIL_CHECKED) records against the chain. It
//! writes every group **on that same connection**, so it cannot write
//! without holding the lock: if the session ends, the lock and the writer
//! go together. Another [`PgLog`] on the database reads freely; its writes
//! are refused with [`Error::NotLeader`] while the lock is held elsewhere, and
//! it takes over on its next write once the lock is gone (the holder
//! closed, crashed, or the server ended its session).
//!
//! A group is one transaction: it looks up the group's event ids and
//! stream versions, decides each request in order exactly as the sled
//! writer does, inserts the records (one multi-row `INSERT … SELECT FROM
//! unnest(…)` per thousand) and moves the head with
//!
//! ```sql
//! UPDATE head SET position = $new, hash = $h WHERE position = $held AND epoch = $epoch
//! ```
//!
//! No row updated means the head moved under the writer: the group fails,
//! nothing is written, and the writer gives up its connection, so the next
//! group takes the leadership again and reads the head afresh. Positions
//! are primary keys besides, so two writers can never both commit a
//! position: no fork. Any error in a group does the same (answer the
//! group with the error, start again from what the database holds): there
//! is no fail-stop as in sled, because a commit whose answer was lost is
//! resolved by the next take-over reading the head, and a retry of the
//! same request is then answered as a duplicate with its original
//! positions.
//!
//! # Durability and visibility
//!
//! The writer's session runs with `synchronous_commit = on` whatever the
//! server's default: the commit is the acknowledgement, and PostgreSQL
//! makes a commit visible to other sessions only after its WAL is flushed.
//! Readers see committed records only, never above the committed head
//! (the head moves in the records' own transaction). Concurrent
//! [`PgLog::append`] calls are grouped by the writer task into one
//! transaction, so a commit's flush is shared as the sled store shares its
//! `fdatasync`.
//!
//! # Live head
//!
//! Each group's transaction runs `NOTIFY pacta_log, '<position> <hash>'`
//! (the new head, the hash in 64 hex digits); [`PgLog::subscribe`]'s
//! receiver is fed by a `LISTEN pacta_log` on a dedicated connection,
//! which reconnects and re-reads the head after losing its connection.
//!
//! [`PgStore`] puts a [`PgLog`] behind [`Store`](crate::Store)'s
//! synchronous log API, on a Tokio runtime of its own.
//!
//! Not yet: TLS to the server (connections are plain, for a server on the
//! same host or network), and the projections' key-value interface.

pub mod blocking;
mod listen;
mod schema;
mod tree;
mod verify;
mod writer;

pub use blocking::PgStore;

use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use pacta_domain::{Digest, EventId, Recorded, StreamId, Timestamp};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_postgres::{Config, Row};

use crate::canonical::CanonicalEvent;
use crate::{Append, Appended, DigestCheck, Error, Head, MAX_RECORD_BYTES, VerifyReport};

/// The key of the session-level advisory lock the log's one writer holds
/// (`pg_try_advisory_lock`); advisory locks are per database, so this
/// names the database's log. The bytes spell `pacta_lg`.
pub const LEADER_LOCK: i64 = 0x7061_6374_615f_6c67;

/// The key of the transaction-level advisory lock that serializes
/// migrations (`pacta_mg`).
const MIGRATION_LOCK: i64 = 0x7061_6374_615f_6d67;

/// The channel the writer notifies the new head on.
pub const CHANNEL: &str = "pacta_log";

/// Reading connections kept open.
const POOL_SIZE: usize = 16;

/// Pacta's log in a PostgreSQL database. Cheap to clone; all clones share
/// one pool of reading connections and one writer task, which holds the
/// log's write leadership while it has it (see the [module docs](self)).
///
/// Every method needs a Tokio runtime; the writer and the listener run as
/// tasks of the runtime [`PgLog::connect`] ran on.
#[derive(Clone)]
pub struct PgLog {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// The database, for messages (no password).
    name: String,
    requests: Option<mpsc::UnboundedSender<writer::Request>>,
    writer: Option<JoinHandle<()>>,
    _listener: AbortOnDrop,
    head: watch::Receiver<Head>,
    leading: Arc<std::sync::atomic::AtomicBool>,
}

/// Aborts a task when dropped (a `JoinHandle` dropped lets it run on).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl PgLog {
    /// Connects to the database at `url` (`postgresql://user@host:port/db`,
    /// or tokio-postgres's `key=value` form), applies the migrations it
    /// lacks, and starts the writer and the listener. Takes no leadership:
    /// the first write (or [`PgLog::lead`]) does.
    pub async fn connect(url: &str) -> Result<PgLog, Error> {
        let config: Config = url.parse().map_err(|e| Error::Open {
            path: redact(url).into(),
            reason: format!("not a PostgreSQL connection string: {e}"),
        })?;
        let name = describe(&config);
        let open = |reason: String| Error::Open {
            path: name.clone().into(),
            reason,
        };
        let manager = Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| open(e.to_string()))?;
        let head = {
            let mut client = pool.get().await.map_err(|e| open(e.to_string()))?;
            schema::migrate(&mut client).await.map_err(|e| match e {
                Error::Storage { reason, .. } => open(reason),
                e => e,
            })?;
            read_head(&**client).await?
        };
        let (head_tx, head_rx) = watch::channel(head);
        let listener = AbortOnDrop(tokio::spawn(listen::run(config.clone(), head_tx.clone())));
        let (tx, rx) = mpsc::unbounded_channel();
        let leading = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = tokio::spawn(
            writer::Writer::new(config, name.clone(), head_tx, leading.clone()).run(rx),
        );
        Ok(PgLog {
            inner: Arc::new(Inner {
                pool,
                name,
                requests: Some(tx),
                writer: Some(writer),
                _listener: listener,
                head: head_rx,
                leading,
            }),
        })
    }

    /// The database, as `postgresql://user@host:port/db` (no password).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    fn send(&self, request: writer::Request) -> Result<(), Error> {
        let tx = self.inner.requests.as_ref().ok_or(Error::Shutdown)?;
        tx.send(request).map_err(|_| Error::Shutdown)
    }

    /// Whether this log's writer holds the write leadership now: taken on
    /// the first write or [`PgLog::lead`], lost with its session.
    pub fn leads(&self) -> bool {
        self.inner
            .leading
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Takes the write leadership now, rather than on the first write:
    /// [`Error::NotLeader`] while another writer holds it. Returns the head.
    pub async fn lead(&self) -> Result<Head, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(writer::Request::Lead(tx))?;
        rx.await.map_err(|_| Error::Shutdown)?
    }

    /// Appends a group of requests in one transaction, each decided in
    /// order as the sled store decides them (expected versions, event-id
    /// retries, sizes): one answer per request, in order. Record times are
    /// the clock's. Resolves once the transaction committed.
    pub async fn append(&self, appends: Vec<Append>) -> Vec<Result<Appended, Error>> {
        self.append_at(appends, None).await
    }

    /// [`PgLog::append`] with one request.
    pub async fn append_one(&self, append: Append) -> Result<Appended, Error> {
        let mut answers = self.append(vec![append]).await;
        answers.pop().unwrap_or(Err(Error::Shutdown))
    }

    /// [`PgLog::append`] with a record time chosen by the caller (`None`:
    /// the clock's), as [`Store::append_many_at_blocking`](crate::Store::append_many_at_blocking):
    /// record times still never go backwards.
    pub async fn append_at(
        &self,
        appends: Vec<Append>,
        recorded_at: Option<Timestamp>,
    ) -> Vec<Result<Appended, Error>> {
        let n = appends.len();
        let prepared = appends
            .into_iter()
            .map(|a| {
                let canonical = prepare(&a);
                (a, canonical)
            })
            .collect();
        let (tx, rx) = oneshot::channel();
        let sent = self.send(writer::Request::Append {
            appends: prepared,
            at: recorded_at,
            reply: tx,
        });
        let answers = match sent {
            Ok(()) => rx.await.ok(),
            Err(_) => None,
        };
        answers.unwrap_or_else(|| (0..n).map(|_| Err(Error::Shutdown)).collect())
    }

    /// Writes records of an export as they are, after checking that each
    /// continues the chain from the head (position, previous hash, its
    /// hash over its canonical bytes, stream version, new event id, record
    /// times not going backwards), as [`Store::import_blocking`](crate::Store::import_blocking)
    /// does. All or nothing, in one transaction; returns the new head.
    pub async fn import(&self, records: Vec<Recorded>) -> Result<Head, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(writer::Request::Import(records, tx))?;
        rx.await.map_err(|_| Error::Shutdown)?
    }

    /// The committed head, as the database holds it now.
    pub async fn head(&self) -> Result<Head, Error> {
        let client = self.client().await?;
        read_head(&**client).await
    }

    /// A receiver that sees the head after every committed group, this
    /// process's and other writers' (through `LISTEN`). It may skip heads
    /// (it holds the latest), never goes back, and starts at the head
    /// [`PgLog::connect`] read.
    pub fn subscribe(&self) -> watch::Receiver<Head> {
        self.inner.head.clone()
    }

    /// The committed record at a position.
    pub async fn get(&self, position: u64) -> Result<Option<Recorded>, Error> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!("SELECT {COLUMNS} FROM log WHERE position = $1"))
            .await
            .db()?;
        let row = client
            .query_opt(&statement, &[&sql_int(position)])
            .await
            .db()?;
        row.map(|r| decode_row(&r)).transpose()
    }

    /// Up to `limit` committed records from `after + 1` on, in log order;
    /// none above the committed head.
    pub async fn read_from(&self, after: u64, limit: usize) -> Result<Vec<Recorded>, Error> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM log \
                 WHERE position > $1 AND position <= (SELECT position FROM head) \
                 ORDER BY position LIMIT $2"
            ))
            .await
            .db()?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(&statement, &[&sql_int(after), &limit])
            .await
            .db()?;
        rows.iter().map(decode_row).collect()
    }

    /// The committed records of one stream, in version order.
    pub async fn stream(&self, stream: &StreamId) -> Result<Vec<Recorded>, Error> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM log WHERE stream = $1 ORDER BY version"
            ))
            .await
            .db()?;
        let rows = client
            .query(&statement, &[&stream.to_string()])
            .await
            .db()?;
        let records: Vec<Recorded> = rows.iter().map(decode_row).collect::<Result<_, _>>()?;
        for (i, r) in records.iter().enumerate() {
            if r.envelope.version != i as u64 + 1 {
                return Err(Error::Corrupt {
                    position: r.envelope.position,
                    reason: format!(
                        "{stream} has version {} where version {} belongs",
                        r.envelope.version,
                        i + 1
                    ),
                });
            }
        }
        Ok(records)
    }

    /// The stream's committed version (0 when it does not exist).
    pub async fn stream_version(&self, stream: &StreamId) -> Result<u64, Error> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT coalesce(max(version), 0) FROM log WHERE stream = $1")
            .await
            .db()?;
        let row = client
            .query_one(&statement, &[&stream.to_string()])
            .await
            .db()?;
        from_sql_int(0, row.try_get(0).db()?)
    }

    /// Where an event id is stored, if it is.
    pub async fn position_of(&self, event_id: EventId) -> Result<Option<u64>, Error> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT position FROM log WHERE event_id = $1")
            .await
            .db()?;
        let row = client
            .query_opt(&statement, &[&event_id.to_bytes().as_slice()])
            .await
            .db()?;
        row.map(|r| from_sql_int(0, r.try_get(0).db()?)).transpose()
    }

    /// Recomputes the hash chain from position 1 to the committed head, as
    /// [`Store::verify`](crate::Store::verify) does; a missing position
    /// counts as unreadable, and a record whose `event_id`, `stream`,
    /// `version` or `position` columns disagree with its bytes as
    /// mismatched. `progress(done, total)` is called now and then.
    pub async fn verify(
        &self,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<VerifyReport, Error> {
        let mut client = self.client().await?;
        verify::verify(&mut client, progress).await
    }

    /// Checks that the log still extends a digest taken earlier, as
    /// [`Store::verify_digest`](crate::Store::verify_digest) does: the
    /// record at the digest's position still has the digest's hash, and
    /// the chain up to the committed head verifies (one snapshot).
    pub async fn verify_digest(
        &self,
        digest: Head,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<DigestCheck, Error> {
        let mut client = self.client().await?;
        verify::verify_digest(&mut client, digest, progress).await
    }

    /// Ends the writer, giving up the leadership and closing its
    /// connection before returning (dropping the last handle does the same
    /// without waiting). Other clones of this log keep it open: then this
    /// only drops the handle.
    pub async fn close(self) {
        if let Ok(mut inner) = Arc::try_unwrap(self.inner) {
            inner.requests.take();
            if let Some(writer) = inner.writer.take() {
                let _ = writer.await;
            }
        }
    }

    /// The value under `key` in keyspace `keyspace` of the `kv` table
    /// (the state every instance shares; see [`crate::kv`]).
    pub async fn kv_get(&self, keyspace: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT value FROM kv WHERE keyspace = $1 AND key = $2",
                &[&keyspace, &key],
            )
            .await
            .db()?;
        row.map(|r| r.try_get(0).db()).transpose()
    }

    /// Every entry of `keyspace` whose key starts with `prefix`, in key
    /// order (bytes compared as the embedded store compares them).
    pub async fn kv_scan(
        &self,
        keyspace: &str,
        prefix: &[u8],
    ) -> Result<Vec<crate::kv::Pair>, Error> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT key, value FROM kv WHERE keyspace = $1 \
                 AND substr(key, 1, octet_length($2::bytea)) = $2::bytea ORDER BY key",
                &[&keyspace, &prefix],
            )
            .await
            .db()?;
        rows.iter()
            .map(|r| Ok((r.try_get(0).db()?, r.try_get(1).db()?)))
            .collect()
    }

    /// Puts (`Some`) or deletes (`None`) each entry in order, in one
    /// transaction: all or none of them, durable once this returns
    /// (`synchronous_commit = on`).
    pub async fn kv_write(
        &self,
        keyspace: &str,
        ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), Error> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.db()?;
        tx.batch_execute("SET LOCAL synchronous_commit = on")
            .await
            .db()?;
        for (key, value) in &ops {
            match value {
                Some(value) => tx
                    .execute(
                        "INSERT INTO kv (keyspace, key, value) VALUES ($1, $2, $3) \
                         ON CONFLICT (keyspace, key) DO UPDATE SET value = excluded.value",
                        &[&keyspace, key, value],
                    )
                    .await
                    .db()?,
                None => tx
                    .execute(
                        "DELETE FROM kv WHERE keyspace = $1 AND key = $2",
                        &[&keyspace, key],
                    )
                    .await
                    .db()?,
            };
        }
        tx.commit().await.db()
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, Error> {
        self.inner.pool.get().await.map_err(|e| Error::Storage {
            reason: format!("no connection to {}: {e}", self.inner.name),
            disk_full: false,
        })
    }
}

/// The columns [`decode_row`] reads, in its order.
const COLUMNS: &str = "position, event_id, stream, version, hash, prev_hash, record";

/// Serializes an append's events and checks their size, as the sled
/// store does before queueing a request.
fn prepare(append: &Append) -> Result<Vec<CanonicalEvent>, Error> {
    append
        .events
        .iter()
        .map(|e| {
            let c = CanonicalEvent::new(&e.event)?;
            // The envelope adds ids, times, the stream and the actor.
            let size = c.len() + 256 + append.stream.to_string().len() + e.recorded_by.len();
            if size > MAX_RECORD_BYTES {
                return Err(Error::TooLarge {
                    size,
                    max: MAX_RECORD_BYTES,
                });
            }
            Ok(c)
        })
        .collect()
}

/// A row of [`COLUMNS`] as a record, checked against its columns.
fn decode_row(row: &Row) -> Result<Recorded, Error> {
    let position = from_sql_int(0, row.try_get(0).db()?)?;
    let event_id: &[u8] = row.try_get(1).db()?;
    let stream: &str = row.try_get(2).db()?;
    let version = from_sql_int(position, row.try_get(3).db()?)?;
    let hash = digest(position, row.try_get(4).db()?)?;
    let prev_hash = digest(position, row.try_get(5).db()?)?;
    let record: &[u8] = row.try_get(6).db()?;
    let corrupt = |reason: String| Error::Corrupt { position, reason };
    let (envelope, event) =
        pacta_domain::record::decode_unhashed(record).map_err(|e| corrupt(e.to_string()))?;
    let stated = Stated {
        position: envelope.position,
        event_id: envelope.event_id,
        stream: &envelope.stream,
        version: envelope.version,
    };
    let columns = Columns {
        position,
        event_id,
        stream,
        version,
    };
    if let Some(reason) = disagreement(stated, columns) {
        return Err(corrupt(reason));
    }
    Ok(Recorded {
        envelope,
        event,
        prev_hash,
        hash,
    })
}

/// Where a record's bytes say it belongs.
struct Stated<'a> {
    position: u64,
    event_id: EventId,
    stream: &'a StreamId,
    version: u64,
}

/// Where its row's columns put it.
struct Columns<'a> {
    position: u64,
    event_id: &'a [u8],
    stream: &'a str,
    version: u64,
}

/// What a row's columns say that its record's bytes do not, if anything.
fn disagreement(stated: Stated<'_>, columns: Columns<'_>) -> Option<String> {
    if stated.position != columns.position {
        return Some(format!(
            "the record says it is at position {}",
            stated.position
        ));
    }
    if stated.event_id.to_bytes().as_slice() != columns.event_id {
        return Some(format!(
            "the record's event id is {}, its event_id column says otherwise",
            stated.event_id
        ));
    }
    if stated.stream.to_string() != columns.stream {
        return Some(format!(
            "the record is in {}, its stream column says {}",
            stated.stream, columns.stream
        ));
    }
    if stated.version != columns.version {
        return Some(format!(
            "the record is version {}, its version column says {}",
            stated.version, columns.version
        ));
    }
    None
}

async fn read_head(client: &impl tokio_postgres::GenericClient) -> Result<Head, Error> {
    let row = client
        .query_one("SELECT position, hash FROM head", &[])
        .await
        .db()?;
    let position = from_sql_int(0, row.try_get(0).db()?)?;
    Ok(Head {
        position,
        hash: digest(position, row.try_get(1).db()?)?,
    })
}

fn digest(position: u64, bytes: &[u8]) -> Result<Digest, Error> {
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| Error::Corrupt {
        position,
        reason: format!("a stored hash has {} bytes, not 32", bytes.len()),
    })?;
    Ok(Digest(bytes))
}

/// A position or version as PostgreSQL's `bigint` (none reaches 2^63).
fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn from_sql_int(position: u64, n: i64) -> Result<u64, Error> {
    u64::try_from(n).map_err(|_| Error::Corrupt {
        position,
        reason: format!("a stored position or version is negative ({n})"),
    })
}

/// The database's name for messages: `postgresql://user@host:port/db`.
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgresql://{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

/// A connection string that did not parse, for messages: its scheme,
/// user, host and path, without a password or query parameters (which
/// may hold one); a `key=value` string is not shown at all.
fn redact(url: &str) -> String {
    let Some(scheme) = url.find("://") else {
        return "the given connection string".into();
    };
    let rest = &url[scheme + 3..];
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let shown = match authority.rfind('@') {
        Some(at) => {
            let user = authority[..at].split(':').next().unwrap_or("");
            format!("{user}{}", &authority[at..])
        }
        None => authority.to_owned(),
    };
    format!("{}{shown}{path}", &url[..scheme + 3])
}

/// tokio-postgres's errors as the store's.
trait Db<T> {
    fn db(self) -> Result<T, Error>;
}

impl<T> Db<T> for Result<T, tokio_postgres::Error> {
    fn db(self) -> Result<T, Error> {
        self.map_err(db_error)
    }
}

fn db_error(e: tokio_postgres::Error) -> Error {
    let disk_full = e.code() == Some(&tokio_postgres::error::SqlState::DISK_FULL);
    let reason = match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {}: {}", db.severity(), db.message()),
        None => format!("PostgreSQL: {e}"),
    };
    Error::Storage { reason, disk_full }
}

/// An error for each of several callers.
fn copy_error(e: &Error) -> Error {
    match e {
        Error::NotLeader { database } => Error::NotLeader {
            database: database.clone(),
        },
        Error::Storage { reason, disk_full } => Error::Storage {
            reason: reason.clone(),
            disk_full: *disk_full,
        },
        Error::Damaged { position, reason } => Error::Damaged {
            position: *position,
            reason: reason.clone(),
        },
        Error::Corrupt { position, reason } => Error::Corrupt {
            position: *position,
            reason: reason.clone(),
        },
        Error::Shutdown => Error::Shutdown,
        other => Error::Storage {
            reason: other.to_string(),
            disk_full: other.is_disk_full(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_shown() {
        assert_eq!(
            redact("postgresql://pacta:s@cret@db:5432/pacta?password=x"),
            "postgresql://pacta@db:5432/pacta"
        );
        assert_eq!(
            redact("host=db password=secret"),
            "the given connection string"
        );
        let config: Config = "postgresql://pacta:secret@db:5433/log".parse().unwrap();
        assert_eq!(describe(&config), "postgresql://pacta@db:5433/log");
    }

    #[test]
    fn the_lock_keys_spell_their_names() {
        assert_eq!(&LEADER_LOCK.to_be_bytes(), b"pacta_lg");
        assert_eq!(&MIGRATION_LOCK.to_be_bytes(), b"pacta_mg");
    }
}
