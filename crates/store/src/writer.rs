//! The single writer: group commit.
//!
//! The writer thread blocks for one request, then takes every request
//! already waiting (up to [`MAX_BATCH_EVENTS`] events), decides each in
//! order against the log plus what the batch itself has staged, and writes
//! all accepted events in one sled transaction. A second thread, the
//! flusher, then flushes once for every batch committed meanwhile and only
//! then answers their callers and publishes the new head; the writer
//! stages the next batch during that flush. Being the only writer, it
//! needs no locks to keep versions and the chain consistent.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant, SystemTime};

use pacta_domain::{Digest, Envelope, EventId, Recorded, StreamId, Timestamp};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use tokio::sync::watch;

use crate::canonical::{CanonicalEvent, canonical_bytes, chain_hash};
use crate::{
    Append, Appended, Error, HEAD_KEY, Head, Landed, Reply, Trees, key_position, read_record,
    stream_key, stream_version,
};

/// The most events one transaction takes; the rest wait for the next.
const MAX_BATCH_EVENTS: usize = 4096;

/// The longest a batch waits to gather as many requests as the last one
/// had: well under one flush (a few hundred microseconds here).
const GATHER_WAIT: Duration = Duration::from_micros(100);

pub(crate) enum Request {
    /// An append with each event's members already in canonical form.
    Append(Append, Vec<CanonicalEvent>, Reply<Appended>),
    Import(Vec<Recorded>, Reply<Head>),
}

impl Request {
    fn len(&self) -> usize {
        match self {
            Request::Append(a, _, _) => a.events.len(),
            Request::Import(r, _) => r.len(),
        }
    }
}

pub(crate) struct Writer {
    db: sled::Db,
    trees: Trees,
    head: Head,
    last_recorded: Timestamp,
    head_tx: watch::Sender<Head>,
    poisoned: bool,
    /// Set by the flusher when a flush fails.
    flush_failed: Arc<AtomicBool>,
    /// Batches handed to the flusher and not yet answered.
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    flush_tx: Option<Sender<Committed>>,
    /// Stream versions seen so far. Only this thread writes, so a cached
    /// version stays true until this thread changes it.
    versions: HashMap<StreamId, u64>,
}

/// What one batch stages: entries for the four trees, plus overlays so that
/// later requests of the batch see earlier ones.
#[derive(Default)]
struct Staged {
    log: Vec<(u64, Vec<u8>)>,
    streams: Vec<(Vec<u8>, u64)>,
    ids: Vec<([u8; 16], u64)>,
    versions: HashMap<StreamId, u64>,
    id_overlay: HashMap<EventId, (u64, StreamId, Landed)>,
}

enum Pending {
    Append(Reply<Appended>, Result<Appended, Error>),
    Import(Reply<Head>, Result<Head, Error>),
}

/// A batch applied to sled but not yet flushed.
struct Committed {
    /// The head after the batch, if it wrote anything.
    head: Option<Head>,
    pending: Vec<Pending>,
}

impl Committed {
    /// Answers every caller whose write succeeded with `Poisoned`.
    fn fail(self) {
        for p in self.pending {
            match p {
                Pending::Append(reply, Ok(_)) => drop(reply.send(Err(Error::Poisoned))),
                Pending::Import(reply, Ok(_)) => drop(reply.send(Err(Error::Poisoned))),
                Pending::Append(reply, Err(e)) => drop(reply.send(Err(e))),
                Pending::Import(reply, Err(e)) => drop(reply.send(Err(e))),
            }
        }
    }

    fn answer(self) {
        for p in self.pending {
            // A caller that gave up is no reason to stop.
            match p {
                Pending::Append(reply, outcome) => drop(reply.send(outcome)),
                Pending::Import(reply, outcome) => drop(reply.send(outcome)),
            }
        }
    }
}

/// Takes every committed batch waiting, flushes once, then publishes the
/// new head and answers the callers.
fn flusher(
    db: sled::Db,
    head_tx: watch::Sender<Head>,
    failed: Arc<AtomicBool>,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    rx: Receiver<Committed>,
) {
    while let Ok(first) = rx.recv() {
        let mut batches = vec![first];
        while let Ok(more) = rx.try_recv() {
            batches.push(more);
        }
        if failed.load(Ordering::Acquire) {
            let n = batches.len();
            batches.into_iter().for_each(Committed::fail);
            in_flight.fetch_sub(n, Ordering::AcqRel);
            continue;
        }
        if let Err(e) = db.flush() {
            tracing::error!(error = %e, "a flush failed; the store refuses further writes");
            failed.store(true, Ordering::Release);
            let n = batches.len();
            batches.into_iter().for_each(Committed::fail);
            in_flight.fetch_sub(n, Ordering::AcqRel);
            continue;
        }
        if let Some(head) = batches.iter().rev().find_map(|b| b.head) {
            head_tx.send_replace(head);
        }
        let n = batches.len();
        batches.into_iter().for_each(Committed::answer);
        in_flight.fetch_sub(n, Ordering::AcqRel);
    }
}

