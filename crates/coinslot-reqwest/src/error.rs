//! The one error type of this crate, and why an offer was refused.

use std::fmt;

use coinslot_core::{Network, TokenAmount};

/// Why a 402 was not paid, or a request not sent.
///
/// Every refusal of the spending policy happens before anything is signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No offer of the 402 passed the wallets and the spending policy; each refusal says which
    /// rule refused which offer.
    #[error("no acceptable offer in the 402: {}", list(refusals))]
    NoAcceptableOffer {
        /// One refusal per offer, in the server's order.
        refusals: Vec<OfferRefusal>,
    },
    /// The approval hook said no.
    #[error("payment of {amount} atomic units of {asset} on {network} was not approved")]
    NotApproved {
        /// The network.
        network: Network,
        /// The asset.
        asset: String,
        /// The amount in atomic units.
        amount: TokenAmount,
    },
    /// The server answered 412 `permit2_allowance_required`: the payer has not let Permit2 move
    /// this token. Nothing was spent. Approve once
    /// (`coinslot_evm::permit2::approve`, which needs gas) and send the request again.
    #[error(
        "the payer has not approved Permit2 for {asset} on {network}: approve it once, then retry"
    )]
    Permit2AllowanceRequired {
        /// The network.
        network: Network,
        /// The token.
        asset: String,
    },
    /// The request body is a stream that cannot be sent a second time, so the 402 cannot be
    /// answered: give the request a buffered body (bytes, text, JSON).
    #[error("the request body cannot be replayed, so the 402 cannot be paid: use a buffered body")]
    BodyNotReplayable,
    /// The 402 carries no offers this client can read.
    #[error("the 402 carries no readable payment requirements: {0}")]
    InvalidPaymentRequired(#[source] coinslot_core::Error),
    /// The wallet could not sign.
    #[error("signing the payment failed: {0}")]
    Signing(#[source] coinslot_core::Error),
    /// The HTTP request failed.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

fn list(refusals: &[OfferRefusal]) -> String {
    if refusals.is_empty() {
        return "the server offered nothing".to_owned();
    }
    refusals
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One offer the client would not pay, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OfferRefusal {
    /// The offer's scheme.
    pub scheme: String,
    /// The offer's network.
    pub network: Network,
    /// The offer's asset.
    pub asset: String,
    /// The offer's amount, in atomic units.
    pub amount: TokenAmount,
    /// The rule that refused it.
    pub reason: RefusalReason,
}

impl fmt::Display for OfferRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} of {} on {}: {}",
            self.scheme, self.amount, self.asset, self.network, self.reason
        )
    }
}

/// The rule of the spending policy (or the lack of a wallet) that refused an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalReason {
    /// No registered wallet pays this scheme on this network.
    NoWallet,
    /// The policy allows no asset on this network.
    NetworkNotAllowed,
    /// The policy does not allow this asset.
    AssetNotAllowed,
    /// The price is above the cap per request (both in the asset's decimal units).
    OverRequestCap {
        /// The cap.
        cap: String,
        /// The price.
        price: String,
    },
    /// The price is above what is left of the budget (both in decimal units).
    OverBudget {
        /// What is left, counting payments in flight.
        remaining: String,
        /// The price.
        price: String,
    },
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoWallet => f.write_str("no wallet pays this scheme on this network"),
            Self::NetworkNotAllowed => f.write_str("network not allowed by the spending policy"),
            Self::AssetNotAllowed => f.write_str("asset not allowed by the spending policy"),
            Self::OverRequestCap { cap, price } => {
                write!(f, "price {price} is above the cap of {cap} per request")
            }
            Self::OverBudget { remaining, price } => {
                write!(
                    f,
                    "price {price} is above the {remaining} left in the budget"
                )
            }
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
