//! The witness cosigns a log's checkpoints only as they grow
//! consistently: a stale old size is 409 with the size it holds, a forked
//! history 422, an unknown log 404, a signature it cannot trust 403; its
//! state survives a restart.

use pacta_registry::witness::Witness;
use pacta_tlog::checkpoint::Checkpoint;
use pacta_tlog::note::Signer;
use pacta_tlog::{Hash, cosignature, note};

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
