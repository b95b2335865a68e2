//! `operation!`: an endpoint's OpenAPI operation, as the route table reads
//! it (`__path_NAME`): `#[utoipa::path]` on an empty fn, with the security
//! schemes its guard asks for. One place for what every operation repeats.
//!
//! - `operation!(open NAME, METHOD "PATH", TAG, …)`: no API key.
//! - `operation!(client NAME, METHOD "PATH", TAG, …)`: an API key and client id.
//! - `operation!(bearer NAME, METHOD "PATH", TAG, …)`: those and a bearer token.
//! - `operation!(admin NAME, METHOD "PATH", …)`: the admin tag, with a bearer token.
//!
//! `…` is the rest of `utoipa::path`'s arguments (`request_body`, `params`,
//! `responses`). A fn beside its handler, never called: hence `dead_code`.

macro_rules! operation {
    (open $name:ident, $method:ident $path:literal, $tag:literal, $($rest:tt)*) => {
        #[allow(dead_code)]
        #[utoipa::path($method, path = $path, tag = $tag, $($rest)*)]
        fn $name() {}
    };
    (client $name:ident, $method:ident $path:literal, $tag:literal, $($rest:tt)*) => {
        #[allow(dead_code)]
        #[utoipa::path($method, path = $path, tag = $tag,
            security(("api_key" = [], "client_id" = [])), $($rest)*)]
        fn $name() {}
    };
    (bearer $name:ident, $method:ident $path:literal, $tag:literal, $($rest:tt)*) => {
        #[allow(dead_code)]
        #[utoipa::path($method, path = $path, tag = $tag,
            security(("api_key" = [], "client_id" = [], "bearer" = [])), $($rest)*)]
        fn $name() {}
    };
    (admin $name:ident, $method:ident $path:literal, $($rest:tt)*) => {
        operation!(bearer $name, $method $path, "admin", $($rest)*);
    };
}
