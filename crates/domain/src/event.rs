//! Events: what clients send, what the log keeps.
//!
//! The wire names here are fixed by the design guide: event types in
//! PascalCase, enum values in snake_case. An event on the wire is
//! `{"type":"Signed","date":"2007-10-11","data":{…},"source":{…},"note":"…"}`;
//! only `type` is required besides what its type needs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::date::PartialDate;
use crate::id::{EventId, PartnershipId, PartyId, StreamKind};

/// Every event type, with its wire name.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum EventType {
    /// A party enters the registry (party stream).
    PartyRegistered,
    /// A party's names, aliases or parent change (party stream).
    PartyAmended,
    /// The header of a partnership stream: its two parties.
    PartnershipOpened,
    /// A first contact between the parties.
    ContactEstablished,
    /// Negotiation of an agreement began.
    NegotiationStarted,
    /// The agreement was signed (or official relations established).
    Signed,
    /// The agreement was amended.
    Amended,
    /// A visit, letter, meeting or conference, held, planned or failed.
    ActivityRecorded,
    /// Cooperation stalled.
    Stagnated,
    /// Cooperation resumed after stagnation or suspension.
    Revived,
    /// Contacts were suspended.
    Suspended,
    /// The agreement ended.
    Terminated,
    /// A dated source confirms the agreement was in force.
    Attested,
    /// An earlier event's date or data is corrected.
    Corrected,
    /// An earlier event is withdrawn from the record.
    Retracted,
    /// A town publishes that it seeks a Czech partner (offer stream).
    OfferPublished,
    /// The offer led to a partnership.
    OfferMatched,
    /// The offer was withdrawn.
    OfferWithdrawn,
    /// The offer lapsed.
    OfferLapsed,
}

impl EventType {
    /// Every event type, in declaration order.
    pub const ALL: [EventType; 19] = [
        EventType::PartyRegistered,
        EventType::PartyAmended,
        EventType::PartnershipOpened,
        EventType::ContactEstablished,
        EventType::NegotiationStarted,
        EventType::Signed,
        EventType::Amended,
        EventType::ActivityRecorded,
        EventType::Stagnated,
        EventType::Revived,
        EventType::Suspended,
        EventType::Terminated,
        EventType::Attested,
        EventType::Corrected,
        EventType::Retracted,
        EventType::OfferPublished,
        EventType::OfferMatched,
        EventType::OfferWithdrawn,
        EventType::OfferLapsed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PartyRegistered => "PartyRegistered",
            EventType::PartyAmended => "PartyAmended",
            EventType::PartnershipOpened => "PartnershipOpened",
            EventType::ContactEstablished => "ContactEstablished",
            EventType::NegotiationStarted => "NegotiationStarted",
            EventType::Signed => "Signed",
            EventType::Amended => "Amended",
            EventType::ActivityRecorded => "ActivityRecorded",
            EventType::Stagnated => "Stagnated",
            EventType::Revived => "Revived",
            EventType::Suspended => "Suspended",
            EventType::Terminated => "Terminated",
            EventType::Attested => "Attested",
            EventType::Corrected => "Corrected",
            EventType::Retracted => "Retracted",
            EventType::OfferPublished => "OfferPublished",
            EventType::OfferMatched => "OfferMatched",
            EventType::OfferWithdrawn => "OfferWithdrawn",
            EventType::OfferLapsed => "OfferLapsed",
        }
    }

    /// The kind of stream the type belongs to.
    pub fn stream_kind(self) -> StreamKind {
        match self {
            EventType::PartyRegistered | EventType::PartyAmended => StreamKind::Party,
            EventType::OfferPublished
            | EventType::OfferMatched
            | EventType::OfferWithdrawn
            | EventType::OfferLapsed => StreamKind::Offer,
            _ => StreamKind::Partnership,
        }
    }

    /// Whether the type needs an effective date (`Signed`, `Terminated`).
    pub fn needs_date(self) -> bool {
        matches!(self, EventType::Signed | EventType::Terminated)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = String;
    fn from_str(s: &str) -> Result<EventType, String> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown event type {s:?}"))
    }
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<$name, String> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} {s:?} (expected one of: {})", stringify!($name), names.join(", "))
                })
            }
        }
    };
}

