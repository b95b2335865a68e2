//! The signing key, stored once and shared by every instance.

use super::{bad_row, Store};
use crate::clock::UnixMillis;
use crate::sql::{SqlError, Statement, Value};

impl Store {
    /// The stored signing key of `alg`, created from `candidate` if there is
    /// none yet. Race-safe: the first writer wins and everyone reads its key.
    pub async fn signing_key(
        &self,
        alg: &str,
        candidate: Vec<u8>,
        now: UnixMillis,
    ) -> Result<Vec<u8>, SqlError> {
        let results = self
            .sql
            .batch(vec![
                Statement::new(
                    "INSERT INTO signing_keys (slot, alg, secret, created_at) VALUES ('default', ?, ?, ?) ON CONFLICT(slot) DO NOTHING",
                    vec![alg.into(), candidate.into(), now.0.into()],
                ),
                Statement::plain("SELECT alg, secret FROM signing_keys WHERE slot = 'default'"),
            ])
            .await?;
        let row = results
            .get(1)
            .and_then(|r| r.rows.first())
            .ok_or_else(|| bad_row("signing key"))?;
        match (row.first(), row.get(1)) {
            (Some(Value::Text(a)), Some(Value::Blob(secret))) if a == alg => Ok(secret.clone()),
            _ => Err(bad_row("signing key")),
        }
    }
}
