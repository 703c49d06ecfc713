//! What clients send: every request body and query string is one of the
//! typed structs below, read by [`Body`] or [`Query`].
//!
//! The structs are the contract: serde reads them (closed with
//! `deny_unknown_fields`, so a misspelt field or parameter is refused,
//! never ignored) and utoipa documents them from the same definitions, so
//! the OpenAPI document cannot drift from what the server accepts. Every
//! refusal is a problem naming the field's path (`source.title`,
//! `valid_on`): unreadable JSON is 400; readable JSON with content the
//! contract does not take (a wrong type, a missing or unknown field, an
//! impossible date) is 422; a query parameter that cannot be read is 400,
//! and one that names a day that does not exist 422.
//!
//! Limits and character rules on the values themselves live on the
//! domain's types (`Event::validate` and the decide step), once, for every
//! way in: HTTP, import and the seeds.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use pacta_domain::event::{PartyKind, PartyRegistered};
use pacta_domain::{
    Day, Event, EventId, EventType, Initiative, OfferStatus, PartialDate, Payload, Slug, Source,
    Status, Timestamp,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;

/// A JSON request body of type `T`, at most [`crate::MAX_BODY`] bytes.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too-large",
                        "Body too large",
                        format!("the body exceeds {} bytes", crate::MAX_BODY),
                    )
                } else {
                    AppError::bad_request(rejection.body_text())
                }
            })?;
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        let value =
            serde_path_to_error::deserialize(&mut json).map_err(|e| body_error(&e, &bytes))?;
        json.end()
            .map_err(|e| AppError::bad_request(format!("the body is not valid JSON: {e}")))?;
        Ok(Body(value))
    }
}

/// Unreadable JSON is 400; anything else serde refuses is 422, naming the
/// field's path. (serde_json reports a number where an enum's name
/// belongs, as in `{"type":5}`, as a syntax error: whether the body is
/// JSON at all decides.)
fn body_error(e: &serde_path_to_error::Error<serde_json::Error>, bytes: &[u8]) -> AppError {
    use serde_json::error::Category;
    let inner = e.inner();
    let is_json = || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
    match inner.classify() {
        Category::Data => AppError::invalid_field(&path_of(e.path()), inner),
        Category::Syntax if is_json() => AppError::invalid_field(
            &path_of(e.path()),
            format!("not a value this field takes ({inner})"),
        ),
        Category::Syntax | Category::Eof | Category::Io => {
            AppError::bad_request(format!("the body is not valid JSON: {inner}"))
        }
    }
}

fn path_of(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." { String::new() } else { text }
}

/// The query string read as `T`.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(pairs)
            .map(Query)
            .map_err(|e| {
                let field = path_of(e.path());
                let inner = e.inner().to_string();
                if inner.contains("does not exist") {
                    AppError::invalid_field(&field, &inner)
                } else {
                    AppError::bad_request_field(&field, &inner)
                }
            })
    }
}

/// Reads a query value through its `FromStr` (query strings carry text).
fn parsed<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// A comma-separated list of event types.
fn event_types<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<EventType>>, D::Error> {
    let text = String::deserialize(d)?;
    text.split(',')
        .map(|t| {
            t.trim()
                .parse::<EventType>()
                .map_err(serde::de::Error::custom)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A stream kind: `partnership`, `party` or `offer`.
fn stream_kind<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<pacta_domain::StreamKind>, D::Error> {
    let text = String::deserialize(d)?;
    [
        pacta_domain::StreamKind::Partnership,
        pacta_domain::StreamKind::Party,
        pacta_domain::StreamKind::Offer,
    ]
    .into_iter()
    .find(|k| k.as_str() == text)
    .map(Some)
    .ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown stream kind {text:?} (expected partnership, party or offer)"
        ))
    })
}

/// Which records of the log a reader wants.
#[derive(Clone, Debug, Default)]
pub struct LogFilter {
    /// Only these types.
    pub types: Option<Vec<EventType>>,
    /// Only streams of this kind.
    pub stream_kind: Option<pacta_domain::StreamKind>,
}

impl LogFilter {
    /// Whether a record is wanted.
    pub fn wants(&self, record: &pacta_domain::Recorded) -> bool {
        self.types
            .as_ref()
            .is_none_or(|t| t.contains(&record.event.event_type()))
            && self
                .stream_kind
                .is_none_or(|k| record.envelope.stream.kind == k)
    }
}

