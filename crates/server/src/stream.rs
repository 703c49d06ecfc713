//! The global log over HTTP: pages, and a live server-sent-events stream.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use pacta_domain::Recorded;

use crate::AppState;
use crate::api::EventPage;
use crate::error::{AppError, Problem};

/// The most records one page or one read of the stream returns.
const MAX_PAGE: u64 = 1000;

/// A page of the global log: records after `after` (default 0), at most
/// `limit` (default 100, at most 1000), exactly as exported and hashed.
#[utoipa::path(get, path = "/api/v1/events", tag = "log",
    params(("after" = Option<u64>, Query, description = "Position to start after (default 0)"),
        ("limit" = Option<u64>, Query, description = "At most this many (default 100, max 1000)")),
    responses((status = 200, body = EventPage), (status = 400, body = Problem)))]
pub(crate) async fn events(
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Json<EventPage>, AppError> {
    let p = crate::routes::query_params(&uri)?;
    let after = crate::routes::query_u64(&p, "after")?.unwrap_or(0);
    let limit = crate::routes::query_u64(&p, "limit")?.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE {
        return Err(AppError::bad_request(format!("limit must be 1–{MAX_PAGE}")));
    }
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
    params(("after" = Option<u64>, Query, description = "Position to start after (default 0)"),
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this position")),
    responses((status = 200, description = "text/event-stream of records", content_type = "text/event-stream"),
        (status = 400, body = Problem)))]
pub(crate) async fn event_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    let p = crate::routes::query_params(&uri)?;
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
        None => crate::routes::query_u64(&p, "after")?.unwrap_or(0),
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
        return Err(AppError::bad_request(format!(
            "{named} {after} is beyond the log's head {head}: no record has that position yet"
        )));
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
