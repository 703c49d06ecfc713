//! The writer task: the log's one writer in this process.
//!
//! It blocks for one request, then takes every request already waiting
//! (capped by [`MAX_GROUP_EVENTS`] and [`MAX_GROUP_BYTES`]), and writes
//! the group in one transaction on the connection that holds the
//! leadership (see the [module docs](super) for the fencing): look up the
//! group's event ids and streams' versions, decide each request in order
//! against them and against the group's earlier requests (the sled
//! writer's rules, in `crate::writer`), insert the records, move the head
//! under the fence, `NOTIFY`, commit, answer.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pacta_domain::{Digest, Envelope, Event, EventId, Recorded, StreamId, Timestamp};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, Statement};

use super::{
    CHANNEL, COLUMNS, Db, LEADER_LOCK, copy_error, decode_row, digest, from_sql_int, listen,
    sql_int, verify,
};
use crate::canonical::{CanonicalEvent, canonical_bytes, chain_hash};
use crate::rules::{self, Found, Ledger};
use crate::{Append, Appended, Error, Head, Landed, MAX_RECORD_BYTES, TAIL_CHECKED};

/// The most events one group takes; the rest wait for the next.
const MAX_GROUP_EVENTS: usize = 4096;

/// The most event bytes one group takes (an import is one request,
/// however large).
const MAX_GROUP_BYTES: usize = 8 << 20;

/// Rows per `INSERT`, and ids or streams per look-up.
const CHUNK: usize = 1000;

/// How long giving up the leadership waits for the server to release
/// the lock before closing the connection anyway.
const UNLOCK_TIMEOUT: Duration = Duration::from_secs(1);

pub(super) enum Request {
    /// Appends with each one's events in canonical form (or why not).
    Append {
        appends: Vec<(Append, Result<Vec<CanonicalEvent>, Error>)>,
        at: Option<Timestamp>,
        reply: oneshot::Sender<Vec<Result<Appended, Error>>>,
    },
    Import(Vec<Recorded>, oneshot::Sender<Result<Head, Error>>),
    /// Take the leadership, write nothing.
    Lead(oneshot::Sender<Result<Head, Error>>),
}

impl Request {
    /// Events and event bytes, for the group's caps.
    fn size(&self) -> (usize, usize) {
        match self {
            Request::Append { appends, .. } => appends
                .iter()
                .filter_map(|(_, prepared)| prepared.as_ref().ok())
                .flatten()
                .fold((0, 0), |(n, bytes), c| (n + 1, bytes + c.len())),
            Request::Import(records, _) => (records.len(), 0),
            Request::Lead(_) => (0, 0),
        }
    }

    /// The ids and streams deciding it needs to know about.
    fn gather(&self, ids: &mut Vec<EventId>, streams: &mut HashSet<StreamId>) {
        match self {
            Request::Append { appends, .. } => {
                for (append, prepared) in appends {
                    if prepared.is_ok() {
                        streams.insert(append.stream.clone());
                        ids.extend(append.events.iter().map(|e| e.event_id));
                    }
                }
            }
            Request::Import(records, _) => {
                for r in records {
                    streams.insert(r.envelope.stream.clone());
                    ids.push(r.envelope.event_id);
                }
            }
            Request::Lead(_) => {}
        }
    }

    /// Answers with `e` (one copy per caller).
    fn refuse(self, e: &Error) {
        match self {
            Request::Append { appends, reply, .. } => {
                let answers = appends
                    .into_iter()
                    .map(|(_, prepared)| Err(prepared.err().unwrap_or_else(|| copy_error(e))))
                    .collect();
                drop(reply.send(answers));
            }
            Request::Import(_, reply) => drop(reply.send(Err(copy_error(e)))),
            Request::Lead(reply) => drop(reply.send(Err(copy_error(e)))),
        }
    }
}

/// One answer to an append of a request, before the group commits.
enum Answer {
    /// Refused before the log was looked at (malformed, too large): stays
    /// so whatever happens to the group.
    Refused(Error),
    /// Decided against the log and the group: holds only if the group
    /// commits.
    Decided(Result<Appended, Error>),
}

