//! The time payments are signed and checked against.

use std::time::{SystemTime, UNIX_EPOCH};

/// How far back a payer sets `validAfter`, so that its clock running ahead of the chain's does
/// not make the payment "not yet valid" (the reference clients before 2.27 used the same 10
/// minutes; 2.27 sets 0, which the facilitators accept as well).
pub(crate) const VALID_AFTER_SKEW_SECS: u64 = 600;

/// Seconds since 1970. A clock before 1970 reads as 1970: a payment then fails verification
/// with a clear reason instead of anything panicking.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
