//! A throwaway PostgreSQL server for the store's tests, started once per
//! test binary (one database per test); included by the tests that need
//! it with `#[path = "common/pg.rs"] mod pg_server;`.
//!
//! The server: `initdb`, `pg_ctl` and `postgres` from `PATH` or
//! `/usr/lib/postgresql/*/bin`; run as the `postgres` user (else `nobody`)
//! through `runuser` when the tests run as root, which PostgreSQL
//! refuses; `fsync=on`, on 127.0.0.1 and a free port, in a temporary
//! directory. A watchdog process stops it and removes the directory once
//! the test process has exited. When PostgreSQL cannot start,
//! [`database`] fails the test with `CI=true` and answers `None` (saying
//! why on stderr) otherwise, so that the test skips.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The running server.
pub struct Server {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
}

/// The server, started on first use.
pub fn server() -> &'static Result<Server, String> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER.get_or_init(start_server)
}

/// A directory holding `initdb`, `pg_ctl` and `postgres`.
fn postgres_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    versions.sort();
    dirs.extend(versions.into_iter().rev().map(|(_, dir)| dir));
    dirs.into_iter().find(|d| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| d.join(b).is_file())
    })
}

fn output(command: &mut Command) -> Result<String, String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{command:?} failed ({}): {text}", out.status))
    }
}

/// `program` run as `user` (through `runuser`), or as we are.
fn as_user(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn start_server() -> Result<Server, String> {
    let bin = postgres_bin().ok_or(
        "no directory with initdb, pg_ctl and postgres in PATH or /usr/lib/postgresql/*/bin",
    )?;
    // PostgreSQL refuses to run as root.
    let root = output(Command::new("id").arg("-u"))?.trim() == "0";
    let user = if !root {
        None
    } else if output(Command::new("id").args(["-u", "postgres"])).is_ok() {
        Some("postgres")
    } else {
        Some("nobody")
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("pacta-pg-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    watchdog(&dir)?;
    if let Some(user) = user {
        output(Command::new("chown").arg(format!("{user}:")).arg(&dir))?;
    }
    let data = dir.join("data");
    output(
        as_user(user, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "pacta",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "-N",
            ]),
    )?;
    let mut failures = Vec::new();
    for _ in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300",
            dir.display()
        );
        let started = output(
            as_user(user, &bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"]),
        );
        match started {
            Ok(_) => {
                eprintln!(
                    "PostgreSQL for the tests: port {port}, data {} (user {})",
                    data.display(),
                    user.unwrap_or("self")
                );
                return Ok(Server { port });
            }
            Err(e) => failures.push(e),
        }
    }
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    Err(format!(
        "PostgreSQL did not start: {failures:?}; server log: {log}"
    ))
}

/// A process that outlives this one: once this test process has exited,
/// it stops the server (fast shutdown) and removes its directory.
fn watchdog(dir: &Path) -> Result<(), String> {
    const SCRIPT: &str = r#"
        while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
        pm=$(head -n 1 "$2/data/postmaster.pid" 2>/dev/null)
        if [ -n "$pm" ]; then
            kill -INT "$pm" 2>/dev/null
            i=0
            while kill -0 "$pm" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
        fi
        rm -rf "$2"
    "#;
    Command::new("sh")
        .args(["-c", SCRIPT, "pacta-pg-watchdog"])
        .arg(std::process::id().to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot start the watchdog: {e}"))
}

/// A client of database `db`, as the superuser `pacta`.
pub async fn admin(server: &Server, db: &str) -> tokio_postgres::Client {
    let url = format!("postgresql://pacta@127.0.0.1:{}/{db}", server.port);
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// A new database named `name` on the server, as a URL; `None` (after
/// saying why) when PostgreSQL cannot start here and `CI` is not `true`.
pub async fn database(name: &str) -> Option<String> {
    let server = match server() {
        Ok(server) => server,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("PostgreSQL is needed for the tests (CI=true): {why}")
        }
        Err(why) => {
            // Past the test harness's capture of `eprintln!`, so that a
            // skip is seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipping {name}: PostgreSQL cannot start here: {why}"
            );
            return None;
        }
    };
    admin(server, "postgres")
        .await
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    Some(format!(
        "postgresql://pacta@127.0.0.1:{}/{name}",
        server.port
    ))
}

/// [`database`] for synchronous tests (and from inside a runtime): runs
/// it on a thread of its own with a runtime of its own.
pub fn database_blocking(name: &str) -> Option<String> {
    let name = name.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(database(&name))
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
