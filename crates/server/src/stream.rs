//! The global log over HTTP: pages, and a live server-sent-events stream.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use pacta_domain::Recorded;

use crate::AppState;
use crate::api::EventPage;
use crate::error::{AppError, Problem};
use crate::listen::Closer;
use crate::request::{LogFilter, PageQuery, Query, StreamQuery};

/// A page of the global log: records after `after` (default 0), at most
/// `limit` (default 100, at most 1000), exactly as exported and hashed.
/// `Accept: text/csv` gives the page as CSV, one row per event, described
/// by `/api/v1/events.csv-metadata.json`; a `Link: rel="next"` header
/// names the next page.
#[utoipa::path(get, path = "/api/v1/events", tag = "log",
    params(PageQuery),
    responses((status = 200, description = "A page of the log (JSON); `Accept: text/csv` gives it as CSV (RFC 4180, a header row), described by `/api/v1/events.csv-metadata.json`",
            content((EventPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter cannot be read", body = Problem)))]
pub(crate) async fn events(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let after = q.after.unwrap_or(0);
    let limit = crate::routes::page_limit(q.limit)? as u64;
    let head = state.registry.store().head().position;
    let filter = LogFilter {
        types: q.types.clone(),
        stream_kind: q.stream_kind,
    };
    let (items, scanned) = read(&state, after, limit, &filter)?;
    // The next page starts after the last record looked at, wanted or not.
    let next_after = Some(scanned).filter(|&p| p < head && p > after);
    if crate::routes::wants_csv(&headers) {
        let body = pacta_documents::open_data::events(&items).map_err(AppError::internal)?;
        let mut answer = crate::routes::csv(body, pacta_documents::open_data::Table::Events);
        if let Some(next) = next_after
            && let Ok(link) = axum::http::HeaderValue::from_str(&format!(
                "</api/v1/events?after={next}&limit={limit}>; rel=\"next\""
            ))
        {
            answer.headers_mut().append(axum::http::header::LINK, link);
        }
        return Ok(answer);
    }
    Ok((
        [(axum::http::header::VARY, "accept")],
        Json(EventPage {
            items: items
                .iter()
                .map(|r| crate::api::record_out(&state.registry, r))
                .collect(),
            next_after,
            head_position: head,
        }),
    )
        .into_response())
}

/// How many records past `after` one page looks at, at most, for the
/// records a filter wants: a page of a rare type ends early rather than
/// reading the whole log.
const SCAN: u64 = 10_000;

/// Up to `limit` wanted records after `after`, and the last position
/// looked at.
fn read(
    state: &AppState,
    after: u64,
    limit: u64,
    filter: &LogFilter,
) -> Result<(Vec<Recorded>, u64), AppError> {
    let mut items = Vec::new();
    let mut scanned = after;
    for record in state
        .registry
        .store()
        .read_from(after)
        .take(SCAN.max(limit) as usize)
    {
        let record = record.map_err(AppError::internal)?;
        scanned = record.envelope.position;
        if filter.wants(&record) {
            items.push(record);
            if items.len() as u64 >= limit {
                break;
            }
        }
    }
    Ok((items, scanned))
}

/// The global log as server-sent events: first every record after `after`
/// (or the `Last-Event-ID` header), then each new record as it is
/// appended. Each event's `id` is its position and its data the record
/// (`event: record`). A filtered stream (`types=`, `stream_kind=`) that
/// has passed over records it does not send says how far it has read
/// once it is caught up: `event: position`, whose `id` is that position
/// (a reader resumes after it). `event: error` with a reason ends a
/// stream that cannot read the log.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "log",
    params(StreamQuery, crate::request::ResumeHeader),
    responses((status = 200, description = "text/event-stream of records", content_type = "text/event-stream"),
        (status = 400, description = "A parameter cannot be read, or names a position beyond the head", body = Problem)))]
pub(crate) async fn event_stream(
    State(state): State<AppState>,
    closer: Option<Extension<Closer>>,
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
    let subscriber = state.subscribers.clone().try_acquire_owned().map_err(|_| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "Too many subscribers",
            format!(
                "the live stream has its limit of {} subscribers; retry later, or read pages of \
                 /api/v1/events",
                state.limits.max_subscribers
            ),
        )
        .retry_after(5)
    })?;
    let stalled = state.limits.stalled_reader;
    let last_read = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    if let Some(Extension(closer)) = closer {
        tokio::spawn(drop_when_stalled(
            closer,
            last_read.clone(),
            started,
            stalled,
        ));
    }
    let head_rx = state.registry.store().subscribe();
    let shutdown = state.shutdown.clone();
    let live = Live {
        state,
        head_rx,
        shutdown,
        after,
        announced: after,
        buffer: VecDeque::new(),
        filter: LogFilter {
            types: q.types.clone(),
            stream_kind: q.stream_kind,
        },
        finished: false,
        _subscriber: subscriber,
    };
    let records = futures_util::stream::unfold(live, |mut live| async move {
        let event = live.next().await?;
        Some((Ok(event), live))
    });
    // The body is polled whenever hyper can write: each poll is a sign of
    // a reader.
    let mut records = Box::pin(records);
    let stream = futures_util::stream::poll_fn(move |cx| {
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        last_read.store(millis, Ordering::Relaxed);
        records.as_mut().poll_next(cx)
    });
    let keep_alive = (stalled / 4).min(Duration::from_secs(15));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(keep_alive)))
}

