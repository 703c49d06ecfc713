//! Views: a fold over the log and nothing else.
//!
//! A [`View`] is a serde type with a name, a version and an `apply` that
//! folds one record into it. Registering `Folded::<MyView>` in
//! [`crate::registered`] gives it everything a projection has: it is
//! applied in log order behind each acknowledgement, stored with its
//! checkpoint (one serialized state per commit, written only when a
//! checkpoint is committed, never per event), caught up on open, rebuilt
//! by `pacta rebuild --projection NAME`, and rebuilt from the log
//! whenever its `VERSION` changes or its stored state does not load. A
//! view that also implements [`Serve`] is answered by `pacta view NAME`
//! and `GET /api/v1/views/NAME`, its OpenAPI schema generated from its
//! row type.
//!
//! What a view may consult is its [`Context`]: the partnership a record
//! belongs to (home and partner), the days a record takes effect on as
//! the registry's own rules bound them, and, for a correction or a
//! retraction, the step it points at before and after it.
//!
//! The state is kept whole in memory and written whole at each commit,
//! so a view should hold what it answers (counts, sums, small maps), not
//! a copy of the log; the commits come every [`crate::CHECKPOINT_LAG`]
//! positions or [`crate::DEFAULT_CHUNK`] records of a rebuild.

use std::any::Any;
use std::sync::RwLock;

use pacta_domain::{Effective, EventType, Interval, Payload, Recorded, Slug, Step, StreamKind};
use pacta_store::kv::{self, WriteSet};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use crate::{ApplyContext, Error, Partnerships, Projection};

/// A fold over the log: the whole of a view's code.
pub trait View: Default + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// A stable name: `pacta view NAME`, `/api/v1/views/NAME`.
    const NAME: &'static str;
    /// The version of its stored form. Change it whenever the type or
    /// the fold changes: the view is then rebuilt from the log on the
    /// next open.
    const VERSION: u32;
    /// Whether it reads events of this type (the others never reach
    /// `apply`).
    fn reads(ty: EventType) -> bool;
    /// Folds one record in, in log order.
    fn apply(&mut self, record: &Recorded, ctx: &Context<'_>);
}

/// A view answered by `pacta view NAME` and `GET /api/v1/views/NAME`.
pub trait Serve: View {
    /// One row of its answer; its schema is the answer's in OpenAPI.
    type Row: Serialize + utoipa::ToSchema;
    /// What the view says about `party` (everything when `None`).
    fn rows(&self, party: Option<&Slug>) -> Vec<Self::Row>;
}

/// A correction's or retraction's target (see [`Context::target`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// The step before the record.
    pub before: Step,
    /// The step after it; `None` when the record retracted it.
    pub after: Option<Step>,
}

/// What a view may consult while it folds a record: what the registry
/// knows at that record's position.
pub struct Context<'a> {
    partnerships: Option<&'a Partnerships>,
}

impl Context<'_> {
    /// For a partnership's record: its home party and its partner.
    pub fn parties(&self, record: &Recorded) -> Option<(Slug, Slug)> {
        if record.envelope.stream.kind != StreamKind::Partnership {
            return None;
        }
        self.partnerships?
            .with_facts(record.envelope.stream.id.as_str(), |header, _| {
                (header.home.clone(), header.partner.clone())
            })
    }

    /// For a partnership's record: its home party.
    pub fn home(&self, record: &Recorded) -> Option<Slug> {
        if record.envelope.stream.kind != StreamKind::Partnership {
            return None;
        }
        self.partnerships?
            .with_facts(record.envelope.stream.id.as_str(), |header, _| {
                header.home.clone()
            })
    }

    /// The days the record takes effect on, as the registry's answers
    /// bound them (see [`Effective::of`]); for a `Corrected`, the date it
    /// puts in place, `None` when it puts none.
    pub fn effective(&self, record: &Recorded) -> Option<Interval> {
        let when = Effective::of(&record.event, record.envelope.recorded_at).ok()?;
        let corrected = matches!(record.event.payload, Payload::Corrected(_));
        (!corrected || when.corrects_date).then_some(when.days)
    }

    /// For a partnership's `Corrected` or `Retracted`: the lifecycle step
    /// it points at as it stood just before this record and just after
    /// (`None` when it points at no step, or one retracted before).
    pub fn target(&self, record: &Recorded) -> Option<Target> {
        if !matches!(
            record.event.payload,
            Payload::Corrected(_) | Payload::Retracted(_)
        ) {
            return None;
        }
        let position = record.envelope.position;
        self.partnerships?
            .with_facts(record.envelope.stream.id.as_str(), |_, facts| {
                let fact = facts.iter().find(|f| f.position == position)?;
                let before = Step::as_of(facts, fact.target, position - 1)?;
                let after = Step::as_of(facts, fact.target, position);
                Some(Target { before, after })
            })
            .flatten()
    }
}

