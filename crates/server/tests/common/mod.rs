//! Helpers of the document and open-data tests: a seeded registry behind
//! the router, and requests with an `Accept` header.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use pacta_registry::{Actor, Registry};
use pacta_server::{AppState, app};
use serde_json::Value;
use tower::ServiceExt;

/// A registry with the bundled seeds, and the directory holding it.
pub fn seeded() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    // Loading blocks on the store's writer: not on the runtime's thread.
    let registry = std::thread::spawn(move || {
        let registry = Registry::open(path).unwrap();
        registry
            .load_seeds(
                &pacta_registry::seeds::bundled(),
                &Actor::system("seed"),
                false,
            )
            .unwrap();
        registry
    })
    .join()
    .unwrap();
    let (state, _shutdown) = AppState::new(Arc::new(registry)).unwrap();
    (dir, state)
}

/// An answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The `Content-Type`.
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .map_or("", |v| v.to_str().unwrap())
    }

    /// Requires each needle in the body.
    #[track_caller]
    pub fn has(&self, needles: &[&str]) {
        for needle in needles {
            assert!(
                self.text.contains(needle),
                "the answer lacks {needle:?}:\n{}",
                self.text
            );
        }
    }

    /// The header row and the rows, as a CSV reader reads them.
    #[track_caller]
    pub fn csv(&self) -> (Vec<String>, Vec<csv::StringRecord>) {
        assert!(
            self.content_type().starts_with("text/csv"),
            "{}",
            self.content_type()
        );
        let mut reader = csv::Reader::from_reader(self.text.as_bytes());
        let header = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader.records().map(Result::unwrap).collect();
        (header, rows)
    }
}

/// A request with `Accept: accept`, and with a JSON body sent with a
/// bearer token when `body` is given.
pub async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    accept: &str,
    body: Option<(&str, Value)>,
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("accept", accept);
    if let Some((token, _)) = &body {
        req = req
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |(_, b)| Body::from(b.to_string())))
        .unwrap();
    let res = app(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// A GET with `Accept: accept`, whatever its status.
pub async fn ask(state: &AppState, uri: &str, accept: &str) -> Answer {
    call(state, "GET", uri, accept, None).await
}

/// A GET that must answer 200.
pub async fn get(state: &AppState, uri: &str, accept: &str) -> Answer {
    let a = ask(state, uri, accept).await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text);
    a
}

/// `(id, in force)` of every partnership the API lists for `query`
/// (`valid_on=…&in_force=…`), in its order.
pub async fn api_in_force(state: &AppState, query: &str) -> Vec<(String, String)> {
    let uri = format!("/api/v1/partnerships?{query}");
    get(state, &uri, "application/json").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["in_force"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