/// How many records one read of the log for a subscriber takes (and so
/// at most how many wait in its memory).
const READ_AHEAD: u64 = 256;

/// One subscriber's place in the log.
struct Live {
    state: AppState,
    head_rx: tokio::sync::watch::Receiver<pacta_store::Head>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    after: u64,
    /// The last position the reader was told of (a record's id, or a
    /// `position` event's).
    announced: u64,
    buffer: VecDeque<Recorded>,
    /// Which records the reader wants.
    filter: LogFilter,
    /// The stream sent its last event (an `error` saying why it ends).
    finished: bool,
    _subscriber: tokio::sync::OwnedSemaphorePermit,
}

impl Live {
    /// The next event to send; `None` ends the stream.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if self.finished {
                return None;
            }
            if let Some(record) = self.buffer.pop_front() {
                self.after = record.envelope.position;
                self.announced = self.after;
                let out = crate::api::record_out(&self.state.registry, &record);
                return Some(match serde_json::to_string(&out) {
                    Ok(json) => SseEvent::default()
                        .id(self.after.to_string())
                        .event("record")
                        .data(json),
                    Err(e) => SseEvent::default().event("error").data(e.to_string()),
                });
            }
            if *self.shutdown.borrow() {
                return None;
            }
            let head = self.head_rx.borrow_and_update().position;
            if head > self.after {
                match read(
                    &self.state,
                    self.after,
                    READ_AHEAD.min(head - self.after),
                    &self.filter,
                ) {
                    Ok((records, scanned)) => {
                        // Unwanted records are passed over, not waited on.
                        if records.is_empty() {
                            self.after = scanned;
                        }
                        self.buffer.extend(records)
                    }
                    Err(e) => {
                        tracing::error!(error = %e.problem().detail, after = self.after, "a live stream could not read the log");
                        self.finished = true;
                        let reason = format!(
                            "the log could not be read after position {}; reconnect with Last-Event-ID: {} to resume",
                            self.after, self.after
                        );
                        return Some(SseEvent::default().event("error").data(reason));
                    }
                }
                continue;
            }
            // Caught up, having passed over records the reader does not
            // want: say how far it has read, so that it resumes from
            // there rather than scanning them again.
            if self.after > self.announced {
                self.announced = self.after;
                return Some(
                    SseEvent::default()
                        .id(self.after.to_string())
                        .event("position")
                        .data(format!("{{\"position\":{}}}", self.after)),
                );
            }
            tokio::select! {
                changed = self.head_rx.changed() => if changed.is_err() { return None },
                _ = self.shutdown.changed() => return None,
            }
        }
    }
}

/// Closes a subscriber's connection once its stream has not been polled
/// for `stalled`: a reader that keeps up is polled at least at every
/// keep-alive, so silence that long means it stopped reading and its
/// answer is piling up. Ends when the stream does.
async fn drop_when_stalled(
    closer: Closer,
    last_read: Arc<AtomicU64>,
    started: Instant,
    stalled: Duration,
) {
    let mut tick = tokio::time::interval((stalled / 4).max(Duration::from_millis(10)));
    loop {
        tick.tick().await;
        if Arc::strong_count(&last_read) == 1 {
            return;
        }
        let last = Duration::from_millis(last_read.load(Ordering::Relaxed));
        if started.elapsed().saturating_sub(last) > stalled {
            closer.close(&format!(
                "a live-stream subscriber read nothing for {} s",
                stalled.as_secs_f64()
            ));
            return;
        }
    }
}

/// 400 for a position no record has yet.
fn beyond_head(field: &str, after: u64, head: u64) -> AppError {
    AppError::bad_request_field(
        field,
        format!("{after} is beyond the log's head {head}: no record has that position yet"),
    )
}
