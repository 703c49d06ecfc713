//! The write pipeline: writer → flusher → syncer → answers.
//!
//! - The **writer** thread blocks for one request, then takes every request
//!   already waiting (no timer; a group is capped by [`MAX_GROUP_EVENTS`]
//!   and [`MAX_GROUP_BYTES`]), decides each in order against state it owns
//!   in memory (stream versions, the tail of records not yet indexed, the
//!   group itself), assigns positions, computes the chain and inserts the
//!   records into the `log` tree with plain inserts: no transaction and no
//!   batch, the only tree on this path.
//! - The **flusher** takes every group written meanwhile and calls sled's
//!   `flush()` once for all of them.
//! - The **syncer** takes every flushed group and calls `fdatasync` on
//!   sled's data file (sled 0.34's flush ends in `sync_file_range`, which a
//!   power cut can undo); only then does the durable head move and the
//!   callers hear back.
//!
//! Group k+1 is written while group k is flushed and group k−1 synced. A
//! lone request with nothing in flight skips the hand-overs: the writer
//! flushes and syncs it itself.
//!
//! A storage error anywhere stops the pipeline for good (fail-stop): every
//! request then and after is answered [`Error::Stopped`], and the process
//! recovers by restarting, which reopens the log as the disk holds it.

use std::collections::HashMap;
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};

use pacta_domain::{Digest, Envelope, Event, EventId, Recorded, StreamId, Timestamp};
use tokio::sync::watch;

use crate::canonical::{CanonicalEvent, canonical_bytes, chain_hash};
use crate::index::{self, Entry, Index};
use crate::rules::{self, Found, Ledger};
use crate::{Append, Appended, Error, Head, Landed, Reply, Shared, decode_value};

/// The most events one group takes; the rest wait for the next.
const MAX_GROUP_EVENTS: usize = 4096;

/// The most record bytes one group takes.
const MAX_GROUP_BYTES: usize = 8 << 20;

pub(crate) enum Request {
    /// An append with each event's members already in canonical form,
    /// and the record time the caller asks for (none: now).
    Append(
        Append,
        Vec<CanonicalEvent>,
        Option<Timestamp>,
        Reply<Appended>,
    ),
    Import(Vec<Recorded>, Reply<Head>),
}

impl Request {
    fn len(&self) -> usize {
        match self {
            Request::Append(a, _, _, _) => a.events.len(),
            Request::Import(r, _) => r.len(),
        }
    }

    fn fail(self, e: Error) {
        match self {
            Request::Append(_, _, _, reply) => drop(reply.send(Err(e))),
            Request::Import(_, reply) => drop(reply.send(Err(e))),
        }
    }
}

enum Pending {
    Append(Reply<Appended>, Result<Appended, Error>),
    Import(Reply<Head>, Result<Head, Error>),
}

/// A group written to the log tree and not yet durable.
pub(crate) struct Group {
    /// The head after the group.
    head: Head,
    pending: Vec<Pending>,
}

