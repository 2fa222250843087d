//! Fixtures: a facilitator for `exact` on the local chain, served on a loopback port.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use coinslot_core::{PaymentPayload, PaymentRequirements, SchemeClient, VerifyRequest};
use coinslot_evm::EvmChain;
use coinslot_evm::exact::{ExactEvmClient, ExactEvmFacilitator};
use coinslot_facilitator::store::SettlementStore;
use coinslot_facilitator::{FacilitatorApi, LocalFacilitator};
use coinslot_testkit::LocalChain;

/// 0.01 USDC.
pub(crate) const AMOUNT: u64 = 10_000;

/// The key that sends settlements: one the testkit keeps for that.
pub(crate) fn settler(chain: &LocalChain) -> PrivateKeySigner {
    chain.accounts().settlers[0].clone()
}

/// [`AMOUNT`] to the payee.
pub(crate) fn requirements(chain: &LocalChain) -> PaymentRequirements {
    coinslot_testkit::exact_requirements(chain.accounts().payee.address(), AMOUNT)
}

/// A fresh payment by the payer, as our client signs it.
pub(crate) async fn payment(chain: &LocalChain) -> VerifyRequest {
    let offer = requirements(chain);
    let client = ExactEvmClient::new(chain.accounts().payer.clone());
    let payload: PaymentPayload = client.create_payment_payload(&offer, None).await.unwrap();
    VerifyRequest::v2(payload, offer)
}

/// The local chain as a facilitator settling with [`settler`] sees it.
pub(crate) async fn evm_chain(chain: &LocalChain, receipt_timeout: Duration) -> Arc<EvmChain> {
    let evm = EvmChain::builder(chain.provider().clone())
        .with_signer(settler(chain))
        .with_receipt_timeout(receipt_timeout)
        .build()
        .await
        .unwrap();
    Arc::new(evm)
}

/// `exact` on the local chain, settling with [`settler`].
pub(crate) async fn exact(chain: &LocalChain, receipt_timeout: Duration) -> ExactEvmFacilitator {
    ExactEvmFacilitator::new(evm_chain(chain, receipt_timeout).await)
}

pub(crate) async fn local(chain: &LocalChain, store: impl SettlementStore) -> LocalFacilitator {
    LocalFacilitator::builder()
        .with_scheme(exact(chain, Duration::from_secs(10)).await)
        .with_store(store)
        .build()
}

/// Serves `api` on a free loopback port; returns its base URL. The server lives as long as
/// the test's runtime.
pub(crate) async fn serve(api: FacilitatorApi) -> String {
    coinslot_testkit::serve(api.into_router()).await.unwrap()
}

/// How many transactions the settlement key has sent.
pub(crate) async fn sent_by_settler(chain: &LocalChain) -> u64 {
    use alloy::providers::Provider as _;
    chain
        .provider()
        .get_transaction_count(settler(chain).address())
        .await
        .unwrap()
}

pub(crate) async fn payee_balance(chain: &LocalChain) -> U256 {
    chain
        .usdc_balance(chain.accounts().payee.address())
        .await
        .unwrap()
}
