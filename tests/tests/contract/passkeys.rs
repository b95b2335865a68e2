//! Passkeys (WebAuthn): register, list, rename, delete, passwordless
//! sign-in, and the refusals (a cloned authenticator, a wrong origin or rp
//! id, malformed CBOR, huge payloads) — each a clear 4xx with nothing
//! stored. The browser is played by a software authenticator below (P-256
//! keys, "none" attestation), as `navigator.credentials` would answer.

use gatehouse_contract::harness::*;
use serde_json::{json, Value};
use webauthn_soft::{b64url_encode as b64, SoftAuthenticator as SoftKey};

const RP: &str = "login.example.com";
const ORIGIN: &str = "https://login.example.com";

/// A fresh credential for this relying party, its key and id unique to the
/// run (so parallel tests and reruns never collide).
fn new_key() -> SoftKey {
    SoftKey::es256_from(
        unique("key").as_bytes(),
        unique("cred").as_bytes(),
        RP,
        ORIGIN,
    )
}

/// A web client whose origin makes it the relying party `login.example.com`.
fn rp_client(ctx: &Ctx) -> Api {
    ctx.client(&ClientSpec::web().origins(ORIGIN)).1
}

async fn register_options(api: &Api, access: &str) -> Value {
    let r = api
        .post_as("/api/auth/passkeys/register/options/", access, &json!({}))
        .await;
    r.expect(200);
    r.json()
}

async fn register_with(api: &Api, access: &str, options: &Value, credential: &Value) -> Resp {
    let body = json!({"challenge_id": options["challenge_id"], "credential": credential, "name": "My laptop"});
    api.post_as("/api/auth/passkeys/register/", access, &body)
        .await
}

async fn list(api: &Api, access: &str) -> Vec<Value> {
    let r = api.get_as("/api/auth/passkeys/", access).await;
    r.expect(200);
    r.json().as_array().unwrap().clone()
}

async fn login_options(api: &Api) -> Value {
    let r = api
        .post_json("/api/auth/passkeys/login/options/", &json!({}))
        .await;
    r.expect(200);
    r.json()
}

async fn login_with(api: &Api, options: &Value, credential: &Value) -> Resp {
    api.post_json(
        "/api/auth/passkeys/login/",
        &json!({"challenge_id": options["challenge_id"], "credential": credential}),
    )
    .await
}

/// The default server and [`rp_client`] on it.
fn rp_ctx() -> (Ctx, Api) {
    let ctx = Ctx::new();
    let api = rp_client(&ctx);
    (ctx, api)
}

/// [`rp_client`] on the default server.
fn rp_api() -> Api {
    rp_ctx().1
}

/// A passwordless sign-in with `key`: fresh options, and its answer.
async fn sign_in(api: &Api, key: &mut SoftKey) -> Resp {
    let o = login_options(api).await;
    login_with(api, &o, &key.get(&o)).await
}

/// Registers `key` for the holder of `access`: fresh options, and its answer.
async fn register_key(api: &Api, access: &str, key: &mut SoftKey) -> Resp {
    let o = register_options(api, access).await;
    let cred = key.create(&o);
    register_with(api, access, &o, &cred).await
}

/// [`rp_api`] and a creator with one registered passkey.
async fn rp_enrolled() -> (Api, TestUser, Tokens, SoftKey) {
    let api = rp_api();
    let (u, t, key) = enrolled(&api).await;
    (api, u, t, key)
}

/// A creator with one registered passkey.
async fn enrolled(api: &Api) -> (TestUser, Tokens, SoftKey) {
    let (u, t) = api.new_creator().await;
    let mut key = new_key();
    let o = register_options(api, &t.access).await;
    let cred = key.create(&o);
    register_with(api, &t.access, &o, &cred).await.expect(201);
    (u, t, key)
}

