//! Signed notes: the test vectors of Go's `golang.org/x/mod/sumdb/note`
//! and of the C2SP signed-note specification, reproduced byte for byte;
//! tampering anywhere fails; the rules on unknown keys, bad signatures and
//! limits.

use pacta_tlog::Error;
use pacta_tlog::note::{
    MAX_SIGNATURES, NoteSignature, SignatureType, Signer, Verifier, key_id, open, sign,
};

const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter() -> Signer {
    Signer::from_skey(PETER_SKEY).unwrap()
}

fn peter_verifier() -> Verifier {
    Verifier::from_vkey(PETER_VKEY).unwrap()
}

fn enoch_verifier() -> Verifier {
    Verifier::from_vkey(ENOCH_VKEY).unwrap()
}

#[test]
fn go_vector_keys_round_trip() {
    let signer = peter();
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.to_skey(), PETER_SKEY);
    assert_eq!(signer.verifier().to_vkey(), PETER_VKEY);
    assert_eq!(signer.verifier(), peter_verifier());
    let verifier = peter_verifier();
    assert_eq!(verifier.signature_type(), SignatureType::Ed25519);
    assert_eq!(
        key_id("PeterNeumann", 0x01, &verifier.public_key()),
        0xc74f20a3
    );
    assert_eq!(
        Verifier::new(
            "PeterNeumann",
            SignatureType::Ed25519,
            &verifier.public_key()
        )
        .unwrap(),
        verifier
    );
    // The Debug form names the key but never shows the private key.
    assert_eq!(
        format!("{signer:?}"),
        "Signer { name: \"PeterNeumann\", key_id: c74f20a3, .. }"
    );
}

#[test]
fn go_vector_signed_note_byte_for_byte() {
    let note = sign(TEXT, &[&peter()]).unwrap();
    assert_eq!(note, format!("{TEXT}\n{PETER_SIG}"));

    let opened = open(&note, &[&peter_verifier()]).unwrap();
    assert_eq!(opened.text, TEXT);
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.verified[0].name, "PeterNeumann");
    assert_eq!(opened.verified[0].key_id, 0xc74f20a3);
    assert_eq!(opened.verified[0].to_line(), PETER_SIG);
    assert!(opened.unverified.is_empty());
}

#[test]
fn go_vector_two_signatures() {
    let note = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");

    let opened = open(&note, &[&peter_verifier()]).unwrap();
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.verified[0].to_line(), PETER_SIG);
    assert_eq!(opened.unverified.len(), 1);
    assert_eq!(opened.unverified[0].to_line(), ENOCH_SIG);

    let opened = open(&note, &[&enoch_verifier()]).unwrap();
    assert_eq!(opened.verified[0].to_line(), ENOCH_SIG);
    assert_eq!(opened.unverified[0].to_line(), PETER_SIG);

    let opened = open(&note, &[&peter_verifier(), &enoch_verifier()]).unwrap();
    let lines: Vec<String> = opened.verified.iter().map(NoteSignature::to_line).collect();
    assert_eq!(lines, [PETER_SIG, ENOCH_SIG]);
    assert!(opened.unverified.is_empty());

    assert!(matches!(open(&note, &[]), Err(Error::UnverifiedNote)));
    // A verifier given twice is still one key.
    let v = peter_verifier();
    assert!(open(&note, &[&v, &v]).is_ok());
}

#[test]
fn c2sp_specification_example() {
    let verifier = Verifier::from_vkey(
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    )
    .unwrap();
    let note = "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    let opened = open(note, &[&verifier]).unwrap();
    assert_eq!(opened.text, "This is an example message.\n");
}

#[test]
fn a_changed_byte_anywhere_fails() {
    let verifier = peter_verifier();
    let note = format!("{TEXT}\n{PETER_SIG}");
    let bytes = note.as_bytes();
    for i in 0..bytes.len() {
        for flip in [0x01, 0x20, 0x80] {
            let mut changed = bytes.to_vec();
            changed[i] ^= flip;
            // A note must be UTF-8; a change that breaks it fails too.
            if let Ok(changed) = String::from_utf8(changed) {
                assert!(
                    open(&changed, &[&verifier]).is_err(),
                    "byte {i} ^ {flip:#x} still opens: {changed:?}"
                );
            }
        }
    }
    // Removing or adding a byte fails as well.
    for i in 0..note.len() {
        if note.is_char_boundary(i) && note.is_char_boundary(i + 1) {
            let mut shorter = note.clone();
            shorter.remove(i);
            assert!(open(&shorter, &[&verifier]).is_err(), "without byte {i}");
        }
    }
    let mut longer = note.clone();
    longer.insert(TEXT.len() - 1, ' ');
    assert!(open(&longer, &[&verifier]).is_err());
}

