//! The refresh reuse grace (docs/CONTRACT.md, "Refresh"): for a short
//! window after a rotation, the spent token (the current token's immediate
//! parent) gets the current refresh token again, the same string, with a
//! fresh access token. Racing tabs and retried requests end on one chain;
//! older tokens, or the parent after the window, are replays.

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Parallel refreshes of one token per round, the next round starting from
/// the round's answer: every refresh of a round answers 200 with one and
/// the same new refresh token, and the login lives on after the last.
/// Returns one line of figures per round.
async fn race_rounds(apis: &[Api], width: usize, rounds: usize, tokens: Tokens) -> Vec<String> {
    let mut current = tokens;
    let mut figures = Vec::new();
    for round in 1..=rounds {
        let start = Instant::now();
        let racers: Vec<_> = (0..width)
            .map(|i| {
                let (api, token) = (apis[i % apis.len()].clone(), current.refresh.clone());
                tokio::spawn(async move { api.refresh(&token).await })
            })
            .collect();
        let mut answers = Vec::new();
        for r in racers {
            answers.push(r.await.expect("a racer panicked"));
        }
        let ms = start.elapsed().as_millis();
        let ok = answers.iter().filter(|r| r.status == 200).count();
        let refresh: BTreeSet<String> = answers
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| Tokens::from_json(&r.json()).refresh)
            .collect();
        let line = format!(
            "round {round}: {ok}/{width} answered 200, {} distinct refresh token(s), {ms} ms",
            refresh.len()
        );
        println!("{line}");
        for r in &answers {
            r.expect(200);
        }
        assert_eq!(refresh.len(), 1, "{line}");
        let next = Tokens::from_json(&answers[0].json());
        assert_ne!(next.refresh, current.refresh, "round {round} rotated");
        // Every racer's access token is its own and works.
        let access: BTreeSet<String> = answers
            .iter()
            .map(|r| Tokens::from_json(&r.json()).access)
            .collect();
        assert_eq!(access.len(), width, "fresh access tokens");
        apis[0].profile(&next.access).await.expect(200);
        current = next;
        figures.push(line);
    }
    // The login lives on: its current token still rotates.
    apis[0].refresh(&current.refresh).await.expect(200);
    figures
}

#[tokio::test]
async fn parallel_refreshes_of_one_token_end_on_one_chain() {
    let (ctx, _, t) = Ctx::creator().await;
    race_rounds(std::slice::from_ref(&ctx.api), 8, 5, t).await;
}

/// The same with HS256 signing (its own signing path).
#[tokio::test]
async fn parallel_refreshes_end_on_one_chain_with_hs256() {
    let Some((ctx, _, t)) = Ctx::creator_with(ServerConfig::Hs256).await else {
        return;
    };
    race_rounds(std::slice::from_ref(&ctx.api), 8, 2, t).await;
}

/// Two gatehouse processes on one database, the racers split between them.
#[tokio::test]
async fn parallel_refreshes_through_two_processes_end_on_one_chain() {
    let ctx = Ctx::new();
    let second = match ctx.server.second_process() {
        Ok(s) => s,
        Err(Skip(reason)) => {
            eprintln!("SKIP parallel_refreshes_through_two_processes_end_on_one_chain: {reason}");
            return;
        }
    };
    let other = Api::new(&second, &ctx.creds);
    let (_, t) = ctx.api.new_creator().await;
    race_rounds(&[ctx.api.clone(), other], 8, 5, t).await;
}

/// A refresh whose answer was lost is sent again with the same token: it
/// gets the tokens the first one would have given (the same refresh token,
/// a new access token), and the chain goes on from there.
#[tokio::test]
async fn a_retried_refresh_gets_the_same_refresh_token() {
    let (ctx, _, a) = Ctx::creator().await;
    let lost = ctx.api.refresh_ok(&a.refresh).await;
    let b = ctx.api.refresh_ok(&a.refresh).await;
    assert_eq!(b.refresh, lost.refresh, "the same refresh token");
    assert_ne!(b.access, lost.access, "a fresh access token");
    let (cl, cb) = (jwt::claims(&lost.access), jwt::claims(&b.access));
    assert_ne!(cl["jti"], cb["jti"]);
    assert_eq!(cl["sid"], cb["sid"]);
    ctx.api.profile(&b.access).await.expect(200);
    ctx.api.profile(&lost.access).await.expect(200);
    let c = ctx.api.refresh(&b.refresh).await;
    c.expect(200);
    ctx.api
        .refresh(&Tokens::from_json(&c.json()).refresh)
        .await
        .expect(200);
}

/// A token two rotations old is a replay however soon it comes back: the
/// login is revoked, its current token with it. Holds at any grace, so on
/// every host.
#[tokio::test]
async fn a_grandparent_token_revokes_the_family_at_once() {
    let (ctx, u, a) = Ctx::creator().await;
    let other_login = ctx.api.login_ok(&u).await;
    let b = ctx.api.refresh_ok(&a.refresh).await;
    let c = ctx.api.refresh_ok(&b.refresh).await;
    ctx.api.refresh_refused(&a.refresh).await;
    ctx.api.refresh_refused(&c.refresh).await;
    // B, the parent, inside the grace: the family is gone, no reissue.
    ctx.api.refresh_refused(&b.refresh).await;
    ctx.api.profile_refused(&c.access).await;
    // Another login of the same user is another family: unaffected.
    ctx.api.refresh(&other_login.refresh).await.expect(200);
}

/// After the window, the parent is a replay: the login is revoked.
#[tokio::test]
async fn the_parent_after_the_window_revokes_the_family() {
    let Some((server, grace)) =
        short_grace_server("the_parent_after_the_window_revokes_the_family")
    else {
        return;
    };
    let ctx = Ctx::on(server);
    let (_, a) = ctx.api.new_creator().await;
    let b = ctx.api.refresh_ok(&a.refresh).await;
    // Waiting on time itself: the window is measured on the server's clock
    // from the rotation, which happened before the answer came back.
    tokio::time::sleep(grace + Duration::from_millis(200)).await;
    ctx.api.refresh_refused(&a.refresh).await;
    ctx.api.refresh_refused(&b.refresh).await;
}

/// After a logout inside the window, the parent gets nothing.
#[tokio::test]
async fn the_parent_of_a_logged_out_login_is_refused() {
    let (ctx, _, a) = Ctx::creator().await;
    let b = ctx.api.refresh_ok(&a.refresh).await;
    ctx.api.logout(&b.access, &b.refresh).await.expect(200);
    ctx.api.refresh_refused(&a.refresh).await;
}

/// The parent is still bound to its client: another client's key gets
/// nothing, and the login is not harmed.
#[tokio::test]
async fn the_parent_with_another_clients_key_is_refused() {
    let (ctx, _, a) = Ctx::creator().await;
    let b = ctx.api.refresh_ok(&a.refresh).await;
    let (_, other) = ctx.client(&ClientSpec::web());
    other.refresh_refused(&a.refresh).await;
    ctx.api.refresh(&b.refresh).await.expect(200);
}
