//! [`PgStore`]: a [`PgLog`] behind the synchronous log API of
//! [`Store`](crate::Store), with the same signatures and answers.
//!
//! **The bridge.** A `PgStore` owns a Tokio runtime of its own (a few
//! worker threads named `pacta-pg`); the log is connected on it, so its
//! writer, listener and pooled connections are that runtime's tasks and
//! live exactly as long as the store. A synchronous call spawns its future
//! on that runtime and waits for the answer on a `std` channel: the
//! calling thread only blocks, it never runs a runtime itself, so the call
//! works from a plain thread, from `spawn_blocking`, and from a worker
//! thread of another runtime (an HTTP handler) alike, with no "cannot
//! start a runtime from within a runtime" panic. (Blocking a worker of
//! the caller's runtime for the length of a query is the same bargain
//! [`Store`](crate::Store)'s synchronous reads make.) [`PgStore::append`]
//! spawns on the store's runtime and awaits the task's `JoinHandle`, so it
//! can be awaited from any runtime.
//!
//! **The head.** [`PgStore::head`] reads the `watch` the writer (after
//! each of this process's commits, before answering) and the `LISTEN`
//! connection (other processes' commits) feed: no query. Every read is
//! bounded by it, as the sled store's reads are bounded by its durable
//! head: [`PgStore::get`], [`PgStore::stream`], [`PgStore::stream_version`]
//! and [`PgStore::position_of`] answer nothing above the head at the time
//! of the call, and [`PgStore::read_from`] and [`PgStore::read_from_if`]
//! end at it.
//!
//! **Reading the log.** [`PgStore::read_from`] and
//! [`PgStore::read_from_if`] page lazily, [`PAGE`] rows per query, as
//! they are consumed; the rows are decoded on the calling thread (not on
//! the store's few workers), and [`PgStore::read_from_if`] decodes only the
//! records of the types it is asked for, as the sled store does.
//!
//! **Closing.** Dropping the last handle (iterators hold one) closes the
//! log on its runtime, so the writer gives up the leadership at once, and
//! then shuts the runtime down; inside another runtime the shutdown does
//! not wait for the worker threads to exit, which Tokio forbids there.

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use pacta_domain::{EventId, EventType, Recorded, StreamId, Timestamp};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::watch;
use tokio::task::JoinError;
use tokio_postgres::Row;

use super::{
    COLUMNS, Columns, Db, PgLog, Stated, copy_error, decode_row, digest, disagreement,
    from_sql_int, sql_int,
};
use crate::{Append, Appended, DigestCheck, Error, Head, VerifyReport};

/// How many records one query of [`PgStore::read_from`] and
/// [`PgStore::read_from_if`] reads.
pub const PAGE: usize = 1000;

/// The store's runtime's worker threads: they only drive connections and
/// the writer; decoding happens on the callers' threads.
const WORKER_THREADS: usize = 3;

/// How long dropping the last handle waits for the writer to give up the
/// leadership.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long dropping the last handle waits for the runtime's threads to
/// stop (outside another runtime).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// Pacta's log in PostgreSQL behind the synchronous API of
/// [`Store`](crate::Store) (see the [module docs](self)). Cheap to clone;
/// all clones share one runtime, one pool and one writer.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Taken only when the last handle is dropped.
    log: Option<PgLog>,
    /// The task keeping the Merkle tree up with the head; stopped first
    /// when the last handle is dropped.
    tree: Option<tokio::task::JoinHandle<()>>,
    head: watch::Receiver<Head>,
    /// Dropped last: the log's tasks run on it.
    runtime: OwnRuntime,
}

/// The store's runtime, shut down when dropped in a way that is allowed
/// wherever the drop happens.
struct OwnRuntime {
    handle: Handle,
    runtime: Option<Runtime>,
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        if Handle::try_current().is_ok() {
            // Inside a runtime (another's, or a task of this one): waiting
            // for threads to stop is not allowed here.
            runtime.shutdown_background();
        } else {
            runtime.shutdown_timeout(SHUTDOWN_TIMEOUT);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing on the runtime lets the writer give up the leadership
        // (unlock, close its session) before the runtime stops.
        let tree = self.tree.take();
        if let Some(log) = self.log.take() {
            let (tx, rx) = std_mpsc::sync_channel(1);
            self.runtime.handle.spawn(async move {
                // The builder holds a handle on the log: gone before the
                // log closes.
                if let Some(tree) = tree {
                    tree.abort();
                    let _ = tree.await;
                }
                log.close().await;
                let _ = tx.send(());
            });
            let _ = rx.recv_timeout(CLOSE_TIMEOUT);
        }
    }
}

