//! The global log over HTTP: pages, and a live server-sent-events stream.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use pacta_domain::Recorded;

use crate::AppState;
use crate::api::EventPage;
use crate::error::{AppError, Problem};
use crate::request::{PageQuery, Query, StreamQuery};

/// The most records one read of the stream returns.
const MAX_PAGE: u64 = crate::routes::MAX_PAGE;

/// A page of the global log: records after `after` (default 0), at most
/// `limit` (default 100, at most 1000), exactly as exported and hashed.
#[utoipa::path(get, path = "/api/v1/events", tag = "log",
    params(PageQuery),
    responses((status = 200, description = "A page of the log", body = EventPage),
        (status = 400, description = "A parameter cannot be read", body = Problem)))]
pub(crate) async fn events(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> Result<Json<EventPage>, AppError> {
    let after = q.after.unwrap_or(0);
    let limit = crate::routes::page_limit(q.limit)? as u64;
    let head = state.registry.store().head().position;
    let items = read(&state, after, limit.min(head.saturating_sub(after)))?;
    let next_after = items
        .last()
        .map(|r| r.envelope.position)
        .filter(|&p| p < head);
    Ok(Json(EventPage {
        items,
        next_after,
        head_position: head,
    }))
}

fn read(state: &AppState, after: u64, limit: u64) -> Result<Vec<Recorded>, AppError> {
    state
        .registry
        .store()
        .read_from(after)
        .take(limit as usize)
        .collect::<Result<_, _>>()
        .map_err(AppError::internal)
}

/// The global log as server-sent events: first every record after `after`
/// (or the `Last-Event-ID` header), then each new record as it is
/// appended. Each event's `id` is its position and its data the record.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "log",
    params(StreamQuery, crate::request::ResumeHeader),
    responses((status = 200, description = "text/event-stream of records", content_type = "text/event-stream"),
        (status = 400, description = "A parameter cannot be read, or names a position beyond the head", body = Problem)))]
pub(crate) async fn event_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    let resume = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| AppError::bad_request("Last-Event-ID must be a position"))
        })
        .transpose()?;
    let after = match resume {
        Some(r) => r,
        None => q.after.unwrap_or(0),
    };
    // A position beyond the head names nothing: waiting there would
    // silently skip the records written up to it.
    let head = state.registry.store().head().position;
    if after > head {
        let named = if resume.is_some() {
            "Last-Event-ID"
        } else {
            "after"
        };
        return Err(beyond_head(named, after, head));
    }
    let head_rx = state.registry.store().subscribe();
    let shutdown = state.shutdown.clone();
    let stream = futures_util::stream::unfold(
        (state, head_rx, shutdown, after, VecDeque::<Recorded>::new()),
        |(state, mut head_rx, mut shutdown, mut after, mut buffer)| async move {
            loop {
                if let Some(record) = buffer.pop_front() {
                    after = record.envelope.position;
                    let event = match serde_json::to_string(&record) {
                        Ok(json) => SseEvent::default()
                            .id(after.to_string())
                            .event("record")
                            .data(json),
                        Err(e) => SseEvent::default().event("error").data(e.to_string()),
                    };
                    return Some((Ok(event), (state, head_rx, shutdown, after, buffer)));
                }
                if *shutdown.borrow() {
                    return None;
                }
                let head = head_rx.borrow_and_update().position;
                if head > after {
                    match read(&state, after, MAX_PAGE.min(head - after)) {
                        Ok(records) => buffer.extend(records),
                        Err(_) => return None,
                    }
                    continue;
                }
                tokio::select! {
                    changed = head_rx.changed() => if changed.is_err() { return None },
                    _ = shutdown.changed() => return None,
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// 400 for a position no record has yet.
fn beyond_head(field: &str, after: u64, head: u64) -> AppError {
    AppError::bad_request_field(
        field,
        format!("{after} is beyond the log's head {head}: no record has that position yet"),
    )
}
