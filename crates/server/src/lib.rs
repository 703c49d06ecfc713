//! Pacta's HTTP API on axum.
//!
//! [`app`] builds the router (tests drive it with
//! `tower::ServiceExt::oneshot`, no server needed); [`serve`] binds it to
//! an address with request ids, one log line per request and graceful
//! shutdown. Every error is an RFC 9457 problem ([`error::AppError`]).
//! `GET /openapi.json` is generated from the handlers' annotations, so it
//! cannot drift from them.
//!
//! Only this crate knows HTTP. Request and response shapes live in
//! [`api`] and are converted by hand from the registry's views; printable
//! pages come from `pacta_documents`, chosen by `Accept` and `lang`.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod admin;
pub mod api;
mod cache;
pub mod error;
pub mod listen;
pub mod proofs;
pub mod request;
mod routes;
mod stream;
mod views;
mod web;
pub mod witness;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use pacta_registry::witnessing::WitnessRef;
use pacta_registry::{Registry, Tokens};
use tokio::sync::watch;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
pub use crate::listen::Limits;
use tokio::sync::Semaphore;

/// The largest request body accepted, in bytes (1 MiB).
pub const MAX_BODY: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The registry.
    pub registry: Arc<Registry>,
    /// Bearer tokens.
    pub tokens: Tokens,
    /// Turns true when the server is shutting down; live streams end.
    pub shutdown: watch::Receiver<bool>,
    /// The limits the server keeps.
    pub limits: Arc<Limits>,
    /// Places for live-stream subscribers.
    pub subscribers: Arc<Semaphore>,
    /// Turns for expensive reads.
    pub expensive: Arc<Semaphore>,
    /// Reports made lately, by question and head.
    pub(crate) reports: Arc<cache::Recent<cache::ReportKey>>,
    /// How far the chain was last verified, and where it broke if it did
    /// (the pages' foot).
    pub verified: Arc<std::sync::Mutex<(u64, Option<u64>)>>,
    /// The log's key and latest signed checkpoint.
    pub published: Arc<proofs::Published>,
}

impl AppState {
    /// State over a registry with the default limits; the returned sender
    /// starts shutdown.
    pub fn new(
        registry: Arc<Registry>,
    ) -> Result<(AppState, watch::Sender<bool>), pacta_registry::tokens::TokenError> {
        AppState::with_limits(registry, Limits::default())
    }

    /// State over a registry keeping `limits`.
    pub fn with_limits(
        registry: Arc<Registry>,
        limits: Limits,
    ) -> Result<(AppState, watch::Sender<bool>), pacta_registry::tokens::TokenError> {
        let tokens = Tokens::open(registry.store())?;
        let (tx, rx) = watch::channel(false);
        Ok((
            AppState {
                registry,
                tokens,
                shutdown: rx,
                subscribers: Arc::new(Semaphore::new(limits.max_subscribers)),
                expensive: Arc::new(Semaphore::new(limits.expensive_reads)),
                reports: Arc::new(cache::Recent::new(REPORT_BYTES_KEPT)),
                verified: Arc::new(std::sync::Mutex::new((0, None))),
                published: Arc::default(),
                limits: Arc::new(limits),
            },
            tx,
        ))
    }

    /// A turn for an expensive read, waiting at most
    /// [`Limits::expensive_wait`]; 503 with `Retry-After` when none comes.
    pub async fn expensive_turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        match tokio::time::timeout(
            self.limits.expensive_wait,
            self.expensive.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Busy",
                format!(
                    "{} expensive reads (reports, dossiers, verification) are being computed; retry shortly",
                    self.limits.expensive_reads
                ),
            )
            .retry_after(2)),
        }
    }
}

/// How many bytes of reports the server keeps ready (each is one question
/// at one head).
const REPORT_BYTES_KEPT: usize = 64 * 1024 * 1024;

