//! The admin API under `/api/admin/` (docs/ADMIN_API.md): users, API
//! clients, usage and the audit log, for staff and admins calling through an
//! API client of type `admin`.
//!
//! Checks after the API-key gate, in order: the client is an admin client,
//! the bearer token, the client serves the caller's type, the caller is
//! staff ([`IsStaffUser`]); then each handler looks the object up (404) and
//! applies the object rules (staff manage creators only; admins anyone).

mod audit_log;
mod clients;
pub(crate) mod openapi;
mod store;
pub mod types;
mod usage;
mod users;

use crate::api_client::ClientId;
use crate::audit::Actor;
use crate::error::ApiError;
use crate::permission::{IsAdminUser, IsStaffUser, Permission};
use crate::query::Query;
use crate::service::{Ctx, Gatehouse};
use crate::user::{User, UserId, UserType};
use bytes::Bytes;
use http::{Method, Response, StatusCode};
use types::PageLinks;

/// The routes under `/api/admin/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AdminRoute {
    Users,
    User(UserId),
    UserDeactivate(UserId),
    UserReactivate(UserId),
    UserSessions(UserId),
    UserSession(UserId, String),
    Clients,
    Client(ClientId),
    ClientRotateKey(ClientId),
    ClientDeactivate(ClientId),
    ClientActivate(ClientId),
    ClientUsage(ClientId),
    Usage,
    Audit,
}

const GET: &[Method] = &[Method::GET];
const POST: &[Method] = &[Method::POST];
const DELETE: &[Method] = &[Method::DELETE];
const GET_POST: &[Method] = &[Method::GET, Method::POST];
const GET_PATCH: &[Method] = &[Method::GET, Method::PATCH];
const GET_DELETE: &[Method] = &[Method::GET, Method::DELETE];

/// Routes `rest`, the path after `/api/admin/` (trailing slash required).
pub(crate) fn admin_route(rest: &str) -> Option<(AdminRoute, &'static [Method])> {
    let inner = rest.strip_suffix('/')?;
    let parts: Vec<&str> = inner.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let user_id = |s: &str| -> Option<UserId> {
        // Digits only: "+5" or "05" are other strings, not this user.
        if s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0') {
            return None;
        }
        s.parse().ok().map(UserId)
    };
    let client_id =
        |s: &str| -> Option<ClientId> { (s.len() <= 64).then(|| ClientId(s.to_owned())) };
    Some(match parts.as_slice() {
        ["users"] => (AdminRoute::Users, GET_POST),
        ["users", id] => (AdminRoute::User(user_id(id)?), GET_PATCH),
        ["users", id, "deactivate"] => (AdminRoute::UserDeactivate(user_id(id)?), POST),
        ["users", id, "reactivate"] => (AdminRoute::UserReactivate(user_id(id)?), POST),
        ["users", id, "sessions"] => (AdminRoute::UserSessions(user_id(id)?), GET_DELETE),
        ["users", id, "sessions", sid] if sid.len() <= 128 => (
            AdminRoute::UserSession(user_id(id)?, (*sid).to_owned()),
            DELETE,
        ),
        ["clients"] => (AdminRoute::Clients, GET_POST),
        ["clients", id] => (AdminRoute::Client(client_id(id)?), GET_PATCH),
        ["clients", id, "rotate-key"] => (AdminRoute::ClientRotateKey(client_id(id)?), POST),
        ["clients", id, "deactivate"] => (AdminRoute::ClientDeactivate(client_id(id)?), POST),
        ["clients", id, "activate"] => (AdminRoute::ClientActivate(client_id(id)?), POST),
        ["clients", id, "usage"] => (AdminRoute::ClientUsage(client_id(id)?), GET),
        ["usage"] => (AdminRoute::Usage, GET),
        ["audit"] => (AdminRoute::Audit, GET),
        _ => return None,
    })
}

/// A staff or admin user calling the admin API, and the audit actor.
pub(crate) struct AdminCaller {
    pub(crate) user: User,
    pub(crate) actor: Actor,
}

impl AdminCaller {
    /// Staff manage creators; admins manage anyone.
    pub(crate) fn may_manage(&self, target: UserType) -> bool {
        target == UserType::Creator || IsAdminUser.has_permission(Some(&self.user))
    }
}

