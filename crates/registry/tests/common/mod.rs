//! Helpers shared by the registry's tests.

use pacta_registry::{Actor, Registry};

/// A registry in a fresh directory holding the bundled seed data.
pub fn seeded() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path()).unwrap();
    registry
        .load_seeds(
            &pacta_registry::seeds::bundled(),
            &Actor::system("seed"),
            false,
        )
        .unwrap();
    (dir, registry)
}

/// Appends one dated letter to the partnership Liberec–Bursa.
#[allow(dead_code)]
pub fn append_letter(registry: &Registry) {
    let event = serde_json::from_value(serde_json::json!({
        "type": "ActivityRecorded", "date": "2026-10-02", "data": {"kind": "letter"}}))
    .unwrap();
    registry
        .execute_blocking(
            &Actor::system("test"),
            pacta_registry::Command {
                stream: "partnership/liberecky-kraj--bursa".parse().unwrap(),
                events: vec![(None, event)],
                expected_version: None,
            },
        )
        .unwrap();
}