#[test]
fn a_bad_signature_by_a_known_key_rejects_the_note() {
    // Enoch's signature line under Peter's name and key ID: known key, bad
    // signature, even though another signature verifies.
    let enoch = NoteSignature::from_line(ENOCH_SIG).unwrap();
    let forged = NoteSignature {
        name: "PeterNeumann".into(),
        key_id: 0xc74f20a3,
        signature: enoch.signature,
    };
    let note = format!("{TEXT}\n{ENOCH_SIG}{}", forged.to_line());
    let err = open(&note, &[&peter_verifier(), &enoch_verifier()]).unwrap_err();
    assert!(
        matches!(err, Error::InvalidSignature { ref name, key_id: 0xc74f20a3 } if name == "PeterNeumann"),
        "{err:?}"
    );
}

#[test]
fn signatures_sharing_only_the_name_or_only_the_id_are_ignored() {
    let peter = NoteSignature::from_line(PETER_SIG).unwrap();
    let other_id = NoteSignature {
        key_id: peter.key_id ^ 1,
        ..peter.clone()
    };
    let other_name = NoteSignature {
        name: "PeterNeumann2".into(),
        ..peter.clone()
    };
    let note = format!(
        "{TEXT}\n{}{}{PETER_SIG}",
        other_id.to_line(),
        other_name.to_line()
    );
    let opened = open(&note, &[&peter_verifier()]).unwrap();
    assert_eq!(opened.verified, [peter]);
    assert_eq!(opened.unverified, [other_id, other_name]);
}

#[test]
fn a_note_signed_with_two_keys_verifies_with_either() {
    let a = Signer::generate("pacta.example/log", [1; 32]).unwrap();
    let b = Signer::generate("pacta.example/backup", [2; 32]).unwrap();
    let text = "one\n\ntwo, after a blank line\n";
    let note = sign(text, &[&a, &b]).unwrap();
    for verifiers in [
        vec![a.verifier()],
        vec![b.verifier()],
        vec![b.verifier(), a.verifier()],
    ] {
        let refs: Vec<&Verifier> = verifiers.iter().collect();
        let opened = open(&note, &refs).unwrap();
        assert_eq!(opened.text, text);
        assert_eq!(opened.verified.len(), verifiers.len());
        assert_eq!(opened.verified.len() + opened.unverified.len(), 2);
    }
    // The same signer twice signs once.
    assert_eq!(sign(text, &[&a, &a]).unwrap(), sign(text, &[&a]).unwrap());
}

#[test]
fn texts_ending_in_blank_lines_survive() {
    let signer = Signer::new("pacta.example/log", &[3; 32]).unwrap();
    for text in ["\n", "a\n\n", "a\n\n\n", "— lookalike line\n"] {
        let note = sign(text, &[&signer]).unwrap();
        assert_eq!(open(&note, &[&signer.verifier()]).unwrap().text, text);
    }
}

#[test]
fn signing_rules() {
    let signer = peter();
    assert!(sign("no final newline", &[&signer]).is_err());
    assert!(sign("", &[&signer]).is_err());
    assert!(sign("tab\tinside\n", &[&signer]).is_err());
    assert!(sign("cr\r\n", &[&signer]).is_err());
    assert!(sign(TEXT, &[]).is_err());
    for name in ["", "a b", "a+b", "a\u{a0}b", "tab\t", "nl\n", "a\u{2003}b"] {
        assert!(
            matches!(Signer::new(name, &[0; 32]), Err(Error::InvalidKeyName)),
            "{name:?}"
        );
    }
    assert!(Signer::new("ünïcödé.example/log—1", &[0; 32]).is_ok());
}

#[test]
fn malformed_notes() {
    let verifier = peter_verifier();
    let sig = PETER_SIG;
    let cases = [
        format!("{TEXT}{sig}"),                                      // no blank line
        format!("{TEXT}\n{}", sig.trim_end()),                       // no final newline
        format!("{TEXT}\n"),                                         // no signature
        format!("{TEXT}\n\n"),                                       // no signature
        format!("{TEXT}\n{sig}\n"),                                  // trailing blank line
        format!("{TEXT}\n{}", sig.replace('—', "-")),                // hyphen, not em dash
        format!("{TEXT}\n{}", sig.replace("— ", "—")),               // no space after the dash
        format!("{TEXT}\n{}", sig.replace("— ", "—  ")),             // empty name
        format!("{TEXT}\n{}", sig.replace("Neumann ", "Neumann  ")), // two spaces
        format!("{TEXT}\n{}", sig.replace('=', "")),                 // unpadded base64
        format!("{TEXT}\n{}", sig.replace("\n", "\r\n")),            // CR
        format!("{TEXT}\n— PeterNeumann AAAAAA==\n"), // shorter than a key ID and one byte
        format!("{}\u{1}\n\n{sig}", TEXT.trim_end()), // control character in the text
        format!("{TEXT}\n— Peter+Neumann AAAAAAA=\n{sig}"), // invalid name
    ];
    for note in &cases {
        assert!(
            matches!(open(note, &[&verifier]), Err(Error::MalformedNote(_))),
            "{note:?} -> {:?}",
            open(note, &[&verifier])
        );
    }
}

