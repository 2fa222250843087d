#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The protocol itself, at the root: wire types, prices and amounts, networks, the traits.
pub use coinslot_core::*;

/// EVM chains: `exact` with EIP-3009, [`EvmChain`](evm::EvmChain), and the alloy it is built on
/// ([`evm::alloy`]). The [`coinslot-evm`](coinslot_evm) crate.
#[cfg(feature = "evm")]
#[cfg_attr(docsrs, doc(cfg(feature = "evm")))]
pub mod evm {
    pub use coinslot_evm::*;
}

/// Stacks: `exact` in STX, sBTC and USDCx, and the Stacks toolkit under it. The
/// [`coinslot-stacks`](coinslot_stacks) crate.
#[cfg(feature = "stacks")]
#[cfg_attr(docsrs, doc(cfg(feature = "stacks")))]
pub mod stacks {
    pub use coinslot_stacks::*;
}

/// The paywall: a tower layer for axum routers and hyper services. The
/// [`coinslot-tower`](coinslot_tower) crate.
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower {
    pub use coinslot_tower::*;
}

/// The paying client: a reqwest middleware and wrapper within a spending policy. The
/// [`coinslot-reqwest`](coinslot_reqwest) crate.
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod reqwest {
    pub use coinslot_reqwest::*;
}

/// Verify and settle: in-process ([`LocalFacilitator`](facilitator::LocalFacilitator)), as an
/// HTTP API ([`FacilitatorApi`](facilitator::FacilitatorApi)) or as its client
/// ([`HttpFacilitator`](facilitator::HttpFacilitator)). The
/// [`coinslot-facilitator`](coinslot_facilitator) crate.
#[cfg(feature = "facilitator")]
#[cfg_attr(docsrs, doc(cfg(feature = "facilitator")))]
pub mod facilitator {
    pub use coinslot_facilitator::*;
}

/// What most programs use, in one `use coinslot::prelude::*;`: the protocol's types, and those
/// of each feature turned on, with the alloy types the EVM side takes (`Address`,
/// `PrivateKeySigner`).
pub mod prelude {
    pub use coinslot_core::{
        ErrorReason, Facilitator, Network, PaymentId, PaymentRequired, PaymentRequirements, Price,
        SchemeClient, SchemeFacilitator, SettleResponse, TokenAmount, VerifyRequest,
        VerifyResponse,
    };

    #[cfg(feature = "evm")]
    pub use coinslot_evm::alloy::primitives::{Address, address};
    #[cfg(feature = "evm")]
    pub use coinslot_evm::alloy::signers::local::PrivateKeySigner;
    #[cfg(feature = "evm")]
    pub use coinslot_evm::exact::{Eip3009Token, ExactEvmClient, ExactEvmFacilitator};
    #[cfg(feature = "evm")]
    pub use coinslot_evm::{EvmChain, GasCaps};

    #[cfg(feature = "stacks")]
    pub use coinslot_stacks::PrivateKey as StacksPrivateKey;
    #[cfg(feature = "stacks")]
    pub use coinslot_stacks::exact::{
        ExactStacksClient, ExactStacksFacilitator, Sip010Token, StacksAsset, stacks_requirements,
    };
    #[cfg(feature = "stacks")]
    pub use coinslot_stacks::network::StacksNetwork;
    #[cfg(feature = "stacks")]
    pub use coinslot_stacks::node::StacksNode;

    #[cfg(feature = "tower")]
    pub use coinslot_tower::{PaidRoute, PaymentLayer, Rejection, VerifiedPayment};

    #[cfg(feature = "reqwest")]
    pub use coinslot_reqwest::{AssetLimit, Limits, Payer, PayingClient, SpendingPolicy};

    #[cfg(feature = "facilitator")]
    pub use coinslot_facilitator::{FacilitatorApi, HttpFacilitator, LocalFacilitator};
}
