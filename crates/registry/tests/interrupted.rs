//! A projection whose last commit was cut short (the process died between
//! the keyspace's plain writes) finds its keyspace dirty on the next open,
//! is rebuilt from the log, and answers as before.

use pacta_domain::Day;
use pacta_projections::{ListFilter, Projections};
use pacta_registry::Registry;
use pacta_store::kv::{Checkpoint, WriteSet};

mod common;

/// What the projections answer: every partnership's state and names on a
/// few days, every party, every offer.
fn answers(projections: &Projections) -> Vec<String> {
    let mut out = Vec::new();
    for day in ["1999-06-01", "2008-01-01", "2022-02-24", "2030-01-01"] {
        let filter = ListFilter {
            party: None,
            status: None,
            valid_on: None,
            in_force: Default::default(),
            as_known_at: None,
            today: day.parse::<Day>().unwrap(),
        };
        projections.partnerships().for_each(&filter, |r| {
            out.push(format!(
                "{day} {} {} {} {} {:?}",
                r.header.id, r.home_name, r.partner_name, r.state.status, r.state.in_force
            ));
        });
    }
    out.extend(projections.parties().all().iter().map(|p| format!("{p:?}")));
    out.extend(
        projections
            .offers()
            .list(None)
            .iter()
            .map(|o| format!("{o:?}")),
    );
    out
}

/// The partnerships' keyspace at its current format.
fn partnerships_keyspace() -> String {
    use pacta_projections::Projection;
    let p = pacta_projections::partnerships::Partnerships::default();
    pacta_projections::keyspace_name(p.name(), p.format())
}

#[test]
fn a_commit_cut_short_is_seen_and_the_projection_rebuilt() {
    let (dir, registry) = common::seeded();
    let expected = answers(registry.projections());
    assert!(expected.len() > 100, "{}", expected.len());
    let head = registry.store().head().position;
    drop(registry);

    // The next commit of the partnerships' keyspace stops after its
    // marker and its first write, which overwrites the first segment.
    {
        let store = pacta_store::Store::open(dir.path()).unwrap();
        let keyspace = store.keyspace(&partnerships_keyspace()).unwrap();
        assert_eq!(keyspace.checkpoint().unwrap(), Checkpoint::Clean(head));
        let first = keyspace.read().iter().next().unwrap().unwrap().0;
        let mut writes = WriteSet::new();
        writes.put(first, [0xee]);
        writes.put((head + 1).to_be_bytes(), [0xee]);
        keyspace.commit_interrupted(&writes, head + 1, 2).unwrap();
        assert_eq!(
            keyspace.checkpoint().unwrap(),
            Checkpoint::Dirty { since: head }
        );
    }

    // Opening rebuilds it from position 0; the others load as they were.
    let registry = Registry::open(dir.path()).unwrap();
    assert_eq!(answers(registry.projections()), expected);
    for (name, checkpoint) in registry.projections().checkpoints() {
        assert_eq!(checkpoint, head, "projection {name}");
    }
    registry.projections().persist().unwrap();
    let keyspace = registry.store().keyspace(&partnerships_keyspace()).unwrap();
    assert_eq!(keyspace.checkpoint().unwrap(), Checkpoint::Clean(head));
    drop((keyspace, registry));
    let registry = Registry::open(dir.path()).unwrap();
    assert_eq!(answers(registry.projections()), expected);
}