#[test]
fn signature_count_limit() {
    let verifier = peter_verifier();
    let at_limit = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES));
    let opened = open(&at_limit, &[&verifier]).unwrap();
    assert_eq!(opened.verified.len(), 1, "repeats by one key count once");
    let over = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1));
    assert!(matches!(
        open(&over, &[&verifier]),
        Err(Error::MalformedNote(_))
    ));
    assert!(matches!(open(&over, &[]), Err(Error::MalformedNote(_))));
    // Repeated unknown signatures are listed once.
    let repeated = format!("{TEXT}\n{}{}", ENOCH_SIG.repeat(5), PETER_SIG);
    assert_eq!(open(&repeated, &[&verifier]).unwrap().unverified.len(), 1);
    // The specification's minimum: 16 different signers.
    let signers: Vec<Signer> = (0..16u8)
        .map(|i| Signer::new(&format!("witness{i}.example"), &[i; 32]).unwrap())
        .collect();
    let refs: Vec<&Signer> = signers.iter().collect();
    let note = sign(TEXT, &refs).unwrap();
    let verifiers: Vec<Verifier> = signers.iter().map(Signer::verifier).collect();
    let refs: Vec<&Verifier> = verifiers.iter().collect();
    assert_eq!(open(&note, &refs).unwrap().verified.len(), 16);
}

/// Go's `TestNewVerifier` and `TestNewSigner`: every proper substring
/// and every single-byte increment of a key is rejected.
#[test]
fn mangled_keys_are_rejected() {
    for (key, parse) in [
        (
            PETER_VKEY,
            (|s: &str| Verifier::from_vkey(s).is_ok()) as fn(&str) -> bool,
        ),
        (PETER_SKEY, |s: &str| Signer::from_skey(s).is_ok()),
    ] {
        assert!(parse(key));
        let bytes = key.as_bytes();
        for i in 0..=bytes.len() {
            for j in i + 1..=bytes.len() {
                if (i, j) != (0, bytes.len()) {
                    let part = std::str::from_utf8(&bytes[i..j]).unwrap();
                    assert!(!parse(part), "substring {part:?} accepted");
                }
            }
        }
        for i in 0..bytes.len() {
            let mut changed = bytes.to_vec();
            changed[i] = changed[i].wrapping_add(1);
            if let Ok(changed) = String::from_utf8(changed) {
                assert!(!parse(&changed), "{changed:?} accepted");
            }
        }
    }
    // Wrong key length and unknown algorithm, each with a matching key ID.
    assert!(matches!(
        Verifier::from_vkey(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        ),
        Err(Error::MalformedKey(_))
    ));
    assert!(matches!(
        Verifier::from_vkey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(Error::UnknownSignatureType(0x65))
    ));
    assert!(matches!(
        Verifier::from_vkey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(Error::KeyIdMismatch {
            expected: 0xc74f20a3,
            found: 0xc74f20a4
        })
    ));
    assert!(Verifier::from_vkey(&PETER_VKEY.replace("c74f20a3", "C74F20A3")).is_err());
}

#[test]
fn generated_keys_round_trip() {
    let signer = Signer::generate("pacta.example/log", [42; 32]).unwrap();
    let again = Signer::from_skey(&signer.to_skey()).unwrap();
    assert_eq!(again.to_skey(), signer.to_skey());
    let verifier = Verifier::from_vkey(&signer.verifier().to_vkey()).unwrap();
    assert_eq!(verifier, signer.verifier());
    let note = sign("pacta\n", &[&again]).unwrap();
    assert!(open(&note, &[&verifier]).is_ok());
    assert!(
        verifier.verify(
            "pacta\n",
            &NoteSignature::from_line(note.lines().last().unwrap())
                .unwrap()
                .signature
        )
    );
    assert!(
        !verifier.verify(
            "pacta!\n",
            &NoteSignature::from_line(note.lines().last().unwrap())
                .unwrap()
                .signature
        )
    );
}
