//! Projection benchmarks, side by side in one run, on a synthetic log:
//!
//! - full rebuild of every projection, against raw replay (iterate +
//!   decode) of the same log;
//! - `valid_on` over all partnerships of one party and over all
//!   partnerships (p50, p99), against folding the log per query;
//! - resident memory after the rebuild.
//!
//! `cargo run --release -p pacta-bench --bin projections -- DATA_DIR [PARTNERSHIPS] [QUERIES]`
//!
//! DATA_DIR is generated (PARTNERSHIPS, default 100000) when empty and
//! reused otherwise.

use std::collections::HashMap;
use std::time::Instant;

use pacta_bench::{quantile, time};
use pacta_domain::history::Fact;
use pacta_domain::{Day, EventId, InForce, StreamId, StreamKind, Timeline};
use pacta_projections::ListFilter;
use pacta_registry::Registry;
use pacta_registry::synthetic::{self, Rng};

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Answers "in force on D" for every partnership by reading the whole log
/// and folding it: what the projection spares each query.
fn fold_log_per_query(registry: &Registry, day: Day) -> usize {
    let mut facts: HashMap<StreamId, Vec<Fact>> = HashMap::new();
    let mut positions: HashMap<EventId, u64> = HashMap::new();
    for record in registry.store().read_from(0) {
        let r = record.expect("read");
        if r.envelope.stream.kind != StreamKind::Partnership {
            continue;
        }
        positions.insert(r.envelope.event_id, r.envelope.position);
        let fact = Fact::from_event(r.envelope.position, r.envelope.recorded_at, &r.event, |t| {
            positions.get(&t).copied()
        })
        .expect("a valid fact");
        facts
            .entry(r.envelope.stream.clone())
            .or_default()
            .push(fact);
    }
    facts
        .values()
        .filter(|f| Timeline::resolve(f, None).is_ok_and(|t| t.on(day).in_force != InForce::No))
        .count()
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "bench-data".into());
    let partnerships: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let queries: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);

    let registry = Registry::open(&dir)?;
    if registry.store().head().position == 0 {
        let (secs, done) = time(|| {
            synthetic::generate(&registry, partnerships, 7, &mut |d, t| {
                if d % 10_000 == 0 {
                    eprintln!("generate {d}/{t}");
                }
            })
        });
        let done = done?;
        println!(
            "generated {} partnerships, {} events in {secs:.1}s",
            done.partnerships, done.events
        );
    }
    let events = registry.store().head().position;
    println!("log: {events} events, data directory {dir}");

    // Raw replay and rebuild, alternating, twice.
    let (mut replay, mut rebuild) = (Vec::new(), Vec::new());
    for round in 1..=2 {
        let (secs, n) = time(|| {
            let mut n = 0u64;
            for record in registry.store().read_from(0) {
                std::hint::black_box(record.expect("read"));
                n += 1;
            }
            n
        });
        replay.push(secs);
        let (rsecs, applied) = time(|| registry.rebuild(None, &mut |_, _| {}));
        applied?;
        rebuild.push(rsecs);
        println!(
            "round {round}: raw replay {secs:.2}s ({:.0} events/s), full rebuild {rsecs:.2}s ({:.0} events/s), ratio {:.2}",
            n as f64 / secs,
            events as f64 / rsecs,
            rsecs / secs
        );
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "REBUILD: {:.2}s vs raw replay {:.2}s: {:.2}x (best of 2 each)",
        best(&rebuild),
        best(&replay),
        best(&rebuild) / best(&replay)
    );
    println!("RSS after rebuild: {:.0} MiB", rss_mib());

    // Verification of the chain against reading the log, alternating.
    let (mut read_s, mut verify_s) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let (secs, _) = time(|| {
            for record in registry.store().read_from(0) {
                std::hint::black_box(record.expect("read"));
            }
        });
        read_s.push(secs);
        let (secs, report) = time(|| registry.store().verify(&mut |_, _| {}));
        assert!(report?.ok, "the chain verifies");
        verify_s.push(secs);
    }
    println!(
        "VERIFY: {:.2}s ({:.0} events/s) vs reading the log {:.2}s: {:.2}x the speed of reading",
        best(&verify_s),
        events as f64 / best(&verify_s),
        best(&read_s),
        best(&read_s) / best(&verify_s)
    );
    println!(
        "partnerships: {}",
        registry.projections().partnerships().len()
    );

    let mut rng = Rng::new(11);
    let base = Day::from_ymd(1995, 1, 1).expect("a day").number();
    let mut random_day = || Day::from_number(base + rng.below(12_000) as i32);
    let party = synthetic::home_party(3);
    let p = registry.projections().partnerships();
    for (label, party) in [
        ("one party (home-3)", Some(party)),
        ("all partnerships", None),
    ] {
        let mut ms = Vec::with_capacity(queries);
        let mut found = 0usize;
        for _ in 0..queries {
            let filter = ListFilter {
                party: party.clone(),
                status: None,
                valid_on: Some(pacta_domain::Span::day(random_day())),
                in_force: Default::default(),
                as_known_at: None,
                today: random_day(),
            };
            let started = Instant::now();
            let rows = registry.list(&filter);
            ms.push(started.elapsed().as_secs_f64() * 1e3);
            found += rows.len();
        }
        let total = match &party {
            Some(pid) => p.ids_of_party(pid.as_str()).len(),
            None => p.len(),
        };
        println!(
            "VALID_ON {label} ({total} partnerships, avg {} in force): p50 {:.2} ms, p99 {:.2} ms",
            found / queries,
            quantile(&mut ms.clone(), 0.5),
            quantile(&mut ms, 0.99)
        );
    }

    // Folding the log per query: a few samples, it is slow.
    let mut fold = Vec::new();
    for _ in 0..3 {
        let day = random_day();
        let (secs, n) = time(|| fold_log_per_query(&registry, day));
        fold.push(secs * 1e3);
        std::hint::black_box(n);
    }
    let fold_ms = quantile(&mut fold, 0.5);
    let mut proj = Vec::new();
    for _ in 0..queries {
        let filter = ListFilter {
            party: None,
            status: None,
            valid_on: Some(pacta_domain::Span::day(random_day())),
            in_force: Default::default(),
            as_known_at: None,
            today: random_day(),
        };
        let started = Instant::now();
        std::hint::black_box(registry.list(&filter));
        proj.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let proj_ms = quantile(&mut proj, 0.5);
    println!(
        "FOLD PER QUERY (all partnerships): median {fold_ms:.0} ms vs projection median {proj_ms:.2} ms: {:.0}x faster",
        fold_ms / proj_ms
    );
    Ok(())
}
