//! Sign-in with an emailed code (docs/CONTRACT.md, "The email flows"): off
//! by default; right code → tokens; five wrong → dead. Mail tests skip where
//! the run has no mail capture.

use gatehouse_contract::harness::*;
use gatehouse_contract::mailbox;
use serde_json::json;

#[tokio::test]
async fn a_client_without_sign_in_codes_refuses_them() {
    let ctx = Ctx::new();
    for (path, body) in [
        ("/api/auth/code/request/", json!({"email": unique_email()})),
        (
            "/api/auth/code/verify/",
            json!({"email": unique_email(), "code": "123456"}),
        ),
    ] {
        ctx.api
            .post_json(path, &body)
            .await
            .expect_error(403, "signin_code_disabled");
    }
}

fn code_of(m: &mailbox::ReceivedMail) -> String {
    m.subject.chars().take(6).collect()
}

#[tokio::test]
async fn a_mailed_code_signs_in_once_and_five_wrong_guesses_kill_it() {
    let Some((api, u)) = mailbox::creator_on(&ClientSpec::web_with(&["--signin-codes"])).await
    else {
        return;
    };
    let ask = || {
        api.post("/api/auth/code/request/")
            .json(&json!({ "email": u.email }))
            .send()
    };
    let verify = |code: String| {
        api.post("/api/auth/code/verify/")
            .json(&json!({ "email": u.email, "code": code }))
            .send()
    };
    let asked = ask().await;
    asked.expect(202);
    let unknown = api
        .post_json(
            "/api/auth/code/request/",
            &json!({ "email": unique_email() }),
        )
        .await;
    assert_eq!((unknown.status, unknown.json()), (202, asked.json()));
    let mails = mailbox::wait_for_mails(&u.email, 2).await.unwrap();
    let code = code_of(mails.last().unwrap());
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    let r = verify(code.clone()).await;
    r.expect(200);
    assert!(r.json()["access"].is_string() && r.json()["refresh"].is_string());
    verify(code).await.expect_error(400, "invalid_code");

    ask().await.expect(202);
    let mails = mailbox::wait_for_mails(&u.email, 3).await.unwrap();
    let code = code_of(mails.last().unwrap());
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        verify(wrong.into()).await.expect_error(400, "invalid_code");
    }
    verify(code).await.expect_error(400, "invalid_code");
}

#[tokio::test]
async fn a_client_signin_url_links_the_code_and_the_link_signs_in_once() {
    let Some((api, u)) = mailbox::creator_on(&ClientSpec::web_with(&[
        "--signin-codes",
        "--signin-url",
        "https://app.example.com/code?lang=fr",
    ]))
    .await
    else {
        return;
    };
    api.post_json("/api/auth/code/request/", &json!({ "email": u.email }))
        .await
        .expect(202);
    let mails = mailbox::wait_for_mails(&u.email, 2).await.unwrap();
    let mail = mails.last().unwrap();
    let link = mail.link().expect("a link in the code mail");
    assert!(
        link.starts_with("https://app.example.com/code?lang=fr&email="),
        "{link}"
    );
    let code = mail.link_param("code").expect("code= in the link");
    assert_eq!(code, code_of(mail));
    // The address, percent-encoded (an address is ASCII here).
    let email = mail.link_param("email").expect("email= in the link");
    assert_eq!(email.replace("%40", "@").replace("%2B", "+"), u.email);
    let verify = || {
        api.post("/api/auth/code/verify/")
            .json(&json!({ "email": u.email, "code": code }))
            .send()
    };
    let r = verify().await;
    r.expect(200);
    assert!(r.json()["access"].is_string());
    verify().await.expect_error(400, "invalid_code");
}
