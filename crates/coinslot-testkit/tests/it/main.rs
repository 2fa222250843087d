//! Proof that the local chain is what x402 implementations expect of Base Sepolia: the token
//! moves exactly what an EIP-3009 authorization signed with alloy says, viem signs the same
//! bytes, and Permit2 at its canonical address has the right domain and moves tokens.

use std::io::Write as _;
use std::process::{Command, Stdio};

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::signers::{Signature, Signer as _};
use alloy::sol_types::{Eip712Domain, SolValue, eip712_domain};
use coinslot_testkit::bindings::eip712::{
    PermitTransferFrom, TokenPermissions, TransferWithAuthorization,
};
use coinslot_testkit::bindings::{Permit2, TestUsdc};
use coinslot_testkit::{LocalChain, PAYER_USDC, PERMIT2, USDC, tools::tools};

mod proxies;

fn usdc_domain() -> Eip712Domain {
    eip712_domain! {
        name: "USDC",
        version: "2",
        chain_id: 84532,
        verifying_contract: USDC,
    }
}

async fn authorization(chain: &LocalChain, value: u64) -> TransferWithAuthorization {
    let now = chain.now().await.unwrap();
    TransferWithAuthorization {
        from: chain.accounts().payer.address(),
        to: chain.accounts().payee.address(),
        value: U256::from(value),
        validAfter: U256::from(now - 600),
        validBefore: U256::from(now + 60),
        nonce: B256::random(),
    }
}

