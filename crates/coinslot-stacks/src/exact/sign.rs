//! [`ExactStacksClient`]: signs `exact` payments on one Stacks network, in STX or a SIP-010
//! token, with a Stacks private key.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use coinslot_core::{BoxFuture, Error, JsonObject, PaymentRequirements, Result, SchemeClient};

use super::asset::{Sip010Token, StacksAsset, TokenList};
use super::payload::ExactStacksPayload;
use super::{DEFAULT_MAX_FEE, SCHEME};
use crate::address::{Principal, StacksAddress};
use crate::clarity::ClarityValue;
use crate::hash::sha256;
use crate::key::PrivateKey;
use crate::network::StacksNetwork;
use crate::node::StacksNode;
use crate::transaction::{
    AnchorMode, AssetInfo, Authorization, FungibleCode, HashMode, KeyEncoding, Payload,
    PostCondition, PostConditionMode, PostConditionPrincipal, SingleSig, SpendingCondition,
    Transaction, memo,
};

/// How long a nonce this client signed with is held as used when the node does not know the
/// transaction yet (it is with a server, on its way to a facilitator).
const NONCE_HOLD: Duration = Duration::from_secs(120);

/// Signs `exact` payments on one network: an STX token transfer to `payTo`, or a SIP-010
/// `transfer(amount, payer, payTo, memo)` call guarded by a deny-mode post-condition that the
/// payer sends exactly `amount` of the token and nothing else.
///
/// The memo is the offer's `extra.nonce` when it carries one, otherwise `x402:` and 24
/// characters unique to the payment. The nonce and the fee are given, or read from a node:
/// the account's next nonce (skipping the ones this client signed for payments the node has
/// not seen yet) and the node's fee rate times the transaction's length, never above the
/// fee cap.
///
/// ```
/// use coinslot_core::SchemeClient;
/// use coinslot_stacks::exact::ExactStacksClient;
/// use coinslot_stacks::network::StacksNetwork;
/// use coinslot_stacks::PrivateKey;
///
/// let key = PrivateKey::from_hex("7287ba251d44a4d3fd9276c88ce34c5c52a038955511cccaf77e61068649c17801").unwrap();
/// let client = ExactStacksClient::new(key, StacksNetwork::Testnet).with_fee(500).with_nonce(0);
/// assert_eq!(client.payer(), "ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5");
/// ```
#[derive(Debug)]
pub struct ExactStacksClient {
    key: PrivateKey,
    network: StacksNetwork,
    tokens: TokenList,
    node: Option<StacksNode>,
    fee: Option<u64>,
    max_fee: u64,
    nonces: Mutex<NonceState>,
}

#[derive(Debug, Default)]
struct NonceState {
    /// The next nonce to use, when the caller gave one.
    fixed_next: Option<u64>,
    /// The last nonce signed with, and when.
    last_signed: Option<(u64, Instant)>,
}

impl ExactStacksClient {
    /// A client paying from `key`'s single-signature address on `network`, in STX, sBTC and
    /// USDCx.
    pub fn new(key: PrivateKey, network: StacksNetwork) -> Self {
        Self {
            key,
            network,
            tokens: TokenList::known(network.is_mainnet()),
            node: None,
            fee: None,
            max_fee: DEFAULT_MAX_FEE,
            nonces: Mutex::new(NonceState::default()),
        }
    }

    /// Reads nonces and fee rates from `node`.
    #[must_use]
    pub fn with_node(mut self, node: StacksNode) -> Self {
        self.node = Some(node);
        self
    }

    /// Pays this fee (µSTX) on every transaction instead of asking the node.
    #[must_use]
    pub fn with_fee(mut self, fee: u64) -> Self {
        self.fee = Some(fee);
        self
    }

    /// Refuses to pay a fee above this (µSTX); 100,000 (0.1 STX) unless set.
    #[must_use]
    pub fn with_max_fee(mut self, max_fee: u64) -> Self {
        self.max_fee = max_fee;
        self
    }

    /// Uses this nonce for the next payment and counts up from it, instead of asking the node.
    #[must_use]
    pub fn with_nonce(self, next: u64) -> Self {
        self.lock().fixed_next = Some(next);
        self
    }

    /// Pays in this token too (or with these details, for a listed contract).
    #[must_use]
    pub fn with_token(mut self, token: Sip010Token) -> Self {
        self.tokens.add(token);
        self
    }

    /// The paying address.
    pub fn address(&self) -> StacksAddress {
        self.key.address(self.network.is_mainnet())
    }

    /// The network.
    pub fn network(&self) -> StacksNetwork {
        self.network
    }