/// A record time asked about: an RFC 3339 instant or a date (see
/// [`Timestamp::parse_known_at`]).
fn instant<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let text = String::deserialize(d)?;
    Timestamp::parse_known_at(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Schemas of values that are text of a stated form, so that the document
/// says exactly what the server takes.
mod schema {
    use utoipa::openapi::schema::{SchemaType, Type};
    use utoipa::openapi::{Object, ObjectBuilder};

    fn text(optional: bool) -> ObjectBuilder {
        if optional {
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        } else {
            ObjectBuilder::new().schema_type(Type::String)
        }
    }

    /// A slug: lowercase ASCII letters and digits in runs joined by one or
    /// two `-`, at most 96 characters.
    fn slug_of(optional: bool) -> Object {
        text(optional)
            .pattern(Some("^[a-z0-9]+(-{1,2}[a-z0-9]+)*$"))
            .min_length(Some(1))
            .max_length(Some(96))
            .build()
    }
    pub fn slug() -> Object {
        slug_of(false)
    }
    pub fn slug_optional() -> Object {
        slug_of(true)
    }

    /// A ULID: 26 characters of Crockford's base32, at most 7ZZZ…Z.
    pub fn event_id_optional() -> Object {
        text(true)
            .pattern(Some("^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$"))
            .examples([serde_json::json!("01JD8X3Z5N7Q2W4E6R8T0Y2U4A")])
            .build()
    }

    /// One of the given names.
    /// A comma-separated list of event types.
    pub fn event_type_list() -> Object {
        let one = pacta_domain::EventType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join("|");
        text(true)
            .pattern(Some(format!("^({one})(,({one}))*$")))
            .build()
    }

    fn names(optional: bool, values: impl IntoIterator<Item = &'static str>) -> Object {
        let mut values: Vec<serde_json::Value> = values.into_iter().map(Into::into).collect();
        if optional {
            values.push(serde_json::Value::Null);
        }
        text(optional).enum_values(Some(values)).build()
    }
    pub fn event_type() -> Object {
        names(
            false,
            pacta_domain::EventType::ALL.iter().map(|t| t.as_str()),
        )
    }
    pub fn status() -> Object {
        names(false, pacta_domain::Status::ALL.iter().map(|t| t.as_str()))
    }
    pub fn offer_status() -> Object {
        names(
            false,
            pacta_domain::OfferStatus::ALL.iter().map(|t| t.as_str()),
        )
    }
    pub fn initiative_optional() -> Object {
        names(
            true,
            pacta_domain::Initiative::ALL.iter().map(|t| t.as_str()),
        )
    }
    pub fn party_kind() -> Object {
        names(
            false,
            pacta_domain::event::PartyKind::ALL
                .iter()
                .map(|t| t.as_str()),
        )
    }

    pub fn lang() -> Object {
        names(false, pacta_documents::Lang::ALL.map(|l| l.code()))
    }

    pub fn reading() -> Object {
        names(false, ["presumed", "strict"])
    }
    pub fn role() -> Object {
        names(false, ["reader", "clerk", "admin"])
    }

    /// A country code: ISO 3166-1 alpha-2, upper case.
    pub fn country() -> Object {
        text(false).pattern(Some("^[A-Z]{2}$")).build()
    }
}

/// A position in a query: a non-negative integer of at most 63 bits (the
/// range the document promises, `int64`).
fn position<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value: Option<u64> = Option::deserialize(d)?;
    match value {
        Some(p) if p > i64::MAX as u64 => Err(serde::de::Error::custom(format!(
            "{p} is beyond the largest position, {}",
            i64::MAX
        ))),
        p => Ok(p),
    }
}

/// An event as a client sends it: only `type` is required besides what
/// its type needs (`Signed` needs `date` and `data.instrument`;
/// `Terminated` needs `date`, `data.mode` and `data.reason`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// The event type in PascalCase, e.g. `Signed`, `ActivityRecorded`, `Terminated`.
    #[serde(rename = "type")]
    #[schema(schema_with = schema::event_type)]
    pub ty: EventType,
    /// The effective date at the source's precision (EDTF: `2009-10-22`, `2008-05`, `2011-40`, `[2001-11-28..]`).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2009-10-22")]
    pub date: Option<PartialDate>,
    /// The type's data, e.g. `{"instrument":"cooperation_agreement"}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Box<RawValue>>,
    /// Where the fact comes from; only `title` is required.
    #[serde(default)]
    pub source: Option<SourceIn>,
    /// A short note (at most 2000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

