//! The registry's seed data: parsing, checking and loading `seeds/`.
//!
//! The format is described in `seeds/README.md`. The bundled copy
//! ([`bundled`]) is compiled into the binary. Loading decides every line
//! through the registry's write path first (as the system actor, against
//! the store and the lines before it) and writes nothing if any line is
//! wrong; events whose ids are stored already are skipped, so loading
//! twice adds nothing. A stored event that differs from its seed line is
//! reported, never overwritten: the log is append-only.
//!
//! The bundled seed data carries one fixed record time,
//! [`RECORD_TIME`]: the registry learned these facts when the seed data
//! was compiled, not when a store happened to be filled. So every fresh
//! install holds the same log, has the same head hash and answers every
//! question (open-ended dates end at record time) the same way.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use pacta_domain::{Event, EventId, Proposed, StreamId, StreamKind, Timestamp};

use crate::write::Batch;
use crate::{Actor, CommandError, Registry, now};

/// The record time of the bundled seed data: 2026-11-28T00:00:00Z, the
/// day this revision of `seeds/` was compiled (whole seconds, UTC). Change
/// it whenever the seed data changes, to the day of the change: it is
/// when the registry learned what the files say.
pub const RECORD_TIME: Timestamp = Timestamp::from_micros(1_795_824_000 * 1_000_000);

/// The seed files compiled into the binary, in loading order.
pub fn bundled() -> Vec<SeedFile> {
    macro_rules! file {
        ($name:literal) => {
            SeedFile {
                name: $name.to_owned(),
                text: include_str!(concat!("../../../seeds/", $name)).to_owned(),
            }
        };
    }
    vec![
        file!("parties.ndjson"),
        file!("plzensky-kraj.ndjson"),
        file!("liberecky-kraj.ndjson"),
        file!("ustecky-kraj.ndjson"),
        file!("offers.ndjson"),
    ]
}

/// One seed file's name and text.
#[derive(Clone, Debug)]
pub struct SeedFile {
    /// Its file name.
    pub name: String,
    /// Its contents.
    pub text: String,
}

/// Reads every `*.ndjson` file of a directory, or one file.
pub fn read_path(path: &Path) -> std::io::Result<Vec<SeedFile>> {
    let mut files = Vec::new();
    if path.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(path)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
            .collect();
        names.sort();
        for p in names {
            files.push(SeedFile {
                name: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                text: std::fs::read_to_string(&p)?,
            });
        }
    } else {
        files.push(SeedFile {
            name: path.display().to_string(),
            text: std::fs::read_to_string(path)?,
        });
    }
    Ok(files)
}

/// One event of a seed file.
#[derive(Clone, Debug)]
pub struct SeedEvent {
    /// The file it is in.
    pub file: String,
    /// Its line (from 1).
    pub line: usize,
    /// Its stream.
    pub stream: StreamId,
    /// Its id.
    pub id: EventId,
    /// The event.
    pub event: Event,
}

/// A problem with one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct SeedError {
    /// The file.
    pub file: String,
    /// The line (from 1).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Every problem found; nothing was written.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{} problem(s) in the seed data, nothing was written:\n{}", .0.len(),
    .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct SeedErrors(pub Vec<SeedError>);

/// What a load did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Events read from the files.
    pub events: usize,
    /// Events appended.
    pub appended: usize,
    /// Events already stored.
    pub skipped: usize,
    /// Of those, the ids whose stored event differs from the seed line
    /// (the seed data changed after the store was filled). The log keeps
    /// what it recorded; a `Corrected` event changes what it says.
    pub changed: Vec<EventId>,
    /// Streams written to.
    pub streams: usize,
}

