//! The endpoints of the design guide's public interface, under `/api/v1`.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pacta_domain::{Day, Slug, StreamId};
use pacta_projections::ListFilter;
use pacta_registry::{Actor, Command, OpenPartnership};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::{self, AppendedDto};
use crate::error::{AppError, Problem};
use crate::request::Reading;
use crate::request::{
    AppendBody, Body, DayQuery, DossierQuery, EventIn, HistoryQuery, ListQuery, NoQuery,
    OffersQuery, OpenPartnershipBody, PartiesQuery, PublishOfferBody, Query, RegisterPartyBody,
    ReportQuery, VerifyQuery, days_asked,
};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi_info())
        .routes(routes!(livez))
        .routes(routes!(readyz))
        .routes(routes!(healthz))
        .routes(routes!(list_parties, create_party))
        .routes(routes!(get_party))
        .routes(routes!(list_partnerships, create_partnership))
        .routes(routes!(partnerships_csv_metadata))
        .routes(routes!(events_csv_metadata))
        .routes(routes!(get_partnership))
        .routes(routes!(partnership_events, append_partnership_event))
        .routes(routes!(list_offers, create_offer))
        .routes(routes!(append_offer_event))
        .routes(routes!(crate::stream::events))
        .routes(routes!(crate::stream::event_stream))
        .routes(routes!(verify))
        .routes(routes!(chain))
        .routes(routes!(terminations))
        .routes(routes!(termination))
        .routes(routes!(annual_report))
        .routes(routes!(crate::admin::list_tokens, crate::admin::add_token))
        .routes(routes!(crate::admin::revoke_token))
        .routes(routes!(crate::proofs::checkpoint))
        .routes(routes!(crate::proofs::key))
        .routes(routes!(crate::proofs::inclusion))
        .routes(routes!(crate::proofs::consistency))
        .routes(routes!(crate::proofs::bundle))
        .routes(routes!(crate::proofs::witnesses))
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

/// The `party` parameter, an id or any name of a party; 404 if none.
pub(crate) fn party_param(state: &AppState, party: Option<&str>) -> Result<Option<Slug>, AppError> {
    party
        .map(|text| lookup_party(state, text).map(|p| p.id))
        .transpose()
}

/// The party an id, a name or a search names: 404 when none does; 409
/// listing the candidates when several do.
fn lookup_party(state: &AppState, text: &str) -> Result<pacta_registry::PartyView, AppError> {
    use pacta_registry::Lookup;
    state
        .registry
        .find_party(text)
        .map(|(p, _)| p)
        .map_err(|e| match e {
            Lookup::NotFound => AppError::not_found(format!("no party {text:?}")),
            Lookup::Ambiguous(candidates) => {
                let ids: Vec<String> = candidates.iter().map(|p| p.id.to_string()).collect();
                AppError::new(
                    StatusCode::CONFLICT,
                    "ambiguous",
                    "Ambiguous name",
                    format!(
                        "{text:?} is a name of several parties: {}; ask by one of these ids",
                        ids.join(", ")
                    ),
                )
                .with_candidates(ids)
            }
        })
}

fn today() -> Day {
    pacta_registry::now().day()
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

/// Liveness: the process runs and answers. A supervisor restarts it when
/// this fails; it says nothing of the store (see `/readyz`).
#[utoipa::path(get, path = "/livez", tag = "service",
    responses((status = 200, description = "The process answers", body = Object)))]
async fn livez(_: Query<NoQuery>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "alive" }))
}

/// Readiness: the store accepts writes and its log's tail chains. `503`
/// with the reason when it does not (a full disk, an I/O error, a damaged
/// log): reads of what is readable still work, writes do not.
/// `/healthz` is the same answer.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "Ready: writable, the log's tail verified on open; `role` says \
            who writes the log (`embedded`; on PostgreSQL `leader`, or `standby` while another \
            instance leads)", body = Object),
        (status = 503, description = "Not ready: the store stopped accepting writes (a full disk, an \
            I/O error) or its log is damaged; the reason is in `detail`", body = Problem),
    ))]
async fn readyz(State(state): State<AppState>, _: Query<NoQuery>) -> Response {
    readiness(&state)
}

/// The same as `/readyz`, kept for monitors that know this name.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses(
        (status = 200, description = "Ready (see `/readyz`)", body = Object),
        (status = 503, description = "Not ready (see `/readyz`)", body = Problem),
    ))]