wire_enum! {
    /// The document (or its absence) that founds a partnership.
    Instrument {
        /// Memorandum of friendship.
        MemorandumOfFriendship = "memorandum_of_friendship",
        /// Memorandum of understanding (or of cooperation).
        MemorandumOfUnderstanding = "memorandum_of_understanding",
        /// Cooperation agreement.
        CooperationAgreement = "cooperation_agreement",
        /// Declaration of cooperation.
        DeclarationOfCooperation = "declaration_of_cooperation",
        /// Partnership contract.
        PartnershipContract = "partnership_contract",
        /// Official relations without a (named) document.
        OfficialRelations = "official_relations",
    }
}

wire_enum! {
    /// How an agreement ended.
    TerminationMode {
        /// One side gave notice.
        Denounced = "denounced",
        /// Both sides agreed to end it.
        Mutual = "mutual",
        /// Its term ran out.
        Expired = "expired",
        /// It fell out of use.
        Lapsed = "lapsed",
        /// A newer agreement replaced it.
        Superseded = "superseded",
        /// It ended, and the source does not say how.
        Unknown = "unknown",
    }
}

wire_enum! {
    /// What kind of activity was recorded.
    ActivityKind {
        /// A visit of a delegation.
        Visit = "visit",
        /// A letter.
        Letter = "letter",
        /// A meeting.
        Meeting = "meeting",
        /// A conference.
        Conference = "conference",
        /// Anything else.
        Other = "other",
    }
}

wire_enum! {
    /// What became of an activity.
    ActivityOutcome {
        /// It happened.
        TookPlace = "took_place",
        /// It was planned (and the record says no more).
        Planned = "planned",
        /// It was planned and did not take place.
        DidNotTakePlace = "did_not_take_place",
        /// A letter that got no answer.
        Unanswered = "unanswered",
    }
}

wire_enum! {
    /// How a population figure relates to the town's population, as the
    /// notice words it ("under 5 thousand", "over 4 thousand").
    PopulationBound {
        /// Fewer than the figure ("necelých", "under").
        Under = "under",
        /// More than the figure ("přes", "více než", "over").
        Over = "over",
        /// Near the figure, on either side ("zhruba", "kolem", "téměř").
        About = "about",
    }
}

wire_enum! {
    /// Who initiated a partnership: the three directions of the Ústí
    /// Region's concept of external relations (`seeds` source 004).
    Initiative {
        /// The home party (the region itself) initiated it.
        HomeParty = "home_party",
        /// An actor based in the home region (a town, firm, school, NGO).
        HomeActor = "home_actor",
        /// The foreign side or another outside actor.
        ForeignSide = "foreign_side",
    }
}

wire_enum! {
    /// What kind of body a party is.
    PartyKind {
        /// A region (kraj, Region, région, regione autonoma).
        Region = "region",
        /// A province.
        Province = "province",
        /// A county (hrabství, župa, fylke).
        County = "county",
        /// An oblast.
        Oblast = "oblast",
        /// A state or land (Freistaat, entity).
        State = "state",
        /// A district (okres, okrug).
        District = "district",
        /// A city.
        City = "city",
        /// A town (město).
        Town = "town",
        /// A municipality or village (obec).
        Municipality = "municipality",
        /// A community (hromada, kibbutz).
        Community = "community",
        /// An association of municipalities or other organisation.
        Association = "association",
        /// Anything else.
        Other = "other",
    }
}

/// A citation: where a fact comes from.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Title of the document or page (required).
    pub title: String,
    /// Where it can be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A reference within or of it: a file name, a resolution number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Where in the document the fact stands, so that a reader can find
    /// it: a section heading, a paragraph, a notice's date. Absent from
    /// the record (and from its canonical bytes) when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
    /// The source's own date, at its own precision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<PartialDate>,
}

