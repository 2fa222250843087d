//! An offer read as a payer reads it, before signing: the scheme, the chain, the token and the
//! payee, each failure an [`Error::InvalidRequirements`] naming the field.

use alloy::primitives::Address;
use coinslot_core::{Error, PaymentRequirements, Result};

/// What every EVM payment signs for.
pub(crate) struct Terms {
    pub(crate) chain_id: u64,
    pub(crate) asset: Address,
    pub(crate) pay_to: Address,
}

/// Reads `requirements` as an offer of `scheme` on an `eip155` network.
pub(crate) fn read(requirements: &PaymentRequirements, scheme: &str) -> Result<Terms> {
    if requirements.scheme != scheme {
        return Err(invalid(format!(
            "scheme {:?} is not {scheme}",
            requirements.scheme
        )));
    }
    let chain_id = requirements
        .network
        .eip155_chain_id()
        .ok_or_else(|| invalid(format!("{} is not an eip155 network", requirements.network)))?;
    Ok(Terms {
        chain_id,
        asset: address("asset", &requirements.asset)?,
        pay_to: address("payTo", &requirements.pay_to)?,
    })
}

/// A text field of `extra`, when the offer has it.
pub(crate) fn extra<'a>(requirements: &'a PaymentRequirements, name: &str) -> Option<&'a str> {
    requirements.extra.as_ref()?.get(name)?.as_str()
}

/// `text` read as the address `what` names.
pub(crate) fn address(what: &str, text: &str) -> Result<Address> {
    text.parse::<Address>()
        .map_err(|_| invalid(format!("{what} {text:?} is not an EVM address")))
}

/// An offer this client cannot pay, and why.
pub(crate) fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidRequirements {
        reason: reason.into(),
    }
}
