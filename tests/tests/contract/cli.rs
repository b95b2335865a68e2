//! The operator CLI's documented behaviour, as far as the suite relies on it.

use gatehouse_contract::harness::*;

#[test]
fn clients_list_shows_clients_but_never_keys() {
    let server = default_server();
    if server.database_url.is_none() {
        eprintln!("SKIP clients_list_shows_clients_but_never_keys: no GATEHOUSE_TEST_DATABASE_URL");
        return;
    }
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
    let server = default_server();
    if server.database_url.is_none() {
        eprintln!("SKIP cli_failures_exit_1_with_a_message: no GATEHOUSE_TEST_DATABASE_URL");
        return;
    }
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
