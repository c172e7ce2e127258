//! The schema, versioned: one list of migrations, applied at startup by sqlx's migrator (recorded and
//! checksummed in `_sqlx_migrations`: an applied migration never changes — add a new one).
//!
//! A version is one file in `migrations/`, run as-is on both engines. Where a type or statement truly
//! differs between SQLite and PostgreSQL (an auto-incrementing outbox id: `INTEGER PRIMARY KEY` against
//! `BIGINT GENERATED ALWAYS AS IDENTITY`, say; raw bytes: `BLOB` against `BYTEA`), the version is listed with [`per_engine!`] and has one
//! file in `migrations/sqlite/` and one in `migrations/postgres/`, defining the same tables, columns
//! and indexes: `tests/store.rs` migrates both engines and compares the schemas.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

use super::Engine;

/// One version: `<version>_<name>.sql`.
struct Version {
    version: i64,
    name: &'static str,
    sql: Text,
}

enum Text {
    Both(&'static str),
    PerEngine { sqlite: &'static str, postgres: &'static str },
}

impl Text {
    fn for_engine(&self, engine: Engine) -> &'static str {
        match (self, engine) {
            (Text::Both(sql), _) => sql,
            (Text::PerEngine { sqlite, .. }, Engine::Sqlite) => sqlite,
            (Text::PerEngine { postgres, .. }, Engine::Postgres) => postgres,
        }
    }
}

/// A version whose one file runs on both engines.
macro_rules! both {
    ($version:literal, $name:literal) => {
        Version {
            version: $version,
            name: $name,
            sql: Text::Both(include_str!(concat!("../../migrations/", $version, "_", $name, ".sql"))),
        }
    };
}

/// A version with a file per engine (see the module doc).
macro_rules! per_engine {
    ($version:literal, $name:literal) => {
        Version {
            version: $version,
            name: $name,
            sql: Text::PerEngine {
                sqlite: include_str!(concat!("../../migrations/sqlite/", $version, "_", $name, ".sql")),
                postgres: include_str!(concat!("../../migrations/postgres/", $version, "_", $name, ".sql")),
            },
        }
    };
}

/// Every version, oldest first.
const VERSIONS: &[Version] = &[
    both!(20261126000001, "init"),
    both!(20261126000002, "jwt_templates"),
    both!(20261127000001, "session_purge_indexes"),
    both!(20261129000001, "organizations"),
    both!(20261130000001, "webhooks"),
    both!(20261130100001, "rate_limits"),
    both!(20261130100002, "signing_key_rotation"),
    both!(20261130100003, "rotated_refresh_tokens"),
    both!(20261201000001, "email"),
    both!(20261202000001, "instance_settings"),
    both!(20261203000001, "delete_self"),
    per_engine!(20261203000002, "images"),
    both!(20261204000001, "email_events"),
    both!(20261205000001, "session_device"),
];

/// The migrator for `engine`, with the locking the engine needs (see `dialect::connect`).
pub fn migrator(engine: Engine) -> Migrator {
    Migrator::with_migrations(
        VERSIONS
            .iter()
            .map(|v| {
                let sql = v.sql.for_engine(engine);
                // sqlx's own spelling of a file name's description, so databases migrated by
                // `sqlx::migrate!` before this list existed read the same.
                let description = Cow::Owned(v.name.replace('_', " "));
                Migration::new(
                    v.version,
                    description,
                    MigrationType::Simple,
                    AssertSqlSafe(sql).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { files_under(&path, out) } else { out.push(path) }
        }
    }

    #[test]
    fn every_migration_file_is_listed_once_in_version_order() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut on_disk = Vec::new();
        files_under(&root, &mut on_disk);
        let mut listed: Vec<PathBuf> = VERSIONS
            .iter()
            .flat_map(|v| {
                let file = format!("{}_{}.sql", v.version, v.name);
                match v.sql {
                    Text::Both(_) => vec![root.join(&file)],
                    Text::PerEngine { .. } => {
                        vec![root.join("sqlite").join(&file), root.join("postgres").join(&file)]
                    }
                }
            })
            .collect();
        on_disk.sort();
        listed.sort();
        assert_eq!(on_disk, listed, "migrations/ and VERSIONS differ");
        assert!(VERSIONS.windows(2).all(|w| w[0].version < w[1].version), "versions ascend");
    }

    #[test]
    fn both_engines_get_every_version_and_the_same_checksum_for_shared_files() {
        let (sqlite, postgres) = (migrator(Engine::Sqlite), migrator(Engine::Postgres));
        assert_eq!(sqlite.migrations.len(), VERSIONS.len());
        for (a, b) in sqlite.iter().zip(postgres.iter()) {
            assert_eq!((a.version, &a.description), (b.version, &b.description));
        }
        assert_eq!(sqlite.migrations[1].description, "jwt templates");
        assert_eq!(sqlite.migrations[0].checksum, postgres.migrations[0].checksum);
        let split = Text::PerEngine {
            sqlite: "INTEGER PRIMARY KEY",
            postgres: "BIGINT GENERATED ALWAYS AS IDENTITY",
        };
        assert_eq!(split.for_engine(Engine::Sqlite), "INTEGER PRIMARY KEY");
        assert_eq!(split.for_engine(Engine::Postgres), "BIGINT GENERATED ALWAYS AS IDENTITY");
    }
}
