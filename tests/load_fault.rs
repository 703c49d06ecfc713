//! Load and a crash: the real `pacta serve` under concurrent writers,
//! readers of every GET endpoint and live-stream subscribers, killed with
//! SIGKILL mid-load and started again on the same data.
//!
//! What must hold: every read under load answers 200; each live stream
//! delivers positions in order without gaps; after the restart every event
//! whose append was acknowledged (201) is in the log exactly once, the
//! chain verifies (`pacta verify`), and the server's resident memory never
//! exceeded [`RSS_CEILING_KIB`].
//!
//! Nothing here times anything: the load runs for [`LOAD`] and every wait
//! has a generous timeout, so a slow or busy machine only does less work.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::http::Response;
use common::{listening_on, ok, pacta};

/// How long the load runs before the kill.
const LOAD: Duration = Duration::from_secs(20);
const WRITERS: usize = 4;
const READERS: usize = 3;
const SUBSCRIBERS: usize = 3;

/// The most resident memory the server may use under this load, in KiB.
/// Measured at a peak VmHWM of 157 MiB (160 752 KiB; the debug build, 4
/// writers, 3 readers and 3 live streams for 20 s on 2 shared cores,
/// 13 800 events acknowledged); the ceiling is twice that, so that only a
/// leak or an unbounded buffer trips it.
const RSS_CEILING_KIB: u64 = 320 * 1024;

/// A timeout for one request: far above what any answer takes, so that
/// only a hung server reaches it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One request on its own connection; a failed connection is an error
/// to handle: the server dies mid-test.
fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<Response> {
    common::http::try_request(addr, method, path, token, body, REQUEST_TIMEOUT)
}

fn get(addr: &str, path: &str) -> Response {
    try_request(addr, "GET", path, None, None)
        .unwrap_or_else(|e| panic!("GET {path} while the server runs: {e}"))
}

/// `pacta serve` on a free port; its address.
fn serve(data: &std::path::Path) -> (Child, String) {
    let mut server = pacta(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_on(server.stdout.take().unwrap());
    (server, addr)
}

/// VmRSS and VmHWM of a process from /proc, in KiB.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|l| {
            l.strip_prefix(name)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The GET endpoints a reader walks through, every one of the API.
fn read_paths(partnership: &str, terminated: &str) -> Vec<String> {
    vec![
        "/healthz".into(),
        "/openapi.json".into(),
        "/api/v1/parties".into(),
        "/api/v1/parties/liberecky-kraj".into(),
        "/api/v1/partnerships".into(),
        "/api/v1/partnerships?valid_on=2022-02-28".into(),
        "/api/v1/partnerships?party=liberecky-kraj&valid_on=2022-02-28".into(),
        format!("/api/v1/partnerships/{partnership}?valid_on=2022-02-28"),
        format!("/api/v1/partnerships/{partnership}/events"),
        "/api/v1/offers".into(),
        "/api/v1/offers?status=published".into(),
        "/api/v1/events?after=0&limit=100".into(),
        "/api/v1/events?after=200&limit=1000".into(),
        "/api/v1/audit/verify".into(),
        "/api/v1/audit/terminations".into(),
        format!("/api/v1/audit/terminations/{terminated}"),
        "/api/v1/reports/annual?year=2022".into(),
        "/api/v1/reports/annual?year=2022&party=liberecky-kraj".into(),
    ]
}

/// The ids of the events a 201 answer says were stored.
fn landed(answer: &Value) -> Vec<String> {
    answer["events"]
        .as_array()
        .unwrap_or_else(|| panic!("a 201 lists its events: {answer}"))
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A writer: appends activities to partnerships that take them and opens
/// new ones, until told to stop or the server is gone. Answers the ids of
/// every event acknowledged with a 201.
fn writer(
    n: usize,
    addr: String,
    token: String,
    mut partnerships: Vec<String>,
    partners: Vec<String>,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let mut acknowledged = Vec::new();
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let (path, body) = if i.is_multiple_of(5) {
            let partner = &partners[(n + i) % partners.len()];
            (
                "/api/v1/partnerships".to_owned(),
                json!({"home": "liberecky-kraj", "partner": partner,
                    "event": {"type": "ContactEstablished", "date": "2026-01",
                        "source": {"title": "load test"}, "note": format!("writer {n}, request {i}")}}),
            )
        } else {
            let id = &partnerships[(n + i) % partnerships.len()];
            (
                format!("/api/v1/partnerships/{id}/events"),
                json!({"type": "ActivityRecorded", "date": "2026-10-02",
                    "data": {"kind": "visit"}, "source": {"title": "load test"},
                    "note": format!("writer {n}, request {i}")}),
            )
        };
        let body = body.to_string();
        match try_request(&addr, "POST", &path, Some(&token), Some(&body)) {
            Ok(r) if r.status == 201 => {
                let answer = r.json();
                acknowledged.extend(landed(&answer));
                if path == "/api/v1/partnerships" {
                    partnerships.push(answer["id"].as_str().unwrap().to_owned());
                }
            }
            Ok(r) => {
                // Before the kill every write is well-formed and allowed;
                // after it, a half-read answer is no answer.
                assert!(
                    stop.load(Ordering::Relaxed) || r.status == 0,
                    "POST {path} answered {}: {}",
                    r.status,
                    r.body
                );
            }
            Err(_) if stop.load(Ordering::Relaxed) => break,
            Err(e) => panic!("POST {path} while the server runs: {e}"),
        }
    }
    acknowledged
}

/// A reader: walks every GET endpoint until told to stop. Answers how
/// many reads it made.
fn reader(n: usize, addr: String, paths: Vec<String>, stop: Arc<AtomicBool>) -> u64 {
    let mut reads = 0;
    for path in paths.iter().cycle().skip(n * 3) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match try_request(&addr, "GET", path, None, None) {
            Ok(r) => {
                assert!(
                    r.status == 200 || stop.load(Ordering::Relaxed),
                    "GET {path} answered {}: {}",
                    r.status,
                    r.body
                );
                reads += 1;
            }
            Err(_) if stop.load(Ordering::Relaxed) => break,
            Err(e) => panic!("GET {path} while the server runs: {e}"),
        }
    }
    reads
}