/// Names of a party. At least one is present.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// In the party's own language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<String>,
    /// In Czech.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cs: Option<String>,
    /// In English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Names {
    /// The best name to show: English, then Czech, then native.
    pub fn display(&self) -> Option<&str> {
        self.en
            .as_deref()
            .or(self.cs.as_deref())
            .or(self.native.as_deref())
    }

    /// All names present.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        [&self.native, &self.cs, &self.en]
            .into_iter()
            .filter_map(|n| n.as_deref())
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

macro_rules! data_struct {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty $(= $attr:tt)?,)* }) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fdoc])* $(#[serde $attr])? pub $field: $ty,)*
        }
    };
}

data_struct! {
    /// Data of `PartyRegistered`.
    PartyRegistered {
        /// What kind of body it is.
        kind: PartyKind,
        /// Its names.
        names: Names,
        /// Other spellings and transliterations (`Chuguev`, `Čuhujiv`).
        aliases: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
        /// ISO 3166-1 alpha-2 country code, upper case.
        country: String,
        /// ISO 3166-2 subdivision code, where one exists.
        iso_3166_2: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// The party it belongs to (a town's region).
        parent: Option<PartyId> = (default, skip_serializing_if = "Option::is_none"),
        /// When it came into being, where known (the Czech regions:
        /// 2000-01-01). Nothing of it is in force before.
        established: Option<PartialDate> = (default, skip_serializing_if = "Option::is_none"),
        /// When it ceased to exist (dissolved, merged). Nothing of it is in
        /// force after.
        dissolved: Option<PartialDate> = (default, skip_serializing_if = "Option::is_none"),
    }
}

data_struct! {
    #[derive(Default)]
    /// Data of `PartyAmended`: only the fields present change.
    PartyAmended {
        /// New names (replacing the old ones).
        names: Option<Names> = (default, skip_serializing_if = "Option::is_none"),
        /// Aliases to add.
        add_aliases: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
        /// A new ISO 3166-2 code.
        iso_3166_2: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// A new parent.
        parent: Option<PartyId> = (default, skip_serializing_if = "Option::is_none"),
        /// When it came into being (see `PartyRegistered`).
        established: Option<PartialDate> = (default, skip_serializing_if = "Option::is_none"),
        /// When it ceased to exist (see `PartyRegistered`).
        dissolved: Option<PartialDate> = (default, skip_serializing_if = "Option::is_none"),
    }
}

data_struct! {
    /// Data of `PartnershipOpened`, the header of every partnership stream.
    PartnershipOpened {
        /// The Czech side.
        home: PartyId,
        /// The partner.
        partner: PartyId,
        /// Who initiated it, where known.
        initiative: Option<Initiative> = (default, skip_serializing_if = "Option::is_none"),
    }
}

data_struct! {
    #[derive(Default)]
    /// Data of `ContactEstablished` and `NegotiationStarted`.
    Contact {
        /// People and bodies involved, with their roles.
        participants: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
        /// Intermediaries who brought the parties together.
        intermediaries: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
        /// Areas of cooperation discussed.
        areas: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
    }
}

data_struct! {
    /// Data of `Signed`.
    Signed {
        /// The kind of document.
        instrument: Instrument,
        /// The document's title.
        title: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// Where it was signed.
        place: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// Who signed, with their offices.
        signatories: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
        /// Areas of cooperation it names.
        areas: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
    }
}

data_struct! {
    #[derive(Default)]
    /// Data of `Amended`: only the fields present change.
    Amended {
        /// A new instrument.
        instrument: Option<Instrument> = (default, skip_serializing_if = "Option::is_none"),
        /// A new title.
        title: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// The new list of areas.
        areas: Option<Vec<String>> = (default, skip_serializing_if = "Option::is_none"),
    }
}

data_struct! {
    /// Data of `ActivityRecorded`.
    ActivityRecorded {
        /// What kind of activity.
        kind: ActivityKind,
        /// What became of it (absent: it took place).
        outcome: Option<ActivityOutcome> = (default, skip_serializing_if = "Option::is_none"),
        /// Where.
        place: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// Who took part, with their offices.
        participants: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
        /// Areas of cooperation concerned.
        areas: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
    }
}

