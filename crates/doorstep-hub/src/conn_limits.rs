//! Bounded work per connection, on both listeners (plain and TLS): at most
//! [`MAX_CONNECTIONS`] at once (the next waits in the kernel's queue), a connection's first
//! request must finish its headers within [`HEADER_DEADLINE`], and a connection that sends
//! nothing for [`IDLE_TIMEOUT`] is closed. A client holding half-sent requests open
//! (slowloris) ties up a slot for seconds, not for ever.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connections served at once; with systemd's `LimitNOFILE=8192` (deploy/) this leaves room for
/// the database and the log.
pub const MAX_CONNECTIONS: usize = 1024;
/// From accepting a connection to the end of its first request's headers.
pub const HEADER_DEADLINE: Duration = Duration::from_secs(10);
/// Silence from the client (between requests, or in a body) before the connection is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The limits, as a listener applies them (tests shorten the times).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_deadline: Duration,
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: MAX_CONNECTIONS,
            header_deadline: HEADER_DEADLINE,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

/// A listener whose connections are counted and timed.
pub struct Guarded<L> {
    inner: L,
    slots: Arc<Semaphore>,
    limits: ConnectionLimits,
}

impl<L> Guarded<L> {
    pub fn new(inner: L, limits: ConnectionLimits) -> Guarded<L> {
        Guarded { inner, slots: Arc::new(Semaphore::new(limits.max_connections.max(1))), limits }
    }
}

impl<L> Listener for Guarded<L>
where
    L: Listener<Addr = SocketAddr>,
{
    type Io = GuardedIo<L::Io>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Wait for a free slot before taking the next connection: beyond the cap, clients wait
        // in the kernel's backlog instead of costing the hub memory.
        let permit = match self.slots.clone().acquire_owned().await {
            Ok(permit) => permit,
            // The semaphore is never closed; if it were, stop accepting.
            Err(_) => std::future::pending().await,
        };
        let (io, address) = self.inner.accept().await;
        let deadline = Box::pin(tokio::time::sleep(self.limits.header_deadline));
        let io = GuardedIo {
            inner: io,
            _slot: permit,
            deadline,
            idle: self.limits.idle_timeout,
            header_end: 0,
            headers_done: false,
        };
        (io, address)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection with a deadline: the first request's headers by [`ConnectionLimits::header_deadline`],
/// then no more than [`ConnectionLimits::idle_timeout`] between the client's bytes.
pub struct GuardedIo<T> {
    inner: T,
    _slot: OwnedSemaphorePermit,
    deadline: Pin<Box<Sleep>>,
    idle: Duration,
    /// How much of "\r\n\r\n" (the end of the headers) the bytes so far end with.
    header_end: usize,
    headers_done: bool,
}

impl<T> GuardedIo<T> {
    /// Notes bytes read: the headers' end, and (once past it) a fresh idle deadline.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if !self.headers_done {
            const END: &[u8] = b"\r\n\r\n";
            for &b in bytes {
                self.header_end = if b == END[self.header_end] {
                    self.header_end + 1
                } else if b == END[0] {
                    1
                } else {
                    0
                };
                if self.header_end == END.len() {
                    self.headers_done = true;
                    break;
                }
            }
        }
        if self.headers_done {
            self.deadline.as_mut().reset(Instant::now() + self.idle);
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let filled = buf.filled()[before..].to_vec();
                self.saw(&filled);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    if self.headers_done {
                        "the client was silent too long"
                    } else {
                        "the request headers took too long"
                    },
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_the_headers_is_found_across_reads() {
        let limits = ConnectionLimits::default();
        let slots = Arc::new(Semaphore::new(1));
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        rt.block_on(async {
            let permit = slots.clone().acquire_owned().await.expect("slot");
            let mut io = GuardedIo {
                inner: tokio::io::empty(),
                _slot: permit,
                deadline: Box::pin(tokio::time::sleep(limits.header_deadline)),
                idle: limits.idle_timeout,
                header_end: 0,
                headers_done: false,
            };
            io.saw(b"GET / HTTP/1.1\r\nHost: x\r");
            assert!(!io.headers_done);
            io.saw(b"\n\r");
            assert!(!io.headers_done);
            io.saw(b"\nbody");
            assert!(io.headers_done);
        });
    }
}
