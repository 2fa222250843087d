//! Metered (`upto`) routes: the handler names what its request cost, a typed [`Charge`] in the
//! response extensions or the reference's `Settlement-Overrides` header, and the payment is
//! settled for that, never for more than the signed maximum.

use std::borrow::Cow;

use coinslot_core::charge::SETTLEMENT_OVERRIDES;
use coinslot_core::{Charge, VerifyRequest};
use http::{HeaderName, Response, StatusCode};

use crate::flow::Answer;
use crate::matching::Matched;
use crate::reject::json_error;
use crate::service::Shared;

/// The scheme whose payments a handler meters.
const UPTO: &str = "upto";

/// What the handler said its request cost, if it said: the typed [`Charge`] first, else the
/// header. The header is removed either way, so it never reaches the client. `Err` when the
/// header does not read as a charge.
pub(crate) fn take_charge<B>(response: &mut Response<B>) -> Option<Result<Charge, String>> {
    let name = HeaderName::from_static("settlement-overrides");
    let header = response.headers_mut().remove(&name);
    if let Some(charge) = response.extensions_mut().remove::<Charge>() {
        return Some(Ok(charge));
    }
    let header = header?;
    Some(
        header
            .to_str()
            .map_err(|_| format!("{SETTLEMENT_OVERRIDES} is not text"))
            .and_then(|value| Charge::from_header_value(value).map_err(|e| e.to_string())),
    )
}

/// The settle request for a payment whose handler answered: for a metered payment its charge
/// (the maximum when the handler named none), for any other the payment as verified. A charge
/// that cannot be read, or comes to more than the maximum, is the handler's error: a 500,
/// logged, and nothing settled.
#[allow(clippy::result_large_err)]
pub(crate) fn settle_request<'a, B>(
    shared: &Shared,
    matched: &'a Matched,
    charge: Option<Result<Charge, String>>,
) -> Result<Cow<'a, VerifyRequest>, Answer<B>> {
    let request = &matched.request;
    let Some(charge) = charge else {
        return Ok(Cow::Borrowed(request));
    };
    if request.scheme() != UPTO {
        tracing::warn!(
            scheme = request.scheme(),
            "x402 charge ignored: only upto payments are metered"
        );
        return Ok(Cow::Borrowed(request));
    }
    let decimals = shared.decimals_of(request.asset());
    let amount = charge.and_then(|charge| {
        charge
            .resolve(request.amount(), decimals)
            .map_err(|e| e.to_string())
    });
    match amount {
        Ok(amount) => Ok(Cow::Owned(request.charging(amount))),
        Err(error) => {
            tracing::error!(%error, "x402 handler named a charge that cannot be settled");
            Err(json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server could not work out what this request costs; nothing was charged",
            ))
        }
    }
}