data_struct! {
    #[derive(Default)]
    /// Data of `Stagnated`, `Revived` and `Suspended`.
    Change {
        /// Why.
        reason: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// The body that decided it, where one did.
        decided_by: Option<String> = (default, skip_serializing_if = "Option::is_none"),
    }
}

data_struct! {
    /// Data of `Terminated`.
    Terminated {
        /// How it ended (`unknown` where the source does not say).
        mode: TerminationMode,
        /// Why (required).
        reason: String,
        /// When the ending takes effect, where the source gives it (a
        /// notice period, an agreed day); the event's `date` stays the
        /// day of the act (the decision, the denunciation). In force is
        /// reckoned from this date when present, else from the act's.
        effective: Option<PartialDate> = (default, skip_serializing_if = "Option::is_none"),
        /// The body that decided it.
        decided_by: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// The resolution number of the decision.
        resolution: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// The notice or other document that ended it.
        notice: Option<Source> = (default, skip_serializing_if = "Option::is_none"),
    }
}

data_struct! {
    #[derive(Default)]
    /// Data of `Attested`: the event's `source` is the evidence.
    Attested {
        /// The kind of document found in force, where the source says.
        instrument: Option<Instrument> = (default, skip_serializing_if = "Option::is_none"),
        /// The document found in force, where the source names it.
        document: Option<String> = (default, skip_serializing_if = "Option::is_none"),
    }
}

data_struct! {
    /// Data of `Corrected`: replaces the effective date and/or some data
    /// fields of an earlier event of the same stream.
    Corrected {
        /// The event corrected.
        target: EventId,
        /// Why (required).
        reason: String,
        /// The corrected effective date.
        date: Option<PartialDate> = (default, skip_serializing_if = "Option::is_none"),
        /// Data fields that replace the target's fields of the same name.
        data: Option<serde_json::Map<String, serde_json::Value>> = (default, skip_serializing_if = "Option::is_none"),
    }
}

data_struct! {
    /// Data of `Retracted`: withdraws an earlier event of the same stream.
    Retracted {
        /// The event withdrawn.
        target: EventId,
        /// Why (required).
        reason: String,
    }
}

data_struct! {
    /// Data of `OfferPublished`, the header of every offer stream.
    OfferPublished {
        /// The town seeking a partner.
        party: PartyId,
        /// The Czech body that holds the offer (publishes it).
        home: PartyId,
        /// Population as the notice gives it.
        population: Option<u64> = (default, skip_serializing_if = "Option::is_none"),
        /// How `population` bounds the real figure, where the notice words
        /// it as a bound ("under 5 thousand": `under`, 5000). Absent: the
        /// figure as given.
        population_bound: Option<PopulationBound> = (default, skip_serializing_if = "Option::is_none"),
        /// Whether the population is approximate: the form of records
        /// written before `population_bound` (read as `about`).
        population_approximate: bool = (default, skip_serializing_if = "is_false"),
        /// Region of the town, as the notice names it.
        region: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// What the town wants to cooperate on.
        interests: Vec<String> = (default, skip_serializing_if = "Vec::is_empty"),
        /// The partner it wishes for (size, kind).
        wished_partner: Option<String> = (default, skip_serializing_if = "Option::is_none"),
        /// Who passed the offer on (an embassy, an NGO).
        intermediary: Option<String> = (default, skip_serializing_if = "Option::is_none"),
    }
}

data_struct! {
    /// Data of `OfferMatched`.
    OfferMatched {
        /// The partnership the offer became.
        partnership: PartnershipId,
    }
}

