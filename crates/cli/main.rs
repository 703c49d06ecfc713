//! `pacta`: the registry of international partnerships, on the command line.
//!
//! This binary is thin: it parses arguments, opens the registry and calls
//! the library crates. Errors end as one line on stderr and exit code 1
//! (2 for a command line clap cannot parse).

mod log;
mod output;
mod remote;

/// sled copies tree nodes on every write; glibc's allocator spends a fifth
/// of a busy server's time on that churn, mimalloc far less (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser, Subcommand};
use output::{DocFormat, Format, Table, ViewFormat, cell};
use pacta_documents::open_data::Table as OpenTable;
use pacta_documents::{self as documents, Lang, PartyNames};
use pacta_domain::{Day, PartialDate, Recorded, Slug, Span, Status, Timestamp};
use pacta_projections::ListFilter;
use pacta_registry::query::DaysAsked;
use pacta_registry::{Actor, Lookup, Rebuild, Registry};
use pacta_server::api;
use pacta_store::{Head, Store};

/// The registry of international partnerships of Czech regions and towns,
/// with a legal audit trail.
#[derive(Parser)]
#[command(name = "pacta", version, about, long_about = None)]
struct Cli {
    /// The data directory (`init`, `serve` and `token add` create it; the
    /// other commands need it to hold a registry).
    #[arg(long, global = true, env = "PACTA_DATA", default_value = "./data")]
    data: PathBuf,

    /// Log lines as text or as JSON objects (filter with RUST_LOG).
    #[arg(long, global = true, value_enum, default_value_t = log::LogFormat::Text)]
    log_format: log::LogFormat,

