//! [`LocalFacilitator`]: the registry of scheme facilitators behind the [`Facilitator`] trait,
//! settling each payment exactly once.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use coinslot_core::{
    BoxFuture, Error, ErrorReason, Facilitator, Network, NetworkPattern, PaymentId, Result,
    SchemeFacilitator, SettleRequest, SettleResponse, SupportedResponse, TokenAmount,
    VerifyRequest, VerifyResponse,
};
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;

use crate::registry::Registry;
use crate::store::{MemoryStore, Record, SettlementStore};

/// The answer every caller of one settlement gets; errors are shared as text.
type Shared = std::result::Result<SettleResponse, String>;

/// Verifies and settles with the scheme facilitators it holds, in this process.
///
/// Settlement is exactly-once, and so is its success: of all the settles of one payment,
/// concurrent or later, in this process or another sharing the [`SettlementStore`], one sends
/// the transaction and exactly one is answered `success: true`. Every other is answered
/// `success: false` with `duplicate_settlement` and the first settlement's transaction, so a
/// server that relies on a second settle failing (rather than on a replay guard of its own)
/// never serves one payment twice. A settlement answered `settlement_pending` is finished by a
/// later settle, which is then the one that succeeds. A payment recorded as settled, sent or in
/// flight is not verified as fresh. The settling itself runs in its own task, so a caller that
/// goes away (a client hanging up) cannot cut a settlement off between sending and recording.
///
/// Zero-value payments are refused (`invalid_payment_requirements`): settling them would
/// spend gas for nothing. [`with_minimum_amount`](LocalFacilitatorBuilder::with_minimum_amount)
/// raises the floor. For `upto` the floor applies to the signed maximum at verify and to a
/// charge at settle, but for a charge of 0, which sends no transaction.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use coinslot_core::Facilitator;
/// use coinslot_evm::alloy::signers::local::PrivateKeySigner;
/// use coinslot_evm::exact::ExactEvmFacilitator;
/// use coinslot_facilitator::LocalFacilitator;
/// use coinslot_facilitator::store::SqliteStore;
///
/// // `exact` with EIP-3009 on the chain at this node, settling with this key.
/// let key: PrivateKeySigner = std::env::var("EVM_PRIVATE_KEY")?.parse()?;
/// let exact = ExactEvmFacilitator::connect("http://127.0.0.1:8545", [key]).await?;
/// let facilitator = LocalFacilitator::builder()
///     .with_scheme(exact)
///     .with_store(SqliteStore::open("settlements.db")?)
///     .build();
/// let supported = facilitator.supported().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LocalFacilitator {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    store: Box<dyn SettlementStore>,
    minimums: Minimums,
    /// Settlements running in this process, by key.
    running: Mutex<HashMap<String, watch::Receiver<Option<Shared>>>>,
}

impl fmt::Debug for LocalFacilitator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalFacilitator")
            .field("registry", &self.inner.registry)
            .finish_non_exhaustive()
    }
}

/// Builds a [`LocalFacilitator`].
#[derive(Debug)]
pub struct LocalFacilitatorBuilder {
    registry: Registry,
    store: Option<Box<dyn SettlementStore>>,
    minimums: Minimums,
}

/// The least amount, in atomic units, a payment may be for: per asset, else the default.
#[derive(Debug, Clone)]
struct Minimums {
    default: TokenAmount,
    /// By asset as written in requirements, compared without regard to case (EVM addresses
    /// come in either).
    by_asset: Vec<(String, TokenAmount)>,
}

impl Minimums {
    fn of(&self, asset: &str) -> TokenAmount {
        self.by_asset
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(asset))
            .map_or(self.default, |(_, minimum)| *minimum)
    }

    /// Why `request` is for too little, if it is.
    fn refusal(&self, request: &VerifyRequest) -> Option<String> {
        let minimum = self.of(request.asset());
        (request.amount() < minimum).then(|| {
            format!(
                "the amount {} is below this facilitator's minimum of {minimum} for {}",
                request.amount(),
                request.asset()
            )
        })
    }
}

impl fmt::Debug for dyn SettlementStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SettlementStore")
    }
}

impl LocalFacilitatorBuilder {
    /// Handles `scheme` in versions 1 and 2 on the networks it names.
    #[must_use]
    pub fn with_scheme(mut self, scheme: impl SchemeFacilitator + 'static) -> Self {
        self.registry.register(Arc::new(scheme));
        self
    }