/// The typed data of an event, one variant per [`EventType`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Payload {
    /// See [`EventType::PartyRegistered`].
    PartyRegistered(PartyRegistered),
    /// See [`EventType::PartyAmended`].
    PartyAmended(PartyAmended),
    /// See [`EventType::PartnershipOpened`].
    PartnershipOpened(PartnershipOpened),
    /// See [`EventType::ContactEstablished`].
    ContactEstablished(Contact),
    /// See [`EventType::NegotiationStarted`].
    NegotiationStarted(Contact),
    /// See [`EventType::Signed`].
    Signed(Signed),
    /// See [`EventType::Amended`].
    Amended(Amended),
    /// See [`EventType::ActivityRecorded`].
    ActivityRecorded(ActivityRecorded),
    /// See [`EventType::Stagnated`].
    Stagnated(Change),
    /// See [`EventType::Revived`].
    Revived(Change),
    /// See [`EventType::Suspended`].
    Suspended(Change),
    /// See [`EventType::Terminated`].
    Terminated(Terminated),
    /// See [`EventType::Attested`].
    Attested(Attested),
    /// See [`EventType::Corrected`].
    Corrected(Corrected),
    /// See [`EventType::Retracted`].
    Retracted(Retracted),
    /// See [`EventType::OfferPublished`].
    OfferPublished(OfferPublished),
    /// See [`EventType::OfferMatched`].
    OfferMatched(OfferMatched),
    /// See [`EventType::OfferWithdrawn`].
    OfferWithdrawn(Change),
    /// See [`EventType::OfferLapsed`].
    OfferLapsed(Change),
}

macro_rules! payload_dispatch {
    ($($variant:ident),+) => {
        impl Payload {
            /// The event type of this payload.
            pub fn event_type(&self) -> EventType {
                match self { $(Payload::$variant(_) => EventType::$variant,)+ }
            }

            /// Parses the `data` object of an event of type `ty`.
            pub fn from_json(ty: EventType, data: &str) -> Result<Payload, serde_json::Error> {
                Ok(match ty { $(EventType::$variant => Payload::$variant(serde_json::from_str(data)?),)+ })
            }

            /// Reads the `data` of an event of type `ty` from any
            /// deserializer (one that tracks the path, say).
            pub fn deserialize_data<'de, D: serde::Deserializer<'de>>(ty: EventType, d: D) -> Result<Payload, D::Error> {
                Ok(match ty { $(EventType::$variant => Payload::$variant(Deserialize::deserialize(d)?),)+ })
            }

            /// The `data` object as a JSON value.
            pub fn to_value(&self) -> serde_json::Value {
                let value = match self { $(Payload::$variant(d) => serde_json::to_value(d),)+ };
                value.expect("event data always serializes: it has no maps with non-string keys")
            }

            fn serialize_data<S: serde::ser::SerializeMap>(&self, map: &mut S) -> Result<(), S::Error> {
                match self { $(Payload::$variant(d) => map.serialize_entry("data", d),)+ }
            }
        }
    };
}

payload_dispatch!(
    PartyRegistered,
    PartyAmended,
    PartnershipOpened,
    ContactEstablished,
    NegotiationStarted,
    Signed,
    Amended,
    ActivityRecorded,
    Stagnated,
    Revived,
    Suspended,
    Terminated,
    Attested,
    Corrected,
    Retracted,
    OfferPublished,
    OfferMatched,
    OfferWithdrawn,
    OfferLapsed
);

/// One event as a client states it: type and data, effective date, source
/// and note. The store adds the envelope (see [`crate::Recorded`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Event {
    /// Type and data.
    pub payload: Payload,
    /// When it happened in the world, at the source's precision.
    pub date: Option<PartialDate>,
    /// Where the fact comes from.
    pub source: Option<Source>,
    /// A short note in the recorder's own words.
    pub note: Option<String>,
}

