//! Cosignatures (`cosignature/v1`): a vector computed independently of
//! this crate, from the specification's text and another Ed25519
//! implementation, reproduced byte for byte; sign then verify; a changed
//! timestamp, body or key fails.

use pacta_tlog::Error;
use pacta_tlog::cosignature::{self, Cosigner, MAX_TIMESTAMP, signed_message, verify_line};
use pacta_tlog::note::{NoteSignature, SignatureType, Signer, Verifier, key_id, open, sign};

/// The checkpoint of the specifications' examples.
const BODY: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const TIME: u64 = 1679315147;

/// A cosigner with seed 00 01 02 … 1f.
const WITNESS_NAME: &str = "witness.example.com/w1";
const WITNESS_VKEY: &str =
    "witness.example.com/w1+a0059f11+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
const WITNESS_LINE: &str = "— witness.example.com/w1 oAWfEQAAAABkGFDLBuRDazBLVac2NE+Y+IjbjQOcXLfF9CSDZVUIoS83rE1nFZsVE8YiWV6Ngr7lV8H6bdoBQGP/l73euDMQ9k+bBQ==\n";

/// A log key with seed 07 07 … 07 signing the same body.
const LOG_VKEY: &str =
    "example.com/behind-the-sofa+252b74d2+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs";
const LOG_LINE: &str = "— example.com/behind-the-sofa JSt00p6KTYtH8opAMF2NJ7glHT4uHMzg9iBNNDYLQta3PzLlhUjMPmDAXA2L1DXjWfKrvjQJdIEVj9Tiu9f35PqL5g8=\n";

fn seed() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

fn witness() -> Cosigner {
    Cosigner::new(WITNESS_NAME, &seed()).unwrap()
}

fn log() -> Signer {
    Signer::new("example.com/behind-the-sofa", &[7; 32]).unwrap()
}

#[test]
fn independent_vector_byte_for_byte() {
    let witness = witness();
    assert_eq!(witness.verifier().to_vkey(), WITNESS_VKEY);
    assert_eq!(witness.sign(BODY, TIME).unwrap(), WITNESS_LINE);
    let verifier = Verifier::from_vkey(WITNESS_VKEY).unwrap();
    assert_eq!(verifier.signature_type(), SignatureType::CosignatureV1);
    assert_eq!(verify_line(&verifier, BODY, WITNESS_LINE).unwrap(), TIME);

    assert_eq!(log().verifier().to_vkey(), LOG_VKEY);
    assert_eq!(
        sign(BODY, &[&log()]).unwrap(),
        format!("{BODY}\n{LOG_LINE}")
    );
}

#[test]
fn key_id_uses_type_0x04() {
    let verifier = witness().verifier();
    let public_key = verifier.public_key();
    assert_eq!(witness().key_id(), key_id(WITNESS_NAME, 0x04, &public_key));
    assert_ne!(witness().key_id(), key_id(WITNESS_NAME, 0x01, &public_key));
    // The same key as a plain note key has another key ID, so neither
    // verifies the other's signatures.
    let plain = Signer::new(WITNESS_NAME, &seed()).unwrap();
    assert_ne!(plain.key_id(), witness().key_id());
    let note = sign(BODY, &[&plain]).unwrap();
    assert!(matches!(
        open(&note, &[&verifier]),
        Err(Error::UnverifiedNote)
    ));
    let plain_signature = NoteSignature::from_line(note.lines().last().unwrap()).unwrap();
    assert!(!verifier.verify(BODY, &plain_signature.signature));
}

#[test]
fn signed_message_layout() {
    assert_eq!(
        signed_message(BODY, TIME).unwrap(),
        format!("cosignature/v1\ntime 1679315147\n{BODY}")
    );
    assert_eq!(
        signed_message(BODY, 0).unwrap(),
        format!("cosignature/v1\ntime 0\n{BODY}")
    );
    assert!(signed_message(BODY, MAX_TIMESTAMP + 1).is_err());
    assert!(signed_message(BODY.trim_end(), TIME).is_err());
}

#[test]
fn sign_then_verify_and_what_fails() {
    let witness = witness();
    let verifier = witness.verifier();
    let other_body =
        "example.com/behind-the-sofa\n20852164\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    for time in [0, 1, TIME, MAX_TIMESTAMP] {
        let line = witness.sign(BODY, time).unwrap();
        assert_eq!(verify_line(&verifier, BODY, &line).unwrap(), time);
        assert_eq!(
            cosignature::timestamp(&NoteSignature::from_line(&line).unwrap()).unwrap(),
            time
        );

        // Another body.
        assert!(matches!(
            verify_line(&verifier, other_body, &line),
            Err(Error::InvalidSignature { .. })
        ));
        // Another timestamp in the signature.
        let mut signature = NoteSignature::from_line(&line).unwrap();
        signature.signature[7] ^= 1;
        assert!(matches!(
            verify_line(&verifier, BODY, &signature.to_line()),
            Err(Error::InvalidSignature { .. })
        ));
        // Another key with the same name.
        let impostor = Cosigner::new(WITNESS_NAME, &[9; 32]).unwrap();
        assert!(matches!(
            verify_line(&impostor.verifier(), BODY, &line),
            Err(Error::KeyMismatch { .. })
        ));
    }
    assert!(witness.sign(BODY, MAX_TIMESTAMP + 1).is_err());
    assert!(witness.sign("not a checkpoint\n", TIME).is_err());
    assert!(witness.sign(BODY.trim_end(), TIME).is_err());
    // A plain Ed25519 key cannot check cosignatures line by line.
    let line = witness.sign(BODY, TIME).unwrap();
    assert!(verify_line(&log().verifier(), BODY, &line).is_err());
    // A timestamp above 2^63 - 1 is malformed even when signed.
    let mut signature = NoteSignature::from_line(&line).unwrap();
    signature.signature[0] = 0x80;
    assert!(matches!(
        verify_line(&verifier, BODY, &signature.to_line()),
        Err(Error::MalformedCosignature(_))
    ));
    signature.signature.truncate(71);
    assert!(matches!(
        verify_line(&verifier, BODY, &signature.to_line()),
        Err(Error::MalformedCosignature(_))
    ));
}

#[test]
fn cosignatures_on_the_checkpoint_note() {
    let log = log();
    let witness = witness();
    let note = sign(BODY, &[&log]).unwrap() + &witness.sign(BODY, TIME).unwrap();
    assert_eq!(note, format!("{BODY}\n{LOG_LINE}{WITNESS_LINE}"));

    let log_verifier = Verifier::from_vkey(LOG_VKEY).unwrap();
    let witness_verifier = Verifier::from_vkey(WITNESS_VKEY).unwrap();
    let opened = open(&note, &[&log_verifier, &witness_verifier]).unwrap();
    assert_eq!(opened.verified.len(), 2);
    assert_eq!(cosignature::timestamp(&opened.verified[1]).unwrap(), TIME);

    // Only the log's key: the cosignature is listed unchecked.
    let opened = open(&note, &[&log_verifier]).unwrap();
    assert_eq!(opened.unverified.len(), 1);

    // A cosignature of another body on this note is a bad signature.
    let stale = "example.com/behind-the-sofa\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let note = sign(BODY, &[&log]).unwrap() + &witness.sign(stale, TIME).unwrap();
    assert!(matches!(
        open(&note, &[&log_verifier, &witness_verifier]),
        Err(Error::InvalidSignature { .. })
    ));
}
