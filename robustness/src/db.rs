//! Reading the server's database file from outside, read-only.

use crate::encoding::hex;
use crate::Error;
use std::path::Path;

/// Opens a database file read-only (no write, no checkpoint) with libSQL.
pub async fn open_read_only(path: &Path) -> Result<libsql::Connection, Error> {
    let db = libsql::Builder::new_local(path)
        .flags(libsql::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .build()
        .await?;
    Ok(db.connect()?)
}

/// All rows of `sql` as JSON-ish values (integers, text, blobs as bytes).
pub async fn query(conn: &libsql::Connection, sql: &str) -> Result<Vec<Vec<libsql::Value>>, Error> {
    let mut rows = conn.query(sql, ()).await?;
    let width = rows.column_count().max(0);
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let mut values = Vec::new();
        for i in 0..width {
            values.push(row.get_value(i)?);
        }
        out.push(values);
    }
    Ok(out)
}

/// The text of a value (integers printed), or "" for NULL.
pub fn value_text(v: &libsql::Value) -> String {
    match v {
        libsql::Value::Null => String::new(),
        libsql::Value::Integer(i) => i.to_string(),
        libsql::Value::Real(r) => r.to_string(),
        libsql::Value::Text(s) => s.clone(),
        libsql::Value::Blob(b) => hex(b),
    }
}
