//! The admin API's SQL: filtered, paged lists; compare-and-swap updates of
//! users and clients with their audit events in the same transaction; the
//! audit log; usage writes (UPSERTs that add) and reads (sums per bucket).

use crate::api_client::ApiClient;
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::sql::{Row, SqlError, Statement, Value};
use crate::store::clients::{client_from_row, end_sessions_of_inactive_client, CLIENT_COLUMNS};
use crate::store::user_row::{user_from_row, USER_COLUMNS};
use crate::store::{bad_row, decode_rows, int, text, Store};
use crate::usage::{column_names, Counters, Pending};
use crate::user::{User, UserId, UserType};

/// A WHERE clause under construction: conditions joined by AND, and their
/// parameters in order.
#[derive(Default)]
struct Where {
    conds: Vec<String>,
    params: Vec<Value>,
}

impl Where {
    fn add(&mut self, cond: &str, params: impl IntoIterator<Item = Value>) {
        self.conds.push(cond.to_owned());
        self.params.extend(params);
    }
    /// `cond` when the filter `value` is set, bound to each of its `?`.
    fn add_opt<T: Into<Value>>(&mut self, cond: &str, value: Option<T>) {
        if let Some(v) = value {
            let n = cond.matches('?').count();
            self.add(cond, std::iter::repeat_n(v.into(), n));
        }
    }
    fn sql(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conds.join(" AND "))
        }
    }
}

/// Filters of the user list.
#[derive(Debug, Default)]
pub(crate) struct UserFilter {
    pub(crate) search: Option<String>,
    pub(crate) user_type: Option<UserType>,
    pub(crate) is_active: Option<bool>,
}

/// Filters of the client list.
#[derive(Debug, Default)]
pub(crate) struct ClientFilter {
    pub(crate) search: Option<String>,
    pub(crate) client_type: Option<String>,
    pub(crate) is_active: Option<bool>,
}

/// Filters of the audit log.
#[derive(Debug, Default)]
pub(crate) struct AuditFilter {
    /// Exact name, or a prefix when it ends in `*`.
    pub(crate) event: Option<String>,
    pub(crate) actor: Option<i64>,
    pub(crate) target_user: Option<i64>,
    /// Actor or target.
    pub(crate) user: Option<i64>,
    /// Actor or target client.
    pub(crate) client: Option<String>,
    pub(crate) from: Option<UnixMillis>,
    pub(crate) to: Option<UnixMillis>,
}

/// One stored audit record.
#[derive(Debug, Clone)]
pub(crate) struct AuditRow {
    pub(crate) id: i64,
    pub(crate) at: UnixMillis,
    pub(crate) event: String,
    pub(crate) actor_user_id: Option<i64>,
    pub(crate) actor_client_id: Option<String>,
    pub(crate) ip: Option<String>,
    pub(crate) target_user_id: Option<i64>,
    pub(crate) target_client_id: Option<String>,
    pub(crate) detail: String,
}

/// A client's usage totals with its name and type (None once unknown).
#[derive(Debug, Clone)]
pub(crate) struct ClientTotals {
    pub(crate) client_id: String,
    pub(crate) name: Option<String>,
    pub(crate) client_type: Option<String>,
    pub(crate) counts: Counters,
}

/// A client's settings as `admin_update_client` sets and compares them, in
/// its column order.
fn settings_values(c: &ApiClient) -> Vec<Value> {
    vec![
        c.name.clone().into(),
        i64::from(c.rate_limit).into(),
        serves_text(c).into(),
        c.allowed_origins.join("\n").into(),
        c.is_active.into(),
        c.email.require_verified_email.into(),
        c.email.signin_codes.into(),
        c.email.reset_url.clone().into(),
        c.require_mfa_for_staff.into(),
        c.email.signin_url.clone().into(),
    ]
}

