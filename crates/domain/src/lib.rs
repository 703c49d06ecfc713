//! Pacta's domain: parties, partnerships and offers, their events, partial
//! dates, the lifecycle state machines and the fold that answers "what was
//! in force on day D, as known at time T".
//!
//! This crate is pure: it does no IO, reads no clock and knows nothing of
//! sled, hashes' bytes or HTTP. Validating and applying an event are
//! functions of their inputs.
//!
//! Map:
//! - [`date`]: [`PartialDate`], the EDTF subset, each an interval of days.
//! - [`time`]: [`Timestamp`], record time.
//! - [`id`]: [`Slug`] ids, [`StreamId`], [`EventId`].
//! - [`name`]: [`NameKey`], how ids, names and aliases are compared.
//! - [`event`]: [`Event`] and its typed [`Payload`]s, with fixed wire names.
//! - [`limits`]: the bound of every text and list of an event.
//! - [`record`]: [`Recorded`], an event with the envelope the store gives it.
//! - [`lifecycle`]: the state machines and [`Refusal`].
//! - [`history`]: the bitemporal fold ([`Timeline`], [`in_force`]).
//! - [`decide`](mod@decide): every rule a write must pass, as one pure
//!   function ([`decide()`], [`State`], [`Rejection`]).
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod date;
pub mod decide;
pub mod event;
pub mod history;
pub mod id;
pub mod lifecycle;
pub mod limits;
pub mod name;
pub mod record;
pub mod time;

pub use date::{
    DateError, DatePart, DateShape, DateUnit, Day, Interval, PartialDate, Precision, Qualifier,
};
pub use decide::{DecideError, Held, NameHolder, Proposed, Rejection, State, World, decide};
pub use event::{
    ActivityKind, ActivityOutcome, Event, EventError, EventType, Initiative, Instrument, Names,
    PartyKind, Payload, PopulationBound, Source, TerminationMode,
};
pub use history::{
    DayState, Effective, Evidence, Fact, InForce, Over, Span, Step, Timeline, in_force,
};
pub use id::{EventId, IdError, OfferId, PartnershipId, PartyId, Slug, StreamId, StreamKind};
pub use lifecycle::{OfferStatus, Refusal, Status};
pub use name::NameKey;
pub use record::{Digest, Envelope, RECORD_SCHEMA, Recorded};
pub use time::{Timestamp, TimestampError};
