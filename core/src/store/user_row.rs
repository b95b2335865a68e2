//! The user row: its columns and its decoder, read by the user, session
//! and admin stores (a file of its own so those need not import each other).

use super::{bad_row, int, opt_int, text};
use crate::clock::UnixMillis;
use crate::sql::{Row, SqlError, Value};
use crate::user::{User, UserId};

pub(crate) const USER_COLUMNS: &str = "id, email, username, first_name, last_name, user_type, is_staff, is_superuser, is_active, date_joined, last_login, email_verified_at";

pub(crate) fn user_from_row(r: &Row) -> Result<User, SqlError> {
    user_from_values(r)
}

/// A user from `USER_COLUMNS` in order (a row, or part of a wider one).
pub(crate) fn user_from_values(r: &[Value]) -> Result<User, SqlError> {
    let f = || -> Option<User> {
        Some(User {
            id: UserId(int(r.first()?)?),
            email: text(r.get(1)?)?,
            username: text(r.get(2)?)?,
            first_name: text(r.get(3)?)?,
            last_name: text(r.get(4)?)?,
            user_type: text(r.get(5)?)?.parse().ok()?,
            is_staff: int(r.get(6)?)? != 0,
            is_superuser: int(r.get(7)?)? != 0,
            is_active: int(r.get(8)?)? != 0,
            date_joined: UnixMillis(int(r.get(9)?)?),
            last_login: opt_int(r.get(10)?)?.map(UnixMillis),
            email_verified_at: opt_int(r.get(11)?)?.map(UnixMillis),
        })
    };
    f().ok_or_else(|| bad_row("user"))
}
