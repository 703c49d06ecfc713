//! The web pages in a real browser: headless Chromium driven through
//! chromedriver (WebDriver) against `pacta serve` on a free port. A person
//! picks days with the date control, searches, opens a partnership and
//! switches language, as they would. Screenshots of each page at desktop
//! and phone width are saved under `target/screenshots/` to look at.
//!
//! Skipped with a message when chromedriver is not installed, except under
//! `CI=true`, where it fails (`.ci/run` installs Debian's chromium and
//! chromium-driver).

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{listening_on, ok, pacta, stop};
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver on a free port, ready for sessions.
fn chromedriver() -> Option<(Child, String)> {
    if !Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromedriver is missing; .ci/run installs chromium-driver"
        );
        eprintln!("skipped: no browser (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((child, format!("http://127.0.0.1:{port}")))
}

async fn browser(webdriver: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--window-size=1280,1400"]}),
    );
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({"browser": "ALL"}),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(webdriver)
        .await
        .expect("a browser session")
}

/// `(id, data-in-force)` of every partnership row on the page.
async fn rows(c: &Client) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for row in c
        .find_all(Locator::Css("tr[data-partnership]"))
        .await
        .unwrap()
    {
        out.push((
            row.attr("data-partnership").await.unwrap().unwrap(),
            row.attr("data-in-force").await.unwrap().unwrap(),
        ));
    }
    out
}

/// Waits until the address holds `needle` (a form submitted by script).
async fn wait_for_url(c: &Client, needle: &str) {
    let started = Instant::now();
    loop {
        let url = c.current_url().await.unwrap();
        if url.as_str().contains(needle) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still at {url}, not {needle}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Errors the page's console reported since the last call.
async fn console_errors(c: &Client) -> Vec<String> {
    // chromedriver's log endpoint (not in WebDriver proper).
    let logs = c.issue_cmd(GetLog).await.unwrap_or(serde_json::Value::Null);
    logs.as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["level"] == "SEVERE")
                .map(|e| e["message"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug)]
struct GetLog;

impl fantoccini::wd::WebDriverCompatibleCommand for GetLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

async fn screenshot(c: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for (width, suffix) in [(1280, "desktop"), (390, "phone")] {
        c.set_window_size(width, 1400).await.unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}-{suffix}.png")), png).unwrap();
    }
    c.set_window_size(1280, 1400).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_uses_the_pages_in_a_browser() {
    let Some((mut driver, webdriver)) = chromedriver() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    ok(pacta(dir.path()).arg("init"));
    let mut server = pacta(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{}", listening_on(server.stdout.take().unwrap()));
    let c = browser(&webdriver).await;

    // The home page on 28 February 2022: Liberec–Orenburg in force.
    c.goto(&format!("{base}/?on=2022-02-28")).await.unwrap();
    let orenburg = (
        "liberecky-kraj--orenburg-oblast".to_owned(),
        "yes".to_owned(),
    );
    assert!(rows(&c).await.contains(&orenburg));
    let lang = c
        .find(Locator::Css("html"))
        .await
        .unwrap()
        .attr("lang")
        .await
        .unwrap();
    assert_eq!(lang.as_deref(), Some("cs"));
    screenshot(&c, "home").await;
    // The date control moved to 1 March: denounced, no longer listed.
    c.execute(
        "const d = document.getElementById('on'); d.value = '2022-03-01'; \
         d.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    wait_for_url(&c, "on=2022-03-01").await;
    assert!(!rows(&c).await.iter().any(|(id, _)| id == &orenburg.0));
    // With every partnership shown, it is there as not in force.
    c.goto(&format!("{base}/?on=2022-03-01&in_force=all"))
        .await
        .unwrap();
    assert!(
        rows(&c)
            .await
            .contains(&(orenburg.0.clone(), "no".to_owned()))
    );

    // Searching without diacritics.
    c.goto(&format!("{base}/?on=2022-02-28")).await.unwrap();
    let q = c.find(Locator::Css("input[name=q]")).await.unwrap();
    q.send_keys("plzen").await.unwrap();
    c.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "q=plzen").await;
    let found = rows(&c).await;
    assert_eq!(found.len(), 11, "{found:?}");
    assert!(
        found
            .iter()
            .all(|(id, _)| id.starts_with("plzensky-kraj--"))
    );

    // The notice board finds Čuhujiv typed without its diacritics.
    c.goto(&format!("{base}/offers")).await.unwrap();
    screenshot(&c, "offers").await;
    c.find(Locator::Css("input[name=q]"))
        .await
        .unwrap()
        .send_keys("cuhujiv")
        .await
        .unwrap();
    c.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "q=cuhujiv").await;
    let offers = c.find_all(Locator::Css("tr[data-offer]")).await.unwrap();
    assert!(!offers.is_empty());
    let text = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("Čuhujiv") || text.contains("Chuhuiv"),
        "{text}"
    );

    // A partnership with an open-ended stagnation: its span drawn uncertain.
    c.goto(&format!("{base}/partnerships/liberecky-kraj--ha-tinh"))
        .await
        .unwrap();
    let uncertain = c
        .find_all(Locator::Css(
            "rect[data-status=stagnating][data-certain=false]",
        ))
        .await
        .unwrap();
    assert!(!uncertain.is_empty());
    screenshot(&c, "partnership").await;

    // Switching to English keeps the view, and the choice.
    c.find(Locator::Css("a.lang"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "lang=en").await;
    let lang = c
        .find(Locator::Css("html"))
        .await
        .unwrap()
        .attr("lang")
        .await
        .unwrap();
    assert_eq!(lang.as_deref(), Some("en"));
    c.goto(&format!("{base}/")).await.unwrap();
    let lang = c
        .find(Locator::Css("html"))
        .await
        .unwrap()
        .attr("lang")
        .await
        .unwrap();
    assert_eq!(lang.as_deref(), Some("en"), "the cookie keeps English");

    // The map, where it is served.
    c.goto(&format!("{base}/map?on=2022-02-28")).await.unwrap();
    let markers = c
        .find_all(Locator::Css("[data-partnership][data-in-force]"))
        .await
        .unwrap();
    if !markers.is_empty() {
        screenshot(&c, "map").await;
    }

    let errors = console_errors(&c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    c.close().await.unwrap();
    stop(&mut server);
    let _ = driver.kill();
    let _ = driver.wait();
}