/// The router with every endpoint, and the OpenAPI document describing it.
pub fn app(state: AppState) -> Router {
    let (router, mut openapi) = routes::router().split_for_parts();
    views::document(&mut openapi);
    problems_as_problem_json(&mut openapi);
    // Built once: the document never changes while the server runs.
    let openapi: Arc<str> = serde_json::to_string(&openapi)
        .expect("the OpenAPI document serializes")
        .into();
    let request_id = HeaderName::from_static("x-request-id");
    let request_timeout = state.limits.request;
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let openapi = openapi.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        openapi.to_string(),
                    )
                }
            }),
        )
        .route("/api/v1/views/{name}", axum::routing::get(views::view))
        .route("/tile/{*path}", axum::routing::get(proofs::tile))
        .route("/", axum::routing::get(web::home))
        .route("/partnerships/{id}", axum::routing::get(web::partnership))
        .route("/offers", axum::routing::get(web::offers))
        .route("/map", axum::routing::get(web::map))
        .route("/static/pacta.js", axum::routing::get(web::script))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<axum::body::Body>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_request(())
                .on_response(())
                .on_failure(()),
        )
        .layer(axum::middleware::from_fn(bounded_uri))
        .layer(axum::middleware::from_fn(errors_as_problems))
        .layer(axum::middleware::from_fn(log_request))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, UlidRequestId))
}

/// Answers any operation can give, and those of every write, documented
/// once here rather than on each handler.
const EVERY_OPERATION: &[(&str, &str)] = &[
    (
        "400",
        "The request cannot be read: a parameter the operation does not take, or a value of the wrong form",
    ),
    ("408", "The request did not arrive in time"),
    ("414", "The request target is longer than 8 KiB"),
    (
        "503",
        "The server is busy (see `Retry-After`) or not accepting writes",
    ),
];
const EVERY_WRITE: &[(&str, &str)] = &[
    ("401", "No valid bearer token"),
    ("413", "The body or the event is too large"),
    (
        "422",
        "The content is refused: invalid, or not allowed by the lifecycle",
    ),
    ("507", "The disk is full: nothing was written"),
];

/// Error answers are documented as `body = Problem`; the server sends them
/// as `application/problem+json`, so the document says so for each one,
/// and adds the answers every operation (and every write) can give.
fn problems_as_problem_json(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build()
    };
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
        ];
        for (op, write) in operations {
            let Some(op) = op else { continue };
            let extra = EVERY_OPERATION
                .iter()
                .chain(if write { EVERY_WRITE } else { &[] });
            for (status, description) in extra {
                op.responses
                    .responses
                    .entry((*status).to_owned())
                    .or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(*description)
                                .content(error::PROBLEM_JSON, problem())
                                .build(),
                        )
                    });
            }
            for (status, response) in op.responses.responses.iter_mut() {
                if let (true, utoipa::openapi::RefOr::T(response)) =
                    (status.starts_with(['4', '5']), response)
                    && let Some(content) = response.content.shift_remove("application/json")
                {
                    response
                        .content
                        .insert(error::PROBLEM_JSON.to_owned(), content);
                }
            }
        }
    }
}

/// The longest request target taken, in bytes. (hyper answers a target
/// over 64 KiB itself, with 414 and no body, before Pacta sees it.)
pub const MAX_URI: usize = 8 * 1024;

/// Refuses a request target longer than [`MAX_URI`] with 414 problem+json.
async fn bounded_uri(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let length = req.uri().path().len() + req.uri().query().map_or(0, |q| q.len() + 1);
    if length > MAX_URI {
        return error::AppError::new(
            axum::http::StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "URI too long",
            format!("the request target has {length} bytes; at most {MAX_URI} are taken"),
        )
        .into_response();
    }
    next.run(req).await
}

/// Error answers made outside the handlers (axum's own rejections, such
/// as a path that is not UTF-8 after decoding, or a timeout) come as plain
/// text; they leave as problem+json like every other error.
async fn errors_as_problems(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let response = next.run(req).await;
    let status = response.status();
    // A problem, or a web page saying what went wrong in words, is
    // answered as it is.
    let answered = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(error::PROBLEM_JSON.as_bytes())
                || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || answered {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let kind = match status.as_u16() {
        400 => "malformed",
        408 => "timeout",
        413 => "too-large",
        414 => "uri-too-long",
        _ => "error",
    };
    let mut problem = error::AppError::new(
        status,
        kind,
        status.canonical_reason().unwrap_or("Error"),
        detail,
    )
    .into_response();
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem
}

/// One structured log line per request: method, path, status, latency
/// and request id as fields of the line itself.
async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    tracing::info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1e3,
        request_id = %request_id,
        "request"
    );
    response
}

