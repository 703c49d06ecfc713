//! The witness cosigns a log's checkpoints only as they grow
//! consistently: a stale old size is 409 with the size it holds, a forked
//! history 422, an unknown log 404, a signature it cannot trust 403; its
//! state survives a restart.

use pacta_registry::witness::Witness;
use pacta_tlog::checkpoint::Checkpoint;
use pacta_tlog::note::Signer;
use pacta_tlog::{Hash, cosignature, note};

mod common;

/// A log of `n` leaves made from `seed`, as stored hashes.
fn log(seed: u8, n: u64) -> Vec<Hash> {
    let mut stored = Vec::new();
    for i in 0..n {
        let leaf = [seed, (i >> 8) as u8, i as u8];
        let hashes = pacta_tlog::stored_hashes(i, &leaf, &stored).unwrap();
        stored.extend(hashes);
    }
    stored
}

fn signed(key: &Signer, stored: &[Hash], size: u64) -> (String, String) {
    let root = pacta_tlog::tree_hash(size, &stored).unwrap();
    let body = Checkpoint::new(key.name(), size, root).to_body().unwrap();
    (note::sign(&body, &[key]).unwrap(), body)
}

fn request(old: u64, proof: &[Hash], note: &str) -> String {
    let mut out = format!("old {old}\n");
    for h in proof {
        out.push_str(&h.to_base64());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(note);
    out
}

#[test]
fn the_witness_cosigns_only_a_consistently_growing_log() {
    let dir = tempfile::tempdir().unwrap();
    let key = Signer::new("region.example/pacta", &[1; 32]).unwrap();
    let vkey = key.verifier().to_vkey();
    let witness = Witness::open(
        dir.path(),
        "assembly.example/witness",
        std::slice::from_ref(&vkey),
    )
    .unwrap();
    let wkey = note::Verifier::from_vkey(&witness.verifier_key()).unwrap();
    let history = log(0, 40);

    // First sight: old 0, no proof.
    let (n10, body10) = signed(&key, &history, 10);
    let line = witness
        .add_checkpoint(&request(0, &[], &n10), 1_700_000_000)
        .unwrap();
    assert_eq!(
        cosignature::verify_line(&wkey, &body10, line.trim_end()).unwrap(),
        1_700_000_000
    );
    // Growth with a consistency proof.
    let (n20, body20) = signed(&key, &history, 20);
    let proof = pacta_tlog::prove_tree(20, 10, &history).unwrap();
    let line = witness
        .add_checkpoint(&request(10, &proof, &n20), 1_700_000_100)
        .unwrap();
    cosignature::verify_line(&wkey, &body20, line.trim_end()).unwrap();
    // The same checkpoint again: old 20, no proof.
    witness
        .add_checkpoint(&request(20, &[], &n20), 1_700_000_200)
        .unwrap();

    // A client that thinks the witness is at 10: 409, with the size.
    let (n30, _) = signed(&key, &history, 30);
    let proof = pacta_tlog::prove_tree(30, 10, &history).unwrap();
    let r = witness
        .add_checkpoint(&request(10, &proof, &n30), 0)
        .unwrap_err();
    assert_eq!((r.status, r.body.as_str()), (409, "20\n"));

    // A forked history signed by the same key: the witness refuses it
    // whatever proof it comes with.
    let fork = log(9, 40);
    let (f30, _) = signed(&key, &fork, 30);
    let proof = pacta_tlog::prove_tree(30, 20, &fork).unwrap();
    let r = witness
        .add_checkpoint(&request(20, &proof, &f30), 0)
        .unwrap_err();
    assert_eq!(r.status, 422, "{}", r.body);
    let proof = pacta_tlog::prove_tree(30, 20, &history).unwrap();
    assert_eq!(
        witness
            .add_checkpoint(&request(20, &proof, &f30), 0)
            .unwrap_err()
            .status,
        422
    );
    // The fork's own idea of where the witness is: 409.
    let proof = pacta_tlog::prove_tree(30, 15, &fork).unwrap();
    assert_eq!(
        witness
            .add_checkpoint(&request(15, &proof, &f30), 0)
            .unwrap_err()
            .status,
        409
    );

    // An unknown log: 404; the right name with another key: 403.
    let stranger = Signer::new("other.example/log", &[2; 32]).unwrap();
    let (s10, _) = signed(&stranger, &history, 10);
    assert_eq!(
        witness
            .add_checkpoint(&request(0, &[], &s10), 0)
            .unwrap_err()
            .status,
        404
    );
    let impostor = Signer::new("region.example/pacta", &[3; 32]).unwrap();
    let (i30, _) = signed(&impostor, &history, 30);
    let proof = pacta_tlog::prove_tree(30, 20, &history).unwrap();
    assert_eq!(
        witness
            .add_checkpoint(&request(20, &proof, &i30), 0)
            .unwrap_err()
            .status,
        403
    );
    // Malformed: 400.
    assert_eq!(
        witness.add_checkpoint("old x\n\n", 0).unwrap_err().status,
        400
    );
    assert_eq!(
        witness
            .add_checkpoint(&request(31, &[], &n30), 0)
            .unwrap_err()
            .status,
        400
    );

    // The state survives a restart; the key too.
    let again = Witness::open(dir.path(), "ignored/name", &[vkey]).unwrap();
    assert_eq!(again.latest("region.example/pacta"), 20);
    assert_eq!(again.verifier_key(), witness.verifier_key());
    let proof = pacta_tlog::prove_tree(30, 20, &history).unwrap();
    again
        .add_checkpoint(&request(20, &proof, &n30), 1_700_000_300)
        .unwrap();
    assert_eq!(again.latest("region.example/pacta"), 30);
}

/// The registry's side: it builds each submission from what its witness
/// last cosigned, keeps a cosignature only when it verifies over the very
/// checkpoint submitted, serves it with that checkpoint alone, recovers
/// from a 409 by resubmitting from the size the witness names, and puts
/// the cosignature into proof bundles a reader checks with the witness's
/// key.
#[test]
fn the_registry_keeps_only_cosignatures_that_verify_and_resubmits_after_409() {
    use pacta_registry::transparency::{LogKey, verify_witnessed_bundle};
    use pacta_registry::witnessing::{Answer, WitnessRef, Witnesses};

    let (dir, registry) = common::seeded();
    let data = registry.store().path().to_path_buf();
    let key = LogKey::load_or_create(&data).unwrap();
    let wdir = dir.path().join("witness");
    let witness = Witness::open(&wdir, "assembly.example/witness", &[key.verifier_key()]).unwrap();
    let wkey = witness.verifier_key();
    let reference =
        |vkey: &str| -> WitnessRef { format!("http://127.0.0.1:9/={vkey}").parse().unwrap() };
    let name = "assembly.example/witness";
    let witnesses = Witnesses::open(&data, vec![reference(&wkey)]).unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let head = registry.store().head().position;
    while registry.store().tree_size().unwrap() < head {
        assert!(
            std::time::Instant::now() < deadline,
            "the tree does not follow the log"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let first = registry.checkpoint(&key).unwrap();
    let body = witnesses.request(&registry, name, &first).unwrap().unwrap();
    assert!(body.starts_with("old 0\n\n"), "{body}");
    // An answer that is not the witness's cosignature of this checkpoint
    // is not kept: a line by another key, and one over another text.
    let impostor = pacta_tlog::cosignature::Cosigner::new(name, &[9; 32]).unwrap();
    let text = first.note.split_once("\n\n").unwrap().0.to_owned() + "\n";
    let forged = impostor.sign(&text, 1).unwrap();
    assert!(matches!(
        witnesses.answered(name, &first, 200, &forged),
        Answer::Failed(_)
    ));
    assert_eq!(witnesses.cosigned(&first), first.note);
    let line = witness.add_checkpoint(&body, 1_700_000_000).unwrap();
    assert_eq!(
        witnesses.answered(name, &first, 200, &line),
        Answer::Cosigned
    );
    let served = witnesses.cosigned(&first);
    assert_eq!(served, format!("{}{}", first.note, line));
    // Nothing more to submit for this checkpoint.
    assert_eq!(witnesses.request(&registry, name, &first).unwrap(), None);

    // The log grows; the next submission proves consistency from 221.
    common::append_letter(&registry);
    let grown = registry.store().head().position;
    while registry.store().tree_size().unwrap() < grown {
        assert!(
            std::time::Instant::now() < deadline,
            "the tree does not follow the log"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let next = registry.checkpoint(&key).unwrap();
    // The old cosignature is not served with the new checkpoint.
    assert_eq!(witnesses.cosigned(&next), next.note);
    let body = witnesses.request(&registry, name, &next).unwrap().unwrap();
    assert!(body.starts_with(&format!("old {}\n", first.size)), "{body}");
    let line = witness.add_checkpoint(&body, 1_700_000_100).unwrap();
    assert_eq!(
        witnesses.answered(name, &next, 200, &line),
        Answer::Cosigned
    );

    // A proof bundle against the cosigned checkpoint verifies with the
    // witness's key, and not with a key of another witness.
    let mut cosigned = next.clone();
    cosigned.note = witnesses.cosigned(&next);
    let bundle = registry.proof_bundle(grown, &cosigned).unwrap();
    let verified =
        verify_witnessed_bundle(&bundle, &key.verifier_key(), std::slice::from_ref(&wkey)).unwrap();
    assert_eq!(verified.cosigned_by, vec![(name.to_owned(), 1_700_000_100)]);
    let other = Witness::open(&dir.path().join("other"), name, &[key.verifier_key()]).unwrap();
    assert!(
        verify_witnessed_bundle(&bundle, &key.verifier_key(), &[other.verifier_key()]).is_err()
    );

    // A registry that forgot what the witness holds (its file lost)
    // starts from 0, hears 409 and the size, and resubmits from there.
    std::fs::remove_file(data.join(pacta_registry::witnessing::WITNESSES_FILE)).unwrap();
    let forgetful = Witnesses::open(&data, vec![reference(&wkey)]).unwrap();
    let body = forgetful.request(&registry, name, &next).unwrap().unwrap();
    let refusal = witness.add_checkpoint(&body, 0).unwrap_err();
    assert_eq!(refusal.status, 409);
    assert_eq!(
        forgetful.answered(name, &next, 409, &refusal.body),
        Answer::Resubmit
    );
    let body = forgetful.request(&registry, name, &next).unwrap().unwrap();
    assert!(
        body.starts_with(&format!("old {}\n\n", next.size)),
        "{body}"
    );
    let line = witness.add_checkpoint(&body, 1_700_000_200).unwrap();
    assert_eq!(
        forgetful.answered(name, &next, 200, &line),
        Answer::Cosigned
    );
    // Kept on disk: a reader of the data directory serves it too.
    let stored = Witnesses::stored(&data).unwrap();
    assert_eq!(stored.cosigned(&next), format!("{}{}", next.note, line));

    // A witness holding a larger tree than this log is an alarm, not a
    // resubmission.
    let answer = forgetful.answered(name, &first, 409, &format!("{}\n", next.size));
    let Answer::Failed(why) = answer else {
        panic!("{answer:?}")
    };
    assert!(why.contains("rolled back"), "{why}");
    assert!(forgetful.status()[0].error.is_some());
}

#[test]
fn a_witness_is_configured_as_url_and_cosignature_key() {
    use pacta_registry::witnessing::WitnessRef;
    let witness = Witness::open(
        tempfile::tempdir().unwrap().path(),
        "w.example/witness",
        &[],
    )
    .unwrap();
    let wkey = witness.verifier_key();
    let log_key = Signer::new("region.example/pacta", &[1; 32]).unwrap();
    let ok: WitnessRef = format!("http://w.example:8090/={wkey}").parse().unwrap();
    assert_eq!(ok.url, "http://w.example:8090");
    for bad in [
        format!("w.example:8090={wkey}"),
        format!("https://w.example={wkey}"),
        "http://w.example".to_owned(),
        format!("http://w.example={}", log_key.verifier().to_vkey()),
        "http://w.example=nonsense".to_owned(),
    ] {
        assert!(bad.parse::<WitnessRef>().is_err(), "{bad}");
    }
}
