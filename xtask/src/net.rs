//! Loopback networking helpers: free ports and bounded connection attempts.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::error::{Context as _, Result};

/// How long one probe may take before the service counts as not answering.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A loopback port that is free right now: bind `127.0.0.1:0`, read the port, release it.
/// (Another process could take it before the service binds it; callers retry on "in use".)
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context(|| "binding 127.0.0.1:0 to find a free port".to_owned())?;
    let port = listener
        .local_addr()
        .context(|| "reading the free port".to_owned())?
        .port();
    Ok(port)
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