    /// Handles `scheme` in one version on the networks `pattern` matches.
    #[must_use]
    pub fn with_scheme_for(
        mut self,
        x402_version: u8,
        pattern: NetworkPattern,
        scheme: impl SchemeFacilitator + 'static,
    ) -> Self {
        self.registry
            .register_for(x402_version, pattern, Arc::new(scheme));
        self
    }

    /// Records settlements in `store` (default: a [`MemoryStore`]).
    #[must_use]
    pub fn with_store(mut self, store: impl SettlementStore) -> Self {
        self.store = Some(Box::new(store));
        self
    }

    /// The least amount, in atomic units, of any asset this facilitator settles (default 1:
    /// zero-value payments are refused). A payment for less is refused with
    /// `invalid_payment_requirements`: a public facilitator pays gas for every settlement.
    #[must_use]
    pub fn with_minimum_amount(mut self, minimum: impl Into<TokenAmount>) -> Self {
        self.minimums.default = minimum.into();
        self
    }

    /// The least amount of `asset` (as requirements write it: a token address, `STX`…),
    /// instead of the default minimum.
    #[must_use]
    pub fn with_minimum_amount_for(
        mut self,
        asset: impl Into<String>,
        minimum: impl Into<TokenAmount>,
    ) -> Self {
        let asset = asset.into();
        self.minimums
            .by_asset
            .retain(|(a, _)| !a.eq_ignore_ascii_case(&asset));
        self.minimums.by_asset.push((asset, minimum.into()));
        self
    }

    /// Advertises an extension in `/supported`.
    #[must_use]
    pub fn with_extension(mut self, name: impl Into<String>) -> Self {
        self.registry.advertise_extension(name);
        self
    }

    /// The facilitator.
    pub fn build(self) -> LocalFacilitator {
        LocalFacilitator {
            inner: Arc::new(Inner {
                registry: self.registry,
                store: self.store.unwrap_or_else(|| Box::new(MemoryStore::new())),
                minimums: self.minimums,
                running: Mutex::new(HashMap::new()),
            }),
        }
    }
}

/// Whether a settle answer says the transaction is out but not confirmed.
fn is_pending(response: &SettleResponse) -> bool {
    !response.success
        && response.error_reason == Some(ErrorReason::SettlementPending)
        && !response.transaction().is_empty()
}

/// The answer to a settle of a payment that an earlier settle settled: not a success (the
/// payment was used), naming the first settlement's transaction.
fn duplicate_of(first: &SettleResponse) -> SettleResponse {
    let mut response = SettleResponse::failure(
        ErrorReason::DuplicateSettlement,
        first.network.clone(),
        first.payer.clone(),
    )
    .with_message("this payment was settled before, by the transaction named here");
    response.transaction = first.transaction.clone();
    response.amount = first.amount;
    response
}