/// A request decided, waiting for its group's commit.
enum Decided {
    Append(oneshot::Sender<Vec<Result<Appended, Error>>>, Vec<Answer>),
    Import(oneshot::Sender<Result<Head, Error>>, Result<Head, Error>),
    Lead(oneshot::Sender<Result<Head, Error>>),
}

impl Decided {
    /// The group committed (`head` after it). A caller that gave up is no
    /// reason to stop.
    fn answer(self, head: Head) {
        match self {
            Decided::Append(reply, answers) => {
                let answers = answers
                    .into_iter()
                    .map(|a| match a {
                        Answer::Refused(e) => Err(e),
                        Answer::Decided(outcome) => outcome,
                    })
                    .collect();
                drop(reply.send(answers));
            }
            Decided::Import(reply, outcome) => drop(reply.send(outcome)),
            Decided::Lead(reply) => drop(reply.send(Ok(head))),
        }
    }

    /// The group did not commit: every decision made against the log is
    /// void (a retry found earlier in the group, a conflict with it), so
    /// each is answered with `e`.
    fn fail(self, e: &Error) {
        match self {
            Decided::Append(reply, answers) => {
                let answers = answers
                    .into_iter()
                    .map(|a| match a {
                        Answer::Refused(e) => Err(e),
                        Answer::Decided(_) => Err(copy_error(e)),
                    })
                    .collect();
                drop(reply.send(answers));
            }
            Decided::Import(reply, _) => drop(reply.send(Err(copy_error(e)))),
            Decided::Lead(reply) => drop(reply.send(Err(copy_error(e)))),
        }
    }
}

pub(super) struct Writer {
    config: Config,
    /// The database, for [`Error::NotLeader`].
    name: String,
    head: watch::Sender<Head>,
    leader: Option<Leader>,
    /// Whether this writer holds the leadership now, for
    /// [`PgLog::leads`](super::PgLog::leads).
    leading: Arc<AtomicBool>,
}

/// The leadership, while this process holds it.
struct Leader {
    /// The session holding the advisory lock; every group is written on it.
    client: Client,
    connection: JoinHandle<()>,
    epoch: i64,
    /// The head as this writer wrote it (committed).
    head: Head,
    last_recorded: Timestamp,
    statements: Statements,
    leading: Arc<AtomicBool>,
}

struct Statements {
    ids: Statement,
    versions: Statement,
    insert: Statement,
    fence: Statement,
    notify: Statement,
}

impl Statements {
    async fn prepare(client: &Client) -> Result<Statements, Error> {
        Ok(Statements {
            ids: client
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM log WHERE event_id = ANY($1::bytea[])"
                ))
                .await
                .db()?,
            // `max(version)` per stream through the (stream, version) index.
            versions: client
                .prepare(
                    "SELECT s.i, coalesce((SELECT max(l.version) FROM log l \
                     WHERE l.stream = s.stream), 0) \
                     FROM unnest($1::text[]) WITH ORDINALITY AS s(stream, i)",
                )
                .await
                .db()?,
            insert: client
                .prepare(
                    "INSERT INTO log (position, event_id, stream, version, hash, prev_hash, record) \
                     SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bigint[], \
                     $5::bytea[], $6::bytea[], $7::bytea[])",
                )
                .await
                .db()?,
            fence: client
                .prepare(
                    "UPDATE head SET position = $1, hash = $2 \
                     WHERE id AND position = $3 AND epoch = $4",
                )
                .await
                .db()?,
            notify: client
                .prepare("SELECT pg_notify($1, $2)")
                .await
                .db()?,
        })
    }
}

impl Writer {
    pub(super) fn new(
        config: Config,
        name: String,
        head: watch::Sender<Head>,
        leading: Arc<AtomicBool>,
    ) -> Writer {
        Writer {
            config,
            name,
            head,
            leader: None,
            leading,
        }
    }