async fn healthz(State(state): State<AppState>, _: Query<NoQuery>) -> Response {
    readiness(&state)
}

fn readiness(state: &AppState) -> Response {
    let store = state.registry.store();
    let head = store.head();
    match store.health() {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "writable": true,
            "role": store.role(),
            "chain": "ok",
            "head_position": head.position,
            "index_lag": store.index_lag(),
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
            "Not ready",
            e.to_string(),
        )
        .into_response(),
    }
}

/// Every party, or those `q` finds.
#[utoipa::path(get, path = "/api/v1/parties", tag = "parties",
    params(PartiesQuery),
    responses((status = 200, description = "Every party, or those `q` finds", body = api::PartyList)))]
async fn list_parties(
    State(state): State<AppState>,
    Query(q): Query<PartiesQuery>,
) -> Json<api::PartyList> {
    let parties = state.registry.projections().parties();
    let items = match q.q.as_deref() {
        Some(text) => parties.search(text),
        None => parties.all(),
    };
    Json(api::PartyList {
        items: items.iter().map(api::PartyDto::from).collect(),
    })
}

/// One party, by id or by any of its names.
#[utoipa::path(get, path = "/api/v1/parties/{id}", tag = "parties",
    params(("id" = String, Path, description = "Party id, name or alias")),
    responses((status = 200, description = "The party", body = api::PartyDto),
        (status = 404, description = "Not found", body = Problem),
        (status = 409, description = "The name is more than one party's; `candidates` lists their ids", body = Problem)))]
async fn get_party(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _: Query<NoQuery>,
) -> Result<Json<api::PartyDto>, AppError> {
    let party = lookup_party(&state, &id)?;
    Ok(Json(api::PartyDto::from(&party)))
}

/// Registers a party (clerk or admin). The body is the data of
/// `PartyRegistered` plus `id`, and optionally `source`, `note`, `event_id`.
#[utoipa::path(post, path = "/api/v1/parties", tag = "parties",
    request_body = RegisterPartyBody,
    security(("bearer" = [])),
    responses((status = 201, description = "Stored; a retry of stored event ids gets the original positions again, with `duplicate: true` and an `Idempotent-Replayed: true` header", body = AppendedDto), (status = 400, description = "The request cannot be read", body = Problem), (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "The token may not write this", body = Problem), (status = 409, description = "A conflict: it exists already, the version moved on, or the event id was used by another request", body = Problem), (status = 422, description = "The content is refused: invalid, or not allowed by the lifecycle", body = Problem)))]
