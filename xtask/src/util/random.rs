//! Random test-only secrets (SCRAM passwords, the client key's password), fresh per
//! `services up`, from the operating system's generator.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read as _;

use anyhow::{Context as _, Result};

/// `bytes` random bytes from `/dev/urandom` as lower-case hex (`2 * bytes` characters).
pub(crate) fn hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0_u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut urandom| urandom.read_exact(&mut buf))
        .with_context(|| "reading /dev/urandom".to_owned())?;
    Ok(buf.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_fresh_hex_of_the_asked_length() {
        let (a, b) = (hex(16).unwrap(), hex(16).unwrap());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
