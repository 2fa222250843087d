//! The one error type of this crate: configuration mistakes found by `build()`, and the
//! failures of an access store.

/// What can go wrong while building a [`PaymentLayer`](crate::PaymentLayer) or using an
/// [`AccessStore`](crate::access::AccessStore).
///
/// A refused or missing payment is never an `Error`: it is a 402 response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The public base URL is not an absolute `http`/`https` URL.
    #[error("invalid public base url {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A route's path pattern cannot be parsed.
    #[error("invalid route path {pattern:?}: {reason}")]
    InvalidPath {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An offered requirement cannot be sent (it does not encode as a header).
    #[error("route {pattern:?} offers a requirement that cannot be encoded: {source}")]
    InvalidOffer {
        /// The route's pattern.
        pattern: String,
        /// Why.
        source: coinslot_core::Error,
    },
    /// A route's 402 would not fit in a header a client decodes (64 KiB): its offers, or
    /// their descriptions and `extra`, are too large.
    #[error("route {pattern:?} has a 402 too large for a header")]
    ChallengeTooLarge {
        /// The route's pattern.
        pattern: String,
    },
    /// An access store failed (its database is unreachable or corrupt).
    #[error("access store: {message}")]
    Store {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    #[cfg(feature = "sqlite")]
    pub(crate) fn store(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Store {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
