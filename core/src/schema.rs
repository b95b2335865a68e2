//! The libSQL schema, as numbered migrations. Both hosts and the CLI run
//! [`migrate`]; it is idempotent.

use crate::sql::{SqlError, SqlExecutor};

/// Applies every migration not yet applied; returns how many ran.
pub async fn migrate(_sql: &dyn SqlExecutor) -> Result<usize, SqlError> {
    todo!()
}
