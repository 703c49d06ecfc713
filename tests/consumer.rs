//! The README's "Reading the log to build your own view", end to end: the
//! worked example `docs/examples/consumer.py` (activities per year per
//! home region, built out of process from `GET /api/v1/events` and the
//! live stream) follows a real `pacta serve` while events are posted, is
//! killed with SIGKILL mid-stream twice, resumes from the state and
//! position it saved together, and ends with the view the registry
//! answers: no record missed or counted twice.
//!
//! Its view is checked against what the test itself posted (each date
//! form's year written out here), against the annual report's activities
//! (an independent reading of the same rule), against the consumer run
//! from scratch reading every record and filtering itself, and against the
//! in-tree `GET /api/v1/views/activity`.
//!
//! The consumer needs `python3`: under `CI=true` a missing one fails the
//! test; elsewhere the test is skipped with a message.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::http::request;
use common::{listening_on, ok, pacta, stop};

const CONSUMER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/consumer.py");

/// How long any wait for the consumer may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(15);

/// The partnerships written to (all signed, of five home parties).
const PARTNERSHIPS: [&str; 6] = [
    "plzensky-kraj--upper-palatinate",
    "plzensky-kraj--bergamo",
    "liberecky-kraj--bursa",
    "ustecky-kraj--saxony",
    "novy-bor--mednogorsk",
    "ceska-lipa--molde",
];

/// Whether python3 runs; outside CI a missing one skips the test.
fn python3() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is missing; CI must have it"
        );
        eprintln!("skipped: python3 is not installed");
    }
    found
}

/// (home, year) -> activities, as the view's rows say it.
type Rows = BTreeMap<(String, i64), i64>;

fn rows(view: &Value) -> Rows {
    let mut out = Rows::new();
    let mut keys = Vec::new();
    for row in view["rows"].as_array().expect("rows") {
        let key = (
            row["home"].as_str().expect("home").to_owned(),
            row["year"].as_i64().expect("year"),
        );
        let n = row["activities"].as_i64().expect("activities");
        assert!(n > 0, "a zero count is omitted: {row}");
        keys.push(key.clone());
        out.insert(key, n);
    }
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "one row per (home, year), sorted: {view}"
    );
    out
}

/// `python3 docs/examples/consumer.py`, talking to the server directly.
fn python_consumer() -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(CONSUMER);
    for proxy in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(proxy);
    }
    cmd
}

/// Runs the consumer to its end (one-shot, or `--print`); its view.
fn one_shot(args: &[&str]) -> Value {
    let out = python_consumer().args(args).output().expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "consumer {args:?} failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let view: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("consumer {args:?} printed no view ({e}): {text}"));
    assert_eq!(view["view"], "activity", "{view}");
    view
}

/// A child process killed (SIGKILL) when dropped: a failing test leaves
/// no consumer following forever, nor a server running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The consumer following the stream, saving into `state`.
fn follower(url: &str, state: &Path) -> Running {
    let child = python_consumer()
        .args(["--url", url, "--follow", "--state"])
        .arg(state)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    Running(child)
}

/// SIGKILL (kill -9); what the consumer had said on stderr.
fn kill9(consumer: &mut Running) -> String {
    consumer.0.kill().expect("kill -9");
    let status = consumer.0.wait().expect("the consumer exits");
    assert!(!status.success(), "killed: {status}");
    stderr(consumer)
}

fn stderr(consumer: &mut Running) -> String {
    let mut text = String::new();
    if let Some(mut e) = consumer.0.stderr.take() {
        e.read_to_string(&mut text).ok();
    }
    text
}

/// A number saved in the state file (0 before the first save):
/// `position`, or `applied` (how many records of the wanted types the
/// consumer applied).
fn saved(state: &Path, field: &str) -> u64 {
    match std::fs::read_to_string(state) {
        Ok(text) => {
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("the state file is whole JSON ({e}): {text}"));
            v[field]
                .as_u64()
                .unwrap_or_else(|| panic!("no {field}: {text}"))
        }
        Err(_) => 0,
    }
}

fn saved_position(state: &Path) -> u64 {
    saved(state, "position")
}