impl Event {
    /// An event with only a payload.
    pub fn new(payload: Payload) -> Event {
        Event {
            payload,
            date: None,
            source: None,
            note: None,
        }
    }

    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.payload.event_type()
    }

    /// Checks what serde cannot: every text and list within its bound
    /// ([`crate::limits`], e.g. a note of at most [`MAX_NOTE_CHARS`]
    /// characters), a date where the type needs one, a non-empty source
    /// title and reasons, names and codes of the right form.
    pub fn validate(&self) -> Result<(), EventError> {
        let ty = self.event_type();
        crate::limits::check_event(self.note.as_deref(), self.source.as_ref(), &self.payload)?;
        if let Some(c) = self.note.as_deref().and_then(|note| {
            note.chars()
                .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        }) {
            return Err(EventError::new(format!(
                "the note holds the control character U+{:04X}; a note is plain text",
                u32::from(c)
            )));
        }
        if ty.needs_date() && self.date.is_none() {
            return Err(EventError::new(format!("{ty} needs a date")));
        }
        if let Some(source) = &self.source
            && source.title.trim().is_empty()
        {
            return Err(EventError::new("source.title cannot be empty"));
        }
        let nonempty = |what: &str, s: &str| {
            if s.trim().is_empty() {
                Err(EventError::new(format!("{ty}: {what} cannot be empty")))
            } else {
                Ok(())
            }
        };
        match &self.payload {
            Payload::PartyRegistered(p) => {
                if p.names.all().next().is_none() {
                    return Err(EventError::new(
                        "PartyRegistered needs at least one of names.native, names.cs, names.en",
                    ));
                }
                for name in p.names.all().chain(p.aliases.iter().map(String::as_str)) {
                    check_name(name)?;
                }
                check_country(&p.country)?;
                if let Some(code) = &p.iso_3166_2 {
                    check_subdivision(&p.country, code)?;
                }
            }
            Payload::PartnershipOpened(p) if p.home == p.partner => {
                return Err(EventError::new(
                    "a partnership needs two different parties (home equals partner)",
                ));
            }
            Payload::PartyAmended(p) => {
                let names = p.names.iter().flat_map(Names::all);
                for name in names.chain(p.add_aliases.iter().map(String::as_str)) {
                    check_name(name)?;
                }
            }
            Payload::Terminated(t) => {
                nonempty("data.reason", &t.reason)?;
                if let (Some(act), Some(effective)) = (&self.date, &t.effective)
                    && effective.interval().hi() < act.interval().lo()
                {
                    return Err(EventError::new(format!(
                        "Terminated: data.effective {effective} ends before the act's date \
                         {act}; an ending takes effect on or after the act that ends it"
                    )));
                }
            }
            Payload::Corrected(c) => {
                nonempty("data.reason", &c.reason)?;
                if c.date.is_none() && c.data.as_ref().is_none_or(|d| d.is_empty()) {
                    return Err(EventError::new(
                        "Corrected needs data.date or data.data: the corrected fields",
                    ));
                }
            }
            Payload::Retracted(r) => nonempty("data.reason", &r.reason)?,
            _ => {}
        }
        Ok(())
    }
}

/// A party's name or alias is what people read and search: no control
/// characters, and none of the invisible characters that reorder or hide
/// text (bidirectional overrides, embeddings, isolates and marks;
/// zero-width spaces). The joiners some scripts need (U+200C, U+200D)
/// stay allowed.
fn check_name(name: &str) -> Result<(), EventError> {
    let invisible = |c: char| {
        matches!(
            c,
            '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}'
        )
    };
    if name.trim().is_empty() {
        return Err(EventError::new("a name or alias cannot be empty"));
    }
    match name.chars().find(|&c| c.is_control() || invisible(c)) {
        None => Ok(()),
        Some(c) => Err(EventError::new(format!(
            "the name {:?} holds the invisible or control character U+{:04X}; \
             names are plain text",
            name.chars()
                .filter(|&c| !(c.is_control() || invisible(c)))
                .collect::<String>(),
            u32::from(c)
        ))),
    }
}

/// The longest note an event may carry, in characters (with every other
/// bound in [`crate::limits`]).
pub use crate::limits::MAX_NOTE_CHARS;

fn check_country(code: &str) -> Result<(), EventError> {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(EventError::new(format!(
            "country {code:?} is not an ISO 3166-1 alpha-2 code (two upper-case letters)"
        )))
    }
}

