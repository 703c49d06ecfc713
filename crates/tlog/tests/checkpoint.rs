//! Checkpoint bodies: round trips and strict rejections.

use pacta_tlog::checkpoint::Checkpoint;
use pacta_tlog::{Error, Hash, empty_root, leaf_hash};

const ROOT: &str = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

#[test]
fn round_trips() {
    let root = leaf_hash(b"pacta");
    let mut with_extensions = Checkpoint::new("pacta.example/log", 42, root);
    with_extensions.extensions = vec!["ext one".into(), "— ext two".into()];
    for checkpoint in [
        Checkpoint::new("pacta.example/log", 0, empty_root()),
        Checkpoint::new("pacta.example/log", 1, root),
        Checkpoint::new("a", u64::MAX, root),
        Checkpoint::new("origin with spaces+plus", 7, root),
        with_extensions,
    ] {
        let body = checkpoint.to_body().unwrap();
        assert!(body.ends_with('\n'));
        assert_eq!(Checkpoint::parse(&body).unwrap(), checkpoint);
    }
    assert_eq!(
        Checkpoint::new("pacta.example/log", 3, Hash::from_base64(ROOT).unwrap())
            .to_body()
            .unwrap(),
        format!("pacta.example/log\n3\n{ROOT}\n")
    );
}

#[test]
fn strict_rejections() {
    let cases = [
        String::new(),
        "\n".to_string(),
        "origin\n".to_string(),
        "origin\n1\n".to_string(),
        format!("origin\n1\n{ROOT}"),     // no final newline
        format!("\n1\n{ROOT}\n"),         // empty origin
        format!("origin\n\n{ROOT}\n"),    // empty size
        format!("origin\n01\n{ROOT}\n"),  // leading zero
        format!("origin\n00\n{ROOT}\n"),  // leading zero
        format!("origin\n+1\n{ROOT}\n"),  // sign
        format!("origin\n-1\n{ROOT}\n"),  // sign
        format!("origin\n 1\n{ROOT}\n"),  // space
        format!("origin\n1 \n{ROOT}\n"),  // space
        format!("origin\n0x1\n{ROOT}\n"), // hex
        format!("origin\n1e3\n{ROOT}\n"), // exponent
        format!("origin\n18446744073709551616\n{ROOT}\n"), // above u64
        "origin\n1\nAAAA\n".to_string(),  // 3-byte hash
        format!("origin\n1\n{}\n", &ROOT[..43]), // missing padding
        format!("origin\n1\n{ROOT}=\n"),  // extra padding
        format!("origin\n1\n{}AAAA\n", ROOT), // 35 bytes
        format!("origin\n1\n{}B=\n", "A".repeat(42)), // non-canonical trailing bits
        format!("origin\n1\n{}\n", "00".repeat(32)), // hex, not base64
        format!("origin\n1\n{ROOT}\n\n"), // empty extension line
        format!("origin\n1\n{ROOT}\next\n\n"), // empty line after an extension
        format!("origin\r\n1\n{ROOT}\n"), // CR
        format!("ori\tgin\n1\n{ROOT}\n"), // tab
        format!("origin\n1\n{ROOT}\next\u{7}\n"), // control character in an extension
        format!("origin\n1\n{ROOT} \n"),  // trailing space
    ];
    for body in &cases {
        assert!(
            matches!(Checkpoint::parse(body), Err(Error::MalformedCheckpoint(_))),
            "{body:?} -> {:?}",
            Checkpoint::parse(body)
        );
    }
}

#[test]
fn unwritable_checkpoints() {
    let root = empty_root();
    assert!(Checkpoint::new("", 0, root).to_body().is_err());
    assert!(Checkpoint::new("two\nlines", 0, root).to_body().is_err());
    let mut checkpoint = Checkpoint::new("origin", 0, root);
    checkpoint.extensions = vec![String::new()];
    assert!(checkpoint.to_body().is_err());
    checkpoint.extensions = vec!["a\nb".into()];
    assert!(checkpoint.to_body().is_err());
}
