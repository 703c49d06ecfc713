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