impl Group {
    /// Answers every caller whose write succeeded with the failure.
    fn fail(self, shared: &Shared) {
        for p in self.pending {
            match p {
                Pending::Append(reply, Ok(_)) => drop(reply.send(Err(shared.stopped()))),
                Pending::Import(reply, Ok(_)) => drop(reply.send(Err(shared.stopped()))),
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

/// What the syncer needs to make groups durable and announce them.
pub(crate) struct Durability {
    pub(crate) db: sled::Db,
    pub(crate) file: File,
    pub(crate) head_tx: watch::Sender<Head>,
    pub(crate) indexer: Sender<u64>,
    pub(crate) shared: Arc<Shared>,
    /// Groups handed on and not yet answered.
    pub(crate) in_flight: AtomicUsize,
}

impl Durability {
    fn flush(&self) -> Result<(), Error> {
        self.db.flush()?;
        Ok(())
    }

    fn sync(&self) -> Result<(), Error> {
        if self.shared.fail_next_sync.swap(false, Ordering::AcqRel) {
            return Err(Error::from_io(std::io::Error::other(
                "injected by a test: the device reported an I/O error",
            )));
        }
        self.file.sync_data().map_err(Error::from_io)
    }

    /// Publishes the groups as durable and answers their callers.
    fn publish(&self, groups: Vec<Group>) {
        if let Some(head) = groups.last().map(|g| g.head)
            && head != *self.head_tx.borrow()
        {
            self.head_tx.send_replace(head);
            let _ = self.indexer.send(head.position);
        }
        let n = groups.len();
        groups.into_iter().for_each(Group::answer);
        self.in_flight.fetch_sub(n, Ordering::AcqRel);
    }

    /// After a failure anywhere, answers the groups with it (and takes
    /// them); true when it did.
    fn refuse_after_failure(&self, groups: &mut Vec<Group>) -> bool {
        if self.shared.failure().is_none() {
            return false;
        }
        let n = groups.len();
        groups.drain(..).for_each(|g| g.fail(&self.shared));
        self.in_flight.fetch_sub(n, Ordering::AcqRel);
        true
    }

    fn fail(&self, groups: Vec<Group>, what: &str, e: &Error) {
        self.shared
            .fail(format!("{what} failed: {e}"), e.is_disk_full());
        let n = groups.len();
        groups.into_iter().for_each(|g| g.fail(&self.shared));
        self.in_flight.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Takes every group written meanwhile, flushes once, hands them on.
pub(crate) fn flusher(d: Arc<Durability>, rx: Receiver<Group>, tx: Sender<Vec<Group>>) {
    while let Ok(first) = rx.recv() {
        let mut groups = vec![first];
        while let Ok(more) = rx.try_recv() {
            groups.push(more);
        }
        if d.refuse_after_failure(&mut groups) {
            continue;
        }
        if let Err(e) = d.flush() {
            d.fail(groups, "a flush of the log", &e);
            continue;
        }
        if let Err(unsent) = tx.send(groups) {
            d.fail(unsent.0, "handing a group to the syncer", &Error::Shutdown);
        }
    }
}

/// Takes every flushed group, syncs the data file once, answers.
pub(crate) fn syncer(d: Arc<Durability>, rx: Receiver<Vec<Group>>) {
    while let Ok(first) = rx.recv() {
        let mut groups = first;
        while let Ok(more) = rx.try_recv() {
            groups.extend(more);
        }
        if d.refuse_after_failure(&mut groups) {
            continue;
        }
        match d.sync() {
            Ok(()) => d.publish(groups),
            Err(e) => d.fail(groups, "fdatasync of the log's data file", &e),
        }
    }
}

pub(crate) struct Writer {
    pub(crate) log: sled::Tree,
    pub(crate) index: Index,
    pub(crate) shared: Arc<Shared>,
    pub(crate) durability: Arc<Durability>,
    /// The head of what this thread wrote (durable or not yet).
    pub(crate) head: Head,
    pub(crate) last_recorded: Timestamp,
    /// Versions of streams written since the store opened. Only this
    /// thread writes, so a version here stays true until it changes it;
    /// streams not here have every record in the index (it caught up
    /// before this thread started).
    pub(crate) versions: HashMap<StreamId, u64>,
}

/// What one group stages: so later requests of the group see earlier ones.
#[derive(Default)]
struct Staged {
    records: Vec<(u64, Vec<u8>)>,
    bytes: usize,
    versions: HashMap<StreamId, u64>,
    ids: HashMap<EventId, (StreamId, Landed)>,
    entries: Vec<Entry>,
    recent: Vec<Arc<Recorded>>,
}

impl Writer {
    pub(crate) fn run(mut self, rx: Receiver<Request>, flush_tx: Sender<Group>) {
        while let Ok(first) = rx.recv() {
            let mut taken = first.len();
            let mut group = vec![first];
            while taken < MAX_GROUP_EVENTS {
                match rx.try_recv() {
                    Ok(r) => {
                        taken += r.len();
                        group.push(r);
                    }
                    Err(_) => break,
                }
            }
            self.process(group, &flush_tx);
        }
    }

    fn process(&mut self, requests: Vec<Request>, flush_tx: &Sender<Group>) {
        if self.shared.failure().is_some() {
            for r in requests {
                r.fail(self.shared.stopped());
            }
            return;
        }
        let mut staged = Staged::default();
        let mut pending = Vec::with_capacity(requests.len());
        let mut rest = requests.into_iter();
        for request in rest.by_ref() {
            match request {
                Request::Append(append, prepared, at, reply) => {
                    let mut ledger = SledLedger {
                        writer: self,
                        staged: &mut staged,
                    };
                    let outcome = rules::append(&mut ledger, append, prepared, at);
                    pending.push(Pending::Append(reply, outcome));
                }
                Request::Import(records, reply) => {
                    let outcome = self.stage_import(records, &mut staged);
                    pending.push(Pending::Import(reply, outcome));
                }
            }
            if staged.bytes >= MAX_GROUP_BYTES {
                break;
            }
        }
        let leftover: Vec<Request> = rest.collect();
        let group = Group {
            head: self.head,
            pending,
        };
        if let Err(e) = self.write(staged) {
            self.shared
                .fail(format!("writing to the log failed: {e}"), e.is_disk_full());
            group.fail(&self.shared);
            for r in leftover {
                r.fail(self.shared.stopped());
            }
            return;
        }
        self.hand_on(group, flush_tx);
        if !leftover.is_empty() {
            self.process(leftover, flush_tx);
        }
    }

    /// Inserts the staged records into the log tree and makes them
    /// visible to look-ups through the tail.
    fn write(&mut self, staged: Staged) -> Result<(), Error> {
        if staged.records.is_empty() {
            return Ok(());
        }
        {
            let mut tail = index::write(&self.shared.tail);
            for e in staged.entries {
                tail.push(e);
            }
        }
        self.versions.extend(staged.versions);
        for (position, value) in staged.records {
            self.log.insert(position.to_be_bytes(), value)?;
        }
        self.shared.recent.push(staged.recent);
        Ok(())
    }

    fn hand_on(&self, group: Group, flush_tx: &Sender<Group>) {
        let d = &self.durability;
        // A lone request with nothing in flight: the hand-overs would
        // only add latency.
        let lone = group.pending.len() == 1;
        if d.in_flight.fetch_add(1, Ordering::AcqRel) == 0 && lone {
            match d.flush().and_then(|()| d.sync()) {
                Ok(()) => d.publish(vec![group]),
                Err(e) => d.fail(vec![group], "making the log durable", &e),
            }
            return;
        }
        if let Err(unsent) = flush_tx.send(group) {
            d.fail(
                vec![unsent.0],
                "handing a group to the flusher",
                &Error::Shutdown,
            );
        }
    }

    fn current_version(&mut self, staged: &Staged, stream: &StreamId) -> Result<u64, Error> {
        if let Some(v) = staged.versions.get(stream).or(self.versions.get(stream)) {
            return Ok(*v);
        }
        let _rebuilding = self.shared.index_trees();
        let v = self.index.version(stream)?;
        self.versions.insert(stream.clone(), v);
        Ok(v)
    }

    /// Where an id is stored: earlier in this group, in the tail, or in
    /// the index (in that order, see [`crate::index`]).
    fn lookup_id(&self, staged: &Staged, id: EventId) -> Result<Option<u64>, Error> {
        if let Some((_, landed)) = staged.ids.get(&id) {
            return Ok(Some(landed.position));
        }
        if let Some(p) = index::read(&self.shared.tail).position_of(id) {
            return Ok(Some(p));
        }
        let _rebuilding = self.shared.index_trees();
        self.index.position_of(id)
    }

    /// The stored record of an id found by [`Writer::lookup_id`], as the
    /// request's stream and event must match it.
    fn stored(&self, staged: &Staged, id: EventId, position: u64) -> Result<Found, Error> {
        if let Some((stream, landed)) = staged.ids.get(&id) {
            let event = staged
                .records
                .iter()
                .find(|(p, _)| *p == position)
                .map(|(p, v)| decode_value(*p, v))
                .transpose()?
                .map(|r| r.event);
            return Ok(Found {
                stream: stream.clone(),
                landed: *landed,
                event,
            });
        }
        let value = self
            .log
            .get(position.to_be_bytes())?
            .ok_or(Error::Corrupt {
                position,
                reason: format!("the index of event id {id} points at a missing record"),
            })?;
        let record = decode_value(position, &value)?;
        Ok(Found {
            stream: record.envelope.stream.clone(),
            landed: Landed {
                event_id: id,
                position,
                version: record.envelope.version,
                recorded_at: record.envelope.recorded_at,
                hash: record.hash,
            },
            event: Some(record.event),
        })
    }

    fn stage_record(
        &mut self,
        staged: &mut Staged,
        envelope: Envelope,
        event: Event,
        hash: Digest,
        prev: Digest,
        bytes: Vec<u8>,
    ) -> Landed {
        let mut value = Vec::with_capacity(64 + bytes.len());
        value.extend_from_slice(&hash.0);
        value.extend_from_slice(&prev.0);
        value.extend_from_slice(&bytes);
        let position = envelope.position;
        staged.bytes += value.len();
        staged.records.push((position, value));
        let landed = Landed {
            event_id: envelope.event_id,
            position,
            version: envelope.version,
            recorded_at: envelope.recorded_at,
            hash,
        };
        staged
            .versions
            .insert(envelope.stream.clone(), envelope.version);
        staged
            .ids
            .insert(envelope.event_id, (envelope.stream.clone(), landed));
        staged.entries.push(Entry {
            position,
            event_id: envelope.event_id,
            stream: envelope.stream.clone(),
            version: envelope.version,
            leaf: if crate::tree::on() {
                pacta_tlog::leaf_hash(&bytes)
            } else {
                pacta_tlog::Hash([0; 32])
            },
        });
        staged.recent.push(Arc::new(Recorded {
            envelope,
            event,
            prev_hash: prev,
            hash,
        }));
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
            if bytes.len() > crate::MAX_RECORD_BYTES {
                return Err(refuse(format!(
                    "the record has {} bytes, more than the {} a record may take",
                    bytes.len(),
                    crate::MAX_RECORD_BYTES
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

/// The sled writer and its group as a [`Ledger`].
struct SledLedger<'a> {
    writer: &'a mut Writer,
    staged: &'a mut Staged,
}

impl Ledger for SledLedger<'_> {
    fn find(&mut self, id: EventId) -> Result<Option<Found>, Error> {
        match self.writer.lookup_id(self.staged, id)? {
            Some(position) => self.writer.stored(self.staged, id, position).map(Some),
            None => Ok(None),
        }
    }

    fn version(&mut self, stream: &StreamId) -> Result<u64, Error> {
        self.writer.current_version(self.staged, stream)
    }

    fn head(&self) -> Head {
        self.writer.head
    }

    fn last_recorded(&self) -> Timestamp {
        self.writer.last_recorded
    }

    fn stage(
        &mut self,
        envelope: Envelope,
        event: Event,
        hash: Digest,
        prev: Digest,
        bytes: Vec<u8>,
    ) -> Landed {
        self.writer
            .stage_record(self.staged, envelope, event, hash, prev, bytes)
    }

    fn recorded(&mut self, at: Timestamp) {
        self.writer.last_recorded = at;
    }
}
