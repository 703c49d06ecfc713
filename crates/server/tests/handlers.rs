//! Every endpoint and every error status, through `tower::ServiceExt::oneshot`.

use std::sync::{Arc, OnceLock};

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pacta_registry::{Registry, Role};
use pacta_server::{AppState, app};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    admin: String,
    clerk: String,
    reader: String,
}

/// A registry with the bundled seeds and three tokens. Each test gets its
/// own: writes must not leak between tests.
fn fixture() -> Fixture {
    let (dir, state) = common::seeded();
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
    let reader = state
        .tokens
        .add(&slug("viewer"), Role::Reader, None)
        .unwrap();
    Fixture {
        _dir: dir,
        state,
        admin,
        clerk,
        reader,
    }
}

struct Answer {
    status: StatusCode,
    content_type: String,
    /// The `Idempotent-Replayed` header.
    replayed: Option<String>,
    body: Value,
    text: String,
}

async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
    let res = app(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let replayed = res
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        replayed,
        body,
        text,
    }
}

async fn get(f: &Fixture, uri: &str) -> Answer {
    call(&f.state, "GET", uri, None, None).await
}

async fn post(f: &Fixture, uri: &str, token: Option<&str>, body: Value) -> Answer {
    call(&f.state, "POST", uri, token, Some(body.to_string())).await
}

#[track_caller]
fn problem(a: &Answer, status: u16, kind: &str) {
    assert_eq!(a.status.as_u16(), status, "{}", a.text);
    assert_eq!(a.content_type, "application/problem+json", "{}", a.text);
    assert_eq!(a.body["status"], status);
    assert_eq!(
        a.body["type"],
        format!("urn:pacta:problem:{kind}"),
        "{}",
        a.text
    );
    assert!(
        a.body["title"].is_string() && a.body["detail"].is_string(),
        "{}",
        a.text
    );
}

fn head(f: &Fixture) -> u64 {
    f.state.registry.store().head().position
}

#[tokio::test]
async fn health_and_openapi() {
    let f = fixture();
    let a = get(&f, "/healthz").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["status"], "ok");
    let a = get(&f, "/livez").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["status"], "alive");
    let a = get(&f, "/readyz").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["writable"], true);
    assert_eq!(a.body["chain"], "ok");
    let a = get(&f, "/openapi.json").await;
    assert_eq!(a.status, StatusCode::OK);
    let paths = a.body["paths"].as_object().unwrap();
    for p in [
        "/api/v1/parties",
        "/api/v1/parties/{id}",
        "/api/v1/partnerships",
        "/api/v1/partnerships/{id}",
        "/api/v1/partnerships/{id}/events",
        "/api/v1/offers",
        "/api/v1/events",
        "/api/v1/events/stream",
        "/api/v1/audit/verify",
        "/api/v1/audit/terminations",
        "/api/v1/audit/terminations/{id}",
        "/api/v1/reports/annual",
        "/healthz",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    assert!(a.body["components"]["schemas"]["Problem"].is_object());
    // Every error answer is documented as problem+json.
    let mut errors = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    errors += 1;
                    let content = response["content"].as_object().unwrap();
                    let types: Vec<&String> = content.keys().collect();
                    assert_eq!(
                        types,
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(errors > 30, "{errors} error answers documented");
    // Dossiers come as JSON or as a printable page.
    let dossier = &paths["/api/v1/audit/terminations/{id}"]["get"]["responses"]["200"]["content"];
    assert!(
        dossier["application/json"]["schema"].is_object(),
        "{dossier}"
    );
    assert!(dossier["text/html"].is_object(), "{dossier}");
    problem(&get(&f, "/api/v1/nothing-here").await, 404, "not-found");
    // A request target too long for any endpoint: 414 problem+json.
    let long = format!("/api/v1/partnerships/{}", "a".repeat(20_000));
    problem(&get(&f, &long).await, 414, "uri-too-long");
    // What axum refuses before a handler runs is a problem too.
    problem(&get(&f, "/api/v1/partnerships/%FF").await, 400, "malformed");
    problem(&get(&f, "/api/v1/parties/%FF%FE").await, 400, "malformed");
    // Endpoints without parameters refuse any.
    for uri in [
        "/api/v1/parties?name=x",
        "/api/v1/parties/molde?x=1",
        "/api/v1/audit/terminations?party=x",
        "/livez?evidence=strict",
    ] {
        problem(&get(&f, uri).await, 400, "malformed");
    }
    // The document is valid OpenAPI in what the validator found missing:
    // every answer has a description.
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
            assert!(
                op["responses"]["400"].is_object(),
                "{method} {path} lacks 400"
            );
        }
    }
    let a = call(
        &f.state,
        "DELETE",
        "/api/v1/partnerships/liberecky-kraj--bursa",
        None,
        None,
    )
    .await;
    problem(&a, 405, "method-not-allowed");
}

#[tokio::test]
async fn parties() {
    let f = fixture();
    let a = get(&f, "/api/v1/parties").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body["items"].as_array().unwrap().len() > 70);
    let a = get(&f, "/api/v1/parties/Chuguev").await;
    assert_eq!(a.body["id"], "chuhuiv");
    problem(&get(&f, "/api/v1/parties/atlantis").await, 404, "not-found");

    let molde2 = json!({"id":"alesund","kind":"town","names":{"native":"Ålesund"},"country":"NO","note":"test"});
    problem(
        &post(&f, "/api/v1/parties", None, molde2.clone()).await,
        401,
        "unauthorized",
    );
    problem(
        &post(&f, "/api/v1/parties", Some("pacta_bogus"), molde2.clone()).await,
        401,
        "unauthorized",
    );
    problem(
        &post(&f, "/api/v1/parties", Some(&f.reader), molde2.clone()).await,
        403,
        "forbidden",
    );
    let a = post(&f, "/api/v1/parties", Some(&f.clerk), molde2.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["id"], "alesund");
    let recorded = get(&f, "/api/v1/parties/alesund").await;
    assert_eq!(recorded.body["names"]["native"], "Ålesund");
    problem(
        &post(&f, "/api/v1/parties", Some(&f.admin), molde2).await,
        409,
        "exists",
    );
    let before = head(&f);
    let bad = json!({"id":"x1","kind":"town","names":{"en":"X"},"country":"norway"});
    problem(
        &post(&f, "/api/v1/parties", Some(&f.admin), bad).await,
        422,
        "invalid",
    );
    let a = call(
        &f.state,
        "POST",
        "/api/v1/parties",
        Some(&f.admin),
        Some("{\"id\":".into()),
    )
    .await;
    problem(&a, 400, "malformed");
    assert_eq!(head(&f), before, "refused requests write nothing");
}

