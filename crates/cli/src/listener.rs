//! The server's listener with limits: at most `total` connections at once, at most `per_client`
//! from one address, and a connection that neither sends nor takes a byte for `idle` is closed
//! (a client that opens connections and stalls mid-header cannot hold them, nor the file
//! descriptors behind them).

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

impl AsyncWrite for Limited {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, data);
        self.wrote(cx, polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
