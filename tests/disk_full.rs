//! A full disk: the server stops acknowledging (507 on the write that met
//! it, 503 on /healthz with the reason), and once space is freed a restart
//! has every acknowledged event, with the chain intact.
//!
//! The disk is a small tmpfs mounted for the test, so it needs root; CI
//! runs as root and must run it, elsewhere it is skipped with a message.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::http::request;
use common::{clerk_token, listening_on, ok, pacta};

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn small_disk(at: &Path) -> Option<Mount> {
    std::fs::create_dir_all(at).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=24m", "tmpfs"])
        .arg(at)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    match (mounted, std::env::var_os("CI").is_some()) {
        (true, _) => Some(Mount(at.to_path_buf())),
        (false, true) => panic!("CI must be able to mount a tmpfs (it runs as root)"),
        (false, false) => {
            eprintln!("skipped: mounting a small disk needs root");
            None
        }
    }
}

fn serve(data: &Path) -> (Child, String) {
    let mut server = pacta(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_on(server.stdout.take().unwrap());
    (server, addr)
}

/// Writes zeros until the disk refuses.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn a_full_disk_stops_acknowledgements_and_a_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = small_disk(&dir.path().join("disk")) else {
        return;
    };
    let data = dir.path().join("disk").join("data");
    let token = clerk_token(&data, "desk", "liberecky-kraj");
    let (mut server, addr) = serve(&data);
    let filler = dir.path().join("disk").join("filler");
    fill(&filler);

    let mut acked = Vec::new();
    let mut refused = None;
    for i in 0..20_000 {
        let body = format!(
            r#"{{"type":"ActivityRecorded","date":"2026-10-02","data":{{"kind":"letter"}},"note":"letter {i} {}"}}"#,
            "x".repeat(1_500)
        );
        let r = request(
            &addr,
            "POST",
            "/api/v1/partnerships/liberecky-kraj--bursa/events",
            Some(&token),
            Some(&body),
        );
        if r.status == 201 {
            acked.push((i, r.json()["events"][0]["position"].as_u64().unwrap()));
        } else {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the disk never filled");
    eprintln!(
        "the disk filled after {} acknowledged appends: {} {}",
        acked.len(),
        refused.status,
        refused.body
    );
    assert!(
        refused.status == 507 || refused.status == 503,
        "{} {}",
        refused.status,
        refused.body
    );
    assert!(refused.headers.contains("application/problem+json"));
    assert!(
        !acked.is_empty(),
        "nothing was acknowledged before the disk filled"
    );
    let health = request(&addr, "GET", "/healthz", None, None);
    assert_eq!(health.status, 503, "{}", health.body);
    // Later writes are refused too, even those that would fit.
    let again = request(
        &addr,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(&token),
        Some(r#"{"type":"ActivityRecorded","date":"2026-10-02","data":{"kind":"letter"}}"#),
    );
    assert!(
        again.status == 503 || again.status == 507,
        "{}",
        again.status
    );

    let _ = server.kill();
    server.wait().unwrap();
    std::fs::remove_file(&filler).unwrap();

    // After space is freed, a restart has every acknowledged event.
    let history = ok(pacta(&data).args(["history", "liberecky-kraj--bursa", "--format", "json"]));
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    let notes: Vec<(String, u64)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["note"].as_str().unwrap_or("").to_owned(),
                e["position"].as_u64().unwrap(),
            )
        })
        .collect();
    for (i, position) in &acked {
        let prefix = format!("letter {i} ");
        assert!(
            notes
                .iter()
                .any(|(n, p)| n.starts_with(&prefix) && p == position),
            "acknowledged letter {i} at position {position} was lost"
        );
    }
    let verify = ok(pacta(&data).args(["verify"]));
    assert!(verify.contains("ok") || verify.contains("OK"), "{verify}");
    let (mut server, addr) = serve(&data);
    let health = request(&addr, "GET", "/healthz", None, None);
    assert_eq!(health.status, 200, "{}", health.body);
    let _ = server.kill();
    server.wait().unwrap();
}