/// A [`View`] as a projection: register `Folded::<V>::default()`, or
/// `Folded::<V>::served()` to serve it as well.
pub struct Folded<V> {
    state: RwLock<V>,
    serving: Option<Serving<V>>,
}

/// How a served view answers, whatever its row type.
struct Serving<V> {
    rows: fn(&V, Option<&Slug>) -> Vec<Box<RawValue>>,
    schema: fn() -> (String, RefOr<Schema>),
}

impl<V: View> Default for Folded<V> {
    fn default() -> Self {
        Folded {
            state: RwLock::new(V::default()),
            serving: None,
        }
    }
}

impl<V: Serve> Folded<V> {
    /// The view, answered by `pacta view NAME` and `/api/v1/views/NAME`.
    pub fn served() -> Self {
        fn rows<V: Serve>(view: &V, party: Option<&Slug>) -> Vec<Box<RawValue>> {
            view.rows(party)
                .iter()
                .filter_map(|row| serde_json::value::to_raw_value(row).ok())
                .collect()
        }
        fn schema<V: Serve>() -> (String, RefOr<Schema>) {
            use utoipa::{PartialSchema, ToSchema};
            (V::Row::name().into_owned(), V::Row::schema())
        }
        Folded {
            state: RwLock::new(V::default()),
            serving: Some(Serving {
                rows: rows::<V>,
                schema: schema::<V>,
            }),
        }
    }
}

/// The key of a view's state in its keyspace.
const STATE: &[u8] = b"state";

impl<V: View> Folded<V> {
    /// Calls `f` with the view's state as applied so far.
    pub fn read<R>(&self, f: impl FnOnce(&V) -> R) -> R {
        f(&self.state.read().unwrap_or_else(|p| p.into_inner()))
    }
}

impl<V: View> Projection for Folded<V> {
    fn name(&self) -> &'static str {
        V::NAME
    }

    fn format(&self) -> u32 {
        V::VERSION
    }

    fn reads(&self, ty: EventType) -> bool {
        V::reads(ty)
    }

    fn reset(&self) {
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = V::default();
    }

    fn load(&self, keyspace: &kv::Reader<'_>) -> Result<(), Error> {
        let corrupt = |reason: String| Error::Corrupt {
            name: V::NAME,
            reason,
        };
        let bytes = keyspace
            .get(STATE)?
            .ok_or_else(|| corrupt("a checkpoint without a state".into()))?;
        let state = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = state;
        Ok(())
    }

    fn apply(
        &self,
        ctx: &ApplyContext<'_>,
        events: &[&Recorded],
        _writes: &mut WriteSet,
    ) -> Result<(), Error> {
        let ctx = Context {
            partnerships: ctx.partnerships,
        };
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        for record in events {
            state.apply(record, &ctx);
        }
        Ok(())
    }

    fn snapshot(&self, writes: &mut WriteSet) -> Result<(), Error> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        let bytes = serde_json::to_vec(&*state).map_err(|e| Error::Corrupt {
            name: V::NAME,
            reason: format!("its state does not serialize: {e}"),
        })?;
        writes.put(STATE, bytes);
        Ok(())
    }

    fn served(&self) -> Option<&dyn Served> {
        self.serving.as_ref().map(|_| self as &dyn Served)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A served view, whatever its type (see [`Serve`]).
pub trait Served: Send + Sync {
    /// Its name.
    fn name(&self) -> &'static str;
    /// Its version.
    fn version(&self) -> u32;
    /// Its rows about `party` (all when `None`), each serialized as JSON
    /// with its fields in the order its type declares them.
    fn rows(&self, party: Option<&Slug>) -> Vec<Box<RawValue>>;
    /// The name and JSON schema of its row type.
    fn row_schema(&self) -> (String, RefOr<Schema>);
}

impl<V: View> Served for Folded<V> {
    fn name(&self) -> &'static str {
        V::NAME
    }

    fn version(&self) -> u32 {
        V::VERSION
    }

    fn rows(&self, party: Option<&Slug>) -> Vec<Box<RawValue>> {
        self.serving
            .as_ref()
            .map_or_else(Vec::new, |s| self.read(|view| (s.rows)(view, party)))
    }

    fn row_schema(&self) -> (String, RefOr<Schema>) {
        match &self.serving {
            Some(s) => (s.schema)(),
            None => (V::NAME.into(), RefOr::T(Schema::default())),
        }
    }
}