impl EventIn {
    /// The domain's event; its data is read as its type's data, and a
    /// refusal names the field (`data.instrument`).
    pub fn into_event(self) -> Result<Event, AppError> {
        event(self.ty, self.date, self.data, self.source, self.note)
    }
}

fn event(
    ty: EventType,
    date: Option<PartialDate>,
    data: Option<Box<RawValue>>,
    source: Option<SourceIn>,
    note: Option<String>,
) -> Result<Event, AppError> {
    let text = data.as_deref().map_or("{}", RawValue::get);
    let mut json = serde_json::Deserializer::from_str(text);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut json, &mut track);
    let payload = Payload::deserialize_data(ty, tracked)
        .map_err(|e| serde_path_to_error::Error::new(track.path(), e))
        .map_err(|e| {
            let path = path_of(e.path());
            let field = if path.is_empty() {
                "data".to_owned()
            } else {
                format!("data.{path}")
            };
            AppError::invalid_field(&field, format!("{ty}: {}", e.inner()))
        })?;
    Ok(Event {
        payload,
        date,
        source: source.map(Source::from),
        note,
    })
}

/// The body of an append to a partnership or an offer: an event, with
/// optionally the version the client saw and an id for retries.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendBody {
    /// The event type in PascalCase.
    #[serde(rename = "type")]
    #[schema(schema_with = schema::event_type)]
    pub ty: EventType,
    /// The effective date at the source's precision (EDTF).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2009-10-22")]
    pub date: Option<PartialDate>,
    /// The type's data.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Box<RawValue>>,
    /// Where the fact comes from; only `title` is required.
    #[serde(default)]
    pub source: Option<SourceIn>,
    /// A short note (at most 2000 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// The stream version the client saw (409 when it moved on).
    #[serde(default, deserialize_with = "position")]
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub expected_version: Option<u64>,
    /// A ULID chosen by the client; a retry with it is stored once.
    #[serde(default)]
    #[schema(schema_with = schema::event_id_optional)]
    pub event_id: Option<EventId>,
}

impl AppendBody {
    /// The event, the expected version and the event id.
    pub fn into_parts(self) -> Result<(Event, Option<u64>, Option<EventId>), AppError> {
        let event = event(self.ty, self.date, self.data, self.source, self.note)?;
        Ok((event, self.expected_version, self.event_id))
    }
}

/// A citation as a client sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceIn {
    /// Title (required).
    pub title: String,
    /// Where to read it.
    #[serde(default)]
    pub url: Option<String>,
    /// A file name or resolution number.
    #[serde(default)]
    pub reference: Option<String>,
    /// Where in the document: a section heading, a paragraph, a notice's date.
    #[serde(default)]
    pub locator: Option<String>,
    /// The source's own date (EDTF).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2013")]
    pub date: Option<PartialDate>,
}

impl From<SourceIn> for Source {
    fn from(s: SourceIn) -> Source {
        Source {
            title: s.title,
            url: s.url,
            reference: s.reference,
            locator: s.locator,
            date: s.date,
        }
    }
}

/// The body of `POST /api/v1/partnerships`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenPartnershipBody {
    /// The Czech side (a party id).
    #[schema(schema_with = schema::slug, example = "liberecky-kraj")]
    pub home: Slug,
    /// The partner (a party id).
    #[schema(schema_with = schema::slug, example = "molde")]
    pub partner: Slug,
    /// The id to give it (default `HOME--PARTNER`, with a suffix if taken).
    #[serde(default)]
    #[schema(schema_with = schema::slug_optional)]
    pub id: Option<Slug>,
    /// `home_party`, `home_actor` or `foreign_side`.
    #[serde(default)]
    #[schema(schema_with = schema::initiative_optional)]
    pub initiative: Option<Initiative>,
    /// The first event after opening, e.g. `ContactEstablished` or `Signed`.
    #[serde(default)]
    pub event: Option<EventIn>,
    /// The id of that event (of the opening itself when there is none), for
    /// retries: a retry answers the partnership the original opened.
    #[serde(default)]
    #[schema(schema_with = schema::event_id_optional)]
    pub event_id: Option<EventId>,
}