#[tokio::test]
async fn listing_partnerships() {
    let f = fixture();
    let a = get(
        &f,
        "/api/v1/partnerships?valid_on=2022-03-01&party=liberecky-kraj",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let items = a.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(
        items
            .iter()
            .all(|i| i["in_force"] != "no" && i["status"].is_string())
    );
    assert!(
        !items
            .iter()
            .any(|i| i["id"] == "liberecky-kraj--orenburg-oblast")
    );
    let a = get(&f, "/api/v1/partnerships?status=terminated").await;
    let ids: Vec<&str> = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "liberecky-kraj--orenburg-oblast",
            "liberecky-kraj--more-og-romsdal"
        ]
    );
    let a = get(&f, "/api/v1/partnerships?as_known_at=2000-01-01T00:00:00Z").await;
    assert_eq!(
        a.body["items"].as_array().unwrap().len(),
        0,
        "nothing was known in 2000"
    );
    problem(
        &get(&f, "/api/v1/partnerships?valid_on=2023-02-29").await,
        422,
        "invalid",
    );
    problem(
        &get(&f, "/api/v1/partnerships?valid_on=soon").await,
        400,
        "malformed",
    );
    problem(
        &get(&f, "/api/v1/partnerships?as_known_at=yesterday").await,
        400,
        "malformed",
    );
    // A parameter the endpoint does not take is refused, never ignored.
    for (query, field) in [
        ("q=plzen", "q"),
        ("valid_from=2020", "valid_from"),
        ("on=2022", "on"),
    ] {
        let a = get(&f, &format!("/api/v1/partnerships?{query}")).await;
        problem(&a, 400, "malformed");
        assert_eq!(a.body["field"], field, "{}", a.text);
        assert!(
            a.body["detail"].as_str().unwrap().contains(field),
            "{}",
            a.text
        );
    }
    let a = get(&f, "/api/v1/partnerships?as_known_at=9999-12-31T23:59:59Z").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    problem(
        &get(&f, "/api/v1/partnerships?status=dormant").await,
        400,
        "malformed",
    );
    problem(
        &get(&f, "/api/v1/partnerships?party=atlantis").await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn one_partnership_and_its_history() {
    let f = fixture();
    let a = get(
        &f,
        "/api/v1/partnerships/liberecky-kraj--orenburg-oblast?valid_on=2022-02-28",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["in_force"], "yes");
    assert_eq!(a.body["status"], "active");
    assert_eq!(a.body["signed"]["date"]["precision"], "day");
    let a = get(
        &f,
        "/api/v1/partnerships/liberecky-kraj--orenburg-oblast/events",
    )
    .await;
    let items = a.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    for e in items {
        for key in [
            "position",
            "version",
            "recorded_at",
            "recorded_by",
            "source",
            "hash",
            "prev_hash",
        ] {
            assert!(!e[key].is_null(), "history item lacks {key}: {e}");
        }
    }
    assert_eq!(a.body["total"], 6);
    assert!(a.body["next_after"].is_null(), "one page: {}", a.text);
    // In pages of two: the same six, each once, in order.
    let mut paged = Vec::new();
    let mut uri = "/api/v1/partnerships/liberecky-kraj--orenburg-oblast/events?limit=2".to_owned();
    loop {
        let page = get(&f, &uri).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let got = page.body["items"].as_array().unwrap();
        assert!(got.len() <= 2);
        paged.extend(got.iter().map(|e| e["position"].clone()));
        match page.body["next_after"].as_u64() {
            Some(next) => {
                uri = format!(
                    "{}&after={next}",
                    &uri[..uri.find("&after").unwrap_or(uri.len())]
                )
            }
            None => break,
        }
    }
    let all: Vec<Value> = items.iter().map(|e| e["position"].clone()).collect();
    assert_eq!(paged, all);
    for bad in ["limit=0", "limit=1001", "limit=-1", "after=x"] {
        let a = get(
            &f,
            &format!("/api/v1/partnerships/liberecky-kraj--orenburg-oblast/events?{bad}"),
        )
        .await;
        problem(&a, 400, "malformed");
    }
    problem(
        &get(&f, "/api/v1/partnerships/liberecky-kraj--atlantis").await,
        404,
        "not-found",
    );
    problem(
        &get(&f, "/api/v1/partnerships/liberecky-kraj--atlantis/events").await,
        404,
        "not-found",
    );
    problem(
        &get(
            &f,
            "/api/v1/partnerships/liberecky-kraj--bursa?as_known_at=2001-01-01T00:00:00Z",
        )
        .await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn opening_partnerships() {
    let f = fixture();
    let body = json!({"home":"liberecky-kraj","partner":"molde","initiative":"home_actor",
        "event":{"type":"ContactEstablished","date":"2026-05","note":"letter of intent"}});
    problem(
        &post(&f, "/api/v1/partnerships", None, body.clone()).await,
        401,
        "unauthorized",
    );
    let a = post(&f, "/api/v1/partnerships", Some(&f.clerk), body.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["id"], "liberecky-kraj--molde");
    assert_eq!(a.body["events"].as_array().unwrap().len(), 2);
    let shown = get(&f, "/api/v1/partnerships/liberecky-kraj--molde").await;
    assert_eq!(shown.body["status"], "negotiating");
    assert_eq!(shown.body["events"][0]["recorded_by"], "liberec-clerk");
    // The same pair again gets a new id.
    let a = post(&f, "/api/v1/partnerships", Some(&f.clerk), body).await;
    assert_eq!(a.body["id"], "liberecky-kraj--molde-2");
    // A clerk cannot write for another region.
    let other = json!({"home":"plzensky-kraj","partner":"molde"});
    problem(
        &post(&f, "/api/v1/partnerships", Some(&f.clerk), other).await,
        403,
        "forbidden",
    );
    let unknown = json!({"home":"liberecky-kraj","partner":"atlantis"});
    problem(
        &post(&f, "/api/v1/partnerships", Some(&f.admin), unknown).await,
        422,
        "invalid",
    );
    let header_twice = json!({"home":"liberecky-kraj","partner":"molde",
        "event":{"type":"PartnershipOpened","data":{"home":"liberecky-kraj","partner":"molde"}}});
    problem(
        &post(&f, "/api/v1/partnerships", Some(&f.admin), header_twice).await,
        422,
        "refused",
    );
    // The home side is Czech, and a party is not its own partner.
    let before = head(&f);
    let foreign_home = json!({"home":"molde","partner":"liberecky-kraj"});
    let a = post(&f, "/api/v1/partnerships", Some(&f.admin), foreign_home).await;
    problem(&a, 422, "invalid");
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("molde is in NO"),
        "{}",
        a.text
    );
    let itself = json!({"home":"liberecky-kraj","partner":"liberecky-kraj"});
    problem(
        &post(&f, "/api/v1/partnerships", Some(&f.admin), itself).await,
        422,
        "invalid",
    );
    assert_eq!(head(&f), before, "refused requests write nothing");
}

#[tokio::test]
async fn a_retried_opening_answers_the_partnership_it_opened() {
    let f = fixture();
    let body = json!({"home":"liberecky-kraj","partner":"molde","event_id":"01KAF0000000000000000000C1",
        "event":{"type":"ContactEstablished","date":"2026-05","note":"letter of intent"}});
    let first = post(&f, "/api/v1/partnerships", Some(&f.clerk), body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["id"], "liberecky-kraj--molde");
    assert_eq!(first.replayed, None);
    let before = head(&f);
    // A reader re-sending it is refused before anything is answered.
    problem(
        &post(&f, "/api/v1/partnerships", Some(&f.reader), body.clone()).await,
        403,
        "forbidden",
    );
    // The retry gets the same partnership and the original positions.
    let again = post(&f, "/api/v1/partnerships", Some(&f.clerk), body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.replayed.as_deref(), Some("true"));
    assert_eq!(again.body["id"], "liberecky-kraj--molde");
    assert_eq!(again.body["duplicate"], true);
    assert_eq!(again.body["events"], first.body["events"]);
    assert_eq!(head(&f), before, "a retry writes nothing");
    // Without a first event, the event id names the opening itself.
    let bare =
        json!({"home":"liberecky-kraj","partner":"molde","event_id":"01KAF0000000000000000000C2"});
    let first = post(&f, "/api/v1/partnerships", Some(&f.clerk), bare.clone()).await;
    assert_eq!(
        first.body["id"], "liberecky-kraj--molde-2",
        "{}",
        first.text
    );
    assert_eq!(
        first.body["events"][0]["event_id"],
        "01KAF0000000000000000000C2"
    );
    let again = post(&f, "/api/v1/partnerships", Some(&f.clerk), bare).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.body["id"], "liberecky-kraj--molde-2");
    assert_eq!(again.replayed.as_deref(), Some("true"));
    // That id named the opening: a request adding an event is no retry.
    let more = json!({"home":"liberecky-kraj","partner":"molde","event_id":"01KAF0000000000000000000C2",
        "event":{"type":"ContactEstablished","date":"2026-05"}});
    problem(
        &post(&f, "/api/v1/partnerships", Some(&f.clerk), more).await,
        409,
        "idempotency-mismatch",
    );
    // An event id stored in another kind of stream is no retry either.
    let party_event = f
        .state
        .registry
        .store()
        .stream(&pacta_domain::StreamId::parse("party/molde").unwrap())
        .unwrap()[0]
        .envelope
        .event_id;
    let taken =
        json!({"home":"liberecky-kraj","partner":"molde","event_id":party_event.to_string()});
    problem(
        &post(&f, "/api/v1/partnerships", Some(&f.admin), taken).await,
        409,
        "idempotency-mismatch",
    );
}

#[tokio::test]
async fn appending_events_and_every_refusal() {
    let f = fixture();
    let uri = "/api/v1/partnerships/liberecky-kraj--bursa/events";
    let version = |f: &Fixture| {
        f.state
            .registry
            .store()
            .stream_version(
                &pacta_domain::StreamId::parse("partnership/liberecky-kraj--bursa").unwrap(),
            )
            .unwrap()
    };
    let v = version(&f);
    // Undated: it counts from today, after the stagnation the source gave
    // no date for.
    let revive = json!({"type":"Revived","data":{"reason":"new contacts"},"expected_version":v,
        "event_id":"01KAF0000000000000000000RV"});
    let a = post(&f, uri, Some(&f.clerk), revive.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.replayed, None);
    assert_eq!(a.body["version"], v + 1);
    // A retry with the same event id is answered, not stored twice (nor
    // decided again: reviving the revived would be refused).
    let a = post(&f, uri, Some(&f.clerk), revive.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.replayed.as_deref(), Some("true"));
    assert_eq!(a.body["duplicate"], true);
    assert_eq!(a.body["version"], v + 1);
    assert_eq!(version(&f), v + 1);
    // The same event id with another event is no retry: 409, nothing
    // stored.
    let mut other = revive.clone();
    other["type"] = json!("Stagnated");
    other["date"] = json!("2026-04");
    let a = post(&f, uri, Some(&f.clerk), other).await;
    problem(&a, 409, "idempotency-mismatch");
    assert!(a.text.contains("differs"), "{}", a.text);
    assert_eq!(version(&f), v + 1);
    // Authorization comes first: a reader re-sending a stored event is
    // refused, not answered.
    problem(
        &post(&f, uri, Some(&f.reader), revive.clone()).await,
        403,
        "forbidden",
    );

    let before = head(&f);
    // A stale expected version: 409.
    let stale = json!({"type":"ActivityRecorded","date":"2026-03","data":{"kind":"visit"},"expected_version":v});
    let a = post(&f, uri, Some(&f.clerk), stale).await;
    problem(&a, 409, "conflict");
    assert_eq!(a.body["actual_version"], v + 1);
    // The lifecycle refuses: 422 naming the state and the allowed events.
    let a = post(
        &f,
        uri,
        Some(&f.clerk),
        json!({"type":"Signed","date":"2026-03-01","data":{"instrument":"cooperation_agreement"}}),
    )
    .await;
    problem(&a, 422, "refused");
    // It would fold after the stagnation since [2011-11-01..] and the
    // attestation of [2022-03-01..] (each at its first day), and before
    // today's revival.
    assert_eq!(a.body["state"], "stagnating");
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("it would follow Attested dated [2022-03-01..] (bounded at"),
        "{}",
        a.text
    );
    assert!(
        a.body["allowed"]
            .as_array()
            .unwrap()
            .contains(&json!("Terminated"))
    );
    // An impossible date: 422.
    problem(
        &post(
            &f,
            uri,
            Some(&f.clerk),
            json!({"type":"ActivityRecorded","date":"2023-02-29","data":{"kind":"visit"}}),
        )
        .await,
        422,
        "invalid",
    );
    // A note that is no longer short: 422.
    problem(
        &post(
            &f,
            uri,
            Some(&f.clerk),
            json!({"type":"ActivityRecorded","date":"2026-03","data":{"kind":"visit"},
                "note":"x".repeat(pacta_domain::event::MAX_NOTE_CHARS + 1)}),
        )
        .await,
        422,
        "invalid",
    );
    // A missing field its type needs: 422.
    problem(
        &post(
            &f,
            uri,
            Some(&f.clerk),
            json!({"type":"Terminated","date":"2026-03-01","data":{"mode":"mutual"}}),
        )
        .await,
        422,
        "invalid",
    );
    // Valid JSON the contract does not take is 422 naming the field's
    // path: a wrong type, an unknown field, a wrong value deep in `data`.
    for (body, field) in [
        (json!({"type":"ActivityRecorded","date":5}), "date"),
        (json!({"type":5}), "type"),
        (json!({"type":"ActivityRecorded","colour":"red"}), "colour"),
        (
            json!({"type":"ActivityRecorded","source":{"title":"t","pages":3}}),
            "source.pages",
        ),
        (
            json!({"type":"ActivityRecorded","data":{"kind":"visit","place":7}}),
            "data.place",
        ),
        (
            json!({"type":"ActivityRecorded","expected_version":1.5}),
            "expected_version",
        ),
    ] {
        let a = post(&f, uri, Some(&f.clerk), body.clone()).await;
        problem(&a, 422, "invalid");
        assert_eq!(a.body["field"], field, "{body}: {}", a.text);
        assert!(!a.text.contains("not valid JSON"), "{}", a.text);
    }
    // Malformed JSON, or JSON followed by more: 400.
    problem(
        &call(
            &f.state,
            "POST",
            uri,
            Some(&f.clerk),
            Some("{\"type\":\"Attested\"} {}".into()),
        )
        .await,
        400,
        "malformed",
    );
    problem(
        &call(
            &f.state,
            "POST",
            uri,
            Some(&f.clerk),
            Some("{not json".into()),
        )
        .await,
        400,
        "malformed",
    );
    // Over 1 MiB: 413.
    let big =
        json!({"type":"ActivityRecorded","data":{"kind":"visit"},"note":"x".repeat(1_100_000)});
    problem(&post(&f, uri, Some(&f.clerk), big).await, 413, "too-large");
    // Under 1 MiB, every field within its limit, but a record larger than
    // the log takes (64 KiB): 413.
    let big = json!({"type":"ActivityRecorded","data":{"kind":"visit",
        "participants":vec!["x".repeat(300); 200],"areas":vec!["x".repeat(300); 200]}});
    problem(&post(&f, uri, Some(&f.clerk), big).await, 413, "too-large");
    // Unknown partnership: 404; another region's: 403; no token: 401.
    problem(
        &post(
            &f,
            "/api/v1/partnerships/liberecky-kraj--atlantis/events",
            Some(&f.admin),
            json!({"type":"Attested"}),
        )
        .await,
        404,
        "not-found",
    );
    problem(
        &post(
            &f,
            "/api/v1/partnerships/plzensky-kraj--bergamo/events",
            Some(&f.clerk),
            json!({"type":"Attested"}),
        )
        .await,
        403,
        "forbidden",
    );
    problem(
        &post(&f, uri, None, json!({"type":"Attested"})).await,
        401,
        "unauthorized",
    );
    assert_eq!(head(&f), before, "no refused request wrote anything");
}

