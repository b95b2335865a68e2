//! Webhooks survive a crash: events committed while the receiver was down,
//! then the server SIGKILLed before it could deliver them, all arrive once
//! the server is back — signed, each with its own stable id. And the CLI's
//! `webhooks add|list|remove`.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::binary::gatehouse;

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    let out = gatehouse(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn serve(dir: &std::path::Path) -> Child {
    let flags = ["--outbound-allow", "127.0.0.1", "--mail-retry-secs", "1"];
    support::binary::serve(gatehouse(dir), &flags, Stdio::null())
}

/// Received `(webhook-id, body)` by the minimal receiver on `listener`,
/// which answers 200 to every verified POST.
type Received = Arc<Mutex<Vec<(String, String)>>>;

fn receive(listener: TcpListener, key: Vec<u8>) -> Received {
    let got: Received = Arc::default();
    let out = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut headers = HashMap::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap_or(0);
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
            }
            let len: usize = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap_or(());
            let id = headers.get("webhook-id").cloned().unwrap_or_default();
            let ts: i64 = headers
                .get("webhook-timestamp")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let good = headers.get("webhook-signature").map(String::as_str)
                == Some(&gatehouse_core::webhook::sign(&key, &id, ts, &body));
            let status = if good { "200 OK" } else { "400 Bad Request" };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            if good {
                out.lock()
                    .unwrap()
                    .push((id, String::from_utf8_lossy(&body).into_owned()));
            }
        }
    });
    got
}

#[test]
fn events_committed_before_a_sigkill_are_all_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    // The receiver's port, closed until after the crash.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    run(dir.path(), &["migrate"]);
    let added = run(
        dir.path(),
        &[
            "webhooks",
            "add",
            &url,
            "--events",
            "user.created",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    let secret = gatehouse_core::webhook::Secret(v["secret"].as_str().unwrap().to_owned());
    let listed = run(dir.path(), &["webhooks", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains(&url) && !listed.contains("whsec_"),
        "{listed}"
    );

    let mut server = serve(dir.path());
    const N: usize = 5;
    for i in 0..N {
        run(
            dir.path(),
            &[
                "create-user",
                "--email",
                &format!("crash{i}@example.com"),
                "--username",
                &format!("crash{i}"),
                "--password",
                "a-Long-enough-passw0rd!",
                "--type",
                "creator",
            ],
        );
    }
    // The receiver is down: every attempt so far failed. Crash.
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();

    let got = receive(
        TcpListener::bind(("127.0.0.1", port)).unwrap(),
        secret.key().unwrap(),
    );
    let mut server = serve(dir.path());
    let start = Instant::now();
    // A claim the crash left behind comes back after its lease (90 s).
    while got.lock().unwrap().len() < N && start.elapsed() < Duration::from_secs(150) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    let got = got.lock().unwrap().clone();
    let mut ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), N, "every event, each once by id: {got:?}");
    assert!(got.iter().all(|(_, b)| b.contains("\"user.created\"")));

    let removed = run(
        dir.path(),
        &["webhooks", "remove", v["id"].as_str().unwrap()],
    );
    assert!(String::from_utf8_lossy(&removed.stdout).contains("removed"));
    let listed = run(dir.path(), &["webhooks", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("no webhook endpoints"));
}
