//! What the admin handlers share: DRF-style paging, 204 answers, choice
//! messages.

use super::types::{ListPage, PageLinks};
use crate::api::types::ErrorOut;
use crate::context::Ctx;
use crate::error::{json_response, ApiError};
use crate::query::Query;
use bytes::Bytes;
use http::{Response, StatusCode};

/// Default and largest page sizes.
const PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 200;

/// A requested page. Built only by [`paging`], which guarantees
/// `1 <= size <= MAX_PAGE_SIZE` and an offset that fits the database's
/// signed 64-bit integer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub(crate) page: u64,
    pub(crate) size: u64,
}

impl Paging {
    /// Rows to skip: at most `i64::MAX` (checked in [`paging`]).
    pub(crate) fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.size)
    }
}

fn invalid_page() -> ApiError {
    ApiError::detail(StatusCode::NOT_FOUND, "not_found", "Invalid page.")
}

/// `?page=&page_size=` as DRF reads them: a bad page is 404, a bad size
/// the default. A page whose offset would not fit an `i64` cannot exist
/// (no table has that many rows), so it is 404 before any query.
pub(crate) fn paging(q: &Query) -> Result<Paging, ApiError> {
    let size = q
        .get("page_size")
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s >= 1)
        .map_or(PAGE_SIZE, |s| s.min(MAX_PAGE_SIZE));
    let page = match q.get("page") {
        None => 1,
        Some(p) => p
            .parse::<u64>()
            .ok()
            .filter(|p| *p >= 1)
            .filter(|p| {
                (p - 1)
                    .checked_mul(size)
                    .is_some_and(|o| i64::try_from(o).is_ok())
            })
            .ok_or_else(invalid_page)?,
    };
    debug_assert!((1..=MAX_PAGE_SIZE).contains(&size));
    Ok(Paging { page, size })
}

/// The page's links, or 404 when the page is past the last (page 1 of an
/// empty list is fine).
/// The 200 answer of a listing: `results`, the rows of page `p` of `count`
/// (404 for a page past the last).
pub(crate) fn page_answer<P: ListPage>(
    ctx: &Ctx<'_>,
    q: &Query,
    p: Paging,
    count: u64,
    results: Vec<P::Item>,
) -> Result<Response<Bytes>, ApiError> {
    let links = page_links(ctx, q, p, count)?;
    Ok(json_response(StatusCode::OK, &P::new(links, results)))
}

fn page_links(ctx: &Ctx<'_>, q: &Query, p: Paging, count: u64) -> Result<PageLinks, ApiError> {
    let pages = count.div_ceil(p.size).max(1);
    if p.page > pages {
        return Err(invalid_page());
    }
    let path = ctx.req.uri().path();
    let link = |n: u64| format!("{path}?{}", q.with("page", &n.to_string()));
    Ok(PageLinks {
        count,
        next: (p.page < pages).then(|| link(p.page + 1)),
        previous: (p.page > 1).then(|| link(p.page - 1)),
    })
}

/// "\"x\" is not a valid choice.", DRF's message.
pub(crate) fn bad_choice(v: &str) -> String {
    format!("\"{v}\" is not a valid choice.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_reads_like_drf() {
        let p = paging(&Query::parse(Some("page=2&page_size=500"))).unwrap();
        assert_eq!((p.page, p.size, p.offset()), (2, 200, 200));
        let p = paging(&Query::parse(Some("page_size=x"))).unwrap();
        assert_eq!((p.page, p.size), (1, 50));
        assert!(paging(&Query::parse(Some("page=0"))).is_err());
        assert!(paging(&Query::parse(Some("page=x"))).is_err());
    }

    #[test]
    fn paging_extremes_are_404_or_clamped_never_overflowing() {
        for q in [
            "page=18446744073709551615",
            "page=18446744073709551616",
            "page=-1",
            "page=9223372036854775807&page_size=2",
            "page=46116860184273881&page_size=200",
        ] {
            assert!(paging(&Query::parse(Some(q))).is_err(), "{q}");
        }
        // The largest page whose offset fits, and sizes that are clamped or
        // defaulted.
        let p = paging(&Query::parse(Some("page=9223372036854775808&page_size=1"))).unwrap();
        assert_eq!(p.offset(), i64::MAX as u64);
        for (q, size) in [
            ("page_size=18446744073709551615", MAX_PAGE_SIZE),
            ("page_size=99999999999999999999999", PAGE_SIZE),
            ("page_size=0", PAGE_SIZE),
            ("page_size=-5", PAGE_SIZE),
        ] {
            assert_eq!(paging(&Query::parse(Some(q))).unwrap().size, size, "{q}");
        }
    }
}

/// The refusals every admin route shares: no staff user behind the token.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // OpenAPI only
pub(crate) enum StaffErrors {
    #[response(status = 401, description = "Not authenticated")]
    Unauthenticated(ErrorOut),
    #[response(status = 403, description = "Not staff")]
    NotStaff(ErrorOut),
}

/// The refusals of an admin route on one API client.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // OpenAPI only
pub(crate) enum ClientErrors {
    #[response(status = 401, description = "Not authenticated")]
    Unauthenticated(ErrorOut),
    #[response(status = 403, description = "Not staff")]
    NotStaff(ErrorOut),
    #[response(status = 404, description = "No such client")]
    NoSuchClient(ErrorOut),
}

/// The `{client_id}` of an admin route's path.
#[derive(utoipa::IntoParams)]
#[into_params(names("client_id"), parameter_in = Path)]
#[allow(dead_code)] // OpenAPI only
pub(crate) struct ClientIdPath(
    /// Client id (cl_…)
    String,
);

/// The refusals of an admin route that reads one user.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // OpenAPI only
pub(crate) enum UserErrors {
    #[response(status = 401, description = "Not authenticated")]
    Unauthenticated(ErrorOut),
    #[response(status = 403, description = "Not staff")]
    NotStaff(ErrorOut),
    #[response(status = 404, description = "No such user")]
    NoSuchUser(ErrorOut),
}

/// The refusals of an admin route that acts on one user (staff act on
/// creators only).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // OpenAPI only
pub(crate) enum ManagedUserErrors {
    #[response(status = 401, description = "Not authenticated")]
    Unauthenticated(ErrorOut),
    #[response(status = 403, description = "Not allowed on this user")]
    NotAllowed(ErrorOut),
    #[response(status = 404, description = "No such user")]
    NoSuchUser(ErrorOut),
}

/// The `{id}` of an admin user route's path.
#[derive(utoipa::IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
#[allow(dead_code)] // OpenAPI only
pub(crate) struct UserIdPath(
    /// User id
    i64,
);

/// `?page=&page_size=`, as [`paging`] reads them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // OpenAPI only
pub(crate) struct PageParams {
    /// 1-based page
    page: Option<u64>,
    /// Default 50; larger sizes are capped at 200, and a value that is not a positive integer means the default (as DRF reads it)
    page_size: Option<String>,
}
