//! The `x402-stacks` npm client pays our paywall on the devnet, in STX, sBTC and USDCx.

use coinslot_testkit::stacks::x402_stacks_get;

use crate::common::Setup;
use crate::paywall::open_shop;

#[tokio::test]
async fn the_x402_stacks_client_pays_our_server() {
    let setup = Setup::testnet().await;
    let shop = open_shop(&setup).await;
    for (name, offer) in &shop.offers {
        let amount: u128 = offer.amount.to_string().parse().unwrap();
        let (_, payee_before) = setup.balances().await;
        let url = format!("{}/{}", shop.url, name.to_lowercase());
        let answer = x402_stacks_get(&setup.devnet, &url, &setup.payer.to_hex())
            .await
            .unwrap();
        assert_eq!(answer["status"], 200, "{name}: {answer}");
        assert_eq!(
            answer["data"],
            format!("paid by {}", setup.payer_address()),
            "{name}"
        );
        assert_eq!(
            answer["paymentResponse"]["success"], true,
            "{name}: {answer}"
        );
        let (_, payee_after) = setup.balances().await;
        let moved = match *name {
            "STX" => payee_after.stx - payee_before.stx,
            "sBTC" => payee_after.sbtc - payee_before.sbtc,
            _ => payee_after.usdcx - payee_before.usdcx,
        };
        assert_eq!(moved, amount, "{name}");
    }
}