async fn create_party(
    State(state): State<AppState>,
    Writer(actor): Writer,
    Body(body): Body<RegisterPartyBody>,
) -> Result<Response, AppError> {
    let (id, event, event_id) = body.into_parts();
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
/// `Accept: text/csv` gives the same rows as CSV (with the dates of
/// signing, termination and last evidence), described by
/// `/api/v1/partnerships.csv-metadata.json`.
#[utoipa::path(get, path = "/api/v1/partnerships", tag = "partnerships",
    params(ListQuery),
    responses((status = 200, description = "The partnerships (JSON); `Accept: text/csv` gives them as CSV (RFC 4180, a header row), described by `/api/v1/partnerships.csv-metadata.json`",
            content((api::PartnershipList = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter cannot be read", body = Problem),
        (status = 404, description = "No such party", body = Problem),
        (status = 409, description = "The party name matches more than one party", body = Problem),
        (status = 422, description = "A day that does not exist", body = Problem)))]
async fn list_partnerships(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let strict = Reading::strict(q.evidence);
    let span = days_asked(
        q.valid_on.as_ref(),
        q.valid_from.as_ref(),
        q.valid_to.as_ref(),
        today(),
    )?;
    let filter = ListFilter {
        party: party_param(&state, q.party.as_deref())?,
        status: q.status,
        valid_on: span,
        in_force: q.in_force.unwrap_or_default(),
        as_known_at: q.as_known_at,
        today: today(),
    };
    let rows = state.registry.list(&filter);
    if wants_csv(&headers) {
        let registry = state.registry.clone();
        // Without days asked, the listing is of today.
        let span = span.unwrap_or(pacta_domain::Span::day(filter.today));
        let body = tokio::task::spawn_blocking(move || {
            pacta_documents::open_data::partnerships(
                &registry,
                &rows,
                span,
                filter.as_known_at,
                strict,
            )
        })
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
        return Ok(csv(body, pacta_documents::open_data::Table::Partnerships));
    }
    Ok((
        [(header::VARY, "accept")],
        Json(api::PartnershipList {
            party: filter
                .party
                .as_ref()
                .map(|p| api::PartyRefDto::from(&state.registry.party_ref(p))),
            days_asked: span.map(api::DaysDto::from),
            items: rows
                .iter()
                .map(|r| api::PartnershipRowDto::of(r, strict))
                .collect(),
        }),
    )
        .into_response())
}

/// Whether the client asked for CSV: `text/csv` with a quality above
/// zero and above `application/json`'s (the first listed wins a tie).
/// Anything else, `*/*` and types Pacta does not serve included, gets
/// JSON: an answer is never refused for its `Accept`.
pub(crate) fn wants_csv(headers: &axum::http::HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    // (quality, place) of the first range naming `media` exactly.
    let quality = |media: &str| {
        accept.split(',').enumerate().find_map(|(i, range)| {
            let mut parts = range.split(';').map(str::trim);
            let name = parts.next()?;
            if !name.eq_ignore_ascii_case(media) {
                return None;
            }
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((q, i))
        })
    };
    match (quality("text/csv"), quality("application/json")) {
        (Some((q, _)), _) if q <= 0.0 => false,
        (Some(_), None) => true,
        (Some((qc, ic)), Some((qj, ij))) => qc > qj || (qc == qj && ic < ij),
        (None, _) => false,
    }
}

/// A CSV answer, pointing at the metadata that describes its columns
/// (CSVW's `describedby` link).
pub(crate) fn csv(body: Vec<u8>, table: pacta_documents::open_data::Table) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8; header=present".to_owned()),
            (header::VARY, "accept".to_owned()),
            (
                header::LINK,
                format!(
                    "</api/v1/{table}.csv-metadata.json>; rel=\"describedby\"; type=\"application/csvm+json\""
                ),
            ),
        ],
        body,
    )
        .into_response()
}

/// The CSVW metadata of `GET /api/v1/partnerships` as CSV: each column's
/// name, Czech and English titles, datatype and description.
#[utoipa::path(get, path = "/api/v1/partnerships.csv-metadata.json", tag = "partnerships",
    responses((status = 200, description = "CSV on the Web (W3C CSVW) metadata of the partnerships CSV",
        content((Object = "application/csvm+json")))))]
async fn partnerships_csv_metadata(_: Query<NoQuery>) -> Response {
    csv_metadata(pacta_documents::open_data::Table::Partnerships)
}

/// The CSVW metadata of `GET /api/v1/events` as CSV.
#[utoipa::path(get, path = "/api/v1/events.csv-metadata.json", tag = "log",
    responses((status = 200, description = "CSV on the Web (W3C CSVW) metadata of the events CSV",
        content((Object = "application/csvm+json")))))]
async fn events_csv_metadata(_: Query<NoQuery>) -> Response {
    csv_metadata(pacta_documents::open_data::Table::Events)
}

/// A table's metadata; its `url` is relative, so it resolves to the
/// endpoint beside the metadata.
fn csv_metadata(table: pacta_documents::open_data::Table) -> Response {
    (
        [(header::CONTENT_TYPE, "application/csvm+json")],
        table.metadata(table.name()).to_string(),
    )
        .into_response()
}

/// One partnership on a day (default today) as known at a time (default now).
#[utoipa::path(get, path = "/api/v1/partnerships/{id}", tag = "partnerships",
    params(("id" = String, Path, description = "Partnership id"), DayQuery),
    responses((status = 200, description = "Its state on the day", body = api::PartnershipDto),
        (status = 400, description = "A parameter cannot be read", body = Problem),
        (status = 404, description = "No such partnership (by then)", body = Problem),
        (status = 422, description = "A day that does not exist", body = Problem)))]
async fn get_partnership(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DayQuery>,
) -> Result<Json<api::PartnershipDto>, AppError> {
    let span = days_asked(
        q.valid_on.as_ref(),
        q.valid_from.as_ref(),
        q.valid_to.as_ref(),
        today(),
    )?
    .unwrap_or_else(|| pacta_domain::Span::day(today()));
    let known_at = q.as_known_at;
    let detail = state
        .registry
        .partnership_over(&id, span, known_at)?
        .ok_or_else(|| match known_at {
            Some(t) => AppError::not_found(format!("no partnership {id:?} was recorded by {t}")),
            None => AppError::not_found(format!("no partnership {id:?}")),
        })?;
    Ok(Json(api::PartnershipDto::of(
        &detail,
        Reading::strict(q.evidence),
    )))
}