/// Waits until the saved position reaches `at_least` (the consumer must
/// not exit meanwhile).
fn wait_for(consumer: &mut Running, state: &Path, at_least: u64) {
    let start = Instant::now();
    while saved_position(state) < at_least {
        if let Some(status) = consumer.0.try_wait().unwrap() {
            panic!("the consumer exited ({status}): {}", stderr(consumer));
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the consumer reached only {} of {at_least}",
            saved_position(state)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// An activity to post: partnership, date, its source's date, and the
/// year it counts for.
type Form = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
);

/// One activity the test posted: where, and the year it must count for.
struct Activity {
    partnership: &'static str,
    year: Option<i64>,
    retracted: bool,
}

/// The registry as the test writes to it, and what it expects of the
/// view: each posted activity's year, worked out here from the date
/// grammar (not from the records' `derived`).
struct Desk {
    addr: String,
    token: String,
    activities: BTreeMap<String, Activity>,
    /// The position of the last event the consumer's filter wants.
    last_wanted: u64,
    /// How many events the consumer's filter wants were posted.
    wanted: u64,
    /// A small deterministic generator of choices.
    seed: u64,
}

impl Desk {
    fn post(&mut self, partnership: &str, body: Value) -> Value {
        let answer = request(
            &self.addr,
            "POST",
            &format!("/api/v1/partnerships/{partnership}/events"),
            Some(&self.token),
            Some(&body.to_string()),
        );
        assert_eq!(answer.status, 201, "{body}: {}", answer.body);
        let landed = answer.json()["events"][0].clone();
        if ["ActivityRecorded", "Corrected", "Retracted"].contains(&body["type"].as_str().unwrap())
        {
            self.last_wanted = landed["position"].as_u64().unwrap();
            self.wanted += 1;
        }
        landed
    }

    /// A refused event: 422, with a message saying why.
    fn refused(&mut self, partnership: &str, body: Value, why: &str) {
        let answer = request(
            &self.addr,
            "POST",
            &format!("/api/v1/partnerships/{partnership}/events"),
            Some(&self.token),
            Some(&body.to_string()),
        );
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        let detail = answer.json()["detail"].as_str().unwrap_or("").to_owned();
        assert!(detail.contains(why), "{body}: {detail}");
    }

    /// An activity dated `date` (undated: `None`), counted for `year`.
    fn activity(
        &mut self,
        partnership: &'static str,
        date: Option<&str>,
        source_date: Option<&str>,
        year: Option<i64>,
    ) -> String {
        let mut body = json!({"type": "ActivityRecorded", "data": {"kind": "visit"},
            "source": {"title": "consumer test"}});
        if let Some(d) = date {
            body["date"] = d.into();
        }
        if let Some(d) = source_date {
            body["source"]["date"] = d.into();
        }
        let landed = self.post(partnership, body);
        // Undated, an activity takes effect the day it was recorded.
        let year = match date {
            None => landed["recorded_at"].as_str().unwrap()[..4].parse().ok(),
            Some(_) => year,
        };
        let id = landed["event_id"].as_str().unwrap().to_owned();
        let activity = Activity {
            partnership,
            year,
            retracted: false,
        };
        self.activities.insert(id.clone(), activity);
        id
    }

    /// A correction putting `date` in place: the activity now counts for
    /// `year`.
    fn redate(&mut self, target: &str, date: &str, source_date: Option<&str>, year: Option<i64>) {
        let partnership = self.activities[target].partnership;
        let mut body = json!({"type": "Corrected", "source": {"title": "consumer test"},
            "data": {"target": target, "date": date, "reason": "the date was wrong"}});
        if let Some(d) = source_date {
            body["source"]["date"] = d.into();
        }
        self.post(partnership, body);
        self.activities.get_mut(target).unwrap().year = year;
    }

    /// A correction of data alone: the year stays.
    fn amend(&mut self, target: &str) -> String {
        let partnership = self.activities[target].partnership;
        let landed = self.post(
            partnership,
            json!({"type": "Corrected",
                "data": {"target": target, "data": {"outcome": "took_place"}, "reason": "it took place"}}),
        );
        landed["event_id"].as_str().unwrap().to_owned()
    }

    fn retract(&mut self, target: &str) {
        let partnership = self.activities[target].partnership;
        self.post(
            partnership,
            json!({"type": "Retracted", "data": {"target": target, "reason": "recorded in error"}}),
        );
        self.activities.get_mut(target).unwrap().retracted = true;
    }

    /// An event the consumer's filter does not want (an attestation).
    fn unwanted(&mut self, partnership: &str) {
        self.post(
            partnership,
            json!({"type": "Attested", "date": "2024", "source": {"title": "a listing of 2024"}}),
        );
    }

    fn next(&mut self, below: u64) -> u64 {
        // xorshift64
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed % below
    }

    /// A live (not retracted) activity this test posted, if any.
    fn pick_live(&mut self) -> Option<String> {
        let live: Vec<String> = self
            .activities
            .iter()
            .filter(|(_, a)| !a.retracted)
            .map(|(id, _)| id.clone())
            .collect();
        if live.is_empty() {
            return None;
        }
        let i = self.next(live.len() as u64) as usize;
        Some(live[i].clone())
    }

    /// `n` events of every kind, on every partnership: activities of every
    /// date form, corrections of dates and of data, retractions, and
    /// events the consumer's filter leaves out.
    fn batch(&mut self, n: usize) {
        for _ in 0..n {
            let partnership = PARTNERSHIPS[self.next(PARTNERSHIPS.len() as u64) as usize];
            let y = 1990 + self.next(36) as i64; // up to 2025
            match self.next(14) {
                0..=8 => {
                    let (date, source, year) = dated(y, self.next(16));
                    self.activity(partnership, date.as_deref(), source.as_deref(), year);
                }
                9 | 10 => {
                    if let Some(target) = self.pick_live() {
                        let (date, source, year) = dated(y, self.next(15));
                        self.redate(&target, &date.unwrap(), source.as_deref(), year);
                    }
                }
                11 => {
                    if let Some(target) = self.pick_live() {
                        self.amend(&target);
                    }
                }
                12 => {
                    if let Some(target) = self.pick_live() {
                        self.retract(&target);
                    }
                }
                _ => self.unwanted(partnership),
            }
        }
    }

    /// The rows the test expects on top of `base`.
    fn expected(&self, base: &Rows) -> Rows {
        let mut out = base.clone();
        for a in self.activities.values() {
            if let (Some(year), false) = (a.year, a.retracted) {
                let home = a.partnership.split("--").next().unwrap().to_owned();
                *out.entry((home, year)).or_default() += 1;
            }
        }
        out
    }
}

/// A date of form `form` in year `y` with its source's date, and the year
/// it counts for: `None` when its days may lie in two years, or reach
/// today (an open end bounded by the day it was recorded), or are open at
/// the start. Forms 0 to 14 are dated, 15 is undated.
fn dated(y: i64, form: u64) -> (Option<String>, Option<String>, Option<i64>) {
    let d = |s: String| Some(s);
    match form {
        0 => (d(format!("{y}-05-24")), None, Some(y)),
        1 => (d(format!("{y}-05")), None, Some(y)),
        2 => (d(format!("{y}")), None, Some(y)),
        3 => (d(format!("{y}-21")), None, Some(y)),
        4 => (d(format!("{y}-23")), None, Some(y)),
        5 => (d(format!("{y}-24")), None, None), // winter: into the next year
        6 => (d(format!("{y}-34")), None, Some(y)),
        7 => (d(format!("{y}-41")), None, Some(y)),
        8 => (d(format!("{y}-05-24?")), None, Some(y)),
        9 => (d(format!("{y}-05~")), None, Some(y)),
        10 => (d(format!("[{y}-10-31..{y}-11-01]")), None, Some(y)),
        11 => (d(format!("[{y}-12-30..{}-01-02]", y + 1)), None, None),
        12 => (d(format!("[..{y}-11]")), None, None),
        13 => (d(format!("[{y}-11-02..]")), None, None), // bounded by today
        14 => (d(format!("[{y}-11-02..]")), d(format!("{y}-12")), Some(y)),
        _ => (None, None, None), // undated: the year it was recorded
    }
}

/// The annual report's activities per home for `year`.
fn report(addr: &str, year: i64) -> Rows {
    let answer = request(
        addr,
        "GET",
        &format!("/api/v1/reports/annual?year={year}"),
        None,
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut out = Rows::new();
    for section in answer.json()["sections"].as_array().unwrap() {
        let n = section["activities"].as_array().unwrap().len() as i64;
        if n > 0 {
            let home = section["home"]["id"].as_str().unwrap().to_owned();
            out.insert((home, year), n);
        }
    }
    out
}

fn head(addr: &str) -> u64 {
    request(addr, "GET", "/healthz", None, None).json()["head_position"]
        .as_u64()
        .unwrap()
}

/// Posts `n` events on another thread while the follower reads them, and
/// kills the follower with SIGKILL once it has saved some of them but not
/// all: the kill lands mid-stream.
fn kill_mid_stream(desk: &mut Desk, consumer: &mut Running, state: &Path, n: usize) {
    let from = head(&desk.addr);
    std::thread::scope(|s| {
        let poster = s.spawn(|| desk.batch(n));
        wait_for(consumer, state, from + 20);
        kill9(consumer);
        poster.join().unwrap();
    });
    let at = saved_position(state);
    eprintln!(
        "killed with {at} saved of {}..={}",
        from + 1,
        desk.last_wanted
    );
    assert!(
        from + 20 <= at && at < desk.last_wanted,
        "the kill landed mid-stream: saved {at}, posted {from}..={}",
        desk.last_wanted
    );
}

#[test]
fn a_consumer_killed_mid_stream_builds_the_registrys_view_exactly_once() {
    if !python3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = ok(pacta(&data).args(["token", "add", "consumer-test", "--role", "admin"]));
    let mut server = Running(
        pacta(&data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let addr = listening_on(server.0.stdout.take().unwrap());
    let url = format!("http://{addr}");
    let state = dir.path().join("view.json");
    let state_arg = state.to_str().unwrap();

    // The seed data's view, read once from scratch.
    let base_state = dir.path().join("seed.json");
    let base_view = one_shot(&["--url", &url, "--state", base_state.to_str().unwrap()]);
    assert_eq!(base_view["position"], head(&addr), "{base_view}");
    let base = rows(&base_view);
    let base_applied = saved(&base_state, "applied");

    let mut desk = Desk {
        addr: addr.clone(),
        token: token.trim().to_owned(),
        activities: BTreeMap::new(),
        last_wanted: 0,
        wanted: 0,
        seed: 0x9e37_79b9_7f4a_7c15,
    };

    // Every form of the date grammar, on partnerships of five homes.
    let p = "plzensky-kraj--upper-palatinate";
    #[rustfmt::skip]
    let forms: &[Form] = &[
        (p, Some("2012-05-24"), None, Some(2012)),
        (p, Some("2008-05"), None, Some(2008)),
        (p, Some("2001"), None, Some(2001)),
        (p, Some("2011-21"), None, Some(2011)),
        (p, Some("2011-22"), None, Some(2011)),
        (p, Some("2011-23"), None, Some(2011)),
        (p, Some("2011-24"), None, None), // winter 2011/12
        (p, Some("2011-33"), None, Some(2011)),
        (p, Some("2011-36"), None, Some(2011)),
        (p, Some("2011-40"), None, Some(2011)),
        (p, Some("2011-41"), None, Some(2011)),
        ("liberecky-kraj--bursa", Some("2012-05-24?"), None, Some(2012)),
        ("liberecky-kraj--bursa", Some("2008-05~"), None, Some(2008)),
        ("liberecky-kraj--bursa", Some("2001%"), None, Some(2001)),
        ("ustecky-kraj--saxony", Some("[2011-10-31..2011-11-01]"), None, Some(2011)),
        ("ustecky-kraj--saxony", Some("[2010-12-30..2011-01-02]"), None, None),
        ("ustecky-kraj--saxony", Some("[..2011-11]"), None, None),
        ("novy-bor--mednogorsk", Some("[2011-11-02..]"), None, None), // up to today
        ("novy-bor--mednogorsk", Some("[2011-11-02..]"), Some("2011-12"), Some(2011)),
        ("ceska-lipa--molde", None, None, None), // the year it is recorded
        ("ceska-lipa--molde", None, None, None),
    ];
    let ids: Vec<String> = forms
        .iter()
        .map(|&(p, date, source, year)| desk.activity(p, date, source, year))
        .collect();
    // Corrections that move a date to another year, or out of any one year.
    desk.redate(&ids[0], "2013-02", None, Some(2013));
    desk.redate(&ids[2], "[2010-12-30..2011-01-02]", None, None);
    desk.redate(&ids[6], "2012-01", None, Some(2012)); // now counted
    desk.redate(&ids[9], "[2011-11-02..]", None, None); // up to today
    desk.redate(&ids[19], "2014-03-03", None, Some(2014)); // undated, now dated
    // A correction of data alone leaves the year; one of it is refused.
    let amended = desk.amend(&ids[1]);
    desk.refused(
        p,
        json!({"type": "Corrected", "data": {"target": amended, "date": "2009", "reason": "x"}}),
        "lifecycle event",
    );
    // Retractions; a retracted activity takes no correction nor retraction.
    desk.retract(&ids[3]);
    desk.retract(&ids[12]);
    for body in [
        json!({"type": "Corrected", "data": {"target": ids[3], "date": "2015", "reason": "x"}}),
        json!({"type": "Retracted", "data": {"target": ids[3], "reason": "again"}}),
    ] {
        desk.refused(p, body, "retracted already");
    }
    desk.unwanted("ustecky-kraj--saxony");

    // Follow, and catch up with all of that.
    let mut consumer = follower(&url, &state);
    wait_for(&mut consumer, &state, desk.last_wanted);

    // Kill -9 mid-stream while events are posted; post more while it is
    // down; restart (it pages from its position, then follows); again.
    kill_mid_stream(&mut desk, &mut consumer, &state, 150);
    desk.batch(40);
    let mut consumer = follower(&url, &state);
    wait_for(&mut consumer, &state, desk.last_wanted);
    kill_mid_stream(&mut desk, &mut consumer, &state, 150);
    let mut consumer = follower(&url, &state);
    desk.batch(30);
    wait_for(&mut consumer, &state, desk.last_wanted);
    kill9(&mut consumer);

    // The same state, caught up to the head and printed.
    let view = one_shot(&["--url", &url, "--state", state_arg]);
    let head_now = head(&addr);
    assert_eq!(view["position"], head_now, "{view}");
    assert_eq!(one_shot(&["--state", state_arg, "--print"]), view);
    let got = rows(&view);
    assert_eq!(
        got,
        desk.expected(&base),
        "the posted activities, counted once"
    );
    // Across two kills and three starts, each record was applied once.
    assert_eq!(saved(&state, "applied"), base_applied + desk.wanted);

    // From scratch, reading every record and filtering here: the same.
    let scratch = dir.path().join("scratch.json");
    let unfiltered = one_shot(&[
        "--url",
        &url,
        "--no-filter",
        "--state",
        scratch.to_str().unwrap(),
    ]);
    assert_eq!(unfiltered, view);
    assert_eq!(saved(&scratch, "applied"), base_applied + desk.wanted);

    // The annual report counts the same activities, year by year, from
    // the first year posted to the last counted (undated: this year).
    let last_year = got.keys().map(|(_, y)| *y).max().unwrap();
    for year in 1990..=last_year {
        let mine: Rows = got
            .iter()
            .filter(|((_, y), _)| *y == year)
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        assert_eq!(report(&addr, year), mine, "activities of {year}");
    }

    // The registry's own view answers the same rows at the same position.
    let answer = request(&addr, "GET", "/api/v1/views/activity", None, None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let theirs = answer.json();
    assert_eq!(theirs["view"], "activity", "{theirs}");
    assert_eq!(theirs["position"], head_now, "{theirs}");
    assert_eq!(rows(&theirs), got);

    stop(&mut server.0);
}
