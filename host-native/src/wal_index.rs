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
//! The map stays valid while the file is open somewhere in this process:
//! an open connection holds a shared lock that stops any other from
//! truncating or deleting the `-shm` file (the caller keeps one open).

use std::fs::File;
use std::sync::atomic::{fence, Ordering};

/// The two copies of the header, 48 bytes each.
const HEADER_WORDS: usize = 12;
const MAPPED_BYTES: usize = 2 * HEADER_WORDS * 4;
/// `iVersion`: the format every SQLite since 3.7.0 writes.
const WAL_INDEX_VERSION: u32 = 3_007_000;

/// One copy of the WAL-index header, as 32-bit words in native order
/// (`iVersion`, unused, `iChange`, `isInit`/`bigEndCksum`/`szPage`,
/// `mxFrame`, `nPage`, the last frame's checksum, the salt, the header's
/// checksum).
pub type Header = [u32; HEADER_WORDS];

/// A read-only map of an embedded database's `-shm` file.
pub struct WalIndex {
    map: memmap2::Mmap,
}

impl WalIndex {
    /// Maps the `-shm` file of the database at `db_path`, if it is there,
    /// long enough, and holds a header of the known format. `None`: the
    /// caller asks SQLite instead.
    pub fn open(db_path: &str) -> Option<WalIndex> {
        let file = File::open(format!("{db_path}-shm")).ok()?;
        // Mapping past the end of a file would fault on the first read.
        if file.metadata().ok()?.len() < MAPPED_BYTES as u64 {
            return None;
        }
        // SAFETY: the map is read only through `header`, with volatile
        // reads of plain integers: other processes write it, as they do
        // for SQLite's own readers, and no reference into it is handed
        // out. The file is not truncated while a connection of this
        // process has it open (module docs).
        let map = unsafe {
            memmap2::MmapOptions::new()
                .len(MAPPED_BYTES)
                .map(&file)
                .ok()?
        };
        let index = WalIndex { map };
        let header = index.header()?;
        (header[0] == WAL_INDEX_VERSION).then_some(index)
    }

    /// The header, if its two copies agree and it was initialised; `None`
    /// while a writer is between the two (or recovery is rebuilding it):
    /// the caller counts that as a change.
    pub fn header(&self) -> Option<Header> {
        let words = self.map.as_ptr().cast::<u32>();
        let read = |copy: usize| -> Header {
            std::array::from_fn(|i| {
                // SAFETY: `open` mapped MAPPED_BYTES, page-aligned, so every
                // word of both copies is in bounds and aligned.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(path: &str) -> Header {
        WalIndex::open(path)
            .expect("a WAL database has a -shm file")
            .header()
            .expect("no writer is running")
    }

    #[test]
    fn a_commit_from_any_connection_changes_the_header_and_a_read_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db").to_str().unwrap().to_owned();
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .query_row("PRAGMA journal_mode=wal", [], |_| Ok(()))
            .unwrap();
        writer.execute("CREATE TABLE t (x)", []).unwrap();
        let index = WalIndex::open(&path).expect("mapped");
        let before = index.header().unwrap();

        let reader = rusqlite::Connection::open(&path).unwrap();
        let n: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        assert_eq!(index.header().unwrap(), before, "a read commits nothing");

        reader.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let after_one = index.header().unwrap();
        assert_ne!(after_one, before, "another connection's commit shows");
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert_ne!(index.header().unwrap(), after_one, "and the next one");
        assert_eq!(
            header_of(&path),
            index.header().unwrap(),
            "one header for all maps"
        );
    }

    #[test]
    fn no_shm_file_or_a_short_one_is_no_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.db").to_str().unwrap().to_owned();
        assert!(WalIndex::open(&path).is_none(), "no file");
        std::fs::write(format!("{path}-shm"), [0u8; 10]).unwrap();
        assert!(WalIndex::open(&path).is_none(), "shorter than a header");
        std::fs::write(format!("{path}-shm"), [0u8; 4096]).unwrap();
        assert!(WalIndex::open(&path).is_none(), "not a header SQLite wrote");
    }
}