/// Request ids are ULIDs unless the client sent one.
#[derive(Clone, Copy)]
struct UlidRequestId;

impl MakeRequestId for UlidRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        axum::http::HeaderValue::from_str(&ulid::Ulid::generate().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Serves until SIGTERM or Ctrl-C: then stops accepting, lets in-flight
/// requests finish (for at most [`Limits::shutdown_grace`]), ends live
/// streams, flushes the store and returns.
pub async fn serve(
    registry: Arc<Registry>,
    addr: SocketAddr,
    witnesses: Vec<WitnessRef>,
) -> std::io::Result<()> {
    serve_with(registry, addr, Limits::default(), witnesses, stop_signal()).await
}

/// [`serve`] with given limits, until `stop` completes.
pub async fn serve_with(
    registry: Arc<Registry>,
    addr: SocketAddr,
    limits: Limits,
    witnesses: Vec<WitnessRef>,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let (mut state, shutdown) =
        AppState::with_limits(registry.clone(), limits.clone()).map_err(std::io::Error::other)?;
    if !witnesses.is_empty() {
        let witnesses =
            pacta_registry::witnessing::Witnesses::open(registry.store().path(), witnesses)
                .map_err(std::io::Error::other)?;
        state.published = Arc::new(proofs::Published::with_witnesses(witnesses));
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let address_file = Announced::write(registry.store().path(), listener.local_addr()?);
    // Printed for people and scripts that started the server on port 0.
    println!("pacta listening on http://{}", listener.local_addr()?);
    let persister = tokio::spawn(persist_projections(registry.clone()));
    let verifier = tokio::spawn(web::keep_verified(state.clone()));
    let publisher = tokio::spawn(proofs::publish(state.clone()));
    listen::serve(listener, app(state), &limits, async move {
        stop.await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = shutdown.send(true);
    })
    .await;
    persister.abort();
    verifier.abort();
    publisher.abort();
    registry
        .projections()
        .persist()
        .map_err(std::io::Error::other)?;
    registry.store().flush().map_err(std::io::Error::other)?;
    drop(address_file);
    tracing::info!("store flushed; bye");
    Ok(())
}

/// The file in the data directory that names the address a running
/// `pacta serve` answers on, so that the CLI's read commands can ask it
/// while it holds the store.
pub const ADDRESS_FILE: &str = "serving.json";

/// What [`ADDRESS_FILE`] holds.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Announcement {
    /// Where to connect (a wildcard listen address is given as loopback).
    pub address: SocketAddr,
    /// The server's process id.
    pub pid: u32,
}

/// The address file of a running server; removed when dropped (a killed
/// server leaves it, and a reader finds nobody answering there).
struct Announced(Option<std::path::PathBuf>);

impl Announced {
    fn write(dir: &std::path::Path, mut address: SocketAddr) -> Announced {
        if address.ip().is_unspecified() {
            address.set_ip(match address {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let path = dir.join(ADDRESS_FILE);
        let tmp = dir.join(format!("{ADDRESS_FILE}.tmp"));
        let body = serde_json::to_vec(&Announcement {
            address,
            pid: std::process::id(),
        })
        .expect("an announcement serializes");
        match std::fs::write(&tmp, body).and_then(|()| std::fs::rename(&tmp, &path)) {
            Ok(()) => Announced(Some(path)),
            Err(e) => {
                tracing::warn!(error = %e, "could not write the address file; the CLI cannot read beside this server");
                Announced(None)
            }
        }
    }
}

impl Drop for Announced {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// How often the server writes the projections' latest state to their
/// trees (appends only bring memory up to date).
const PERSIST_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Writes the projections' pending state now and then, off the requests'
/// path, so that a restart has little to apply again.
async fn persist_projections(registry: Arc<Registry>) {
    let mut tick = tokio::time::interval(PERSIST_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if registry.projections().unpersisted() == 0 {
            continue;
        }
        let registry = registry.clone();
        let written = tokio::task::spawn_blocking(move || registry.projections().persist()).await;
        if let Ok(Err(e)) = written {
            tracing::warn!(error = %e, "could not write the projections' state; retrying later");
        }
    }
}

async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
