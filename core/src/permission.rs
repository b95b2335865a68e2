//! Reusable guards, as DRF's permission classes. An embedder attaches one to
//! its own route in one line (see [`crate::service::Gatehouse::route`]).
//!
//! Note: DRF's built-in `IsAdminUser` means "is staff"; here the SPEC's three
//! user types are distinct, so [`IsStaffUser`] is staff-or-admin and
//! [`IsAdminUser`] is superusers (admins) only.

use crate::user::{User, UserType};

/// Decides whether an authenticated (or anonymous) caller may proceed.
pub trait Permission: crate::MaybeSendSync {
    fn has_permission(&self, user: Option<&User>) -> bool;
}

/// Anyone with a valid access token.
#[derive(Debug, Clone, Copy)]
pub struct IsAuthenticated;
/// Creators only.
#[derive(Debug, Clone, Copy)]
pub struct IsCreator;
/// Staff and admins (`is_staff`).
#[derive(Debug, Clone, Copy)]
pub struct IsStaffUser;
/// Admins (`is_superuser`) only.
#[derive(Debug, Clone, Copy)]
pub struct IsAdminUser;
/// Anyone, even without a token (the API key is still required).
#[derive(Debug, Clone, Copy)]
pub struct AllowAny;

impl Permission for IsAuthenticated {
    fn has_permission(&self, user: Option<&User>) -> bool {
        user.is_some_and(|u| u.is_active)
    }
}
impl Permission for IsCreator {
    fn has_permission(&self, user: Option<&User>) -> bool {
        user.is_some_and(|u| u.is_active && u.user_type == UserType::Creator)
    }
}
impl Permission for IsStaffUser {
    fn has_permission(&self, user: Option<&User>) -> bool {
        user.is_some_and(|u| u.is_active && u.is_staff)
    }
}
impl Permission for IsAdminUser {
    fn has_permission(&self, user: Option<&User>) -> bool {
        user.is_some_and(|u| u.is_active && u.is_superuser)
    }
}
impl Permission for AllowAny {
    fn has_permission(&self, _user: Option<&User>) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(t: UserType) -> User {
        User::sample(1, t)
    }

    /// The full matrix: (anonymous, creator, staff, admin) × each guard.
    #[test]
    fn permission_matrix() {
        let guards: [(&str, &dyn Permission, [bool; 4]); 5] = [
            ("AllowAny", &AllowAny, [true, true, true, true]),
            (
                "IsAuthenticated",
                &IsAuthenticated,
                [false, true, true, true],
            ),
            ("IsCreator", &IsCreator, [false, true, false, false]),
            ("IsStaffUser", &IsStaffUser, [false, false, true, true]),
            ("IsAdminUser", &IsAdminUser, [false, false, false, true]),
        ];
        let callers = [
            None,
            Some(user(UserType::Creator)),
            Some(user(UserType::Staff)),
            Some(user(UserType::Admin)),
        ];
        for (name, guard, expected) in guards {
            for (caller, want) in callers.iter().zip(expected) {
                assert_eq!(
                    guard.has_permission(caller.as_ref()),
                    want,
                    "{name} for {caller:?}"
                );
            }
        }
    }

    #[test]
    fn inactive_users_pass_no_guard_but_allow_any() {
        let mut u = user(UserType::Admin);
        u.is_active = false;
        assert!(!IsAuthenticated.has_permission(Some(&u)));
        assert!(!IsAdminUser.has_permission(Some(&u)));
        assert!(!IsStaffUser.has_permission(Some(&u)));
    }
}
