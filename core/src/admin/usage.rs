//! `GET /api/admin/usage/` (every client, and the busiest) and
//! `GET /api/admin/clients/{id}/usage/`: counts per hour or day over a range.

use super::bad_choice;
use super::types::{ClientUsageOut, TopClientOut, UsageBucketOut, UsageCountsOut, UsageSummaryOut};
use crate::api_client::ClientId;
use crate::clock::UnixMillis;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push};
use crate::query::Query;
use crate::service::{Ctx, Gatehouse};
use crate::usage::Counters;
use bytes::Bytes;
use http::{Response, StatusCode};
use std::collections::HashMap;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
/// Ranges up to this use hourly buckets unless told otherwise.
const HOURLY_DEFAULT_MAX: i64 = 48 * HOUR;
const HOURLY_MAX: i64 = 31 * DAY;
const RANGE_MAX: i64 = 366 * DAY;

/// A validated range and bucket width (seconds).
struct Range {
    from: UnixMillis,
    to: UnixMillis,
    bucket: i64,
}

impl Range {
    fn parse(q: &Query, now: UnixMillis) -> Result<Range, ApiError> {
        let mut errors = FieldErrors::new();
        let to = q.time("to", &mut errors).unwrap_or(now);
        let from = q
            .time("from", &mut errors)
            .unwrap_or(UnixMillis(to.0 - DAY * 1000));
        check(errors)?;
        let mut errors = FieldErrors::new();
        let span = (to.0 - from.0) / 1000;
        if from >= to {
            push(&mut errors, "from", "Must be before \"to\".");
        } else if span > RANGE_MAX {
            push(&mut errors, "to", "The range may be at most 366 days.");
        }
        let bucket = match q.get("bucket") {
            None if span <= HOURLY_DEFAULT_MAX => HOUR,
            None | Some("day") => DAY,
            Some("hour") => {
                if span > HOURLY_MAX {
                    push(
                        &mut errors,
                        "bucket",
                        "Hourly buckets cover at most 31 days; use day.",
                    );
                }
                HOUR
            }
            Some(other) => {
                push(&mut errors, "bucket", bad_choice(other));
                HOUR
            }
        };
        check(errors)?;
        Ok(Range { from, to, bucket })
    }

    fn bucket_name(&self) -> String {
        if self.bucket == HOUR { "hour" } else { "day" }.to_owned()
    }

    /// First bucket start (seconds): `from` rounded down to the bucket.
    fn start(&self) -> i64 {
        self.from.as_secs().div_euclid(self.bucket) * self.bucket
    }

    /// End of the hours to read (exclusive, seconds): every hour starting
    /// before `to`.
    fn end(&self) -> i64 {
        (self.to.0 + 999).div_euclid(1000)
    }

    /// Every bucket of the range, zeros where the store had nothing.
    fn series(&self, rows: Vec<(i64, Counters)>, totals: &mut Counters) -> Vec<UsageBucketOut> {
        let by_start: HashMap<i64, Counters> = rows.into_iter().collect();
        let empty = Counters::default();
        let mut out = Vec::new();
        let mut t = self.start();
        while t * 1000 < self.to.0 {
            let c = by_start.get(&t).unwrap_or(&empty);
            totals.merge(c);
            out.push(UsageBucketOut {
                start: UnixMillis::from_secs(t).to_rfc3339(),
                counts: UsageCountsOut::from(c),
            });
            t += self.bucket;
        }
        out
    }
}

impl Gatehouse {
    /// Writes the usage counted in memory since the last flush to
    /// `usage_hourly`, in one batch; returns how many (client, hour) rows it
    /// added to. Cheap when nothing is pending (no database call). On
    /// failure the counts are kept for the next flush.
    ///
    /// The native host calls this every few seconds and at shutdown; the
    /// Worker after each response (`wait_until`).
    pub async fn flush_usage(&self) -> Result<usize, crate::sql::SqlError> {
        let pending = self.inner.usage.take();
        if pending.is_empty() {
            return Ok(0);
        }
        match self.store().add_usage(&pending).await {
            Ok(n) => Ok(n),
            Err(e) => {
                self.inner.usage.restore(pending);
                Err(e)
            }
        }
    }

    pub(crate) async fn admin_usage(&self, ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
        let q = Query::parse(ctx.req.uri().query());
        let range = Range::parse(&q, ctx.now)?;
        let mut errors = FieldErrors::new();
        let limit = q.int("limit", &mut errors).unwrap_or(10);
        if !(1..=100).contains(&limit) {
            push(&mut errors, "limit", "Must be between 1 and 100.");
        }
        check(errors)?;
        self.flush_usage().await?;
        let rows = self
            .store()
            .usage_series(None, range.start(), range.end(), range.bucket)
            .await?;
        let mut totals = Counters::default();
        let series = range.series(rows, &mut totals);
        let top = self
            .store()
            .usage_top(range.start(), range.end(), limit as u64)
            .await?;
        let out = UsageSummaryOut {
            from: range.from.to_rfc3339(),
            to: range.to.to_rfc3339(),
            bucket: range.bucket_name(),
            totals: UsageCountsOut::from(&totals),
            series,
            top_clients: top
                .into_iter()
                .map(|t| TopClientOut {
                    client_id: t.client_id,
                    name: t.name.unwrap_or_default(),
                    client_type: t.client_type.unwrap_or_default(),
                    counts: UsageCountsOut::from(&t.counts),
                })
                .collect(),
        };
        Ok(json_response(StatusCode::OK, &out))
    }

    pub(crate) async fn admin_client_usage(
        &self,
        ctx: &Ctx<'_>,
        id: &ClientId,
    ) -> Result<Response<Bytes>, ApiError> {
        let client = self
            .store()
            .client(&id.0)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let q = Query::parse(ctx.req.uri().query());
        let range = Range::parse(&q, ctx.now)?;
        self.flush_usage().await?;
        let rows = self
            .store()
            .usage_series(Some(&id.0), range.start(), range.end(), range.bucket)
            .await?;
        let mut totals = Counters::default();
        let series = range.series(rows, &mut totals);
        let out = ClientUsageOut {
            client_id: client.id.0,
            name: client.name,
            from: range.from.to_rfc3339(),
            to: range.to.to_rfc3339(),
            bucket: range.bucket_name(),
            totals: UsageCountsOut::from(&totals),
            series,
        };
        Ok(json_response(StatusCode::OK, &out))
    }
}
