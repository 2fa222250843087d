//! The testkit's error type.

/// What can stop the local chain from coming up or a helper from working.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tool (node, npm, anvil) is missing or failed.
    #[error("{tool}: {message}")]
    Tool {
        /// Which tool.
        tool: &'static str,
        /// What went wrong, and what to do about it.
        message: String,
    },
    /// Reading or writing the cache or the lock file failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The compiled contracts could not be read.
    #[error("compiled contracts: {0}")]
    Artifacts(String),
    /// A call to the node failed.
    #[error("rpc {method}: {message}")]
    Rpc {
        /// The JSON-RPC method or contract call.
        method: &'static str,
        /// What the node or the transport said.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn rpc(method: &'static str, err: impl std::fmt::Display) -> Self {
        Self::Rpc {
            method,
            message: err.to_string(),
        }
    }
}

/// `Result` with the testkit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
