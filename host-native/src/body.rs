//! Reading a request body within the core's limit.
//!
//! A body over [`MAX_BODY_BYTES`] is not kept, but up to [`MAX_DRAINED_BYTES`]
//! of it is still read and thrown away, so the connection can carry the
//! answer and the next request. A host that answers early and closes with
//! the body unread makes its kernel reset the connection, and the reset can
//! overtake the answer: a proxy that is still sending the body (nginx with
//! `proxy_request_buffering off`) then reports 502 instead of the 404 or 413
//! (RFC 9112 §9.6 asks servers for this "lingering" read for the same
//! reason). hyper only drains what it has already buffered, so the read is
//! ours.

use bytes::{Bytes, BytesMut};
use gatehouse_core::config::MAX_BODY_BYTES;
use http::{header, HeaderMap};
use http_body_util::BodyExt;
use hyper::body::Body;

/// The core's limit, as the byte counts below count.
const LIMIT: u64 = MAX_BODY_BYTES as u64;

/// How much of a body over the limit is read and discarded before the
/// answer. Past this the connection is closed instead: reading more would
/// spend bandwidth on a client that is not using the API.
pub const MAX_DRAINED_BYTES: u64 = 1024 * 1024;

/// What reading a request body gave.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadBody {
    /// The whole body, within the limit.
    Within(Bytes),
    /// Over the limit. `drained`: the rest was read to its end, so the
    /// connection may carry another request; otherwise it must be closed.
    TooLarge { drained: bool },
    /// The client broke off mid-body.
    Broken,
}

/// Reads `body` under the limit. A body declared (`Content-Length`) over
/// [`MAX_DRAINED_BYTES`], or over the limit behind `Expect: 100-continue`,
/// is not read at all: reading would invite it.
pub async fn read<B>(headers: &HeaderMap, body: B) -> ReadBody
where
    B: Body<Data = Bytes> + Unpin,
{
    let declared = declared_length(headers);
    if let Some(n) = declared.filter(|&n| n > LIMIT) {
        if n > MAX_DRAINED_BYTES || expects_continue(headers) {
            return ReadBody::TooLarge { drained: false };
        }
    }
    let mut body = body;
    let mut kept = Kept::default();
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return ReadBody::Broken;
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers: nothing the core reads
        };
        seen += data.len() as u64;
        if seen > MAX_DRAINED_BYTES {
            return ReadBody::TooLarge { drained: false };
        }
        if seen <= LIMIT {
            kept.push(data);
        } else {
            kept = Kept::default(); // over: nothing is kept
        }
    }
    if seen > LIMIT {
        ReadBody::TooLarge { drained: true }
    } else {
        ReadBody::Within(kept.into_bytes())
    }
}

/// The body's pieces so far, at most [`MAX_BODY_BYTES`]: one piece is kept
/// as it came (the usual case: no copy), more are joined. By hand because
/// http-body-util's `Collected` takes frames only inside its crate, and its
/// `Limited` drops the body at the limit, where the drain must go on
/// counting every byte.
#[derive(Default)]
enum Kept {
    #[default]
    Empty,
    One(Bytes),
    Joined(BytesMut),
}

impl Kept {
    fn push(&mut self, data: Bytes) {
        *self = match std::mem::take(self) {
            Kept::Empty => Kept::One(data),
            Kept::One(first) => {
                let mut joined = BytesMut::with_capacity(first.len() + data.len());
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&data);
                Kept::Joined(joined)
            }
            Kept::Joined(mut joined) => {
                joined.extend_from_slice(&data);
                Kept::Joined(joined)
            }
        };
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Kept::Empty => Bytes::new(),
            Kept::One(b) => b,
            Kept::Joined(b) => b.freeze(),
        }
    }
}