impl Writer {
    pub(crate) fn new(
        db: sled::Db,
        trees: Trees,
        head: Head,
        last_recorded: Timestamp,
        head_tx: watch::Sender<Head>,
    ) -> Writer {
        Writer {
            db,
            trees,
            head,
            last_recorded,
            head_tx,
            poisoned: false,
            flush_failed: Arc::new(AtomicBool::new(false)),
            in_flight: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            flush_tx: None,
            versions: HashMap::new(),
        }
    }

    pub(crate) fn run(mut self, rx: Receiver<Request>) {
        // The flusher makes committed batches durable and answers their
        // callers, while this thread already stages the next batch: the
        // flush of batch k overlaps the transaction of batch k+1.
        let (flush_tx, flush_rx) = std::sync::mpsc::channel::<Committed>();
        let flusher = {
            let db = self.db.clone();
            let head_tx = self.head_tx.clone();
            let poisoned = self.flush_failed.clone();
            let in_flight = self.in_flight.clone();
            std::thread::Builder::new()
                .name("pacta-flusher".into())
                .spawn(move || flusher(db, head_tx, poisoned, in_flight, flush_rx))
        };
        let flusher = match flusher {
            Ok(handle) => handle,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the flusher thread");
                return;
            }
        };
        self.flush_tx = Some(flush_tx);
        self.gather(&rx);
        // Closing the channel lets the flusher finish what it holds.
        self.flush_tx = None;
        let _ = flusher.join();
    }

    fn gather(&mut self, rx: &Receiver<Request>) {
        // Requests in the previous batch: callers answered then tend to
        // come back together, so the next batch waits briefly for as many
        // (never longer than GATHER_WAIT) instead of flushing for the
        // first few to arrive. A lone appender never waits.
        let mut last_requests = 1;
        while let Ok(first) = rx.recv() {
            let mut taken = first.len();
            let mut batch = vec![first];
            let deadline = Instant::now() + GATHER_WAIT;
            while taken < MAX_BATCH_EVENTS {
                let next = match rx.try_recv() {
                    Ok(r) => Some(r),
                    Err(_) if batch.len() < last_requests => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            None
                        } else {
                            rx.recv_timeout(left).ok()
                        }
                    }
                    Err(_) => None,
                };
                match next {
                    Some(r) => {
                        taken += r.len();
                        batch.push(r);
                    }
                    None => break,
                }
            }
            last_requests = batch.len();
            self.process(batch);
        }
    }

    fn process(&mut self, batch: Vec<Request>) {
        if self.flush_failed.load(Ordering::Acquire) {
            self.poisoned = true;
        }
        if self.poisoned {
            for r in batch {
                match r {
                    Request::Append(_, _, reply) => drop(reply.send(Err(Error::Poisoned))),
                    Request::Import(_, reply) => drop(reply.send(Err(Error::Poisoned))),
                }
            }
            return;
        }
        let start_head = self.head;
        let start_recorded = self.last_recorded;
        let mut staged = Staged::default();
        let mut pending = Vec::with_capacity(batch.len());
        for request in batch {
            match request {
                Request::Append(append, prepared, reply) => {
                    let outcome = self.stage_append(append, prepared, &mut staged);
                    pending.push(Pending::Append(reply, outcome));
                }
                Request::Import(records, reply) => {
                    let outcome = self.stage_import(records, &mut staged);
                    pending.push(Pending::Import(reply, outcome));
                }
            }
        }
        if !staged.log.is_empty()
            && let Err(e) = self.commit(&staged)
        {
            tracing::error!(error = %e, "a write failed; the store refuses further writes");
            self.poisoned = true;
            self.head = start_head;
            self.last_recorded = start_recorded;
            for p in pending {
                match p {
                    Pending::Append(reply, Ok(_)) => drop(reply.send(Err(Error::Poisoned))),
                    Pending::Import(reply, Ok(_)) => drop(reply.send(Err(Error::Poisoned))),
                    Pending::Append(reply, Err(e)) => drop(reply.send(Err(e))),
                    Pending::Import(reply, Err(e)) => drop(reply.send(Err(e))),
                }
            }
            return;
        }
        self.versions.extend(staged.versions);
        // Every answer, a refusal or a duplicate's included, waits for the
        // flush: a retry must not be told "stored" before it is durable.
        let committed = Committed {
            head: (self.head != start_head).then_some(self.head),
            pending,
        };
        // A lone request with nothing else in flight gains nothing from the
        // flusher's overlap: flush here and spare the hand-over.
        if committed.pending.len() == 1 && self.in_flight.load(Ordering::Acquire) == 0 {
            match self.db.flush() {
                Ok(_) => {
                    if let Some(head) = committed.head {
                        self.head_tx.send_replace(head);
                    }
                    committed.answer();
                }
                Err(e) => {
                    tracing::error!(error = %e, "a flush failed; the store refuses further writes");
                    self.poisoned = true;
                    committed.fail();
                }
            }
            return;
        }
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if let Some(tx) = &self.flush_tx
            && let Err(unsent) = tx.send(committed)
        {
            self.poisoned = true;
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            unsent.0.fail();
        }
    }

    fn commit(&self, staged: &Staged) -> Result<(), Error> {
        let mut log = sled::Batch::default();
        for (pos, value) in &staged.log {
            log.insert(&pos.to_be_bytes(), value.as_slice());
        }
        let mut streams = sled::Batch::default();
        for (key, pos) in &staged.streams {
            streams.insert(key.as_slice(), &pos.to_be_bytes());
        }
        let mut ids = sled::Batch::default();
        for (id, pos) in &staged.ids {
            ids.insert(id, &pos.to_be_bytes());
        }
        let head = self.head.to_bytes();
        (
            &self.trees.log,
            &self.trees.streams,
            &self.trees.ids,
            &self.trees.meta,
        )
            .transaction(|(log_t, streams_t, ids_t, meta_t)| {
                log_t.apply_batch(&log)?;
                streams_t.apply_batch(&streams)?;
                ids_t.apply_batch(&ids)?;
                meta_t.insert(HEAD_KEY, &head[..])?;
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => Error::Storage(e),
                sled::transaction::TransactionError::Abort(()) => {
                    Error::Invalid("transaction aborted".into())
                }
            })?;
        Ok(())
    }

    fn current_version(&mut self, staged: &Staged, stream: &StreamId) -> Result<u64, Error> {
        if let Some(v) = staged.versions.get(stream).or(self.versions.get(stream)) {
            return Ok(*v);
        }
        let v = stream_version(&self.trees.streams, stream)?;
        self.versions.insert(stream.clone(), v);
        Ok(v)
    }

    /// Where an id is stored: in the log or earlier in this batch.
    fn lookup_id(&self, staged: &Staged, id: EventId) -> Result<Option<(StreamId, Landed)>, Error> {
        if let Some((_, stream, landed)) = staged.id_overlay.get(&id) {
            return Ok(Some((stream.clone(), *landed)));
        }
        let Some(v) = self.trees.ids.get(id.to_bytes())? else {
            return Ok(None);
        };
        let position = key_position(&v)?;
        let record = read_record(&self.trees.log, position)?.ok_or_else(|| Error::Corrupt {
            position,
            reason: format!("the id index of {id} points at a missing record"),
        })?;
        Ok(Some((
            record.envelope.stream.clone(),
            Landed {
                event_id: id,
                position,
                version: record.envelope.version,
                recorded_at: record.envelope.recorded_at,
                hash: record.hash,
            },
        )))
    }

    fn stage_append(
        &mut self,
        append: Append,
        prepared: Vec<CanonicalEvent>,
        staged: &mut Staged,
    ) -> Result<Appended, Error> {
        if append.events.is_empty() {
            return Err(Error::Invalid("an append needs at least one event".into()));
        }
        for (i, e) in append.events.iter().enumerate() {
            if append.events[..i].iter().any(|o| o.event_id == e.event_id) {
                return Err(Error::Invalid(format!(
                    "event id {} appears twice in one append",
                    e.event_id
                )));
            }
        }
        // Idempotent retry: every id stored already, in this stream.
        let mut found = Vec::with_capacity(append.events.len());
        for e in &append.events {
            found.push(self.lookup_id(staged, e.event_id)?);
        }
        if let Some(Some((_, first))) = found.iter().find(|f| f.is_some()) {
            let first = *first;
            if found.iter().any(Option::is_none) {
                return Err(Error::DuplicateId {
                    event_id: first.event_id,
                    position: first.position,
                    detail: "a retry must repeat the original request's events exactly".into(),
                });
            }
            let mut events = Vec::with_capacity(found.len());
            for (stream, landed) in found.into_iter().flatten() {
                if stream != append.stream {
                    return Err(Error::DuplicateId {
                        event_id: landed.event_id,
                        position: landed.position,
                        detail: format!("it belongs to {stream}, not {}", append.stream),
                    });
                }
                events.push(landed);
            }
            return Ok(Appended {
                events,
                duplicate: true,
            });
        }

        let current = self.current_version(staged, &append.stream)?;
        if let Some(expected) = append.expected_version
            && expected != current
        {
            return Err(Error::Conflict {
                stream: append.stream,
                expected,
                actual: current,
            });
        }
        // Build every record before staging any, so that a failure stages
        // nothing of this request.
        let now = Timestamp::from_system_time(SystemTime::now()).max(self.last_recorded);
        let mut head = self.head;
        let mut built = Vec::with_capacity(append.events.len());
        for (i, (e, canonical)) in append.events.into_iter().zip(prepared).enumerate() {
            let envelope = Envelope {
                position: head.position + 1,
                event_id: e.event_id,
                stream: append.stream.clone(),
                version: current + 1 + i as u64,
                recorded_at: now,
                recorded_by: e.recorded_by,
            };
            let bytes = canonical.with_envelope(&envelope);
            let hash = chain_hash(&head.hash, &bytes);
            let prev = head.hash;
            head = Head {
                position: envelope.position,
                hash,
            };
            built.push((envelope, bytes, prev, hash));
        }
        let mut landed = Vec::with_capacity(built.len());
        for (envelope, bytes, prev, hash) in built {
            landed.push(self.stage_record(staged, &envelope, hash, prev, bytes));
        }
        self.last_recorded = now;
        Ok(Appended {
            events: landed,
            duplicate: false,
        })
    }

    fn stage_record(
        &mut self,
        staged: &mut Staged,
        envelope: &Envelope,
        hash: Digest,
        prev: Digest,
        bytes: Vec<u8>,
    ) -> Landed {
        let mut value = Vec::with_capacity(64 + bytes.len());
        value.extend_from_slice(&hash.0);
        value.extend_from_slice(&prev.0);
        value.extend_from_slice(&bytes);
        let position = envelope.position;
        staged.log.push((position, value));
        staged
            .streams
            .push((stream_key(&envelope.stream, envelope.version), position));
        staged.ids.push((envelope.event_id.to_bytes(), position));
        staged
            .versions
            .insert(envelope.stream.clone(), envelope.version);
        let landed = Landed {
            event_id: envelope.event_id,
            position,
            version: envelope.version,
            recorded_at: envelope.recorded_at,
            hash,
        };
        staged.id_overlay.insert(
            envelope.event_id,
            (position, envelope.stream.clone(), landed),
        );
        self.head = Head { position, hash };
        landed
    }

    fn stage_import(&mut self, records: Vec<Recorded>, staged: &mut Staged) -> Result<Head, Error> {
        // Check everything first; stage only a wholly valid import.
        let mut head = self.head;
        let mut last_recorded = self.last_recorded;
        let mut versions: HashMap<StreamId, u64> = HashMap::new();
        let mut ids: HashMap<EventId, u64> = HashMap::new();
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
            let hash = chain_hash(&head.hash, &bytes);
            if hash != record.hash {
                return Err(refuse(format!(
                    "the record hashes to {hash}, not to its stated hash {}: it was altered",
                    record.hash
                )));
            }
            let current = match versions.get(&e.stream) {
                Some(v) => *v,
                None => self.current_version(staged, &e.stream)?,
            };
            if e.version != current + 1 {
                return Err(refuse(format!(
                    "{} is at version {current}, the record claims version {}",
                    e.stream, e.version
                )));
            }
            if ids.contains_key(&e.event_id) || self.lookup_id(staged, e.event_id)?.is_some() {
                return Err(refuse(format!("event id {} is already stored", e.event_id)));
            }
            if e.recorded_at < last_recorded {
                return Err(refuse("record times go backwards".into()));
            }
            last_recorded = e.recorded_at;
            versions.insert(e.stream.clone(), e.version);
            ids.insert(e.event_id, e.position);
            head = Head {
                position: e.position,
                hash,
            };
            checked.push((record, bytes));
        }
        for (record, bytes) in checked {
            self.stage_record(
                staged,
                &record.envelope,
                record.hash,
                record.prev_hash,
                bytes,
            );
        }
        self.last_recorded = last_recorded;
        Ok(self.head)
    }
}