    /// Builds and signs the transaction that pays `requirements`.
    pub async fn sign_payment(&self, requirements: &PaymentRequirements) -> Result<Transaction> {
        let (asset, pay_to, amount) = self.terms(requirements)?;
        let memo_bytes = self.memo_for(requirements)?;
        let origin = self.address();
        let (payload, post_condition_mode, post_conditions) = match &asset {
            StacksAsset::Stx => {
                let amount = u64::try_from(amount)
                    .map_err(|_| invalid("an STX amount is at most 2^64 − 1 µSTX"))?;
                let payload = Payload::TokenTransfer {
                    recipient: pay_to,
                    amount,
                    memo: memo(&memo_bytes).ok_or_else(|| invalid("memo over 34 bytes"))?,
                };
                // The node does not apply post-conditions to STX transfers.
                (payload, PostConditionMode::Deny, Vec::new())
            }
            StacksAsset::Sip010(token) => {
                let limit = u64::try_from(amount)
                    .map_err(|_| invalid("a post-condition amount is at most 2^64 − 1"))?;
                let payload = Payload::ContractCall {
                    address: token.address,
                    contract_name: token.contract_name.clone(),
                    function_name: "transfer".into(),
                    args: vec![
                        ClarityValue::UInt(amount),
                        ClarityValue::standard(origin),
                        ClarityValue::Principal(pay_to),
                        ClarityValue::some(ClarityValue::Buffer(memo_bytes)),
                    ],
                };
                let guard = PostCondition::Fungible {
                    principal: PostConditionPrincipal::Standard(origin),
                    asset: AssetInfo {
                        address: token.address,
                        contract_name: token.contract_name.clone(),
                        asset_name: token.asset_name.clone(),
                    },
                    code: FungibleCode::Equal,
                    amount: limit,
                };
                (payload, PostConditionMode::Deny, vec![guard])
            }
        };
        let nonce = self.next_nonce().await?;
        let mut tx = Transaction {
            version: self.network.version(),
            chain_id: self.network.chain_id(),
            auth: Authorization::Standard(SpendingCondition::Single(SingleSig {
                hash_mode: HashMode::P2pkh,
                signer: origin.hash160,
                nonce,
                fee: 0,
                key_encoding: KeyEncoding::Compressed,
                signature: [0; 65],
            })),
            anchor_mode: AnchorMode::Any,
            post_condition_mode,
            post_conditions,
            payload,
        };
        let fee = self.fee_for(tx.to_bytes().len()).await?;
        if let Authorization::Standard(SpendingCondition::Single(origin)) = &mut tx.auth {
            origin.fee = fee;
        }
        tx.sign_origin(&self.key)
            .map_err(|e| Error::signing("signing the Stacks transaction", e))?;
        Ok(tx)
    }

    fn terms(&self, requirements: &PaymentRequirements) -> Result<(StacksAsset, Principal, u128)> {
        if requirements.scheme != SCHEME {
            return Err(invalid(format!(
                "scheme {:?} is not exact",
                requirements.scheme
            )));
        }
        if StacksNetwork::from_caip2(&requirements.network) != Some(self.network) {
            return Err(invalid(format!(
                "this client pays on {}, not {}",
                self.network.caip2(),
                requirements.network
            )));
        }
        let asset = self
            .tokens
            .resolve(&requirements.asset)
            .ok_or_else(|| invalid(format!("unknown Stacks asset {:?}", requirements.asset)))?;
        let pay_to: Principal = requirements
            .pay_to
            .parse()
            .map_err(|e| invalid(format!("payTo: {e}")))?;
        if pay_to.address().is_mainnet() != self.network.is_mainnet() {
            return Err(invalid("payTo is an address of the other network"));
        }
        let amount = requirements
            .amount
            .to_string()
            .parse()
            .map_err(|_| invalid("amount is beyond 128 bits"))?;
        Ok((asset, pay_to, amount))
    }

    fn memo_for(&self, requirements: &PaymentRequirements) -> Result<Vec<u8>> {
        if let Some(nonce) = requirements
            .extra
            .as_ref()
            .and_then(|extra| extra.get("nonce"))
            .and_then(|n| n.as_str())
        {
            if nonce.len() > 34 {
                return Err(invalid("extra.nonce is longer than the 34-byte memo"));
            }
            return Ok(nonce.as_bytes().to_vec());
        }
        // Unique per payment, not secret: the time, a counter and the payer, hashed.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let seed = format!("{nanos}/{count}/{}", self.address());
        let digest = sha256(seed.as_bytes());
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..18]);
        Ok(format!("x402:{tag}").into_bytes())
    }

    async fn next_nonce(&self) -> Result<u64> {
        {
            let mut state = self.lock();
            if let Some(next) = state.fixed_next {
                state.fixed_next = Some(next + 1);
                return Ok(next);
            }
        }
        let node = self
            .node
            .as_ref()
            .ok_or_else(|| invalid("no nonce given and no node to read it from"))?;
        let from_node = node
            .nonces(&self.address().to_string())
            .await?
            .possible_next;
        let mut state = self.lock();
        let nonce = match state.last_signed {
            Some((last, at)) if last >= from_node && at.elapsed() < NONCE_HOLD => last + 1,
            _ => from_node,
        };
        state.last_signed = Some((nonce, Instant::now()));
        Ok(nonce)
    }

    async fn fee_for(&self, length: usize) -> Result<u64> {
        let fee = match self.fee {
            Some(fee) => fee,
            None => {
                let node = self
                    .node
                    .as_ref()
                    .ok_or_else(|| invalid("no fee given and no node to read a rate from"))?;
                let rate = node.fee_rate().await?.max(1);
                rate.saturating_mul(length as u64)
            }
        };
        if fee > self.max_fee {
            return Err(invalid(format!(
                "the fee of {fee} µSTX is above this client's cap of {}",
                self.max_fee
            )));
        }
        Ok(fee)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, NonceState> {
        self.nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidRequirements {
        reason: reason.into(),
    }
}

impl SchemeClient for ExactStacksClient {
    fn scheme(&self) -> &str {
        SCHEME
    }

    fn payer(&self) -> String {
        self.address().to_string()
    }

    fn can_pay(&self, requirements: &PaymentRequirements) -> bool {
        self.terms(requirements).is_ok()
    }

    fn create_payload<'a>(
        &'a self,
        requirements: &'a PaymentRequirements,
    ) -> BoxFuture<'a, Result<JsonObject>> {
        Box::pin(async move {
            let tx = self.sign_payment(requirements).await?;
            Ok(ExactStacksPayload {
                transaction: tx.to_hex(),
            }
            .to_object())
        })
    }
}
