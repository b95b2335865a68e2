//! `GET /api/admin/usage/` (every client, and the busiest) and
//! `GET /api/admin/clients/{id}/usage/`: counts per hour or day over a range.

use super::common::{bad_choice, ClientErrors, ClientIdPath, StaffErrors};
use super::types::{ClientUsageOut, TopClientOut, UsageBucketOut, UsageCountsOut, UsageSummaryOut};
use crate::api_client::ClientId;
use crate::clock::UnixMillis;
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push};
use crate::query::{Query, TIME_MAX, TIME_MIN};
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
/// The most buckets a series can have: a range of at most [`HOURLY_MAX`]
/// in hours, or [`RANGE_MAX`] in days, plus one for `from` rounded down.
pub(crate) const MAX_BUCKETS: usize = {
    let hourly = HOURLY_MAX / HOUR + 1;
    let daily = RANGE_MAX / DAY + 1;
    (if hourly > daily { hourly } else { daily }) as usize
};

/// The most `top_clients` a summary lists (`limit`).
const MAX_TOP: i64 = 100;

/// A validated range and bucket width (seconds). Built only by
/// [`Range::parse`], which guarantees `from < to`, both within the query
/// time window, and `buckets <= MAX_BUCKETS`.
struct Range {
    from: UnixMillis,
    to: UnixMillis,
    bucket: i64,
    /// How many buckets the series has.
    buckets: usize,
}