/// One line: the event's wire form plus `id` and `stream`.
fn parse_line(text: &str) -> Result<(EventId, StreamId, Event), String> {
    let mut map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut take = |key: &str| {
        map.remove(key)
            .ok_or_else(|| format!("missing field `{key}`"))
    };
    let id: EventId = serde_json::from_value(take("id")?).map_err(|e| format!("id: {e}"))?;
    let stream: StreamId =
        serde_json::from_value(take("stream")?).map_err(|e| format!("stream: {e}"))?;
    let rest = serde_json::Value::Object(map).to_string();
    let event: Event = serde_json::from_str(&rest).map_err(|e| e.to_string())?;
    Ok((id, stream, event))
}

/// Parses seed files; reports every malformed line.
pub fn parse(files: &[SeedFile]) -> Result<Vec<SeedEvent>, SeedErrors> {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        for (i, text) in file.text.lines().enumerate() {
            let trimmed = text.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let err = |message: String| SeedError {
                file: file.name.clone(),
                line: i + 1,
                message,
            };
            match parse_line(trimmed) {
                Ok((id, stream, event)) => events.push(SeedEvent {
                    file: file.name.clone(),
                    line: i + 1,
                    stream,
                    id,
                    event,
                }),
                Err(message) => errors.push(err(message)),
            }
        }
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(SeedErrors(errors))
    }
}

/// Whether `files` are the bundled seed data: the same files with the
/// same text, in any order.
pub fn is_bundled(files: &[SeedFile]) -> bool {
    let bundled = bundled();
    files.len() == bundled.len()
        && bundled
            .iter()
            .all(|b| files.iter().any(|f| f.name == b.name && f.text == b.text))
}

