//! The x402 Permit2 proxies of the local chain (`contracts/X402Permit2Proxies.sol`), written from
//! the spec's facts: their type hashes are the reference's, and payments signed by the reference
//! client (`@x402/evm` 2.27) settle through them at their canonical addresses.

use alloy::primitives::{Address, Bytes, U256, keccak256};
use coinslot_testkit::bindings::X402UptoPermit2Proxy::X402UptoPermit2ProxyErrors as UptoErrors;
use coinslot_testkit::bindings::{X402ExactPermit2Proxy, X402UptoPermit2Proxy};
use coinslot_testkit::reference::reference_pay;
use coinslot_testkit::{
    EXACT_PERMIT2_PROXY, LocalChain, PERMIT_TOKEN, PERMIT2, UPTO_PERMIT2_PROXY, USDC, confirm,
};
use serde_json::{Value, json};

const EXACT_WITNESS: &str = "Witness(address to,uint256 validAfter)";
const UPTO_WITNESS: &str = "Witness(address to,address facilitator,uint256 validAfter)";

/// A hash as the reference document abbreviates it: its first four and last two bytes.
fn abbreviated(hash: impl AsRef<[u8]>) -> String {
    let hex = alloy::hex::encode(hash);
    format!("0x{}…{}", &hex[..8], &hex[60..])
}

#[tokio::test]
async fn the_proxies_have_the_reference_type_hashes_at_the_canonical_addresses() {
    let chain = LocalChain::start().await.unwrap();
    let provider = chain.provider().clone();
    let exact = X402ExactPermit2Proxy::new(EXACT_PERMIT2_PROXY, provider.clone());
    let upto = X402UptoPermit2Proxy::new(UPTO_PERMIT2_PROXY, provider);

    // The values of `../shared/reference/evm-permit2-upto.md` §2.4 and §3.
    assert_eq!(abbreviated(keccak256(EXACT_WITNESS)), "0xd97b3239…2c37");
    assert_eq!(abbreviated(keccak256(UPTO_WITNESS)), "0xd4171c44…3b75");
    assert_eq!(
        abbreviated(keccak256("TokenPermissions(address token,uint256 amount)")),
        "0x618358ac…06a1"
    );
    let upto_type_string = upto.WITNESS_TYPE_STRING().call().await.unwrap();
    let full = format!(
        "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,\
         uint256 deadline,{upto_type_string}"
    );
    assert_eq!(abbreviated(keccak256(full)), "0x51dff697…c2ee");

    // What the deployed code holds.
    assert_eq!(
        exact.WITNESS_TYPEHASH().call().await.unwrap(),
        keccak256(EXACT_WITNESS)
    );
    assert_eq!(
        upto.WITNESS_TYPEHASH().call().await.unwrap(),
        keccak256(UPTO_WITNESS)
    );
    assert_eq!(
        exact.WITNESS_TYPE_STRING().call().await.unwrap(),
        format!("Witness witness)TokenPermissions(address token,uint256 amount){EXACT_WITNESS}")
    );
    assert_eq!(
        upto_type_string,
        format!("Witness witness)TokenPermissions(address token,uint256 amount){UPTO_WITNESS}")
    );
    assert_eq!(exact.PERMIT2().call().await.unwrap(), PERMIT2);
}

/// An offer of `amount` of `token` to the payee under `scheme`, with `extra`.
fn offer(chain: &LocalChain, scheme: &str, token: Address, amount: u64, extra: Value) -> Value {
    json!({
        "scheme": scheme, "network": "eip155:84532", "amount": amount.to_string(),
        "asset": token.to_checksum(None),
        "payTo": chain.accounts().payee.address().to_checksum(None),
        "maxTimeoutSeconds": 300, "extra": extra,
    })
}

/// The payload the reference client signs for `offer`, as the payer.
async fn reference_payload(chain: &LocalChain, offer: Value) -> Value {
    let required = json!({
        "x402Version": 2,
        "resource": {"url": "http://127.0.0.1/paid", "description": "", "mimeType": ""},
        "accepts": [offer],
    });
    let key = alloy::hex::encode_prefixed(chain.accounts().payer.to_bytes());
    let payment = reference_pay(&key, &required).await.unwrap();
    payment["payload"].clone()
}

fn number(value: &Value) -> U256 {
    value.as_str().unwrap().parse().unwrap()
}

