//! The endpoints of the design guide's public interface, under `/api/v1`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pacta_domain::event::PartyRegistered;
use pacta_domain::{Day, Event, EventId, Payload, Slug, Status, StreamId, Timestamp};
use pacta_projections::ListFilter;
use pacta_registry::{Actor, Command, OpenPartnership};
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::{self, AppendedDto};
use crate::error::{AppError, JsonBody, Problem};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi_info())
        .routes(routes!(healthz))
        .routes(routes!(list_parties, create_party))
        .routes(routes!(get_party))
        .routes(routes!(list_partnerships, create_partnership))
        .routes(routes!(get_partnership))
        .routes(routes!(partnership_events, append_partnership_event))
        .routes(routes!(list_offers, create_offer))
        .routes(routes!(append_offer_event))
        .routes(routes!(crate::stream::events))
        .routes(routes!(crate::stream::event_stream))
        .routes(routes!(verify))
        .routes(routes!(terminations))
        .routes(routes!(termination))
        .routes(routes!(annual_report))
}

fn openapi_info() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Pacta")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The registry of international partnerships of Czech regions and towns. \
                     Reads are public; writes need `Authorization: Bearer TOKEN`. Errors are \
                     RFC 9457 problem+json.",
                ))
                .build(),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}

/// Answers 404 for every path no route knows.
pub(crate) async fn not_found(uri: Uri) -> AppError {
    AppError::not_found(format!("no endpoint {} (see /openapi.json)", uri.path()))
}

/// Answers 405 for a known path with a method it does not take.
pub(crate) async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!("{} does not take {method} (see /openapi.json)", uri.path()),
    )
}

/// The query string as a map.
pub(crate) fn query_params(uri: &Uri) -> Result<HashMap<String, String>, AppError> {
    axum::extract::Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| AppError::bad_request(format!("bad query string: {e}")))
}

fn day_param(params: &HashMap<String, String>, key: &str) -> Result<Option<Day>, AppError> {
    params
        .get(key)
        .map(|v| {
            v.parse::<Day>().map_err(|e| {
                if e.reason().contains("does not exist") {
                    AppError::invalid(format!("{key}: {e}"))
                } else {
                    AppError::bad_request(format!("{key}: {e}"))
                }
            })
        })
        .transpose()
}

fn timestamp_param(
    params: &HashMap<String, String>,
    key: &str,
) -> Result<Option<Timestamp>, AppError> {
    params
        .get(key)
        .map(|v| {
            v.parse::<Timestamp>()
                .map_err(|e| AppError::bad_request(format!("{key}: {e}")))
        })
        .transpose()
}

pub(crate) fn query_u64(
    params: &HashMap<String, String>,
    key: &str,
) -> Result<Option<u64>, AppError> {
    params
        .get(key)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                AppError::bad_request(format!("{key}: {v:?} is not a non-negative integer"))
            })
        })
        .transpose()
}

/// The `party` parameter, an id or any name of a party; 404 if none.
fn party_param(
    state: &AppState,
    params: &HashMap<String, String>,
) -> Result<Option<Slug>, AppError> {
    params
        .get("party")
        .map(|text| {
            state
                .registry
                .projections()
                .parties()
                .find(text)
                .map(|p| p.id)
                .ok_or_else(|| AppError::not_found(format!("no party {text:?}")))
        })
        .transpose()
}

fn today() -> Day {
    pacta_registry::now().day()
}

/// Parses a JSON object into a type; see [`AppError::from_json`].
fn typed<T: DeserializeOwned>(
    map: serde_json::Map<String, serde_json::Value>,
) -> Result<T, AppError> {
    // Through text: events keep their data as raw JSON, which a
    // `serde_json::Value` cannot hand over.
    serde_json::from_str(&serde_json::Value::Object(map).to_string())
        .map_err(|e| AppError::from_json(&e))
}

fn take<T: DeserializeOwned>(
    map: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Result<Option<T>, AppError> {
    match map.remove(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
            match AppError::from_json(&e).problem().status {
                400 => AppError::bad_request(format!("{key}: {e}")),
                _ => AppError::invalid(format!("{key}: {e}")),
            }
        }),
    }
}

