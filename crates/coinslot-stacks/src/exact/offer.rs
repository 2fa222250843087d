//! Offers: the `PaymentRequirements` a server puts in its 402 for a Stacks asset.

use coinslot_core::{Error, Price, Result};

use super::SCHEME;
use super::asset::StacksAsset;
use crate::address::Principal;
use crate::network::StacksNetwork;

/// How long a Stacks payment may take, in seconds: room for a block or two.
pub const DEFAULT_MAX_TIMEOUT_SECS: u64 = 300;

/// An `exact` offer of `price` in `asset` on `network`, paid to `pay_to`.
///
/// `price` is in units of the asset (`"0.001"` STX, `"0.00001"` sBTC), turned into atomic units
/// with the asset's decimals; a price finer than the asset can express is an error.
///
/// ```
/// use coinslot_core::Price;
/// use coinslot_stacks::exact::{StacksAsset, stacks_requirements};
/// use coinslot_stacks::network::StacksNetwork;
///
/// let offer = stacks_requirements(
///     StacksNetwork::Testnet,
///     &StacksAsset::Stx,
///     "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM",
///     &Price::parse("0.001").unwrap(),
/// ).unwrap();
/// assert_eq!(offer.amount.to_string(), "1000");
/// assert_eq!(offer.asset, "STX");
/// ```
pub fn stacks_requirements(
    network: StacksNetwork,
    asset: &StacksAsset,
    pay_to: &str,
    price: &Price,
) -> Result<coinslot_core::PaymentRequirements> {
    let principal: Principal = pay_to.parse().map_err(|e| Error::InvalidRequirements {
        reason: format!("payTo {pay_to:?}: {e}"),
    })?;
    if principal.address().is_mainnet() != network.is_mainnet() {
        return Err(Error::InvalidRequirements {
            reason: format!("payTo {pay_to} is not an address of {}", network.caip2()),
        });
    }
    Ok(coinslot_core::PaymentRequirements {
        scheme: SCHEME.to_owned(),
        network: network.caip2(),
        amount: price.to_atomic(asset.decimals())?,
        asset: asset.offer_id(),
        pay_to: principal.to_string(),
        max_timeout_seconds: DEFAULT_MAX_TIMEOUT_SECS,
        extra: None,
        other: Default::default(),
    })
}