/// The load error: bad data, or a failing store.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The seed data is wrong; nothing was written.
    #[error(transparent)]
    Invalid(#[from] SeedErrors),
    /// Writing failed.
    #[error(transparent)]
    Command(#[from] CommandError),
}

impl Registry {
    /// Decides every line of the seed files against the store, the lines
    /// before it and the lifecycle and, if every line is right, appends
    /// what is not stored yet (one append per stream). With `dry_run`,
    /// only decides.
    pub fn load_seeds(
        &self,
        files: &[SeedFile],
        actor: &Actor,
        dry_run: bool,
    ) -> Result<SeedReport, LoadError> {
        let events = parse(files)?;
        let mut errors = Vec::new();
        let err = |e: &SeedEvent, message: String| SeedError {
            file: e.file.clone(),
            line: e.line,
            message,
        };

        // Ids are unique across all files.
        let mut seen: HashMap<EventId, &SeedEvent> = HashMap::new();
        for e in &events {
            if let Some(first) = seen.insert(e.id, e) {
                errors.push(err(
                    e,
                    format!(
                        "duplicate id {} (first at {}:{})",
                        e.id, first.file, first.line
                    ),
                ));
            }
        }

        // Streams in loading order: parties, partnerships, offers; within a
        // kind by first appearance.
        let mut order: Vec<StreamId> = Vec::new();
        let mut by_stream: BTreeMap<StreamId, Vec<&SeedEvent>> = BTreeMap::new();
        for e in &events {
            let list = by_stream.entry(e.stream.clone()).or_default();
            if list.is_empty() {
                order.push(e.stream.clone());
            }
            list.push(e);
        }
        let rank = |k: StreamKind| match k {
            StreamKind::Party => 0,
            StreamKind::Partnership => 1,
            StreamKind::Offer => 2,
        };
        order.sort_by_key(|s| rank(s.kind));

        // The bundled data (compiled in, or the same files read from
        // `seeds/`) is recorded at its own fixed time; other seed files
        // when they are loaded.
        let fixed = is_bundled(files).then_some(RECORD_TIME);
        let mut batch = Batch::new(self, actor.clone(), fixed.unwrap_or_else(now));
        batch.recorded_at = fixed;
        let mut report = SeedReport {
            events: events.len(),
            ..SeedReport::default()
        };
        let mut streams = 0;
        for stream in &order {
            let mut written = false;
            for e in &by_stream[stream] {
                if let Some(position) = self
                    .store()
                    .position_of(e.id)
                    .map_err(CommandError::Store)?
                {
                    let stored = self.store().get(position).map_err(CommandError::Store)?;
                    if let Some(r) = stored.filter(|r| &r.envelope.stream == stream) {
                        report.skipped += 1;
                        if r.event != e.event {
                            report.changed.push(e.id);
                        }
                    } else {
                        errors.push(err(
                            e,
                            format!("id {} is stored already in another stream", e.id),
                        ));
                    }
                    continue;
                }
                let proposed = vec![Proposed {
                    id: e.id,
                    event: e.event.clone(),
                }];
                // One line at a time, so that a refusal names its line; the
                // rest of a refused stream would only repeat the refusal.
                match batch.write(stream, proposed) {
                    Ok(()) => written = true,
                    Err(e @ (CommandError::Store(_) | CommandError::Projection(_))) => {
                        return Err(e.into());
                    }
                    Err(problem) => {
                        errors.push(err(e, problem.to_string()));
                        break;
                    }
                }
            }
            streams += usize::from(written);
        }
        if !errors.is_empty() {
            return Err(SeedErrors(errors).into());
        }
        report.streams = streams;
        if dry_run {
            report.appended = batch.queued();
            return Ok(report);
        }
        report.appended = batch.append()?;
        self.catch_up()?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pacta_domain::{
        EventType, Initiative, PartyKind, Payload, PopulationBound, Precision, TerminationMode,
    };

    /// Each source document's file name and own date (none: undated).
    const SOURCES: &[(&str, Option<&str>)] = &[
        ("000_968e688faa1f11d9.txt", Some("2020-02-05")),
        ("001_3457ff16fb4a1bf4.txt", Some("[2022-03-01..]")),
        // The paper gives no date of its own; it is the paper for 2013
        // (002:9, 002:128).
        ("002_391f1423bad53a67.txt", Some("2013")),
        ("003_243f8dd02ec98ead.txt", None), // each notice has its own date
        ("004_62f59063397ba68f.txt", None),
    ];

    /// Sources other than the five documents, by reference.
    const OUTSIDE_SOURCES: &[&str] = &["347/1997 Sb."];

    fn events() -> Vec<SeedEvent> {
        parse(&bundled()).expect("the bundled seeds parse")
    }

    #[test]
    fn every_event_cites_its_source_with_the_sources_own_date() {
        for e in events() {
            let at = format!("{}:{}", e.file, e.line);
            let source = e
                .event
                .source
                .as_ref()
                .unwrap_or_else(|| panic!("{at}: no source"));
            assert!(!source.title.trim().is_empty(), "{at}: empty title");
            let reference = source
                .reference
                .as_deref()
                .unwrap_or_else(|| panic!("{at}: no reference"));
            // Facts the five documents do not state are cited from where
            // they come: the act that created the Czech regions.
            if OUTSIDE_SOURCES.contains(&reference) {
                assert!(source.date.is_some(), "{at}: an outside source is dated");
                assert!(source.locator.is_some(), "{at}: and located");
                continue;
            }
            let (_, date) = SOURCES
                .iter()
                .find(|(name, _)| *name == reference)
                .unwrap_or_else(|| panic!("{at}: {reference} is not a source file"));
            match (reference, date) {
                ("003_243f8dd02ec98ead.txt", _) => {
                    let own = source
                        .date
                        .unwrap_or_else(|| panic!("{at}: a notice has its date"));
                    assert_eq!(own.precision(), Precision::Day, "{at}");
                    if e.event.event_type() == EventType::OfferPublished {
                        assert_eq!(
                            e.event.date,
                            Some(own),
                            "{at}: published on the notice's date"
                        );
                    }
                }
                (_, Some(d)) => assert_eq!(
                    source.date.map(|x| x.to_string()).as_deref(),
                    Some(*d),
                    "{at}"
                ),
                (_, None) => assert_eq!(source.date, None, "{at}: the source is undated"),
            }
            let note = e.event.note.as_deref().unwrap_or_default();
            assert!(!note.trim().is_empty(), "{at}: every event carries a note");
        }
    }

    #[test]
    fn dates_keep_the_precision_of_the_plzen_page() {
        use Precision::*;
        let expected: &[(&str, &str, Precision)] = &[
            ("upper-palatinate", "2001", Year),
            ("lower-bavaria", "2001", Year),
            ("bergamo", "2001", Year),
            ("northamptonshire", "2006-10", Month),
            ("zhejiang", "2007-07", Month),
            ("franche-comte", "2008-05", Month),
            ("sverdlovsk-oblast", "2009-05", Month),
            ("caras-severin", "2009-10-22", Day),
            ("bjelovar-bilogora", "2011-02", Month),
            ("east-kazakhstan", "2012-10", Month),
            ("can-tho", "2015-04", Month),
        ];
        let events = events();
        for (partner, date, precision) in expected {
            let stream = format!("partnership/plzensky-kraj--{partner}");
            let signed = events
                .iter()
                .find(|e| {
                    e.stream.to_string() == stream && e.event.event_type() == EventType::Signed
                })
                .unwrap_or_else(|| panic!("{stream} is signed"));
            let d = signed.event.date.expect("Signed has a date");
            assert_eq!(
                (d.to_string().as_str(), d.precision()),
                (*date, *precision),
                "{stream}"
            );
        }
    }

    #[test]
    fn the_end_of_more_og_romsdal_is_a_range_not_an_invented_day() {
        let events = events();
        let end = events
            .iter()
            .find(|e| {
                e.stream.to_string() == "partnership/liberecky-kraj--more-og-romsdal"
                    && e.event.event_type() == EventType::Terminated
            })
            .expect("the agreement ended");
        assert_eq!(
            end.event.date.map(|d| d.precision()),
            Some(Precision::Range)
        );
        assert!(matches!(end.event.payload, Payload::Terminated(_)));
    }

    fn in_stream<'a>(events: &'a [SeedEvent], stream: &str) -> Vec<&'a SeedEvent> {
        events
            .iter()
            .filter(|e| e.stream.to_string() == stream)
            .collect()
    }

    #[test]
    fn every_event_says_where_in_its_source_the_fact_stands() {
        for e in events() {
            let at = format!("{}:{}", e.file, e.line);
            let source = e.event.source.as_ref().expect("a source");
            let locator = source
                .locator
                .as_deref()
                .unwrap_or_else(|| panic!("{at}: no source.locator"));
            assert!(!locator.trim().is_empty(), "{at}: empty locator");
            if let Payload::Terminated(t) = &e.event.payload
                && let Some(notice) = &t.notice
            {
                assert!(notice.locator.is_some(), "{at}: the notice has no locator");
            }
            // A notice of 003 is found by its date.
            if source.reference.as_deref() == Some("003_243f8dd02ec98ead.txt") {
                let date = source.date.expect("a notice has its date").to_string();
                let (y, rest) = date.split_at(4);
                let dotted = format!("{}.{}.{y}", &rest[4..6], &rest[1..3]);
                assert!(
                    locator.starts_with(&format!("notice of {dotted}: ")),
                    "{at}: {locator:?} names the notice of {dotted}"
                );
            }
        }
    }

    /// The facts each row names, as the source line cited beside it says.
    #[test]
    fn the_seeds_say_what_the_sources_say() {
        let events = events();
        let find = |stream: &str, ty: EventType| -> &SeedEvent {
            in_stream(&events, stream)
                .into_iter()
                .find(|e| e.event.event_type() == ty)
                .unwrap_or_else(|| panic!("{stream} has a {ty}"))
        };
        let types = |stream: &str| -> Vec<EventType> {
            in_stream(&events, stream)
                .iter()
                .map(|e| e.event.event_type())
                .collect()
        };
        let date = |e: &SeedEvent| e.event.date.map(|d| d.to_string());

        // 002:71 names "the towns of South Banat", not the district.
        let banat = find("party/south-banat", EventType::PartyRegistered);
        let Payload::PartyRegistered(p) = &banat.event.payload else {
            unreachable!()
        };
        assert_eq!(p.kind, PartyKind::Other);
        assert_eq!(p.names.en.as_deref(), Some("towns of South Banat"));
        assert_eq!(p.iso_3166_2, None, "RS-04 is the district's code");

        // 002:67 names Hangzhou with no province.
        let hangzhou = find("party/hangzhou", EventType::PartyRegistered);
        let Payload::PartyRegistered(p) = &hangzhou.event.payload else {
            unreachable!()
        };
        assert_eq!(p.parent, None);

        // 000:9: working groups and regional conferences of the
        // cross-border cooperation with both Bavarian regions.
        for partner in ["upper-palatinate", "lower-bavaria"] {
            let stream = format!("partnership/plzensky-kraj--{partner}");
            let Payload::Signed(s) = &find(&stream, EventType::Signed).event.payload else {
                unreachable!()
            };
            assert!(
                s.areas.iter().any(|a| a == "municipal cooperation"),
                "{stream}"
            );
            let conference = in_stream(&events, &stream).into_iter().any(|e| {
                matches!(&e.event.payload, Payload::ActivityRecorded(a)
                    if a.kind == pacta_domain::ActivityKind::Conference)
            });
            assert!(conference, "{stream}: the regional conferences");
        }

        // 001:23: August 2005 is the first contact with the regional
        // administration; 001:21 the April offer came through the embassy.
        let aosta = "partnership/liberecky-kraj--valle-d-aosta";
        assert_eq!(
            date(find(aosta, EventType::ContactEstablished)).as_deref(),
            Some("2005-08")
        );
        assert!(!types(aosta).contains(&EventType::NegotiationStarted));

        // 001:53: town contacts from which the regional partnership grew
        // ("from the level of towns the partnership spread to the regions"):
        // a partnership of the towns existed by 2001-11-28, with no
        // agreement, date or instrument named; nothing of negotiations.
        assert_eq!(
            types("partnership/ceska-lipa--molde"),
            [
                EventType::PartnershipOpened,
                EventType::ContactEstablished,
                EventType::Attested
            ]
        );
        let towns = find("partnership/ceska-lipa--molde", EventType::Attested);
        assert_eq!(date(towns).as_deref(), Some("[..2001-11-28]"));
        let Payload::Attested(a) = &towns.event.payload else {
            unreachable!()
        };
        assert_eq!(a.instrument, None);

        // 001:53, 001:81: the page does not say who started Møre og
        // Romsdal or Bursa; 001:21 and 001:37 say it for the others.
        for (partner, initiative) in [
            ("more-og-romsdal", None),
            ("bursa", None),
            ("valle-d-aosta", Some(Initiative::ForeignSide)),
            ("orenburg-oblast", Some(Initiative::ForeignSide)),
        ] {
            let stream = format!("partnership/liberecky-kraj--{partner}");
            let Payload::PartnershipOpened(o) =
                &find(&stream, EventType::PartnershipOpened).event.payload
            else {
                unreachable!()
            };
            assert_eq!(o.initiative, initiative, "{stream}");
        }

        // 001:57: ended, with no date and no word of how.
        let Payload::Terminated(t) = &find(
            "partnership/liberecky-kraj--more-og-romsdal",
            EventType::Terminated,
        )
        .event
        .payload
        else {
            unreachable!()
        };
        assert_eq!((t.mode, t.effective), (TerminationMode::Unknown, None));

        // 001:41: denounced on 2022-03-01; no effective date is given.
        let Payload::Terminated(t) = &find(
            "partnership/liberecky-kraj--orenburg-oblast",
            EventType::Terminated,
        )
        .event
        .payload
        else {
            unreachable!()
        };
        assert_eq!((t.mode, t.effective), (TerminationMode::Denounced, None));
    }

    #[test]
    fn populations_keep_the_direction_of_the_notices_bounds() {
        use PopulationBound::*;
        let expected: &[(&str, u64, Option<PopulationBound>)] = &[
            ("magliano-sabina-2011-10-10", 5000, Some(Under)), // 003:135 "necelými 5 tisíci"
            ("vadul-lui-voda-2011-08-15", 4000, Some(Over)),   // 003:141 "více než čtyřmi tisíci"
            ("colletorto-2009-09-03", 2500, Some(Under)),      // 003:250 "necelých 2 500"
            ("gracanica-2011-03-04", 55000, Some(Over)),       // 003:178 "přes 55 tisíc"
            ("stip-2010-12-16", 50000, Some(Under)),           // 003:184 "téměř 50 000"
            ("fushe-arrez-2019-11-05", 11000, Some(Over)),     // 003:123 "více než 11 000"
            ("chuhuiv-2023-07-31", 40000, Some(About)),        // 003:25 "Čtyřicetitisícové"
            ("kfar-masaryk-2020-03-19", 760, Some(About)),     // 003:111 "kolem 760"
            ("dura-2020-03-05", 41000, Some(About)),           // 003:117 "zhruba 41 000"
            ("aubange-2011-06-21", 15900, None),               // 003:154 "s 15 900 obyvateli"
        ];
        let events = events();
        for &(offer, n, bound) in expected {
            let stream = format!("offer/{offer}");
            let e = in_stream(&events, &stream)
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("{stream}"));
            let Payload::OfferPublished(o) = &e.event.payload else {
                panic!("{stream} starts with OfferPublished")
            };
            assert_eq!(
                (o.population, o.population_bound),
                (Some(n), bound),
                "{stream}"
            );
            assert!(!o.population_approximate, "{stream}: the bound says it");
        }
    }

    /// 000:5 (updated 2020-02-05) lists all eleven partners as current;
    /// 002:67-71 lists seven with a valid contract, as of the paper for
    /// 2013; 001 lists three stagnating agreements with no end.
    #[test]
    fn sources_that_list_partnerships_as_current_attest_them() {
        let events = events();
        let attested = |stream_prefix: &str, date: &str| -> usize {
            events
                .iter()
                .filter(|e| {
                    e.stream.to_string().starts_with(stream_prefix)
                        && e.event.event_type() == EventType::Attested
                        && e.event.date.map(|d| d.to_string()).as_deref() == Some(date)
                })
                .count()
        };
        assert_eq!(attested("partnership/plzensky-kraj--", "2020-02-05"), 11);
        assert_eq!(attested("partnership/ustecky-kraj--", "2013"), 7);
        assert_eq!(
            attested("partnership/liberecky-kraj--", "[2022-03-01..]"),
            3
        );
    }

    #[test]
    fn the_bundled_seeds_are_recorded_at_their_fixed_time() {
        assert_eq!(RECORD_TIME.to_string(), "2026-11-28T00:00:00.000000Z");
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path()).unwrap();
        registry
            .load_seeds(&bundled(), &crate::Actor::system("seed"), false)
            .unwrap();
        let head = registry.store().head();
        for position in 1..=head.position {
            let record = registry.store().get(position).unwrap().unwrap();
            assert_eq!(record.envelope.recorded_at, RECORD_TIME, "@{position}");
        }
        // Other seed data is recorded when it is loaded.
        let mut edited = bundled();
        edited[0].text.push_str("# an edit\n");
        assert!(!is_bundled(&edited));
        assert!(is_bundled(&bundled().into_iter().rev().collect::<Vec<_>>()));
    }
}