fn check_subdivision(country: &str, code: &str) -> Result<(), EventError> {
    let ok = code.split_once('-').is_some_and(|(c, rest)| {
        c == country
            && (1..=3).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(EventError::new(format!(
            "iso_3166_2 {code:?} is not an ISO 3166-2 code of country {country} (e.g. {country}-32)"
        )))
    }
}

/// An event that is well-formed JSON but not a valid event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(String);

impl EventError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> EventError {
        EventError(message.into())
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        self.serialize_fields(&mut map)?;
        map.end()
    }
}

impl Event {
    /// Writes `type`, `date`, `data`, `source` and `note` into a map being
    /// serialized; the record envelope shares them.
    pub fn serialize_fields<M: serde::ser::SerializeMap>(
        &self,
        map: &mut M,
    ) -> Result<(), M::Error> {
        map.serialize_entry("type", &self.event_type())?;
        if let Some(date) = &self.date {
            map.serialize_entry("date", date)?;
        }
        self.payload.serialize_data(map)?;
        if let Some(source) = &self.source {
            map.serialize_entry("source", source)?;
        }
        if let Some(note) = &self.note {
            map.serialize_entry("note", note)?;
        }
        Ok(())
    }
}

/// The fields of an event as they arrive, before `data` is typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    #[serde(rename = "type")]
    ty: EventType,
    #[serde(default)]
    date: Option<PartialDate>,
    #[serde(default)]
    data: Option<Box<RawValue>>,
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    note: Option<String>,
}

impl RawEvent {
    fn into_event(self) -> Result<Event, String> {
        let data = self.data.as_deref().map_or("{}", RawValue::get);
        let payload =
            Payload::from_json(self.ty, data).map_err(|e| format!("{} data: {e}", self.ty))?;
        Ok(Event {
            payload,
            date: self.date,
            source: self.source,
            note: self.note,
        })
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
        RawEvent::deserialize(d)?
            .into_event()
            .map_err(serde::de::Error::custom)
    }
}