/// Opens a partnership: `{"home":ID,"partner":ID,"event":EVENT}` with
/// optional `id`, `initiative` and `event_id` (of EVENT, or of the opening
/// itself when there is no EVENT). 201 with its id; a retry with the same
/// `event_id` answers the partnership the original opened.
#[utoipa::path(post, path = "/api/v1/partnerships", tag = "partnerships",
    request_body = OpenPartnershipBody,
    security(("bearer" = [])),
    responses((status = 201, description = "Stored; a retry of stored event ids gets the original positions again, with `duplicate: true` and an `Idempotent-Replayed: true` header", body = AppendedDto), (status = 400, description = "The request cannot be read", body = Problem), (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "The token may not write this", body = Problem), (status = 409, description = "A conflict: it exists already, the version moved on, or the event id was used by another request", body = Problem), (status = 413, description = "The body or the event is too large", body = Problem), (status = 422, description = "The content is refused: invalid, or not allowed by the lifecycle", body = Problem)))]
async fn create_partnership(
    State(state): State<AppState>,
    Writer(actor): Writer,
    Body(body): Body<OpenPartnershipBody>,
) -> Result<Response, AppError> {
    let wanted_id = body.id;
    let event = body.event.map(EventIn::into_event).transpose()?;
    let outcome = state
        .registry
        .open_partnership(
            &actor,
            OpenPartnership {
                id: wanted_id.clone(),
                home: body.home,
                partner: body.partner,
                initiative: body.initiative,
                event_id: body.event_id,
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

/// A partnership's history, a page at a time: its events in the order
/// recorded, with position, version, effective date, record time and
/// author, source and hash; `as_known_at` shows only what was recorded by
/// then. `next_after` names the next page while there is one.
#[utoipa::path(get, path = "/api/v1/partnerships/{id}/events", tag = "partnerships",
    params(("id" = String, Path, description = "Partnership id"), HistoryQuery),
    responses((status = 200, description = "A page of its events", body = api::HistoryDto),
        (status = 400, description = "A parameter cannot be read", body = Problem),
        (status = 404, description = "No such partnership (by then)", body = Problem)))]
async fn partnership_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<api::HistoryDto>, AppError> {
    let limit = page_limit(q.limit)?;
    let views = state
        .registry
        .history(&id, q.as_known_at)?
        .ok_or_else(|| AppError::not_found(format!("no partnership {id:?}")))?;
    let after = q.after.unwrap_or(0);
    let total = views.len();
    let mut page = views
        .iter()
        .filter(|v| v.record.envelope.position > after)
        .take(limit + 1)
        .map(api::EventDto::from)
        .collect::<Vec<_>>();
    let next_after = (page.len() > limit).then(|| {
        page.truncate(limit);
        page.last().map_or(after, |e| e.position)
    });
    Ok(Json(api::HistoryDto {
        id,
        as_known_at: q.as_known_at.map(|t| t.to_string()),
        items: page,
        next_after,
        total: total as u64,
    }))
}

/// The most items one page answers, and how many when the client does not say.
pub(crate) const MAX_PAGE: u64 = 1000;
const DEFAULT_PAGE: u64 = 100;

/// A page size the client asked for: 1 to [`MAX_PAGE`], default 100.
pub(crate) fn page_limit(limit: Option<u64>) -> Result<usize, AppError> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        n @ 1..=MAX_PAGE => Ok(n as usize),
        _ => Err(AppError::bad_request_field(
            "limit",
            format!("must be 1–{MAX_PAGE}"),
        )),
    }
}

