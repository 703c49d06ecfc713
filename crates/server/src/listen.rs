//! Accepting connections with limits, so that slow or many clients cannot
//! hold the server: a time to send the request header, a time to answer,
//! a cap on open connections, and a deadline for shutdown.
//!
//! hyper serves each connection; this loop decides which connections it
//! gets. A connection over the cap is answered `503` problem+json with
//! `Retry-After` and closed at once, so a client learns why. Each
//! connection carries a [`Closer`] in its requests' extensions: the live
//! stream uses it to drop a subscriber that stopped reading.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};

/// The limits a server keeps.
#[derive(Clone, Debug)]
pub struct Limits {
    /// How long a client has to send a request's header (also how long an
    /// idle kept-alive connection stays open).
    pub header_read: Duration,
    /// How long a request may take, body included, before a 408. (A live
    /// stream is answered at once; its events are not a request's time.)
    pub request: Duration,
    /// Connections open at once; more are answered 503.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight before closing them.
    pub shutdown_grace: Duration,
    /// Live-stream subscribers at once; more are answered 503.
    pub max_subscribers: usize,
    /// A live-stream subscriber that reads nothing for this long (while
    /// the stream has something to send, if only a keep-alive) is dropped.
    pub stalled_reader: Duration,
    /// Expensive reads (reports, dossiers, verification) computed at once.
    pub expensive_reads: usize,
    /// How long an expensive read waits for its turn before a 503.
    pub expensive_wait: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(60),
            max_connections: 512,
            shutdown_grace: Duration::from_secs(10),
            max_subscribers: 128,
            stalled_reader: Duration::from_secs(60),
            expensive_reads: 2,
            expensive_wait: Duration::from_secs(5),
        }
    }
}

/// Closes the connection a request came on (see the module docs).
#[derive(Clone)]
pub struct Closer(Arc<Notify>);

impl Closer {
    /// Closes the connection now, with the reason in the log.
    pub fn close(&self, reason: &str) {
        tracing::info!(reason, "closing a connection");
        self.0.notify_one();
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting, lets requests in flight finish for at most
/// [`Limits::shutdown_grace`], and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    builder.http2().timer(TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait, then go on.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tokio::spawn(refuse_busy(stream, limits.max_connections));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let notify = Arc::new(Notify::new());
        let closer = Closer(notify.clone());
        let service = tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(closer.clone());
                req
            },
        );
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            tokio::select! {
                done = connection => if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended with an error");
                },
                () = notify.notified() => {}
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = graceful.count();
    if open > 0 {
        tracing::info!(connections = open, "waiting for requests in flight");
    }
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_seconds = limits.shutdown_grace.as_secs_f64(),
            "requests still in flight at the shutdown deadline were cut off"
        );
    }
}

/// Answers a connection over the cap with a 503 problem and closes it.
async fn refuse_busy(mut stream: TcpStream, cap: usize) {
    tracing::warn!(cap, "connection refused: too many open connections");
    let body = serde_json::json!({
        "type": "urn:pacta:problem:busy",
        "title": "Too many connections",
        "status": 503,
        "detail": format!("the server holds its limit of {cap} open connections; retry shortly"),
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        crate::error::PROBLEM_JSON,
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
