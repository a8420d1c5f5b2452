//! `caredesk backup FILE` and `caredesk restore FILE`.
//!
//! On SQLite a backup is a consistent copy of the whole database, taken while the desk
//! serves, checked page by page and summed up before it gets its name (so a FILE that
//! exists is a whole backup). A restore goes only into a new, empty database, checks the
//! backup first, and brings an older backup's schema up to date. On PostgreSQL both are
//! pg_dump's and pg_restore's work: the commands say how, for the server in use.

use std::path::{Path, PathBuf};

use caredesk_store::{Backend, Contents, Store};

use crate::Failure;
use crate::server::{self, redact};
use crate::settings::Settings;

pub async fn backup(settings: &Settings, file: &Path) -> Result<(), Failure> {
    let store = server::open_existing(settings).await?;
    if store.backend() == Backend::Postgres {
        let explanation = pg_dump_advice(&store, settings, file).await;
        store.close().await;
        return Err(Failure::Input(explanation));
    }
    if file.exists() {
        store.close().await;
        return Err(Failure::Input(format!(
            "{} exists already: a backup goes into a new file",
            file.display()
        )));
    }
    let partial = with_suffix(file, ".partial");
    remove_database_files(&partial)?;
    let written = store.back_up_into(&partial).await;
    store.close().await;
    written.map_err(|error| Failure::Environment(format!("the backup failed: {error}")))?;
    let contents = match checked_contents(&partial, file).await {
        Ok(contents) => contents,
        Err(failure) => {
            remove_database_files(&partial)?;
            return Err(failure);
        }
    };
    std::fs::rename(&partial, file)?;
    let bytes = std::fs::metadata(file)?.len();
    println!(
        "backed up to {} ({:.1} MB): {}",
        file.display(),
        bytes as f64 / 1_000_000.0,
        describe(&contents)
    );
    Ok(())
}

pub async fn restore(settings: &Settings, file: &Path) -> Result<(), Failure> {
    let Some(target) = sqlite_path(&settings.database) else {
        return Err(Failure::Input(format!(
            "{} is PostgreSQL: restore a pg_dump backup with \
             pg_restore --no-owner --dbname '{}' FILE, into an empty database, then run \
             caredesk migrate",
            redact(&settings.database),
            redact(&settings.database)
        )));
    };
    if !file.is_file() {
        return Err(Failure::Input(format!(
            "there is no backup at {}",
            file.display()
        )));
    }
    if !is_sqlite_file(file)? {
        return Err(Failure::Input(format!(
            "{} is not a caredesk backup (not a SQLite database)",
            file.display()
        )));
    }
    if target.exists() {
        let existing = Store::connect(&settings.database)
            .await
            .map_err(|error| Failure::Environment(error.to_string()))?;
        let empty = existing.has_no_tables().await;
        existing.close().await;
        if !empty.map_err(|error| Failure::Environment(error.to_string()))? {
            return Err(Failure::Input(format!(
                "{} is not empty: restore into a new database (--database sqlite://NEW_FILE)",
                target.display()
            )));
        }
    }
    let partial = with_suffix(&target, ".restoring");
    remove_database_files(&partial)?;
    std::fs::copy(file, &partial)?;
    if let Err(failure) = checked_contents(&partial, file).await {
        remove_database_files(&partial)?;
        return Err(failure);
    }
    remove_database_files(&target)?;
    std::fs::rename(&partial, &target)?;
    // An older backup's schema is brought up to date here; one newer than this caredesk
    // is refused by the migrations, with the database left as restored.
    let store = server::connect(settings).await?;
    let contents = store
        .contents()
        .await
        .map_err(|error| Failure::Environment(error.to_string()));
    store.close().await;
    println!(
        "restored {} into {}",
        describe(&contents?),
        target.display()
    );
    Ok(())
}

/// Opens a copy of a backup, checks that it is a sound caredesk database, and counts what
/// it holds; refusals name the backup as the operator knows it (`named`).
async fn checked_contents(copy: &Path, named: &Path) -> Result<Contents, Failure> {
    let file = named;
    let url = format!("sqlite://{}", copy.display());
    let store = Store::connect(&url)
        .await
        .map_err(|error| Failure::Input(format!("{}: not a database: {error}", file.display())))?;
    let verdict = async {
        store
            .check_integrity()
            .await
            .map_err(|error| Failure::Input(format!("{} is damaged: {error}", file.display())))?;
        if !store.is_a_desk().await.map_err(environment)? {
            return Err(Failure::Input(format!(
                "{} is not a caredesk database",
                file.display()
            )));
        }
        store.contents().await.map_err(environment)
    }
    .await;
    store.close().await;
    verdict
}

async fn pg_dump_advice(store: &Store, settings: &Settings, file: &Path) -> String {
    let server = store
        .server_version()
        .await
        .unwrap_or_else(|error| format!("unknown ({error})"));
    let server_major = major(&server);
    let client = std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    let fit = match (&client, server_major) {
        (None, _) => "pg_dump is not installed here".to_string(),
        (Some(client), Some(server_major)) => match client.rsplit(' ').next().and_then(major) {
            Some(client_major) if client_major >= server_major => {
                format!("{client} can back it up")
            }
            _ => format!("{client} is older than the server: use pg_dump {server_major} or newer"),
        },
        (Some(client), None) => client.clone(),
    };
    format!(
        "{} is PostgreSQL {server}; back it up with pg_dump, which takes one consistent \
         snapshot while the desk serves:\n  pg_dump --format=custom --file {} '{}'\n({fit})",
        redact(&settings.database),
        file.display(),
        redact(&settings.database),
    )
}

/// "15.4 (Debian 15.4-1)" → 15.
fn major(version: &str) -> Option<u32> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| !part.is_empty())?
        .parse()
        .ok()
}

fn describe(contents: &Contents) -> String {
    format!(
        "{} tickets, {} events, {} customers, {} contacts, {} staff, {} attachments, {} notices",
        contents.tickets,
        contents.events,
        contents.customers,
        contents.contacts,
        contents.staff,
        contents.attachments,
        contents.notices
    )
}

/// Whether the file starts as every SQLite database does.
fn is_sqlite_file(file: &Path) -> Result<bool, Failure> {
    use std::io::Read;
    let mut header = [0_u8; 16];
    let mut opened = std::fs::File::open(file)?;
    match opened.read_exact(&mut header) {
        Ok(()) => Ok(&header == b"SQLite format 3\0"),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// The file of a SQLite URL (`sqlite://FILE` or `sqlite:FILE`, options after `?` aside).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(PathBuf::from(path.split('?').next().unwrap_or(path)))
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a database file and the journal files SQLite keeps beside it.
fn remove_database_files(file: &Path) -> Result<(), Failure> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = with_suffix(file, suffix);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

fn environment(error: caredesk_store::StoreError) -> Failure {
    Failure::Environment(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_by_their_major_number() {
        assert_eq!(major("15.4 (Debian 15.4-1.pgdg120+1)"), Some(15));
        assert_eq!(major("pg_dump (PostgreSQL) 16.2"), Some(16));
        assert_eq!(major("unknown"), None);
        assert_eq!(
            sqlite_path("sqlite:///var/lib/caredesk/desk.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/caredesk/desk.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:desk.db"),
            Some(PathBuf::from("desk.db"))
        );
        assert_eq!(sqlite_path("postgres://db/desk"), None);
    }
}
