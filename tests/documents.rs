//! The printable documents from the command line: Czech by default,
//! English with `--lang en`, and a foot naming the head `pacta digest`
//! prints.

mod common;

use common::{fails, ok, pacta, stderr};

#[test]
fn the_report_and_the_dossiers_in_both_languages() {
    let data = tempfile::tempdir().unwrap();
    ok(pacta(data.path()).arg("init"));
    let report = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "annual",
            "--year",
            "2022",
            "--party",
            "liberecky-kraj",
        ];
        args.extend_from_slice(extra);
        ok(pacta(data.path()).args(&args))
    };
    let html = report(&["--format", "html"]);
    for needle in [
        "<html lang=\"cs\">",
        "Mezinárodní spolupráce v roce 2022",
        "Orenburská oblast",
        "ukončení: vypovězeno",
        "1. března 2022",
    ] {
        assert!(html.contains(needle), "the page lacks {needle:?}");
    }
    let digest: serde_json::Value =
        serde_json::from_str(&ok(pacta(data.path()).arg("digest"))).unwrap();
    let hash = digest["hash"].as_str().unwrap();
    assert!(html.contains(hash), "the foot names the head {hash}");

    let text = report(&[]);
    assert!(text.contains("Ukončeno v roce (1)"), "{text}");
    assert!(text.contains(hash), "{text}");
    let english = report(&["--lang", "en"]);
    assert!(
        english.contains("International cooperation in 2022")
            && english.contains("Ended in the year (1)")
            && english.contains("terminated: denounced")
            && english.contains(hash),
        "{english}"
    );
    let json = report(&["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["head_hash"], hash);
    assert_eq!(json["head_position"], digest["position"]);

    let dossier = |extra: &[&str]| {
        let mut args = vec!["audit", "terminations", "liberecky-kraj--orenburg-oblast"];
        args.extend_from_slice(extra);
        ok(pacta(data.path()).args(&args))
    };
    let cs = dossier(&[]);
    assert!(
        cs.contains("Spisy o ukončení partnerství")
            && cs.contains("Způsob ukončení: vypovězeno")
            && cs.contains(hash),
        "{cs}"
    );
    let en = dossier(&["--lang", "en", "--format", "html"]);
    assert!(
        en.contains("<html lang=\"en\">") && en.contains("Orenburg Oblast") && en.contains(hash),
        "{en}"
    );
}

#[test]
fn messages_and_help_stay_english() {
    let data = tempfile::tempdir().unwrap();
    let out =
        fails(pacta(data.path()).args(["report", "annual", "--year", "2022", "--lang", "de"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("cs or en"), "{err}");
    let help = ok(pacta(data.path()).args(["audit", "terminations", "--help"]));
    assert!(
        help.contains("--lang") && help.contains("The language"),
        "{help}"
    );
}
