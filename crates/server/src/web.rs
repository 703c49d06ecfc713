//! The web pages: `/`, `/partnerships/{id}`, `/offers` and the script
//! they load. Parsing the query and choosing the language happen here;
//! what a page says is `pacta_documents::web`'s.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pacta_documents::Lang;
use pacta_documents::web::{self, View};
use pacta_domain::{PartialDate, Status, Timestamp};
use pacta_projections::InForceFilter;
use serde::Deserialize;

use crate::AppState;
use crate::request::Query;

/// The cookie that keeps the language a person switched to.
const LANG_COOKIE: &str = "pacta_lang";

/// The query parameters of every page. An empty value (an untouched form
/// field) means the parameter is absent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The day, or a month or a year.
    #[serde(default, deserialize_with = "optional")]
    on: Option<PartialDate>,
    /// The record time: an RFC 3339 instant or a date.
    #[serde(default, deserialize_with = "known_at")]
    as_known_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "text")]
    party: Option<String>,
    #[serde(default, deserialize_with = "text")]
    country: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    status: Option<Status>,
    #[serde(default, deserialize_with = "optional")]
    in_force: Option<InForceFilter>,
    #[serde(default, deserialize_with = "text")]
    q: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    lang: Option<Lang>,
    /// The year offers were published (`/offers`).
    #[serde(default, deserialize_with = "optional")]
    year: Option<i32>,
}

fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    Ok((!s.trim().is_empty()).then(|| s.trim().to_owned()))
}

fn optional<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match text(d)? {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn known_at<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    match text(d)? {
        None => Ok(None),
        Some(s) => Timestamp::parse_known_at(&s)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// The language: `lang=` if given, else the cookie, else Czech (whatever
/// the browser's `Accept-Language` says).
fn language(q: &PageQuery, headers: &HeaderMap) -> Lang {
    q.lang.unwrap_or_else(|| {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix(LANG_COOKIE)?.strip_prefix('='))
            .find_map(|v| v.parse().ok())
            .unwrap_or_default()
    })
}

fn view_of(q: &PageQuery, headers: &HeaderMap) -> View {
    View {
        on: q.on,
        as_known_at: q.as_known_at,
        party: q.party.clone(),
        country: q.country.clone(),
        status: q.status,
        in_force: q.in_force,
        q: q.q.clone(),
        lang: language(q, headers),
    }
}

/// An HTML answer; a `lang=` choice is kept in the cookie.
fn html(status: StatusCode, q: &PageQuery, body: String) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    if let Some(lang) = q.lang
        && let Ok(v) =
            format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax").parse()
    {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

fn refused(q: &PageQuery, view: &View, state: &AppState, message: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        q,
        web::notice(view, &chain(state), message),
    )
}

fn chain(state: &AppState) -> web::Chain {
    let (verified, broken) = *state.verified.lock().unwrap_or_else(|p| p.into_inner());
    web::chain(&state.registry, verified, broken)
}

/// `GET /`: the partnerships on a day.
pub async fn home(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let view = view_of(&q, &headers);
    match web::home::html(&state.registry, &view, &chain(&state)) {
        Ok(page) => html(StatusCode::OK, &q, page),
        Err(e) => refused(&q, &view, &state, &e.0),
    }
}

/// `GET /partnerships/{id}`: one partnership's timeline and events.
pub async fn partnership(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let view = view_of(&q, &headers);
    match web::partnership::html(&state.registry, &id, &view, &chain(&state)) {
        Ok(Some(page)) => html(StatusCode::OK, &q, page),
        Ok(None) => {
            let message = view.lang.page().not_found;
            html(
                StatusCode::NOT_FOUND,
                &q,
                web::notice(&view, &chain(&state), message),
            )
        }
        Err(e) => refused(&q, &view, &state, &e.0),
    }
}

/// `GET /offers`: the notice board.
pub async fn offers(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let view = view_of(&q, &headers);
    let filter = web::offers::OffersFilter { year: q.year };
    match web::offers::html(&state.registry, &view, &filter, &chain(&state)) {
        Ok(page) => html(StatusCode::OK, &q, page),
        Err(e) => refused(&q, &view, &state, &e.0),
    }
}

/// `GET /static/pacta.js`.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        web::SCRIPT,
    )
}

/// Keeps how far the chain was last verified, for the pages' foot:
/// verifies now and again whenever the head has moved, off the requests'
/// path.
pub async fn keep_verified(state: AppState) {
    let mut checked = u64::MAX;
    loop {
        let head = state.registry.store().head().position;
        if head != checked {
            let store = state.registry.store().clone();
            if let Ok(Ok(report)) =
                tokio::task::spawn_blocking(move || store.verify(&mut |_, _| {})).await
            {
                let mut v = state.verified.lock().unwrap_or_else(|p| p.into_inner());
                *v = if report.ok {
                    (report.head_position, None)
                } else {
                    (report.intact_to, report.first_bad_position)
                };
            }
            checked = head;
        }
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    }
}

/// `GET /map`: every partnership's partner on a map, by in force on a day.
pub async fn map(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let view = view_of(&q, &headers);
    match web::map::html(&state.registry, &view, &chain(&state)) {
        Ok(page) => html(StatusCode::OK, &q, page),
        Err(e) => refused(&q, &view, &state, &e.0),
    }
}
