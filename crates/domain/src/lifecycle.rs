//! The lifecycle state machines of partnerships, offers and parties.
//!
//! Every event type either moves a stream to another state, keeps it, or is
//! refused, in every state; [`transition`] is one exhaustive match. A
//! refusal names the current state and the events allowed there.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::event::EventType;

/// The status of a partnership on a given day.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The stream is open; nothing has happened yet.
    Proposed,
    /// Contact established or negotiation under way.
    Negotiating,
    /// Signed (or attested) and cooperating.
    Active,
    /// Signed but cooperation stalled.
    Stagnating,
    /// Contacts suspended.
    Suspended,
    /// Ended. Final.
    Terminated,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 6] = [
        Status::Proposed,
        Status::Negotiating,
        Status::Active,
        Status::Stagnating,
        Status::Suspended,
        Status::Terminated,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Negotiating => "negotiating",
            Status::Active => "active",
            Status::Stagnating => "stagnating",
            Status::Suspended => "suspended",
            Status::Terminated => "terminated",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown status {s:?} (expected one of: proposed, negotiating, active, \
                     stagnating, suspended, terminated)"
                )
            })
    }
}

/// What an event does in a state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Transition {
    /// The stream moves to this state.
    Move(Status),
    /// The state stays as it is.
    Keep,
    /// The event does not fit.
    Refuse,
}

/// What `ty` does to a partnership in `state`.
///
/// `PartnershipOpened` is the stream's header and is refused once the stream
/// exists; `Corrected` and `Retracted` keep the state here, and their effect
/// on the history is checked by refolding it (see [`crate::history`]).
/// Party and offer events never apply to a partnership.
pub fn transition(state: Status, ty: EventType) -> Transition {
    use EventType as E;
    use Status as S;
    use Transition::{Keep, Move, Refuse};
    match (state, ty) {
        (_, E::PartnershipOpened) => Refuse,
        (_, E::Corrected | E::Retracted) => Keep,
        (
            _,
            E::PartyRegistered
            | E::PartyAmended
            | E::OfferPublished
            | E::OfferMatched
            | E::OfferWithdrawn
            | E::OfferLapsed,
        ) => Refuse,

        (S::Proposed, E::ContactEstablished | E::NegotiationStarted) => Move(S::Negotiating),
        (S::Proposed, E::Signed | E::Attested) => Move(S::Active),
        (S::Proposed, E::ActivityRecorded) => Keep,
        (S::Proposed, E::Amended | E::Stagnated | E::Revived | E::Suspended | E::Terminated) => {
            Refuse
        }

        (S::Negotiating, E::ContactEstablished | E::NegotiationStarted | E::ActivityRecorded) => {
            Keep
        }
        (S::Negotiating, E::Signed | E::Attested) => Move(S::Active),
        (S::Negotiating, E::Amended | E::Stagnated | E::Revived | E::Suspended | E::Terminated) => {
            Refuse
        }

        (S::Active, E::Attested | E::Amended | E::ActivityRecorded) => Keep,
        (S::Active, E::Stagnated) => Move(S::Stagnating),
        (S::Active, E::Suspended) => Move(S::Suspended),
        (S::Active, E::Terminated) => Move(S::Terminated),
        (S::Active, E::ContactEstablished | E::NegotiationStarted | E::Signed | E::Revived) => {
            Refuse
        }

        (S::Stagnating, E::Attested | E::Amended | E::ActivityRecorded) => Keep,
        (S::Stagnating, E::Revived) => Move(S::Active),
        (S::Stagnating, E::Suspended) => Move(S::Suspended),
        (S::Stagnating, E::Terminated) => Move(S::Terminated),
        (
            S::Stagnating,
            E::ContactEstablished | E::NegotiationStarted | E::Signed | E::Stagnated,
        ) => Refuse,

        (S::Suspended, E::Attested | E::Amended | E::ActivityRecorded) => Keep,
        (S::Suspended, E::Revived) => Move(S::Active),
        (S::Suspended, E::Terminated) => Move(S::Terminated),
        (
            S::Suspended,
            E::ContactEstablished | E::NegotiationStarted | E::Signed | E::Stagnated | E::Suspended,
        ) => Refuse,

        (
            S::Terminated,
            E::ContactEstablished
            | E::NegotiationStarted
            | E::Signed
            | E::Amended
            | E::ActivityRecorded
            | E::Stagnated
            | E::Revived
            | E::Suspended
            | E::Terminated
            | E::Attested,
        ) => Refuse,
    }
}

/// The event types a partnership in `state` accepts.
pub fn allowed(state: Status) -> Vec<EventType> {
    EventType::ALL
        .into_iter()
        .filter(|&ty| transition(state, ty) != Transition::Refuse)
        .collect()
}

/// The status of an offer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    /// Published and open.
    Published,
    /// It became a partnership. Final.
    Matched,
    /// Withdrawn by the town. Final.
    Withdrawn,
    /// No longer current. Final.
    Lapsed,
}

impl OfferStatus {
    /// Every status.
    pub const ALL: [OfferStatus; 4] = [
        OfferStatus::Published,
        OfferStatus::Matched,
        OfferStatus::Withdrawn,
        OfferStatus::Lapsed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Published => "published",
            OfferStatus::Matched => "matched",
            OfferStatus::Withdrawn => "withdrawn",
            OfferStatus::Lapsed => "lapsed",
        }
    }
}