fn slug(text: &str, what: &str) -> Result<Slug, AppError> {
    Slug::parse(text).map_err(|e| AppError::not_found(format!("no {what} {text:?}: {e}")))
}

/// The actor of a write: a valid bearer token, or 401.
pub(crate) struct Writer(pub Actor);

impl FromRequestParts<AppState> for Writer {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| AppError::unauthorized("writes need Authorization: Bearer TOKEN"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                AppError::unauthorized("the Authorization header must be Bearer TOKEN")
            })?;
        state
            .tokens
            .authenticate(token.trim())
            .map_err(AppError::internal)?
            .map(Writer)
            .ok_or_else(|| AppError::unauthorized("the token is unknown or revoked"))
    }
}

/// The store is open and answering.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses(
        (status = 200, description = "The store is open and accepts writes", body = Object),
        (status = 503, description = "The store stopped accepting writes after a storage failure \
            (a full disk, an I/O error); the reason is in `detail`. Restart to recover", body = Problem),
    ))]
async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.registry.store();
    let head = store.head();
    match store.health() {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "head_position": head.position,
            "projections_applied": state.registry.projections().applied(),
        }))
        .into_response(),
        Err(e) => AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            if e.is_disk_full() {
                "disk-full"
            } else {
                "unavailable"
            },
            "Not accepting writes",
            e.to_string(),
        )
        .into_response(),
    }
}

/// Every party.
#[utoipa::path(get, path = "/api/v1/parties", tag = "parties",
    responses((status = 200, body = api::PartyList)))]
async fn list_parties(State(state): State<AppState>) -> Json<api::PartyList> {
    let items = state.registry.projections().parties().all();
    Json(api::PartyList {
        items: items.iter().map(api::PartyDto::from).collect(),
    })
}

/// One party, by id or by any of its names.
#[utoipa::path(get, path = "/api/v1/parties/{id}", tag = "parties",
    params(("id" = String, Path, description = "Party id, name or alias")),
    responses((status = 200, body = api::PartyDto), (status = 404, body = Problem)))]
