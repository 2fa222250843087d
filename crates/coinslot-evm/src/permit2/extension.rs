//! What the two gas-sponsoring extensions share on the facilitator's side: their `info` read
//! from a payment, and the parties it names checked against the payment's.

use alloy::primitives::Address;
use coinslot_core::{ErrorReason, JsonObject, Refusal};
use serde::de::DeserializeOwned;

use super::PERMIT2;

/// An extension's `info`: the key it rides under, the parties it names, and its reasons.
pub(crate) trait SponsoringInfo: DeserializeOwned {
    /// The extension's key in `PaymentPayload.extensions`.
    const KEY: &'static str;
    /// The reasons for `info` of the wrong shape, then for a `from`, an `asset` and a
    /// `spender` that differ from the payment's.
    const REASONS: [ErrorReason; 4];

    /// `from`, `asset` and `spender`.
    fn parties(&self) -> [Address; 3];
}

/// The `info` of the payment's extension `T`, checked to name `payer` as `from`, `token` as
/// `asset` and Permit2 as `spender`: `Ok(None)` when the payment carries none.
pub(crate) fn info_of<T: SponsoringInfo>(
    extensions: Option<&JsonObject>,
    payer: Address,
    token: Address,
) -> Result<Option<T>, Refusal> {
    let Some(info) = extensions
        .and_then(|extensions| extensions.get(T::KEY))
        .and_then(|extension| extension.get("info"))
    else {
        return Ok(None);
    };
    let [format, from_differs, asset_differs, spender_differs] = T::REASONS;
    let info: T =
        serde_json::from_value(info.clone()).map_err(|e| Refusal::with(format, e.to_string()))?;
    let [from, asset, spender] = info.parties();
    if from != payer {
        return Err(Refusal::new(from_differs));
    }
    if asset != token {
        return Err(Refusal::new(asset_differs));
    }
    if spender != PERMIT2 {
        return Err(Refusal::new(spender_differs));
    }
    Ok(Some(info))
}