/// The body of `POST /api/v1/parties`: the data of `PartyRegistered` with
/// the party's id.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPartyBody {
    /// Lowercase ASCII slug, e.g. `molde`.
    #[schema(schema_with = schema::slug, example = "molde")]
    pub id: Slug,
    /// `region`, `province`, `county`, `oblast`, `state`, `district`, `city`, `town`, `municipality`, `community`, `association` or `other`.
    #[schema(schema_with = schema::party_kind)]
    pub kind: PartyKind,
    /// At least one name.
    pub names: NamesIn,
    /// Other spellings.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[schema(schema_with = schema::country, example = "NO")]
    pub country: String,
    /// ISO 3166-2.
    #[serde(default)]
    pub iso_3166_2: Option<String>,
    /// The party it belongs to.
    #[serde(default)]
    #[schema(schema_with = schema::slug_optional)]
    pub parent: Option<Slug>,
    /// When it came into being, where known (EDTF). Nothing of it is in force before.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2000-01-01")]
    pub established: Option<PartialDate>,
    /// When it ceased to exist (EDTF). Nothing of it is in force after.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub dissolved: Option<PartialDate>,
    /// The citation.
    #[serde(default)]
    pub source: Option<SourceIn>,
    /// A short note.
    #[serde(default)]
    pub note: Option<String>,
    /// A ULID for retries.
    #[serde(default)]
    #[schema(schema_with = schema::event_id_optional)]
    pub event_id: Option<EventId>,
}

impl RegisterPartyBody {
    /// The party's id, its `PartyRegistered` event and the event id.
    pub fn into_parts(self) -> (Slug, Event, Option<EventId>) {
        let data = PartyRegistered {
            kind: self.kind,
            names: pacta_domain::event::Names {
                native: self.names.native,
                cs: self.names.cs,
                en: self.names.en,
            },
            aliases: self.aliases,
            country: self.country,
            iso_3166_2: self.iso_3166_2,
            parent: self.parent,
            established: self.established,
            dissolved: self.dissolved,
        };
        let event = Event {
            payload: Payload::PartyRegistered(data),
            date: None,
            source: self.source.map(Source::from),
            note: self.note,
        };
        (self.id, event, self.event_id)
    }
}

/// Names as a client sends them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamesIn {
    /// In its own language.
    #[serde(default)]
    pub native: Option<String>,
    /// In Czech.
    #[serde(default)]
    pub cs: Option<String>,
    /// In English.
    #[serde(default)]
    pub en: Option<String>,
}

/// The body of `POST /api/v1/offers`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishOfferBody {
    /// The offer's id, e.g. `molde-2026-11-01`.
    #[schema(schema_with = schema::slug, example = "molde-2026-11-01")]
    pub id: Slug,
    /// An `OfferPublished` event (`data.party`, `data.home`).
    pub event: EventIn,
    /// A ULID for retries.
    #[serde(default)]
    #[schema(schema_with = schema::event_id_optional)]
    pub event_id: Option<EventId>,
}

/// `GET /api/v1/partnerships`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only those of this party (id or name), home or partner.
    pub party: Option<String>,
    /// Only those with this status on the day.
    #[param(schema_with = schema::status)]
    #[serde(default, deserialize_with = "parsed")]
    pub status: Option<Status>,
    /// (Default: today, and no in-force filter.) The day, or all days of a month or a year (`2022-03-01`, `2022-03`,
    /// `2022`, `2011-40`: any partial date with both ends known); with it,
    /// in force is over all its days (`yes` throughout, `no` never,
    /// `uncertain` otherwise).
    #[param(value_type = Option<String>, pattern = "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", example = "2022-03")]
    #[serde(default, deserialize_with = "parsed")]
    pub valid_on: Option<PartialDate>,
    /// The first day of a period asked about (a partial date: its first
    /// day); needs `valid_to`.
    #[param(value_type = Option<String>, pattern = "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", example = "2020")]
    #[serde(default, deserialize_with = "parsed")]
    pub valid_from: Option<PartialDate>,
    /// The last day of a period asked about (a partial date: its last
    /// day); needs `valid_from`.
    #[param(value_type = Option<String>, pattern = "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", example = "2022")]
    #[serde(default, deserialize_with = "parsed")]
    pub valid_to: Option<PartialDate>,
    /// Record time: an RFC 3339 instant, or a date meaning the end of that
    /// day, UTC (default: now).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    #[serde(default, deserialize_with = "instant")]
    pub as_known_at: Option<Timestamp>,
    /// With days asked: `yes_or_uncertain` (the default) lists those in
    /// force on some day of them, `yes` or `uncertain` those with that
    /// answer, `no` those in force on none, `all` every one.
    #[param(value_type = Option<String>, pattern = "^(yes_or_uncertain|yes|uncertain|no|all)$")]
    pub in_force: Option<pacta_projections::InForceFilter>,
    /// `strict`: a `yes` that rests on no evidence reaching the day (presumed) reads `uncertain`.
    #[param(schema_with = schema::reading)]
    pub evidence: Option<Reading>,
}