#[tokio::test]
async fn offers() {
    let f = fixture();
    let a = get(&f, "/api/v1/offers?status=published").await;
    assert_eq!(a.status, StatusCode::OK);
    let items = a.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 51);
    assert!(items.iter().all(|o| o["party"]["name"].is_string()));
    problem(
        &get(&f, "/api/v1/offers?status=open").await,
        400,
        "malformed",
    );
    let offer = json!({"id":"molde-2026-11-01","event":{"type":"OfferPublished","date":"2026-11-01",
        "data":{"party":"molde","home":"smo-cr","interests":["culture"]},"source":{"title":"notice"}}});
    let a = post(&f, "/api/v1/offers", Some(&f.admin), offer).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let matched = json!({"type":"OfferMatched","data":{"partnership":"ceska-lipa--molde"}});
    let a = post(
        &f,
        "/api/v1/offers/molde-2026-11-01/events",
        Some(&f.admin),
        matched.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    problem(
        &post(
            &f,
            "/api/v1/offers/molde-2026-11-01/events",
            Some(&f.admin),
            matched,
        )
        .await,
        422,
        "refused",
    );
    problem(
        &post(
            &f,
            "/api/v1/offers/molde-2026-11-01/events",
            Some(&f.clerk),
            json!({"type":"OfferLapsed"}),
        )
        .await,
        403,
        "forbidden",
    );
    let a = get(&f, "/api/v1/offers?status=matched").await;
    assert_eq!(a.body["items"][0]["partnership"], "ceska-lipa--molde");
}

#[tokio::test]
async fn the_global_log_in_pages() {
    let f = fixture();
    let a = get(&f, "/api/v1/events?after=0&limit=50").await;
    assert_eq!(a.status, StatusCode::OK);
    let items = a.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert_eq!(items[0]["position"], 1);
    assert_eq!(a.body["next_after"], 50);
    let a = get(&f, "/api/v1/events?after=190&limit=1000").await;
    assert_eq!(
        a.body["items"].as_array().unwrap().len() as u64,
        head(&f) - 190
    );
    assert!(a.body["next_after"].is_null());
    problem(&get(&f, "/api/v1/events?limit=0").await, 400, "malformed");
    problem(&get(&f, "/api/v1/events?after=-3").await, 400, "malformed");
    problem(
        &get(&f, "/api/v1/events?types=Bogus").await,
        400,
        "malformed",
    );
    problem(
        &get(&f, "/api/v1/events?stream_kind=town").await,
        400,
        "malformed",
    );
}

#[tokio::test]
async fn log_readers_get_derived_facts_and_filters() {
    let f = fixture();
    // Every record carries `derived`, outside the hashed record.
    let all = get(&f, "/api/v1/events?after=0&limit=1000").await;
    let items = all.body["items"].as_array().unwrap();
    let find = |stream: &str, ty: &str| {
        items
            .iter()
            .find(|e| e["stream"] == stream && e["type"] == ty)
            .unwrap_or_else(|| panic!("{stream} {ty}"))
            .clone()
    };
    // Ha Tinh's stagnation [2009-04-22..], reported by 001 dated
    // [2022-03-01..]: its open end bounded at the seed data's record day.
    let stagnation = find("partnership/liberecky-kraj--ha-tinh", "Stagnated");
    let d = &stagnation["derived"];
    assert_eq!(d["earliest"], "2009-04-22");
    assert_eq!(d["latest"], "2026-11-28");
    assert_eq!(d["open_end"], true);
    assert_eq!(d["precision"], "range");
    assert_eq!(
        (&d["home"], &d["partner"]),
        (&json!("liberecky-kraj"), &json!("ha-tinh"))
    );
    // A half-year: 2011-40 is the first half of 2011.
    let visit = items
        .iter()
        .find(|e| e["stream"] == "partnership/liberecky-kraj--ha-tinh" && e["date"] == "2011-40")
        .unwrap();
    assert_eq!(
        (&visit["derived"]["earliest"], &visit["derived"]["latest"]),
        (&json!("2011-01-01"), &json!("2011-06-30"))
    );
    // A party's event has no home or partner; an undated one takes
    // effect on the day it was recorded, and has no precision.
    let party = find("party/molde", "PartyRegistered");
    assert!(party["derived"]["home"].is_null() && party["derived"]["precision"].is_null());
    let recorded_day = &party["recorded_at"].as_str().unwrap()[..10];
    assert_eq!(
        (&party["derived"]["earliest"], &party["derived"]["latest"]),
        (&json!(recorded_day), &json!(recorded_day))
    );
    // The record without `derived` is exactly the exported, hashed record.
    let record = pacta_server::api::record_in(stagnation.clone()).unwrap();
    assert_eq!(record.hash.to_string(), stagnation["hash"]);

    // Filters: by type and by stream kind; positions stay global, and a
    // page ends after the last record it looked at.
    let ended = get(&f, "/api/v1/events?types=Terminated,Suspended&limit=1000").await;
    let types: Vec<&str> = ended.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        !types.is_empty()
            && types
                .iter()
                .all(|t| *t == "Terminated" || *t == "Suspended"),
        "{types:?}"
    );
    let parties = get(&f, "/api/v1/events?stream_kind=party&limit=5").await;
    let page = parties.body["items"].as_array().unwrap();
    assert_eq!(page.len(), 5);
    assert!(
        page.iter()
            .all(|e| e["stream"].as_str().unwrap().starts_with("party/"))
    );
    let next = parties.body["next_after"].as_u64().unwrap();
    assert_eq!(next, page[4]["position"].as_u64().unwrap());
    let rest = get(
        &f,
        &format!("/api/v1/events?stream_kind=party&after={next}&limit=1"),
    )
    .await;
    assert!(rest.body["items"][0]["position"].as_u64().unwrap() > next);
}