async fn get_party(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<api::PartyDto>, AppError> {
    let parties = state.registry.projections().parties();
    let party = parties
        .get(&id)
        .or_else(|| parties.find(&id))
        .ok_or_else(|| AppError::not_found(format!("no party {id:?}")))?;
    Ok(Json(api::PartyDto::from(&party)))
}

/// Registers a party (clerk or admin). The body is the data of
/// `PartyRegistered` plus `id`, and optionally `source`, `note`, `event_id`.
#[utoipa::path(post, path = "/api/v1/parties", tag = "parties",
    request_body = api::RegisterPartyBody,
    security(("bearer" = [])),
    responses((status = 201, body = AppendedDto), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_party(
    State(state): State<AppState>,
    Writer(actor): Writer,
    JsonBody(mut body): JsonBody,
) -> Result<Response, AppError> {
    let id: Slug = take(&mut body, "id")?.ok_or_else(|| AppError::invalid("missing field `id`"))?;
    let event_id: Option<EventId> = take(&mut body, "event_id")?;
    let source = take(&mut body, "source")?;
    let note = take(&mut body, "note")?;
    let data: PartyRegistered = typed(body)?;
    let event = Event {
        payload: Payload::PartyRegistered(data),
        date: None,
        source,
        note,
    };
    let outcome = state
        .registry
        .execute(
            &actor,
            Command {
                stream: StreamId::party(id.clone()),
                events: vec![(event_id, event)],
                expected_version: Some(0),
            },
        )
        .await
        .map_err(|e| match e {
            pacta_registry::CommandError::Conflict { .. } => AppError::new(
                StatusCode::CONFLICT,
                "exists",
                "Already exists",
                format!("party {id} exists already"),
            ),
            e => e.into(),
        })?;
    Ok(created(&outcome))
}

/// 201 with what was stored. A retry (the events' ids were stored
/// before) gets the original's answer again: 201 with the original
/// positions, `duplicate: true` and an `Idempotent-Replayed: true` header.
fn created(outcome: &pacta_registry::Outcome) -> Response {
    let body = Json(AppendedDto::from(outcome));
    if outcome.duplicate {
        (StatusCode::CREATED, [("idempotent-replayed", "true")], body).into_response()
    } else {
        (StatusCode::CREATED, body).into_response()
    }
}

/// Partnerships, filtered; with `valid_on`, only those in force (`yes` or
/// `uncertain`) that day, each with its status and in force that day.
#[utoipa::path(get, path = "/api/v1/partnerships", tag = "partnerships",
    params(
        ("party" = Option<String>, Query, description = "Only those of this party (id or name), home or partner"),
        ("status" = Option<String>, Query, description = "Only those with this status on the day"),
        ("valid_on" = Option<String>, Query, description = "The day, YYYY-MM-DD (default: today, and no in-force filter)"),
        ("as_known_at" = Option<String>, Query, description = "Record time, RFC 3339 (default: now)"),
    ),
    responses((status = 200, body = api::PartnershipList), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_partnerships(
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Json<api::PartnershipList>, AppError> {
    let p = query_params(&uri)?;
    let party = party_param(&state, &p)?;
    let status = p
        .get("status")
        .map(|s| s.parse::<Status>().map_err(AppError::bad_request))
        .transpose()?;
    let filter = ListFilter {
        party,
        status,
        valid_on: day_param(&p, "valid_on")?,
        as_known_at: timestamp_param(&p, "as_known_at")?,
        today: today(),
    };
    let rows = state.registry.list(&filter);
    Ok(Json(api::PartnershipList {
        items: rows.iter().map(api::PartnershipRowDto::from).collect(),
    }))
}

/// One partnership on a day (default today) as known at a time (default now).
#[utoipa::path(get, path = "/api/v1/partnerships/{id}", tag = "partnerships",
    params(
        ("id" = String, Path, description = "Partnership id"),
        ("valid_on" = Option<String>, Query, description = "The day, YYYY-MM-DD"),
        ("as_known_at" = Option<String>, Query, description = "Record time, RFC 3339"),
    ),
    responses((status = 200, body = api::PartnershipDto), (status = 400, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn get_partnership(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<api::PartnershipDto>, AppError> {
    let p = query_params(&uri)?;
    let day = day_param(&p, "valid_on")?.unwrap_or_else(today);
    let known_at = timestamp_param(&p, "as_known_at")?;
    let detail = state
        .registry
        .partnership(&id, day, known_at)?
        .ok_or_else(|| match known_at {
            Some(t) => AppError::not_found(format!("no partnership {id:?} was recorded by {t}")),
            None => AppError::not_found(format!("no partnership {id:?}")),
        })?;
    Ok(Json(api::PartnershipDto::from(&detail)))
}

/// Opens a partnership: `{"home":ID,"partner":ID,"event":EVENT}` with
/// optional `id`, `initiative` and `event_id` (of EVENT, or of the opening
/// itself when there is no EVENT). 201 with its id; a retry with the same
/// `event_id` answers the partnership the original opened.
#[utoipa::path(post, path = "/api/v1/partnerships", tag = "partnerships",
    request_body = api::OpenPartnershipBody,
    security(("bearer" = [])),
    responses((status = 201, body = AppendedDto), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn create_partnership(
    State(state): State<AppState>,
    Writer(actor): Writer,
    JsonBody(mut body): JsonBody,
) -> Result<Response, AppError> {
    let home: Slug =
        take(&mut body, "home")?.ok_or_else(|| AppError::invalid("missing field `home`"))?;
    let partner: Slug =
        take(&mut body, "partner")?.ok_or_else(|| AppError::invalid("missing field `partner`"))?;
    let initiative = take(&mut body, "initiative")?;
    let wanted_id: Option<Slug> = take(&mut body, "id")?;
    let event_id: Option<EventId> = take(&mut body, "event_id")?;
    let event = match body.remove("event") {
        Some(serde_json::Value::Object(map)) => Some(typed::<Event>(map)?),
        Some(serde_json::Value::Null) | None => None,
        Some(_) => return Err(AppError::bad_request("event must be a JSON object")),
    };
    if let Some(key) = body.keys().next() {
        return Err(AppError::invalid(format!("unknown field `{key}`")));
    }
    let outcome = state
        .registry
        .open_partnership(
            &actor,
            OpenPartnership {
                id: wanted_id.clone(),
                home,
                partner,
                initiative,
                event_id,
                event,
            },
        )
        .await
        .map_err(|e| match (e, &wanted_id) {
            (pacta_registry::CommandError::Conflict { .. }, Some(id)) => AppError::new(
                StatusCode::CONFLICT,
                "exists",
                "Already exists",
                format!("partnership {id} exists already"),
            ),
            (e, _) => e.into(),
        })?;
    let id = &outcome.stream.id;
    let mut response = created(&outcome);
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("/api/v1/partnerships/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// A partnership's history: every event in the order recorded, with
/// position, version, effective date, record time and author, source and
/// hash; `as_known_at` shows only what was recorded by then.
#[utoipa::path(get, path = "/api/v1/partnerships/{id}/events", tag = "partnerships",
    params(("id" = String, Path, description = "Partnership id"),
        ("as_known_at" = Option<String>, Query, description = "Record time, RFC 3339")),
    responses((status = 200, body = api::HistoryDto), (status = 404, body = Problem)))]
async fn partnership_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<api::HistoryDto>, AppError> {
    let p = query_params(&uri)?;
    let known_at = timestamp_param(&p, "as_known_at")?;
    let views = state
        .registry
        .history(&id, known_at)?
        .ok_or_else(|| AppError::not_found(format!("no partnership {id:?}")))?;
    Ok(Json(api::HistoryDto {
        id,
        as_known_at: known_at.map(|t| t.to_string()),
        items: views.iter().map(api::EventDto::from).collect(),
    }))
}

/// Appends the event of an append body to a stream.
async fn append_to(
    state: &AppState,
    actor: &Actor,
    stream: StreamId,
    body: serde_json::Map<String, serde_json::Value>,
) -> Result<Response, AppError> {
    let (event, expected_version, event_id) = append_body(body)?;
    let outcome = state
        .registry
        .execute(
            actor,
            Command {
                stream,
                events: vec![(event_id, event)],
                expected_version,
            },
        )
        .await?;
    Ok(created(&outcome))
}

/// Splits `expected_version` and `event_id` off an append body; the rest
/// is the event.
fn append_body(
    mut body: serde_json::Map<String, serde_json::Value>,
) -> Result<(Event, Option<u64>, Option<EventId>), AppError> {
    let expected = take(&mut body, "expected_version")?;
    let event_id = take(&mut body, "event_id")?;
    let event = typed::<Event>(body)?;
    Ok((event, expected, event_id))
}

/// Appends an event to a partnership: 201; 409 on a version conflict; 422
/// when the lifecycle refuses it (the problem names the state and the
/// events allowed there).
#[utoipa::path(post, path = "/api/v1/partnerships/{id}/events", tag = "partnerships",
    params(("id" = String, Path, description = "Partnership id")),
    request_body = api::EventBody,
    security(("bearer" = [])),
    responses((status = 201, description = "Stored; a retry of stored event ids gets the original positions again, with `duplicate: true` and an `Idempotent-Replayed: true` header", body = AppendedDto),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn append_partnership_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Writer(actor): Writer,
    JsonBody(body): JsonBody,
) -> Result<Response, AppError> {
    let id = slug(&id, "partnership")?;
    append_to(&state, &actor, StreamId::partnership(id), body).await
}

/// Offers of towns seeking a Czech partner, each with its party.
#[utoipa::path(get, path = "/api/v1/offers", tag = "offers",
    params(("status" = Option<String>, Query, description = "published, matched, withdrawn or lapsed")),
    responses((status = 200, body = api::OfferList), (status = 400, body = Problem)))]
async fn list_offers(
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Json<api::OfferList>, AppError> {
    let p = query_params(&uri)?;
    let status = p
        .get("status")
        .map(|s| s.parse().map_err(AppError::bad_request))
        .transpose()?;
    Ok(Json(api::OfferList::of(&state.registry, status)))
}

/// Publishes an offer: `{"id":ID,"event":EVENT}` where EVENT is
/// `OfferPublished`; its `data.home` is the clerk's party.
#[utoipa::path(post, path = "/api/v1/offers", tag = "offers",
    request_body = api::PublishOfferBody,
    security(("bearer" = [])),
    responses((status = 201, body = AppendedDto), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_offer(
    State(state): State<AppState>,
    Writer(actor): Writer,
    JsonBody(mut body): JsonBody,
) -> Result<Response, AppError> {
    let id: Slug = take(&mut body, "id")?.ok_or_else(|| AppError::invalid("missing field `id`"))?;
    let event_id: Option<EventId> = take(&mut body, "event_id")?;
    let event = match body.remove("event") {
        Some(serde_json::Value::Object(map)) => typed::<Event>(map)?,
        _ => {
            return Err(AppError::invalid(
                "missing field `event` (an OfferPublished event)",
            ));
        }
    };
    let outcome = state
        .registry
        .execute(
            &actor,
            Command {
                stream: StreamId::offer(id),
                events: vec![(event_id, event)],
                expected_version: Some(0),
            },
        )
        .await?;
    Ok(created(&outcome))
}

/// Appends an event to an offer (`OfferMatched`, `OfferWithdrawn`, `OfferLapsed`).
#[utoipa::path(post, path = "/api/v1/offers/{id}/events", tag = "offers",
    params(("id" = String, Path, description = "Offer id")),
    request_body = api::EventBody,
    security(("bearer" = [])),
    responses((status = 201, body = AppendedDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn append_offer_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Writer(actor): Writer,
    JsonBody(body): JsonBody,
) -> Result<Response, AppError> {
    let id = slug(&id, "offer")?;
    append_to(&state, &actor, StreamId::offer(id), body).await
}

/// Recomputes the hash chain; with `position` and `hash`, also checks that
/// the log still extends that digest.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    params(("position" = Option<u64>, Query, description = "A digest's position"),
        ("hash" = Option<String>, Query, description = "The digest's hash")),
    responses((status = 200, body = api::VerifyDto), (status = 400, body = Problem)))]
async fn verify(State(state): State<AppState>, uri: Uri) -> Result<Json<api::VerifyDto>, AppError> {
    let p = query_params(&uri)?;
    let position = query_u64(&p, "position")?;
    let hash = p.get("hash").cloned();
    let digest = match (position, hash) {
        (None, None) => None,
        (Some(position), Some(hash)) => Some(pacta_store::Head {
            position,
            hash: pacta_domain::Digest::parse(&hash)
                .map_err(|e| AppError::bad_request(format!("hash: {e}")))?,
        }),
        _ => {
            return Err(AppError::bad_request(
                "give both position and hash, or neither",
            ));
        }
    };
    let store = state.registry.store().clone();
    let dto = tokio::task::spawn_blocking(move || -> Result<api::VerifyDto, pacta_store::Error> {
        Ok(match digest {
            None => {
                let r = store.verify(&mut |_, _| {})?;
                api::VerifyDto {
                    ok: r.ok,
                    head_position: r.head_position,
                    head_hash: r.head_hash.to_string(),
                    first_bad_position: r.first_bad_position,
                    reason: r.reason,
                    unreadable_count: r.unreadable_count,
                    digest: None,
                }
            }
            Some(d) => {
                let c = store.verify_digest(d, &mut |_, _| {})?;
                api::VerifyDto {
                    ok: c.ok,
                    head_position: c.chain.head_position,
                    head_hash: c.chain.head_hash.to_string(),
                    first_bad_position: c.chain.first_bad_position,
                    reason: c.reason,
                    unreadable_count: c.chain.unreadable_count,
                    digest: Some(api::DigestDto {
                        position: d.position,
                        hash: d.hash.to_string(),
                        stored_hash: c.stored_hash.map(|h| h.to_string()),
                    }),
                }
            }
        })
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    Ok(Json(dto))
}

/// Whether the client asked for HTML (`Accept: text/html` before JSON).
fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match (accept.find("text/html"), accept.find("application/json")) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn dossiers(
    state: &AppState,
    id: Option<String>,
) -> Result<Option<api::DossiersDto>, AppError> {
    let registry = state.registry.clone();
    tokio::task::spawn_blocking(move || registry.termination_dossiers(id.as_deref()))
        .await
        .map_err(AppError::internal)?
        .map(|d| d.as_ref().map(api::DossiersDto::from))
        .map_err(AppError::from)
}

/// Every terminated partnership's dossier, with the chain verified up to
/// the head. `Accept: text/html` gives a printable page.
#[utoipa::path(get, path = "/api/v1/audit/terminations", tag = "audit",
    responses((status = 200, description = "The dossiers (JSON); `Accept: text/html` gives a printable page",
        content((api::DossiersDto = "application/json"), (String = "text/html")))))]
async fn terminations(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let d = dossiers(&state, None)
        .await?
        .ok_or_else(|| AppError::internal("no dossiers for the whole registry"))?;
    Ok(if wants_html(&headers) {
        html(crate::html::dossiers(&d))
    } else {
        Json(d).into_response()
    })
}

/// One terminated partnership's dossier: when it ended, how, why, who
/// decided and recorded it, on what evidence, what preceded it, every
/// correction, and the chain verified up to the head.
#[utoipa::path(get, path = "/api/v1/audit/terminations/{id}", tag = "audit",
    params(("id" = String, Path, description = "Partnership id")),
    responses((status = 200, description = "The dossier (JSON); `Accept: text/html` gives a printable page",
        content((api::DossierProofDto = "application/json"), (String = "text/html"))),
        (status = 404, body = Problem)))]
async fn termination(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let d = dossiers(&state, Some(id.clone()))
        .await?
        .ok_or_else(|| AppError::not_found(format!("no terminated partnership {id:?}")))?;
    if wants_html(&headers) {
        return Ok(html(crate::html::dossiers(&d)));
    }
    let one = d
        .single()
        .ok_or_else(|| AppError::internal(format!("not one dossier for {id:?}")))?;
    Ok(Json(one).into_response())
}

/// The yearly summary for the assembly: in force on 1 January and 31
/// December, signed, stagnated, suspended, revived and terminated during
/// the year, its activities and the offers published in it, each line
/// with its source. `Accept: text/html` gives a printable page.
#[utoipa::path(get, path = "/api/v1/reports/annual", tag = "reports",
    params(("year" = i32, Query, description = "The year"),
        ("party" = Option<String>, Query, description = "One home party (id or name); all when absent"),
        ("as_known_at" = Option<String>, Query, description = "Record time, RFC 3339")),
    responses((status = 200, body = api::ReportDto), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn annual_report(
    State(state): State<AppState>,
    uri: Uri,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let p = query_params(&uri)?;
    let year: i32 = p
        .get("year")
        .ok_or_else(|| AppError::bad_request("year is required"))?
        .parse()
        .ok()
        .filter(|y| (1..=9999).contains(y))
        .ok_or_else(|| AppError::bad_request("year must be a year, e.g. 2022"))?;
    let party = party_param(&state, &p)?;
    let known_at = timestamp_param(&p, "as_known_at")?;
    let registry = state.registry.clone();
    let report =
        tokio::task::spawn_blocking(move || registry.annual_report(year, party.as_ref(), known_at))
            .await
            .map_err(AppError::internal)??;
    let dto = api::ReportDto::from(&report);
    Ok(if wants_html(&headers) {
        html(crate::html::report(&dto))
    } else {
        Json(dto).into_response()
    })
}