/// The days a listing or a partnership's state is asked about, from
/// `valid_on` or `valid_from`/`valid_to`; `None` when none is named.
pub fn days_asked(
    on: Option<&PartialDate>,
    from: Option<&PartialDate>,
    to: Option<&PartialDate>,
    today: Day,
) -> Result<Option<pacta_domain::Span>, AppError> {
    let asked = pacta_registry::query::DaysAsked {
        on: (on, "valid_on"),
        from: (from, "valid_from"),
        to: (to, "valid_to"),
    };
    asked.span(today).map_err(|e| {
        let field = ["valid_on", "valid_from", "valid_to"]
            .into_iter()
            .find(|f| e.starts_with(f))
            .unwrap_or("");
        AppError::bad_request(e).with_field(field)
    })
}

/// How an answer reads evidence.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    /// A `yes` with no end recorded stays `yes` (marked `presumed`).
    #[default]
    Presumed,
    /// A presumed `yes` reads `uncertain`.
    Strict,
}

impl Reading {
    /// Whether to read strictly.
    pub fn strict(reading: Option<Reading>) -> bool {
        reading == Some(Reading::Strict)
    }
}

/// `GET /api/v1/partnerships/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// (Default: today.) The day, or all days of a month or a year (`2022-03-01`, `2022-03`,
    /// `2022`, `2011-40`: any partial date with both ends known); with it,
    /// in force is over all its days (`yes` throughout, `no` never,
    /// `uncertain` otherwise).
    #[param(value_type = Option<String>, pattern = "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", example = "2022-03")]
    #[serde(default, deserialize_with = "parsed")]
    pub valid_on: Option<PartialDate>,
    /// The first day of a period asked about (a partial date: its first
    /// day); needs `valid_to`.
    #[param(value_type = Option<String>, pattern = "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", example = "2020")]
    #[serde(default, deserialize_with = "parsed")]
    pub valid_from: Option<PartialDate>,
    /// The last day of a period asked about (a partial date: its last
    /// day); needs `valid_from`.
    #[param(value_type = Option<String>, pattern = "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", example = "2022")]
    #[serde(default, deserialize_with = "parsed")]
    pub valid_to: Option<PartialDate>,
    /// Record time: an RFC 3339 instant, or a date meaning the end of that
    /// day, UTC (default: now).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    #[serde(default, deserialize_with = "instant")]
    pub as_known_at: Option<Timestamp>,
    /// `strict`: a `yes` that rests on no evidence reaching the day (presumed) reads `uncertain`.
    #[param(schema_with = schema::reading)]
    pub evidence: Option<Reading>,
}

/// `GET /api/v1/partnerships/{id}/events`: a page of a stream's events.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Record time: an RFC 3339 instant, or a date meaning the end of that
    /// day, UTC (default: now).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    #[serde(default, deserialize_with = "instant")]
    pub as_known_at: Option<Timestamp>,
    /// Only events at global positions after this one (the previous page's `next_after`).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    #[serde(default, deserialize_with = "position")]
    pub after: Option<u64>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// `GET /api/v1/offers`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OffersQuery {
    /// `published`, `matched`, `withdrawn` or `lapsed`.
    #[param(schema_with = schema::offer_status)]
    #[serde(default, deserialize_with = "parsed")]
    pub status: Option<OfferStatus>,
}

/// `GET /api/v1/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Position to start after (default 0).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    #[serde(default, deserialize_with = "position")]
    pub after: Option<u64>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// Only these event types, comma-separated (`Signed,Terminated`);
    /// positions stay global, so a filtered reader resumes exactly.
    #[param(schema_with = schema::event_type_list, example = "Signed,Terminated")]
    #[serde(default, deserialize_with = "event_types")]
    pub types: Option<Vec<EventType>>,
    /// Only events of streams of this kind: `partnership`, `party` or `offer`.
    #[param(value_type = Option<String>, pattern = "^(partnership|party|offer)$")]
    #[serde(default, deserialize_with = "stream_kind")]
    pub stream_kind: Option<pacta_domain::StreamKind>,
}