fn serves_text(c: &ApiClient) -> String {
    c.serves
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn opt_text(v: Option<&Value>) -> Option<String> {
    v.and_then(text)
}

fn count_of(rows: Option<&crate::sql::StatementResult>) -> Result<u64, SqlError> {
    rows.and_then(|r| r.rows.first())
        .and_then(|r| r.first())
        .and_then(int)
        .map(|n| n.max(0) as u64)
        .ok_or_else(|| bad_row("count"))
}

/// `SUM(col)` of every usage column, in [`Counters::columns`] order.
fn usage_sums(prefix: &str) -> String {
    column_names()
        .iter()
        .map(|c| format!("coalesce(SUM({prefix}{c}), 0)"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn counters_from(row: &Row, start: usize) -> Counters {
    let cols: Vec<u64> = row[start.min(row.len())..]
        .iter()
        .map(|v| int(v).unwrap_or(0).max(0) as u64)
        .collect();
    Counters::from_columns(&cols)
}

impl Store {
    /// One page of `table` under the filter `w`, in `order`, with the
    /// filter's total count; both read in one transaction, so they agree.
    async fn page(
        &self,
        table: &str,
        columns: &str,
        w: Where,
        order: &str,
        limit: u64,
        offset: u64,
    ) -> Result<(u64, Vec<Row>), SqlError> {
        let clause = w.sql();
        let mut page_params = w.params.clone();
        // `paging` keeps both within i64; saturate rather than wrap anyway.
        let sql_int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        page_params.extend([sql_int(limit).into(), sql_int(offset).into()]);
        let mut results = self
            .sql
            .batch(vec![
                Statement::new(format!("SELECT count(*) FROM {table}{clause}"), w.params),
                Statement::new(
                    format!(
                        "SELECT {columns} FROM {table}{clause} ORDER BY {order} LIMIT ? OFFSET ?"
                    ),
                    page_params,
                ),
            ])
            .await?;
        let count = count_of(results.first())?;
        let rows = if results.len() > 1 {
            results.swap_remove(1).rows
        } else {
            Vec::new()
        };
        Ok((count, rows))
    }

    /// A page of users matching `f`, and how many match in all.
    pub(crate) async fn admin_users(
        &self,
        f: &UserFilter,
        order: &str,
        limit: u64,
        offset: u64,
    ) -> Result<(u64, Vec<User>), SqlError> {
        let mut w = Where::default();
        w.add_opt(
            "(instr(lower(email), lower(?)) > 0 OR instr(lower(username), lower(?)) > 0 OR instr(lower(first_name), lower(?)) > 0 OR instr(lower(last_name), lower(?)) > 0)",
            f.search.as_deref(),
        );
        w.add_opt("user_type = ?", f.user_type.map(|t| t.as_str()));
        w.add_opt("is_active = ?", f.is_active);
        let (count, rows) = self
            .page("users", USER_COLUMNS, w, order, limit, offset)
            .await?;
        let users = rows.iter().map(user_from_row).collect::<Result<_, _>>()?;
        Ok((count, users))
    }

    /// Active superusers other than `id`.
    pub(crate) async fn other_active_superusers(&self, id: UserId) -> Result<u64, SqlError> {
        let r = self
            .sql
            .run(Statement::new(
                "SELECT count(*) FROM users WHERE is_superuser = 1 AND is_active = 1 AND id <> ?",
                vec![id.0.into()],
            ))
            .await?;
        count_of(Some(&r))
    }

    /// Moves a user from `before` to `after` if the row still is `before`
    /// (compare-and-swap), with the audit event; `keep_a_superuser` refuses
    /// the change when no other active superuser would remain;
    /// `revoke_reason` ends the user's logins in the same transaction.
    /// False when the row was not `before` (or the guard refused).
    pub(crate) async fn admin_update_user(
        &self,
        before: &User,
        after: &User,
        keep_a_superuser: bool,
        revoke_reason: Option<&str>,
        now: UnixMillis,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let guard = if keep_a_superuser {
            " AND (SELECT count(*) FROM users WHERE is_superuser = 1 AND is_active = 1 AND id <> ?) > 0"
        } else {
            ""
        };
        let mut params: Vec<Value> = vec![
            after.username.clone().into(),
            crate::user::username_key(&after.username).into(),
            after.first_name.clone().into(),
            after.last_name.clone().into(),
            after.user_type.as_str().into(),
            after.user_type.is_staff().into(),
            after.user_type.is_superuser().into(),
            after.is_active.into(),
            before.id.0.into(),
            before.username.clone().into(),
            before.first_name.clone().into(),
            before.last_name.clone().into(),
            before.user_type.as_str().into(),
            before.is_active.into(),
        ];
        if keep_a_superuser {
            params.push(before.id.0.into());
        }
        let change = Statement::new(
            format!("UPDATE users SET username = ?, username_key = ?, first_name = ?, last_name = ?, user_type = ?, is_staff = ?, is_superuser = ?, is_active = ? WHERE id = ? AND username = ? AND first_name = ? AND last_name = ? AND user_type = ? AND is_active = ?{guard}"),
            params,
        );
        // Keyed to the new state, not to the UPDATE's success: ending the
        // logins of a user who is in that state is right either way.
        let end_logins = revoke_reason.map(|reason| {
            Statement::new(
                "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM users WHERE id = ? AND user_type = ? AND is_active = ?)",
                vec![
                    now.0.into(),
                    reason.into(),
                    before.id.0.into(),
                    before.id.0.into(),
                    after.user_type.as_str().into(),
                    after.is_active.into(),
                ],
            )
        });
        self.audited_change(change, audit, end_logins).await
    }

    /// A page of clients matching `f` (oldest first), and how many match.
    pub(crate) async fn admin_clients(
        &self,
        f: &ClientFilter,
        limit: u64,
        offset: u64,
    ) -> Result<(u64, Vec<ApiClient>), SqlError> {
        let mut w = Where::default();
        w.add_opt(
            "(instr(lower(name), lower(?)) > 0 OR instr(id, ?) > 0)",
            f.search.as_deref(),
        );
        w.add_opt("client_type = ?", f.client_type.as_deref());
        w.add_opt("is_active = ?", f.is_active);
        let (count, rows) = self
            .page(
                "api_clients",
                CLIENT_COLUMNS,
                w,
                "created_at, id",
                limit,
                offset,
            )
            .await?;
        let clients = rows.iter().map(client_from_row).collect::<Result<_, _>>()?;
        Ok((count, clients))
    }

    /// Moves a client from `before` to `after` (compare-and-swap) with the
    /// audit event; deactivating ends every login it issued, in the same
    /// transaction. False when the row was not `before`.
    pub(crate) async fn admin_update_client(
        &self,
        before: &ApiClient,
        after: &ApiClient,
        now: UnixMillis,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let change = Statement::new(
            "UPDATE api_clients SET name = ?, rate_limit = ?, serves = ?, allowed_origins = ?, is_active = ?, require_verified_email = ?, signin_codes = ?, reset_url = ?, require_mfa_for_staff = ?, signin_url = ? WHERE id = ? AND name = ? AND rate_limit = ? AND serves = ? AND allowed_origins = ? AND is_active = ? AND require_verified_email = ? AND signin_codes = ? AND reset_url IS ? AND require_mfa_for_staff = ? AND signin_url IS ?",
            [
                settings_values(after),
                vec![before.id.0.clone().into()],
                settings_values(before),
            ]
            .concat(),
        );
        let end_logins =
            (!after.is_active).then(|| end_sessions_of_inactive_client(&before.id, now));
        self.audited_change(change, audit, end_logins).await
    }

    /// A page of audit events matching `f`, newest first, and how many match.
    pub(crate) async fn audit_events(
        &self,
        f: &AuditFilter,
        limit: u64,
        offset: u64,
    ) -> Result<(u64, Vec<AuditRow>), SqlError> {
        let mut w = Where::default();
        if let Some(e) = &f.event {
            match e.strip_suffix('*') {
                Some(prefix) => w.add(
                    "substr(event, 1, length(?)) = ?",
                    [prefix.into(), prefix.into()],
                ),
                None => w.add("event = ?", [e.as_str().into()]),
            }
        }
        w.add_opt("actor_user_id = ?", f.actor);
        w.add_opt("target_user_id = ?", f.target_user);
        w.add_opt("(actor_user_id = ? OR target_user_id = ?)", f.user);
        w.add_opt(
            "(actor_client_id = ? OR target_client_id = ?)",
            f.client.as_deref(),
        );
        w.add_opt("at >= ?", f.from.map(|t| t.0));
        w.add_opt("at < ?", f.to.map(|t| t.0));
        let (count, rows) = self
            .page(
                "audit_events",
                "id, at, event, actor_user_id, actor_client_id, ip, target_user_id, target_client_id, detail",
                w,
                "id DESC",
                limit,
                offset,
            )
            .await?;
        let events = decode_rows(&rows, "audit event", |r| {
            Some(AuditRow {
                id: int(r.first()?)?,
                at: UnixMillis(int(r.get(1)?)?),
                event: text(r.get(2)?)?,
                actor_user_id: r.get(3).and_then(int),
                actor_client_id: opt_text(r.get(4)),
                ip: opt_text(r.get(5)),
                target_user_id: r.get(6).and_then(int),
                target_client_id: opt_text(r.get(7)),
                detail: text(r.get(8)?)?,
            })
        })?;
        Ok((count, events))
    }

    /// Adds a pending aggregate to `usage_hourly`: one UPSERT per (client,
    /// hour), all in one batch. Returns the number of rows written.
    pub(crate) async fn add_usage(&self, pending: &Pending) -> Result<usize, SqlError> {
        let names = column_names();
        let cols = names.join(", ");
        let marks = vec!["?"; names.len()].join(", ");
        let adds = names
            .iter()
            .map(|c| format!("{c} = {c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO usage_hourly (client_id, hour, {cols}) VALUES (?, ?, {marks}) ON CONFLICT(client_id, hour) DO UPDATE SET {adds}"
        );
        let mut stmts = Vec::new();
        for (hour, clients) in pending {
            for (client, c) in clients {
                let mut params: Vec<Value> = vec![client.as_str().into(), (*hour).into()];
                params.extend(
                    c.columns()
                        .iter()
                        .map(|n| Value::Integer(i64::try_from(*n).unwrap_or(i64::MAX))),
                );
                stmts.push(Statement::new(sql.clone(), params));
            }
        }
        let n = stmts.len();
        if n > 0 {
            self.sql.batch(stmts).await?;
        }
        Ok(n)
    }

    /// Usage summed per bucket of `bucket_secs` (aligned to the epoch) over
    /// hours in `[from_secs, to_secs)`, for one client or all.
    pub(crate) async fn usage_series(
        &self,
        client: Option<&str>,
        from_secs: i64,
        to_secs: i64,
        bucket_secs: i64,
    ) -> Result<Vec<(i64, Counters)>, SqlError> {
        let mut params: Vec<Value> = vec![bucket_secs.into(), from_secs.into(), to_secs.into()];
        let by_client = match client {
            Some(c) => {
                params.push(c.into());
                " AND client_id = ?"
            }
            None => "",
        };
        let rows = self
            .rows(
                &format!(
                    "SELECT hour - (hour % ?) AS b, {} FROM usage_hourly WHERE hour >= ? AND hour < ?{by_client} GROUP BY b ORDER BY b",
                    usage_sums("")
                ),
                params,
            )
            .await?;
        rows.iter()
            .map(|r| {
                let start = r.first().and_then(int).ok_or_else(|| bad_row("usage"))?;
                Ok((start, counters_from(r, 1)))
            })
            .collect()
    }

    /// The busiest clients over hours in `[from_secs, to_secs)`.
    pub(crate) async fn usage_top(
        &self,
        from_secs: i64,
        to_secs: i64,
        limit: u64,
    ) -> Result<Vec<ClientTotals>, SqlError> {
        let rows = self
            .rows(
                &format!(
                    "SELECT u.client_id, c.name, c.client_type, {} FROM usage_hourly u LEFT JOIN api_clients c ON c.id = u.client_id WHERE u.hour >= ? AND u.hour < ? GROUP BY u.client_id ORDER BY SUM(u.requests) DESC, u.client_id LIMIT ?",
                    usage_sums("u.")
                ),
                vec![
                    from_secs.into(),
                    to_secs.into(),
                    i64::try_from(limit).unwrap_or(i64::MAX).into(),
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ClientTotals {
                    client_id: r.first().and_then(text).ok_or_else(|| bad_row("usage"))?,
                    name: opt_text(r.get(1)),
                    client_type: opt_text(r.get(2)),
                    counts: counters_from(r, 3),
                })
            })
            .collect()
    }
}
