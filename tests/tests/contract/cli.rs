//! The operator CLI's documented behaviour, as far as the suite relies on it.

use gatehouse_contract::harness::*;

/// The default server, when the CLI can reach its database; otherwise says
/// `test` is skipped.
fn cli_server(test: &str) -> Option<&'static Server> {
    let server = default_server();
    if server.database_url.is_none() {
        eprintln!("SKIP {test}: no GATEHOUSE_TEST_DATABASE_URL");
        return None;
    }
    Some(server)
}

/// `--email`, `--username` and `--password` of `u`.
fn sign_in_flags(u: &TestUser) -> Vec<&str> {
    vec![
        "--email",
        &u.email,
        "--username",
        &u.username,
        "--password",
        &u.password,
    ]
}

#[test]
fn clients_list_shows_clients_but_never_keys() {
    let Some(server) = cli_server("clients_list_shows_clients_but_never_keys") else {
        return;
    };
    let creds = server.create_client(&ClientSpec::web());
    let out = server.cli_ok(&["clients", "list", "--json"]);
    let _ = out.json();
    assert!(out.stdout.contains(&creds.client_id), "{out:?}");
    assert!(
        !out.stdout.contains(&creds.api_key),
        "the key leaked into `clients list`"
    );
}

#[test]
fn cli_failures_exit_1_with_a_message() {
    let Some(server) = cli_server("cli_failures_exit_1_with_a_message") else {
        return;
    };
    let u = server.create_user("staff");
    // Duplicate email.
    let out = server.cli(&[
        "create-user",
        "--type",
        "staff",
        "--email",
        &u.email,
        "--username",
        &unique("dup"),
        "--password",
        GOOD_PASSWORD,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(!out.stderr.trim().is_empty(), "{out:?}");
    // A password the validators refuse.
    let out = server.cli(&[
        "create-user",
        "--type",
        "staff",
        "--email",
        &unique_email(),
        "--username",
        &unique("weak"),
        "--password",
        "qwerty123",
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    // An unknown client.
    let out = server.cli(&["clients", "deactivate", &format!("cl_{}", unique("none"))]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(!out.stderr.trim().is_empty(), "{out:?}");
}

#[test]
fn migrate_is_idempotent() {
    let Some(server) = cli_server("migrate_is_idempotent") else {
        return;
    };
    // The server already migrated this database; twice more changes nothing.
    server.cli_ok(&["migrate"]);
    server.cli_ok(&["migrate"]);
}

/// Makes a fresh user with the CLI (`command`, the user's sign-in flags,
/// then `more`), logs them in through an admin client, and returns the
/// profile answer.
async fn cli_user_profile(server: &'static Server, command: &[&str], more: &[&str]) -> Resp {
    let ctx = Ctx::on(server);
    let (_, admin_api) = ctx.client(&ClientSpec::admin().serves("staff,admin"));
    let u = TestUser::fresh();
    server.cli_ok(&[command, &sign_in_flags(&u), more].concat());
    let t = admin_api.login_ok(&u).await;
    admin_api.profile(&t.access).await
}

#[tokio::test]
async fn createsuperuser_makes_an_admin() {
    let Some(server) = cli_server("createsuperuser_makes_an_admin") else {
        return;
    };
    let p = cli_user_profile(server, &["createsuperuser", "--json"], &[]).await;
    p.expect(200);
    let p = p.json();
    assert_eq!(p["user_type"], "admin", "{p}");
    assert_eq!(p["is_staff"], true, "{p}");
    assert_eq!(p["is_superuser"], true, "{p}");
}

#[tokio::test]
async fn create_user_sets_names_and_type() {
    let Some(server) = cli_server("create_user_sets_names_and_type") else {
        return;
    };
    let names = [
        "--first-name",
        "Dorothy",
        "--last-name",
        "Vaughan",
        "--json",
    ];
    let p = cli_user_profile(server, &["create-user", "--type", "staff"], &names).await;
    let p = p.json();
    assert_eq!(p["first_name"], "Dorothy", "{p}");
    assert_eq!(p["last_name"], "Vaughan", "{p}");
    assert_eq!(p["user_type"], "staff", "{p}");
    assert_eq!(p["is_superuser"], false, "{p}");
}

#[test]
fn create_user_refuses_lookalikes_and_blank_passwords() {
    let Some(server) = cli_server("create_user_refuses_lookalikes_and_blank_passwords") else {
        return;
    };
    let u = server.create_user("staff");
    let fullwidth = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
                c => c,
            })
            .collect()
    };
    let blank = " ".repeat(12);
    for (email, username, password) in [
        (fullwidth(&u.email), unique("dup"), GOOD_PASSWORD),
        (unique_email(), u.username.to_uppercase(), GOOD_PASSWORD),
        (unique_email(), fullwidth(&u.username), GOOD_PASSWORD),
        (unique_email(), unique("blank"), blank.as_str()),
    ] {
        let out = server.cli(&[
            "create-user",
            "--type",
            "staff",
            "--email",
            &email,
            "--username",
            &username,
            "--password",
            password,
        ]);
        assert_eq!(out.code, Some(1), "{email} / {username}: {out:?}");
    }
}