/// Runs `work` on the runtime of `handle` and waits for its answer on
/// this thread, which needs no runtime (and may be another runtime's).
fn wait_on<T, F>(handle: &Handle, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let (tx, rx) = std_mpsc::sync_channel(1);
    let task = handle.spawn(work);
    handle.spawn(async move {
        let _ = tx.send(task.await);
    });
    match rx.recv() {
        Ok(joined) => joined.map_err(task_error),
        // The runtime is stopping: the task was dropped unanswered.
        Err(_) => Err(Error::Shutdown),
    }
}

/// A task that did not answer.
fn task_error(e: JoinError) -> Error {
    if e.is_panic() {
        Error::Storage {
            reason: format!("a PostgreSQL task panicked: {e}"),
            disk_full: false,
        }
    } else {
        Error::Shutdown
    }
}

/// What a task that reports progress sends the waiting thread.
enum Message<T> {
    Progress(u64, u64),
    Done(Result<T, JoinError>),
}

impl PgStore {
    /// Connects to the database at `url` (as [`PgLog::connect`]: applies
    /// the migrations it lacks, starts the writer and the listener, takes
    /// no leadership) on a runtime of the store's own. Callable from any
    /// thread, inside a runtime or not.
    pub fn connect(url: &str) -> Result<PgStore, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("pacta-pg")
            .enable_all()
            .build()
            .map_err(Error::from_io)?;
        let runtime = OwnRuntime {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        };
        let url = url.to_owned();
        let log = wait_on(&runtime.handle, async move { PgLog::connect(&url).await })??;
        let head = log.subscribe();
        let tree = runtime.handle.spawn(super::tree::follow(log.clone()));
        Ok(PgStore {
            inner: Arc::new(Inner {
                log: Some(log),
                tree: Some(tree),
                head,
                runtime,
            }),
        })
    }

    fn log(&self) -> &PgLog {
        self.inner
            .log
            .as_ref()
            .expect("the log is taken only when the last handle is dropped")
    }

    /// Runs `work` on the store's runtime; waits for it here.
    fn wait<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, Error>> + Send + 'static,
    {
        wait_on(&self.inner.runtime.handle, work)?
    }

    /// [`PgStore::wait`] for work that reports progress: `progress` is
    /// called here, on the waiting thread, as the work reports it.
    fn wait_reporting<T, F>(
        &self,
        progress: &mut dyn FnMut(u64, u64),
        work: impl FnOnce(Box<dyn FnMut(u64, u64) + Send>) -> F,
    ) -> Result<T, Error>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let (tx, rx) = std_mpsc::channel();
        let reporter = tx.clone();
        let report: Box<dyn FnMut(u64, u64) + Send> = Box::new(move |done, total| {
            let _ = reporter.send(Message::Progress(done, total));
        });
        let handle = &self.inner.runtime.handle;
        let task = handle.spawn(work(report));
        handle.spawn(async move {
            let _ = tx.send(Message::Done(task.await));
        });
        loop {
            match rx.recv() {
                Ok(Message::Progress(done, total)) => progress(done, total),
                Ok(Message::Done(joined)) => return joined.map_err(task_error)?,
                Err(_) => return Err(Error::Shutdown),
            }
        }
    }

    /// The database, as `postgresql://user@host:port/db` (no password).
    pub fn name(&self) -> &str {
        self.log().name()
    }

    /// Takes the write leadership now rather than on the first write, as
    /// [`PgLog::lead`]: [`Error::NotLeader`] while another writer holds it.
    pub fn lead(&self) -> Result<Head, Error> {
        let log = self.log().clone();
        self.wait(async move { log.lead().await })
    }

    /// Keyspace `name` of the database's `kv` table: state every instance
    /// on the database shares (the tokens). See [`crate::kv`].
    pub fn keyspace(&self, name: &str) -> crate::kv::Keyspace {
        crate::kv::Keyspace::postgres(self.clone(), name)
    }

    /// [`PgLog::kv_get`], waited for here.
    pub fn kv_get(&self, keyspace: &str, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let (log, keyspace, key) = (self.log().clone(), keyspace.to_owned(), key.to_vec());
        self.wait(async move { log.kv_get(&keyspace, &key).await })
    }

    /// [`PgLog::kv_scan`], waited for here.
    pub fn kv_scan(&self, keyspace: &str, prefix: &[u8]) -> Result<Vec<crate::kv::Pair>, Error> {
        let (log, keyspace, prefix) = (self.log().clone(), keyspace.to_owned(), prefix.to_vec());
        self.wait(async move { log.kv_scan(&keyspace, &prefix).await })
    }

    /// [`PgLog::kv_write`], waited for here.
    pub fn kv_write(
        &self,
        keyspace: &str,
        ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), Error> {
        let (log, keyspace) = (self.log().clone(), keyspace.to_owned());
        self.wait(async move { log.kv_write(&keyspace, ops).await })
    }

    /// Whether this store holds the log's write leadership now
    /// ([`PgLog::leads`]).
    pub fn leads(&self) -> bool {
        self.log().leads()
    }

    /// `Ok` while the store can take writes: its writer task runs. A
    /// database that cannot be reached, or a log found damaged when the
    /// writer takes the leadership, is answered per write instead (the
    /// writer tries again on the next one; see the [module docs](super)).
    pub fn health(&self) -> Result<(), Error> {
        match &self.log().inner.requests {
            Some(tx) if !tx.is_closed() => Ok(()),
            _ => Err(Error::Shutdown),
        }
    }

    /// Appends durably: resolves once the transaction committed. Runs on
    /// the store's runtime; the future can be awaited on any.
    pub async fn append(&self, append: Append) -> Result<Appended, Error> {
        let log = self.log().clone();
        let task = self
            .inner
            .runtime
            .handle
            .spawn(async move { log.append_one(append).await });
        task.await.map_err(task_error)?
    }

    /// [`PgStore::append`] for synchronous callers.
    pub fn append_blocking(&self, append: Append) -> Result<Appended, Error> {
        let log = self.log().clone();
        self.wait(async move { log.append_one(append).await })
    }

    /// Appends every request in one transaction, each decided in the order
    /// given, as [`Store::append_many_blocking`](crate::Store::append_many_blocking).
    pub fn append_many_blocking(&self, appends: Vec<Append>) -> Vec<Result<Appended, Error>> {
        self.append_many_at_blocking(appends, None)
    }

    /// [`PgStore::append_many_blocking`] with a record time chosen by the
    /// caller (`None`: the clock's), as
    /// [`Store::append_many_at_blocking`](crate::Store::append_many_at_blocking):
    /// record times still never go backwards.
    pub fn append_many_at_blocking(
        &self,
        appends: Vec<Append>,
        recorded_at: Option<Timestamp>,
    ) -> Vec<Result<Appended, Error>> {
        let n = appends.len();
        let log = self.log().clone();
        let answers = wait_on(&self.inner.runtime.handle, async move {
            log.append_at(appends, recorded_at).await
        });
        answers.unwrap_or_else(|e| (0..n).map(|_| Err(copy_error(&e))).collect())
    }

    /// Writes records of an export as they are, after checking that each
    /// continues the chain, as [`Store::import_blocking`](crate::Store::import_blocking).
    /// All or nothing, in one transaction; returns the new head.
    pub fn import_blocking(&self, records: Vec<Recorded>) -> Result<Head, Error> {
        let log = self.log().clone();
        self.wait(async move { log.import(records).await })
    }

    /// How many records the Merkle tree covers (it follows the head).
    pub fn tree_size(&self) -> Result<u64, Error> {
        let log = self.log().clone();
        self.wait(async move { log.tree_leaves().await })
    }

    /// Runs `f` (a `pacta_tlog` function over stored hashes) on the
    /// tree's hashes, once the tree covers `size` records.
    fn with_tree<T: Send + 'static>(
        &self,
        size: u64,
        f: impl Fn(&dyn pacta_tlog::HashReader) -> Result<T, pacta_tlog::Error> + Send + 'static,
    ) -> Result<T, Error> {
        let log = self.log().clone();
        self.wait(async move {
            crate::tree::covers(log.tree_leaves().await?, size)?;
            log.with_hashes(f).await
        })
    }

    /// The root of the tree of the first `size` records.
    pub fn tree_root(&self, size: u64) -> Result<pacta_tlog::Hash, Error> {
        self.with_tree(size, move |r| pacta_tlog::tree_hash(size, r))
    }

    /// The inclusion proof of leaf `leaf` in the tree of `size` leaves.
    pub fn prove_leaf(&self, size: u64, leaf: u64) -> Result<Vec<pacta_tlog::Hash>, Error> {
        self.with_tree(size, move |r| pacta_tlog::prove_record(size, leaf, r))
    }

    /// The consistency proof from the tree of `old` leaves to that of
    /// `size`.
    pub fn prove_tree(&self, size: u64, old: u64) -> Result<Vec<pacta_tlog::Hash>, Error> {
        self.with_tree(size, move |r| pacta_tlog::prove_tree(size, old, r))
    }

    /// The stored hashes of the nodes at `height` with indexes `first` to
    /// `first + count - 1`.
    pub fn tree_nodes(
        &self,
        height: u8,
        first: u64,
        count: u64,
    ) -> Result<Vec<pacta_tlog::Hash>, Error> {
        let log = self.log().clone();
        self.wait(async move { log.tree_nodes(height, first, count).await })
    }

    /// The canonical bytes of the record at `position`.
    pub fn leaf_bytes(&self, position: u64) -> Result<Option<Vec<u8>>, Error> {
        let log = self.log().clone();
        self.wait(async move { log.leaf_bytes(position).await })
    }

    /// The last committed record's position and hash, as this process
    /// knows it: no query.
    pub fn head(&self) -> Head {
        *self.inner.head.borrow()
    }

    /// A receiver that sees the head after every committed group, this
    /// process's and other writers'.
    pub fn subscribe(&self) -> watch::Receiver<Head> {
        self.inner.head.clone()
    }

    /// The committed record at a position, up to the head.
    pub fn get(&self, position: u64) -> Result<Option<Recorded>, Error> {
        if position > self.head().position {
            return Ok(None);
        }
        let log = self.log().clone();
        self.wait(async move { log.get(position).await })
    }

    /// Committed records from `after + 1` to the head at the time of the
    /// call, in log order, read [`PAGE`] at a time as the iterator is
    /// consumed.
    pub fn read_from(
        &self,
        after: u64,
    ) -> impl Iterator<Item = Result<Recorded, Error>> + Send + use<> {
        self.rows(after)
            .map(|row| row.and_then(|row| decode_row(&row)))
    }

    /// [`PgStore::read_from`] that decodes only the records of the types
    /// `wanted` accepts: each position comes with its record, or `None`
    /// for a record of another type (whose data is never decoded).
    pub fn read_from_if<F: Fn(EventType) -> bool + 'static>(
        &self,
        after: u64,
        wanted: F,
    ) -> impl Iterator<Item = Result<(u64, Option<Recorded>), Error>> + use<F> {
        self.rows(after)
            .map(move |row| row.and_then(|row| decode_row_if(&row, &wanted)))
    }

    /// The rows from `after + 1` to the head now, paged lazily.
    fn rows(&self, after: u64) -> Rows {
        Rows {
            store: self.clone(),
            after,
            upto: self.head().position,
            page: Vec::new().into_iter(),
            failed: false,
        }
    }

    /// Up to `limit` rows from `after + 1` to `upto`, in log order.
    fn page(&self, after: u64, upto: u64, limit: usize) -> Result<Vec<Row>, Error> {
        let log = self.log().clone();
        self.wait(async move {
            let client = log.client().await?;
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM log WHERE position > $1 AND position <= $2 \
                     ORDER BY position LIMIT $3"
                ))
                .await
                .db()?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            client
                .query(&statement, &[&sql_int(after), &sql_int(upto), &limit])
                .await
                .db()
        })
    }

    /// The committed records of one stream up to the head, in version
    /// order.
    pub fn stream(&self, stream: &StreamId) -> Result<Vec<Recorded>, Error> {
        let head = self.head().position;
        let (log, stream) = (self.log().clone(), stream.clone());
        let mut records = self.wait(async move { log.stream(&stream).await })?;
        records.retain(|r| r.envelope.position <= head);
        Ok(records)
    }

    /// The stream's version at the head (0 when it does not exist).
    pub fn stream_version(&self, stream: &StreamId) -> Result<u64, Error> {
        let head = self.head().position;
        let (log, stream) = (self.log().clone(), stream.to_string());
        self.wait(async move {
            let client = log.client().await?;
            let statement = client
                .prepare_cached(
                    "SELECT coalesce(max(version), 0) FROM log \
                     WHERE stream = $1 AND position <= $2",
                )
                .await
                .db()?;
            let row = client
                .query_one(&statement, &[&stream, &sql_int(head)])
                .await
                .db()?;
            from_sql_int(0, row.try_get(0).db()?)
        })
    }

    /// Where an event id is stored, up to the head, if it is.
    pub fn position_of(&self, event_id: EventId) -> Result<Option<u64>, Error> {
        let head = self.head().position;
        let log = self.log().clone();
        let found = self.wait(async move { log.position_of(event_id).await })?;
        Ok(found.filter(|p| *p <= head))
    }

    /// Recomputes the hash chain from position 1 to the committed head, as
    /// [`Store::verify`](crate::Store::verify) does (see
    /// [`PgLog::verify`]). `progress(done, total)` is called now and then,
    /// on this thread.
    pub fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, Error> {
        let log = self.log().clone();
        self.wait_reporting(progress, move |mut report| async move {
            log.verify(&mut *report).await
        })
    }

    /// Checks that the log still extends a digest taken earlier, as
    /// [`Store::verify_digest`](crate::Store::verify_digest) does.
    pub fn verify_digest(
        &self,
        digest: Head,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<DigestCheck, Error> {
        let log = self.log().clone();
        self.wait_reporting(progress, move |mut report| async move {
            log.verify_digest(digest, &mut *report).await
        })
    }
}

