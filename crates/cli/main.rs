//! `pacta`: the registry of international partnerships, on the command line.
//!
//! This binary is thin: it parses arguments, opens the store and calls the
//! library crates. Errors end as one line on stderr and a non-zero exit.

mod log;

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use pacta_domain::{Recorded, Timestamp};
use pacta_store::{Head, Store};

/// The registry of international partnerships of Czech regions and towns,
/// with a legal audit trail.
#[derive(Parser)]
#[command(name = "pacta", version, about, long_about = None)]
struct Cli {
    /// The data directory (created if missing).
    #[arg(long, global = true, env = "PACTA_DATA", default_value = "./data")]
    data: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import an export (NDJSON of records) into the store.
    ///
    /// Records are checked against the hash chain before anything is
    /// written: an altered record refuses the whole import. Importing into
    /// a store whose log is a prefix of the export continues it.
    Import {
        /// The NDJSON file to read (`-` for stdin).
        path: PathBuf,
    },
    /// Print the full log as NDJSON, one record per line, oldest first.
    Export {
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Recompute the hash chain from the first record to the head.
    ///
    /// Exits 0 when intact, 1 when a record does not fit (and names it).
    Verify {
        /// Also check that the log still extends this digest (from `pacta digest`).
        #[arg(long)]
        digest: Option<PathBuf>,
    },
    /// Print the head (position, hash, time) as JSON to keep as a digest.
    Digest,
}

fn main() {
    let cli = Cli::parse();
    log::init_cli();
    if let Err(e) = run(cli) {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        eprintln!("error: {}", dedup_chain(chain).join(": "));
        std::process::exit(1);
    }
}

/// Drops causes already contained in the message before them, so that a
/// wrapped error prints once.
fn dedup_chain(chain: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in chain {
        if !out.last().is_some_and(|prev| prev.contains(&c)) {
            out.push(c);
        }
    }
    out
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Import { path } => import(&cli.data, &path),
        Command::Export { output } => export(&cli.data, output.as_deref()),
        Command::Verify { digest } => verify(&cli.data, digest.as_deref()),
        Command::Digest => digest(&cli.data),
    }
}

fn open(data: &Path) -> anyhow::Result<Store> {
    Ok(Store::open(data)?)
}

fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    if !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

fn export(data: &Path, output: Option<&Path>) -> anyhow::Result<()> {
    let store = open(data)?;
    let out: Box<dyn Write> = match output {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::new(out);
    let bar = progress_bar(store.head().position, "export");
    for record in store.read_from(0) {
        serde_json::to_writer(&mut out, &record?)?;
        out.write_all(b"\n")?;
        bar.inc(1);
    }
    out.flush()?;
    bar.finish_and_clear();
    Ok(())
}

/// Records per import transaction: bounds memory, keeps each flush large.
const IMPORT_CHUNK: usize = 2000;

fn import(data: &Path, path: &Path) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(BufReader::new(io::stdin().lock()))
    } else {
        Box::new(BufReader::new(
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        ))
    };
    let store = open(data)?;
    let start_head = store.head();
    let started = Instant::now();
    let bar = progress_bar(0, "import");
    let mut chunk = Vec::with_capacity(IMPORT_CHUNK);
    let mut skipped = 0u64;
    for (n, line) in reader.lines().enumerate() {
        let line =
            line.with_context(|| format!("{}: cannot read line {}", path.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Recorded = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a record", path.display(), n + 1))?;
        let position = record.envelope.position;
        if position <= start_head.position {
            // Already in the store: it must be the very same record.
            let stored = store.get(position)?.map(|r| r.hash);
            if stored != Some(record.hash) {
                bail!(
                    "{}:{}: the store diverges from the export at position {position} \
                     (stored hash {}, export hash {})",
                    path.display(),
                    n + 1,
                    stored
                        .map(|h| h.to_string())
                        .unwrap_or_else(|| "none".into()),
                    record.hash
                );
            }
            skipped += 1;
            continue;
        }
        chunk.push(record);
        if chunk.len() == IMPORT_CHUNK {
            store.import_blocking(std::mem::take(&mut chunk))?;
            bar.inc(IMPORT_CHUNK as u64);
        }
    }
    if !chunk.is_empty() {
        bar.inc(chunk.len() as u64);
        store.import_blocking(chunk)?;
    }
    bar.finish_and_clear();
    let head = store.head();
    let added = head.position - start_head.position;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "imported {added} records ({skipped} already present) in {secs:.1}s; head {} {}",
        head.position, head.hash
    );
    Ok(())
}

/// The digest a third party keeps: the head and when it was taken.
#[derive(serde::Serialize, serde::Deserialize)]
struct DigestFile {
    position: u64,
    hash: pacta_domain::Digest,
    /// Record time of the head record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recorded_at: Option<Timestamp>,
    /// When the digest was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    taken_at: Option<Timestamp>,
}

fn digest(data: &Path) -> anyhow::Result<()> {
    let store = open(data)?;
    let head = store.head();
    let recorded_at = match head.position {
        0 => None,
        p => store.get(p)?.map(|r| r.envelope.recorded_at),
    };
    let file = DigestFile {
        position: head.position,
        hash: head.hash,
        recorded_at,
        taken_at: Some(Timestamp::from_system_time(std::time::SystemTime::now())),
    };
    println!("{}", serde_json::to_string_pretty(&file)?);
    Ok(())
}

fn verify(data: &Path, digest: Option<&Path>) -> anyhow::Result<()> {
    let store = open(data)?;
    let bar = progress_bar(store.head().position, "verify");
    let started = Instant::now();
    let mut progress = |done: u64, _total: u64| bar.set_position(done);
    let (ok, report) = match digest {
        None => {
            let report = store.verify(&mut progress)?;
            (report.ok, serde_json::to_value(&report)?)
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read digest {}", path.display()))?;
            let file: DigestFile = serde_json::from_str(&text).with_context(|| {
                format!("{} is not a digest (from `pacta digest`)", path.display())
            })?;
            let check = store.verify_digest(
                Head {
                    position: file.position,
                    hash: file.hash,
                },
                &mut progress,
            )?;
            (check.ok, serde_json::to_value(&check)?)
        }
    };
    bar.finish_and_clear();
    println!("{}", serde_json::to_string_pretty(&report)?);
    let secs = started.elapsed().as_secs_f64();
    if ok {
        eprintln!("verified in {secs:.1}s: the chain is intact");
        Ok(())
    } else {
        let what = report
            .get("reason")
            .and_then(|r| r.as_str())
            .unwrap_or("the chain is broken");
        bail!("verification failed: {what}")
    }
}
