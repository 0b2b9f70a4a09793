//! One process per SQLite database.
//!
//! Two Kefu processes on one SQLite file would both start, each with its own job workers,
//! relay and dispatcher, fighting over one writer lock and sending replies twice. Scaling out
//! is what PostgreSQL is for, so on SQLite the first process holds an exclusive lock on
//! `<database>.lock` for its lifetime and a second one refuses to start. The operating system
//! releases the lock when the process exits, also after `kill -9`, so a crash leaves nothing
//! to clean up.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

/// The held lock; dropping it releases the database to another process.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
}

/// Locks the SQLite database of `database_url` for this process. `Ok(None)` for PostgreSQL
/// and in-memory SQLite, which need no lock.
pub fn acquire(database_url: &str) -> Result<Option<DataLock>, String> {
    let Some(db) = kefu_normalizer::sqlite_path(database_url) else {
        return Ok(None);
    };
    let path = PathBuf::from(format!("{db}.lock"));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the data folder {}: {e}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another Kefu process".to_owned()
            } else {
                format!("another Kefu process ({holder})")
            };
            return Err(format!(
                "{who} is already using the SQLite database {db} (it holds {}). Stop it \
                 first, or give this process its own data_dir and database_url; to run several \
                 nodes on one database, use PostgreSQL",
                path.display()
            ));
        }
        Err(TryLockError::Error(e)) => {
            return Err(format!("cannot lock {}: {e}", path.display()));
        }
    }
    // Who holds it, for the message a second process shows. Best effort: the lock is what
    // counts.
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| write!(file, "pid {}", std::process::id()))
        .and_then(|()| file.flush());
    Ok(Some(DataLock { _file: file }))
}
