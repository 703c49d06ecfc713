//! Store benchmarks, side by side in one run:
//!
//! - durable appends/s through the store API with 1 and with 32 concurrent
//!   appenders, against raw sled insert + flush per event (and insert +
//!   flush + fdatasync, the store's own durability);
//! - replay (iterate + decode the whole log) events/s through the store
//!   API, against raw sled iterate + serde decode of the same bytes.
//!
//! `cargo run --release -p pacta-bench --bin store -- [APPEND_EVENTS] [REPLAY_EVENTS] [ROUNDS]`
//! (REPLAY_EVENTS 0 skips the replay); `crates/bench/store.sh` runs it
//! beside PostgreSQL's pgbench. With `PACTA_BENCH_PG` set to a connection
//! string of an empty database, each round also appends the same events
//! through the PostgreSQL log (`pacta_store::pg::PgLog`), 1 and 32
//! appenders, each round into a log of its own (the tables are dropped
//! between rounds).

use std::sync::Arc;

use pacta_bench::{event_id, median, sample_event, time};
use pacta_domain::StreamId;
use pacta_store::{Append, NewEvent, Store};

fn append(stream: u64, id: u64) -> Append {
    Append {
        stream: StreamId::parse(&format!("partnership/bench-{stream}")).expect("a valid id"),
        expected_version: None,
        events: vec![NewEvent {
            event_id: event_id(id),
            event: sample_event(id),
            recorded_by: "bench".into(),
        }],
    }
}

/// Raw sled: insert one value, flush (and, with `sync`, fdatasync sled's
/// data file, as the store does), repeat. Returns events/s.
fn raw_flush_per_event(n: u64, value: &[u8], sync: bool) -> f64 {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = sled::Config::new()
        .path(dir.path())
        .cache_capacity(pacta_store::CACHE_BYTES)
        .open()
        .expect("sled opens");
    let tree = db.open_tree("log").expect("a tree");
    let file = std::fs::File::open(dir.path().join("db")).expect("sled's data file");
    let (secs, ()) = time(|| {
        for i in 1..=n {
            tree.insert(i.to_be_bytes(), value).expect("insert");
            db.flush().expect("flush");
            if sync {
                file.sync_data().expect("fdatasync");
            }
        }
    });
    n as f64 / secs
}

/// The PostgreSQL log with `appenders` concurrent tasks, `n` events in
/// all, into a fresh log (the database's tables are dropped first).
fn pg_appends(rt: &tokio::runtime::Runtime, url: &str, n: u64, appenders: u64) -> f64 {
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("PostgreSQL answers");
        let conn = tokio::spawn(connection);
        client
            .batch_execute(
                "DROP TABLE IF EXISTS log, head, kv, tlog_hashes, tlog_size, schema_migrations CASCADE; \
                 DROP FUNCTION IF EXISTS pacta_log_append_only CASCADE",
            )
            .await
            .expect("a fresh database");
        drop(client);
        let _ = conn.await;
    });
    let log = rt
        .block_on(pacta_store::pg::PgLog::connect(url))
        .expect("the PostgreSQL log opens");
    rt.block_on(log.lead()).expect("leadership");
    let per = n / appenders;
    let (secs, ()) = time(|| {
        rt.block_on(async {
            let mut tasks = Vec::new();
            for a in 0..appenders {
                let log = log.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..per {
                        let id = a * per + i;
                        log.append_one(append(a, id)).await.expect("append");
                    }
                }));
            }
            for t in tasks {
                t.await.expect("task");
            }
        })
    });
    rt.block_on(log.close());
    (per * appenders) as f64 / secs
}