    /// Serves requests until every handle of the log is gone, then gives
    /// up the leadership.
    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        while let Some(first) = rx.recv().await {
            let (mut events, mut bytes) = first.size();
            let mut group = vec![first];
            while events < MAX_GROUP_EVENTS && bytes < MAX_GROUP_BYTES {
                match rx.try_recv() {
                    Ok(r) => {
                        let (n, b) = r.size();
                        events += n;
                        bytes += b;
                        group.push(r);
                    }
                    Err(_) => break,
                }
            }
            self.process(group).await;
        }
        if let Some(leader) = self.leader.take() {
            leader.resign().await;
        }
    }

    async fn process(&mut self, requests: Vec<Request>) {
        let mut leader = match self.leader.take() {
            Some(leader) if !leader.client.is_closed() => leader,
            stale => {
                if let Some(stale) = stale {
                    stale.resign().await;
                }
                match self.take_over().await {
                    Ok(leader) => leader,
                    Err(e) => {
                        requests.into_iter().for_each(|r| r.refuse(&e));
                        return;
                    }
                }
            }
        };
        match leader.write(requests, &self.head).await {
            Ok(()) => self.leader = Some(leader),
            Err(e) => {
                tracing::warn!(error = %e, "a group failed; the writer gives up the leadership \
                    and takes it again, reading the head afresh, on the next write");
                leader.resign().await;
            }
        }
    }

    /// Takes the leadership: the lock on a new session, a new epoch, the
    /// head, and a check of the log's last records.
    async fn take_over(&self) -> Result<Leader, Error> {
        let (mut client, connection) = self.config.connect(tokio_postgres::NoTls).await.db()?;
        let leading = self.leading.clone();
        let connection = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "the writer's connection ended");
            }
            // The lock ended with the session.
            leading.store(false, Ordering::Release);
        });
        // On an error below, dropping `client` ends the session, and the
        // lock with it.
        client
            .batch_execute("SET synchronous_commit = on; SET application_name = 'pacta-writer'")
            .await
            .db()?;
        let locked: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK])
            .await
            .db()?
            .try_get(0)
            .db()?;
        if !locked {
            return Err(Error::NotLeader {
                database: self.name.clone(),
            });
        }
        let row = client
            .query_one(
                "UPDATE head SET epoch = epoch + 1 WHERE id RETURNING position, hash, epoch",
                &[],
            )
            .await
            .db()?;
        let position = from_sql_int(0, row.try_get(0).db()?)?;
        let head = Head {
            position,
            hash: digest(position, row.try_get(1).db()?)?,
        };
        let epoch: i64 = row.try_get(2).db()?;
        if let Some((position, reason)) =
            verify::check_tail(&mut client, head, TAIL_CHECKED).await?
        {
            tracing::error!(position, %reason, "the log is damaged; this writer refuses to write");
            return Err(Error::Damaged { position, reason });
        }
        let last_recorded = match client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM log WHERE position = $1"),
                &[&sql_int(position)],
            )
            .await
            .db()?
        {
            Some(row) => decode_row(&row)?.envelope.recorded_at,
            None => Timestamp::MIN,
        };
        let statements = Statements::prepare(&client).await?;
        tracing::info!(epoch, position, "took the write leadership of the log");
        // Whatever the process published before, the head is this.
        listen::advance(&self.head, head);
        self.leading.store(true, Ordering::Release);
        Ok(Leader {
            client,
            connection,
            epoch,
            head,
            last_recorded,
            statements,
            leading: self.leading.clone(),
        })
    }
}

impl Leader {
    /// Gives up the leadership: releases the lock while the session is
    /// alive (so that another writer, or this one again, gets it at once),
    /// then closes the connection.
    async fn resign(self) {
        self.leading.store(false, Ordering::Release);
        if !self.client.is_closed() {
            let unlock = self
                .client
                .execute("SELECT pg_advisory_unlock($1)", &[&LEADER_LOCK]);
            let _ = tokio::time::timeout(UNLOCK_TIMEOUT, unlock).await;
        }
        drop(self.client);
        let mut connection = self.connection;
        if tokio::time::timeout(UNLOCK_TIMEOUT, &mut connection)
            .await
            .is_err()
        {
            tracing::debug!("the writer's connection did not close in time; closing it");
            connection.abort();
        }
    }

