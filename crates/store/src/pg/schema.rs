//! The schema's versioned migrations: `crates/store/migrations/NNN_name.sql`,
//! compiled in, applied each once and in order.

use tokio_postgres::Client;

use super::{Db, MIGRATION_LOCK, db_error};
use crate::Error;

/// One migration: its version (the file's number), name and SQL.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order. A new one is a new file and a new line here
/// (a unit test checks that the two agree); an applied one never changes.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "log",
        sql: include_str!("../../migrations/001_log.sql"),
    },
    Migration {
        version: 2,
        name: "kv",
        sql: include_str!("../../migrations/002_kv.sql"),
    },
    Migration {
        version: 3,
        name: "tlog",
        sql: include_str!("../../migrations/003_tlog.sql"),
    },
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    int         PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

/// Applies the migrations the database lacks, each in its own transaction
/// under a transaction-level advisory lock, so that processes connecting
/// at once apply each exactly once. Refuses a database whose schema is
/// newer than this build knows.
pub(super) async fn migrate(client: &mut Client) -> Result<(), Error> {
    let latest = MIGRATIONS.last().map_or(0, |m| m.version);
    for m in MIGRATIONS {
        let tx = client.transaction().await.db()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .db()?;
        tx.batch_execute(CREATE_TABLE).await.db()?;
        let newest: Option<i32> = tx
            .query_one("SELECT max(version) FROM schema_migrations", &[])
            .await
            .db()?
            .try_get(0)
            .db()?;
        if let Some(newest) = newest.filter(|n| *n > latest) {
            return Err(Error::Storage {
                reason: format!(
                    "the database's schema is at version {newest}, newer than the version \
                     {latest} this Pacta knows: run a newer Pacta"
                ),
                disk_full: false,
            });
        }
        let applied = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&m.version],
            )
            .await
            .db()?
            .is_some();
        if !applied {
            tx.batch_execute(m.sql).await.map_err(|e| {
                let e = db_error(e);
                Error::Storage {
                    reason: format!("migration {:03}_{} failed: {e}", m.version, m.name),
                    disk_full: e.is_disk_full(),
                }
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())",
                &[&m.version],
            )
            .await
            .db()?;
        }
        tx.commit().await.db()?;
        if !applied {
            tracing::info!(
                version = m.version,
                name = m.name,
                "applied a schema migration"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `migrations/` is listed, under its number and name,
    /// with its content, and the numbers run from 1 without gaps.
    #[test]
    fn the_list_is_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .map(|p| {
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        files.sort();
        assert_eq!(files.len(), MIGRATIONS.len(), "{files:?}");
        for (i, ((file, sql), m)) in files.iter().zip(MIGRATIONS).enumerate() {
            assert_eq!(m.version, i as i32 + 1);
            assert_eq!(*file, format!("{:03}_{}", m.version, m.name));
            assert_eq!(sql, m.sql, "{file}");
        }
    }
}