/// The store with `appenders` concurrent tasks, `n` events in all.
fn store_appends(rt: &tokio::runtime::Runtime, n: u64, appenders: u64) -> f64 {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(dir.path()).expect("the store opens");
    let per = n / appenders;
    let (secs, ()) = time(|| {
        rt.block_on(async {
            let mut tasks = Vec::new();
            for a in 0..appenders {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..per {
                        let id = a * per + i;
                        store.append(append(a, id)).await.expect("append");
                    }
                }));
            }
            for t in tasks {
                t.await.expect("task");
            }
        })
    });
    (per * appenders) as f64 / secs
}

fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let append_n = args.first().copied().unwrap_or(3_200);
    let replay_n = args.get(1).copied().unwrap_or(500_000);
    let rounds = args.get(2).copied().unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    // The bytes a record really takes, for the raw baselines.
    let probe_dir = tempfile::tempdir()?;
    let probe = Store::open(probe_dir.path())?;
    probe.append_blocking(append(0, 0))?;
    let value = probe.raw_from(0).next().expect("one record")?.1.to_vec();
    drop(probe);
    println!(
        "record size: {} bytes (hashes + canonical JSON)",
        value.len()
    );

    let pg = std::env::var("PACTA_BENCH_PG").ok();
    let (mut raw, mut raw_sync, mut one, mut many) = (vec![], vec![], vec![], vec![]);
    // The same appends with the Merkle tree off, measured beside each
    // round's: the tree's cost as a ratio within one run.
    let (mut many_off, mut tree_ratio) = (vec![], vec![]);
    let mut one_ratio = vec![];
    let (mut pg_one, mut pg_many) = (vec![], vec![]);
    for round in 1..=rounds {
        raw.push(raw_flush_per_event(append_n / 4, &value, false));
        raw_sync.push(raw_flush_per_event(append_n / 4, &value, true));
        let one_on = store_appends(&rt, append_n / 4, 1);
        Store::set_tree_off_for_benchmarks(true);
        let one_off = store_appends(&rt, append_n / 4, 1);
        Store::set_tree_off_for_benchmarks(false);
        one.push(one_on);
        one_ratio.push(one_on / one_off);
        println!(
            "round {round}: store 1 appender, tree on {one_on:.0}/s, tree off {one_off:.0}/s, on/off {:.3}",
            one_on / one_off
        );
        // Alternate which goes first, so that neither always meets a
        // warmer machine.
        let pair = |rt: &tokio::runtime::Runtime| {
            Store::set_tree_off_for_benchmarks(true);
            let off = store_appends(rt, append_n, 32);
            Store::set_tree_off_for_benchmarks(false);
            off
        };
        let (on, off) = if round % 2 == 1 {
            let on = store_appends(&rt, append_n, 32);
            (on, pair(&rt))
        } else {
            let off = pair(&rt);
            (store_appends(&rt, append_n, 32), off)
        };
        many.push(on);
        many_off.push(off);
        tree_ratio.push(on / off);
        println!(
            "round {round}: store 32 appenders, tree on {on:.0}/s, tree off {off:.0}/s, on/off {:.3}",
            on / off
        );
        if let Some(url) = &pg {
            pg_one.push(pg_appends(&rt, url, append_n / 4, 1));
            pg_many.push(pg_appends(&rt, url, append_n, 32));
            println!(
                "round {round}: PostgreSQL log 1 appender {:.0}/s, 32 appenders {:.0}/s",
                pg_one[pg_one.len() - 1],
                pg_many[pg_many.len() - 1]
            );
        }
        println!(
            "round {round}: raw flush/event {:.0}/s, raw flush+fdatasync/event {:.0}/s, \
             store 1 appender {:.0}/s, store 32 appenders {:.0}/s",
            raw[raw.len() - 1],
            raw_sync[raw_sync.len() - 1],
            one[one.len() - 1],
            many[many.len() - 1]
        );
    }
    let (raw, raw_sync) = (median(raw), median(raw_sync));
    let (one, many) = (median(one), median(many));
    println!("APPENDS (median of {rounds}; the store syncs every group with fdatasync):");
    println!("  raw sled insert+flush per event            {raw:>10.0} events/s");
    println!("  raw sled insert+flush+fdatasync per event  {raw_sync:>10.0} events/s");
    println!(
        "  store, 1 appender                          {one:>10.0} events/s  ({:.2}x raw flush)",
        one / raw
    );
    println!(
        "  store, 32 appenders                        {many:>10.0} events/s  ({:.2}x raw flush, {:.2}x raw flush+fdatasync)",
        many / raw,
        many / raw_sync
    );
    println!(
        "  store, 32 appenders, Merkle tree off       {:>10.0} events/s  (tree on/off: median of the rounds' ratios {:.3})",
        median(many_off),
        median(tree_ratio)
    );
    println!(
        "  store, 1 appender: tree on/off, median of the rounds' ratios {:.3} (its inverse is the latency's)",
        median(one_ratio)
    );
    println!("  store-1 {one:.0}");
    println!("  store-32 {many:.0}");
    if pg.is_some() {
        let (pg_one, pg_many) = (median(pg_one), median(pg_many));
        println!(
            "  PostgreSQL log, 1 appender                 {pg_one:>10.0} events/s  (sled store {:.2}x)",
            one / pg_one
        );
        println!(
            "  PostgreSQL log, 32 appenders               {pg_many:>10.0} events/s  (sled store {:.2}x)",
            many / pg_many
        );
        println!("  pglog-1 {pg_one:.0}");
        println!("  pglog-32 {pg_many:.0}");
    }
    if replay_n == 0 {
        return Ok(());
    }

    // Replay: one log written through the store in large batches, and a raw
    // tree holding the very same bytes.
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let batch = 1_000u64;
    for b in 0..replay_n / batch {
        let events = (0..batch)
            .map(|i| {
                let id = 1_000_000 + b * batch + i;
                NewEvent {
                    event_id: event_id(id),
                    event: sample_event(id),
                    recorded_by: "bench".into(),
                }
            })
            .collect();
        store.append_blocking(Append {
            stream: StreamId::parse(&format!("partnership/replay-{}", b % 97))?,
            expected_version: None,
            events,
        })?;
    }
    // The same page cache as the store's, for a fair comparison.
    let raw_db = sled::Config::new()
        .path(dir.path().join("raw"))
        .cache_capacity(pacta_store::CACHE_BYTES)
        .open()?;
    let raw_tree = raw_db.open_tree("log")?;
    for item in store.raw_from(0) {
        let (pos, v) = item?;
        raw_tree.insert(pos.to_be_bytes(), v)?;
    }
    raw_db.flush()?;
    let store = Arc::new(store);
    let (mut raw_r, mut store_r) = (vec![], vec![]);
    for round in 1..=rounds {
        let (secs, n) = time(|| {
            let mut n = 0u64;
            for item in raw_tree.iter() {
                let (_, v) = item.expect("read");
                let decoded = pacta_domain::record::decode_unhashed(&v[64..]).expect("decode");
                std::hint::black_box(&decoded);
                n += 1;
            }
            n
        });
        raw_r.push(n as f64 / secs);
        let (secs, n) = time(|| {
            let mut n = 0u64;
            for record in store.read_from(0) {
                std::hint::black_box(&record.expect("read"));
                n += 1;
            }
            n
        });
        store_r.push(n as f64 / secs);
        println!(
            "round {round}: raw iterate+decode {:.0}/s, store replay {:.0}/s",
            raw_r[raw_r.len() - 1],
            store_r[store_r.len() - 1]
        );
    }
    let (raw_r, store_r) = (median(raw_r), median(store_r));
    println!("REPLAY of {replay_n} events (median of {rounds}):");
    println!("  raw sled iterate + serde decode  {raw_r:>10.0} events/s");
    println!(
        "  store read_from(0)               {store_r:>10.0} events/s  ({:.2}x raw)",
        store_r / raw_r
    );
    Ok(())
}
