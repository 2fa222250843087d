//! What one payer may keep: each limit, and the check that refuses past it with a 4xx that
//! names it.

use crate::error::ApiError;
use crate::time::now_ms;

/// The longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// The longest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// The longest metadata, as encoded JSON.
pub const MAX_METADATA_BYTES: usize = 4 * 1024;
/// Keys a payer may keep.
pub const MAX_KEYS: u64 = 10_000;
/// The longest paste, in bytes.
pub const MAX_PASTE_BYTES: usize = 256 * 1024;
/// The longest paste title.
pub const MAX_TITLE_BYTES: usize = 200;
/// The longest paste language name.
pub const MAX_LANGUAGE_BYTES: usize = 32;
/// Pastes a payer may keep.
pub const MAX_PASTES: u64 = 1_000;
/// The shortest time to live, in seconds.
pub const MIN_TTL_SECS: u64 = 1;
/// The longest time to live: 30 days.
pub const MAX_TTL_SECS: u64 = 30 * 86_400;
/// The most rows one listing returns.
pub const MAX_PAGE: u32 = 1_000;
/// Rows a listing returns when not told.
pub const DEFAULT_PAGE: u32 = 100;

/// `text` is at most `max` bytes.
pub fn check_len(field: &str, text: &str, max: usize) -> Result<(), ApiError> {
    if text.len() > max {
        return Err(ApiError::too_large(format!(
            "{field} is {} bytes: at most {max}",
            text.len()
        )));
    }
    Ok(())
}

/// A key: 1 to [`MAX_KEY_BYTES`] bytes, no control characters.
pub fn check_key(key: &str) -> Result<(), ApiError> {
    check_identifier("key", key)
}

/// A name of something kept (`field`): 1 to [`MAX_KEY_BYTES`] bytes, no control characters.
pub fn check_identifier(field: &str, text: &str) -> Result<(), ApiError> {
    if text.is_empty() || text.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{field}: 1 to {MAX_KEY_BYTES} bytes of text, no control characters"
        )));
    }
    check_len(field, text, MAX_KEY_BYTES)
}

/// When something kept for `ttl` seconds expires, in ms since the epoch.
pub fn expiry(ttl: Option<u64>) -> Result<Option<i64>, ApiError> {
    match ttl {
        None => Ok(None),
        Some(secs @ MIN_TTL_SECS..=MAX_TTL_SECS) => Ok(Some(
            now_ms() + i64::try_from(secs * 1000).unwrap_or(i64::MAX),
        )),
        Some(secs) => Err(ApiError::bad_request(format!(
            "ttl {secs}: between {MIN_TTL_SECS} and {MAX_TTL_SECS} seconds"
        ))),
    }
}

/// A listing's size: 1 to [`MAX_PAGE`], [`DEFAULT_PAGE`] when not told.
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        n @ 1..=MAX_PAGE => Ok(n),
        n => Err(ApiError::bad_request(format!(
            "limit {n}: between 1 and {MAX_PAGE}"
        ))),
    }
}

/// Memories a payer may keep.
pub const MAX_MEMORIES: u64 = 10_000;
/// The longest memory text, in bytes (the model reads its first 256 tokens).
pub const MAX_MEMORY_TEXT_BYTES: usize = 8 * 1024;
/// Memories one store or delete may name.
pub const MAX_MEMORY_BATCH: usize = 100;
/// The most results one search returns.
pub const MAX_SEARCH_RESULTS: u32 = 100;
/// Results a search returns when not told.
pub const DEFAULT_SEARCH_RESULTS: u32 = 10;