#[tokio::test]
async fn the_stream_refuses_positions_beyond_the_head() {
    let f = fixture();
    let beyond = head(&f) + 1;
    problem(
        &get(&f, &format!("/api/v1/events/stream?after={beyond}")).await,
        400,
        "malformed",
    );
    problem(
        &get(&f, "/api/v1/events/stream?after=9223372036854775808").await,
        400,
        "malformed",
    );
    let req = Request::builder()
        .uri("/api/v1/events/stream")
        .header("last-event-id", beyond.to_string())
        .body(Body::empty())
        .unwrap();
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_stream_catches_up_then_follows() {
    let f = fixture();
    let req = Request::builder()
        .uri("/api/v1/events/stream")
        .header("last-event-id", "195")
        .body(Body::empty())
        .unwrap();
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = res.into_body();
    let mut ids: Vec<u64> = Vec::new();
    let mut text = String::new();
    let target = head(&f) + 1;
    let mut appended = false;
    while ids.last().copied() != Some(target) {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("a frame in time")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
            ids = text
                .lines()
                .filter_map(|l| l.strip_prefix("id: "))
                .map(|n| n.parse().unwrap())
                .collect();
        }
        if !appended && ids.last().copied() == Some(target - 1) {
            // Caught up: now another client appends.
            let a = post(
                &f,
                "/api/v1/partnerships/liberecky-kraj--bursa/events",
                Some(&f.clerk),
                json!({"type":"ActivityRecorded","date":"2026-06","data":{"kind":"letter"}}),
            )
            .await;
            assert_eq!(a.status, StatusCode::CREATED);
            appended = true;
        }
    }
    assert_eq!(ids, (196..=target).collect::<Vec<_>>());
    assert!(text.contains("event: record"));
}

#[tokio::test]
async fn verification() {
    let f = fixture();
    let a = get(&f, "/api/v1/audit/verify").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["ok"], true);
    assert_eq!(a.body["head_position"], head(&f));
    assert!(a.body["first_bad_position"].is_null());
    let hash = a.body["head_hash"].as_str().unwrap().to_owned();
    let ok = get(
        &f,
        &format!("/api/v1/audit/verify?position={}&hash={hash}", head(&f)),
    )
    .await;
    assert_eq!(ok.body["ok"], true);
    let wrong = get(&f, &format!("/api/v1/audit/verify?position=3&hash={hash}")).await;
    assert_eq!(wrong.body["ok"], false);
    assert!(
        wrong.body["reason"]
            .as_str()
            .unwrap()
            .contains("position 3")
    );
    problem(
        &get(&f, "/api/v1/audit/verify?position=3").await,
        400,
        "malformed",
    );
    problem(
        &get(&f, "/api/v1/audit/verify?position=3&hash=zz").await,
        400,
        "malformed",
    );
}

