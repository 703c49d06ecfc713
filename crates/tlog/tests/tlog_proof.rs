//! tlog proofs: round trips, verification from record to signed
//! checkpoint, and strict rejections.

mod common;

use pacta_tlog::checkpoint::Checkpoint;
use pacta_tlog::cosignature::Cosigner;
use pacta_tlog::note::{Signer, Verifier, sign};
use pacta_tlog::proof::TlogProof;
use pacta_tlog::{Error, prove_record, tree_hash};

const ORIGIN: &str = "pacta.example/log";

struct Fixture {
    records: Vec<Vec<u8>>,
    log: Signer,
    witness: Cosigner,
    note: String,
    storage: Vec<pacta_tlog::Hash>,
}

fn fixture(size: u64) -> Fixture {
    let records: Vec<Vec<u8>> = (0..size)
        .map(|i| format!("record {i}").into_bytes())
        .collect();
    let storage = common::build(&records);
    let log = Signer::new(ORIGIN, &[11; 32]).unwrap();
    let witness = Cosigner::new("witness.example/w1", &[12; 32]).unwrap();
    let body = Checkpoint::new(ORIGIN, size, tree_hash(size, &storage).unwrap())
        .to_body()
        .unwrap();
    let note = sign(&body, &[&log]).unwrap() + &witness.sign(&body, 1_700_000_000).unwrap();
    Fixture {
        records,
        log,
        witness,
        note,
        storage,
    }
}

impl Fixture {
    fn proof(&self, index: u64) -> TlogProof {
        TlogProof {
            extra: None,
            index,
            hashes: prove_record(self.records.len() as u64, index, &self.storage).unwrap(),
            checkpoint_note: self.note.clone(),
        }
    }
}

#[test]
fn every_record_round_trips_and_verifies() {
    for size in [1u64, 2, 7, 8, 33] {
        let f = fixture(size);
        let verifier = f.log.verifier();
        for index in 0..size {
            let proof = f.proof(index);
            let text = proof.to_text().unwrap();
            let parsed = TlogProof::parse(&text).unwrap();
            assert_eq!(parsed, proof);
            assert_eq!(parsed.to_text().unwrap(), text);
            let checkpoint = parsed
                .verify(&f.records[index as usize], &[&verifier], ORIGIN)
                .unwrap();
            assert_eq!(checkpoint.size, size);
            // Another record at this index does not verify.
            let other = &f.records[((index + 1) % size) as usize];
            if size > 1 {
                assert!(matches!(
                    parsed.verify(other, &[&verifier], ORIGIN),
                    Err(Error::ProofFailed)
                ));
            }
        }
    }
}

#[test]
fn text_layout() {
    let f = fixture(3);
    let mut proof = f.proof(1);
    let hashes: String = proof.hashes.iter().map(|h| h.to_base64() + "\n").collect();
    assert_eq!(
        proof.to_text().unwrap(),
        format!("c2sp.org/tlog-proof@v1\nindex 1\n{hashes}\n{}", f.note)
    );
    proof.extra = Some(b"age-v1.2.1-darwin-arm64.tar.gz".to_vec());
    let text = proof.to_text().unwrap();
    assert!(text.starts_with(
        "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\nindex 1\n"
    ));
    assert_eq!(TlogProof::parse(&text).unwrap(), proof);
    proof.extra = Some(Vec::new());
    let text = proof.to_text().unwrap();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra \nindex 1\n"));
    assert_eq!(TlogProof::parse(&text).unwrap(), proof);

    // A tree of one record: no proof hashes.
    let f = fixture(1);
    assert_eq!(
        f.proof(0).to_text().unwrap(),
        format!("c2sp.org/tlog-proof@v1\nindex 0\n\n{}", f.note)
    );
}

