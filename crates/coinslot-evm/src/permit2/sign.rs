//! The payer's side: a Permit2 authorization for one payment, signed.

use alloy::primitives::{Address, U256};
use alloy::signers::Signer;
use coinslot_core::{Error, Result};

use super::types::{Permit2Authorization, Permit2Payload, Permitted, Witness};

/// Signs, as `signer`, a Permit2 transfer of `amount` of `token` through `W`'s proxy, valid
/// until `deadline`, with `witness`, under a random unordered nonce.
pub(crate) async fn sign<W, S>(
    signer: &S,
    chain_id: u64,
    token: Address,
    amount: U256,
    deadline: U256,
    witness: W,
) -> Result<Permit2Payload<W>>
where
    W: Witness,
    S: Signer + Send + Sync,
{
    let authorization = Permit2Authorization {
        from: signer.address(),
        permitted: Permitted { token, amount },
        spender: W::PROXY,
        // Permit2's nonces are unordered: any unused number will do, and a random one is
        // never used.
        nonce: U256::from_be_bytes(alloy::primitives::B256::random().0),
        deadline,
        witness,
    };
    let hash = W::signing_hash(&authorization, chain_id);
    let signature = signer
        .sign_hash(&hash)
        .await
        .map_err(|e| Error::signing("could not sign the Permit2 authorization", e))?;
    Ok(Permit2Payload {
        signature: signature.as_bytes().to_vec().into(),
        permit2_authorization: authorization,
    })
}
