//! The single writer: group commit.
//!
//! The writer thread blocks for one request, then takes every request
//! already waiting (up to [`MAX_BATCH_EVENTS`] events), decides each in
//! order against the log plus what the batch itself has staged, writes all
//! accepted events in one sled transaction, flushes once, and only then
//! answers every caller. Being the only writer, it needs no locks to keep
//! versions and the chain consistent.

use std::collections::HashMap;
use std::sync::mpsc::Receiver;
use std::time::SystemTime;

use pacta_domain::{Digest, Envelope, EventId, Recorded, StreamId, Timestamp};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use tokio::sync::watch;

use crate::canonical::{canonical_bytes, chain_hash};
use crate::{
    Append, Appended, Error, HEAD_KEY, Head, Landed, Reply, Trees, key_position, read_record,
    stream_key, stream_version,
};

/// The most events one transaction takes; the rest wait for the next.
const MAX_BATCH_EVENTS: usize = 4096;

pub(crate) enum Request {
    Append(Append, Reply<Appended>),
    Import(Vec<Recorded>, Reply<Head>),
}

impl Request {
    fn len(&self) -> usize {
        match self {
            Request::Append(a, _) => a.events.len(),
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
        }
    }

    pub(crate) fn run(mut self, rx: Receiver<Request>) {
        while let Ok(first) = rx.recv() {
            let mut taken = first.len();
            let mut batch = vec![first];
            while taken < MAX_BATCH_EVENTS {
                match rx.try_recv() {
                    Ok(r) => {
                        taken += r.len();
                        batch.push(r);
                    }
                    Err(_) => break,
                }
            }
            self.process(batch);
        }
    }

    fn process(&mut self, batch: Vec<Request>) {
        if self.poisoned {
            for r in batch {
                match r {
                    Request::Append(_, reply) => drop(reply.send(Err(Error::Poisoned))),
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
                Request::Append(append, reply) => {
                    let outcome = self.stage_append(append, &mut staged);
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
        if self.head != start_head {
            self.head_tx.send_replace(self.head);
        }
        for p in pending {
            // A caller that gave up is no reason to stop.
            match p {
                Pending::Append(reply, outcome) => drop(reply.send(outcome)),
                Pending::Import(reply, outcome) => drop(reply.send(outcome)),
            }
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
        self.db.flush()?;
        Ok(())
    }

    fn current_version(&self, staged: &Staged, stream: &StreamId) -> Result<u64, Error> {
        match staged.versions.get(stream) {
            Some(v) => Ok(*v),
            None => stream_version(&self.trees.streams, stream),
        }
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

    fn stage_append(&mut self, append: Append, staged: &mut Staged) -> Result<Appended, Error> {
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
        for (i, e) in append.events.into_iter().enumerate() {
            let record = Recorded {
                envelope: Envelope {
                    position: head.position + 1,
                    event_id: e.event_id,
                    stream: append.stream.clone(),
                    version: current + 1 + i as u64,
                    recorded_at: now,
                    recorded_by: e.recorded_by,
                },
                event: e.event,
                prev_hash: head.hash,
                hash: Digest::ZERO,
            };
            let bytes = canonical_bytes(&record)?;
            let hash = chain_hash(&head.hash, &bytes);
            head = Head {
                position: record.envelope.position,
                hash,
            };
            built.push((record, bytes, hash));
        }
        let mut landed = Vec::with_capacity(built.len());
        for (record, bytes, hash) in built {
            landed.push(self.stage_record(staged, &record.envelope, hash, record.prev_hash, bytes));
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