impl Gatehouse {
    /// Serves one admin route.
    pub(crate) async fn admin(
        &self,
        route: &AdminRoute,
        ctx: &Ctx<'_>,
    ) -> Result<Response<Bytes>, ApiError> {
        let caller = self.admin_caller(ctx).await?;
        let m = ctx.req.method();
        match route {
            AdminRoute::Users if m == Method::GET => self.admin_list_users(ctx).await,
            AdminRoute::Users => self.admin_create_user(ctx, &caller).await,
            AdminRoute::User(id) if m == Method::GET => self.admin_get_user(*id).await,
            AdminRoute::User(id) => self.admin_patch_user(ctx, &caller, *id).await,
            AdminRoute::UserDeactivate(id) => {
                self.admin_set_user_active(ctx, &caller, *id, false).await
            }
            AdminRoute::UserReactivate(id) => {
                self.admin_set_user_active(ctx, &caller, *id, true).await
            }
            AdminRoute::UserSessions(id) if m == Method::GET => {
                self.admin_user_sessions(ctx, *id).await
            }
            AdminRoute::UserSessions(id) => self.admin_end_user_sessions(ctx, &caller, *id).await,
            AdminRoute::UserSession(id, sid) => {
                self.admin_end_user_session(ctx, &caller, *id, sid).await
            }
            AdminRoute::Clients if m == Method::GET => self.admin_list_clients(ctx).await,
            AdminRoute::Clients => self.admin_create_client(ctx, &caller).await,
            AdminRoute::Client(id) if m == Method::GET => self.admin_get_client(id).await,
            AdminRoute::Client(id) => self.admin_patch_client(ctx, &caller, id).await,
            AdminRoute::ClientRotateKey(id) => self.admin_rotate_key(ctx, &caller, id).await,
            AdminRoute::ClientDeactivate(id) => {
                self.admin_set_client_active(ctx, &caller, id, false).await
            }
            AdminRoute::ClientActivate(id) => {
                self.admin_set_client_active(ctx, &caller, id, true).await
            }
            AdminRoute::ClientUsage(id) => self.admin_client_usage(ctx, id).await,
            AdminRoute::Usage => self.admin_usage(ctx).await,
            AdminRoute::Audit => self.admin_audit(ctx).await,
        }
    }

    /// Admin client → bearer token → client serves the type → staff.
    async fn admin_caller(&self, ctx: &Ctx<'_>) -> Result<AdminCaller, ApiError> {
        if ctx.client.client_type != "admin" {
            return Err(ApiError::detail(
                StatusCode::FORBIDDEN,
                "admin_client_required",
                "The admin API is served only to API clients of type admin.",
            ));
        }
        let user = self.authenticate(ctx.req, ctx.now).await?.user;
        if !ctx.client.serves(user.user_type) {
            return Err(ApiError::user_type_not_allowed());
        }
        if !IsStaffUser.has_permission(Some(&user)) {
            return Err(ApiError::permission_denied());
        }
        Ok(AdminCaller {
            actor: ctx.actor(Some(user.id)),
            user,
        })
    }
}

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
pub(crate) fn page_links(
    ctx: &Ctx<'_>,
    q: &Query,
    p: Paging,
    count: u64,
) -> Result<PageLinks, ApiError> {
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

/// A `204 No Content`.
pub(crate) fn no_content() -> Response<Bytes> {
    let mut resp = Response::new(Bytes::new());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    resp
}

/// "\"x\" is not a valid choice.", DRF's message.
pub(crate) fn bad_choice(v: &str) -> String {
    format!("\"{v}\" is not a valid choice.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(admin_route("users/").unwrap().0, AdminRoute::Users);
        assert_eq!(
            admin_route("users/12/sessions/abc/").unwrap().0,
            AdminRoute::UserSession(UserId(12), "abc".into())
        );
        assert_eq!(
            admin_route("clients/cl_x/rotate-key/").unwrap().0,
            AdminRoute::ClientRotateKey(ClientId("cl_x".into()))
        );
        for bad in [
            "users",
            "users/x/",
            "users/01/",
            "users//",
            "nope/",
            "users/1/2/",
            "",
        ] {
            assert!(admin_route(bad).is_none(), "{bad}");
        }
    }

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