/// The rows of the log from a position to a head fixed when the read
/// began, a page at a time.
struct Rows {
    /// Keeps the runtime and the pool open while the iterator lives.
    store: PgStore,
    /// The last position handed out.
    after: u64,
    upto: u64,
    page: std::vec::IntoIter<Row>,
    /// A page could not be read, or a position is missing: the read ends.
    failed: bool,
}

impl Rows {
    fn fail(&mut self, e: Error) -> Option<Result<Row, Error>> {
        self.failed = true;
        Some(Err(e))
    }

    fn absent(&mut self) -> Option<Result<Row, Error>> {
        let position = self.after + 1;
        self.fail(Error::Corrupt {
            position,
            reason: format!(
                "the record is absent (the head is at {}): records were removed",
                self.upto
            ),
        })
    }
}

impl Iterator for Rows {
    type Item = Result<Row, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if let Some(row) = self.page.next() {
            let position = match row.try_get(0).db().and_then(|p| from_sql_int(0, p)) {
                Ok(p) => p,
                Err(e) => return self.fail(e),
            };
            if position != self.after + 1 {
                return self.absent();
            }
            self.after = position;
            return Some(Ok(row));
        }
        if self.after >= self.upto {
            return None;
        }
        let limit = usize::try_from(self.upto - self.after).map_or(PAGE, |n| n.min(PAGE));
        match self.store.page(self.after, self.upto, limit) {
            Ok(rows) if rows.is_empty() => self.absent(),
            Ok(rows) => {
                self.page = rows.into_iter();
                self.next()
            }
            Err(e) => self.fail(e),
        }
    }
}

/// A row of [`COLUMNS`] with its record if `wanted` accepts its type (its
/// event then decoded and checked against its columns), else `None`.
fn decode_row_if(
    row: &Row,
    wanted: &dyn Fn(EventType) -> bool,
) -> Result<(u64, Option<Recorded>), Error> {
    let position = from_sql_int(0, row.try_get(0).db()?)?;
    let record: &[u8] = row.try_get(6).db()?;
    let corrupt = |reason: String| Error::Corrupt { position, reason };
    let Some((envelope, event)) = pacta_domain::record::decode_unhashed_if(record, wanted)
        .map_err(|e| corrupt(e.to_string()))?
    else {
        return Ok((position, None));
    };
    let event_id: &[u8] = row.try_get(1).db()?;
    let stream: &str = row.try_get(2).db()?;
    let version = from_sql_int(position, row.try_get(3).db()?)?;
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
    Ok((
        position,
        Some(Recorded {
            hash: digest(position, row.try_get(4).db()?)?,
            prev_hash: digest(position, row.try_get(5).db()?)?,
            envelope,
            event,
        }),
    ))
}
