//! Contract wallets: a deployed one (ERC-1271) and one its factory has yet to deploy (ERC-6492).

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::sol_types::{SolCall as _, SolValue as _};
use coinslot_core::{ErrorReason, SchemeFacilitator};
use coinslot_evm::exact::ExactEvmFacilitator;
use coinslot_testkit::bindings::TestWalletFactory;
use coinslot_testkit::{LocalChain, WALLET_FACTORY};

use crate::common::{AMOUNT, authorization, evm_chain, request, requirements, signed};

/// The 32-byte suffix of an ERC-6492 signature.
const ERC6492_MAGIC: [u8; 32] = [
    0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92,
    0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92, 0x64, 0x92,
];

/// `signature` wrapped as ERC-6492: the factory call that deploys `owner`'s wallet with `salt`.
fn wrap_erc6492(owner: Address, salt: B256, signature: &Bytes) -> Bytes {
    let deploy = TestWalletFactory::deployCall { owner, salt }.abi_encode();
    let mut wrapped = (WALLET_FACTORY, Bytes::from(deploy), signature.clone()).abi_encode_params();
    wrapped.extend_from_slice(&ERC6492_MAGIC);
    wrapped.into()
}

#[tokio::test]
async fn a_deployed_erc1271_wallet_pays_and_settles() {
    let chain = LocalChain::start().await.unwrap();
    let owner = chain.accounts().payer.clone();
    let wallet = chain.deploy_wallet(owner.address()).await.unwrap();
    chain.mint_usdc(wallet, U256::from(AMOUNT)).await.unwrap();
    let exact = ExactEvmFacilitator::new(evm_chain(&chain).await);
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);
    // The owner's key signs for the wallet; only the wallet's ERC-1271 says it is valid.
    let request = request(&offer, &signed(&owner, authorization(wallet, &offer)));

    let verified = exact.verify(&request).await.unwrap();
    assert!(verified.is_valid, "{verified:?}");
    assert_eq!(verified.payer, Some(wallet.to_checksum(None)));
    let settled = exact.settle(&request).await.unwrap();
    assert!(settled.success, "{settled:?}");
    assert_eq!(chain.usdc_balance(wallet).await.unwrap(), U256::ZERO);
    assert_eq!(
        chain
            .usdc_balance(chain.accounts().payee.address())
            .await
            .unwrap(),
        U256::from(AMOUNT)
    );

    // A key the wallet does not know is refused by the wallet.
    let stranger = chain.accounts().others[1].clone();
    let forged = crate::common::request(&offer, &signed(&stranger, authorization(wallet, &offer)));
    let verified = exact.verify(&forged).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::InvalidExactEvmSignature)
    );
}

#[tokio::test]
async fn an_undeployed_erc6492_wallet_pays_and_is_deployed_at_settlement() {
    let chain = LocalChain::start().await.unwrap();
    let owner = chain.accounts().payer.clone();
    let salt = B256::repeat_byte(7);
    let wallet = chain
        .counterfactual_wallet(owner.address(), salt)
        .await
        .unwrap();
    assert!(!chain.has_code(wallet).await.unwrap());
    chain.mint_usdc(wallet, U256::from(AMOUNT)).await.unwrap();
    let offer = requirements(chain.accounts().payee.address(), AMOUNT);

    let mut payload = signed(&owner, authorization(wallet, &offer));
    payload.signature = wrap_erc6492(owner.address(), salt, &payload.signature);
    let request = request(&offer, &payload);

    // A factory the operator did not allow is refused: deploying costs the facilitator gas.
    let strict = ExactEvmFacilitator::new(evm_chain(&chain).await);
    let refused = strict.verify(&request).await.unwrap();
    assert_eq!(
        refused.invalid_reason,
        Some(ErrorReason::Eip6492FactoryNotAllowed)
    );

    let exact =
        ExactEvmFacilitator::new(evm_chain(&chain).await).with_erc6492_factory(WALLET_FACTORY);
    let verified = exact.verify(&request).await.unwrap();
    assert!(verified.is_valid, "{verified:?}");
    assert!(
        !chain.has_code(wallet).await.unwrap(),
        "verification deploys nothing"
    );

    let settled = exact.settle(&request).await.unwrap();
    assert!(settled.success, "{settled:?}");
    assert!(
        chain.has_code(wallet).await.unwrap(),
        "settlement deployed the wallet"
    );
    assert_eq!(
        chain
            .usdc_balance(chain.accounts().payee.address())
            .await
            .unwrap(),
        U256::from(AMOUNT)
    );

    // A wrapped signature by another key is refused before anything is deployed.
    let salt = B256::repeat_byte(8);
    let other_wallet = chain
        .counterfactual_wallet(owner.address(), salt)
        .await
        .unwrap();
    chain
        .mint_usdc(other_wallet, U256::from(AMOUNT))
        .await
        .unwrap();
    let mut forged = signed(
        &chain.accounts().others[1],
        authorization(other_wallet, &offer),
    );
    forged.signature = wrap_erc6492(owner.address(), salt, &forged.signature);
    let forged = crate::common::request(&offer, &forged);
    let verified = exact.verify(&forged).await.unwrap();
    assert_eq!(
        verified.invalid_reason,
        Some(ErrorReason::InvalidExactEvmSignature)
    );
    let settled = exact.settle(&forged).await.unwrap();
    assert!(!settled.success);
    assert!(!chain.has_code(other_wallet).await.unwrap());
}

#[tokio::test]
async fn the_carried_erc6492_probe_is_what_its_source_compiles_to() {
    let compiled = coinslot_testkit::erc6492_probe_bytecode().unwrap();
    let carried = include_str!("../../contracts/Erc6492Probe.hex").trim();
    assert_eq!(
        alloy::primitives::hex::encode(&compiled),
        carried,
        "recompile contracts/Erc6492Probe.sol and update Erc6492Probe.hex"
    );
}