/// A live-stream subscriber from `after`: reads records until the server
/// goes away, checking that positions come in order without gaps.
/// Answers the last position seen.
fn subscriber(addr: String, after: u64, stop: Arc<AtomicBool>, seen: Arc<AtomicU64>) -> u64 {
    let mut stream = TcpStream::connect(&addr).unwrap();
    // The server sends keep-alives; a long silence means a hung stream,
    // and is only fine once the server is killed.
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    write!(
        stream,
        "GET /api/v1/events/stream?after={after} HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    )
    .unwrap();
    let mut last = after;
    let lines = BufReader::new(stream).lines();
    for line in lines {
        let line = match line {
            Ok(l) => l,
            Err(_) if stop.load(Ordering::Relaxed) => break,
            Err(e) => panic!("the live stream failed while the server runs: {e}"),
        };
        if let Some(id) = line.strip_prefix("id: ") {
            let position: u64 = id.trim().parse().unwrap();
            assert_eq!(
                position,
                last + 1,
                "the live stream skipped or repeated a position"
            );
            last = position;
            seen.fetch_add(1, Ordering::Relaxed);
        }
    }
    assert!(
        stop.load(Ordering::Relaxed),
        "the live stream ended while the server runs"
    );
    last
}

#[test]
fn acknowledged_writes_survive_a_kill_under_load() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // The first command on an empty store loads the bundled registry.
    let token = ok(pacta(data).args(["token", "add", "loader", "--role", "admin"]))
        .trim()
        .to_owned();
    let (mut server, addr) = serve(data);
    let pid = server.id();

    // What the load works on: partnerships that take activities, partners
    // for new ones, and a terminated partnership's dossier.
    let list = get(&addr, "/api/v1/partnerships").json();
    let rows = list["items"].as_array().unwrap();
    let id_of = |r: &Value| r["id"].as_str().unwrap().to_owned();
    let open: Vec<String> = rows
        .iter()
        .filter(|r| {
            r["status"] != "terminated" && r["id"].as_str().unwrap().starts_with("liberecky-kraj--")
        })
        .map(id_of)
        .collect();
    let terminated = rows
        .iter()
        .find(|r| r["status"] == "terminated")
        .map(id_of)
        .expect("the bundled registry has a terminated partnership");
    assert!(!open.is_empty(), "{list}");
    let partners: Vec<String> = get(&addr, "/api/v1/parties").json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["country"] != "CZ")
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let head = get(&addr, "/healthz").json()["head_position"]
        .as_u64()
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, peak_rss) = (stop.clone(), peak_rss.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some((rss, _)) = memory_kib(pid) {
                    peak_rss.fetch_max(rss, Ordering::Relaxed);
                }
                thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let streamed = Arc::new(AtomicU64::new(0));
    let subscribers: Vec<_> = (0..SUBSCRIBERS)
        .map(|n| {
            let (addr, stop, streamed) = (addr.clone(), stop.clone(), streamed.clone());
            // One from the start of the log, the others from the head.
            let after = if n == 0 { 0 } else { head };
            thread::spawn(move || subscriber(addr, after, stop, streamed))
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            let (addr, token, stop) = (addr.clone(), token.clone(), stop.clone());
            let (open, partners) = (open.clone(), partners.clone());
            thread::spawn(move || writer(n, addr, token, open, partners, stop))
        })
        .collect();
    let readers: Vec<_> = (0..READERS)
        .map(|n| {
            let (addr, stop) = (addr.clone(), stop.clone());
            let paths = read_paths(&open[0], &terminated);
            thread::spawn(move || reader(n, addr, paths, stop))
        })
        .collect();

    // Load, then the crash: SIGKILL while every client is mid-flight.
    let load_until = Instant::now() + LOAD;
    while Instant::now() < load_until {
        thread::sleep(Duration::from_millis(200));
        assert!(
            writers.iter().all(|t| !t.is_finished())
                && readers.iter().all(|t| !t.is_finished())
                && subscribers.iter().all(|t| !t.is_finished()),
            "a client stopped early (see its panic above)"
        );
    }
    let (last_rss, hwm) = memory_kib(pid).expect("the server runs until killed");
    // Clients hear of the stop first, so a request the kill cuts off is
    // expected, not a failure.
    stop.store(true, Ordering::Relaxed);
    server.kill().unwrap();
    server.wait().unwrap();

    let acknowledged: Vec<String> = writers
        .into_iter()
        .flat_map(|t| t.join().expect("a writer failed"))
        .collect();
    let reads: u64 = readers
        .into_iter()
        .map(|t| t.join().expect("a reader failed"))
        .sum();
    for t in subscribers {
        t.join().expect("a subscriber failed");
    }
    sampler.join().unwrap();
    let peak = peak_rss.load(Ordering::Relaxed).max(last_rss).max(hwm);
    eprintln!(
        "load: {} events acknowledged, {reads} reads, {} records streamed; \
         RSS peak {peak} KiB (VmHWM {hwm} KiB)",
        acknowledged.len(),
        streamed.load(Ordering::Relaxed),
    );
    assert!(
        !acknowledged.is_empty() && reads > 0,
        "the load did nothing"
    );

    // Restart on the same data: every acknowledged event is there once.
    let (mut server, addr) = serve(data);
    let mut in_log: HashMap<String, u32> = HashMap::new();
    let mut after = 0;
    loop {
        let page = get(&addr, &format!("/api/v1/events?after={after}&limit=1000"));
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json();
        for record in page["items"].as_array().unwrap() {
            *in_log
                .entry(record["event_id"].as_str().unwrap().to_owned())
                .or_default() += 1;
            after = record["position"].as_u64().unwrap();
        }
        if page["next_after"].is_null() {
            break;
        }
    }
    let acknowledged_set: HashSet<&String> = acknowledged.iter().collect();
    assert_eq!(
        acknowledged_set.len(),
        acknowledged.len(),
        "an event id was acknowledged twice"
    );
    let missing: Vec<&&String> = acknowledged_set
        .iter()
        .filter(|id| !in_log.contains_key(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events are not in the log after the restart, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let repeated: Vec<(&String, &u32)> = in_log.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "events stored more than once: {repeated:?}"
    );
    let verify = get(&addr, "/api/v1/audit/verify").json();
    assert_eq!(verify["ok"], true, "{verify}");

    // Stop it and check the chain with the CLI as well.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(server.wait().unwrap().success());
    ok(pacta(data).arg("verify"));

    assert!(
        peak < RSS_CEILING_KIB,
        "the server's resident memory reached {peak} KiB, above the ceiling of {RSS_CEILING_KIB} KiB"
    );
    eprintln!("took {:.1}s", started.elapsed().as_secs_f64());
}