/// Appends the event of an append body to a stream.
async fn append_to(
    state: &AppState,
    actor: &Actor,
    stream: StreamId,
    body: AppendBody,
) -> Result<Response, AppError> {
    let (event, expected_version, event_id) = body.into_parts()?;
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

/// Appends an event to a partnership: 201; 409 on a version conflict; 422
/// when the lifecycle refuses it (the problem names the state and the
/// events allowed there).
#[utoipa::path(post, path = "/api/v1/partnerships/{id}/events", tag = "partnerships",
    params(("id" = String, Path, description = "Partnership id")),
    request_body = AppendBody,
    security(("bearer" = [])),
    responses((status = 201, description = "Stored; a retry of stored event ids gets the original positions again, with `duplicate: true` and an `Idempotent-Replayed: true` header", body = AppendedDto),
        (status = 400, description = "The request cannot be read", body = Problem), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "The token may not write this", body = Problem), (status = 404, description = "Not found", body = Problem),
        (status = 409, description = "A conflict: it exists already, the version moved on, or the event id was used by another request", body = Problem), (status = 413, description = "The body or the event is too large", body = Problem), (status = 422, description = "The content is refused: invalid, or not allowed by the lifecycle", body = Problem)))]
async fn append_partnership_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Writer(actor): Writer,
    Body(body): Body<AppendBody>,
) -> Result<Response, AppError> {
    let id = slug(&id, "partnership")?;
    append_to(&state, &actor, StreamId::partnership(id), body).await
}

/// Offers of towns seeking a Czech partner, each with its party.
#[utoipa::path(get, path = "/api/v1/offers", tag = "offers",
    params(OffersQuery),
    responses((status = 200, description = "The offers", body = api::OfferList),
        (status = 400, description = "A parameter cannot be read", body = Problem)))]
async fn list_offers(
    State(state): State<AppState>,
    Query(q): Query<OffersQuery>,
) -> Result<Json<api::OfferList>, AppError> {
    Ok(Json(api::OfferList::of(&state.registry, q.status)))
}

/// Publishes an offer: `{"id":ID,"event":EVENT}` where EVENT is
/// `OfferPublished`; its `data.home` is the clerk's party.
#[utoipa::path(post, path = "/api/v1/offers", tag = "offers",
    request_body = PublishOfferBody,
    security(("bearer" = [])),
    responses((status = 201, description = "Stored; a retry of stored event ids gets the original positions again, with `duplicate: true` and an `Idempotent-Replayed: true` header", body = AppendedDto), (status = 400, description = "The request cannot be read", body = Problem), (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "The token may not write this", body = Problem), (status = 409, description = "A conflict: it exists already, the version moved on, or the event id was used by another request", body = Problem), (status = 422, description = "The content is refused: invalid, or not allowed by the lifecycle", body = Problem)))]
async fn create_offer(
    State(state): State<AppState>,
    Writer(actor): Writer,
    Body(body): Body<PublishOfferBody>,
) -> Result<Response, AppError> {
    let (id, event_id) = (body.id, body.event_id);
    let event = body.event.into_event()?;
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
        .await
        .map_err(|e| match e {
            // A new offer that does not start with its publication.
            pacta_registry::CommandError::NotFound(d) => AppError::invalid(d),
            e => e.into(),
        })?;
    Ok(created(&outcome))
}

/// Appends an event to an offer (`OfferMatched`, `OfferWithdrawn`, `OfferLapsed`).
#[utoipa::path(post, path = "/api/v1/offers/{id}/events", tag = "offers",
    params(("id" = String, Path, description = "Offer id")),
    request_body = AppendBody,
    security(("bearer" = [])),
    responses((status = 201, description = "Stored; a retry of stored event ids gets the original positions again, with `duplicate: true` and an `Idempotent-Replayed: true` header", body = AppendedDto), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "The token may not write this", body = Problem),
        (status = 404, description = "Not found", body = Problem), (status = 409, description = "A conflict: it exists already, the version moved on, or the event id was used by another request", body = Problem), (status = 422, description = "The content is refused: invalid, or not allowed by the lifecycle", body = Problem)))]
async fn append_offer_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Writer(actor): Writer,
    Body(body): Body<AppendBody>,
) -> Result<Response, AppError> {
    let id = slug(&id, "offer")?;
    append_to(&state, &actor, StreamId::offer(id), body).await
}

/// The digest `position` and `hash` name, if any.
fn digest_param(q: &VerifyQuery) -> Result<Option<pacta_store::Head>, AppError> {
    match (q.position, q.hash.as_deref()) {
        (None, None) => Ok(None),
        (Some(position), Some(hash)) => Ok(Some(pacta_store::Head {
            position,
            hash: pacta_domain::Digest::parse(hash)
                .map_err(|e| AppError::bad_request(format!("hash: {e}")))?,
        })),
        _ => Err(AppError::bad_request(
            "give both position and hash, or neither",
        )),
    }
}