/// The `Content-Length` the client declared, if any and well-formed.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};
    use hyper::body::Frame;
    use std::convert::Infallible;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), v.parse().expect("header value"));
        }
        h
    }

    /// A body sent in `chunks` pieces of `size` bytes, with no declared length.
    fn chunked(size: usize, chunks: usize) -> impl Body<Data = Bytes, Error = Infallible> + Unpin {
        let frames = (0..chunks).map(move |_| Ok(Frame::data(Bytes::from(vec![b'x'; size]))));
        StreamBody::new(futures::stream::iter(frames))
    }

    /// A body whose second read fails, as when the client hangs up.
    fn broken() -> impl Body<Data = Bytes, Error = std::io::Error> + Unpin {
        let frames = vec![
            Ok(Frame::data(Bytes::from_static(b"{\"a\":"))),
            Err(std::io::Error::other("reset")),
        ];
        StreamBody::new(futures::stream::iter(frames))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_kept_whole() {
        let exact = Bytes::from(vec![b'y'; MAX_BODY_BYTES]);
        let h = headers(&[(header::CONTENT_LENGTH, &MAX_BODY_BYTES.to_string())]);
        assert_eq!(
            read(&h, Full::new(exact.clone())).await,
            ReadBody::Within(exact)
        );
        let got = read(&HeaderMap::new(), chunked(1000, 65)).await;
        assert_eq!(got, ReadBody::Within(Bytes::from(vec![b'x'; 65_000])));
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_read_to_its_end_and_dropped() {
        // Declared: one byte over.
        let n = MAX_BODY_BYTES + 1;
        let h = headers(&[(header::CONTENT_LENGTH, &n.to_string())]);
        let got = read(&h, Full::new(Bytes::from(vec![b' '; n]))).await;
        assert_eq!(got, ReadBody::TooLarge { drained: true });
        // Undeclared (chunked), up to the drain cap exactly.
        let got = read(&HeaderMap::new(), chunked(64 * 1024, 16)).await;
        assert_eq!(got, ReadBody::TooLarge { drained: true });
    }

    #[tokio::test]
    async fn a_body_past_the_drain_cap_is_left_unread() {
        // Declared over the cap: not a byte is read (read, this empty body
        // would come back as `Within`).
        let over = (MAX_DRAINED_BYTES + 1).to_string();
        let h = headers(&[(header::CONTENT_LENGTH, &over)]);
        let got = read(&h, Full::new(Bytes::new())).await;
        assert_eq!(got, ReadBody::TooLarge { drained: false });
        // Undeclared: reading stops once the cap is passed.
        let got = read(&HeaderMap::new(), chunked(64 * 1024, 17)).await;
        assert_eq!(got, ReadBody::TooLarge { drained: false });
    }

    #[tokio::test]
    async fn over_the_limit_behind_expect_continue_is_not_invited() {
        let h = headers(&[
            (header::CONTENT_LENGTH, "70000"),
            (header::EXPECT, "100-Continue"),
        ]);
        let got = read(&h, Full::new(Bytes::new())).await;
        assert_eq!(got, ReadBody::TooLarge { drained: false });
        // Within the limit, Expect changes nothing.
        let h = headers(&[
            (header::CONTENT_LENGTH, "2"),
            (header::EXPECT, "100-continue"),
        ]);
        let got = read(&h, Full::new(Bytes::from_static(b"{}"))).await;
        assert_eq!(got, ReadBody::Within(Bytes::from_static(b"{}")));
    }

    #[test]
    fn declared_length_parses() {
        let h = headers(&[(header::CONTENT_LENGTH, "70000")]);
        assert_eq!(declared_length(&h), Some(70000));
        let h = headers(&[(header::CONTENT_LENGTH, "x")]);
        assert_eq!(declared_length(&h), None);
        assert_eq!(declared_length(&HeaderMap::new()), None);
    }

    #[tokio::test]
    async fn a_broken_body_is_reported() {
        assert_eq!(read(&HeaderMap::new(), broken()).await, ReadBody::Broken);
    }
}