/// Builds an event from the parts a record stores; used by the record
/// decoder, which reads the envelope fields itself.
pub(crate) fn event_from_parts(
    ty: EventType,
    date: Option<PartialDate>,
    data: Option<&RawValue>,
    source: Option<Source>,
    note: Option<String>,
) -> Result<Event, String> {
    let payload = Payload::from_json(ty, data.map_or("{}", RawValue::get))
        .map_err(|e| format!("{ty} data: {e}"))?;
    Ok(Event {
        payload,
        date,
        source,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips() {
        let text = r#"{"type":"Signed","date":"2007-10-11","data":{"instrument":"cooperation_agreement","place":"Brussels"},"source":{"title":"Uzavřená dohoda","reference":"001"},"note":"signed at Open Days"}"#;
        let event: Event = serde_json::from_str(text).unwrap();
        assert_eq!(event.event_type(), EventType::Signed);
        assert_eq!(serde_json::to_string(&event).unwrap(), text);
    }

    #[test]
    fn names_and_notes_are_plain_text() {
        let party = |names: &str, aliases: &str| {
            serde_json::from_str::<Event>(&format!(
                r#"{{"type":"PartyRegistered","data":{{"kind":"town","names":{names},"aliases":{aliases},"country":"DE"}}}}"#
            ))
            .unwrap()
            .validate()
        };
        party(r#"{"native":"Plzeň"}"#, r#"["Pilsen"]"#).unwrap();
        // Scripts that need joiners keep them.
        party(r#"{"native":"\u0915\u094d\u200d\u0937"}"#, "[]").unwrap();
        for (names, aliases, shown) in [
            (r#"{"native":"Plze\u202e1"}"#, "[]", "U+202E"),
            (
                r#"{"native":"Plzeň"}"#,
                r#"["liberecky\u0000kraj"]"#,
                "U+0000",
            ),
            (r#"{"en":"Plzen\u200b"}"#, "[]", "U+200B"),
            (r#"{"cs":"a\u2066b"}"#, "[]", "U+2066"),
            (r#"{"cs":" "}"#, "[]", "cannot be empty"),
        ] {
            let err = party(names, aliases).unwrap_err();
            assert!(err.to_string().contains(shown), "{names} {aliases}: {err}");
        }
        let amended: Event =
            serde_json::from_str(r#"{"type":"PartyAmended","data":{"add_aliases":["x\u202dy"]}}"#)
                .unwrap();
        assert!(
            amended
                .validate()
                .unwrap_err()
                .to_string()
                .contains("U+202D")
        );
        let note: Event =
            serde_json::from_str(r#"{"type":"Attested","note":"line one\nline\u0000two"}"#)
                .unwrap();
        assert!(note.validate().unwrap_err().to_string().contains("U+0000"));
        let note: Event =
            serde_json::from_str(r#"{"type":"Attested","note":"line one\nline two\ttab"}"#)
                .unwrap();
        note.validate().unwrap();
    }

    #[test]
    fn only_type_is_required() {
        let event: Event = serde_json::from_str(r#"{"type":"Attested"}"#).unwrap();
        assert_eq!(event.payload, Payload::Attested(Attested::default()));
        event.validate().unwrap();
    }

    #[test]
    fn what_a_type_needs_is_checked() {
        let err = serde_json::from_str::<Event>(r#"{"type":"Signed","date":"2001"}"#).unwrap_err();
        assert!(
            err.to_string().contains("missing field `instrument`"),
            "{err}"
        );
        let err = serde_json::from_str::<Event>(
            r#"{"type":"Signed","date":"2001","data":{"instrument":"treaty"}}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `treaty`"),
            "{err}"
        );
        let event: Event =
            serde_json::from_str(r#"{"type":"Signed","data":{"instrument":"official_relations"}}"#)
                .unwrap();
        assert_eq!(
            event.validate().unwrap_err().to_string(),
            "Signed needs a date"
        );
        let err = serde_json::from_str::<Event>(
            r#"{"type":"Terminated","date":"2022-03-01","data":{"mode":"denounced"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("missing field `reason`"), "{err}");
        let err = serde_json::from_str::<Event>(
            r#"{"type":"Signed","date":"2023-02-29","data":{"instrument":"official_relations"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("which has 28 days"), "{err}");
        let err = serde_json::from_str::<Event>(r#"{"type":"Nope"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `Nope`"), "{err}");
        let err =
            serde_json::from_str::<Event>(r#"{"type":"Attested","colour":"red"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn party_codes_are_checked() {
        let party = |country: &str, code: Option<&str>| {
            Event::new(Payload::PartyRegistered(PartyRegistered {
                kind: PartyKind::Region,
                names: Names {
                    cs: Some("Plzeňský kraj".into()),
                    ..Names::default()
                },
                aliases: vec![],
                country: country.into(),
                iso_3166_2: code.map(Into::into),
                parent: None,
                established: None,
                dissolved: None,
            }))
        };
        party("CZ", Some("CZ-32")).validate().unwrap();
        assert!(party("cz", None).validate().is_err());
        assert!(party("CZ", Some("DE-BY")).validate().is_err());
    }

    #[test]
    fn notes_are_short() {
        let with_note = |n: usize| {
            let mut e = Event::new(Payload::ContactEstablished(Contact::default()));
            e.note = Some("ř".repeat(n));
            e
        };
        with_note(MAX_NOTE_CHARS).validate().unwrap();
        let err = with_note(MAX_NOTE_CHARS + 1).validate().unwrap_err();
        assert_eq!(err.to_string(), "note: at most 2000 characters (got 2001)");
    }

    #[test]
    fn enum_names_are_snake_case() {
        assert_eq!(
            Instrument::MemorandumOfFriendship.as_str(),
            "memorandum_of_friendship"
        );
        assert_eq!(
            "did_not_take_place".parse::<ActivityOutcome>().unwrap(),
            ActivityOutcome::DidNotTakePlace
        );
        assert!(
            "x".parse::<TerminationMode>()
                .unwrap_err()
                .contains("denounced, mutual")
        );
        for ty in EventType::ALL {
            assert_eq!(ty.as_str().parse::<EventType>().unwrap(), ty);
            assert_eq!(serde_json::to_value(ty).unwrap(), ty.as_str());
        }
    }
}
