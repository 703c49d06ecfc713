//! Fuzzing the HTTP API: random query strings, paths, headers and bodies
//! on every endpoint, through `app(state)` with `tower::ServiceExt::oneshot`
//! and, for what only a real connection carries, through `axum::serve` on
//! a loopback socket.
//!
//! The property: never a 5xx; every 4xx is `application/problem+json`
//! whose body is a JSON object with `status` equal to the HTTP status.
//!
//! All tests share one registry filled with the bundled seeds (fuzzed
//! writes land in it too; no property depends on what it holds). Cases
//! per test: `PROPTEST_CASES`, or the defaults below.

use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use pacta_registry::{Actor, Registry, Role};
use pacta_server::{AppState, app};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};
use tower::ServiceExt;

/// `PROPTEST_CASES` when set, else `default`.
fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        max_shrink_iters: 1024,
        ..Config::default()
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    _shutdown: tokio::sync::watch::Sender<bool>,
    runtime: tokio::runtime::Runtime,
    admin: String,
    clerk: String,
    /// The address `axum::serve` listens on, for the wire test.
    addr: OnceLock<std::net::SocketAddr>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path()).unwrap();
        registry
            .load_seeds(
                &pacta_registry::seeds::bundled(),
                &Actor::system("seed"),
                false,
            )
            .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        // The state's background parts start on the runtime.
        let (state, shutdown) = {
            let _guard = runtime.enter();
            AppState::new(Arc::new(registry)).unwrap()
        };
        let slug = |s: &str| pacta_domain::Slug::parse(s).unwrap();
        let admin = state.tokens.add(&slug("root"), Role::Admin, None).unwrap();
        let clerk = state
            .tokens
            .add(
                &slug("liberec-clerk"),
                Role::Clerk,
                Some(slug("liberecky-kraj")),
            )
            .unwrap();
        Fixture {
            _dir: dir,
            state,
            _shutdown: shutdown,
            runtime,
            admin,
            clerk,
            addr: OnceLock::new(),
        }
    })
}

/// One generated request.
#[derive(Clone, Debug)]
struct Req {
    method: String,
    /// Path and query, already percent-encoded (or deliberately not).
    uri: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
}

/// What the property needs of an answer.
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// Sends a request through the router. `None` when the request cannot be
/// built (a URI or header the `http` crate refuses never reaches a
/// server either).
fn send(req: &Req) -> Option<Answer> {
    let f = fixture();
    let mut builder = Request::builder()
        .method(req.method.as_str())
        .uri(req.uri.as_str());
    for (name, value) in &req.headers {
        builder = builder.header(name.as_str(), value.as_slice());
    }
    let request = builder
        .body(req.body.clone().map_or_else(Body::empty, Body::from))
        .ok()?;
    let is_head = req.method == "HEAD";
    Some(f.runtime.block_on(async {
        let response = app(f.state.clone()).oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        // A 2xx body is not looked at, and a live stream never ends.
        let body = if status >= 400 && !is_head {
            let collected =
                tokio::time::timeout(Duration::from_secs(60), response.into_body().collect())
                    .await
                    .expect("an error body ends")
                    .unwrap();
            collected.to_bytes().to_vec()
        } else {
            Vec::new()
        };
        Answer {
            status,
            content_type,
            body,
        }
    }))
}

/// The property, for an answer to `what`. A `HEAD` answer has no body to
/// look into.
fn check(what: &str, head: bool, a: &Answer) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(&a.body);
    prop_assert!(a.status < 500, "{what} answered {}: {text}", a.status);
    if a.status >= 400 {
        prop_assert_eq!(
            &a.content_type,
            "application/problem+json",
            "{} answered {} as {:?}: {}",
            what,
            a.status,
            a.content_type,
            text
        );
        if !head {
            let body: Value = serde_json::from_slice(&a.body).map_err(|e| {
                TestCaseError::fail(format!("{what} answered {} {e}: {text}", a.status))
            })?;
            prop_assert_eq!(
                body["status"].as_u64(),
                Some(u64::from(a.status)),
                "{}: {}",
                what,
                text
            );
        }
    }
    Ok(())
}

