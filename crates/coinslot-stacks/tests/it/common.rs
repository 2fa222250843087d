//! A funded payer and a payee on a fresh devnet, and the pieces every test uses.

use std::time::Duration;

use coinslot_core::{PaymentPayload, PaymentRequirements, Price, SchemeClient, VerifyRequest};
use coinslot_stacks::PrivateKey;
use coinslot_stacks::exact::{
    ExactStacksClient, ExactStacksFacilitator, Sip010Token, StacksAsset, stacks_requirements,
};
use coinslot_stacks::network::StacksNetwork;
use coinslot_stacks::node::StacksNode;
use coinslot_testkit::stacks::{Balances, DevnetToken, Funds, StacksDevnet};

pub(crate) const PAYER_STX: u128 = 10_000_000;
pub(crate) const PAYER_SBTC: u128 = 1_000_000;
pub(crate) const PAYER_USDCX: u128 = 5_000_000;

/// SHA-256, for the tests (the crate's own hashing is private).
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}

/// RIPEMD-160 of SHA-256: the public-key hash of an address.
pub(crate) fn hash160(data: &[u8]) -> [u8; 20] {
    use ripemd::Digest as _;
    ripemd::Ripemd160::digest(sha256(data)).into()
}

/// A key from a name: the same key for the same name, in every run.
pub(crate) fn key(name: &str) -> PrivateKey {
    PrivateKey::from_bytes(&sha256(name.as_bytes())).unwrap()
}

pub(crate) struct Setup {
    pub(crate) devnet: StacksDevnet,
    pub(crate) network: StacksNetwork,
    pub(crate) payer: PrivateKey,
    pub(crate) payee: String,
}

impl Setup {
    pub(crate) async fn testnet() -> Self {
        Self::start(StacksDevnet::start_testnet().await.unwrap()).await
    }

    pub(crate) async fn mainnet() -> Self {
        Self::start(StacksDevnet::start_mainnet().await.unwrap()).await
    }

    async fn start(devnet: StacksDevnet) -> Self {
        let network = if devnet.is_mainnet() {
            StacksNetwork::Mainnet
        } else {
            StacksNetwork::Testnet
        };
        let payer = key("coinslot test payer");
        let payee = key("coinslot test payee")
            .address(network.is_mainnet())
            .to_string();
        devnet
            .fund(
                &payer.address(network.is_mainnet()).to_string(),
                Funds {
                    stx: PAYER_STX,
                    sbtc: PAYER_SBTC,
                    usdcx: PAYER_USDCX,
                },
            )
            .await
            .unwrap();
        Self {
            devnet,
            network,
            payer,
            payee,
        }
    }

    pub(crate) fn node(&self) -> StacksNode {
        StacksNode::new(self.devnet.url())
    }

    pub(crate) fn payer_address(&self) -> String {
        self.payer.address(self.network.is_mainnet()).to_string()
    }

    pub(crate) fn client(&self) -> ExactStacksClient {
        ExactStacksClient::new(self.payer.clone(), self.network).with_node(self.node())
    }

    pub(crate) fn facilitator(&self) -> ExactStacksFacilitator {
        ExactStacksFacilitator::new(self.node(), self.network)
            .with_confirm_timeout(Duration::from_secs(30))
    }

    pub(crate) fn token(devnet: &DevnetToken) -> Sip010Token {
        let symbol = if devnet.asset.starts_with("usdcx") {
            "USDCx"
        } else {
            "sBTC"
        };
        Sip010Token::new(&devnet.contract, &devnet.asset, devnet.decimals, symbol).unwrap()
    }

    pub(crate) fn assets(&self) -> [(&'static str, StacksAsset); 3] {
        let tokens = &self.devnet.info().tokens;
        [
            ("STX", StacksAsset::Stx),
            ("sBTC", StacksAsset::Sip010(Self::token(&tokens.sbtc))),
            ("USDCx", StacksAsset::Sip010(Self::token(&tokens.usdcx))),
        ]
    }

    pub(crate) fn offer(&self, asset: &StacksAsset, price: &str) -> PaymentRequirements {
        stacks_requirements(
            self.network,
            asset,
            &self.payee,
            &Price::parse(price).unwrap(),
        )
        .unwrap()
    }

    pub(crate) async fn balances(&self) -> (Balances, Balances) {
        (
            self.devnet.balances(&self.payer_address()).await.unwrap(),
            self.devnet.balances(&self.payee).await.unwrap(),
        )
    }
}

/// What a client sends for `offer`, as the request a server gives its facilitator.
pub(crate) async fn request_for(
    client: &ExactStacksClient,
    offer: &PaymentRequirements,
) -> VerifyRequest {
    let payload = client.create_payment_payload(offer, None).await.unwrap();
    VerifyRequest::v2(payload, offer.clone())
}

/// A request whose payment (signed for `signed_for`) is presented for `offer`.
pub(crate) fn presented_for(payment: &VerifyRequest, offer: &PaymentRequirements) -> VerifyRequest {
    let VerifyRequest::V2 {
        payment_payload, ..
    } = payment
    else {
        unreachable!()
    };
    let payload = PaymentPayload::new(offer.clone(), payment_payload.payload.clone(), None);
    VerifyRequest::v2(payload, offer.clone())
}
