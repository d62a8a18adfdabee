//! go-plugin's launch contract: the magic cookie, protocol version negotiation, the listener and the
//! one handshake line on stdout (`1|6|unix|/tmp/.../plugin.sock|grpc|<cert>`).
//!
//! Nothing here touches AWS or the network beyond a loopback listener, so the line is printed within
//! milliseconds of start-up.

use std::path::{Path, PathBuf};

use tokio::net::{TcpListener, UnixListener};

/// go-plugin's core protocol version (field 1 of the handshake line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The plugin protocol version this provider speaks (field 2).
pub const APP_PROTOCOL_VERSION: u32 = 6;
/// Terraform's magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// What a go-plugin server prints when it is run by hand.
pub const NOT_A_PROGRAM: &str =
    "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically";

/// Why the plugin cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// Run by hand (no or a wrong magic cookie).
    #[error("{NOT_A_PROGRAM}")]
    NotAPlugin,
    #[error("Incompatible API version with plugin. Plugin version: {APP_PROTOCOL_VERSION}, Client versions: {0}")]
    NoCommonVersion(String),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// Checks the magic cookie.
pub fn check_cookie(value: Option<&str>) -> Result<(), HandshakeError> {
    match value {
        Some(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(HandshakeError::NotAPlugin),
    }
}

/// Picks protocol 6 from `PLUGIN_PROTOCOL_VERSIONS` (`5,6`); an absent variable means the client's
/// single configured version, which go-plugin then takes from the handshake config: accept it.
pub fn negotiate(versions: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(list) = versions.filter(|v| !v.trim().is_empty()) else {
        return Ok(APP_PROTOCOL_VERSION);
    };
    if list
        .split(',')
        .any(|v| v.trim().parse::<u32>().ok() == Some(APP_PROTOCOL_VERSION))
    {
        Ok(APP_PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::NoCommonVersion(list.to_string()))
    }
}

/// Where the plugin listens.
pub enum Listener {
    /// A unix socket in a private directory (removed again by [`Listener::cleanup`]).
    Unix {
        listener: UnixListener,
        dir: PathBuf,
        path: PathBuf,
    },
    Tcp(TcpListener),
}

impl Listener {
    /// A unix socket `plugin.sock` of mode 0600 in a fresh directory of mode 0700 under
    /// `PLUGIN_UNIX_SOCKET_DIR` (as go-plugin honours) or the system temp directory. Both modes are
    /// set explicitly: bind(2) creates the socket with the process's umask only, which may leave it
    /// open to every user.
    pub fn unix(parent: Option<&Path>) -> Result<Listener, HandshakeError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let parent = parent
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let mut last = None;
        for _ in 0..16 {
            let dir = parent.join(format!("plugin-elasticache-{:016x}", rand::random::<u64>()));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    let path = dir.join("plugin.sock");
                    let listener = UnixListener::bind(&path)?;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
                    return Ok(Listener::Unix {
                        listener,
                        dir,
                        path,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last
            .map(HandshakeError::from)
            .unwrap_or(HandshakeError::NotAPlugin))
    }

    /// TCP on 127.0.0.1, on the first free port in `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT` (or any port).
    pub async fn tcp(min: Option<u16>, max: Option<u16>) -> Result<Listener, HandshakeError> {
        if let (Some(lo), Some(hi)) = (min, max) {
            for port in lo..=hi {
                if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
                    return Ok(Listener::Tcp(l));
                }
            }
        }
        Ok(Listener::Tcp(TcpListener::bind(("127.0.0.1", 0)).await?))
    }

    /// `(network, address)` for the handshake line.
    pub fn address(&self) -> (&'static str, String) {
        match self {
            Listener::Unix { path, .. } => ("unix", path.display().to_string()),
            Listener::Tcp(l) => (
                "tcp",
                l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            ),
        }
    }

    /// Removes the socket and its directory.
    pub fn cleanup(dir: Option<&Path>) {
        if let Some(dir) = dir {
            let _ = std::fs::remove_file(dir.join("plugin.sock"));
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The handshake line (without the newline). `cert_b64` is empty when serving plaintext.
pub fn line(version: u32, network: &str, address: &str, cert_b64: &str) -> String {
    format!("{CORE_PROTOCOL_VERSION}|{version}|{network}|{address}|grpc|{cert_b64}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn cookie_and_versions() {
        assert!(check_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert!(matches!(
            check_cookie(None),
            Err(HandshakeError::NotAPlugin)
        ));
        assert!(check_cookie(Some("nope")).is_err());
        assert_eq!(negotiate(Some("5,6")).ok(), Some(6));
        assert_eq!(negotiate(Some("6,5")).ok(), Some(6));
        assert!(negotiate(Some("5")).is_err());
        assert_eq!(negotiate(None).ok(), Some(6));
    }

    #[tokio::test]
    async fn unix_socket_lives_in_a_private_directory() {
        let l = Listener::unix(None).unwrap_or_else(|e| panic!("{e}"));
        let Listener::Unix { dir, path, .. } = &l else {
            panic!("not unix")
        };
        let mode = std::fs::metadata(dir)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o700);
        let socket_mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(socket_mode, 0o600, "socket mode {socket_mode:o}");
        let (net, addr) = l.address();
        assert_eq!(net, "unix");
        assert_eq!(
            line(6, net, &addr, "CERT"),
            format!("1|6|unix|{addr}|grpc|CERT")
        );
        let dir = dir.clone();
        drop(l);
        Listener::cleanup(Some(&dir));
        assert!(!dir.exists());
    }

    #[tokio::test]
    async fn tcp_listens_on_loopback_only() {
        let l = Listener::tcp(None, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let (net, addr) = l.address();
        assert_eq!(net, "tcp");
        assert!(addr.starts_with("127.0.0.1:"));
    }
}