/// Simulates the bytes-signature `transferWithAuthorization` from the facilitator: `Ok` if it
/// would succeed, else the node's revert message.
async fn simulate_transfer(
    chain: &LocalChain,
    auth: &TransferWithAuthorization,
    signature: &Signature,
) -> Result<(), String> {
    chain
        .usdc()
        .transferWithAuthorization_1(
            auth.from,
            auth.to,
            auth.value,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            Bytes::from(signature.as_bytes().to_vec()),
        )
        .call()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn v(signature: &Signature) -> u8 {
    27 + u8::from(signature.v())
}

#[tokio::test]
async fn token_is_usdc_at_the_base_sepolia_address() {
    let chain = LocalChain::start().await.unwrap();
    let usdc = chain.usdc();
    assert_eq!(usdc.name().call().await.unwrap(), "USDC");
    assert_eq!(usdc.version().call().await.unwrap(), "2");
    assert_eq!(usdc.decimals().call().await.unwrap(), 6);
    assert_eq!(
        usdc.DOMAIN_SEPARATOR().call().await.unwrap(),
        usdc_domain().separator()
    );
    let payer = chain.accounts().payer.address();
    assert_eq!(
        chain.usdc_balance(payer).await.unwrap(),
        U256::from(PAYER_USDC)
    );
    assert_eq!(chain.network().as_str(), "eip155:84532");
}

#[tokio::test]
async fn transfer_with_authorization_signed_by_alloy_moves_exactly_its_value() {
    let chain = LocalChain::start().await.unwrap();
    let (payer, payee) = (
        chain.accounts().payer.address(),
        chain.accounts().payee.address(),
    );
    let auth = authorization(&chain, 12_345).await;
    let signature = chain
        .accounts()
        .payer
        .sign_typed_data(&auth, &usdc_domain())
        .await
        .unwrap();

    // The facilitator sends it: the v,r,s overload.
    let receipt = chain
        .usdc()
        .transferWithAuthorization_0(
            auth.from,
            auth.to,
            auth.value,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            v(&signature),
            signature.r().into(),
            signature.s().into(),
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    assert_eq!(chain.usdc_balance(payee).await.unwrap(), U256::from(12_345));
    assert_eq!(
        chain.usdc_balance(payer).await.unwrap(),
        U256::from(PAYER_USDC - 12_345)
    );
    assert!(
        chain
            .usdc()
            .authorizationState(payer, auth.nonce)
            .call()
            .await
            .unwrap()
    );

    // The same authorization cannot move anything again.
    let replay = simulate_transfer(&chain, &auth, &signature)
        .await
        .unwrap_err();
    assert!(
        replay
            .to_string()
            .contains("authorization is used or canceled"),
        "{replay}"
    );
    assert_eq!(chain.usdc_balance(payee).await.unwrap(), U256::from(12_345));
}

#[tokio::test]
async fn bytes_signatures_receive_and_cancel_follow_eip3009() {
    let chain = LocalChain::start().await.unwrap();
    let payee = chain.accounts().payee.address();
    let payer_signer = &chain.accounts().payer;

    // The bytes overload.
    let auth = authorization(&chain, 7).await;
    let sig = payer_signer
        .sign_typed_data(&auth, &usdc_domain())
        .await
        .unwrap();
    chain
        .usdc()
        .transferWithAuthorization_1(
            auth.from,
            auth.to,
            auth.value,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            Bytes::from(sig.as_bytes().to_vec()),
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert_eq!(chain.usdc_balance(payee).await.unwrap(), U256::from(7));

    // A malleated (high-s) signature of a fresh authorization is refused.
    let auth = authorization(&chain, 5).await;
    let sig = payer_signer
        .sign_typed_data(&auth, &usdc_domain())
        .await
        .unwrap();
    let order = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let high_s = order - sig.s();
    let err = chain
        .usdc()
        .transferWithAuthorization_0(
            auth.from,
            auth.to,
            auth.value,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            27 + u8::from(!sig.v()),
            sig.r().into(),
            high_s.into(),
        )
        .call()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("invalid signature 's' value"),
        "{err}"
    );

    // `receiveWithAuthorization` only for the payee as caller: the facilitator is refused.
    let receive = TestUsdc::new(USDC, chain.provider().clone());
    let err = receive
        .receiveWithAuthorization_1(
            auth.from,
            auth.to,
            auth.value,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            Bytes::from(sig.as_bytes().to_vec()),
        )
        .call()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("caller must be the payee"),
        "{err}"
    );

    // A cancelled authorization can no longer be used.
    alloy::sol! {
        #[derive(Debug)]
        struct CancelAuthorization { address authorizer; bytes32 nonce; }
    }
    let cancel = CancelAuthorization {
        authorizer: auth.from,
        nonce: auth.nonce,
    };
    let cancel_sig = payer_signer
        .sign_typed_data(&cancel, &usdc_domain())
        .await
        .unwrap();
    chain
        .usdc()
        .cancelAuthorization_1(
            auth.from,
            auth.nonce,
            Bytes::from(cancel_sig.as_bytes().to_vec()),
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let err = simulate_transfer(&chain, &auth, &sig).await.unwrap_err();
    assert!(err.contains("authorization is used or canceled"), "{err}");

    // Expired: the chain's clock passes validBefore.
    let auth = authorization(&chain, 1).await;
    let sig = payer_signer
        .sign_typed_data(&auth, &usdc_domain())
        .await
        .unwrap();
    chain.advance_time(120).await.unwrap();
    let err = simulate_transfer(&chain, &auth, &sig).await.unwrap_err();
    assert!(err.contains("authorization is expired"), "{err}");
    assert_eq!(chain.usdc_balance(payee).await.unwrap(), U256::from(7));
}

#[tokio::test]
async fn contract_wallets_pay_through_erc1271() {
    let chain = LocalChain::start().await.unwrap();
    let owner = &chain.accounts().others[0];
    let wallet = chain.deploy_wallet(owner.address()).await.unwrap();
    chain.mint_usdc(wallet, U256::from(1_000u64)).await.unwrap();

    let mut auth = authorization(&chain, 250).await;
    auth.from = wallet;
    // A key that does not own the wallet: the wallet says no.
    let stranger = chain
        .accounts()
        .payer
        .sign_typed_data(&auth, &usdc_domain())
        .await
        .unwrap();
    let err = simulate_transfer(&chain, &auth, &stranger)
        .await
        .unwrap_err();
    assert!(err.contains("invalid signature"), "{err}");

    // The owner's key: the token asks the wallet, which says yes, and the value moves.
    let signature = owner.sign_typed_data(&auth, &usdc_domain()).await.unwrap();
    simulate_transfer(&chain, &auth, &signature).await.unwrap();
    chain
        .usdc()
        .transferWithAuthorization_1(
            auth.from,
            auth.to,
            auth.value,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            Bytes::from(signature.as_bytes().to_vec()),
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert_eq!(
        chain.usdc_balance(wallet).await.unwrap(),
        U256::from(750u64)
    );
    assert_eq!(
        chain.usdc_balance(auth.to).await.unwrap(),
        U256::from(250u64)
    );
}

/// Signs `auth` with viem (npm, pinned) through `js/sign-viem.mjs`.
fn sign_with_viem(key: B256, auth: &TransferWithAuthorization) -> Bytes {
    let input = serde_json::json!({
        "privateKey": key.to_string(),
        "domain": {"name": "USDC", "version": "2", "chainId": "84532", "verifyingContract": USDC.to_string()},
        "types": {"TransferWithAuthorization": [
            {"name": "from", "type": "address"},
            {"name": "to", "type": "address"},
            {"name": "value", "type": "uint256"},
            {"name": "validAfter", "type": "uint256"},
            {"name": "validBefore", "type": "uint256"},
            {"name": "nonce", "type": "bytes32"}
        ]},
        "primaryType": "TransferWithAuthorization",
        "message": {
            "from": auth.from.to_string(),
            "to": auth.to.to_string(),
            "value": auth.value.to_string(),
            "validAfter": auth.validAfter.to_string(),
            "validBefore": auth.validBefore.to_string(),
            "nonce": auth.nonce.to_string()
        }
    });
    let js = &tools().unwrap().js_dir;
    let mut child = Command::new("node")
        .arg(js.join("sign-viem.mjs"))
        .current_dir(js)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn viem_signs_the_same_bytes_as_alloy() {
    let chain = LocalChain::start().await.unwrap();
    let signer = &chain.accounts().payer;
    for value in [1u64, 10_000, u64::MAX] {
        let auth = authorization(&chain, value).await;
        let alloy_sig = signer.sign_typed_data(&auth, &usdc_domain()).await.unwrap();
        let viem_sig = sign_with_viem(signer.to_bytes(), &auth);
        assert_eq!(
            viem_sig.as_ref(),
            alloy_sig.as_bytes().as_slice(),
            "value {value}"
        );
    }
}

#[tokio::test]
async fn permit2_has_the_right_domain_at_its_canonical_address() {
    let chain = LocalChain::start().await.unwrap();
    // keccak256(abi.encode(typeHash, keccak256("Permit2"), chainId, address)), computed here by
    // hand rather than with the helper the testkit uses to patch the contract.
    let expected = keccak256(
        (
            keccak256("EIP712Domain(string name,uint256 chainId,address verifyingContract)"),
            keccak256("Permit2"),
            U256::from(84532u64),
            PERMIT2,
        )
            .abi_encode(),
    );
    let permit2 = Permit2::new(PERMIT2, chain.provider().clone());
    assert_eq!(permit2.DOMAIN_SEPARATOR().call().await.unwrap(), expected);
}

#[tokio::test]
async fn permit2_moves_tokens_with_a_signature_transfer() {
    let chain = LocalChain::start().await.unwrap();
    let accounts = chain.accounts();
    let (payer, payee, spender) = (
        accounts.payer.address(),
        accounts.payee.address(),
        accounts.facilitator.address(),
    );

    // The payer approves Permit2 once, as any Permit2 user does.
    TestUsdc::new(USDC, chain.provider_for(&accounts.payer))
        .approve(PERMIT2, U256::MAX)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();

    let deadline = U256::from(chain.now().await.unwrap() + 60);
    let nonce = U256::from(7u64);
    let permit = PermitTransferFrom {
        permitted: TokenPermissions {
            token: USDC,
            amount: U256::from(500u64),
        },
        spender,
        nonce,
        deadline,
    };
    let domain = eip712_domain! { name: "Permit2", chain_id: 84532, verifying_contract: PERMIT2, };
    let signature = accounts
        .payer
        .sign_typed_data(&permit, &domain)
        .await
        .unwrap();

    let permit2 = Permit2::new(PERMIT2, chain.provider().clone());
    let receipt = permit2
        .permitTransferFrom(
            Permit2::PermitTransferFrom {
                permitted: Permit2::TokenPermissions {
                    token: USDC,
                    amount: U256::from(500u64),
                },
                nonce,
                deadline,
            },
            Permit2::SignatureTransferDetails {
                to: payee,
                requestedAmount: U256::from(300u64),
            },
            payer,
            Bytes::from(signature.as_bytes().to_vec()),
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    assert_eq!(chain.usdc_balance(payee).await.unwrap(), U256::from(300u64));
    // The nonce's bit is set in the payer's bitmap.
    let word = permit2.nonceBitmap(payer, U256::ZERO).call().await.unwrap();
    assert_eq!(word, U256::from(1u64) << 7);
}

#[tokio::test]
async fn snapshots_restore_the_chain() {
    let chain = LocalChain::start().await.unwrap();
    let someone: Address = chain.accounts().others[0].address();
    let snapshot = chain.snapshot().await.unwrap();
    chain.mint_usdc(someone, U256::from(99u64)).await.unwrap();
    assert_eq!(
        chain.usdc_balance(someone).await.unwrap(),
        U256::from(99u64)
    );
    chain.revert(snapshot).await.unwrap();
    assert_eq!(chain.usdc_balance(someone).await.unwrap(), U256::ZERO);
}

#[tokio::test]
async fn every_chain_is_its_own() {
    let (a, b) = tokio::join!(LocalChain::start(), LocalChain::start());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.rpc_url(), b.rpc_url());
    a.mint_usdc(a.accounts().payee.address(), U256::from(1u64))
        .await
        .unwrap();
    assert_eq!(
        b.usdc_balance(b.accounts().payee.address()).await.unwrap(),
        U256::ZERO
    );
}