/// The store key of a request: a hash of its [`PaymentId`], as the scheme gives it.
fn store_key(scheme: &dyn SchemeFacilitator, request: &VerifyRequest) -> String {
    let digest = Sha256::digest(scheme.payment_id(request).as_str().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

enum Role {
    Leader(
        watch::Sender<Option<Shared>>,
        watch::Receiver<Option<Shared>>,
    ),
    Follower(watch::Receiver<Option<Shared>>),
}

impl LocalFacilitator {
    /// Starts a facilitator with no schemes and a [`MemoryStore`].
    pub fn builder() -> LocalFacilitatorBuilder {
        LocalFacilitatorBuilder {
            registry: Registry::new(),
            store: None,
            minimums: Minimums {
                default: TokenAmount::from(1u64),
                by_asset: Vec::new(),
            },
        }
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    fn route(&self, request: &VerifyRequest) -> Result<(Network, Arc<dyn SchemeFacilitator>)> {
        let network = request.network()?;
        let scheme = self
            .inner
            .registry
            .find(request.x402_version(), request.scheme(), &network)
            .ok_or_else(|| Error::Unsupported {
                scheme: request.scheme().to_owned(),
                network: request.network_name().to_owned(),
            })?;
        Ok((network, Arc::clone(scheme)))
    }

    async fn verify_request(&self, request: &VerifyRequest) -> Result<VerifyResponse> {
        if let Some(message) = self.inner.minimums.refusal(request) {
            return Ok(
                VerifyResponse::invalid(ErrorReason::InvalidPaymentRequirements, None)
                    .with_message(message),
            );
        }
        let scheme = match self.route(request) {
            Ok((_, scheme)) => scheme,
            Err(Error::Unsupported { .. }) => {
                return Ok(VerifyResponse::invalid(
                    ErrorReason::UnsupportedScheme,
                    None,
                ));
            }
            Err(_) => {
                return Ok(VerifyResponse::invalid(ErrorReason::InvalidNetwork, None));
            }
        };
        let key = store_key(scheme.as_ref(), request);
        let running = self
            .inner
            .running
            .lock()
            .is_ok_and(|running| running.contains_key(&key));
        let seen = if running {
            Some("this payment is being settled")
        } else {
            match self.inner.store.get(&key).await? {
                Some(Record::InFlight | Record::Pending(_)) => {
                    Some("this payment is being settled")
                }
                Some(Record::Settled(response)) if response.success => {
                    Some("this payment has been settled")
                }
                Some(Record::Settled(_)) | None => None,
            }
        };
        match seen {
            Some(message) => Ok(
                VerifyResponse::invalid(ErrorReason::DuplicateSettlement, None)
                    .with_message(message),
            ),
            None => scheme.verify(request).await,
        }
    }

    async fn settle_request(&self, request: &SettleRequest) -> Result<SettleResponse> {
        // Checked here as at verify, but for an `upto` charge of 0: it sends nothing, so it
        // costs no gas (the maximum it charges against met the minimum at verify).
        let free_upto = request.scheme() == "upto" && request.amount() == TokenAmount::ZERO;
        if let Some(message) = self.inner.minimums.refusal(request).filter(|_| !free_upto) {
            return Ok(SettleResponse::failure(
                ErrorReason::InvalidPaymentRequirements,
                request.network()?,
                None,
            )
            .with_message(message));
        }
        let (network, scheme) = match self.route(request) {
            Ok(routed) => routed,
            Err(Error::Unsupported { .. }) => {
                return Ok(SettleResponse::failure(
                    ErrorReason::UnsupportedScheme,
                    request.network()?,
                    None,
                ));
            }
            Err(error) => return Err(error),
        };
        let key = store_key(scheme.as_ref(), request);
        let role = {
            let mut running = self.inner.running.lock().map_err(|_| Error::Store {
                message: "the facilitator's lock is poisoned".into(),
                source: None,
            })?;
            match running.get(&key) {
                Some(receiver) => Role::Follower(receiver.clone()),
                None => {
                    let (sender, receiver) = watch::channel(None);
                    running.insert(key.clone(), receiver.clone());
                    Role::Leader(sender, receiver)
                }
            }
        };
        let leads = matches!(role, Role::Leader(..));
        let mut receiver = match role {
            Role::Follower(receiver) => receiver,
            Role::Leader(sender, receiver) => {
                let inner = Arc::clone(&self.inner);
                let request = request.clone();
                tokio::spawn(async move {
                    let answer = inner
                        .settle_once(scheme.as_ref(), &key, &request, network)
                        .await
                        .map_err(|e| e.to_string());
                    // Publish, then forget: a later caller finds the record in the store.
                    let _ = sender.send(Some(answer));
                    if let Ok(mut running) = inner.running.lock() {
                        running.remove(&key);
                    }
                });
                receiver
            }
        };
        let answer = receiver
            .wait_for(Option::is_some)
            .await
            .map_err(|_| Error::Store {
                message: "the settlement task ended without an answer".into(),
                source: None,
            })?
            .clone();
        match answer {
            // The settlement this caller joined succeeded for the caller that started it.
            Some(Ok(response)) if response.success && !leads => Ok(duplicate_of(&response)),
            Some(Ok(response)) => Ok(response),
            Some(Err(message)) => Err(Error::Chain {
                message,
                source: None,
            }),
            None => Err(Error::Store {
                message: "the settlement task ended without an answer".into(),
                source: None,
            }),
        }
    }
}

impl Inner {
    async fn settle_once(
        &self,
        scheme: &dyn SchemeFacilitator,
        key: &str,
        request: &SettleRequest,
        network: Network,
    ) -> Result<SettleResponse> {
        match self.store.claim(key).await? {
            None => {}
            Some(Record::Settled(response)) if response.success => {
                return Ok(duplicate_of(&response));
            }
            Some(Record::Settled(response)) => return Ok(response),
            Some(Record::Pending(pending)) => {
                let response = scheme.confirm(request, &pending).await?;
                if is_pending(&response) {
                    return Ok(response);
                }
                // Of the callers that find it confirmed, the one that records it is answered
                // the success; any other, in another process, its duplicate.
                let first = self
                    .store
                    .finish_pending(key, &Record::Settled(response.clone()))
                    .await?;
                return Ok(if first || !response.success {
                    response
                } else {
                    duplicate_of(&response)
                });
            }
            Some(Record::InFlight) => {
                return Ok(
                    SettleResponse::failure(ErrorReason::SettlementPending, network, None)
                        .with_message("another facilitator is settling this payment"),
                );
            }
        }
        let response = match scheme.settle(request).await {
            Ok(response) => response,
            Err(error) => {
                // The scheme sends nothing it cannot account for: an error means nothing left.
                if let Err(release) = self.store.release(key).await {
                    tracing::error!(%key, %release, "could not release a settlement claim");
                }
                return Err(error);
            }
        };
        if !response.success && response.transaction().is_empty() {
            // Refused before anything was sent: the payment may be tried again.
            self.store.release(key).await?;
            return Ok(response);
        }
        let record = if is_pending(&response) {
            Record::Pending(response.clone())
        } else {
            Record::Settled(response.clone())
        };
        if let Err(error) = self.store.put(key, &record).await {
            // The money moved (or may have): answer truly; the claim stays in flight, which
            // refuses the payment again rather than risk a second transaction.
            tracing::error!(%key, %error, "could not record a settlement");
        }
        tracing::info!(
            %key,
            success = response.success,
            transaction = response.transaction(),
            reason = response.error_reason.as_ref().map(|r| r.as_str()),
            "settled"
        );
        Ok(response)
    }
}

impl Facilitator for LocalFacilitator {
    fn verify<'a>(&'a self, request: &'a VerifyRequest) -> BoxFuture<'a, Result<VerifyResponse>> {
        Box::pin(self.verify_request(request))
    }

    fn settle<'a>(&'a self, request: &'a SettleRequest) -> BoxFuture<'a, Result<SettleResponse>> {
        Box::pin(self.settle_request(request))
    }

    fn supported(&self) -> BoxFuture<'_, Result<SupportedResponse>> {
        Box::pin(async move { Ok(self.inner.registry.supported()) })
    }

    fn payment_id(&self, request: &VerifyRequest) -> Option<PaymentId> {
        let (_, scheme) = self.route(request).ok()?;
        Some(scheme.payment_id(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(asset: &str, amount: u64) -> VerifyRequest {
        let offer = serde_json::json!({
            "scheme": "exact", "network": "eip155:84532", "amount": amount.to_string(),
            "asset": asset, "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            "maxTimeoutSeconds": 60,
        });
        serde_json::from_value(serde_json::json!({
            "x402Version": 2,
            "paymentPayload": {"x402Version": 2, "accepted": offer, "payload": {}},
            "paymentRequirements": offer,
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn payments_below_the_minimum_are_refused_before_any_scheme() {
        let usdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
        let facilitator = LocalFacilitator::builder()
            .with_minimum_amount(10u64)
            .with_minimum_amount_for(usdc.to_lowercase(), 1000u64)
            .build();
        let reason = |answer: VerifyResponse| answer.invalid_reason.unwrap();
        for (asset, amount, expected) in [
            ("0x0000000000000000000000000000000000000001", 0, "below"),
            ("0x0000000000000000000000000000000000000001", 9, "below"),
            ("0x0000000000000000000000000000000000000001", 10, "scheme"),
            (usdc, 999, "below"),
            (usdc, 1000, "scheme"),
        ] {
            let request = request(asset, amount);
            let verified = reason(facilitator.verify(&request).await.unwrap());
            let settled = facilitator.settle(&request).await.unwrap().error_reason;
            let wanted = match expected {
                "below" => ErrorReason::InvalidPaymentRequirements,
                _ => ErrorReason::UnsupportedScheme,
            };
            assert_eq!(verified, wanted, "{asset} {amount}");
            assert_eq!(settled, Some(wanted), "{asset} {amount}");
        }
        // Zero is refused by default.
        let plain = LocalFacilitator::builder().build();
        let verified = plain.verify(&request(usdc, 0)).await.unwrap();
        assert_eq!(
            verified.invalid_reason,
            Some(ErrorReason::InvalidPaymentRequirements)
        );
    }
}
