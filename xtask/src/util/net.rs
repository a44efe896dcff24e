//! Loopback networking helpers: free ports and bounded connection attempts.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use anyhow::{Context as _, Result};

/// How long one probe may take before the service counts as not answering.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// `count` distinct loopback ports that are free right now: bind `127.0.0.1:0` that many times
/// at once, read the ports, release them. (Another process could take one before the service
/// binds it; callers retry on "in use".)
pub(crate) fn free_ports(count: usize) -> Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| {
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .with_context(|| "binding 127.0.0.1:0 to find a free port".to_owned())
        })
        .collect::<Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|listener| {
            listener
                .local_addr()
                .map(|addr| addr.port())
                .with_context(|| "reading the free port".to_owned())
        })
        .collect()
}

/// `127.0.0.1:<port>`.
pub(crate) fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// A TCP connection with read/write timeouts, or `None` if nothing accepts at `addr`.
pub(crate) fn connect(addr: SocketAddr) -> Option<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).ok()?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT)).ok()?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT)).ok()?;
    Some(stream)
}
