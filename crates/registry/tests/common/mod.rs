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
