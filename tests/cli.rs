//! The command line's manners: one-line errors with a non-zero exit, and
//! the token commands' listing.

mod common;

use common::{fails, ok, pacta, stderr};

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    let data = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["valid-on", "2023-02-29"], "2023-02-29"),
        (&["valid-on"], "<DATE>"),
        (&["list", "--format", "xml"], "xml"),
        (&["list", "--bogus"], "--bogus"),
        (&["nothing"], "nothing"),
    ];
    for (args, named) in cases {
        let out = fails(pacta(data.path()).args(*args));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got:\n{err}");
        assert!(
            err.starts_with("error: ") && err.contains(named),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Asking for help is no error.
    let help = ok(pacta(data.path()).args(["valid-on", "--help"]));
    assert!(help.contains("--as-known-at"), "{help}");
}

#[test]
fn tokens_are_listed_without_their_secrets() {
    let data = tempfile::tempdir().unwrap();
    let token = ok(pacta(data.path()).args([
        "token",
        "add",
        "liberec-desk",
        "--role",
        "clerk",
        "--party",
        "liberecky-kraj",
    ]));
    let token = token.trim();
    assert!(!token.is_empty());
    ok(pacta(data.path()).args(["token", "revoke", "liberec-desk"]));
    let list: serde_json::Value = serde_json::from_str(&ok(
        pacta(data.path()).args(["token", "list", "--format", "json"])
    ))
    .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["name"], "liberec-desk");
    assert_eq!(items[0]["role"], "clerk");
    assert_eq!(items[0]["party"], "liberecky-kraj");
    assert!(items[0]["revoked_at"].is_string(), "{list}");
    assert!(
        !list.to_string().contains(token),
        "the token itself is never shown again"
    );
    let table = ok(pacta(data.path()).args(["token", "list"]));
    assert!(
        table.contains("liberec-desk") && !table.contains(token),
        "{table}"
    );
}