impl fmt::Display for OfferStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OfferStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<OfferStatus, String> {
        OfferStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown offer status {s:?} (expected published, matched, withdrawn or lapsed)"
                )
            })
    }
}

/// What `ty` does to an offer; `None` is a stream not yet published.
pub fn offer_transition(state: Option<OfferStatus>, ty: EventType) -> Option<OfferStatus> {
    use EventType as E;
    use OfferStatus as O;
    match (state, ty) {
        (None, E::OfferPublished) => Some(O::Published),
        (Some(O::Published), E::OfferMatched) => Some(O::Matched),
        (Some(O::Published), E::OfferWithdrawn) => Some(O::Withdrawn),
        (Some(O::Published), E::OfferLapsed) => Some(O::Lapsed),
        _ => None,
    }
}

/// What `ty` does to a party stream; `registered` is whether it exists.
/// `Some(())` accepts.
pub fn party_transition(registered: bool, ty: EventType) -> Option<()> {
    match (registered, ty) {
        (false, EventType::PartyRegistered) | (true, EventType::PartyAmended) => Some(()),
        _ => None,
    }
}

/// An event the lifecycle does not accept, with the state it met and what
/// that state accepts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{event} is refused in state {state}{at}; allowed there: {allowed}{detail}",
    at = self.date.as_ref().map(|d| format!(" (effective {d})")).unwrap_or_default(),
    allowed = if self.allowed.is_empty() { "nothing".to_owned() } else {
        self.allowed.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
    },
    detail = self.detail.as_ref().map(|d| format!(". {d}")).unwrap_or_default())]
pub struct Refusal {
    /// The state met: a partnership status, an offer status, `registered`,
    /// or `none` for a stream that does not exist yet.
    pub state: String,
    /// The refused event's type.
    pub event: EventType,
    /// The event types the state accepts.
    pub allowed: Vec<EventType>,
    /// The refused event's effective date, where it has one.
    pub date: Option<String>,
    /// More about why.
    pub detail: Option<String>,
}

impl Refusal {
    /// A refusal in a partnership state.
    pub fn partnership(state: Status, event: EventType) -> Refusal {
        Refusal {
            state: state.as_str().to_owned(),
            event,
            allowed: allowed(state),
            date: None,
            detail: None,
        }
    }

    /// A refusal with an explanation.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Refusal {
        self.detail = Some(detail.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventType as E;
    use Status as S;
    use Transition::{Keep, Move, Refuse};

    /// The whole table, one row per event type, one column per state:
    /// proposed, negotiating, active, stagnating, suspended, terminated.
    /// `n` negotiating, `a` active, `g` stagnating, `s` suspended, `t`
    /// terminated, `=` keep, `-` refuse.
    const TABLE: &[(EventType, &str)] = &[
        (E::PartyRegistered, "------"),
        (E::PartyAmended, "------"),
        (E::PartnershipOpened, "------"),
        (E::ContactEstablished, "n=----"),
        (E::NegotiationStarted, "n=----"),
        (E::Signed, "aa----"),
        (E::Amended, "--===-"),
        (E::ActivityRecorded, "=====-"),
        (E::Stagnated, "--g---"),
        (E::Revived, "---aa-"),
        (E::Suspended, "--ss--"),
        (E::Terminated, "--ttt-"),
        (E::Attested, "aa===-"),
        (E::Corrected, "======"),
        (E::Retracted, "======"),
        (E::OfferPublished, "------"),
        (E::OfferMatched, "------"),
        (E::OfferWithdrawn, "------"),
        (E::OfferLapsed, "------"),
    ];

    fn decode(c: char) -> Transition {
        match c {
            'n' => Move(S::Negotiating),
            'a' => Move(S::Active),
            'g' => Move(S::Stagnating),
            's' => Move(S::Suspended),
            't' => Move(S::Terminated),
            '=' => Keep,
            '-' => Refuse,
            _ => panic!("bad table cell {c}"),
        }
    }

    #[test]
    fn every_state_event_pair() {
        assert_eq!(TABLE.len(), EventType::ALL.len(), "one row per event type");
        for (ty, row) in TABLE {
            for (state, cell) in S::ALL.into_iter().zip(row.chars()) {
                assert_eq!(
                    transition(state, *ty),
                    decode(cell),
                    "{ty} in state {state}"
                );
            }
        }
    }

    #[test]
    fn refusals_name_state_and_allowed_events() {
        let r = Refusal::partnership(S::Proposed, E::Terminated);
        assert_eq!(
            r.to_string(),
            "Terminated is refused in state proposed; allowed there: ContactEstablished, \
             NegotiationStarted, Signed, ActivityRecorded, Attested, Corrected, Retracted"
        );
        let r = Refusal::partnership(S::Terminated, E::Signed);
        assert!(
            r.to_string()
                .contains("allowed there: Corrected, Retracted")
        );
    }

    #[test]
    fn offers_and_parties() {
        use OfferStatus as O;
        assert_eq!(
            offer_transition(None, E::OfferPublished),
            Some(O::Published)
        );
        assert_eq!(
            offer_transition(Some(O::Published), E::OfferMatched),
            Some(O::Matched)
        );
        assert_eq!(offer_transition(Some(O::Matched), E::OfferLapsed), None);
        assert_eq!(offer_transition(None, E::OfferLapsed), None);
        assert_eq!(party_transition(false, E::PartyRegistered), Some(()));
        assert_eq!(party_transition(true, E::PartyRegistered), None);
        assert_eq!(party_transition(false, E::PartyAmended), None);
    }
}