fn run(req: &Req) -> Result<(), TestCaseError> {
    match send(req) {
        Some(answer) => check(&format!("{req:?}"), req.method == "HEAD", &answer),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------
// Generators

/// Percent-encodes bytes, leaving unreserved characters as they are; with
/// `raw`, some reserved characters stay raw too (`+`, `=`, `&`, `/`…).
fn encode(bytes: &[u8], raw: bool) -> String {
    let mut out = String::new();
    for &b in bytes {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (raw && matches!(b, b'+' | b'=' | b'&' | b'/' | b':' | b'@' | b',' | b';'));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Interesting text: ids, names, dates, numbers, and their neighbours.
const VALUES: &[&str] = &[
    "",
    "liberecky-kraj",
    "Plzeň Region",
    "plzensky-kraj",
    "smo-cr",
    "liberecky-kraj--orenburg-oblast",
    "liberecky-kraj--bursa",
    "solonka-2024-03-12",
    "active",
    "terminated",
    "stagnating",
    "published",
    "matched",
    "strict",
    "presumed",
    "2022-02-28",
    "2022-02-29",
    "2022-13-01",
    "0000-01-01",
    "9999-12-31",
    "2022",
    "2022-02",
    "[..2013]",
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.123456789+02:00",
    "0000-01-01T00:00:00+01:00",
    "-000001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1970-01-01t00:00:00z",
    "0",
    "1",
    "-1",
    "100",
    "1000",
    "1001",
    "2022",
    "10000",
    "99999999999",
    "18446744073709551615",
    "18446744073709551616",
    "1e3",
    "0x10",
    " 1",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "cs",
    "en",
    "text/html",
    "\u{0}",
    "\u{202e}",
    "ř",
    "%",
    "%FF",
    "%C3%",
    "..",
    "../..",
];

/// Query keys the endpoints read, and some they do not.
const KEYS: &[&str] = &[
    "party",
    "status",
    "valid_on",
    "as_known_at",
    "after",
    "limit",
    "year",
    "position",
    "hash",
    "evidence",
    "lang",
    "on",
    "q",
    "id",
    "",
    "valid_on[]",
    "Party",
];

/// Text that is often almost right: a known value, edited.
fn value_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(VALUES).prop_map(|v| v.as_bytes().to_vec()),
        3 => (
            prop::sample::select(VALUES),
            any::<usize>(),
            prop::collection::vec(any::<u8>(), 0..3),
            any::<usize>(),
        )
            .prop_map(|(v, at, insert, cut)| {
                let mut b = v.as_bytes().to_vec();
                let at = at % (b.len() + 1);
                b.splice(at..at, insert);
                if cut % 3 == 0 {
                    let keep = cut % (b.len() + 1);
                    b.truncate(keep);
                }
                b
            }),
        1 => prop::collection::vec(any::<u8>(), 0..24),
        1 => (1usize..3000).prop_map(|n| "9".repeat(n).into_bytes()),
    ]
}

/// A query string: encoded pairs, sometimes a key repeated or without a
/// value, sometimes raw bytes that are not a well-formed encoding.
fn query() -> impl Strategy<Value = String> {
    let pair = (
        prop_oneof![
            5 => prop::sample::select(KEYS).prop_map(|k| k.as_bytes().to_vec()),
            1 => prop::collection::vec(any::<u8>(), 0..8),
        ],
        value_bytes(),
        any::<bool>(),
        0u8..8,
    )
        .prop_map(|(k, v, raw, form)| match form {
            0 => encode(&k, raw),
            1 => format!("{}=", encode(&k, raw)),
            _ => format!("{}={}", encode(&k, raw), encode(&v, raw)),
        });
    prop_oneof![
        8 => prop::collection::vec(pair, 0..5).prop_map(|pairs| pairs.join("&")),
        1 => prop::collection::vec(
            prop::sample::select(b"abc=&+%;#?/09FfGg \x7f".to_vec()),
            0..24
        )
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// The GET endpoints, `{}` standing for an id.
const GETS: &[&str] = &[
    "/healthz",
    "/openapi.json",
    "/api/v1/parties",
    "/api/v1/parties/{}",
    "/api/v1/partnerships",
    "/api/v1/partnerships/{}",
    "/api/v1/partnerships/{}/events",
    "/api/v1/offers",
    "/api/v1/events",
    "/api/v1/events/stream",
    "/api/v1/audit/verify",
    "/api/v1/audit/terminations",
    "/api/v1/audit/terminations/{}",
    "/api/v1/reports/annual",
];

/// The POST endpoints.
const POSTS: &[&str] = &[
    "/api/v1/parties",
    "/api/v1/partnerships",
    "/api/v1/partnerships/{}/events",
    "/api/v1/offers",
    "/api/v1/offers/{}/events",
];

/// Ids that exist, in the forms people write them.
const IDS: &[&str] = &[
    "liberecky-kraj",
    "Plze%C5%88%20Region",
    "smo-cr",
    "liberecky-kraj--orenburg-oblast",
    "liberecky-kraj--bursa",
    "plzensky-kraj--upper-palatinate",
    "solonka-2024-03-12",
    "nope",
];

/// An id segment: an existing id, or any bytes percent-encoded — among
/// them bytes that do not decode to UTF-8 (`%FF`), an encoded `/`, dots,
/// and long runs.
fn id_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(IDS).prop_map(str::to_owned),
        2 => value_bytes().prop_map(|b| encode(&b, false)),
        1 => prop::collection::vec(any::<u8>(), 0..16).prop_map(|b| encode(&b, false)),
        1 => prop::sample::select(vec!["%FF", "%C3%28", "%ED%A0%80", "%00", "%2F", "..", ".", "%2e%2e", "a%2Fb", "-", "--"])
            .prop_map(str::to_owned),
        1 => (1usize..8000).prop_map(|n| "a".repeat(n)),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let f = || fixture();
    let auth = prop_oneof![
        3 => Just(None),
        3 => Just(Some(format!("Bearer {}", f().admin).into_bytes())),
        2 => Just(Some(format!("Bearer {}", f().clerk).into_bytes())),
        1 => value_bytes().prop_map(|b| Some([b"Bearer ".as_slice(), &b].concat())),
        1 => value_bytes().prop_map(Some),
    ];
    let accept = prop_oneof![
        3 => Just(None),
        1 => Just(Some(b"text/html".to_vec())),
        1 => Just(Some(b"application/json, text/html".to_vec())),
        1 => Just(Some(b"text/csv".to_vec())),
        1 => value_bytes().prop_map(Some),
    ];
    let content_type = prop_oneof![
        3 => Just(Some(b"application/json".to_vec())),
        1 => Just(None),
        1 => Just(Some(b"text/plain".to_vec())),
        1 => value_bytes().prop_map(Some),
    ];
    let last_event_id = prop_oneof![
        6 => Just(None),
        1 => value_bytes().prop_map(Some),
    ];
    (auth, accept, content_type, last_event_id).prop_map(|(auth, accept, ct, last)| {
        [
            ("authorization", auth),
            ("accept", accept),
            ("content-type", ct),
            ("last-event-id", last),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect()
    })
}

/// Any JSON, its strings mostly known values.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(VALUES).prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(VALUES), inner), 0..4).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// A body each POST endpoint accepts, before the fuzz changes it.
fn valid_body(path: &str, n: u64) -> Value {
    let event = json!({"type": "ActivityRecorded", "date": "2026-10-02",
        "data": {"kind": "visit"}, "source": {"title": "press release"}, "note": "fuzz"});
    match path {
        "/api/v1/parties" => json!({"id": format!("fuzz-town-{n}"), "kind": "town",
            "names": {"cs": "Fuzzov"}, "country": "DE"}),
        "/api/v1/partnerships" => json!({"home": "liberecky-kraj", "partner": "saxony",
            "event": {"type": "ContactEstablished", "date": "2026-01"}}),
        "/api/v1/offers" => json!({"id": format!("fuzz-offer-{n}"), "event": {
            "type": "OfferPublished", "date": "2024-01-01",
            "data": {"party": "solonka", "home": "smo-cr"}}}),
        p if p.starts_with("/api/v1/offers/") => {
            json!({"type": "OfferWithdrawn", "date": "2024-05-01"})
        }
        _ => event,
    }
}

/// Fields of POST bodies, to aim changes at.
const BODY_KEYS: &[&str] = &[
    "id",
    "home",
    "partner",
    "event",
    "event_id",
    "expected_version",
    "initiative",
    "type",
    "date",
    "data",
    "source",
    "note",
    "kind",
    "names",
    "country",
];

#[derive(Clone, Debug)]
enum BodyChange {
    Set(&'static str, Value),
    Remove(&'static str),
    /// Sets a member of the nested `event` or `data`.
    SetNested(&'static str, &'static str, Value),
}

fn body_change() -> impl Strategy<Value = BodyChange> {
    let key = || prop::sample::select(BODY_KEYS);
    prop_oneof![
        3 => (key(), any_json()).prop_map(|(k, v)| BodyChange::Set(k, v)),
        1 => key().prop_map(BodyChange::Remove),
        2 => (prop::sample::select(&["event", "data"][..]), key(), any_json())
            .prop_map(|(o, k, v)| BodyChange::SetNested(o, k, v)),
        1 => Just(BodyChange::Set("event_id", Value::from("01M82V7M3AQAFHDZR0AAFM3JN2"))),
        1 => (0u64..40).prop_map(|v| BodyChange::Set("expected_version", Value::from(v))),
    ]
}

#[derive(Clone, Debug)]
enum BodyForm {
    /// The endpoint's own body with fields changed.
    Changed(Vec<BodyChange>),
    /// That body's text with bytes changed.
    Corrupted(Vec<(usize, u8)>, Option<usize>),
    Json(Value),
    Bytes(Vec<u8>),
    /// More than the 1 MiB a body may have.
    Huge,
    Empty,
}

fn body_form() -> impl Strategy<Value = BodyForm> {
    prop_oneof![
        8 => prop::collection::vec(body_change(), 0..4).prop_map(BodyForm::Changed),
        2 => (
            prop::collection::vec((any::<usize>(), 1u8..=255), 1..4),
            prop::option::of(any::<usize>())
        )
            .prop_map(|(flips, cut)| BodyForm::Corrupted(flips, cut)),
        2 => any_json().prop_map(BodyForm::Json),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(BodyForm::Bytes),
        1 => Just(BodyForm::Empty),
    ]
}

fn body_bytes(path_template: &str, form: &BodyForm, n: u64) -> Vec<u8> {
    let valid = valid_body(path_template, n);
    match form {
        BodyForm::Changed(changes) => {
            let mut v = valid;
            for c in changes {
                let Value::Object(map) = &mut v else { break };
                match c {
                    BodyChange::Set(k, value) => {
                        map.insert((*k).to_owned(), value.clone());
                    }
                    BodyChange::Remove(k) => {
                        map.remove(*k);
                    }
                    BodyChange::SetNested(outer, k, value) => {
                        if let Some(Value::Object(inner)) = map.get_mut(*outer) {
                            inner.insert((*k).to_owned(), value.clone());
                        }
                    }
                }
            }
            v.to_string().into_bytes()
        }
        BodyForm::Corrupted(flips, cut) => {
            let mut b = valid.to_string().into_bytes();
            for (at, mask) in flips {
                let n = b.len();
                b[at % n] ^= mask;
            }
            if let Some(cut) = cut {
                let keep = cut % (b.len() + 1);
                b.truncate(keep);
            }
            b
        }
        BodyForm::Json(v) => v.to_string().into_bytes(),
        BodyForm::Bytes(b) => b.clone(),
        BodyForm::Huge => {
            let mut b = br#"{"note":""#.to_vec();
            b.resize(pacta_server::MAX_BODY + 10, b'a');
            b.extend_from_slice(br#""}"#);
            b
        }
        BodyForm::Empty => Vec::new(),
    }
}

fn fill(template: &str, id: &str) -> String {
    template.replace("{}", id)
}

// ---------------------------------------------------------------------
// The properties

proptest! {
    #![proptest_config(config(400))]

    /// Every GET endpoint, with an id that exists or not, any query string
    /// and any of the headers the endpoints read.
    #[test]
    fn query_strings_on_every_get_endpoint_answer_problems(
        template in prop::sample::select(GETS),
        id in prop::sample::select(IDS),
        query in query(),
        headers in headers(),
    ) {
        let uri = format!("{}?{query}", fill(template, id));
        run(&Req { method: "GET".into(), uri, headers, body: None })?;
    }

    /// Every POST endpoint with a body that is right, nearly right, or
    /// anything; with or without a valid token.
    #[test]
    fn bodies_on_every_post_endpoint_answer_problems(
        template in prop::sample::select(POSTS),
        id in prop::sample::select(IDS),
        form in prop_oneof![30 => body_form(), 1 => Just(BodyForm::Huge)],
        headers in headers(),
        n in any::<u64>(),
    ) {
        let path = fill(template, id);
        let body = body_bytes(template, &form, n);
        run(&Req { method: "POST".into(), uri: path, headers, body: Some(body) })?;
    }
}

/// Any path on any endpoint (`id` filling its `{}`), with any method,
/// query, headers and body.
#[allow(clippy::too_many_arguments)]
fn any_path_case(
    template: &str,
    id: &str,
    suffix: Option<String>,
    method: &str,
    query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    form: &BodyForm,
) -> Result<(), TestCaseError> {
    let mut path = fill(template, id);
    if let Some(s) = suffix {
        path = format!("{path}/{s}");
    }
    let body = (method != "GET" && method != "HEAD").then(|| body_bytes(template, form, 0));
    let uri = match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    run(&Req {
        method: method.into(),
        uri,
        headers,
        body,
    })
}

fn method() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just("GET"), 3 => Just("POST"), 1 => Just("HEAD"), 1 => Just("PUT"),
        1 => Just("DELETE"), 1 => Just("PATCH"), 1 => Just("OPTIONS"),
    ]
}

/// An id segment whose percent-escapes decode to UTF-8.
fn utf8_id_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(IDS).prop_map(str::to_owned),
        2 => any::<String>().prop_map(|s| encode(s.as_bytes(), false)),
        1 => prop::sample::select(VALUES).prop_map(|v| encode(v.as_bytes(), true)),
        1 => prop::sample::select(vec!["%00", "%2F", "..", ".", "%2e%2e", "a%2Fb", "-", "--", "%C5%88"])
            .prop_map(str::to_owned),
        1 => (1usize..8000).prop_map(|n| "a".repeat(n)),
    ]
}

proptest! {
    #![proptest_config(config(400))]

    /// Any path whose escapes decode to UTF-8 — ids of any text, endpoints'
    /// paths extended, unknown paths — with any method, query, headers and
    /// body.
    #[test]
    fn any_utf8_path_and_method_answer_problems(
        template in prop::sample::select([GETS, POSTS].concat()),
        id in utf8_id_segment(),
        suffix in prop::option::of(utf8_id_segment()),
        method in method(),
        query in prop::option::of(query()),
        headers in headers(),
        form in body_form(),
    ) {
        any_path_case(template, &id, suffix, method, query, headers, &form)?;
    }

    /// The same with ids of any bytes, `%FF` and other escapes that do
    /// not decode to UTF-8 among them.
    #[test]
    fn any_path_and_method_answer_problems(
        template in prop::sample::select([GETS, POSTS].concat()),
        id in id_segment(),
        suffix in prop::option::of(id_segment()),
        method in method(),
        query in prop::option::of(query()),
        headers in headers(),
        form in body_form(),
    ) {
        any_path_case(template, &id, suffix, method, query, headers, &form)?;
    }
}

// ---------------------------------------------------------------------
// Over a real connection: what the `http` crate will not build in process
// (a path over 64 KiB, bytes that are not a URI) reaches the server only
// this way.

/// The address of `axum::serve` over the shared state, started once.
fn served() -> std::net::SocketAddr {
    let f = fixture();
    *f.addr.get_or_init(|| {
        let listener = f
            .runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let state = f.state.clone();
        f.runtime.spawn(async move {
            axum::serve(listener, app(state)).await.unwrap();
        });
        addr
    })
}

/// Writes raw bytes as a request and reads the answer's status line,
/// headers and body (the connection is closed after one request).
fn raw_request(target: &[u8], method: &str, body: Option<&[u8]>) -> Answer {
    let addr = served();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut req = Vec::new();
    req.extend_from_slice(method.as_bytes());
    req.push(b' ');
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(b) = body {
        req.extend_from_slice(
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            )
            .as_bytes(),
        );
    }
    req.extend_from_slice(b"\r\n");
    if let Some(b) = body {
        req.extend_from_slice(b);
    }
    // The server may answer (and close) before reading all of a request
    // it refuses; a failed write still leaves its answer to read.
    let _ = stream.write_all(&req);
    // The head first: a 2xx body is not looked at, and a live stream's
    // never ends. An error body ends with the connection.
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let answer = parse_response(&raw);
    if answer.status >= 400 {
        let _ = stream.read_to_end(&mut raw);
        return parse_response(&raw);
    }
    answer
}

fn parse_response(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw.get(split + 4..).unwrap_or_default().to_vec();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body);
    }
    Answer {
        status,
        content_type: header("content-type").unwrap_or_default(),
        body,
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..eol]).unwrap_or("0").trim();
        let n = usize::from_str_radix(size, 16).unwrap_or(0);
        if n == 0 || body.len() < eol + 2 + n {
            break;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + n]);
        body = &body[(eol + 4 + n).min(body.len())..];
    }
    out
}