/// The full report of recomputing the hash chain, exactly as `pacta
/// verify` prints it (every unreadable range and mismatched position);
/// with `position` and `hash`, the check of that digest with the chain's
/// report inside (`chain`). What the CLI asks while the server holds the
/// store.
#[utoipa::path(get, path = "/api/v1/audit/chain", tag = "audit",
    params(VerifyQuery),
    responses((status = 200, description = "The chain report, or the digest check", body = Object),
        (status = 400, description = "A parameter cannot be read", body = Problem)))]
async fn chain(
    State(state): State<AppState>,
    Query(q): Query<VerifyQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let digest = digest_param(&q)?;
    let _turn = state.expensive_turn().await?;
    let store = state.registry.store().clone();
    let value = tokio::task::spawn_blocking(move || -> Result<serde_json::Value, AppError> {
        let value = match digest {
            None => serde_json::to_value(store.verify(&mut |_, _| {}).map_err(AppError::internal)?),
            Some(d) => serde_json::to_value(
                store
                    .verify_digest(d, &mut |_, _| {})
                    .map_err(AppError::internal)?,
            ),
        };
        value.map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)??;
    Ok(Json(value))
}

/// Recomputes the hash chain; with `position` and `hash`, also checks that
/// the log still extends that digest.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    params(VerifyQuery),
    responses((status = 200, description = "What the chain check found", body = api::VerifyDto),
        (status = 400, description = "A parameter cannot be read", body = Problem)))]
async fn verify(
    State(state): State<AppState>,
    Query(q): Query<VerifyQuery>,
) -> Result<Json<api::VerifyDto>, AppError> {
    let digest = digest_param(&q)?;
    let _turn = state.expensive_turn().await?;
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
/// The form a document (report, dossiers) is asked for in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum DocForm {
    /// `application/json` (and anything else).
    Json,
    /// `text/html`: the printable page.
    Html,
    /// `text/plain`: the text `pacta` prints in a terminal.
    Text,
}

impl DocForm {
    /// The first of `text/html`, `text/plain` and `application/json` the
    /// `Accept` header names; JSON when it names none of them.
    fn of(headers: &axum::http::HeaderMap) -> DocForm {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        [
            ("text/html", DocForm::Html),
            ("text/plain", DocForm::Text),
            ("application/json", DocForm::Json),
        ]
        .into_iter()
        .filter_map(|(name, form)| accept.find(name).map(|at| (at, form)))
        .min_by_key(|(at, _)| *at)
        .map_or(DocForm::Json, |(_, form)| form)
    }

    fn content_type(self) -> &'static str {
        match self {
            DocForm::Json => "application/json",
            DocForm::Html => "text/html; charset=utf-8",
            DocForm::Text => "text/plain; charset=utf-8",
        }
    }
}

/// A document in the form asked for; the same URL answers several forms,
/// so caches must key on `Accept`.
fn document(form: DocForm, body: impl Into<axum::body::Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, form.content_type()),
            (header::VARY, "accept"),
        ],
        body.into(),
    )
        .into_response()
}

async fn dossiers(
    state: &AppState,
    id: Option<String>,
    q: &DossierQuery,
) -> Result<Option<pacta_registry::audit::Dossiers>, AppError> {
    let _turn = state.expensive_turn().await?;
    let registry = state.registry.clone();
    let strict = Reading::strict(q.evidence);
    let s = state.clone();
    tokio::task::spawn_blocking(move || {
        let Some(mut d) = registry.termination_dossiers(id.as_deref(), strict)? else {
            return Ok(None);
        };
        // Each event's proof bundle.
        let key = s.published.key(&s)?;
        registry
            .attach_proofs(&mut d, &key, s.published.witnesses())
            .map_err(AppError::internal)?;
        Ok(Some(d))
    })
    .await
    .map_err(AppError::internal)?
}

/// The printable page or the text of dossiers, in the language asked for.
fn dossiers_page(
    state: &AppState,
    d: &pacta_registry::audit::Dossiers,
    q: &DossierQuery,
    form: DocForm,
) -> Response {
    let names = pacta_documents::PartyNames::of(&state.registry);
    let lang = q.lang.unwrap_or_default();
    document(
        form,
        if form == DocForm::Html {
            pacta_documents::dossier::html(d, lang, &names)
        } else {
            pacta_documents::dossier::text(d, lang, &names)
        },
    )
}

