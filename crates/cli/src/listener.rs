//! The server's listener with limits: at most `total` connections at once, at most `per_client`
//! from one address, and a connection that neither sends nor takes a byte for `idle` is closed
//! (a client that opens connections and stalls mid-header cannot hold them, nor the file
//! descriptors behind them).
//!
//! It also gives the few errors hyper answers itself, before a request reaches the API (a
//! request line or header block over hyper's limits: 414, 431; a request that is not HTTP:
//! 400), a problem+json body like every other error ([`problem_for_hyper_error`]).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// How many connections, from whom, and for how long without a byte.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub total: usize,
    /// 0: no per-client limit (behind a reverse proxy every client has the proxy's address).
    pub per_client: usize,
    pub idle: Duration,
}

pub struct LimitedListener {
    inner: TcpListener,
    limits: Limits,
    open: Arc<Semaphore>,
    by_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl LimitedListener {
    pub fn new(inner: TcpListener, limits: Limits) -> LimitedListener {
        LimitedListener {
            inner,
            limits,
            open: Arc::new(Semaphore::new(limits.total.max(1))),
            by_client: Arc::default(),
        }
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = Limited;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Limited, SocketAddr) {
        loop {
            // At the cap, wait for a connection to close; new ones wait in the kernel's backlog.
            let permit = self.open.clone().acquire_owned().await.expect("the semaphore is never closed");
            let (stream, addr) = match self.inner.accept().await {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let ip = addr.ip();
            if self.limits.per_client > 0 {
                let mut m = self.by_client.lock();
                let n = m.entry(ip).or_default();
                if *n >= self.limits.per_client {
                    // Closed at once: one address cannot take every connection.
                    drop(stream);
                    tracing::warn!(limit = self.limits.per_client, "a client is at its connection limit");
                    continue;
                }
                *n += 1;
            }
            let _ = stream.set_nodelay(true);
            let client = (self.limits.per_client > 0).then(|| ClientSlot { by_client: self.by_client.clone(), ip });
            let io = Limited {
                stream,
                pending: Vec::new(),
                idle: self.limits.idle,
                deadline: Box::pin(tokio::time::sleep(self.limits.idle)),
                _permit: permit,
                _client: client,
            };
            return (io, addr);
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Gives a client's connection slot back when its connection closes.
struct ClientSlot {
    by_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut m = self.by_client.lock();
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// A connection that is closed after `idle` without progress in either direction.
pub struct Limited {
    stream: TcpStream,
    /// Bytes accepted from hyper but not yet written (a rewritten error response).
    pending: Vec<u8>,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    _permit: OwnedSemaphorePermit,
    _client: Option<ClientSlot>,
}

impl Limited {
    fn progressed(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
    }

    /// A write's outcome, counting bytes taken as progress and a stall against the deadline.
    fn wrote(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    self.progressed();
                }
                Poll::Ready(r)
            }
            Poll::Pending => self.idle_out(cx).map(Err),
        }
    }

    /// `Pending` unless the idle deadline has passed.
    fn idle_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, "idle connection closed")),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Limited {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.progressed();
                }
                Poll::Ready(r)
            }
            Poll::Pending => self.idle_out(cx).map(Err),
        }
    }
}

impl Limited {
    /// Write what is pending; `Ready(Ok)` once nothing is.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let polled = Pin::new(&mut self.stream).poll_write(cx, &self.pending);
            match self.wrote(cx, polled) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.pending.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Limited {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        if let Some(problem) = problem_for_hyper_error(data) {
            self.pending = problem;
            return Poll::Ready(Ok(data.len()));
        }
        let polled = Pin::new(&mut self.stream).poll_write(cx, data);
        self.wrote(cx, polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.stream).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.stream).poll_shutdown(cx),
            other => other,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.pending.is_empty() || bufs.len() == 1 {
            // One buffer (hyper's own error responses come so) or something pending: the plain path.
            let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
            return self.poll_write(cx, first);
        }
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// hyper answers a request it cannot parse itself, with a head and no body: a status line and
/// exactly `connection: close`, `content-length: 0` and `date`. Such a head is given a problem
/// body; any other bytes (every response of the API has a content type) are left alone.
pub fn problem_for_hyper_error(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() > 512 || !data.starts_with(b"HTTP/1.1 ") || !data.ends_with(b"\r\n\r\n") {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    let mut lines = text.trim_end().split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.get(9..12)?.parse().ok()?;
    if !(400..600).contains(&status) {
        return None;
    }
    let mut names = Vec::new();
    let mut date = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "content-length" if value.trim() == "0" => {}
            "connection" if value.trim().eq_ignore_ascii_case("close") => {}
            "date" => date = Some(value.trim().to_string()),
            _ => return None,
        }
        names.push(name);
    }
    names.sort();
    if names != ["connection", "content-length", "date"] {
        return None;
    }
    let (kind, title, detail) = match status {
        414 => ("/problems/uri-too-long", "URI too long", "the request target is longer than the server reads"),
        431 => (
            "/problems/headers-too-large",
            "Request header fields too large",
            "the request has more header fields, or longer ones, than the server reads",
        ),
        400 => ("/problems/bad-request", "Bad request", "the request is not well-formed HTTP/1.1"),
        _ => ("/problems/protocol", "Protocol error", "the request could not be served"),
    };
    let body = serde_json::json!({"type": kind, "title": title, "status": status, "detail": detail}).to_string();
    let mut out = format!(
        "{status_line}\r\ncontent-type: application/problem+json\r\nx-content-type-options: nosniff\r\n\
         connection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    if let Some(d) = date {
        out.push_str(&format!("date: {d}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_own_errors_get_a_problem_body_and_nothing_else_is_touched() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 19:06:22 GMT\r\n\r\n";
        let out = String::from_utf8(problem_for_hyper_error(head).unwrap()).unwrap();
        let (h, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(h.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{h}");
        assert!(h.contains("content-type: application/problem+json") && h.contains("date: Wed, 02 Dec 2026"));
        assert!(h.contains(&format!("content-length: {}", body.len())), "{h}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!((v["status"].as_u64(), v["type"].as_str()), (Some(431), Some("/problems/headers-too-large")));
        // The API's own responses carry a content type: left alone. So is a 200, and a body.
        let api = b"HTTP/1.1 414 URI Too Long\r\ncontent-type: application/problem+json\r\ncontent-length: 9\r\n\r\n";
        assert!(problem_for_hyper_error(api).is_none());
        let ok = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert!(problem_for_hyper_error(ok).is_none());
        assert!(problem_for_hyper_error(b"{\"results\": []}").is_none());
    }
}