fn address(value: &Value) -> Address {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_reference_clients_permit2_payments_settle_through_the_proxies() {
    let chain = LocalChain::start().await.unwrap();
    let accounts = chain.accounts();
    let payee = accounts.payee.address();
    let facilitator = &accounts.settlers[0];
    for token in [USDC, PERMIT_TOKEN] {
        chain.approve_permit2(&accounts.payer, token).await.unwrap();
    }

    // `exact` over Permit2, in a token without EIP-3009: anyone may send it.
    let extra = json!({"name": "Test Token", "version": "1", "assetTransferMethod": "permit2"});
    let payload =
        reference_payload(&chain, offer(&chain, "exact", PERMIT_TOKEN, 7_000, extra)).await;
    let auth = &payload["permit2Authorization"];
    assert_eq!(address(&auth["spender"]), EXACT_PERMIT2_PROXY);
    let permit = X402ExactPermit2Proxy::PermitTransferFrom {
        permitted: X402ExactPermit2Proxy::TokenPermissions {
            token: address(&auth["permitted"]["token"]),
            amount: number(&auth["permitted"]["amount"]),
        },
        nonce: number(&auth["nonce"]),
        deadline: number(&auth["deadline"]),
    };
    let witness = X402ExactPermit2Proxy::Witness {
        to: address(&auth["witness"]["to"]),
        validAfter: number(&auth["witness"]["validAfter"]),
    };
    let signature: Bytes = payload["signature"].as_str().unwrap().parse().unwrap();
    let proxy = X402ExactPermit2Proxy::new(EXACT_PERMIT2_PROXY, chain.provider().clone());
    let settle = proxy.settle(permit, address(&auth["from"]), witness, signature);
    confirm("settle", settle).await.unwrap();
    let token = chain.permit_token();
    assert_eq!(
        token.balanceOf(payee).call().await.unwrap(),
        U256::from(7_000)
    );

    // `upto` in USDC: only the named facilitator settles, at most what was signed.
    let extra = json!({"name": "USDC", "version": "2",
                       "facilitatorAddress": facilitator.address().to_checksum(None)});
    let payload = reference_payload(&chain, offer(&chain, "upto", USDC, 5_000, extra)).await;
    let auth = &payload["permit2Authorization"];
    assert_eq!(address(&auth["spender"]), UPTO_PERMIT2_PROXY);
    assert_eq!(
        address(&auth["witness"]["facilitator"]),
        facilitator.address()
    );
    let permit = X402UptoPermit2Proxy::PermitTransferFrom {
        permitted: X402UptoPermit2Proxy::TokenPermissions {
            token: address(&auth["permitted"]["token"]),
            amount: number(&auth["permitted"]["amount"]),
        },
        nonce: number(&auth["nonce"]),
        deadline: number(&auth["deadline"]),
    };
    let witness = X402UptoPermit2Proxy::Witness {
        to: address(&auth["witness"]["to"]),
        facilitator: address(&auth["witness"]["facilitator"]),
        validAfter: number(&auth["witness"]["validAfter"]),
    };
    let signature: Bytes = payload["signature"].as_str().unwrap().parse().unwrap();
    let owner = address(&auth["from"]);
    let proxy = |who: &alloy::signers::local::PrivateKeySigner| {
        X402UptoPermit2Proxy::new(UPTO_PERMIT2_PROXY, chain.provider_for(who))
    };
    let (by_someone_else, by_facilitator) = (proxy(&accounts.others[0]), proxy(facilitator));
    let call = |amount: u64| X402UptoPermit2Proxy::settleCall {
        permit: permit.clone(),
        amount: U256::from(amount),
        owner,
        witness: witness.clone(),
        signature: signature.clone(),
    };
    let refusal = |error: alloy::contract::Error| error.as_decoded_interface_error::<UptoErrors>();
    let someone_else = by_someone_else.call_builder(&call(2_000)).call().await;
    assert!(matches!(
        someone_else.map_err(refusal),
        Err(Some(UptoErrors::UnauthorizedFacilitator(_)))
    ));
    let too_much = by_facilitator.call_builder(&call(5_001)).call().await;
    assert!(matches!(
        too_much.map_err(refusal),
        Err(Some(UptoErrors::AmountExceedsPermitted(_)))
    ));
    let before = chain.usdc_balance(payee).await.unwrap();
    confirm("settle", by_facilitator.call_builder(&call(2_000)))
        .await
        .unwrap();
    assert_eq!(
        chain.usdc_balance(payee).await.unwrap() - before,
        U256::from(2_000)
    );
    // One settlement per authorization: the nonce is spent.
    assert!(
        by_facilitator
            .call_builder(&call(1_000))
            .call()
            .await
            .is_err()
    );
}
