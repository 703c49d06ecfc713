//! Proof bundles end to end with the real binary: `pacta key show` makes
//! and prints the log's verifier key; `pacta proof bundle` writes a
//! record's C2SP tlog-proof; `pacta proof verify` checks it with no data
//! directory at all, and refuses it with one byte changed, with another
//! log's key, or after a key rotation with the new key (the old key still
//! verifies it).

mod common;

use common::{fails, ok, pacta, stderr};

fn verify(bundle: &std::path::Path, key: &str, nowhere: &std::path::Path) -> std::process::Output {
    // No data directory: `--data` names one that does not exist, and it
    // must not come to exist.
    let out = pacta(nowhere)
        .args(["proof", "verify"])
        .arg(bundle)
        .args(["--key", key])
        .output()
        .unwrap();
    assert!(!nowhere.exists(), "proof verify made a data directory");
    out
}

/// `pacta witness serve` of the log whose verifier key is `vkey`, in
/// `wdir`: the process, its address and its verifier key.
fn witness_of(
    data: &std::path::Path,
    wdir: &std::path::Path,
    vkey: &str,
) -> (std::process::Child, String, String) {
    let (witness, waddr) = common::serving(
        pacta(data)
            .args(["witness", "serve", "--dir"])
            .arg(wdir)
            .args(["--name", "assembly.example/witness", "--log", vkey])
            .args(["--listen", "127.0.0.1:0"]),
    );
    let wkey = ok(pacta(data).args(["witness", "key", "--dir"]).arg(wdir))
        .trim()
        .to_owned();
    (witness, waddr, wkey)
}

