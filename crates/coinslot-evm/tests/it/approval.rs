//! `erc20ApprovalGasSponsoring` on anvil: a payer with tokens, no allowance to Permit2 and no
//! ether signs an ordinary `approve` transaction; a sponsoring facilitator funds its gas,
//! broadcasts it and settles (`exact` over Permit2 and `upto`); an approval that is not the
//! payer's own `approve` of Permit2, or one it would not fund, is refused with its reason
//! before a wei moves; a facilitator that does not sponsor leaves `permit2_allowance_required`.

use alloy::consensus::{SignableTransaction as _, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718 as _;
use alloy::primitives::{Address, Bytes, TxKind, U256};
use alloy::signers::SignerSync as _;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall as _;
use coinslot_core::{
    ErrorReason, JsonObject, PaymentPayload, PaymentRequirements, SchemeClient, SchemeFacilitator,
    VerifyRequest,
};
use coinslot_evm::exact::{ExactEvmClient, ExactEvmFacilitator};
use coinslot_evm::permit2::{self, ERC20_APPROVAL_GAS_SPONSORING, PERMIT2};
use coinslot_evm::upto::{UptoEvmClient, UptoEvmFacilitator};
use coinslot_testkit::bindings::TestUsdc;
use coinslot_testkit::{
    CHAIN_ID, LocalChain, PERMIT_TOKEN, USDC, permit2_requirements, upto_requirements,
};
use serde_json::{Value, json};

use crate::common::{evm_chain, payee_balance, pays, refuses};

const AMOUNT: u64 = 7_000;

/// The `exact` Permit2 offer in the plain EIP-2612 token, without its domain: the approval is
/// the only way to pay it without an allowance.
fn exact_offer(chain: &LocalChain) -> PaymentRequirements {
    permit2_requirements(chain.accounts().payee.address(), PERMIT_TOKEN, AMOUNT)
}

/// `payer`'s payment of [`exact_offer`], made by our client offered the extension.
async fn exact_payment(
    chain: &LocalChain,
    payer: &PrivateKeySigner,
) -> (PaymentPayload, PaymentRequirements) {
    let offer = exact_offer(chain);
    let client = ExactEvmClient::new(payer.clone()).with_provider(chain.provider().clone());
    let payment = client
        .create_payment_payload_with(&offer, None, Some(&permit2::erc20_approval_declaration()))
        .await
        .unwrap();
    (payment, offer)
}

/// A payer with tokens, no allowance to Permit2 and no ether.
async fn payer_without_gas(chain: &LocalChain) -> PrivateKeySigner {
    let payer = PrivateKeySigner::random();
    chain
        .mint_permit_token(payer.address(), U256::from(AMOUNT))
        .await
        .unwrap();
    chain
        .mint_usdc(payer.address(), U256::from(AMOUNT))
        .await
        .unwrap();
    assert_eq!(
        chain.eth_balance(payer.address()).await.unwrap(),
        U256::ZERO
    );
    payer
}

/// A transaction as a payer could sign it: by default the honest approval of Permit2 for
/// `token`, the fields changed one by one below.
#[derive(Clone)]
struct Approval {
    chain_id: u64,
    nonce: u64,
    gas_limit: u64,
    max_fee_per_gas: u128,
    to: Address,
    value: U256,
    input: Bytes,
}

impl Approval {
    fn of(token: Address) -> Self {
        Self {
            chain_id: CHAIN_ID,
            nonce: 0,
            gas_limit: 70_000,
            max_fee_per_gas: 2_000_000_000,
            to: token,
            value: U256::ZERO,
            input: TestUsdc::approveCall {
                spender: PERMIT2,
                value: U256::MAX,
            }
            .abi_encode()
            .into(),
        }
    }

    fn signed_by(&self, key: &PrivateKeySigner) -> String {
        let transaction = TxEip1559 {
            chain_id: self.chain_id,
            nonce: self.nonce,
            gas_limit: self.gas_limit,
            max_fee_per_gas: self.max_fee_per_gas,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(self.to),
            value: self.value,
            access_list: Default::default(),
            input: self.input.clone(),
        };
        let signature = key.sign_hash_sync(&transaction.signature_hash()).unwrap();
        let envelope = TxEnvelope::from(transaction.into_signed(signature));
        alloy::hex::encode_prefixed(envelope.encoded_2718())
    }
}

#[tokio::test]
async fn a_payer_without_gas_or_allowance_pays_through_its_signed_approval() {
    let chain = LocalChain::start().await.unwrap();
    let evm = evm_chain(&chain).await;
    let exact = ExactEvmFacilitator::new(evm.clone()).with_erc20_approval_gas_sponsoring();
    let upto = UptoEvmFacilitator::new(evm).with_erc20_approval_gas_sponsoring();
    assert_eq!(
        upto.extensions(),
        vec![ERC20_APPROVAL_GAS_SPONSORING.to_owned()]
    );
    let payer = payer_without_gas(&chain).await;
    let offered = permit2::erc20_approval_declaration();
    let provider = chain.provider().clone();
    let exact_client = ExactEvmClient::new(payer.clone()).with_provider(provider.clone());
    let upto_client = UptoEvmClient::new(payer.clone()).with_provider(provider);

    let cases: [(&dyn SchemeFacilitator, Address); 2] = [(&exact, PERMIT_TOKEN), (&upto, USDC)];
    for (facilitator, token) in cases {
        // Signed after the previous approval landed: it takes the payer's next nonce.
        let payment: PaymentPayload = if token == PERMIT_TOKEN {
            exact_client
                .create_payment_payload_with(&exact_offer(&chain), None, Some(&offered))
                .await
                .unwrap()
        } else {
            let offer = upto_requirements(
                chain.accounts().payee.address(),
                USDC,
                AMOUNT,
                upto.facilitator_address(),
            );
            upto_client
                .create_payment_payload_with(&offer, None, Some(&offered))
                .await
                .unwrap()
        };
        let info = &payment.extensions.as_ref().unwrap()[ERC20_APPROVAL_GAS_SPONSORING]["info"];
        assert_eq!(info["spender"], PERMIT2.to_checksum(None));
        assert_eq!(info["amount"], U256::MAX.to_string());
        let before = payee_balance(&chain, token).await;
        let request = pays(facilitator, &chain, token, payment).await;
        let allowance = permit2::allowance(chain.provider(), token, payer.address());
        assert!(allowance.await.unwrap() > U256::from(AMOUNT), "approved");

        // Settled again: the allowance is there, so no approval is sent again, and Permit2
        // refuses the used nonce.
        let again = facilitator.settle(&request).await.unwrap();
        assert_eq!(
            again.error_reason,
            Some(ErrorReason::Permit2InvalidNonce),
            "{again:?}"
        );
        assert_eq!(
            payee_balance(&chain, token).await - before,
            U256::from(AMOUNT),
            "one transfer"
        );
    }
}

#[tokio::test]
async fn without_sponsorship_the_approval_is_ignored_and_the_allowance_required() {
    let chain = LocalChain::start().await.unwrap();
    let plain = ExactEvmFacilitator::new(evm_chain(&chain).await);
    let payer = payer_without_gas(&chain).await;
    let (payment, offer) = exact_payment(&chain, &payer).await;
    assert!(payment.extensions.is_some());
    let request = VerifyRequest::v2(payment, offer);
    let verified = plain.verify(&request).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::Permit2AllowanceRequired)
    );
    let settled = plain.settle(&request).await.unwrap();
    assert_eq!(
        settled.error_reason,
        Some(ErrorReason::Permit2AllowanceRequired)
    );
    assert_eq!(
        chain.eth_balance(payer.address()).await.unwrap(),
        U256::ZERO
    );
}