#[tokio::test]
async fn reads_are_public_and_writes_record_the_token_name() {
    let f = fixture();
    static BODY: OnceLock<Value> = OnceLock::new();
    let body = BODY.get_or_init(
        || json!({"type":"Attested","date":"2026-01-15","source":{"title":"annual report"}}),
    );
    let a = post(
        &f,
        "/api/v1/partnerships/plzensky-kraj--bergamo/events",
        Some(&f.admin),
        body.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let h = get(&f, "/api/v1/partnerships/plzensky-kraj--bergamo/events").await;
    let last = h.body["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["recorded_by"], "root");
    assert_eq!(last["type"], "Attested");
}

async fn get_html(f: &Fixture, uri: &str) -> Answer {
    let req = Request::builder()
        .uri(uri)
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Answer {
        status,
        content_type,
        replayed: None,
        body: Value::Null,
        text,
    }
}

#[tokio::test]
async fn the_orenburg_dossier() {
    let f = fixture();
    let a = get(
        &f,
        "/api/v1/audit/terminations/liberecky-kraj--orenburg-oblast",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let d = &a.body;
    assert_eq!(d["id"], "liberecky-kraj--orenburg-oblast");
    let t = &d["termination"];
    assert_eq!(t["event"]["date"]["date"], "2022-03-01");
    assert_eq!(t["event"]["date"]["precision"], "day");
    assert_eq!(t["mode"], "denounced");
    assert!(t["reason"].as_str().unwrap().contains("Ukraine"));
    assert_eq!(
        t["event"]["source"]["reference"],
        "001_3457ff16fb4a1bf4.txt"
    );
    assert_eq!(t["notice"]["title"], "Ukončení spolupráce");
    assert_eq!(t["event"]["recorded_by"], "seed");
    assert_eq!(t["event"]["hash"].as_str().unwrap().len(), 64);
    let preceding: Vec<&str> = d["preceding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        preceding.contains(&"Signed") && preceding.contains(&"Suspended"),
        "{preceding:?}"
    );
    assert_eq!(a.body["verification"]["ok"], true);
    assert_eq!(a.body["verification"]["head_position"], head(&f));
    // Only the 2012 signing shows it alive before the 2022 denunciation
    // (001, Orenburg › Geneze spolupráce): presumed in force in between,
    // uncertain when read strictly.
    let b = &d["before_end"];
    assert_eq!(b["last_evidence"]["type"], "Signed");
    assert_eq!(b["last_evidence"]["date"], "2012-05-24");
    assert_eq!(
        (&b["unevidenced_from"], &b["unevidenced_to"]),
        (&json!("2012-05-25"), &json!("2022-02-28"))
    );
    assert_eq!(
        (&b["in_force"], &b["strict"]),
        (&json!("yes"), &json!(false))
    );
    let strict = get(
        &f,
        "/api/v1/audit/terminations/liberecky-kraj--orenburg-oblast?evidence=strict",
    )
    .await;
    let b = &strict.body["before_end"];
    assert_eq!(
        (&b["in_force"], &b["strict"]),
        (&json!("uncertain"), &json!(true))
    );
    assert!(b["note"].as_str().unwrap().contains("read strictly"), "{b}");
    problem(
        &get(&f, "/api/v1/audit/terminations?evidence=lenient").await,
        400,
        "malformed",
    );

    let all = get(&f, "/api/v1/audit/terminations").await;
    let ids: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "liberecky-kraj--orenburg-oblast",
            "liberecky-kraj--more-og-romsdal"
        ]
    );

    let page = get_html(
        &f,
        "/api/v1/audit/terminations/liberecky-kraj--orenburg-oblast?lang=en",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type.starts_with("text/html"));
    for needle in [
        "<h1>Termination dossiers</h1>",
        "<h2>Liberec Region – Orenburg Oblast</h2>",
        "<table>",
        "denounced",
        "intact",
        "Log head",
    ] {
        assert!(page.text.contains(needle), "the page lacks {needle}");
    }
    problem(
        &get(&f, "/api/v1/audit/terminations/liberecky-kraj--bursa").await,
        404,
        "not-found",
    );
}

/// Partner ids of an in-force list.
fn partners(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["partner"]["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn the_yearly_report_worked_out_by_hand() {
    let f = fixture();
    // Liberec, 2022: Orenburg suspended (24 Feb – 1 Mar) and denounced
    // (1 Mar); Møre og Romsdal's end is known only to lie after 2001-11-28.
    let a = get(&f, "/api/v1/reports/annual?year=2022&party=liberecky-kraj").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let s = &a.body["sections"][0];
    assert_eq!(s["home"]["id"], "liberecky-kraj");
    assert_eq!(
        partners(&s["in_force_start"]),
        ["bursa", "ha-tinh", "orenburg-oblast", "valle-d-aosta"]
    );
    assert_eq!(partners(&s["uncertain_start"]), ["more-og-romsdal"]);
    assert_eq!(
        partners(&s["in_force_end"]),
        ["bursa", "ha-tinh", "valle-d-aosta"]
    );
    assert_eq!(partners(&s["uncertain_end"]), ["more-og-romsdal"]);
    assert_eq!(partners(&s["suspended"]), ["orenburg-oblast"]);
    assert_eq!(partners(&s["terminated"]), ["orenburg-oblast"]);
    for list in ["signed", "stagnated", "revived", "activities", "offers"] {
        assert_eq!(s[list].as_array().unwrap().len(), 0, "{list}");
    }
    assert_eq!(
        s["terminated"][0]["event"]["source"]["title"],
        "Uzavřená dohoda"
    );

    // Liberec, 2011: Bursa signed on 1 November after a visit; the Ha Tinh
    // meeting planned for the first half did not take place.
    let a = get(&f, "/api/v1/reports/annual?year=2011&party=liberecky-kraj").await;
    let s = &a.body["sections"][0];
    assert_eq!(partners(&s["in_force_start"]), ["ha-tinh", "valle-d-aosta"]);
    assert_eq!(
        partners(&s["in_force_end"]),
        ["bursa", "ha-tinh", "valle-d-aosta"]
    );
    assert_eq!(partners(&s["signed"]), ["bursa"]);
    assert_eq!(partners(&s["activities"]), ["bursa", "ha-tinh"]);

    // The notice board, 2011: eight notices of towns seeking a partner.
    let a = get(&f, "/api/v1/reports/annual?year=2011&party=smo-cr").await;
    let offers = a.body["sections"][0]["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 8);
    assert!(
        offers
            .iter()
            .all(|o| o["event"]["source"]["reference"] == "003_243f8dd02ec98ead.txt")
    );

    // Every home party at once, and as known before anything was recorded.
    let a = get(&f, "/api/v1/reports/annual?year=2011").await;
    assert!(a.body["sections"].as_array().unwrap().len() >= 4);
    let a = get(
        &f,
        "/api/v1/reports/annual?year=2011&as_known_at=2020-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(a.body["sections"].as_array().unwrap().len(), 0);

    let page = get_html(
        &f,
        "/api/v1/reports/annual?year=2022&party=liberecky-kraj&lang=en",
    )
    .await;
    assert!(
        page.text
            .contains("<h1>International cooperation in 2022</h1>")
    );
    assert!(page.text.contains("Orenburg Oblast"));
    problem(&get(&f, "/api/v1/reports/annual").await, 400, "malformed");
    problem(
        &get(&f, "/api/v1/reports/annual?year=twenty").await,
        400,
        "malformed",
    );
    problem(
        &get(&f, "/api/v1/reports/annual?year=2022&party=atlantis").await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn expensive_reads_wait_their_turn_then_answer_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let registry = std::thread::spawn(move || Registry::open(path).unwrap())
        .join()
        .unwrap();
    let limits = pacta_server::Limits {
        expensive_reads: 1,
        expensive_wait: std::time::Duration::from_millis(20),
        ..Default::default()
    };
    let (state, _shutdown) = AppState::with_limits(Arc::new(registry), limits).unwrap();
    // Every turn taken (as by slow reports in flight).
    let _held = state.expensive.clone().try_acquire_owned().unwrap();
    for uri in [
        "/api/v1/reports/annual?year=2022",
        "/api/v1/audit/verify",
        "/api/v1/audit/terminations",
    ] {
        let response = app(state.clone())
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(response.headers()["retry-after"], "2", "{uri}");
    }
    drop(_held);
    let response = app(state.clone())
        .oneshot(
            Request::get("/api/v1/reports/annual?year=2022")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_long_history_is_bounded_in_every_answer() {
    let f = fixture();
    let uri = "/api/v1/partnerships/liberecky-kraj--bursa";
    let before = get(&f, uri).await.body["events_total"].as_u64().unwrap();
    for i in 0..105 {
        let a = post(
            &f,
            &format!("{uri}/events"),
            Some(&f.admin),
            json!({"type":"ActivityRecorded","date":"2025-01","data":{"kind":"letter"},"note":format!("letter {i}")}),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }
    let state = get(&f, uri).await;
    let total = state.body["events_total"].as_u64().unwrap();
    assert_eq!(total, before + 105);
    let events = state.body["events"].as_array().unwrap();
    assert_eq!(events.len(), pacta_server::api::DETAIL_EVENTS);
    assert!(
        events.iter().any(|e| e["note"] == "letter 104")
            && !events.iter().any(|e| e["note"] == "letter 0"),
        "the latest are kept"
    );
    let history = get(&f, &format!("{uri}/events")).await;
    assert_eq!(history.body["items"].as_array().unwrap().len(), 100);
    assert!(history.body["next_after"].is_u64());
    assert!(history.body["total"].as_u64().unwrap() > 105);
}

#[tokio::test]
async fn a_party_cannot_take_another_partys_names() {
    let f = fixture();
    let before = head(&f);
    let evil = json!({"id":"zzz-evil","names":{"native":"Plzeň Region"},
        "aliases":["liberecky-kraj","ustecky-kraj"],"kind":"town","country":"DE"});
    let a = post(&f, "/api/v1/parties", Some(&f.clerk), evil).await;
    problem(&a, 422, "invalid");
    assert!(
        a.text.contains("plzensky-kraj") || a.text.contains("liberecky-kraj"),
        "names the owner: {}",
        a.text
    );
    assert_eq!(head(&f), before, "nothing stored");
    let a = get(&f, "/api/v1/partnerships?party=liberecky-kraj").await;
    assert!(!a.body["items"].as_array().unwrap().is_empty());
    let a = get(&f, "/api/v1/parties/Plze%C5%88%20Region").await;
    assert_eq!(a.body["id"], "plzensky-kraj", "{}", a.text);
}

#[tokio::test]
async fn admins_manage_tokens_while_the_server_runs() {
    let f = fixture();
    let tokens = "/api/v1/admin/tokens";
    let new_clerk = json!({"name":"liberec-clerk-2","role":"clerk","party":"liberecky-kraj"});
    // Only admins.
    problem(
        &post(&f, tokens, Some(&f.clerk), new_clerk.clone()).await,
        403,
        "forbidden",
    );
    problem(
        &call(&f.state, "GET", tokens, Some(&f.reader), None).await,
        403,
        "forbidden",
    );
    problem(
        &call(&f.state, "GET", tokens, None, None).await,
        401,
        "unauthorized",
    );
    let a = post(&f, tokens, Some(&f.admin), new_clerk.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let token = a.body["token"].as_str().unwrap().to_owned();
    assert_eq!(a.body["role"], "clerk");
    // It works at once...
    let activity = json!({"type":"ActivityRecorded","date":"2025-02","data":{"kind":"letter"}});
    let uri = "/api/v1/partnerships/liberecky-kraj--bursa/events";
    let a = post(&f, uri, Some(&token), activity.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    // ...names are never reused, and a clerk needs a real party.
    problem(
        &post(&f, tokens, Some(&f.admin), new_clerk).await,
        409,
        "exists",
    );
    let a = post(
        &f,
        tokens,
        Some(&f.admin),
        json!({"name":"x-clerk","role":"clerk","party":"atlantis"}),
    )
    .await;
    problem(&a, 422, "invalid");
    problem(
        &post(
            &f,
            tokens,
            Some(&f.admin),
            json!({"name":"x","role":"root"}),
        )
        .await,
        422,
        "invalid",
    );
    // Revoked: refused at once, and listed as revoked.
    let a = call(
        &f.state,
        "DELETE",
        &format!("{tokens}/liberec-clerk-2"),
        Some(&f.admin),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.body["revoked_at"].is_string());
    problem(
        &post(&f, uri, Some(&token), activity).await,
        401,
        "unauthorized",
    );
    let list = call(&f.state, "GET", tokens, Some(&f.admin), None).await;
    let listed = list.body["items"].as_array().unwrap();
    assert!(
        listed.iter().all(|t| t.get("token").is_none()),
        "never the tokens"
    );
    assert!(
        listed
            .iter()
            .any(|t| t["name"] == "liberec-clerk-2" && t["revoked_at"].is_string())
    );
    problem(
        &call(
            &f.state,
            "DELETE",
            &format!("{tokens}/nobody"),
            Some(&f.admin),
            None,
        )
        .await,
        404,
        "not-found",
    );
    // An admin does not revoke the token it is using.
    let own = format!("{tokens}/root");
    problem(
        &call(&f.state, "DELETE", &own, Some(&f.admin), None).await,
        409,
        "token-in-use",
    );
    // A record time before the year 1 asks about no record: answered.
    let a = get(
        &f,
        "/api/v1/partnerships?as_known_at=0001-01-01T02:16:51.853591%2B22:34",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.body["items"].as_array().unwrap().is_empty());
}

/// What each answer rests on, from the bundled sources (seeds/ cites them).
#[tokio::test]
async fn answers_say_what_the_evidence_says() {
    let f = fixture();
    let state = |id: &str, q: &str| {
        let uri = format!("/api/v1/partnerships/{id}?{q}");
        let f = &f;
        async move {
            let a = get(f, &uri).await;
            assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text);
            a.body
        }
    };
    // Nový Bor–Mědnogorsk rests on its 2007 signing alone (source 003).
    let b = state("novy-bor--mednogorsk", "valid_on=2022-03-01").await;
    assert_eq!(b["in_force"], "yes");
    assert_eq!(b["evidence"], "presumed");
    assert_eq!(b["last_evidence"]["type"], "Signed");
    let b = state(
        "novy-bor--mednogorsk",
        "valid_on=2022-03-01&evidence=strict",
    )
    .await;
    assert_eq!(b["in_force"], "uncertain");
    assert_eq!(b["strict"], true);
    // Orenburg (001): signed 2012-05-24, its last evidence: evidenced on
    // that day, presumed the day after (until its end in 2022).
    let b = state("liberecky-kraj--orenburg-oblast", "valid_on=2012-05-24").await;
    assert_eq!(b["evidence"], "evidenced", "{b}");
    let b = state("liberecky-kraj--orenburg-oblast", "valid_on=2012-05-25").await;
    assert_eq!(b["evidence"], "presumed", "{b}");
    // Inside the suspension [2022-02-24..2022-03-01]: it is pending, and
    // suspended is a possible status.
    let b = state("liberecky-kraj--orenburg-oblast", "valid_on=2022-02-26").await;
    assert_eq!(b["status"], "active");
    let possible: Vec<&str> = b["possible_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(possible.contains(&"suspended"), "{b}");
    assert!(
        b["pending"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "Suspended"),
        "{b}"
    );
    // Ha Tinh (001): the stagnation since [2009-04-22..] shows as pending.
    let b = state("liberecky-kraj--ha-tinh", "valid_on=2015-01-01").await;
    assert_eq!(b["status"], "active");
    assert_eq!(b["possible_statuses"], json!(["active", "stagnating"]));
    // The pending stagnation names where its open end was bounded, and
    // why: its source (001) is itself dated only [2022-03-01..], so the
    // seed data's record day.
    let stagnation = &b["pending"][0];
    assert_eq!(stagnation["type"], "Stagnated");
    assert_eq!(stagnation["bounded_by"], "recorded", "{stagnation}");
    assert!(stagnation["bounded_at"].is_string(), "{stagnation}");
    // ...and a termination in 2025 is not refused for where that open
    // stagnation was bounded.
    let a = post(
        &f,
        "/api/v1/partnerships/liberecky-kraj--ha-tinh/events",
        Some(&f.clerk),
        json!({"type":"Terminated","date":"2025-06-30","data":{"mode":"mutual","reason":"no contact for years"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let b = state("liberecky-kraj--ha-tinh", "valid_on=2025-07-01").await;
    assert_eq!(b["in_force"], "no");
    assert_eq!(b["status"], "terminated");
    // Listings carry the evidence and the strict reading too.
    let a = get(
        &f,
        "/api/v1/partnerships?valid_on=2022-03-01&party=novy-bor&evidence=strict",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let rows = a.body["items"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["id"] == "novy-bor--mednogorsk"
            && r["in_force"] == "uncertain"
            && r["evidence"] == "presumed"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn the_report_lists_what_possibly_happened_in_the_year() {
    let f = fixture();
    // Ha Tinh's stagnation, dated [2009-04-22..] (source 001), possibly
    // happened in 2015: listed so, not dropped.
    let a = get(&f, "/api/v1/reports/annual?year=2015&party=liberecky-kraj").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let section = &a.body["sections"][0];
    let possibly = section["possibly"].as_array().unwrap();
    assert!(
        possibly
            .iter()
            .any(|l| l["id"] == "liberecky-kraj--ha-tinh" && l["event"]["type"] == "Stagnated"),
        "{}",
        section
    );
    assert!(section["stagnated"].as_array().unwrap().is_empty());
    // Strictly read, a presumed yes is perhaps in force.
    let lenient = get(&f, "/api/v1/reports/annual?year=2022&party=novy-bor").await;
    let strict = get(
        &f,
        "/api/v1/reports/annual?year=2022&party=novy-bor&evidence=strict",
    )
    .await;
    let ids = |a: &Answer, list: &str| -> Vec<String> {
        a.body["sections"][0][list]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(ids(&lenient, "in_force_end").contains(&"novy-bor--mednogorsk".to_owned()));
    assert!(ids(&strict, "uncertain_end").contains(&"novy-bor--mednogorsk".to_owned()));
    assert_eq!(strict.body["strict"], true);
}

#[tokio::test]
async fn nothing_is_in_force_for_a_party_before_it_existed() {
    let f = fixture();
    // The Czech regions exist from 2000-01-01 (constitutional act
    // 347/1997 Sb., cited in seeds/parties.ndjson).
    let a = get(
        &f,
        "/api/v1/partnerships/ustecky-kraj--saxony?valid_on=1999-06-01",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["in_force"], "no");
    let reason = a.body["in_force_reason"].as_str().unwrap();
    assert!(
        reason.contains("2000-01-01") && reason.contains("347/1997"),
        "{reason}"
    );
    let a = get(
        &f,
        "/api/v1/partnerships?valid_on=1999-06-01&party=ustecky-kraj",
    )
    .await;
    assert!(a.body["items"].as_array().unwrap().is_empty(), "{}", a.text);
    // From that day the partnership's own history decides.
    let a = get(
        &f,
        "/api/v1/partnerships/ustecky-kraj--saxony?valid_on=2014-01-01",
    )
    .await;
    assert!(a.body["in_force_reason"].is_null(), "{}", a.text);
}

#[tokio::test]
async fn dates_as_people_write_them() {
    let f = fixture();
    let orenburg = |a: &Answer| -> Option<Value> {
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "liberecky-kraj--orenburg-oblast")
            .cloned()
    };
    // February 2022: in force all month (denounced 1 March, source 001).
    let a = get(
        &f,
        "/api/v1/partnerships?valid_on=2022-02&party=liberecky-kraj",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        a.body["days_asked"],
        json!({"from":"2022-02-01","to":"2022-02-28"})
    );
    let row = orenburg(&a).expect("listed in February");
    assert_eq!(
        (&row["in_force"], &row["in_force_over"]),
        (&json!("yes"), &json!("throughout"))
    );
    // March 2022: not at all, so not listed; February–March: part of it.
    let a = get(
        &f,
        "/api/v1/partnerships?valid_on=2022-03&party=liberecky-kraj",
    )
    .await;
    assert!(orenburg(&a).is_none(), "{}", a.text);
    let a = get(
        &f,
        "/api/v1/partnerships?valid_from=2020&valid_to=2022-03&party=liberecky-kraj",
    )
    .await;
    assert_eq!(
        a.body["days_asked"],
        json!({"from":"2020-01-01","to":"2022-03-31"})
    );
    let row = orenburg(&a).expect("listed over the period");
    assert_eq!(
        (&row["in_force"], &row["in_force_over"]),
        (&json!("uncertain"), &json!("sometime"))
    );
    // One partnership over a year; a half-year; a record time as a date.
    let a = get(
        &f,
        "/api/v1/partnerships/liberecky-kraj--orenburg-oblast?valid_on=2022",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        (&a.body["in_force"], &a.body["in_force_over"]),
        (&json!("uncertain"), &json!("sometime"))
    );
    assert_eq!(
        a.body["days_asked"],
        json!({"from":"2022-01-01","to":"2022-12-31"})
    );
    assert_eq!(a.body["valid_on"], "2022-12-31");
    let a = get(
        &f,
        "/api/v1/partnerships?valid_on=2011-40&as_known_at=2026-11-28",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        a.body["days_asked"],
        json!({"from":"2011-01-01","to":"2011-06-30"})
    );
    // What cannot be meant is refused, naming the field and the range.
    for (uri, field, says) in [
        (
            "/api/v1/partnerships?valid_on=0011",
            "valid_on",
            "outside the dates the registry answers for: from 1900-01-01",
        ),
        (
            "/api/v1/partnerships?valid_from=2020",
            "valid_from",
            "valid_from needs valid_to too",
        ),
        (
            "/api/v1/partnerships?valid_on=2020&valid_to=2021",
            "valid_on",
            "ask the same question twice",
        ),
        (
            "/api/v1/partnerships?valid_from=2022&valid_to=2020",
            "valid_to",
            "ends before valid_from 2022 begins",
        ),
        (
            "/api/v1/partnerships/liberecky-kraj--bursa?valid_on=[2020..]",
            "valid_on",
            "open at an end",
        ),
        (
            "/api/v1/reports/annual?year=11",
            "year",
            "year 11 is outside the years the registry reports on: 1900 to",
        ),
    ] {
        let a = get(&f, uri).await;
        problem(&a, 400, "malformed");
        assert_eq!(a.body["field"], field, "{uri}: {}", a.text);
        assert!(
            a.body["detail"].as_str().unwrap().contains(says),
            "{uri}: {}",
            a.text
        );
    }
    // A partnership fact before 1900 is refused and changes nothing.
    let before = head(&f);
    let a = post(
        &f,
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(&f.clerk),
        json!({"type":"ActivityRecorded","date":"1850-01-01","data":{"kind":"visit"}}),
    )
    .await;
    problem(&a, 422, "invalid");
    assert!(
        a.text
            .contains("1850-01-01 is outside the dates a partnership fact may have"),
        "{}",
        a.text
    );
    assert_eq!(head(&f), before);
}

#[tokio::test]
async fn names_as_people_type_them() {
    let f = fixture();
    let ids = |a: &Answer| -> Vec<String> {
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Without diacritics, in any case, by a word's beginning; Čuhujiv
    // also answers to Chuguev (source 004).
    for (q, id) in [
        ("cuhujiv", "chuhuiv"),
        ("CHUGUEV", "chuhuiv"),
        ("plzen", "plzensky-kraj"),
        ("orenb", "orenburg-oblast"),
    ] {
        let a = get(&f, &format!("/api/v1/parties?q={q}")).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert!(ids(&a).contains(&id.to_owned()), "{q}: {:?}", ids(&a));
    }
    assert!(ids(&get(&f, "/api/v1/parties?q=atlantis").await).is_empty());
    // A unique match is used and named; several are refused with the
    // candidates; an exact id always wins.
    let a = get(&f, "/api/v1/partnerships?party=orenb").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["party"]["id"], "orenburg-oblast");
    let a = get(&f, "/api/v1/partnerships?party=kraj").await;
    problem(&a, 409, "ambiguous");
    assert!(
        a.body["candidates"].as_array().unwrap().len() > 1,
        "{}",
        a.text
    );
    let a = get(&f, "/api/v1/partnerships?party=novy-bor").await;
    assert_eq!(a.body["party"]["id"], "novy-bor");
    // A parameter that is not understood is refused, never ignored.
    let a = get(&f, "/api/v1/partnerships?search=plzen").await;
    problem(&a, 400, "malformed");
    assert!(a.text.contains("search"), "{}", a.text);
}

#[tokio::test]
async fn a_filtered_stream_sends_only_what_is_asked_with_global_ids() {
    let f = fixture();
    let req = Request::builder()
        .uri("/api/v1/events/stream?types=Terminated&stream_kind=partnership")
        .body(Body::empty())
        .unwrap();
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    let mut text = String::new();
    // The seed data has two terminations (Orenburg, Møre og Romsdal);
    // caught up, the stream says how far it has read: the head, past the
    // records it passed over.
    while !text.contains("event: position") {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("a position comes")
            .expect("the stream goes on")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    // The events, each its fields (`id`, `event`, `data`) in any order.
    let events: Vec<Vec<&str>> = text
        .split("\n\n")
        .map(|e| {
            e.lines()
                .filter(|l| !l.starts_with(':'))
                .collect::<Vec<_>>()
        })
        .filter(|e| !e.is_empty())
        .collect();
    let field = |e: &[&str], name: &str| {
        e.iter()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
    };
    let last = events.last().unwrap();
    assert_eq!(field(last, "event").as_deref(), Some("position"), "{text}");
    assert_eq!(field(last, "id"), Some(head(&f).to_string()));
    assert_eq!(
        field(last, "data"),
        Some(format!("{{\"position\":{}}}", head(&f)))
    );
    let records: Vec<&Vec<&str>> = events
        .iter()
        .filter(|e| field(e, "event").as_deref() == Some("record"))
        .collect();
    let ids: Vec<u64> = records
        .iter()
        .map(|e| field(e, "id").unwrap().parse().unwrap())
        .collect();
    let records: Vec<Value> = records
        .iter()
        .map(|e| serde_json::from_str(&field(e, "data").unwrap()).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{text}");
    for r in &records {
        assert_eq!(r["type"], "Terminated");
        assert!(r["derived"]["home"].is_string(), "{r}");
    }
    // Each event's id is its global position.
    let positions: Vec<u64> = records
        .iter()
        .map(|r| r["position"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, positions);
}

/// A served view answers by name with its rows in its type's field
/// order, filters by party, follows a write, and is described in the
/// OpenAPI document with its row type's schema.
#[tokio::test]
async fn served_views() {
    let f = fixture();
    let a = get(&f, "/api/v1/views/activity").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        (&a.body["view"], &a.body["version"]),
        (&json!("activity"), &json!(1))
    );
    assert_eq!(a.body["position"], head(&f));
    let rows = a.body["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{}", a.text);
    // Fields in the order the row type declares them.
    assert!(
        a.text.contains(r#"{"home":"liberecky-kraj","year":"#),
        "{}",
        a.text
    );
    let count = |body: &Value, home: &str, year: i64| {
        body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["home"] == home && r["year"] == year)
            .map_or(0, |r| r["activities"].as_u64().unwrap())
    };

    let mine = get(&f, "/api/v1/views/activity?party=Liberec").await;
    assert_eq!(mine.body["party"]["id"], "liberecky-kraj");
    assert!(
        mine.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["home"] == "liberecky-kraj")
    );

    // A visit recorded for 2013 counts in 2013 once it is acknowledged.
    let before = count(&a.body, "liberecky-kraj", 2013);
    let visit = json!({"type":"ActivityRecorded","date":"2013-06","data":{"kind":"visit"}});
    let posted = post(
        &f,
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(&f.clerk),
        visit,
    )
    .await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.text);
    let after = get(&f, "/api/v1/views/activity").await;
    assert_eq!(count(&after.body, "liberecky-kraj", 2013), before + 1);
    assert_eq!(after.body["position"], head(&f));

    problem(&get(&f, "/api/v1/views/nope").await, 404, "not-found");
    assert!(
        get(&f, "/api/v1/views/nope")
            .await
            .text
            .contains("activity")
    );
    problem(
        &get(&f, "/api/v1/views/activity?party=atlantis").await,
        404,
        "not-found",
    );
    let unknown = get(&f, "/api/v1/views/activity?year=2012").await;
    assert_eq!(unknown.status.as_u16(), 400, "{}", unknown.text);

    let doc = get(&f, "/openapi.json").await.body;
    let op = &doc["paths"]["/api/v1/views/activity"]["get"];
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["rows"]["items"]
            ["$ref"],
        "#/components/schemas/ActivityRow"
    );
    let party =
        &op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["party"];
    assert!(
        party["oneOf"]
            .as_array()
            .is_some_and(|o| o.iter().any(|s| s["type"] == "null")),
        "party may be null: {party}"
    );
    let row = &doc["components"]["schemas"]["ActivityRow"];
    assert_eq!(row["properties"]["year"]["type"], "integer", "{row}");
    assert_eq!(
        op["responses"]["404"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

/// The transparency endpoints: the signed checkpoint verifies with the
/// published key, proofs check against it, a bundle verifies offline, and
/// bad parameters are problems.
#[tokio::test]
async fn checkpoints_and_proofs() {
    use pacta_tlog::{Hash, check_record, check_tree, checkpoint::Checkpoint, note};
    let f = fixture();
    let store = f.state.registry.store().clone();
    let size = head(&f);
    while store.tree_size().unwrap() < size {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let b64 = |v: &Value| Hash::from_base64(v.as_str().unwrap()).unwrap();

    let key = get(&f, "/api/v1/proofs/key").await;
    assert_eq!(key.status, StatusCode::OK);
    let verifier = note::Verifier::from_vkey(key.text.trim()).unwrap();
    let signed = get(&f, "/checkpoint").await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    assert!(signed.content_type.starts_with("text/plain"));
    let opened = note::open(&signed.text, &[&verifier]).unwrap();
    let checkpoint = Checkpoint::parse(&opened.text).unwrap();
    assert_eq!(checkpoint.size, size);
    assert_eq!(checkpoint.origin, verifier.name());

    let p = get(&f, "/api/v1/proofs/inclusion?position=37").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(p.body["size"], size);
    assert_eq!(b64(&p.body["root"]), checkpoint.root);
    let leaf = pacta_tlog::leaf_hash(&store.leaf_bytes(37).unwrap().unwrap());
    assert_eq!(b64(&p.body["leaf_hash"]), leaf);
    let hashes: Vec<Hash> = p.body["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(b64)
        .collect();
    check_record(&hashes, size, checkpoint.root, 36, leaf).unwrap();
    // Another record's leaf does not check with this proof.
    let other = pacta_tlog::leaf_hash(&store.leaf_bytes(38).unwrap().unwrap());
    assert!(check_record(&hashes, size, checkpoint.root, 36, other).is_err());

    let c = get(&f, "/api/v1/proofs/consistency?from=10&to=200").await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    let hashes: Vec<Hash> = c.body["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(b64)
        .collect();
    check_tree(
        &hashes,
        200,
        b64(&c.body["to_root"]),
        10,
        b64(&c.body["from_root"]),
    )
    .unwrap();
    assert_eq!(b64(&c.body["from_root"]), store.tree_root(10).unwrap());

    let bundle = get(&f, "/api/v1/proofs/bundle?position=5").await;
    assert_eq!(bundle.status, StatusCode::OK, "{}", bundle.text);
    let verified =
        pacta_registry::transparency::verify_bundle(&bundle.text, key.text.trim()).unwrap();
    assert_eq!(verified.position, 5);
    assert_eq!(verified.checkpoint.size, size);

    problem(
        &get(&f, "/api/v1/proofs/inclusion?position=0").await,
        400,
        "malformed",
    );
    problem(
        &get(
            &f,
            &format!("/api/v1/proofs/inclusion?position={}", size + 1),
        )
        .await,
        404,
        "not-found",
    );
    problem(
        &get(&f, "/api/v1/proofs/inclusion?position=3&size=2").await,
        404,
        "not-found",
    );
    problem(
        &get(&f, "/api/v1/proofs/consistency?from=20&to=10").await,
        422,
        "invalid",
    );
    problem(
        &get(
            &f,
            &format!("/api/v1/proofs/consistency?from=1&to={}", size + 1),
        )
        .await,
        404,
        "not-found",
    );
    problem(
        &get(&f, "/api/v1/proofs/bundle?position=x").await,
        400,
        "malformed",
    );
    problem(&get(&f, "/checkpoint?size=3").await, 400, "malformed");
}

/// Every event of a termination dossier carries its proof bundle, in the
/// JSON and on the printable page (Czech by default, English by switch),
/// and each verifies offline with the published key.
#[tokio::test]
async fn dossier_events_carry_proof_bundles() {
    let f = fixture();
    let key = get(&f, "/api/v1/proofs/key").await.text;
    let d = get(
        &f,
        "/api/v1/audit/terminations/liberecky-kraj--orenburg-oblast",
    )
    .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    let bundles = d.body["proofs"]["bundles"].as_object().unwrap();
    let mut positions: Vec<u64> =
        vec![d.body["termination"]["event"]["position"].as_u64().unwrap()];
    for e in d.body["preceding"].as_array().unwrap() {
        positions.push(e["position"].as_u64().unwrap());
    }
    assert!(positions.len() > 1, "{}", d.text);
    for p in &positions {
        let bundle = bundles
            .get(&p.to_string())
            .unwrap_or_else(|| panic!("no bundle for {p}: {}", d.text));
        let verified =
            pacta_registry::transparency::verify_bundle(bundle.as_str().unwrap(), key.trim())
                .unwrap();
        assert_eq!(verified.position, *p);
        assert_eq!(verified.checkpoint.size, d.body["proofs"]["size"]);
    }
    let page = get_html(
        &f,
        "/api/v1/audit/terminations/liberecky-kraj--orenburg-oblast",
    )
    .await;
    assert!(
        page.text.contains("Příloha: důkazy zápisu"),
        "{}",
        page.text
    );
    assert_eq!(
        page.text.matches("c2sp.org/tlog-proof@v1").count(),
        bundles.len()
    );
    let page = get_html(
        &f,
        "/api/v1/audit/terminations/liberecky-kraj--orenburg-oblast?lang=en",
    )
    .await;
    assert!(page.text.contains("Appendix: proofs of record"));
}

/// `GET path`: status, the raw body and the `Cache-Control` header.
async fn get_raw(f: &Fixture, uri: &str) -> (StatusCode, Vec<u8>, String) {
    let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let cache = res
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec(), cache)
}

/// A mirror that knows only the checkpoint and the tiles (C2SP
/// tlog-tiles) rebuilds the tree: the level-0 tiles' leaf hashes give the
/// checkpoint's root, every record in the entry bundles hashes to its
/// leaf, and a level-1 tile holds the roots of 256-leaf subtrees. Tiles
/// beyond the tree are 404, malformed paths 400.
#[tokio::test]
async fn tiles_let_a_mirror_rebuild_the_tree() {
    use pacta_tlog::tile::{Tile, TileKind, read_entry_bundle};
    use pacta_tlog::{Hash, checkpoint::Checkpoint, note};
    let f = fixture();
    // Past two full tiles of leaves.
    for day in 0..300 {
        let body = json!({"type": "ActivityRecorded", "date": format!("2025-{:02}-{:02}", day % 12 + 1, day % 28 + 1),
            "data": {"kind": "letter"}, "note": format!("letter {day}")});
        let a = post(
            &f,
            "/api/v1/partnerships/liberecky-kraj--bursa/events",
            Some(&f.clerk),
            body,
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }
    let store = f.state.registry.store().clone();
    while store.tree_size().unwrap() < head(&f) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let key = get(&f, "/api/v1/proofs/key").await;
    let verifier = note::Verifier::from_vkey(key.text.trim()).unwrap();
    let signed = get(&f, "/checkpoint").await;
    let checkpoint =
        Checkpoint::parse(&note::open(&signed.text, &[&verifier]).unwrap().text).unwrap();
    let size = checkpoint.size;
    assert!(size > 512, "{size}");

    // Level 0 and the entry bundles, as a mirror fetches them.
    let mut leaves: Vec<Hash> = Vec::new();
    let mut records: Vec<Vec<u8>> = Vec::new();
    for index in 0..size.div_ceil(256) {
        let width = (size - index * 256).min(256);
        for kind in [TileKind::Hashes { level: 0 }, TileKind::Entries] {
            let tile = Tile { kind, index, width };
            let (status, bytes, cache) = get_raw(&f, &format!("/{}", tile.to_path())).await;
            assert_eq!(status, StatusCode::OK, "{}", tile.to_path());
            assert!(cache.contains("immutable"), "{cache}");
            match kind {
                TileKind::Entries => records.extend(
                    read_entry_bundle(&bytes)
                        .unwrap()
                        .into_iter()
                        .map(<[u8]>::to_vec),
                ),
                TileKind::Hashes { .. } => {
                    assert_eq!(bytes.len() as u64, width * 32);
                    leaves.extend(bytes.chunks(32).map(|c| Hash(c.try_into().unwrap())));
                }
            }
        }
    }
    assert_eq!(leaves.len() as u64, size);
    assert_eq!(records.len() as u64, size);
    for (leaf, record) in leaves.iter().zip(&records) {
        assert_eq!(*leaf, pacta_tlog::leaf_hash(record));
    }
    let root_of = |leaves: &[Hash]| {
        let mut stored = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            let more = pacta_tlog::stored_hashes_for_leaf_hash(i as u64, *leaf, &stored).unwrap();
            stored.extend(more);
        }
        pacta_tlog::tree_hash(leaves.len() as u64, &stored).unwrap()
    };
    assert_eq!(root_of(&leaves), checkpoint.root);
    // The record the store holds at position 300 is the mirror's 300th.
    assert_eq!(records[299], store.leaf_bytes(300).unwrap().unwrap());

    // Level 1: the roots of each complete block of 256 leaves.
    let blocks = size / 256;
    let tile = Tile {
        kind: TileKind::Hashes { level: 1 },
        index: 0,
        width: blocks,
    };
    let (status, bytes, _) = get_raw(&f, &format!("/{}", tile.to_path())).await;
    assert_eq!(status, StatusCode::OK);
    for (k, chunk) in bytes.chunks(32).enumerate() {
        assert_eq!(
            Hash(chunk.try_into().unwrap()),
            root_of(&leaves[k * 256..(k + 1) * 256])
        );
    }

    // Beyond the tree: 404; a full tile where only a partial one is: 404.
    for beyond in [
        format!("/tile/0/{:03}", size.div_ceil(256)),
        format!("/tile/0/{:03}", size / 256),
        format!("/tile/1/000.p/{}", blocks + 1),
        "/tile/entries/x001/000".to_owned(),
    ] {
        let (status, _, _) = get_raw(&f, &beyond).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{beyond}");
    }
    for bad in [
        "/tile/0/1",
        "/tile/0/000.p/0",
        "/tile/x/000",
        "/tile/0/x000/001",
    ] {
        problem(&get(&f, bad).await, 400, "malformed");
    }
}

/// `pacta key rotate` takes effect on a running server: the next
/// checkpoint is signed with the new key, and the old key still verifies
/// the checkpoint signed before.
#[tokio::test]
async fn a_rotated_key_signs_the_next_checkpoint_without_a_restart() {
    use pacta_registry::transparency::LogKey;
    use pacta_tlog::note;
    let f = fixture();
    let store = f.state.registry.store().clone();
    while store.tree_size().unwrap() < head(&f) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before = get(&f, "/checkpoint").await.text;
    let old_key = get(&f, "/api/v1/proofs/key").await.text;
    let (old, new) = LogKey::rotate(store.path(), None).unwrap();
    assert_eq!(old, old_key.trim());
    let after = get(&f, "/checkpoint").await.text;
    let served_key = get(&f, "/api/v1/proofs/key").await.text;
    assert_eq!(served_key.trim(), new);
    let verifier = |k: &str| note::Verifier::from_vkey(k).unwrap();
    note::open(&after, &[&verifier(&new)]).unwrap();
    assert!(note::open(&after, &[&verifier(&old)]).is_err());
    note::open(&before, &[&verifier(&old)]).unwrap();
}