#[test]
fn a_bundle_verifies_offline_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let (data, other, nowhere) = (
        dir.path().join("data"),
        dir.path().join("other"),
        dir.path().join("nowhere"),
    );
    ok(pacta(&data).arg("init"));
    let key = ok(pacta(&data).args(["key", "show"])).trim().to_owned();
    assert!(key.starts_with("localhost/pacta+"), "{key}");
    assert_eq!(
        ok(pacta(&data).args(["key", "show"])).trim(),
        key,
        "one key"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("log-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    for position in [1u64, 100, 221] {
        let bundle = dir.path().join(format!("{position}.proof"));
        ok(pacta(&data)
            .args(["proof", "bundle", &position.to_string(), "--output"])
            .arg(&bundle));
        let out = verify(&bundle, &key, &nowhere);
        assert!(out.status.success(), "{}", stderr(&out));
        let said = String::from_utf8(out.stdout).unwrap();
        assert!(
            said.starts_with(&format!("ok: record {position} ")),
            "{said}"
        );
        assert!(said.contains("of 221 records"), "{said}");
        assert!(std::fs::metadata(&bundle).unwrap().len() < 4096);
    }

    // One byte changed anywhere that matters fails.
    let bundle = dir.path().join("100.proof");
    let text = std::fs::read(&bundle).unwrap();
    let lines: Vec<usize> = {
        let mut starts = vec![0];
        starts.extend(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        starts
    };
    // In the record, the index, a hash of the path, the root, the
    // signature.
    for (line, col) in [
        (1, 20),
        (2, 6),
        (3, 3),
        (lines.len() - 4, 4),
        (lines.len() - 2, 30),
    ] {
        let mut changed = text.clone();
        let at = lines[line] + col;
        changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
        let path = dir.path().join("changed.proof");
        std::fs::write(&path, &changed).unwrap();
        let out = verify(&path, &key, &nowhere);
        assert!(
            !out.status.success(),
            "a byte changed at line {line} still verifies"
        );
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    }

    // Another registry's key does not verify this log's bundle.
    ok(pacta(&other).arg("init"));
    let other_key = ok(pacta(&other).args(["key", "show"])).trim().to_owned();
    assert_ne!(other_key, key);
    assert!(!verify(&bundle, &other_key, &nowhere).status.success());

    // After a rotation the old bundle verifies with the old key only, and
    // a new bundle with the new key only.
    let rotated = ok(pacta(&data).args(["key", "rotate"])).trim().to_owned();
    assert_ne!(rotated, key);
    assert_eq!(ok(pacta(&data).args(["key", "show"])).trim(), rotated);
    assert!(verify(&bundle, &key, &nowhere).status.success());
    assert!(!verify(&bundle, &rotated, &nowhere).status.success());
    let fresh = dir.path().join("fresh.proof");
    ok(pacta(&data)
        .args(["proof", "bundle", "100", "--output"])
        .arg(&fresh));
    assert!(verify(&fresh, &rotated, &nowhere).status.success());
    assert!(!verify(&fresh, &key, &nowhere).status.success());

    // A key read from a file works as the key itself.
    let key_file = dir.path().join("vkey");
    std::fs::write(&key_file, format!("{rotated}\n")).unwrap();
    assert!(
        verify(&fresh, key_file.to_str().unwrap(), &nowhere)
            .status
            .success()
    );
    // Bad input: a position past the head, a file that is no bundle.
    let out = fails(pacta(&data).args(["proof", "bundle", "999"]));
    assert!(stderr(&out).contains("999"), "{}", stderr(&out));
    std::fs::write(dir.path().join("junk"), "not a proof\n").unwrap();
    assert!(
        !verify(&dir.path().join("junk"), &key, &nowhere)
            .status
            .success()
    );
}

/// `verify --checkpoint`: today's tree extends a checkpoint signed before
/// (through a running server too); a record rewritten and the tree rebuilt
/// over it, or a checkpoint of another log, fails.
#[test]
fn verify_checkpoint_checks_the_tree_against_an_old_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (data, other) = (dir.path().join("data"), dir.path().join("other"));
    ok(pacta(&data).arg("init"));
    let old = dir.path().join("old.proof");
    ok(pacta(&data)
        .args(["proof", "bundle", "1", "--output"])
        .arg(&old));
    let said = ok(pacta(&data).args(["verify", "--checkpoint"]).arg(&old));
    let report: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(report["ok"], true, "{said}");
    assert_eq!(report["checkpoint"]["size"], 221);

    // The log grows through the server; checked through it, then stopped.
    let token = common::clerk_token(&data, "desk", "liberecky-kraj");
    let (mut server, addr) =
        common::serving(pacta(&data).args(["serve", "--listen", "127.0.0.1:0"]));
    for day in 1..=3 {
        let body = format!(
            r#"{{"type":"ActivityRecorded","date":"2026-10-0{day}","data":{{"kind":"letter"}}}}"#
        );
        let r = common::http::request(
            &addr,
            "POST",
            "/api/v1/partnerships/liberecky-kraj--bursa/events",
            Some(&token),
            Some(&body),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // The server publishes a checkpoint every 5 s while the tree grows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let now = loop {
        let now = common::http::request(&addr, "GET", "/checkpoint", None, None);
        if now.body.lines().nth(1) != Some("221") {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "no newer checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    let newer = dir.path().join("newer.checkpoint");
    std::fs::write(&newer, &now.body).unwrap();
    let said = ok(pacta(&data).args(["verify", "--checkpoint"]).arg(&old));
    let report: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(report["ok"], true, "{said}");
    // The tree follows the log behind the acknowledgement, and the
    // server's checkpoint may be up to 5 s old: it has grown, perhaps not
    // yet to all three.
    let grown = report["tree"]["size"].as_u64().unwrap();
    assert!((222..=224).contains(&grown), "{said}");
    common::stop(&mut server);
    let said = ok(pacta(&data).args(["verify", "--checkpoint"]).arg(&newer));
    assert!(said.contains(r#""ok": true"#), "{said}");

    // Another log's checkpoint is refused for its signature.
    ok(pacta(&other).arg("init"));
    let foreign = dir.path().join("foreign.proof");
    ok(pacta(&other)
        .args(["proof", "bundle", "1", "--output"])
        .arg(&foreign));
    let out = fails(pacta(&data).args(["verify", "--checkpoint"]).arg(&foreign));
    assert!(
        stderr(&out).contains("not a checkpoint signed by this log's key"),
        "{}",
        stderr(&out)
    );

    // An insider rewrites record 50 (a valid write of the store's own
    // database). Its inclusion proof against the checkpoint published
    // before fails, and the full walk names it: its bytes fit neither
    // the chain nor the tree's leaf.
    let old_checkpoint = {
        let text = std::fs::read_to_string(&old).unwrap();
        let note = &text[text.find("\n\n").unwrap() + 2..];
        let body = &note[..note.rfind("\n\n").unwrap() + 1];
        pacta_tlog::checkpoint::Checkpoint::parse(body).unwrap()
    };
    {
        let store = pacta_store::Store::open(&data).unwrap();
        let leaf = pacta_tlog::leaf_hash(&store.leaf_bytes(50).unwrap().unwrap());
        let path = store.prove_inclusion(50, 221).unwrap();
        pacta_tlog::check_record(&path, 221, old_checkpoint.root, 49, leaf).unwrap();
        store
            .tamper_for_tests(50, |bytes| {
                let at = bytes.windows(7).position(|w| w == b"\"note\":").unwrap();
                bytes[at + 9] ^= 0x01;
            })
            .unwrap();
        let leaf = pacta_tlog::leaf_hash(&store.leaf_bytes(50).unwrap().unwrap());
        let path = store.prove_inclusion(50, 221).unwrap();
        assert!(pacta_tlog::check_record(&path, 221, old_checkpoint.root, 49, leaf).is_err());
    }
    let out = fails(pacta(&data).arg("verify"));
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.contains(r#""first_bad_position": 50"#), "{said}");

    // The insider also rebuilds the tree over the rewritten record: the
    // tree no longer extends the old checkpoint, and the check names the
    // first bad record.
    {
        let store = pacta_store::Store::open(&data).unwrap();
        store.rebuild_indexes(&mut |_, _| {}).unwrap();
    }
    let out = fails(pacta(&data).args(["verify", "--checkpoint"]).arg(&old));
    assert!(
        stderr(&out).contains("does not extend the checkpoint")
            && stderr(&out).contains("the first bad record is at position 50"),
        "{}",
        stderr(&out)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    let report: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(report["ok"], false, "{said}");
    assert_eq!(report["first_bad_position"], 50, "{said}");
}

/// A record rewritten together with its chain hash, so that the chain
/// alone cannot tell, still differs from the leaf the Merkle tree holds:
/// the full walk names it.
#[test]
fn a_record_rewritten_with_its_chain_hash_differs_from_its_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(pacta(&data).arg("init"));
    {
        let store = pacta_store::Store::open(&data).unwrap();
        let head = store.head().position;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store.tree_size().unwrap() < head {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        store
            .rewrite_rechained_for_tests(head, b"\"recorded_at\":\"20", b"\"recorded_at\":\"19")
            .unwrap();
    }
    let out = fails(pacta(&data).arg("verify"));
    let said = String::from_utf8(out.stdout).unwrap();
    let report: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(report["first_bad_position"], 221, "{said}");
    assert!(
        report["reason"].as_str().unwrap().contains("Merkle tree"),
        "{said}"
    );
}

/// A witness process cosigns a running registry's checkpoints as the log
/// grows, over HTTP, and answers a stale submission with 409 and the size
/// it holds.
#[test]
fn a_witness_cosigns_a_registry_as_it_grows() {
    use pacta_tlog::{checkpoint::Checkpoint, cosignature, note};
    let dir = tempfile::tempdir().unwrap();
    let (data, wdir) = (dir.path().join("data"), dir.path().join("witness"));
    ok(pacta(&data).arg("init"));
    let vkey = ok(pacta(&data).args(["key", "show"])).trim().to_owned();
    let token = common::clerk_token(&data, "desk", "liberecky-kraj");
    let serve = common::serving;
    let (mut registry, addr) = serve(pacta(&data).args(["serve", "--listen", "127.0.0.1:0"]));
    let (mut witness, waddr, wkey) = witness_of(&data, &wdir, &vkey);
    let wkey = note::Verifier::from_vkey(&wkey).unwrap();
    let get = |path: &str| common::http::request(&addr, "GET", path, None, None).body;
    let submit =
        |body: &str| common::http::request(&waddr, "POST", "/add-checkpoint", None, Some(body));
    let body_of = |signed: &str| {
        let opened = note::open(signed, &[&note::Verifier::from_vkey(&vkey).unwrap()]).unwrap();
        opened.text
    };

    let first = get("/checkpoint");
    let r = submit(&format!("old 0\n\n{first}"));
    assert_eq!(r.status, 200, "{}", r.body);
    cosignature::verify_line(&wkey, &body_of(&first), r.body.trim_end()).unwrap();

    let post = common::http::request(
        &addr,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(&token),
        Some(r#"{"type":"ActivityRecorded","date":"2026-10-02","data":{"kind":"letter"}}"#),
    );
    assert_eq!(post.status, 201, "{}", post.body);
    // The next checkpoint (signed when the tree grew and 5 s passed).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let next = loop {
        let c = get("/checkpoint");
        if Checkpoint::parse(&body_of(&c)).unwrap().size == 222 {
            break c;
        }
        assert!(std::time::Instant::now() < deadline, "no new checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    let proof: serde_json::Value =
        serde_json::from_str(&get("/api/v1/proofs/consistency?from=221&to=222")).unwrap();
    let lines: String = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| format!("{}\n", h.as_str().unwrap()))
        .collect();
    let r = submit(&format!("old 221\n{lines}\n{next}"));
    assert_eq!(r.status, 200, "{}", r.body);
    cosignature::verify_line(&wkey, &body_of(&next), r.body.trim_end()).unwrap();
    // A stale submission: 409 and the size the witness holds.
    let r = submit(&format!("old 0\n\n{first}"));
    assert_eq!((r.status, r.body.as_str()), (409, "222\n"));
    assert!(r.headers.contains("text/x.tlog.size"), "{}", r.headers);
    common::stop(&mut registry);
    witness.kill().unwrap();
    witness.wait().unwrap();
}

/// A registry configured with a witness submits each new checkpoint to
/// it on its own, lists what the witness cosigned, serves the
/// cosignature with the checkpoint, and puts it into proof bundles that
/// `pacta proof verify --witness` checks; a bundle does not pass for a
/// witness that did not cosign it.
#[test]
fn a_registry_submits_its_checkpoints_to_its_witness_and_serves_the_cosignatures() {
    use pacta_tlog::note;
    let dir = tempfile::tempdir().unwrap();
    let (data, wdir, stranger, nowhere) = (
        dir.path().join("data"),
        dir.path().join("witness"),
        dir.path().join("stranger"),
        dir.path().join("nowhere"),
    );
    ok(pacta(&data).arg("init"));
    let vkey = ok(pacta(&data).args(["key", "show"])).trim().to_owned();
    let token = common::clerk_token(&data, "desk", "liberecky-kraj");
    let (mut witness, waddr, wkey) = witness_of(&data, &wdir, &vkey);
    let (mut registry, addr) = common::serving(
        pacta(&data)
            .args(["serve", "--listen", "127.0.0.1:0", "--witness"])
            .arg(format!("http://{waddr}={wkey}")),
    );
    let get = |path: &str| common::http::request(&addr, "GET", path, None, None).body;
    // Waits until the witness has cosigned the tree of `size` records.
    let cosigned = |size: u64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let listed: serde_json::Value =
                serde_json::from_str(&get("/api/v1/proofs/witnesses")).unwrap();
            let w = &listed[0];
            if w["size"] == size && w["cosignature"].is_string() {
                assert_eq!(w["key"], wkey.as_str());
                assert_eq!(w["error"], serde_json::Value::Null);
                return w["cosignature"].as_str().unwrap().to_owned();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not cosigned at {size}: {listed}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    let line = cosigned(221);
    let served = get("/checkpoint");
    assert!(served.ends_with(&format!("{line}\n")), "{served}");
    let opened = note::open(
        &served,
        &[
            &note::Verifier::from_vkey(&vkey).unwrap(),
            &note::Verifier::from_vkey(&wkey).unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(opened.verified.len(), 2, "log and witness signatures");

    let post = common::http::request(
        &addr,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(&token),
        Some(r#"{"type":"ActivityRecorded","date":"2026-10-02","data":{"kind":"letter"}}"#),
    );
    assert_eq!(post.status, 201, "{}", post.body);
    cosigned(222);
    let bundle = dir.path().join("222.proof");
    ok(pacta(&data)
        .args(["proof", "bundle", "222", "-o"])
        .arg(&bundle));
    let out = pacta(&nowhere)
        .args(["proof", "verify"])
        .arg(&bundle)
        .args(["--key", &vkey, "--witness", &wkey])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("cosigned by witness assembly.example/witness"),
        "{said}"
    );
    // Another witness's key: it never cosigned this checkpoint.
    let other = ok(pacta(&data)
        .args(["witness", "key", "--dir"])
        .arg(&stranger)
        .args(["--name", "assembly.example/witness"]))
    .trim()
    .to_owned();
    let out = pacta(&nowhere)
        .args(["proof", "verify"])
        .arg(&bundle)
        .args(["--key", &vkey, "--witness", &other])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not cosigned by witness"),
        "{}",
        stderr(&out)
    );
    assert!(!nowhere.exists());
    common::stop(&mut registry);

    // A registry that lost what its witness holds submits from 0, hears
    // 409 and the size, and resubmits from there: cosigned again.
    std::fs::remove_file(data.join("witnesses.json")).unwrap();
    let (mut registry, addr) = common::serving(
        pacta(&data)
            .args(["serve", "--listen", "127.0.0.1:0", "--witness"])
            .arg(format!("http://{waddr}={wkey}")),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let listed = common::http::request(&addr, "GET", "/api/v1/proofs/witnesses", None, None);
        let listed: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
        if listed[0]["size"] == 222 && listed[0]["cosignature"].is_string() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{listed}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    common::stop(&mut registry);
    witness.kill().unwrap();
    witness.wait().unwrap();
}