    /// Keep the log in PostgreSQL instead of the data directory: a
    /// connection string (`postgresql://user@host:port/db`, or
    /// `host=… port=… user=… dbname=…`). The data directory then keeps the
    /// views and the tokens. Default: the embedded store in the data
    /// directory.
    #[arg(long, global = true, env = "PACTA_STORE", value_name = "URL")]
    store: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API. An empty store is first filled with the bundled
    /// seed data. SIGTERM or Ctrl-C stops it cleanly.
    Serve {
        /// The address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Start with an empty store instead of the bundled seed data.
        #[arg(long)]
        no_seed: bool,
        /// A witness to submit each new checkpoint to, as URL=VKEY (its
        /// http:// address and the key `pacta witness key` prints there);
        /// repeat for each. Its cosignatures are served with the
        /// checkpoint and go into proof bundles.
        #[arg(long = "witness", env = "PACTA_WITNESSES", value_delimiter = ' ')]
        witnesses: Vec<pacta_registry::witnessing::WitnessRef>,
    },
    /// Create a registry in the data directory and fill it with the
    /// bundled seed data (nothing is added to one that holds records).
    Init,
    /// Manage bearer tokens for writes.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The log's signing key, made on first use in DATA/log-key: it signs
    /// the checkpoints (Merkle tree heads) that proof bundles lead to.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Proof bundles: that one record is in the log, checked offline
    /// against a signed checkpoint with no store at all.
    #[command(subcommand)]
    Proof(ProofCommand),
    /// Witness other Pacta registries (C2SP tlog-witness): cosign their
    /// checkpoints only as they grow consistently, so that their readers
    /// know nobody was shown a forked history.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Import seed data (a directory or file of seed NDJSON) or an export.
    ///
    /// Seed data is checked whole before anything is written: an unknown
    /// party, an impossible date, an event the lifecycle refuses or a
    /// duplicate id is reported with file and line. Events already stored
    /// are skipped, so importing twice adds nothing.
    ///
    /// An export (`pacta export`) is checked against the hash chain: an
    /// altered record refuses the whole import. Importing into a store
    /// whose log is a prefix of the export continues it.
    Import {
        /// A seed directory (`seeds/`), a seed file, or an export (`-` for stdin).
        path: PathBuf,
        /// Only check; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the full log as NDJSON, one record per line, oldest first
    /// (what `import` reads), or, with `--format csv`, a table for open
    /// data with its CSVW metadata.
    Export {
        /// Write to this file instead of stdout.
        #[arg(long, short, visible_alias = "out")]
        output: Option<PathBuf>,
        /// ndjson: the log as records, for `import`; csv: a table (RFC
        /// 4180, a header row) of what `--what` names.
        #[arg(long, value_enum, default_value_t = ExportFormat::Ndjson)]
        format: ExportFormat,
        /// With `--format csv`: `partnerships` (in force on a day, one row
        /// each) or `events` (the log, one row each).
        #[arg(long, required_if_eq("format", "csv"))]
        what: Option<OpenTable>,
        /// With `--what partnerships`: the day, month or year (default:
        /// today, UTC).
        #[arg(long)]
        valid_on: Option<PartialDate>,
        /// With `--format csv`: write the table's CSVW metadata here
        /// (default: NAME.csv-metadata.json beside `--output NAME.csv`).
        #[arg(long)]
        metadata: Option<PathBuf>,
        /// NDJSON only: add to each record its `derived` object, as
        /// `/api/v1/events` gives it (the date as days, the parties of a
        /// partnership's record). It is not part of the hashed record;
        /// `import` sets it aside.
        #[arg(long, conflicts_with_all = ["what", "valid_on", "metadata"])]
        derived: bool,
    },
    /// Recompute the hash chain from the first record to the head.
    ///
    /// Exits 0 when intact, 1 when a record does not fit (and names it).
    Verify {
        /// Also check that the log still extends this digest (from `pacta digest`).
        #[arg(long, conflicts_with = "checkpoint")]
        digest: Option<PathBuf>,
        /// Instead of walking the chain, check that the log's Merkle tree
        /// today extends this signed checkpoint (from `GET /checkpoint` or
        /// a proof bundle's end): its signature by the log's key (or a key
        /// it replaced), then a consistency proof from its size to the
        /// tree's, in O(log n). It checks the tree as stored; the full walk
        /// (no option) re-hashes every record.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Print the head (position, hash, time) as JSON to keep as a digest.
    Digest,
    /// List the partnerships in force (yes or uncertain) on a day, in a
    /// month or year, or in a period.
    ///
    /// A date as events write it: `2022-03-01`, `2022-03` (every day of
    /// the month), `2022`, `2011-40` (first half). Over several days, in
    /// force is `yes` when in force on all of them, `no` on none,
    /// `uncertain` otherwise; `--from 2020 --to 2022` asks about a period.
    ValidOn {
        /// The day, month or year (or give --from and --to).
        #[arg(required_unless_present_any = ["from", "to"], conflicts_with_all = ["from", "to"])]
        date: Option<PartialDate>,
        /// The first day of a period (a partial date: its first day).
        #[arg(long, requires = "to")]
        from: Option<PartialDate>,
        /// The last day of a period (a partial date: its last day).
        #[arg(long, requires = "from")]
        to: Option<PartialDate>,
        /// Only those of this party (as home or partner): an id or a name.
        #[arg(long)]
        party: Option<String>,
        /// Only those with this status on the (last) day.
        #[arg(long)]
        status: Option<Status>,
        /// Answer as the registry knew it at this moment: an RFC 3339
        /// instant, or a date meaning the end of that day, UTC
        /// (2026-01-01 = everything recorded by 2026-01-01T23:59:59Z).
        #[arg(long, value_parser = known_at)]
        as_known_at: Option<Timestamp>,
        /// Read evidence strictly: a `yes` that no fact reaching the day
        /// supports (presumed) reads `uncertain`.
        #[arg(long)]
        strict: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List every partnership with its status today (or on --valid-on),
    /// in force or not.
    List {
        /// Only those of this party (as home or partner): an id or a name.
        #[arg(long)]
        party: Option<String>,
        /// Only those with this status.
        #[arg(long)]
        status: Option<Status>,
        /// The day, month or year (default: today, UTC).
        #[arg(long, alias = "on")]
        valid_on: Option<PartialDate>,
        /// Answer as the registry knew it at this moment: an RFC 3339
        /// instant, or a date meaning the end of that day, UTC
        /// (2026-01-01 = everything recorded by 2026-01-01T23:59:59Z).
        #[arg(long, value_parser = known_at)]
        as_known_at: Option<Timestamp>,
        /// Read evidence strictly: a `yes` that no fact reaching the day
        /// supports (presumed) reads `uncertain`.
        #[arg(long)]
        strict: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show one partnership on a day, as known at a moment.
    Show {
        /// The partnership id, e.g. liberecky-kraj--orenburg-oblast.
        id: String,
        /// The day, month or year (default: today, UTC); status and events
        /// are those of its last day, in force is over all of it.
        #[arg(long)]
        valid_on: Option<PartialDate>,
        /// The first day of a period (a partial date: its first day).
        #[arg(long, requires = "to", conflicts_with = "valid_on")]
        from: Option<PartialDate>,
        /// The last day of a period (a partial date: its last day).
        #[arg(long, requires = "from")]
        to: Option<PartialDate>,
        /// Answer as the registry knew it at this moment: an RFC 3339
        /// instant, or a date meaning the end of that day, UTC
        /// (2026-01-01 = everything recorded by 2026-01-01T23:59:59Z).
        #[arg(long, value_parser = known_at)]
        as_known_at: Option<Timestamp>,
        /// Read evidence strictly: a `yes` that no fact reaching the day
        /// supports (presumed) reads `uncertain`.
        #[arg(long)]
        strict: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Every recorded event of one partnership, in the order recorded.
    History {
        /// The partnership id.
        id: String,
        /// Answer as the registry knew it at this moment: an RFC 3339
        /// instant, or a date meaning the end of that day, UTC
        /// (2026-01-01 = everything recorded by 2026-01-01T23:59:59Z).
        #[arg(long, value_parser = known_at)]
        as_known_at: Option<Timestamp>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Find parties by any of their names, aliases or ids: each word of
    /// TEXT begins a word of one of them (letter case and diacritics
    /// aside), e.g. `pacta find plzen`, `pacta find cuhujiv`.
    Find {
        /// The words to look for.
        text: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Print a view: a fold of the log registered in Pacta (`activity`:
    /// activities per year per home party, by the annual report's rule).
    View {
        /// The view's name.
        name: String,
        /// Only what it says about this party (id or name).
        #[arg(long)]
        party: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ViewFormat::Table)]
        format: ViewFormat,
    },
    /// List the parties.
    Parties {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the offers of towns seeking a Czech partner.
    Offers {
        /// Only offers with this status (published, matched, withdrawn, lapsed).
        #[arg(long)]
        status: Option<pacta_domain::OfferStatus>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Legal audit: termination dossiers.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Reports for the regional assembly.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Drop derived data and rebuild it from the log: the stream and
    /// event-id indexes and every projection, or only what a flag names.
    Rebuild {
        /// Only this projection.
        #[arg(long, conflicts_with = "indexes")]
        projection: Option<String>,
        /// Only the stream and event-id indexes.
        #[arg(long)]
        indexes: bool,
        /// Events per checkpointed step (for tests of interrupted rebuilds).
        #[arg(long, hide = true)]
        chunk: Option<usize>,
    },
    /// Write synthetic partnerships for benchmarks (not for real data).
    #[command(hide = true)]
    Generate {
        /// How many partnerships.
        #[arg(long, default_value_t = 1000)]
        partnerships: u64,
        /// The random seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// The dossier of every terminated partnership (or of one): when and
    /// how it ended, who decided and recorded it, on what evidence, what
    /// preceded it, every correction, and the chain verified to the head.
    Terminations {
        /// One partnership id.
        id: Option<String>,
        /// Read evidence strictly: the days between the last evidence and
        /// the end read `uncertain`, not presumed in force.
        #[arg(long)]
        strict: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DocFormat::Table)]
        format: DocFormat,
        /// The language of the document (table and html): cs or en.
        #[arg(long, default_value_t = Lang::Cs)]
        lang: Lang,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The yearly summary of international cooperation for the assembly.
    Annual {
        /// The year.
        #[arg(long)]
        year: i32,
        /// One home party (id or name); every home party when absent.
        #[arg(long)]
        party: Option<String>,
        /// As the registry knew it at this moment (RFC 3339).
        #[arg(long)]
        as_known_at: Option<Timestamp>,
        /// Read evidence strictly: list a presumed `yes` as perhaps in force.
        #[arg(long)]
        strict: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DocFormat::Table)]
        format: DocFormat,
        /// The language of the document (table and html): cs or en.
        #[arg(long, default_value_t = Lang::Cs)]
        lang: Lang,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Print the verifier key (`origin+keyid+key`, the signed-note
    /// format) that checks the log's checkpoints and proof bundles. The
    /// key is made now if the registry has none; its name, the log's
    /// origin, is PACTA_ORIGIN then (default localhost/pacta).
    Show,
    /// Make a new signing key. The old one is kept beside it
    /// (DATA/log-key.KEYID.old): checkpoints and bundles signed before
    /// still verify with the old verifier key, printed here with the new
    /// one; everything signed from now on needs the new one.
    Rotate {
        /// The new key's name, the log's origin (default: the old one's).
        #[arg(long)]
        origin: Option<String>,
    },
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Serve POST /add-checkpoint: a log submits its new checkpoint with a
    /// consistency proof from the last one this witness cosigned, and
    /// gets a cosignature/v1 line back (409 with the size it holds when
    /// the log's idea of it is stale, 422 for a checkpoint that does not
    /// extend it, 404 for an unknown log, 403 for a bad signature).
    Serve {
        /// The witness's own directory: its key and what it cosigned.
        #[arg(long)]
        dir: PathBuf,
        /// The witness's name when its key is made (later: the key's).
        #[arg(long, default_value = "localhost/pacta-witness")]
        name: String,
        /// A log's verifier key (`pacta key show` of that registry);
        /// repeat for each log witnessed.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
        /// The address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
    },
    /// Print the witness's verifier key (made now if it has none), which
    /// readers of cosigned checkpoints check them with.
    Key {
        /// The witness's own directory.
        #[arg(long)]
        dir: PathBuf,
        /// The witness's name when its key is made.
        #[arg(long, default_value = "localhost/pacta-witness")]
        name: String,
    },
}

#[derive(Subcommand)]
enum ProofCommand {
    /// Write the proof bundle of one record (C2SP tlog-proof): the record,
    /// its index, its inclusion proof and a checkpoint of the log as it
    /// stands, signed with the log's key.
    Bundle {
        /// The record's position in the log.
        position: u64,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check a proof bundle with no data directory: the record hashes to
    /// a leaf, the leaf's inclusion proof leads to the checkpoint's root,
    /// and the checkpoint is signed by KEY. Exits 0 when it holds, 1 when
    /// not (and says why).
    Verify {
        /// The bundle (`-` for stdin).
        file: PathBuf,
        /// The log's verifier key (from `pacta key show`), or a file
        /// holding it.
        #[arg(long)]
        key: String,
        /// A witness's key (from `pacta witness key`), or a file holding
        /// it: the checkpoint must carry its valid cosignature. Repeat
        /// for each witness required.
        #[arg(long = "witness")]
        witnesses: Vec<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token and print it once; only its hash is kept. An empty
    /// store is first filled with the bundled seed data, as `serve` does.
    Add {
        /// Its name (recorded as the author of what it writes).
        name: Slug,
        /// reader, clerk or admin.
        #[arg(long)]
        role: pacta_registry::Role,
        /// A clerk's own party.
        #[arg(long)]
        party: Option<Slug>,
    },
    /// List tokens (names, roles, parties; never the tokens).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        /// Its name.
        name: String,
    },
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    let serving = matches!(cli.command, Command::Serve { .. });
    log::init(cli.log_format, if serving { "info" } else { "warn" });
    if let Err(e) = run(cli) {
        // A reader that stopped early (`pacta export | head`) is no error.
        let broken_pipe = e.chain().any(|c| {
            let kind = match c.downcast_ref::<io::Error>() {
                Some(io) => Some(io.kind()),
                None => c
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind),
            };
            kind == Some(io::ErrorKind::BrokenPipe)
        });
        if broken_pipe {
            std::process::exit(0);
        }
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        eprintln!("error: {}", dedup_chain(chain).join(": "));
        std::process::exit(1);
    }
}

/// Help and version print as clap prints them; a usage error prints as
/// one line (its first paragraph) and exits with 2.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        _ => {
            let text = e.to_string();
            let first: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty())
                .collect();
            eprintln!("{} (see --help)", first.join(" "));
            std::process::exit(2);
        }
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

/// The days a command's date arguments ask about (see [`DaysAsked`]),
/// `on` named as the command spells it.
fn days_asked(
    on: (Option<&PartialDate>, &str),
    from: Option<&PartialDate>,
    to: Option<&PartialDate>,
) -> anyhow::Result<Option<Span>> {
    DaysAsked {
        on,
        from: (from, "--from"),
        to: (to, "--to"),
    }
    .span(today())
    .map_err(anyhow::Error::msg)
}

/// `--as-known-at`: an RFC 3339 instant or a date (the end of that day, UTC).
fn known_at(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_known_at(text).map_err(|e| e.to_string())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let data = cli.data.as_path();
    if let Some(url) = cli.store.as_deref().filter(|u| !u.is_empty()) {
        pacta_store::use_postgres(url)?;
    }
    match cli.command {
        Command::Serve {
            listen,
            no_seed,
            witnesses,
        } => serve(data, listen, no_seed, witnesses),
        Command::Init => init(data),
        Command::Token(command) => token(data, command),
        Command::Key(command) => key(data, command),
        Command::Witness(command) => witness(command),
        Command::Proof(ProofCommand::Bundle { position, output }) => {
            proof_bundle(data, position, output.as_deref())
        }
        Command::Proof(ProofCommand::Verify {
            file,
            key,
            witnesses,
        }) => proof_verify(&file, &key, &witnesses),
        Command::Import { path, dry_run } => import(data, &path, dry_run),
        Command::Export {
            output,
            format: ExportFormat::Ndjson,
            what: None,
            valid_on: None,
            metadata: None,
            derived: true,
        } => export_derived(data, output.as_deref()),
        Command::Export {
            output,
            format: ExportFormat::Ndjson,
            what: None,
            valid_on: None,
            metadata: None,
            derived: false,
        } => export(data, output.as_deref(), false),
        Command::Export {
            format: ExportFormat::Csv,
            derived: true,
            ..
        } => usage_error(Cli::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "--derived goes with --format ndjson",
        )),
        Command::Export {
            format: ExportFormat::Ndjson,
            ..
        } => usage_error(Cli::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "--what, --valid-on and --metadata go with --format csv",
        )),
        Command::Export {
            output,
            format: ExportFormat::Csv,
            what,
            valid_on,
            metadata,
            derived: false,
        } => export_csv(
            data,
            output.as_deref(),
            what.unwrap_or(OpenTable::Events),
            valid_on,
            metadata.as_deref(),
        ),
        Command::Verify {
            checkpoint: Some(checkpoint),
            ..
        } => verify_checkpoint(data, &checkpoint),
        Command::Verify { digest, .. } => verify(data, digest.as_deref()),
        Command::Digest => digest(data),
        Command::ValidOn {
            date,
            from,
            to,
            party,
            status,
            as_known_at,
            strict,
            format,
        } => {
            let span = days_asked((date.as_ref(), "DATE"), from.as_ref(), to.as_ref())?
                .ok_or_else(|| anyhow::anyhow!("give a DATE, or --from and --to"))?;
            list(
                data,
                ListFilter {
                    party: None,
                    status,
                    valid_on: Some(span),
                    in_force: Default::default(),
                    as_known_at,
                    today: today(),
                },
                party,
                strict,
                format,
            )
        }
        Command::List {
            party,
            status,
            valid_on,
            as_known_at,
            strict,
            format,
        } => {
            let span = days_asked((valid_on.as_ref(), "--valid-on"), None, None)?;
            list(
                data,
                ListFilter {
                    party: None,
                    status,
                    valid_on: span,
                    in_force: pacta_projections::InForceFilter::All,
                    as_known_at,
                    today: today(),
                },
                party,
                strict,
                format,
            )
        }
        Command::Show {
            id,
            valid_on,
            from,
            to,
            as_known_at,
            strict,
            format,
        } => {
            let span = days_asked(
                (valid_on.as_ref(), "--valid-on"),
                from.as_ref(),
                to.as_ref(),
            )?
            .unwrap_or_else(|| Span::day(today()));
            show(data, &id, span, as_known_at, strict, format)
        }
        Command::History {
            id,
            as_known_at,
            format,
        } => history(data, &id, as_known_at, format),
        Command::View {
            name,
            party,
            format,
        } => view(data, &name, party.as_deref(), format),
        Command::Parties { format } => parties(data, None, format),
        Command::Find { text, format } => parties(data, Some(&text), format),
        Command::Offers { status, format } => offers(data, status, format),
        Command::Audit(AuditCommand::Terminations {
            id,
            strict,
            format,
            lang,
        }) => audit(data, id.as_deref(), strict, format, lang),
        Command::Report(ReportCommand::Annual {
            year,
            party,
            as_known_at,
            strict,
            format,
            lang,
        }) => report(
            data,
            year,
            party.as_deref(),
            as_known_at,
            strict,
            format,
            lang,
        ),
        Command::Rebuild {
            projection,
            indexes,
            chunk,
        } => rebuild(data, projection.as_deref(), indexes, chunk),
        Command::Generate { partnerships, seed } => generate(data, partnerships, seed),
    }
}

/// Fills an empty store with the bundled seed data, all or nothing: the
/// data is loaded into a staging store (`DATA/seeding`) whose log then
/// takes the empty log's place in one rename. A first start killed while
/// loading leaves the store empty, and the next start loads it again.
/// (The views database stays: an empty store's projections are at
/// position 0 and catch up from the new log; tokens in it are kept.)
fn seed_empty_store(data: &Path) -> anyhow::Result<()> {
    let staging = data.join("seeding");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    {
        let registry = Registry::open(&staging)?;
        let report = registry.load_seeds(
            &pacta_registry::seeds::bundled(),
            &Actor::system("seed"),
            false,
        )?;
        tracing::info!(
            events = report.appended,
            streams = report.streams,
            "empty store: loaded the bundled seed data"
        );
    }
    let log = data.join("log");
    if log.exists() {
        std::fs::remove_dir_all(&log)?;
    }
    std::fs::rename(staging.join("log"), &log)?;
    // The rename itself is durable once the directory is synced.
    std::fs::File::open(data)?.sync_all()?;
    std::fs::remove_dir_all(&staging)?;
    Ok(())
}

fn serve(
    data: &Path,
    listen: std::net::SocketAddr,
    no_seed: bool,
    witnesses: Vec<pacta_registry::witnessing::WitnessRef>,
) -> anyhow::Result<()> {
    let registry = if no_seed {
        open_registry(data)?
    } else {
        open_seeded(data)?
    };
    if let Some(database) = registry.store().postgres() {
        // The first instance on a database leads its writes; another one
        // serves reads and takes over writing when that one stops.
        match registry.store().lead() {
            Ok(()) => tracing::info!(%database, "this instance writes to the log"),
            Err(pacta_store::Error::NotLeader { .. }) => tracing::warn!(
                %database,
                "another instance writes to the log; this one serves reads and \
                 takes over writing when that one stops"
            ),
            Err(e) => return Err(e.into()),
        }
    }
    let registry = std::sync::Arc::new(registry);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(pacta_server::serve(registry, listen, witnesses))?;
    Ok(())
}

fn init(data: &Path) -> anyhow::Result<()> {
    let registry = open_seeded(data)?;
    let head = registry.store().head();
    eprintln!(
        "registry ready in {}: {} records, head hash {}",
        data.display(),
        head.position,
        head.hash
    );
    Ok(())
}

fn token(data: &Path, command: TokenCommand) -> anyhow::Result<()> {
    // A first token usually comes before the first start: make the
    // parties it may name exist, as that start would.
    let registry = match command {
        TokenCommand::Add { .. } => open_seeded(data)?,
        _ => open_registry(data)?,
    };
    let store = registry.store();
    let tokens = pacta_registry::Tokens::open(store)?;
    match command {
        TokenCommand::Add { name, role, party } => {
            if let Some(p) = &party
                && store.stream_version(&pacta_domain::StreamId::party(p.clone()))? == 0
            {
                bail!("party {p} does not exist (see `pacta parties`)");
            }
            let token = tokens.add(&name, role, party)?;
            println!("{token}");
            eprintln!("token {name} ({role}) made; it is shown only now, keep it safe");
        }
        TokenCommand::List { format } => {
            let list = tokens.list()?;
            match format {
                Format::Json => output::json(&serde_json::json!({ "items": list }))?,
                Format::Table => {
                    let mut t = Table::new(&["NAME", "ROLE", "PARTY", "CREATED", "REVOKED"]);
                    for i in &list {
                        t.row(vec![
                            i.name.to_string(),
                            i.role.to_string(),
                            cell(i.party.as_ref()),
                            i.created_at.to_string(),
                            cell(i.revoked_at),
                        ]);
                    }
                    t.print()?;
                }
            }
        }
        TokenCommand::Revoke { name } => {
            tokens.revoke(&name)?;
            eprintln!("token {name} revoked");
        }
    }
    Ok(())
}

fn today() -> Day {
    pacta_registry::now().day()
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

/// Progress for long work: a bar on a terminal, otherwise a plain line
/// every `every` units so logs and tests can follow.
fn progress(what: &'static str, every: u64) -> impl FnMut(u64, u64) {
    let bar = progress_bar(0, what);
    let plain = !io::stderr().is_terminal();
    let mut last = 0u64;
    move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if plain && (done >= last + every || (done == total && done != last)) {
            last = done;
            eprintln!("{what}: {done}/{total}");
        }
        if done >= total {
            bar.finish_and_clear();
        }
    }
}

/// Opens the registry for a query: an empty data directory is first
/// filled with the bundled seed data, as the first `serve` would.
fn open_seeded(data: &Path) -> anyhow::Result<Registry> {
    let registry = open_registry(data)?;
    if registry.store().head().position > 0 {
        return Ok(registry);
    }
    drop(registry);
    seed_empty_store(data)?;
    open_registry(data)
}

/// Where a read command reads: the store itself, or the running server
/// that holds it (see [`remote`]). Either gives the same answers.
enum Reader {
    Local(Registry),
    Remote(remote::Remote),
}

/// The reader of an existing registry, saying on stderr which way it reads.
fn reader(data: &Path) -> anyhow::Result<Reader> {
    if let Some(server) = running_server(data)? {
        return Ok(Reader::Remote(server));
    }
    let registry = open_registry(data)?;
    eprintln!("reading the store in {}", data.display());
    Ok(Reader::Local(registry))
}

/// The running server that holds an existing registry, if one answers;
/// says on stderr that reads go through it.
fn running_server(data: &Path) -> anyhow::Result<Option<remote::Remote>> {
    must_exist(data)?;
    let server = remote::Remote::find(data);
    if let Some(server) = &server {
        eprintln!(
            "reading through the running server at http://{} (it holds {})",
            server.address(),
            data.display()
        );
    }
    Ok(server)
}

fn must_exist(data: &Path) -> anyhow::Result<()> {
    if !Store::exists(data) {
        bail!(
            "no registry in {} (`pacta --data {} init` creates one with the bundled seed data; \
             `pacta serve` does on its first start)",
            data.display(),
            data.display()
        );
    }
    Ok(())
}

fn key(data: &Path, command: KeyCommand) -> anyhow::Result<()> {
    use pacta_registry::transparency::LogKey;
    if !data.is_dir() {
        bail!("no registry in {} (`pacta init` makes one)", data.display());
    }
    match command {
        KeyCommand::Show => println!("{}", LogKey::load_or_create(data)?.verifier_key()),
        KeyCommand::Rotate { origin } => {
            let (old, new) = LogKey::rotate(data, origin.as_deref())?;
            println!("{new}");
            eprintln!(
                "new signing key made; checkpoints signed before verify with the old key {old}"
            );
        }
    }
    Ok(())
}

fn witness(command: WitnessCommand) -> anyhow::Result<()> {
    use pacta_registry::witness::Witness;
    match command {
        WitnessCommand::Key { dir, name } => {
            let witness = Witness::open(&dir, &name, &[]).map_err(anyhow::Error::msg)?;
            println!("{}", witness.verifier_key());
        }
        WitnessCommand::Serve {
            dir,
            name,
            logs,
            listen,
        } => {
            let logs = logs
                .into_iter()
                .map(|k| std::fs::read_to_string(&k).unwrap_or(k))
                .collect::<Vec<_>>();
            let witness =
                std::sync::Arc::new(Witness::open(&dir, &name, &logs).map_err(anyhow::Error::msg)?);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                println!(
                    "pacta witness listening on http://{}",
                    listener.local_addr()?
                );
                io::Write::flush(&mut io::stdout())?;
                tracing::info!(key = %witness.verifier_key(), "witness ready");
                pacta_server::witness::serve(witness, listener).await?;
                anyhow::Ok(())
            })?;
        }
    }
    Ok(())
}

fn proof_bundle(data: &Path, position: u64, output: Option<&Path>) -> anyhow::Result<()> {
    use pacta_registry::transparency::LogKey;
    let bundle = match running_server(data)? {
        Some(server) => server.text(
            &format!("/api/v1/proofs/bundle?position={position}"),
            "text/plain",
        )?,
        None => {
            let registry = open_registry(data)?;
            let key = LogKey::load_or_create(data)?;
            // The tree follows the log behind the acknowledgement: it
            // covers the head once the store has opened and caught up.
            let checkpoint = registry.checkpoint(&key)?;
            registry.proof_bundle(position, &checkpoint)?
        }
    };
    match output {
        Some(path) => std::fs::write(path, bundle)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{bundle}"),
    }
    Ok(())
}

fn proof_verify(file: &Path, key: &str, witnesses: &[String]) -> anyhow::Result<()> {
    let text = if file == Path::new("-") {
        let mut text = String::new();
        io::Read::read_to_string(&mut io::stdin(), &mut text)?;
        text
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    // A key is given as its text or as a file holding it.
    let key_or_file = |key: &str| std::fs::read_to_string(key).unwrap_or_else(|_| key.to_owned());
    let witness_keys: Vec<String> = witnesses.iter().map(|w| key_or_file(w)).collect();
    let verified = pacta_registry::transparency::verify_witnessed_bundle(
        &text,
        &key_or_file(key),
        &witness_keys,
    )
    .with_context(|| format!("{} does not verify", file.display()))?;
    let record: serde_json::Value = serde_json::from_slice(&verified.record)?;
    println!(
        "ok: record {} ({} {}) is in the log {} of {} records, root {}, signed by its key",
        verified.position,
        record["type"].as_str().unwrap_or("?"),
        record["event_id"].as_str().unwrap_or("?"),
        verified.checkpoint.origin,
        verified.checkpoint.size,
        verified.checkpoint.root.to_base64(),
    );
    for (witness, at) in &verified.cosigned_by {
        let micros = i64::try_from(*at).map_or(i64::MAX, |s| s.saturating_mul(1_000_000));
        let when = pacta_domain::Timestamp::from_micros(micros);
        println!("ok: cosigned by witness {witness} at {when}");
    }
    Ok(())
}

fn open_registry(data: &Path) -> anyhow::Result<Registry> {
    Ok(Registry::open_with_progress(
        data,
        &mut progress("catching up projections", 100_000),
    )?)
}

fn resolve_party(registry: &Registry, text: &str) -> anyhow::Result<Slug> {
    match registry.find_party(text) {
        Ok((p, pacta_registry::query::PartyMatch::Exact)) => Ok(p.id),
        Ok((p, pacta_registry::query::PartyMatch::Searched)) => {
            eprintln!(
                "party {text:?}: the only match is {} ({})",
                p.id,
                p.names.display().unwrap_or_default()
            );
            Ok(p.id)
        }
        Err(Lookup::NotFound) => bail!("no party with id or name {text:?} (see `pacta parties`)"),
        Err(Lookup::Ambiguous(candidates)) => {
            let ids: Vec<&str> = candidates.iter().map(|p| p.id.as_str()).collect();
            bail!(
                "{text:?} is a name of several parties: {}; give one of these ids",
                ids.join(", ")
            )
        }
    }
}

/// `valid-on` (in force on a day) and `list` (every one, status on a day).
fn list(
    data: &Path,
    mut filter: ListFilter,
    party: Option<String>,
    strict: bool,
    format: Format,
) -> anyhow::Result<()> {
    let list = match reader(data)? {
        Reader::Local(registry) => {
            filter.party = party.map(|p| resolve_party(&registry, &p)).transpose()?;
            api::PartnershipList {
                party: filter
                    .party
                    .as_ref()
                    .map(|p| api::PartyRefDto::from(&registry.party_ref(p))),
                days_asked: filter.valid_on.map(api::DaysDto::from),
                items: registry
                    .list(&filter)
                    .iter()
                    .map(|r| api::PartnershipRowDto::of(r, strict))
                    .collect(),
            }
        }
        Reader::Remote(server) => {
            let list: api::PartnershipList = server.get(&format!(
                "/api/v1/partnerships{}",
                remote::query(&[
                    ("party", party.clone()),
                    ("status", filter.status.map(|s| s.to_string())),
                    ("valid_from", filter.valid_on.map(|s| s.from().to_string())),
                    ("valid_to", filter.valid_on.map(|s| s.to().to_string())),
                    ("as_known_at", filter.as_known_at.map(|t| t.to_string())),
                    ("in_force", Some(filter.in_force.as_str().to_owned())),
                    ("evidence", strict.then(|| "strict".to_owned())),
                ])
            ))?;
            if let (Some(text), Some(found)) = (&party, &list.party)
                && text != &found.id
            {
                eprintln!("party {text:?} is {} ({})", found.id, found.name);
            }
            list
        }
    };
    print_list(&list, format)
}

fn print_list(list: &api::PartnershipList, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => output::json(list),
        Format::Table => {
            if let Some(days) = list.days_asked.as_ref().filter(|d| d.from != d.to) {
                println!(
                    "from {} to {}: in force yes = all of it, no = none of it, uncertain = part of it or perhaps",
                    days.from, days.to
                );
            }
            let mut t = Table::new(&[
                "ID",
                "HOME",
                "PARTNER",
                "STATUS",
                "IN FORCE",
                "EVIDENCE",
                "INSTRUMENT",
            ]);
            for r in &list.items {
                t.row(vec![
                    r.id.clone(),
                    r.home.name.clone(),
                    r.partner.name.clone(),
                    r.status.clone(),
                    r.in_force.clone(),
                    cell(r.evidence.as_ref()),
                    cell(r.instrument.as_ref()),
                ]);
            }
            t.print()?;
            Ok(())
        }
    }
}

fn show(
    data: &Path,
    id: &str,
    span: Span,
    as_known_at: Option<Timestamp>,
    strict: bool,
    format: Format,
) -> anyhow::Result<()> {
    let dto = match reader(data)? {
        Reader::Local(registry) => {
            let Some(detail) = registry.partnership_over(id, span, as_known_at)? else {
                match as_known_at {
                    Some(t) if registry.projections().partnerships().header(id).is_some() => {
                        bail!("no partnership {id:?} was recorded by {t}")
                    }
                    _ => bail!("no partnership {id:?}"),
                }
            };
            api::PartnershipDto::of(&detail, strict)
        }
        Reader::Remote(server) => server.get(&format!(
            "/api/v1/partnerships/{}{}",
            remote::encode(id),
            remote::query(&[
                ("valid_from", Some(span.from().to_string())),
                ("valid_to", Some(span.to().to_string())),
                ("as_known_at", as_known_at.map(|t| t.to_string())),
                ("evidence", strict.then(|| "strict".to_owned())),
            ])
        ))?,
    };
    match format {
        Format::Json => output::json(&dto),
        Format::Table => {
            let mut out = io::stdout().lock();
            writeln!(out, "{}: {} – {}", dto.id, dto.home.name, dto.partner.name)?;
            if !span.is_day() {
                writeln!(
                    out,
                    "from {} to {}: in force {} ({}); below, as on {}",
                    span.from(),
                    span.to(),
                    dto.in_force,
                    dto.in_force_over,
                    span.to()
                )?;
            }
            writeln!(
                out,
                "on {}{}: status {}, in force {}",
                dto.valid_on,
                dto.as_known_at
                    .as_ref()
                    .map(|t| format!(" as known at {t}"))
                    .unwrap_or_default(),
                dto.status,
                dto.in_force
            )?;
            if let Some(reason) = &dto.in_force_reason {
                writeln!(out, "in force limited: {reason}")?;
            }
            if let Some(e) = &dto.evidence {
                let last = dto.last_evidence.as_ref().map_or(String::new(), |l| {
                    format!(
                        " (last evidence: {} {})",
                        l.event_type,
                        l.date.as_deref().unwrap_or("undated")
                    )
                });
                writeln!(out, "evidence: {e}{last}")?;
            }
            if dto.possible_statuses.len() > 1 {
                writeln!(
                    out,
                    "possible statuses: {}",
                    dto.possible_statuses.join(", ")
                )?;
            }
            for p in &dto.pending {
                writeln!(
                    out,
                    "pending (may or may not have happened by then): {} {}",
                    p.event_type,
                    date_text(p)
                )?;
            }
            writeln!(out, "instrument: {}", cell(dto.instrument.as_ref()))?;
            if !dto.areas.is_empty() {
                writeln!(out, "areas: {}", dto.areas.join(", "))?;
            }
            if let Some(s) = &dto.signed {
                writeln!(out, "signed: {} ({})", date_text(s), s.event_type)?;
            }
            if let Some(t) = &dto.terminated {
                writeln!(out, "terminated: {}", date_text(t))?;
            }
            if let Some(a) = &dto.last_activity {
                writeln!(
                    out,
                    "last activity: {} {}",
                    date_text(a),
                    cell(a.note.as_ref())
                )?;
            }
            writeln!(out)?;
            drop(out);
            events_table(&dto.events)
        }
    }
}

fn date_text(e: &api::EventDto) -> String {
    e.date
        .as_ref()
        .map(|d| {
            format!(
                "{} ({})",
                d.date,
                serde_json::to_value(d.precision)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_else(|| "undated".into())
}

fn events_table(events: &[api::EventDto]) -> anyhow::Result<()> {
    let mut t = Table::new(&["POS", "TYPE", "DATE", "RECORDED", "BY", "NOTE", "SOURCE"]);
    for e in events {
        let mut kind = e.event_type.clone();
        if !e.corrected_by.is_empty() {
            kind.push_str(" (corrected)");
        }
        if e.retracted_by.is_some() {
            kind.push_str(" (retracted)");
        }
        t.row(vec![
            e.position.to_string(),
            kind,
            e.date
                .as_ref()
                .map(|d| d.date.clone())
                .unwrap_or_else(|| "-".into()),
            e.recorded_at[..19].replace('T', " "),
            e.recorded_by.clone(),
            cell(e.note.as_ref()),
            source_text(e.source.as_ref()),
        ]);
    }
    t.print()?;
    Ok(())
}

/// A citation in one line: the document (its reference, else its title)
/// and where in it, so that a reader can find the fact.
fn source_text(source: Option<&api::SourceDto>) -> String {
    match source {
        None => "-".into(),
        Some(s) => {
            let document = s.reference.as_deref().unwrap_or(&s.title);
            match &s.locator {
                Some(at) => format!("{document} @ {at}"),
                None => document.to_owned(),
            }
        }
    }
}

fn history(
    data: &Path,
    id: &str,
    as_known_at: Option<Timestamp>,
    format: Format,
) -> anyhow::Result<()> {
    let mut dto = api::HistoryDto {
        id: id.to_owned(),
        as_known_at: as_known_at.map(|t| t.to_string()),
        items: Vec::new(),
        next_after: None,
        total: 0,
    };
    match reader(data)? {
        Reader::Local(registry) => {
            let Some(views) = registry.history(id, as_known_at)? else {
                bail!("no partnership {id:?}");
            };
            dto.items = views.iter().map(api::EventDto::from).collect();
        }
        Reader::Remote(server) => {
            let mut after = None;
            loop {
                let page: api::HistoryDto = server.get(&format!(
                    "/api/v1/partnerships/{}/events{}",
                    remote::encode(id),
                    remote::query(&[
                        ("as_known_at", as_known_at.map(|t| t.to_string())),
                        ("after", after.map(|a: u64| a.to_string())),
                        ("limit", Some("1000".to_owned())),
                    ])
                ))?;
                dto.items.extend(page.items);
                match page.next_after {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
    }
    dto.total = dto.items.len() as u64;
    match format {
        Format::Json => output::json(&dto),
        Format::Table => events_table(&dto.items),
    }
}

/// Every party, or those a search finds.
fn view(data: &Path, name: &str, party: Option<&str>, format: ViewFormat) -> anyhow::Result<()> {
    let answer: api::ViewAnswer = match reader(data)? {
        Reader::Local(registry) => {
            let party = party.map(|p| resolve_party(&registry, p)).transpose()?;
            api::ViewAnswer::of(&registry, name, party.as_ref()).ok_or_else(|| {
                anyhow::anyhow!(
                    "no view {name:?} (known: {})",
                    api::ViewAnswer::known(&registry)
                )
            })?
        }
        Reader::Remote(server) => server.get(&format!(
            "/api/v1/views/{}{}",
            remote::encode(name),
            remote::query(&[("party", party.map(str::to_owned))])
        ))?,
    };
    if answer.rows.is_empty() && format != ViewFormat::Json {
        eprintln!("the view {name} has no rows");
    }
    match format {
        ViewFormat::Json => output::json(&answer),
        ViewFormat::Table => output::rows_table(&answer.rows)?
            .print()
            .map_err(Into::into),
        ViewFormat::Csv => output::rows_csv(&answer.rows),
    }
}

fn parties(data: &Path, search: Option<&str>, format: Format) -> anyhow::Result<()> {
    let list = match reader(data)? {
        Reader::Local(registry) => {
            let parties = registry.projections().parties();
            let found = match search {
                None => parties.all(),
                Some(text) => parties.search(text),
            };
            api::PartyList {
                items: found.iter().map(api::PartyDto::from).collect(),
            }
        }
        Reader::Remote(server) => server.get(&format!(
            "/api/v1/parties{}",
            remote::query(&[("q", search.map(str::to_owned))])
        ))?,
    };
    if let (Some(text), true) = (search, list.items.is_empty()) {
        bail!("no party answers to {text:?} (see `pacta parties`)");
    }
    match format {
        Format::Json => output::json(&list),
        Format::Table => {
            let mut t = Table::new(&["ID", "KIND", "COUNTRY", "NAME", "ALIASES"]);
            for p in &list.items {
                let n = &p.names;
                t.row(vec![
                    p.id.clone(),
                    p.kind.clone(),
                    p.country.clone(),
                    cell(n.en.as_ref().or(n.cs.as_ref()).or(n.native.as_ref())),
                    p.aliases.join(", "),
                ]);
            }
            t.print()?;
            Ok(())
        }
    }
}

fn offers(
    data: &Path,
    status: Option<pacta_domain::OfferStatus>,
    format: Format,
) -> anyhow::Result<()> {
    let list = match reader(data)? {
        Reader::Local(registry) => api::OfferList::of(&registry, status),
        Reader::Remote(server) => server.get(&format!(
            "/api/v1/offers{}",
            remote::query(&[("status", status.map(|s| s.to_string()))])
        ))?,
    };
    match format {
        Format::Json => output::json(&list),
        Format::Table => {
            let mut t = Table::new(&["PUBLISHED", "TOWN", "STATUS", "POPULATION", "INTERESTS"]);
            for o in &list.items {
                t.row(vec![
                    cell(o.published.as_ref().map(|d| d.date.clone())),
                    o.party.name.clone(),
                    o.status.clone(),
                    match (o.population, o.population_bound.as_deref()) {
                        (Some(n), Some(bound)) => format!("{bound} {n}"),
                        (n, _) => cell(n),
                    },
                    o.interests.join(", "),
                ]);
            }
            t.print()?;
            Ok(())
        }
    }
}

fn audit(
    data: &Path,
    id: Option<&str>,
    strict: bool,
    format: DocFormat,
    lang: Lang,
) -> anyhow::Result<()> {
    let registry = match reader(data)? {
        Reader::Local(registry) => registry,
        Reader::Remote(server) => {
            let path = format!(
                "/api/v1/audit/terminations{}{}",
                id.map(|id| format!("/{}", remote::encode(id)))
                    .unwrap_or_default(),
                remote::query(&[
                    ("evidence", strict.then(|| "strict".to_owned())),
                    ("lang", Some(lang.code().to_owned())),
                ])
            );
            return match (format, id) {
                (DocFormat::Json, None) => output::json(&server.get::<api::DossiersDto>(&path)?),
                (DocFormat::Json, Some(_)) => {
                    let one: api::DossierProofDto = server.get(&path)?;
                    output::json(&api::DossiersDto {
                        items: vec![one.dossier],
                        verification: one.verification,
                        made_at: one.made_at,
                        proofs: one.proofs,
                    })
                }
                (DocFormat::Html, _) => print_text(&server.text(&path, "text/html")?),
                (DocFormat::Table, _) => print_text(&server.text(&path, "text/plain")?),
            };
        }
    };
    let Some(mut dossiers) = registry.termination_dossiers(id, strict)? else {
        bail!(
            "no terminated partnership {} (see `pacta list --status terminated`)",
            id.unwrap_or("")
        );
    };
    // Each event's proof bundle.
    let key = pacta_registry::transparency::LogKey::load_or_create(data)?;
    // The cosignatures a server kept, for the checkpoint they sign.
    let witnesses = pacta_registry::witnessing::Witnesses::stored(data)?;
    registry.attach_proofs(&mut dossiers, &key, Some(&witnesses))?;
    let names = PartyNames::of(&registry);
    match format {
        DocFormat::Json => output::json(&api::DossiersDto::from(&dossiers))?,
        DocFormat::Html => print!("{}", documents::dossier::html(&dossiers, lang, &names)),
        DocFormat::Table => print!("{}", documents::dossier::text(&dossiers, lang, &names)),
    }
    Ok(())
}

/// Prints a document as the server rendered it.
fn print_text(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn report(
    data: &Path,
    year: i32,
    party: Option<&str>,
    as_known_at: Option<Timestamp>,
    strict: bool,
    format: DocFormat,
    lang: Lang,
) -> anyhow::Result<()> {
    pacta_registry::report::check_year(year, today()).map_err(anyhow::Error::msg)?;
    let registry = match reader(data)? {
        Reader::Local(registry) => registry,
        Reader::Remote(server) => {
            let path = format!(
                "/api/v1/reports/annual{}",
                remote::query(&[
                    ("year", Some(year.to_string())),
                    ("party", party.map(str::to_owned)),
                    ("as_known_at", as_known_at.map(|t| t.to_string())),
                    ("evidence", strict.then(|| "strict".to_owned())),
                    ("lang", Some(lang.code().to_owned())),
                ])
            );
            return match format {
                DocFormat::Json => output::json(&server.get::<api::ReportDto>(&path)?),
                DocFormat::Html => print_text(&server.text(&path, "text/html")?),
                DocFormat::Table => print_text(&server.text(&path, "text/plain")?),
            };
        }
    };
    let party = party.map(|p| resolve_party(&registry, p)).transpose()?;
    let report = registry.annual_report(year, party.as_ref(), as_known_at, strict)?;
    let names = PartyNames::of(&registry);
    match format {
        DocFormat::Json => output::json(&api::ReportDto::from(&report))?,
        DocFormat::Html => print!("{}", documents::report::html(&report, lang, &names)),
        DocFormat::Table => print!("{}", documents::report::text(&report, lang, &names)),
    }
    Ok(())
}

fn rebuild(
    data: &Path,
    projection: Option<&str>,
    indexes: bool,
    chunk: Option<usize>,
) -> anyhow::Result<()> {
    // The views are derived: a database of them sled cannot open is set
    // aside, and the empty one in its place is filled from the log by
    // the catch-up of opening the registry.
    let aside = Store::open(data)?.set_aside_damaged_views()?;
    if let Some(aside) = &aside {
        eprintln!(
            "the views database cannot be opened: moved it to {} and rebuilding every \
             projection from the log",
            aside.display()
        );
    }
    let every = chunk.map_or(50_000, |c| c as u64);
    let started = Instant::now();
    if let Some(name) = projection {
        // Rebuilt by the catch-up of opening, never loaded first: state
        // that does not load cannot stop its own rebuild.
        let registry = Registry::open_store(
            Store::open(data)?,
            Some(Rebuild::One(name)),
            chunk,
            &mut progress("rebuild", every),
        )?;
        return rebuilt(name, registry.store().head().position, started);
    }
    let store = Store::open(data)?;
    let records = store.rebuild_indexes(&mut progress("indexes", every))?;
    eprintln!(
        "rebuilt the stream and event-id indexes from {records} records in {:.2}s",
        started.elapsed().as_secs_f64()
    );
    if indexes && aside.is_none() {
        return Ok(());
    }
    let started = Instant::now();
    let registry = Registry::open_store(
        store,
        Some(Rebuild::All),
        chunk,
        &mut progress("rebuild", every),
    )?;
    rebuilt(
        "every projection",
        registry.store().head().position,
        started,
    )
}

fn rebuilt(what: &str, events: u64, started: Instant) -> anyhow::Result<()> {
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "rebuilt {what} from {events} events in {secs:.2}s ({:.0} events/s)",
        events as f64 / secs.max(1e-9)
    );
    Ok(())
}

fn generate(data: &Path, partnerships: u64, seed: u64) -> anyhow::Result<()> {
    let registry = open_registry(data)?;
    let started = Instant::now();
    let done = pacta_registry::synthetic::generate(
        &registry,
        partnerships,
        seed,
        &mut progress("generate", 10_000),
    )?;
    eprintln!(
        "generated {} partnerships, {} events in {:.1}s",
        done.partnerships,
        done.events,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// How `pacta export` writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
enum ExportFormat {
    /// The log, one record a line, exactly as stored and hashed.
    Ndjson,
    /// A CSV table for open data.
    Csv,
}

/// `export --format csv`: a table, and its CSVW metadata when asked for
/// or when the table goes to a file (`NAME.csv-metadata.json` beside it,
/// where CSVW processors look).
fn export_csv(
    data: &Path,
    output: Option<&Path>,
    table: OpenTable,
    valid_on: Option<PartialDate>,
    metadata: Option<&Path>,
) -> anyhow::Result<()> {
    match table {
        OpenTable::Events if valid_on.is_some() => usage_error(Cli::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "--valid-on goes with --what partnerships",
        )),
        OpenTable::Events => export(data, output, true),
        OpenTable::Partnerships => {
            let span = days_asked((valid_on.as_ref(), "--valid-on"), None, None)?
                .unwrap_or_else(|| Span::day(today()));
            let registry = match reader(data)? {
                Reader::Local(registry) => registry,
                Reader::Remote(server) => {
                    let body = server.text(
                        &format!(
                            "/api/v1/partnerships?valid_from={}&valid_to={}",
                            span.from(),
                            span.to()
                        ),
                        "text/csv",
                    )?;
                    let mut out = export_output(output)?;
                    out.write_all(body.as_bytes())?;
                    out.flush()?;
                    return write_metadata(output, table, metadata);
                }
            };
            let filter = ListFilter {
                party: None,
                status: None,
                valid_on: Some(span),
                in_force: Default::default(),
                as_known_at: None,
                today: span.to(),
            };
            let rows = registry.list(&filter);
            let body = documents::open_data::partnerships(&registry, &rows, span, None, false)?;
            let mut out = export_output(output)?;
            out.write_all(&body)?;
            out.flush()?;
            Ok(())
        }
    }?;
    write_metadata(output, table, metadata)
}

/// The CSVW description beside a CSV export (or where `--metadata` says).
fn write_metadata(
    output: Option<&Path>,
    table: OpenTable,
    metadata: Option<&Path>,
) -> anyhow::Result<()> {
    let url = output
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("{table}.csv"));
    let beside = output.map(|p| {
        let mut name = p.as_os_str().to_owned();
        name.push("-metadata.json");
        PathBuf::from(name)
    });
    if let Some(path) = metadata.map(Path::to_path_buf).or(beside) {
        let text = serde_json::to_string_pretty(&table.metadata(&url))?;
        std::fs::write(&path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Where an export of the log writes: NDJSON records (what `import`
/// reads) or the events table.
enum Sink {
    Ndjson(BufWriter<Box<dyn Write>>),
    Csv(Box<documents::open_data::EventsCsv<BufWriter<Box<dyn Write>>>>),
}

impl Sink {
    fn new(output: Option<&Path>, csv: bool) -> anyhow::Result<Sink> {
        let out = export_output(output)?;
        Ok(if csv {
            Sink::Csv(Box::new(documents::open_data::EventsCsv::new(out)?))
        } else {
            Sink::Ndjson(out)
        })
    }

    fn write(&mut self, record: &Recorded) -> anyhow::Result<()> {
        match self {
            Sink::Ndjson(out) => {
                serde_json::to_writer(&mut *out, record)?;
                out.write_all(b"\n")?;
            }
            Sink::Csv(table) => table.row(record)?,
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Ndjson(mut out) => out.flush()?,
            Sink::Csv(table) => table.finish()?.flush()?,
        }
        Ok(())
    }
}

/// The log, every readable record, as NDJSON records (what `import`
/// reads) or, with `csv`, as the events table.
fn export(data: &Path, output: Option<&Path>, csv: bool) -> anyhow::Result<()> {
    let store = match reader_of_store(data)? {
        Ok(store) => store,
        Err(server) => return export_remote(&server, output, csv),
    };
    let mut sink = Sink::new(output, csv)?;
    let bar = progress_bar(store.head().position, "export");
    // A record that cannot be read is named and skipped: everything the
    // log can still give is written, and the gaps are said at the end.
    let mut missing = Ranges::default();
    for (position, record) in store.read_past_damage(0) {
        match record {
            Ok(record) => sink.write(&record)?,
            Err(e) => {
                // The first few in full; the summary names them all.
                if missing.count < 10 {
                    bar.suspend(|| eprintln!("export: skipped {e}"));
                }
                missing.push(position);
            }
        }
        bar.inc(1);
    }
    sink.finish()?;
    bar.finish_and_clear();
    if missing.count > 0 {
        bail!(
            "{} of {} records could not be read and are missing from the export: positions {}",
            missing.count,
            store.head().position,
            missing
        );
    }
    Ok(())
}

fn export_output(output: Option<&Path>) -> anyhow::Result<BufWriter<Box<dyn Write>>> {
    let out: Box<dyn Write> = match output {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    Ok(BufWriter::new(out))
}

/// The log as NDJSON with each record's `derived` object, as the HTTP
/// API gives it: through the running server, or from the registry.
fn export_derived(data: &Path, output: Option<&Path>) -> anyhow::Result<()> {
    let mut out = export_output(output)?;
    let mut line = |value: &serde_json::Value| -> anyhow::Result<()> {
        serde_json::to_writer(&mut out, value)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    if let Some(server) = running_server(data)? {
        each_remote_record(&server, line)?;
    } else {
        let registry = open_registry(data)?;
        let bar = progress_bar(registry.store().head().position, "export");
        for record in registry.store().read_from(0) {
            line(&api::record_out(&registry, &record?))?;
            bar.inc(1);
        }
        bar.finish_and_clear();
    }
    out.flush()?;
    Ok(())
}

/// The export through the running server: the log's pages, each record
/// written as the local export writes it.
fn export_remote(server: &remote::Remote, output: Option<&Path>, csv: bool) -> anyhow::Result<()> {
    let mut sink = Sink::new(output, csv)?;
    each_remote_record(server, |item| sink.write(&api::record_in(item.clone())?))?;
    sink.finish()
}

/// Calls `f` with every record the running server's log holds, oldest
/// first, as `/api/v1/events` gives it (with `derived`), a page at a time.
fn each_remote_record(
    server: &remote::Remote,
    mut f: impl FnMut(&serde_json::Value) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut after = 0;
    loop {
        let page: api::EventPage =
            server.get(&format!("/api/v1/events?after={after}&limit=1000"))?;
        for item in &page.items {
            f(item)?;
        }
        match page.next_after {
            Some(next) if !page.items.is_empty() => after = next,
            _ => return Ok(()),
        }
    }
}

/// The store of a command that needs the log itself, or the running
/// server that holds it; says on stderr which.
fn reader_of_store(data: &Path) -> anyhow::Result<Result<Store, remote::Remote>> {
    if let Some(server) = running_server(data)? {
        return Ok(Err(server));
    }
    let store = Store::open(data)?;
    eprintln!("reading the store in {}", data.display());
    Ok(Ok(store))
}

/// Positions as inclusive ranges, in the order pushed.
#[derive(Default)]
struct Ranges {
    ranges: Vec<(u64, u64)>,
    count: u64,
}

impl Ranges {
    fn push(&mut self, position: u64) {
        self.count += 1;
        match self.ranges.last_mut() {
            Some((_, end)) if *end + 1 == position => *end = position,
            _ => self.ranges.push((position, position)),
        }
    }
}

impl std::fmt::Display for Ranges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: Vec<String> = self
            .ranges
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        f.write_str(&text.join(", "))
    }
}

/// Whether a file is an export (records with hashes) rather than seed data.
fn is_export(path: &Path) -> anyhow::Result<bool> {
    if path == Path::new("-") {
        return Ok(true);
    }
    if path.is_dir() {
        return Ok(false);
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    for line in BufReader::new(file).lines() {
        let line = line?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        return Ok(t.contains("\"prev_hash\""));
    }
    Ok(false)
}

fn import(data: &Path, path: &Path, dry_run: bool) -> anyhow::Result<()> {
    if is_export(path)? {
        if dry_run {
            bail!("--dry-run checks seed data; an export is always checked before it is written");
        }
        return import_export(data, path);
    }
    let files = pacta_registry::seeds::read_path(path)
        .with_context(|| format!("cannot read seed data at {}", path.display()))?;
    let registry = open_registry(data)?;
    let report = registry.load_seeds(&files, &Actor::system("import"), dry_run)?;
    eprintln!(
        "{} {} events to {} streams ({} of {} read were stored already)",
        if dry_run {
            "checked: would append"
        } else {
            "appended"
        },
        report.appended,
        report.streams,
        report.skipped,
        report.events
    );
    if let Some(first) = report.changed.first() {
        eprintln!(
            "note: {} stored event(s) differ from their seed lines (first: {first}); the log \
             keeps what it recorded: record a Corrected event to change what it says",
            report.changed.len()
        );
    }
    Ok(())
}

/// Records per import transaction: bounds memory, keeps each flush large.
const IMPORT_CHUNK: usize = 2000;

fn import_export(data: &Path, path: &Path) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(BufReader::new(io::stdin().lock()))
    } else {
        Box::new(BufReader::new(
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        ))
    };
    let store = Store::open(data)?;
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
        // A line of `export --derived` carries `derived`, outside the
        // hashed record: set aside.
        let record: Result<Recorded, _> = if line.contains("\"derived\":") {
            serde_json::from_str(&line).and_then(api::record_in)
        } else {
            serde_json::from_str(&line)
        };
        let record =
            record.with_context(|| format!("{}:{}: not a record", path.display(), n + 1))?;
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

/// `pacta verify --checkpoint FILE`: the old checkpoint's signature, then
/// the consistency of today's tree with it.
fn verify_checkpoint(data: &Path, file: &Path) -> anyhow::Result<()> {
    use pacta_tlog::{Hash, check_tree, checkpoint::Checkpoint, note};
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read checkpoint {}", file.display()))?;
    // A proof bundle ends with its checkpoint note: take that part.
    let text = match text.find("\n\n") {
        Some(at) if text.starts_with(pacta_tlog::proof::HEADER) => text[at + 2..].to_owned(),
        _ => text,
    };
    if !data.is_dir() {
        bail!("no registry in {} (`pacta init` makes one)", data.display());
    }
    let verifiers = pacta_registry::transparency::LogKey::verifiers(data)?;
    let refs: Vec<&note::Verifier> = verifiers.iter().collect();
    let opened = note::open(&text, &refs).with_context(|| {
        format!(
            "{} is not a checkpoint signed by this log's key",
            file.display()
        )
    })?;
    let old = Checkpoint::parse(&opened.text)
        .with_context(|| format!("{} is not a checkpoint", file.display()))?;
    let missing = |size: u64| -> anyhow::Result<()> {
        if old.size > size {
            bail!(
                "the checkpoint covers {} records, the log's tree only {size}: records are missing",
                old.size
            );
        }
        Ok(())
    };
    let started = Instant::now();
    let (size, root, from_root, proof) = match reader_of_store(data)? {
        Ok(store) => {
            let size = store.tree_size()?;
            missing(size)?;
            (
                size,
                store.tree_root(size)?,
                store.tree_root(old.size)?,
                store.prove_consistency(old.size, size)?,
            )
        }
        Err(server) => {
            let now = server.text("/checkpoint", "text/plain")?;
            let opened = note::open(&now, &refs)?;
            let current = Checkpoint::parse(&opened.text)?;
            missing(current.size)?;
            let proof: pacta_server::api::ConsistencyProofDto = server.get(&format!(
                "/api/v1/proofs/consistency?from={}&to={}",
                old.size, current.size
            ))?;
            let hashes = proof
                .hashes
                .iter()
                .map(|h| Hash::from_base64(h))
                .collect::<Result<Vec<_>, _>>()?;
            (
                current.size,
                current.root,
                Hash::from_base64(&proof.from_root)?,
                hashes,
            )
        }
    };
    let consistent =
        from_root == old.root && check_tree(&proof, size, root, old.size, old.root).is_ok();
    let mut report = serde_json::json!({
        "ok": consistent,
        "checkpoint": {"origin": old.origin, "size": old.size, "root": old.root.to_base64()},
        "tree": {"size": size, "root": root.to_base64()},
        "proof_hashes": proof.len(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    if !consistent {
        // Where it went wrong: the full walk names the first record that
        // does not fit the chain or its leaf in the tree.
        let chain: pacta_store::VerifyReport = match reader_of_store(data)? {
            Ok(store) => {
                let bar = progress_bar(store.head().position, "finding the first bad record");
                let report = store.verify(&mut |done, _| bar.set_position(done))?;
                bar.finish_and_clear();
                report
            }
            Err(server) => server.get("/api/v1/audit/chain")?,
        };
        let first_bad = chain.first_bad_position.filter(|p| *p <= old.size);
        report["first_bad_position"] = serde_json::json!(first_bad);
        report["reason"] = serde_json::json!(first_bad.and(chain.reason.clone()));
        println!("{}", serde_json::to_string_pretty(&report)?);
        match first_bad {
            Some(position) => bail!(
                "the log's tree of {size} records does not extend the checkpoint of {} records: \
                 the first bad record is at position {position}: {}",
                old.size,
                chain.reason.as_deref().unwrap_or("")
            ),
            None => bail!(
                "the log's tree of {size} records does not extend the checkpoint of {} records, \
                 yet every record fits the chain and the tree: the log was rewritten and its \
                 chain and tree recomputed from some record on; compare it with an export or a \
                 mirror taken before to find which",
                old.size
            ),
        }
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "the log's tree of {size} records extends the checkpoint of {} records",
        old.size
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
    let (head, recorded_at) = match reader_of_store(data)? {
        Ok(store) => {
            let head = store.head();
            let recorded_at = match head.position {
                0 => None,
                p => store.get(p)?.map(|r| r.envelope.recorded_at),
            };
            (head, recorded_at)
        }
        Err(server) => {
            let first: api::EventPage = server.get("/api/v1/events?after=0&limit=1")?;
            match first.head_position {
                0 => (Head::EMPTY, None),
                p => {
                    let last: api::EventPage =
                        server.get(&format!("/api/v1/events?after={}&limit=1", p - 1))?;
                    let record = api::record_in(
                        last.items
                            .first()
                            .cloned()
                            .context("the server gave no head record")?,
                    )?;
                    let head = Head {
                        position: record.envelope.position,
                        hash: record.hash,
                    };
                    (head, Some(record.envelope.recorded_at))
                }
            }
        }
    };
    let file = DigestFile {
        position: head.position,
        hash: head.hash,
        recorded_at,
        taken_at: Some(pacta_registry::now()),
    };
    println!("{}", serde_json::to_string_pretty(&file)?);
    Ok(())
}

fn verify(data: &Path, digest: Option<&Path>) -> anyhow::Result<()> {
    let digest = digest
        .map(|path| -> anyhow::Result<Head> {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read digest {}", path.display()))?;
            let file: DigestFile = serde_json::from_str(&text).with_context(|| {
                format!("{} is not a digest (from `pacta digest`)", path.display())
            })?;
            Ok(Head {
                position: file.position,
                hash: file.hash,
            })
        })
        .transpose()?;
    let source = reader_of_store(data)?;
    let started = Instant::now();
    let mut progress = progress("verify", 500_000);
    let (ok, report, chain) = match (source, digest) {
        (Ok(store), None) => {
            let report = store.verify(&mut progress)?;
            (report.ok, serde_json::to_value(&report)?, report)
        }
        (Ok(store), Some(digest)) => {
            let check = store.verify_digest(digest, &mut progress)?;
            (check.ok, serde_json::to_value(&check)?, check.chain)
        }
        (Err(server), None) => {
            let report: pacta_store::VerifyReport = server.get("/api/v1/audit/chain")?;
            (report.ok, serde_json::to_value(&report)?, report)
        }
        (Err(server), Some(d)) => {
            let check: pacta_store::DigestCheck = server.get(&format!(
                "/api/v1/audit/chain?position={}&hash={}",
                d.position, d.hash
            ))?;
            (check.ok, serde_json::to_value(&check)?, check.chain)
        }
    };
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
        bail!("verification failed: {what}{}", extent(&chain))
    }
}

/// How far the damage a verification found reaches, as a clause to end
/// its one-line message with (empty when the chain is intact).
fn extent(report: &pacta_store::VerifyReport) -> String {
    let Some(first) = report.first_bad_position else {
        return String::new();
    };
    let mut parts = vec![format!("first bad position {first}")];
    if report.unreadable_count > 0 {
        let ranges = Ranges {
            ranges: report.unreadable.clone(),
            count: report.unreadable_count,
        };
        parts.push(format!(
            "{} position(s) unreadable ({ranges})",
            report.unreadable_count
        ));
    }
    if report.mismatched_count > 0 {
        parts.push(format!(
            "{} record(s) not fitting the chain",
            report.mismatched_count
        ));
    }
    parts.push(format!(
        "intact from 1 to {}, last readable position {} of {}",
        report.intact_to, report.last_readable_position, report.head_position
    ));
    format!(" ({})", parts.join("; "))
}
