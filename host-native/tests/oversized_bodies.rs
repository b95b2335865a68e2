//! A body over the 64 KiB limit, on one raw keep-alive connection to the
//! binary: up to 1 MiB of it is read and dropped, so the early answer
//! arrives and the connection carries the next request; a larger one is
//! left unread and the answer says `Connection: close` (src/body.rs).
//! Behind nginx the unread case turned a 404 into a 502 (a reset
//! overtaking the answer).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use support::binary::{gatehouse, serve_at};

struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = serve_at(gatehouse(dir.path()), &[], Stdio::null());
    Server {
        child,
        addr,
        _dir: dir,
    }
}

/// One answer read off the connection: status, lower-cased headers, body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        let found = self.headers.iter().find(|(k, _)| k == name);
        found.map(|(_, v)| v.as_str())
    }

    fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

fn read_answer(conn: &mut BufReader<TcpStream>) -> Answer {
    let mut line = String::new();
    conn.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        conn.read_line(&mut line).unwrap();
        let Some((k, v)) = line.trim_end().split_once(':') else {
            break; // the empty line
        };
        headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; len];
    conn.read_exact(&mut body).unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

fn connect(addr: &str) -> BufReader<TcpStream> {
    let conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    BufReader::new(conn)
}

/// Sends a JSON POST declaring `declared` bytes and then `sent` of them.
fn post(conn: &mut BufReader<TcpStream>, path: &str, declared: usize, sent: usize) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\n\r\n"
    );
    let stream = conn.get_mut();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&vec![b' '; sent]).unwrap();
}

fn health(conn: &mut BufReader<TcpStream>) -> Answer {
    let get = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
    conn.get_mut().write_all(get.as_bytes()).unwrap();
    read_answer(conn)
}

#[test]
fn an_oversized_body_is_read_and_the_connection_kept() {
    let s = server();
    let mut conn = connect(&s.addr);
    // Unknown route: 404 (the route comes before the size), then the
    // key check's 401: each answered, each time on the same connection.
    for (path, status, code) in [
        ("/api/auth/nope/", 404, "not_found"),
        ("/api/auth/register/", 401, "api_key_missing"),
    ] {
        post(&mut conn, path, 70_000, 70_000);
        let a = read_answer(&mut conn);
        assert_eq!(a.status, status, "{path}: {}", a.body);
        assert!(a.body.contains(code), "{path}: {}", a.body);
        assert!(!a.closes(), "{path}: drained, the connection stays open");
        assert_eq!(health(&mut conn).status, 200, "after {path}");
    }
    // Exactly 1 MiB is still drained.
    post(&mut conn, "/api/auth/nope/", 1 << 20, 1 << 20);
    let a = read_answer(&mut conn);
    assert_eq!(a.status, 404, "{}", a.body);
    assert!(!a.closes());
    assert_eq!(health(&mut conn).status, 200, "after 1 MiB");
}

#[test]
fn a_body_past_a_mebibyte_is_left_unread_and_the_connection_closed() {
    let s = server();
    let mut conn = connect(&s.addr);
    // Declared one byte past 1 MiB; only the head is sent: the answer
    // comes without waiting for a body the server will not read.
    post(&mut conn, "/api/auth/nope/", (1 << 20) + 1, 0);
    let a = read_answer(&mut conn);
    assert_eq!(a.status, 404, "{}", a.body);
    assert!(a.closes(), "unread: the connection must be closed");
    let mut rest = Vec::new();
    let eof = conn.read_to_end(&mut rest).unwrap();
    assert_eq!(eof, 0, "nothing after the answer, then end of stream");
}