    /// Decides and writes one group; answers every request. An error means
    /// nothing of the group was written (or, for a lost commit answer, that
    /// the next take-over finds out from the head).
    async fn write(
        &mut self,
        requests: Vec<Request>,
        watch: &watch::Sender<Head>,
    ) -> Result<(), Error> {
        if requests.iter().all(|r| matches!(r, Request::Lead(_))) {
            for r in requests {
                if let Request::Lead(reply) = r {
                    drop(reply.send(Ok(self.head)));
                }
            }
            return Ok(());
        }
        let mut ids = Vec::new();
        let mut streams = HashSet::new();
        for r in &requests {
            r.gather(&mut ids, &mut streams);
        }
        let streams: Vec<StreamId> = streams.into_iter().collect();
        let started = std::time::Instant::now();
        // One round trip: the transaction begins while the group's ids and
        // streams are looked up (pipelined on the leader's connection).
        // The look-ups may run before BEGIN: only this writer writes, so
        // they see what the transaction would.
        let begun = async { self.client.batch_execute("BEGIN").await.db() };
        let known = match tokio::try_join!(
            begun,
            lookup(&self.client, &self.statements, &ids, &streams)
        ) {
            Ok(((), known)) => known,
            Err(e) => {
                // The caller gives up the leadership, which ends the
                // session and whatever it began.
                requests.into_iter().for_each(|r| r.refuse(&e));
                return Err(e);
            }
        };
        let mut staged = Staged {
            head: self.head,
            last_recorded: self.last_recorded,
            versions: known.versions,
            ids: known.ids,
            rows: Vec::new(),
        };
        let decided: Vec<Decided> = requests.into_iter().map(|r| staged.decide(r)).collect();
        if staged.rows.is_empty() {
            // Nothing to write: every answer stands on what is committed.
            let rolled_back = self.client.batch_execute("ROLLBACK").await.db();
            decided.into_iter().for_each(|d| d.answer(self.head));
            return rolled_back;
        }
        let (before, after) = (self.head, staged.head);
        match commit(
            &self.client,
            &self.statements,
            &staged.rows,
            before,
            after,
            self.epoch,
        )
        .await
        {
            Ok(()) => {
                tracing::debug!(
                    requests = decided.len(),
                    records = after.position - before.position,
                    micros = started.elapsed().as_micros() as u64,
                    "group committed"
                );
                self.head = after;
                self.last_recorded = staged.last_recorded;
                listen::advance(watch, after);
                decided.into_iter().for_each(|d| d.answer(after));
                Ok(())
            }
            Err(e) => {
                decided.into_iter().for_each(|d| d.fail(&e));
                Err(e)
            }
        }
    }
}

/// Writes the group's records, moves the head under the fence, notifies
/// and commits, in the transaction the caller began on `client`. The last
/// insert, the fence and the notification go out together (pipelined),
/// then COMMIT: two round trips for a group of any size up to [`CHUNK`]
/// records. On an error nothing is committed; the caller gives up the
/// leadership, which ends the transaction with the session.
async fn commit(
    client: &Client,
    statements: &Statements,
    rows: &[Row],
    before: Head,
    after: Head,
    epoch: i64,
) -> Result<(), Error> {
    let mut chunks: Vec<&[Row]> = rows.chunks(CHUNK).collect();
    let last = chunks.pop().unwrap_or(&[]);
    for chunk in chunks {
        insert(client, statements, chunk).await?;
    }
    let (after_position, after_hash) = (sql_int(after.position), after.hash.0.to_vec());
    let before_position = sql_int(before.position);
    let fence = async {
        client
            .execute(
                &statements.fence,
                &[&after_position, &after_hash, &before_position, &epoch],
            )
            .await
            .db()
    };
    let payload = listen::payload(after);
    let notify = async {
        client
            .execute(&statements.notify, &[&CHANNEL, &payload])
            .await
            .db()
    };
    let (_, moved, _) = tokio::try_join!(insert(client, statements, last), fence, notify)?;
    if moved != 1 {
        return Err(Error::Storage {
            reason: format!(
                "the log's head moved under this writer (it held position {} at epoch {epoch}): \
                 another writer wrote; nothing of this group was written",
                before.position
            ),
            disk_full: false,
        });
    }
    client.batch_execute("COMMIT").await.db()
}