/// `GET /api/v1/events/stream`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Position to start after (default 0; the `Last-Event-ID` header wins).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    #[serde(default, deserialize_with = "position")]
    pub after: Option<u64>,
    /// Only these event types, comma-separated (`Signed,Terminated`);
    /// positions stay global, so a filtered reader resumes exactly.
    #[param(schema_with = schema::event_type_list, example = "Signed,Terminated")]
    #[serde(default, deserialize_with = "event_types")]
    pub types: Option<Vec<EventType>>,
    /// Only events of streams of this kind: `partnership`, `party` or `offer`.
    #[param(value_type = Option<String>, pattern = "^(partnership|party|offer)$")]
    #[serde(default, deserialize_with = "stream_kind")]
    pub stream_kind: Option<pacta_domain::StreamKind>,
}

/// `GET /api/v1/audit/verify`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// A digest's position (with `hash`).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    #[serde(default, deserialize_with = "position")]
    pub position: Option<u64>,
    /// The digest's hash, 64 hex digits (with `position`).
    #[param(pattern = "^[0-9a-f]{64}$")]
    pub hash: Option<String>,
}

/// `GET /api/v1/reports/annual`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The year, from 1900 to the year a year from today falls in.
    #[param(minimum = 1900, example = 2022)]
    pub year: i32,
    /// One home party (id or name); all when absent.
    pub party: Option<String>,
    /// Record time: an RFC 3339 instant, or a date meaning the end of that
    /// day, UTC (default: now).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    #[serde(default, deserialize_with = "instant")]
    pub as_known_at: Option<Timestamp>,
    /// `strict`: a `yes` that rests on no evidence reaching the day (presumed) is listed as perhaps in force.
    #[param(schema_with = schema::reading)]
    pub evidence: Option<Reading>,
    /// The language of the printable page (`Accept: text/html`): `cs` (the default) or `en`.
    #[param(schema_with = schema::lang)]
    #[serde(default, deserialize_with = "parsed")]
    pub lang: Option<pacta_documents::Lang>,
}

/// The query of the termination dossiers.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DossierQuery {
    /// `strict`: the days between the last evidence and the end read as
    /// uncertain rather than presumed in force.
    #[param(schema_with = schema::reading)]
    pub evidence: Option<Reading>,
    /// The language of the printable page (`Accept: text/html`): `cs` (the default) or `en`.
    #[param(schema_with = schema::lang)]
    #[serde(default, deserialize_with = "parsed")]
    pub lang: Option<pacta_documents::Lang>,
}

/// `GET /api/v1/parties`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartiesQuery {
    /// Only parties with, for each word of this text, a word of their id,
    /// a name, an alias or a former name that begins with it (letter case
    /// and diacritics aside): `cuhujiv` finds Čuhujiv (Chuguev).
    #[param(example = "plzen")]
    pub q: Option<String>,
}

/// `GET /api/v1/views/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ViewQuery {
    /// Only what the view says about this party (id or name); all when
    /// absent.
    #[param(example = "liberecky-kraj")]
    pub party: Option<String>,
}

/// `GET /api/v1/proofs/inclusion`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The record's position in the log (from 1).
    #[param(minimum = 1, example = 100)]
    pub position: u64,
    /// The tree's size, in records (default: the latest checkpoint's).
    #[param(minimum = 1)]
    pub size: Option<u64>,
}

/// `GET /api/v1/proofs/consistency`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree's size, in records (from 1).
    #[param(minimum = 1, example = 100)]
    pub from: u64,
    /// The newer tree's size, at least `from`.
    #[param(minimum = 1, example = 200)]
    pub to: u64,
}

/// `GET /api/v1/proofs/bundle`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BundleQuery {
    /// The record's position in the log (from 1).
    #[param(minimum = 1, example = 100)]
    pub position: u64,
}

/// The query of an endpoint that takes no parameters: any is refused.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoQuery {}

/// The `Last-Event-ID` header of the live stream.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ResumeHeader {
    /// Resume after this position: the `id` of the last event received.
    #[param(rename = "Last-Event-ID", value_type = String, required = false, pattern = "^[0-9]{1,18}$")]
    pub last_event_id: Option<String>,
}

/// The body of `POST /api/v1/admin/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTokenBody {
    /// Its name, recorded as the author of what it writes; never reused.
    #[schema(schema_with = schema::slug, example = "plzen-clerk-2")]
    pub name: Slug,
    /// `reader`, `clerk` or `admin`.
    #[schema(schema_with = schema::role)]
    pub role: pacta_registry::Role,
    /// A clerk's own party (clerks only).
    #[serde(default)]
    #[schema(schema_with = schema::slug_optional)]
    pub party: Option<Slug>,
}