/// A request target as bytes on the wire: a path of an endpoint with an
/// id of any bytes — raw, not only percent-encoded — or a very long one.
fn wire_target() -> impl Strategy<Value = Vec<u8>> {
    let id = prop_oneof![
        3 => id_segment().prop_map(String::into_bytes),
        // Any bytes but CR and LF, which would end the request line: the
        // rest would be another request, not another target.
        2 => prop::collection::vec(any::<u8>().prop_filter("not CR or LF", |b| !matches!(b, b'\r' | b'\n')), 1..12),
        1 => prop::sample::select(vec![65_000usize, 66_000, 70_000, 100_000])
            .prop_map(|n| vec![b'a'; n]),
    ];
    (
        prop::sample::select([GETS, POSTS].concat()),
        id,
        prop::option::of(query()),
    )
        .prop_map(|(template, id, query)| {
            let (before, after) = template.split_once("{}").unwrap_or((template, ""));
            let mut t = before.as_bytes().to_vec();
            if template.contains("{}") {
                t.extend_from_slice(&id);
                t.extend_from_slice(after.as_bytes());
            }
            if let Some(q) = query {
                t.push(b'?');
                t.extend_from_slice(q.as_bytes());
            }
            t
        })
}

proptest! {
    #![proptest_config(config(120))]

    /// Request targets the `http` crate would not build, sent as bytes:
    /// bytes outside the URI grammar, percent-escapes of non-UTF-8, paths
    /// over 64 KiB.
    #[test]
    #[ignore = "hyper answers two kinds of request target itself, before Pacta sees \
                them, with an empty body rather than a problem: one over 64 KiB (414) \
                and one with bytes outside the URI grammar (a raw space, DEL, '#', a \
                byte over 0x7F: 400). Pacta's own rejections (%FF paths, targets over \
                8 KiB) are problems, as any_path_and_method_answer_problems shows"]
    fn any_request_target_on_the_wire_answers_problems(
        target in wire_target(),
        post in any::<bool>(),
    ) {
        let (method, body) = if post { ("POST", Some(b"{}".as_slice())) } else { ("GET", None) };
        let answer = raw_request(&target, method, body);
        let shown = String::from_utf8_lossy(&target[..target.len().min(200)]).into_owned();
        check(&format!("{method} {shown} ({} bytes)", target.len()), false, &answer)?;
    }
}