/// Inserts records in one statement.
async fn insert(client: &Client, statements: &Statements, chunk: &[Row]) -> Result<u64, Error> {
    let position: Vec<i64> = chunk.iter().map(|r| sql_int(r.position)).collect();
    let event_id: Vec<&[u8]> = chunk.iter().map(|r| r.event_id.as_slice()).collect();
    let stream: Vec<&str> = chunk.iter().map(|r| r.stream.as_str()).collect();
    let version: Vec<i64> = chunk.iter().map(|r| sql_int(r.version)).collect();
    let hash: Vec<&[u8]> = chunk.iter().map(|r| r.hash.0.as_slice()).collect();
    let prev: Vec<&[u8]> = chunk.iter().map(|r| r.prev_hash.0.as_slice()).collect();
    let record: Vec<&[u8]> = chunk.iter().map(|r| r.bytes.as_slice()).collect();
    client
        .execute(
            &statements.insert,
            &[
                &position, &event_id, &stream, &version, &hash, &prev, &record,
            ],
        )
        .await
        .db()
}

/// What the database holds for a group's ids and streams.
struct Known {
    ids: HashMap<EventId, Stored>,
    versions: HashMap<StreamId, u64>,
}

/// Looks up the group's ids and streams: the two queries go out together.
async fn lookup(
    client: &Client,
    statements: &Statements,
    ids: &[EventId],
    streams: &[StreamId],
) -> Result<Known, Error> {
    let by_id = async {
        let mut found = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let bytes: Vec<Vec<u8>> = chunk.iter().map(|id| id.to_bytes().to_vec()).collect();
            for row in client.query(&statements.ids, &[&bytes]).await.db()? {
                let record = decode_row(&row)?;
                found.insert(record.envelope.event_id, Stored::from(record));
            }
        }
        Ok::<_, Error>(found)
    };
    let by_stream = async {
        let mut versions = HashMap::with_capacity(streams.len());
        for chunk in streams.chunks(CHUNK) {
            let names: Vec<String> = chunk.iter().map(|s| s.to_string()).collect();
            for row in client.query(&statements.versions, &[&names]).await.db()? {
                let i: i64 = row.try_get(0).db()?;
                let version = from_sql_int(0, row.try_get(1).db()?)?;
                let stream = usize::try_from(i - 1)
                    .ok()
                    .and_then(|i| chunk.get(i))
                    .ok_or_else(|| Error::Storage {
                        reason: format!("the stream look-up answered for stream number {i}"),
                        disk_full: false,
                    })?;
                versions.insert(stream.clone(), version);
            }
        }
        Ok(versions)
    };
    let (ids, versions) = tokio::try_join!(by_id, by_stream)?;
    Ok(Known { ids, versions })
}

/// A stored (or staged) record found for a retried event id.
struct Stored {
    stream: StreamId,
    landed: Landed,
    event: Event,
}

impl From<Recorded> for Stored {
    fn from(r: Recorded) -> Stored {
        Stored {
            landed: Landed {
                event_id: r.envelope.event_id,
                position: r.envelope.position,
                version: r.envelope.version,
                recorded_at: r.envelope.recorded_at,
                hash: r.hash,
            },
            stream: r.envelope.stream,
            event: r.event,
        }
    }
}

impl Ledger for Staged {
    fn find(&mut self, id: EventId) -> Result<Option<Found>, Error> {
        Ok(self.ids.get(&id).map(|s| Found {
            stream: s.stream.clone(),
            landed: s.landed,
            event: Some(s.event.clone()),
        }))
    }

    fn version(&mut self, stream: &StreamId) -> Result<u64, Error> {
        Ok(self.stream_version(stream))
    }

    fn head(&self) -> Head {
        self.head
    }

    fn last_recorded(&self) -> Timestamp {
        self.last_recorded
    }

    fn stage(
        &mut self,
        envelope: Envelope,
        event: Event,
        hash: Digest,
        prev: Digest,
        bytes: Vec<u8>,
    ) -> Landed {
        self.stage_row(envelope, event, hash, prev, bytes)
    }

    fn recorded(&mut self, at: Timestamp) {
        self.last_recorded = at;
    }
}

/// One record to insert.
struct Row {
    position: u64,
    event_id: [u8; 16],
    stream: String,
    version: u64,
    hash: Digest,
    prev_hash: Digest,
    bytes: Vec<u8>,
}

/// A group being decided: the log as the group's earlier requests leave
/// it.
struct Staged {
    head: Head,
    last_recorded: Timestamp,
    /// Every stream of the group: its version.
    versions: HashMap<StreamId, u64>,
    /// Every event id of the group that is stored or staged.
    ids: HashMap<EventId, Stored>,
    rows: Vec<Row>,
}