#[test]
fn verification_failures() {
    let f = fixture(8);
    let log = f.log.verifier();
    let witness = f.witness.verifier();
    let record = &f.records[5];
    let proof = f.proof(5);

    // Witness keys may be given with the log's.
    proof.verify(record, &[&log, &witness], ORIGIN).unwrap();
    // But a witness alone is not the log.
    assert!(matches!(
        proof.verify(record, &[&witness], ORIGIN),
        Err(Error::NoLogSignature)
    ));
    // An unknown log key.
    let stranger = Signer::new(ORIGIN, &[13; 32]).unwrap().verifier();
    assert!(matches!(
        proof.verify(record, &[&stranger], ORIGIN),
        Err(Error::UnverifiedNote)
    ));
    assert!(matches!(
        proof.verify(record, &[], ORIGIN),
        Err(Error::UnverifiedNote)
    ));
    // Another origin.
    assert!(matches!(
        proof.verify(record, &[&log], "pacta.example/other"),
        Err(Error::OriginMismatch { .. })
    ));
    // A flipped proof hash, another index, a missing or extra hash.
    let mut bad = proof.clone();
    bad.hashes[1].0[0] ^= 1;
    assert!(matches!(
        bad.verify(record, &[&log], ORIGIN),
        Err(Error::ProofFailed)
    ));
    for index in [4, 6, 8, u64::MAX] {
        let bad = TlogProof {
            index,
            ..proof.clone()
        };
        assert!(
            bad.verify(record, &[&log], ORIGIN).is_err(),
            "index {index}"
        );
    }
    let mut bad = proof.clone();
    bad.hashes.pop();
    assert!(bad.verify(record, &[&log], ORIGIN).is_err());
    let mut bad = proof.clone();
    bad.hashes.push(bad.hashes[0]);
    assert!(bad.verify(record, &[&log], ORIGIN).is_err());
    // A changed checkpoint: the log's signature no longer verifies.
    let mut bad = proof.clone();
    bad.checkpoint_note = bad.checkpoint_note.replacen("\n8\n", "\n9\n", 1);
    assert!(matches!(
        bad.verify(record, &[&log], ORIGIN),
        Err(Error::InvalidSignature { .. })
    ));
    // A valid checkpoint of a smaller tree: the proof does not reach its root.
    let small = fixture(7);
    let bad = TlogProof {
        checkpoint_note: small.note.clone(),
        ..proof.clone()
    };
    assert!(
        bad.verify(record, &[&small.log.verifier()], ORIGIN)
            .is_err()
    );
}

#[test]
fn strict_rejections() {
    let f = fixture(3);
    let good = f.proof(1).to_text().unwrap();
    let (head, note) = good.split_once("\n\n").unwrap();
    let hash_lines: Vec<&str> = head.lines().skip(2).collect();
    let hashes = hash_lines.join("\n");
    let cases = [
        String::new(),
        good.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
        good.replacen("c2sp.org/tlog-proof@v1\n", "", 1),
        good.replacen("c2sp.org/tlog-proof@v1\n", "c2sp.org/tlog-proof@v1 \n", 1),
        good.replacen("index 1", "index 01", 1),
        good.replacen("index 1", "index -1", 1),
        good.replacen("index 1", "index", 1),
        good.replacen("index 1", "index  1", 1),
        good.replacen("index 1", "Index 1", 1),
        good.replacen("index 1\n", "", 1),
        good.replacen("index 1\n", "index 1\nextra AAAA\n", 1), // extra after index
        good.replacen("index 1\n", "extra !!!!\nindex 1\n", 1), // bad base64
        good.replacen("index 1\n", "extra AA\nindex 1\n", 1),   // unpadded
        good.replacen(hash_lines[0], &hash_lines[0][..43], 1),  // hash missing padding
        good.replacen(hash_lines[0], "AAAA", 1),                // short hash
        good.replacen(&format!("{hashes}\n\n"), &format!("{hashes}\n"), 1), // no empty line
        good.replace('\n', "\r\n"),
        format!("{head}\n\n"), // no checkpoint
        format!("{head}\n\nnot a note\n"),
        format!("{head}\n\n{}", note.trim_end()), // note without final newline
        format!(
            "{head}\n\nnot a checkpoint\n\n{}",
            note.rsplit_once("\n\n").unwrap().1
        ),
        format!(
            "c2sp.org/tlog-proof@v1\nindex 1\n{}\n{note}",
            format!("{}\n", hash_lines[0]).repeat(65)
        ),
    ];
    for text in &cases {
        assert!(TlogProof::parse(text).is_err(), "accepted: {text:?}");
    }
    assert!(TlogProof::parse(&good).is_ok());

    // Unwritable proofs.
    let mut proof = f.proof(1);
    proof.checkpoint_note = "not a note".into();
    assert!(proof.to_text().is_err());
    let mut proof = f.proof(1);
    proof.hashes = vec![proof.hashes[0]; 65];
    assert!(proof.to_text().is_err());
}

#[test]
fn verifier_keys_from_text() {
    // A verifier's keys usually come from configuration text.
    let f = fixture(4);
    let log = Verifier::from_vkey(&f.log.verifier().to_vkey()).unwrap();
    let witness = Verifier::from_vkey(&f.witness.verifier().to_vkey()).unwrap();
    let text = f.proof(2).to_text().unwrap();
    let checkpoint = TlogProof::parse(&text)
        .unwrap()
        .verify(&f.records[2], &[&log, &witness], ORIGIN)
        .unwrap();
    assert_eq!(checkpoint.origin, ORIGIN);
}
