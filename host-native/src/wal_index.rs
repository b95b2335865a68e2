//! Whether an embedded database changed, told by its WAL-index header.
//!
//! Every request asks whether anything was committed since the caches
//! read their rows (`SqlExecutor::generation`). `PRAGMA data_version`
//! answers, but as a read transaction of its own: SQLite's shared-memory
//! locks (an in-process mutex held across `fcntl`), its page cache's
//! global mutex, and one connection behind one lock, on every request.
//! Under a refresh load those were the server's most frequent waits
//! (docs/SCALING.md, "Session 12").
//!
//! SQLite keeps the answer in memory shared by every connection to the
//! file, in the WAL-index header at the start of the `-shm` file
//! (<https://www.sqlite.org/walformat.html>, "The WAL-Index Header"). A
//! commit rewrites it before it returns, in any process: it holds the
//! number of the last valid frame and the WAL's salt, and no two commits
//! leave the same pair. It is written as two copies, the second first,
//! and read as SQLite's own readers read it: the first copy, a barrier,
//! the second, and only equal copies count. Its format is fixed across
//! SQLite versions, because processes running different versions share
//! one file.
//!
//! The header is read through SQLite's own map of the file (the VFS's
//! `xShmMap` on a connection kept open for it), not a map of our own: a
//! file descriptor of ours on the `-shm` file, once closed, would drop
//! every POSIX lock this process holds on it, SQLite's included, and
//! another process would then take the file for unused and truncate it
//! (found so: the contract suite's server died of SIGBUS when the CLI
//! opened its file). The map lives as long as that connection.

use std::ptr::NonNull;
use std::sync::atomic::{fence, Ordering};

/// One copy of the header, in 32-bit words.
const HEADER_WORDS: usize = 12;
/// The size of the first region of the `-shm` file, which holds the header.
const REGION_BYTES: i32 = 32 * 1024;
/// `iVersion`: the format every SQLite since 3.7.0 writes.
const WAL_INDEX_VERSION: u32 = 3_007_000;

/// One copy of the WAL-index header, as 32-bit words in native order
/// (`iVersion`, unused, `iChange`, `isInit`/`bigEndCksum`/`szPage`,
/// `mxFrame`, `nPage`, the last frame's checksum, the salt, the header's
/// checksum).
pub type Header = [u32; HEADER_WORDS];

/// SQLite's map of a database's WAL index, and the connection it belongs to.
pub struct WalIndex {
    words: NonNull<u32>,
    _conn: rusqlite::Connection,
}

// SAFETY: `words` points into SQLite's shared-memory map, which is the
// process's, not a thread's; it is only read (volatile, as SQLite's own
// readers read it), and `_conn`, which keeps it mapped, is `Send`.
unsafe impl Send for WalIndex {}

impl WalIndex {
    /// The WAL index of `conn`'s database, if it is in WAL mode and SQLite
    /// maps a header of the known format for it; otherwise the connection
    /// back (boxed: it is large), for the caller to ask SQLite instead.
    pub fn open(conn: rusqlite::Connection) -> Result<WalIndex, Box<rusqlite::Connection>> {
        let wal = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
            .is_ok_and(|mode| mode.eq_ignore_ascii_case("wal"));
        // A read opens the connection's shared memory (the pragma above
        // does not read the database).
        let read = conn.query_row("PRAGMA data_version", [], |_| Ok(()));
        let words = match (wal, read) {
            (true, Ok(())) => region_zero(&conn),
            _ => None,
        };
        let Some(words) = words else {
            return Err(Box::new(conn));
        };
        let index = WalIndex { words, _conn: conn };
        match index.header() {
            Some(h) if h[0] == WAL_INDEX_VERSION => Ok(index),
            _ => Err(Box::new(index._conn)),
        }
    }

    /// The header, if its two copies agree and it was initialised; `None`
    /// while a writer is between the two (or recovery is rebuilding it):
    /// the caller counts that as a change.
    pub fn header(&self) -> Option<Header> {
        let words = self.words.as_ptr();
        let read = |copy: usize| -> Header {
            std::array::from_fn(|i| {
                // SAFETY: region 0 is REGION_BYTES long and mapped while
                // `_conn` is open; both copies are its first 96 bytes.
                unsafe { words.add(copy * HEADER_WORDS + i).read_volatile() }
            })
        };
        let first = read(0);
        // SQLite's readers put a full barrier between the copies
        // (`walShmBarrier`); its writers write the second copy first.
        fence(Ordering::SeqCst);
        let second = read(1);
        let initialised = first[3] & 0xff != 0;
        (first == second && initialised).then_some(first)
    }
}

/// SQLite's map of region 0 of `conn`'s shared memory (`xShmMap` without
/// extending it: only a region the connection already mapped).
fn region_zero(conn: &rusqlite::Connection) -> Option<NonNull<u32>> {
    use rusqlite::ffi;
    let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: a live handle; FILE_POINTER writes the main database's
    // `sqlite3_file` pointer, owned by the connection, into `file`.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&raw mut file).cast(),
        )
    };
    if rc != ffi::SQLITE_OK || file.is_null() {
        return None;
    }
    // SAFETY: `file` is the connection's open file; its methods table is
    // SQLite's (the unix VFS), and xShmMap with bExtend = 0 only returns a
    // region already mapped, with the shm node's own locking.
    let region = unsafe {
        let methods = (*file).pMethods;
        if methods.is_null() || (*methods).iVersion < 2 {
            return None;
        }
        let map = (*methods).xShmMap?;
        let mut region: *mut std::os::raw::c_void = std::ptr::null_mut();
        if map(file, 0, REGION_BYTES, 0, &mut region) != ffi::SQLITE_OK {
            return None;
        }
        region
    };
    NonNull::new(region.cast::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_db(path: &str) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row("PRAGMA journal_mode=wal", [], |_| Ok(()))
            .unwrap();
        conn
    }

    #[test]
    fn a_commit_from_any_connection_changes_the_header_and_a_read_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db").to_str().unwrap().to_owned();
        let writer = wal_db(&path);
        writer.execute("CREATE TABLE t (x)", []).unwrap();
        let Ok(index) = WalIndex::open(rusqlite::Connection::open(&path).unwrap()) else {
            panic!("a WAL database has an index");
        };
        let before = index.header().unwrap();

        let reader = rusqlite::Connection::open(&path).unwrap();
        let n: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        drop(reader);
        assert_eq!(index.header().unwrap(), before, "a read commits nothing");

        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute("INSERT INTO t VALUES (1)", []).unwrap();
        drop(other);
        let after_one = index.header().unwrap();
        assert_ne!(after_one, before, "another connection's commit shows");
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert_ne!(index.header().unwrap(), after_one, "and the next one");
    }

    #[test]
    fn a_database_not_in_wal_mode_has_no_index_and_no_shm_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollback.db").to_str().unwrap().to_owned();
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("CREATE TABLE t (x)", []).unwrap();
        assert!(WalIndex::open(conn).is_err());
        assert!(!std::path::Path::new(&format!("{path}-shm")).exists());
    }
}