impl Range {
    /// Reads `from`, `to` and `bucket`. Everything is checked here, before
    /// anything is allocated or read by the range: times within the query
    /// window (so no arithmetic below can overflow), `from < to`, the span,
    /// and the number of buckets.
    fn parse(q: &Query, now: UnixMillis) -> Result<Range, ApiError> {
        let mut errors = FieldErrors::new();
        let to = q.time("to", &mut errors);
        let from = q.time("from", &mut errors);
        check(errors)?;
        // The host's clock is trusted, but kept in the window all the same.
        let to = to.unwrap_or_else(|| now.clamp(TIME_MIN, TIME_MAX));
        let from =
            from.unwrap_or_else(|| UnixMillis(to.0.saturating_sub(DAY * 1000).max(TIME_MIN.0)));
        let mut errors = FieldErrors::new();
        // Milliseconds; `None` only if the window's promise broke.
        let span = to.0.checked_sub(from.0);
        match span {
            _ if from >= to => push(&mut errors, "from", "Must be before \"to\"."),
            Some(ms) if ms <= RANGE_MAX * 1000 => {}
            _ => push(&mut errors, "to", "The range may be at most 366 days."),
        }
        let span = span.unwrap_or(i64::MAX);
        let bucket = match q.get("bucket") {
            None if span <= HOURLY_DEFAULT_MAX * 1000 => HOUR,
            None | Some("day") => DAY,
            Some("hour") => {
                if span > HOURLY_MAX * 1000 {
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
        let buckets = bucket_count(from, to, bucket)
            .filter(|n| *n <= MAX_BUCKETS)
            // Unreachable after the checks above; refused, never built.
            .ok_or_else(|| ApiError::field("to", "The range has too many buckets."))?;
        Ok(Range {
            from,
            to,
            bucket,
            buckets,
        })
    }

    fn bucket_name(&self) -> String {
        if self.bucket == HOUR { "hour" } else { "day" }.to_owned()
    }

    /// First bucket start (seconds): `from` rounded down to the bucket.
    fn start(&self) -> i64 {
        bucket_start(self.from, self.bucket)
    }

    /// End of the hours to read (exclusive, seconds): every hour starting
    /// before `to`.
    fn end(&self) -> i64 {
        self.to.as_secs() + i64::from(self.to.0.rem_euclid(1000) != 0)
    }

    /// Every bucket of the range, zeros where the store had nothing: exactly
    /// `self.buckets` of them, so never more than [`MAX_BUCKETS`].
    fn series(&self, rows: Vec<(i64, Counters)>, totals: &mut Counters) -> Vec<UsageBucketOut> {
        debug_assert!(self.buckets <= MAX_BUCKETS);
        let by_start: HashMap<i64, Counters> = rows.into_iter().collect();
        let empty = Counters::default();
        let start = self.start();
        let mut out = Vec::with_capacity(self.buckets);
        // `i < buckets <= MAX_BUCKETS` and `start` is within the window, so
        // `t` stays far from overflowing.
        for t in (0..self.buckets as i64).map(|i| start + i * self.bucket) {
            let c = by_start.get(&t).unwrap_or(&empty);
            totals.merge(c);
            out.push(UsageBucketOut {
                start: UnixMillis::from_secs(t).to_rfc3339(),
                counts: UsageCountsOut::from(c),
            });
        }
        out
    }
}

/// `t` (milliseconds) rounded down to a multiple of `bucket` seconds, in
/// seconds.
fn bucket_start(t: UnixMillis, bucket: i64) -> i64 {
    t.as_secs().div_euclid(bucket) * bucket
}

/// How many buckets of `bucket` seconds, the first starting at `from`
/// rounded down, start before `to`; `None` on overflow (checked arithmetic
/// throughout, whatever the inputs).
fn bucket_count(from: UnixMillis, to: UnixMillis, bucket: i64) -> Option<usize> {
    let bucket_ms = bucket.checked_mul(1000)?;
    let start_ms = bucket_start(from, bucket).checked_mul(1000)?;
    let len = to.0.checked_sub(start_ms)?;
    if len <= 0 || bucket_ms <= 0 {
        return Some(0);
    }
    // ceil(len / bucket_ms) without `len + bucket_ms - 1` overflowing.
    let n = len / bucket_ms + i64::from(len % bucket_ms != 0);
    usize::try_from(n).ok()
}

pub(crate) async fn all(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let q = Query::parse(ctx.req.uri().query());
    let range = Range::parse(&q, ctx.now)?;
    let mut errors = FieldErrors::new();
    let limit = q.int("limit", &mut errors).unwrap_or(10);
    if !(1..=MAX_TOP).contains(&limit) {
        push(&mut errors, "limit", "Must be between 1 and 100.");
    }
    check(errors)?;
    crate::usage::flush(ctx.store(), &ctx.shared.usage).await?;
    let rows = ctx
        .store()
        .usage_series(None, range.start(), range.end(), range.bucket)
        .await?;
    let mut totals = Counters::default();
    let series = range.series(rows, &mut totals);
    let top = ctx
        .store()
        .usage_top(range.start(), range.end(), limit.unsigned_abs())
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

pub(crate) async fn client(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let id = &ClientId(ctx.param(0).to_owned());
    let client = ctx
        .store()
        .client(&id.0)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let q = Query::parse(ctx.req.uri().query());
    let range = Range::parse(&q, ctx.now)?;
    crate::usage::flush(ctx.store(), &ctx.shared.usage).await?;
    let rows = ctx
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixMillis = UnixMillis(1_800_000_000_000);

    fn parse(q: &str) -> Result<Range, ApiError> {
        Range::parse(&Query::parse(Some(q)), NOW)
    }

    fn field_of(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Fields(f) => f.into_keys().collect(),
            other => panic!("not field errors: {other:?}"),
        }
    }

    #[test]
    fn the_largest_series_is_max_buckets() {
        assert_eq!(MAX_BUCKETS, 31 * 24 + 1);
        // Hourly: 31 days from the middle of an hour to the middle of one.
        let from = NOW.as_secs() - HOURLY_MAX + 1800;
        let r = parse(&format!("from={from}&to={}&bucket=hour", from + HOURLY_MAX)).unwrap();
        assert_eq!(r.buckets, MAX_BUCKETS);
        assert_eq!(
            r.series(Vec::new(), &mut Counters::default()).len(),
            MAX_BUCKETS
        );
        // Daily: 366 days from the middle of a day.
        let from = NOW.as_secs().div_euclid(DAY) * DAY - RANGE_MAX + 43_200;
        let r = parse(&format!("from={from}&to={}", from + RANGE_MAX)).unwrap();
        assert_eq!((r.bucket, r.buckets), (DAY, 367));
    }

    #[test]
    fn extreme_times_are_field_errors_not_series() {
        for (q, field) in [
            ("to=9223372036854775807", "to"),
            ("to=9223372036854775", "to"),
            ("to=253402300800", "to"),
            ("to=100000000000000", "to"),
            ("to=-9223372036854775808", "to"),
            ("from=-9223372036854775808", "from"),
            ("from=9223372036854775807", "from"),
            ("from=0&to=253402300799", "to"),
            ("from=253402300799&to=0", "from"),
            ("to=0", "from"),
        ] {
            let e = parse(q).err().unwrap_or_else(|| panic!("{q} accepted"));
            assert_eq!(field_of(e), [field], "{q}");
        }
    }

    #[test]
    fn the_window_edges_are_served() {
        // 24 h back from 23:59:59 touches 25 hours.
        let r = parse("to=253402300799").unwrap();
        assert_eq!((r.bucket, r.buckets), (HOUR, 25));
        assert_eq!(r.end(), 253_402_300_799);
        let r = parse("to=9999-12-31T23:59:59.999Z").unwrap();
        assert_eq!(r.to, TIME_MAX);
        assert_eq!(r.end(), 253_402_300_800);
        assert_eq!(r.buckets, 25);
        let r = parse("from=0&to=1").unwrap();
        assert_eq!((r.start(), r.buckets), (0, 1));
    }

    #[test]
    fn bucket_count_cannot_overflow() {
        for a in [i64::MIN, -1, 0, 1, i64::MAX - 1, i64::MAX] {
            for b in [i64::MIN, -1, 0, 1, i64::MAX - 1, i64::MAX] {
                for bucket in [HOUR, DAY] {
                    // Any answer is fine; a panic is not.
                    let _ = bucket_count(UnixMillis(a), UnixMillis(b), bucket);
                }
            }
        }
        assert_eq!(bucket_count(UnixMillis(0), UnixMillis(1), HOUR), Some(1));
        assert_eq!(
            bucket_count(UnixMillis(0), UnixMillis(HOUR * 1000), HOUR),
            Some(1)
        );
        assert_eq!(
            bucket_count(UnixMillis(0), UnixMillis(HOUR * 1000 + 1), HOUR),
            Some(2)
        );
        assert_eq!(bucket_count(UnixMillis(0), UnixMillis(0), HOUR), Some(0));
    }
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { admin client_usage, get "/api/admin/clients/{client_id}/usage/",
    params(ClientIdPath, RangeParams),
    responses(
        (status = 200, description = "The client's usage per bucket", body = ClientUsageOut),
        (status = 400, description = "Bad range"),
        ClientErrors,
    )
}

operation! { admin usage, get "/api/admin/usage/",
    params(
        RangeParams,
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "How many top clients (1–100, default 10)"),
    ),
    responses(
        (status = 200, description = "Usage of every client per bucket, and the busiest clients", body = UsageSummaryOut),
        (status = 400, description = "Bad range"),
        StaffErrors,
    )
}

/// `?from=&to=&bucket=`, as the usage routes read them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // OpenAPI only
struct RangeParams {
    /// RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31; default `to` − 24 h
    from: Option<String>,
    /// RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31; default now
    to: Option<String>,
    /// hour or day; default hour up to 48 h, else day
    bucket: Option<String>,
}