#[tokio::test]
async fn register_list_rename_delete() {
    let api = rp_api();
    let (_, t) = api.new_creator().await;
    let o = register_options(&api, &t.access).await;
    let pk = &o["publicKey"];
    assert_eq!(pk["rp"]["id"], RP);
    assert_eq!(
        webauthn_soft::b64url_decode(pk["challenge"].as_str().unwrap()).len(),
        32
    );
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    let algs: Vec<i64> = pk["pubKeyCredParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["alg"].as_i64().unwrap())
        .collect();
    assert_eq!(algs, [-7, -8]);
    let mut key = new_key();
    let cred = key.create(&o);
    let r = register_with(&api, &t.access, &o, &cred).await;
    r.expect(201);
    let created = r.json();
    assert_eq!(created["name"], "My laptop");
    assert_eq!(created["alg"], -7);
    assert_eq!(created["backup_eligible"], true);
    // The same challenge is spent.
    register_with(&api, &t.access, &o, &cred)
        .await
        .expect_error(400, "webauthn_challenge_invalid");
    let all = list(&api, &t.access).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["id"], created["id"]);
    // Options now exclude the registered credential.
    let again = register_options(&api, &t.access).await;
    assert_eq!(
        again["publicKey"]["excludeCredentials"][0]["id"],
        b64(&key.credential_id)
    );
    // Rename; another user cannot see, rename or delete it.
    let path = format!("/api/auth/passkeys/{}/", created["id"].as_str().unwrap());
    let r = api
        .send_as(
            http::Method::PATCH,
            &path,
            &t.access,
            &json!({"name": "Phone"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["name"], "Phone");
    let (_, other) = api.new_creator().await;
    assert!(list(&api, &other.access).await.is_empty());
    api.send_as(
        http::Method::PATCH,
        &path,
        &other.access,
        &json!({"name": "Mine"}),
    )
    .await
    .expect_error(404, "not_found");
    api.call_as(http::Method::DELETE, &path, &other.access)
        .await
        .expect_error(404, "not_found");
    api.call_as(http::Method::DELETE, &path, &t.access)
        .await
        .expect(204);
    assert!(list(&api, &t.access).await.is_empty());
    // A deleted passkey signs nobody in.
    let lo = login_options(&api).await;
    let assertion = key.get(&lo);
    login_with(&api, &lo, &assertion)
        .await
        .expect_error(400, "passkey_unknown");
}

#[tokio::test]
async fn passwordless_sign_in() {
    let (api, u, _, mut key) = rp_enrolled().await;
    let o = login_options(&api).await;
    assert_eq!(o["publicKey"]["rpId"], RP);
    assert_eq!(o["publicKey"]["userVerification"], "required");
    assert_eq!(o["publicKey"]["allowCredentials"], json!([]));
    let r = login_with(&api, &o, &key.get(&o)).await;
    r.expect(200);
    let t = Tokens::from_json(&r.json());
    let me = api.profile(&t.access).await;
    me.expect(200);
    assert_eq!(me.json()["email"], u.email.as_str());
    api.refresh(&t.refresh).await.expect(200);
    let listed = list(&api, &t.access).await;
    assert!(listed[0]["last_used_at"].is_string());
    // A sign-in challenge is single use.
    login_with(&api, &o, &key.get(&o))
        .await
        .expect_error(400, "webauthn_challenge_invalid");
}

#[tokio::test]
async fn a_cloned_authenticator_with_a_lower_counter_is_refused() {
    let (api, _, _, mut key) = rp_enrolled().await;
    for _ in 0..3 {
        sign_in(&api, &mut key).await.expect(200);
    }
    // The clone's counter is behind the original's (3).
    key.sign_count = 1;
    sign_in(&api, &mut key)
        .await
        .expect_error(400, "webauthn_counter");
    // The refusal stored nothing: the original goes on from 3.
    key.sign_count = 3;
    sign_in(&api, &mut key).await.expect(200);
}

#[tokio::test]
async fn wrong_origin_and_wrong_rp_id_are_refused_and_store_nothing() {
    let api = rp_api();
    let (_, t) = api.new_creator().await;
    let mut evil = new_key();
    evil.origin = "https://login.example.com.evil.test".into();
    register_key(&api, &t.access, &mut evil)
        .await
        .expect_error(400, "webauthn_origin");
    let mut other_rp = new_key();
    other_rp.rp_id = "example.net".into();
    register_key(&api, &t.access, &mut other_rp)
        .await
        .expect_error(400, "webauthn_rp_id");
    assert!(list(&api, &t.access).await.is_empty());
    // The same at sign-in, with an enrolled key.
    let (_, t2, mut key) = enrolled(&api).await;
    key.origin = "https://evil.test".into();
    sign_in(&api, &mut key)
        .await
        .expect_error(400, "webauthn_origin");
    key.origin = ORIGIN.into();
    key.rp_id = "evil.test".into();
    sign_in(&api, &mut key)
        .await
        .expect_error(400, "webauthn_rp_id");
    assert!(list(&api, &t2.access).await[0]["last_used_at"].is_null());
}

#[tokio::test]
async fn malformed_and_huge_credentials_are_clear_4xx() {
    let api = rp_api();
    let (_, t) = api.new_creator().await;
    let key = new_key();
    // Not CBOR, truncated CBOR, CBOR of the wrong shape.
    for att in [&b"not cbor"[..], &[0xa3, 0x63, 0x66], &[0xbf, 0xff]] {
        let o = register_options(&api, &t.access).await;
        let challenge = webauthn_soft::b64url_decode(o["publicKey"]["challenge"].as_str().unwrap());
        let cd = key.client_data("webauthn.create", &challenge);
        register_with(&api, &t.access, &o, &key.registration_json(&cd, att))
            .await
            .expect_error(400, "webauthn_malformed");
    }
    // Not a credential at all; a credential that is not an object.
    let o = register_options(&api, &t.access).await;
    register_with(&api, &t.access, &o, &json!({"type": "public-key"}))
        .await
        .expect_error(400, "webauthn_malformed");
    let o = register_options(&api, &t.access).await;
    register_with(&api, &t.access, &o, &json!("abc"))
        .await
        .expect_fields(&[("credential", None)]);
    // A body over the route's limit: 413 before anything is read.
    let o = register_options(&api, &t.access).await;
    let huge = key.registration_json(&vec![b'a'; 40_000], b"");
    register_with(&api, &t.access, &o, &huge).await.expect(413);
    // A credential id over 1023 bytes.
    let mut long = new_key();
    long.credential_id = vec![7; 1024];
    register_key(&api, &t.access, &mut long)
        .await
        .expect_error(400, "webauthn_credential_id_too_long");
    assert!(list(&api, &t.access).await.is_empty());
    // Sign-in: garbage assertion, unknown challenge.
    let o = login_options(&api).await;
    login_with(
        &api,
        &o,
        &json!({"rawId": "***", "type": "public-key", "response": {}}),
    )
    .await
    .expect_error(400, "webauthn_malformed");
    login_with(&api, &json!({"challenge_id": "nope"}), &json!({}))
        .await
        .expect_error(400, "webauthn_challenge_invalid");
}

#[tokio::test]
async fn challenges_are_bound_to_their_ceremony_user_and_client() {
    let (ctx, api) = rp_ctx();
    let (_, t) = api.new_creator().await;
    let (_, other) = api.new_creator().await;
    let mut key = new_key();
    // Another user's registration challenge.
    let o = register_options(&api, &other.access).await;
    let cred = key.create(&o);
    register_with(&api, &t.access, &o, &cred)
        .await
        .expect_error(400, "webauthn_challenge_invalid");
    // A sign-in challenge used to register.
    let lo = login_options(&api).await;
    let cred = key.create(&lo_as_create(&lo, &o));
    register_with(&api, &t.access, &lo, &cred)
        .await
        .expect_error(400, "webauthn_challenge_invalid");
    // Another client's sign-in challenge.
    let (_, _, mut enrolled_key) = enrolled(&api).await;
    let other_client = rp_client(&ctx);
    let o = login_options(&other_client).await;
    login_with(&api, &o, &enrolled_key.get(&o))
        .await
        .expect_error(400, "webauthn_challenge_invalid");
}

/// Registration options carrying a sign-in challenge (for a mix-up test).
fn lo_as_create(login: &Value, create: &Value) -> Value {
    let mut o = create.clone();
    o["publicKey"]["challenge"] = login["publicKey"]["challenge"].clone();
    o
}

#[tokio::test]
async fn a_client_without_a_concrete_origin_offers_no_passkeys() {
    let ctx = Ctx::new();
    let (_, api) = ctx.client(&ClientSpec::web().origins("*"));
    let (_, t) = api.new_creator().await;
    api.post_as(
        "/api/auth/passkeys/register/options/",
        &t.access,
        &json!({}),
    )
    .await
    .expect_error(403, "passkeys_unavailable");
    api.post_json("/api/auth/passkeys/login/options/", &json!({}))
        .await
        .expect_error(403, "passkeys_unavailable");
}

#[tokio::test]
async fn passkey_routes_need_a_signed_in_user() {
    let api = rp_api();
    api.get("/api/auth/passkeys/")
        .send()
        .await
        .expect_error(401, "not_authenticated");
    api.post_json("/api/auth/passkeys/register/options/", &json!({}))
        .await
        .expect_error(401, "not_authenticated");
}

// ---- A passkey as the second factor (after a password)

/// The password step of a user with a passkey: 401 `mfa_required`, whose
/// methods name the passkey; the `mfa_token`.
async fn mfa_token(api: &Api, u: &TestUser) -> String {
    let r = api.login(&u.email, &u.password).await;
    r.expect(401);
    assert_eq!(r.json()["code"], "mfa_required", "{}", r.json());
    assert_eq!(r.json()["methods"], json!(["passkey"]), "{}", r.json());
    r.json()["mfa_token"].as_str().unwrap().to_owned()
}

async fn mfa_options(api: &Api, token: &str) -> Resp {
    api.post_json(
        "/api/auth/mfa/passkey/options/",
        &json!({"mfa_token": token}),
    )
    .await
}

async fn mfa_verify(api: &Api, token: &str, options: &Value, credential: &Value) -> Resp {
    api.post_json("/api/auth/mfa/verify/", &json!({"mfa_token": token, "challenge_id": options["challenge_id"], "credential": credential})).await
}

/// The second step with `key`: fresh passkey options for `token`, and
/// its answer.
async fn mfa_answer(api: &Api, token: &str, key: &mut SoftKey) -> Resp {
    let o = mfa_options(api, token).await.json();
    mfa_verify(api, token, &o, &key.get(&o)).await
}

#[tokio::test]
async fn a_passkey_is_a_second_factor_after_the_password() {
    let (api, u, t, mut key) = rp_enrolled().await;
    let f = api.get_as("/api/auth/mfa/factors/", &t.access).await;
    f.expect(200);
    assert_eq!(f.json()["methods"], json!(["passkey"]));

    let token = mfa_token(&api, &u).await;
    let o = mfa_options(&api, &token).await;
    o.expect(200);
    let o = o.json();
    assert_eq!(o["publicKey"]["rpId"], RP);
    assert_eq!(o["publicKey"]["userVerification"], "required");
    let allowed = o["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["id"], b64(&key.credential_id));
    let r = mfa_verify(&api, &token, &o, &key.get(&o)).await;
    r.expect(200);
    let t2 = Tokens::from_json(&r.json());
    let claims = gatehouse_contract::jwt::claims(&t2.access);
    assert_eq!(claims["amr"], json!(["pwd", "hwk"]));
    assert_eq!(claims["aal"], 2);
    let me = api.profile(&t2.access).await;
    me.expect(200);
    assert_eq!(me.json()["email"], u.email.as_str());
    assert!(list(&api, &t2.access).await[0]["last_used_at"].is_string());
    // The sign-in challenge and the passkey challenge are both spent.
    mfa_verify(&api, &token, &o, &key.get(&o))
        .await
        .expect_error(401, "mfa_token_invalid");
    mfa_options(&api, &token)
        .await
        .expect_error(401, "mfa_token_invalid");
}

#[tokio::test]
async fn a_second_step_passkey_must_be_the_users_and_its_challenge_the_sign_ins() {
    let (api, u, _, mut key) = rp_enrolled().await;
    let (_, _, mut other_key) = enrolled(&api).await;

    // Another user's passkey, on a challenge issued for this sign-in.
    let token = mfa_token(&api, &u).await;
    mfa_answer(&api, &token, &mut other_key)
        .await
        .expect_error(400, "webauthn_wrong_credential");
    // The right passkey with a passwordless sign-in's challenge.
    let lo = login_options(&api).await;
    mfa_verify(&api, &token, &lo, &key.get(&lo))
        .await
        .expect_error(400, "webauthn_challenge_invalid");
    // ... with the challenge of another sign-in of the same user.
    let token2 = mfa_token(&api, &u).await;
    let o2 = mfa_options(&api, &token2).await.json();
    mfa_verify(&api, &token, &o2, &key.get(&o2))
        .await
        .expect_error(400, "webauthn_challenge_invalid");
    // ... signed over another challenge than the one named.
    let o3 = mfa_options(&api, &token).await.json();
    let o4 = mfa_options(&api, &token).await.json();
    mfa_verify(&api, &token, &o3, &key.get(&o4))
        .await
        .expect_error(400, "webauthn_challenge_mismatch");
    // Four wrong answers and a fifth attempt: a right one still signs in.
    mfa_answer(&api, &token, &mut key).await.expect(200);
    // Out of attempts: the next sign-in challenge after 5 wrong answers is dead.
    let token3 = mfa_token(&api, &u).await;
    for _ in 0..5 {
        mfa_answer(&api, &token3, &mut other_key)
            .await
            .expect_error(400, "webauthn_wrong_credential");
    }
    mfa_answer(&api, &token3, &mut key)
        .await
        .expect_error(401, "mfa_token_invalid");
}

#[tokio::test]
async fn passkey_options_need_a_live_sign_in_challenge_of_this_client() {
    let (ctx, api) = rp_ctx();
    let (u, _, _) = enrolled(&api).await;
    let token = mfa_token(&api, &u).await;
    mfa_options(&api, "not-a-token")
        .await
        .expect_error(401, "mfa_token_invalid");
    let other_client = rp_client(&ctx);
    mfa_options(&other_client, &token)
        .await
        .expect_error(401, "mfa_token_invalid");
    mfa_options(&api, &token).await.expect(200);
    api.post_json("/api/auth/mfa/passkey/options/", &json!({}))
        .await
        .expect(400);
    // A credential that is not an object, and no challenge_id with one.
    api.post_json(
        "/api/auth/mfa/verify/",
        &json!({"mfa_token": token, "challenge_id": "x", "credential": "x"}),
    )
    .await
    .expect(400);
    api.post_json(
        "/api/auth/mfa/verify/",
        &json!({"mfa_token": token, "credential": {}}),
    )
    .await
    .expect(400);
}

#[tokio::test]
async fn admins_see_passkeys_in_mfa_and_their_reset_removes_them() {
    let (ctx, api) = rp_ctx();
    let (u, t, mut key) = enrolled(&api).await;
    let id = api.profile(&t.access).await.json()["id"].as_i64().unwrap();
    let (_, admin_api) = ctx.client(&ClientSpec::admin());
    let admin = admin_api.login_ok(&ctx.server.create_user("admin")).await;
    let shown = admin_api
        .get_as(&format!("/api/admin/users/{id}/"), &admin.access)
        .await;
    shown.expect(200);
    assert_eq!(shown.json()["mfa"], json!(["passkey"]));
    // The list (one query for the page) says the same.
    let page = admin_api
        .get_as(
            &format!("/api/admin/users/?search={}", u.email),
            &admin.access,
        )
        .await;
    page.expect(200);
    let row = page.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .expect("the user is listed");
    assert_eq!(row["mfa"], json!(["passkey"]));

    // A lost device: the reset removes the passkey; the password alone signs in.
    let r = admin_api
        .post_empty_as(&format!("/api/admin/users/{id}/mfa/reset/"), &admin.access)
        .await;
    r.expect(200);
    assert_eq!(r.json()["mfa"], json!([]));
    let t2 = api.login_ok(&u).await;
    assert!(list(&api, &t2.access).await.is_empty());
    sign_in(&api, &mut key)
        .await
        .expect_error(400, "passkey_unknown");
}

#[tokio::test]
async fn a_passkey_steps_up_the_current_login_for_a_password_change() {
    let api = rp_api();
    // The login that registered the passkey never passed it.
    let (u, t, mut key) = enrolled(&api).await;
    let new_password = "Harbor-Quill-7730-Moss";
    let change = json!({"old_password": u.password, "new_password": new_password, "new_password2": new_password});
    api.change_password(&t.access, &change)
        .await
        .expect_error(403, "mfa_step_up_required");
    let options = || async {
        let r = api
            .post_empty_as("/api/auth/mfa/step-up/passkey/options/", &t.access)
            .await;
        r.expect(200);
        r.json()
    };
    let step_up = |o: &Value, cred: &Value| {
        api.post("/api/auth/mfa/step-up/")
            .bearer(&t.access)
            .json(&json!({"challenge_id": o["challenge_id"], "credential": cred}))
            .send()
    };
    let o = options().await;
    assert_eq!(o["publicKey"]["rpId"], RP);
    assert_eq!(
        o["publicKey"]["allowCredentials"][0]["id"],
        b64(&key.credential_id)
    );
    // A passwordless sign-in's challenge is not this login's.
    let lo = login_options(&api).await;
    step_up(&lo, &key.get(&lo))
        .await
        .expect_error(400, "webauthn_challenge_invalid");
    let o = options().await;
    let r = step_up(&o, &key.get(&o)).await;
    r.expect(200);
    // Spent: the same challenge again is refused.
    step_up(&o, &key.get(&o))
        .await
        .expect_error(400, "webauthn_challenge_invalid");
    let r = api.change_password(&t.access, &change).await;
    r.expect(200);
    let claims = gatehouse_contract::jwt::claims(r.json()["access"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd", "hwk"]));
    assert_eq!(claims["aal"], 2);
}
