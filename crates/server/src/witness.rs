//! The witness over HTTP (C2SP `tlog-witness`): `POST /add-checkpoint`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pacta_registry::witness::Witness;

/// The witness's router: `POST /add-checkpoint`, and `GET /key` with its
/// verifier key.
pub fn app(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", axum::routing::post(add_checkpoint))
        .route("/key", axum::routing::get(key))
        .with_state(witness)
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
}

async fn key(State(witness): State<Arc<Witness>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", witness.verifier_key()),
    )
        .into_response()
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: String) -> Response {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let answer = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body, now)).await;
    match answer {
        Ok(Ok(line)) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], line).into_response()
        }
        Ok(Err(refusal)) => {
            let status =
                StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let kind = if status == StatusCode::CONFLICT {
                "text/x.tlog.size"
            } else {
                "text/plain; charset=utf-8"
            };
            (status, [(header::CONTENT_TYPE, kind)], refusal.body).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Serves the witness on `listener` until SIGTERM or Ctrl-C.
pub async fn serve(
    witness: Arc<Witness>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    axum::serve(listener, app(witness))
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async {
                    match term.as_mut() {
                        Some(t) => { t.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => {}
            }
        })
        .await
}