#[tokio::test]
async fn an_approval_that_is_not_the_payers_approve_of_permit2_is_refused_before_a_wei_moves() {
    let chain = LocalChain::start().await.unwrap();
    let exact =
        ExactEvmFacilitator::new(evm_chain(&chain).await).with_erc20_approval_gas_sponsoring();
    let payer = payer_without_gas(&chain).await;
    let (payment, offer) = exact_payment(&chain, &payer).await;
    let with_info = |edit: &dyn Fn(&mut Value)| {
        let mut payment = payment.clone();
        let extensions: &mut JsonObject = payment.extensions.as_mut().unwrap();
        edit(&mut extensions[ERC20_APPROVAL_GAS_SPONSORING]["info"]);
        VerifyRequest::v2(payment, offer.clone())
    };
    let with_transaction = |approval: Approval, key: &PrivateKeySigner| {
        let signed = approval.signed_by(key);
        with_info(&|info| info["signedTransaction"] = json!(signed))
    };
    let honest = Approval::of(PERMIT_TOKEN);
    let approve = |spender: Address, value: U256| -> Bytes {
        TestUsdc::approveCall { spender, value }.abi_encode().into()
    };
    let other = Address::repeat_byte(0x55);
    let stranger = PrivateKeySigner::random();
    let cases: Vec<(&str, VerifyRequest, ErrorReason)> = vec![
        (
            "no transaction",
            with_info(&|info| {
                info.as_object_mut().unwrap().remove("signedTransaction");
            }),
            ErrorReason::InvalidErc20ApprovalExtensionFormat,
        ),
        (
            "another owner",
            with_info(&|info| info["from"] = json!(other.to_checksum(None))),
            ErrorReason::Erc20ApprovalFromMismatch,
        ),
        (
            "another token",
            with_info(&|info| info["asset"] = json!(other.to_checksum(None))),
            ErrorReason::Erc20ApprovalAssetMismatch,
        ),
        (
            "another spender",
            with_info(&|info| info["spender"] = json!(other.to_checksum(None))),
            ErrorReason::Erc20ApprovalSpenderNotPermit2,
        ),
        (
            "not a transaction",
            with_info(&|info| info["signedTransaction"] = json!("0x02c0ffee")),
            ErrorReason::Erc20ApprovalTxParseFailed,
        ),
        (
            "a call of another contract",
            with_transaction(
                Approval {
                    to: USDC,
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::Erc20ApprovalTxWrongTarget,
        ),
        (
            "a transfer",
            with_transaction(
                Approval {
                    input: TestUsdc::transferCall {
                        to: other,
                        value: U256::from(AMOUNT),
                    }
                    .abi_encode()
                    .into(),
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::Erc20ApprovalTxWrongSelector,
        ),
        (
            "an approval of someone else",
            with_transaction(
                Approval {
                    input: approve(other, U256::MAX),
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::Erc20ApprovalTxWrongSpender,
        ),
        (
            "truncated arguments",
            with_transaction(
                Approval {
                    input: honest.input.slice(..20),
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::Erc20ApprovalTxInvalidCalldata,
        ),
        (
            "signed for another chain",
            with_transaction(
                Approval {
                    chain_id: 1,
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::Erc20ApprovalTxInvalidSignature,
        ),
        (
            "signed by someone else",
            with_transaction(honest.clone(), &stranger),
            ErrorReason::Erc20ApprovalTxSignerMismatch,
        ),
        (
            "less than the payment",
            with_transaction(
                Approval {
                    input: approve(PERMIT2, U256::from(AMOUNT - 1)),
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::InvalidErc20ApprovalExtensionFormat,
        ),
        (
            "ether attached",
            with_transaction(
                Approval {
                    value: U256::from(1),
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::InvalidErc20ApprovalExtensionFormat,
        ),
        (
            "a gas limit the facilitator would not fund",
            with_transaction(
                Approval {
                    gas_limit: 5_000_000,
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::InvalidErc20ApprovalExtensionFormat,
        ),
        (
            "a fee the facilitator would not fund",
            with_transaction(
                Approval {
                    max_fee_per_gas: 10_000_000_000_000,
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::InvalidErc20ApprovalExtensionFormat,
        ),
        (
            "a nonce that is not the payer's next",
            with_transaction(
                Approval {
                    nonce: 5,
                    ..honest.clone()
                },
                &payer,
            ),
            ErrorReason::Erc20ApprovalBroadcastFailed,
        ),
    ];
    let before = payee_balance(&chain, PERMIT_TOKEN).await;
    for (name, request, reason) in cases {
        refuses(&exact, name, &request, &reason).await;
        assert_eq!(
            chain.eth_balance(payer.address()).await.unwrap(),
            U256::ZERO,
            "{name}: the payer was not funded"
        );
    }
    assert_eq!(
        payee_balance(&chain, PERMIT_TOKEN).await,
        before,
        "nothing moved"
    );
    // The honest one still pays.
    let request = with_transaction(honest, &payer);
    let settled = exact.settle(&request).await.unwrap();
    assert!(settled.success, "{settled:?}");
}
