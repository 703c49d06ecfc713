//! The cost of a view written with the recipe: rebuilding the activity
//! view alone against a plain pass over the log (iterate + decode every
//! record), alternating, on an existing store (made by the `projections`
//! benchmark or `pacta generate`).
//!
//! ```sh
//! cargo build --release -p pacta-bench
//! ./target/release/views /tmp/bench100k 3
//! ```

use std::time::Instant;

/// The allocator of the `pacta` binary, which runs `rebuild --projection`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pacta_registry::Registry;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "bench-data".into());
    let rounds: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(3);
    let registry = Registry::open(&dir)?;
    let events = registry.store().head().position;
    anyhow::ensure!(
        events > 0,
        "{dir} holds no log: run the projections benchmark first"
    );
    println!("log: {events} events, data directory {dir}");
    let (mut plain, mut view) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let started = Instant::now();
        let mut n = 0u64;
        for record in registry.store().read_from(0) {
            std::hint::black_box(record?);
            n += 1;
        }
        let p = started.elapsed().as_secs_f64();
        let started = Instant::now();
        registry.rebuild(Some("activity"), &mut |_, _| {})?;
        let v = started.elapsed().as_secs_f64();
        println!(
            "round {round}: plain decode pass {p:.2}s ({:.0} events/s), activity view rebuild {v:.2}s ({:.0} events/s), ratio {:.2}",
            n as f64 / p,
            events as f64 / v,
            v / p
        );
        plain.push(p);
        view.push(v);
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "VIEW REBUILD: {:.2}s vs plain decode pass {:.2}s: {:.2}x (best of {rounds} each)",
        best(&view),
        best(&plain),
        best(&view) / best(&plain)
    );
    let (answer, position) = registry.projections().view("activity").expect("served");
    println!(
        "activity view: {} rows at position {position}",
        answer.rows(None).len()
    );
    Ok(())
}