/// Every terminated partnership's dossier, with the chain verified up to
/// the head. `Accept: text/html` gives a printable page (Czech, or
/// English with `lang=en`).
#[utoipa::path(get, path = "/api/v1/audit/terminations", tag = "audit",
    params(DossierQuery),
    responses((status = 200, description = "The dossiers (JSON); `Accept: text/html` gives a printable page",
        content((api::DossiersDto = "application/json"), (String = "text/html"), (String = "text/plain")))))]
async fn terminations(
    State(state): State<AppState>,
    Query(q): Query<DossierQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let d = dossiers(&state, None, &q)
        .await?
        .ok_or_else(|| AppError::internal("no dossiers for the whole registry"))?;
    let form = DocForm::of(&headers);
    Ok(if form != DocForm::Json {
        dossiers_page(&state, &d, &q, form)
    } else {
        ([(header::VARY, "accept")], Json(api::DossiersDto::from(&d))).into_response()
    })
}

/// One terminated partnership's dossier: when it ended, how, why, who
/// decided and recorded it, on what evidence, what preceded it, every
/// correction, and the chain verified up to the head. `Accept: text/html`
/// gives a printable page (Czech, or English with `lang=en`).
#[utoipa::path(get, path = "/api/v1/audit/terminations/{id}", tag = "audit",
    params(("id" = String, Path, description = "Partnership id"), DossierQuery),
    responses((status = 200, description = "The dossier (JSON); `Accept: text/html` gives a printable page",
        content((api::DossierProofDto = "application/json"), (String = "text/html"), (String = "text/plain"))),
        (status = 404, description = "Not found", body = Problem)))]
async fn termination(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DossierQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let d = dossiers(&state, Some(id.clone()), &q)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no terminated partnership {id:?}")))?;
    let form = DocForm::of(&headers);
    if form != DocForm::Json {
        return Ok(dossiers_page(&state, &d, &q, form));
    }
    let one = api::DossiersDto::from(&d)
        .single()
        .ok_or_else(|| AppError::internal(format!("not one dossier for {id:?}")))?;
    Ok(([(header::VARY, "accept")], Json(one)).into_response())
}

/// The yearly summary for the assembly: in force on 1 January and 31
/// December, signed, stagnated, suspended, revived and terminated during
/// the year, its activities and the offers published in it, each line
/// with its source, and the log's head it rests on. `Accept: text/html`
/// gives a printable page (Czech, or English with `lang=en`).
#[utoipa::path(get, path = "/api/v1/reports/annual", tag = "reports",
    params(ReportQuery),
    responses((status = 200, description = "The report (JSON); `Accept: text/html` gives a printable page",
            content((api::ReportDto = "application/json"), (String = "text/html"), (String = "text/plain"))),
        (status = 400, description = "A parameter cannot be read", body = Problem),
        (status = 404, description = "No such party", body = Problem),
        (status = 409, description = "The party name matches more than one party", body = Problem)))]
async fn annual_report(
    State(state): State<AppState>,
    Query(q): Query<ReportQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let year = q.year;
    pacta_registry::report::check_year(year, today())
        .map_err(|e| AppError::bad_request_field("year", e))?;
    let party = party_param(&state, q.party.as_deref())?;
    let key = crate::cache::ReportKey {
        year,
        party,
        as_known_at: q.as_known_at,
        strict: Reading::strict(q.evidence),
        head: state.registry.store().head().position,
        form: DocForm::of(&headers),
        lang: q.lang.unwrap_or_default(),
    };
    let form = key.form;
    let body = match state.reports.get(&key) {
        Some(body) => body,
        None => {
            let _turn = state.expensive_turn().await?;
            let registry = state.registry.clone();
            let question = key.clone();
            let body = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
                let report = registry.annual_report(
                    question.year,
                    question.party.as_ref(),
                    question.as_known_at,
                    question.strict,
                )?;
                let names = || pacta_documents::PartyNames::of(&registry);
                Ok(axum::body::Bytes::from(match question.form {
                    DocForm::Html => {
                        pacta_documents::report::html(&report, question.lang, &names())
                    }
                    DocForm::Text => {
                        pacta_documents::report::text(&report, question.lang, &names())
                    }
                    DocForm::Json => serde_json::to_string(&api::ReportDto::from(&report))
                        .map_err(AppError::internal)?,
                }))
            })
            .await
            .map_err(AppError::internal)??;
            state.reports.put(key, body.clone());
            body
        }
    };
    Ok(document(form, body))
}