impl Staged {
    fn decide(&mut self, request: Request) -> Decided {
        match request {
            Request::Append { appends, at, reply } => {
                let answers = appends
                    .into_iter()
                    .map(|(append, prepared)| match prepared {
                        Err(e) => Answer::Refused(e),
                        Ok(prepared) => Answer::Decided(rules::append(self, append, prepared, at)),
                    })
                    .collect();
                Decided::Append(reply, answers)
            }
            Request::Import(records, reply) => Decided::Import(reply, self.import(records)),
            Request::Lead(reply) => Decided::Lead(reply),
        }
    }

    fn stream_version(&self, stream: &StreamId) -> u64 {
        // Every stream of the group was looked up; the unique (stream,
        // version) constraint stands behind this anyway.
        self.versions.get(stream).copied().unwrap_or(0)
    }

    fn stage_row(
        &mut self,
        envelope: Envelope,
        event: Event,
        hash: Digest,
        prev_hash: Digest,
        bytes: Vec<u8>,
    ) -> Landed {
        let landed = Landed {
            event_id: envelope.event_id,
            position: envelope.position,
            version: envelope.version,
            recorded_at: envelope.recorded_at,
            hash,
        };
        self.rows.push(Row {
            position: envelope.position,
            event_id: envelope.event_id.to_bytes(),
            stream: envelope.stream.to_string(),
            version: envelope.version,
            hash,
            prev_hash,
            bytes,
        });
        self.versions
            .insert(envelope.stream.clone(), envelope.version);
        self.ids.insert(
            envelope.event_id,
            Stored {
                stream: envelope.stream,
                landed,
                event,
            },
        );
        self.head = Head {
            position: landed.position,
            hash,
        };
        landed
    }

    /// The sled writer's `stage_import`: check everything, then stage the
    /// whole import.
    fn import(&mut self, records: Vec<Recorded>) -> Result<Head, Error> {
        let mut head = self.head;
        let mut last_recorded = self.last_recorded;
        let mut versions: HashMap<StreamId, u64> = HashMap::new();
        let mut ids: HashSet<EventId> = HashSet::new();
        let mut checked = Vec::with_capacity(records.len());
        for record in records {
            let e = &record.envelope;
            let refuse = |reason: String| Error::Import {
                position: e.position,
                reason,
            };
            if e.position != head.position + 1 {
                return Err(refuse(format!(
                    "expected position {} next (the store's head is {})",
                    head.position + 1,
                    head.position
                )));
            }
            if record.prev_hash != head.hash {
                return Err(refuse(format!(
                    "prev_hash {} is not the hash {} of the record before",
                    record.prev_hash, head.hash
                )));
            }
            let bytes = canonical_bytes(&record)?;
            if bytes.len() > MAX_RECORD_BYTES {
                return Err(refuse(format!(
                    "the record has {} bytes, more than the {} a record may take",
                    bytes.len(),
                    MAX_RECORD_BYTES
                )));
            }
            let hash = chain_hash(&head.hash, &bytes);
            if hash != record.hash {
                return Err(refuse(format!(
                    "the record hashes to {hash}, not to its stated hash {}: it was altered",
                    record.hash
                )));
            }
            let current = match versions.get(&e.stream) {
                Some(v) => *v,
                None => self.stream_version(&e.stream),
            };
            if e.version != current + 1 {
                return Err(refuse(format!(
                    "{} is at version {current}, the record claims version {}",
                    e.stream, e.version
                )));
            }
            if ids.contains(&e.event_id) || self.ids.contains_key(&e.event_id) {
                return Err(refuse(format!("event id {} is already stored", e.event_id)));
            }
            if e.recorded_at < last_recorded {
                return Err(refuse("record times go backwards".into()));
            }
            last_recorded = e.recorded_at;
            versions.insert(e.stream.clone(), e.version);
            ids.insert(e.event_id);
            head = Head {
                position: e.position,
                hash,
            };
            checked.push((record, bytes));
        }
        for (record, bytes) in checked {
            self.stage(
                record.envelope,
                record.event,
                record.hash,
                record.prev_hash,
                bytes,
            );
        }
        self.last_recorded = last_recorded;
        Ok(self.head)
    }
}
