//! The raw form of a payment: the signed transaction's hex alone in `X-PAYMENT`, as
//! x402-stacks v1 clients send it, read as the v2 payment for the offer it pays.

use coinslot_core::{PaymentPayload, PaymentRequirements};

use super::SCHEME;
use super::asset::{AssetId, TokenList};
use super::payload::ExactStacksPayload;
use crate::network::StacksNetwork;
use crate::transaction::{Payload, Transaction};

/// Reads `header` as a raw Stacks transaction (hex, with or without `0x`) and answers the v2
/// payment for the first `exact` offer it can be for: the offer's network holds it, and it
/// moves the offer's asset (an STX transfer for STX, a call of the token's contract for a
/// token). Everything else about it is the facilitator's to check. `None` if the header is not
/// a transaction or no offer fits.
///
/// Give it to `coinslot_tower::PaymentLayerBuilder::with_raw_payment`.
pub fn raw_payment(header: &[u8], offers: &[PaymentRequirements]) -> Option<PaymentPayload> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let tx = Transaction::from_hex(text).ok()?;
    let offer = offers.iter().find(|offer| {
        offer.scheme == SCHEME
            && StacksNetwork::from_caip2(&offer.network).is_some_and(|n| n.holds(&tx))
            && moves_asset(&tx, &offer.asset)
    })?;
    let payload = ExactStacksPayload {
        transaction: text.to_owned(),
    };
    Some(PaymentPayload::new(
        offer.clone(),
        payload.to_object(),
        None,
    ))
}

fn moves_asset(tx: &Transaction, asset: &str) -> bool {
    let Ok(id) = asset.parse::<AssetId>() else {
        return false;
    };
    match (&tx.payload, id) {
        (Payload::TokenTransfer { .. }, AssetId::Stx) => true,
        (
            Payload::ContractCall {
                address,
                contract_name,
                ..
            },
            AssetId::Contract {
                address: token,
                contract_name: name,
                ..
            },
        ) => *address == token && *contract_name == name,
        (
            Payload::ContractCall {
                address,
                contract_name,
                ..
            },
            AssetId::Symbol(_),
        ) => TokenList::known(tx.version.is_mainnet())
            .resolve(asset)
            .is_some_and(|a| match a {
                super::asset::StacksAsset::Sip010(t) => t.is_contract(address, contract_name),
                super::asset::StacksAsset::Stx => false,
            }),
        _ => false,
    }
}
