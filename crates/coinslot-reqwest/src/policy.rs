//! [`SpendingPolicy`]: which assets may be spent, how much per request, how much in all.

use std::sync::{Arc, Mutex, PoisonError};

use coinslot_core::{Network, PaymentRequirements, Price, TokenAmount, U256};

use crate::error::RefusalReason;

/// What may be spent of one asset on one network, in the asset's decimal units (`"0.05"` USDC,
/// not `50000`), so that a cap means the same thing whatever the token's decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetLimit {
    network: Network,
    asset: String,
    decimals: u8,
    per_request: TokenAmount,
    budget: TokenAmount,
}

/// The two caps of an [`AssetLimit`], named so that they cannot be swapped: at most
/// `per_request` for one request, and `budget` in all, in token units (`"0.01"`) or, for a
/// dollar stablecoin, dollars (`"$0.01"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits<'a> {
    /// The most one request may cost.
    pub per_request: &'a str,
    /// The most all requests together may cost.
    pub budget: &'a str,
}

impl AssetLimit {
    /// `asset` (a token address, `STX`…) on `network`, with `decimals` decimals, within
    /// `limits`.
    ///
    /// Fails when a limit is not a plain decimal or has more fractional digits than the asset.
    pub fn new(
        network: Network,
        asset: impl Into<String>,
        decimals: u8,
        limits: Limits<'_>,
    ) -> coinslot_core::Result<Self> {
        Ok(Self {
            network,
            asset: asset.into(),
            decimals,
            per_request: Price::parse(limits.per_request)?.to_atomic(decimals)?,
            budget: Price::parse(limits.budget)?.to_atomic(decimals)?,
        })
    }

    /// USDC on Base Sepolia (and on the coinslot testkit's local chain), within `limits`.
    pub fn usdc_base_sepolia(limits: Limits<'_>) -> coinslot_core::Result<Self> {
        Self::new(
            Network::base_sepolia(),
            "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            6,
            limits,
        )
    }

    /// USDC on Base, within `limits`.
    pub fn usdc_base(limits: Limits<'_>) -> coinslot_core::Result<Self> {
        Self::new(
            Network::base(),
            "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            6,
            limits,
        )
    }

    fn covers(&self, offer: &PaymentRequirements) -> bool {
        self.network == offer.network && same_asset(&self.asset, &offer.asset)
    }

    fn decimal(&self, amount: U256) -> String {
        TokenAmount::from(amount).to_decimal_string(self.decimals)
    }
}

/// EVM addresses compare without their checksum case; anything else compares exactly.
fn same_asset(a: &str, b: &str) -> bool {
    if a.starts_with("0x") && b.starts_with("0x") {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// The spending policy of a paying client: the assets it may spend, each with a cap per request
/// and a budget. Nothing is paid that the policy does not allow, and the order in which assets
/// are allowed is the order of preference when a server offers several.
///
/// The budget is shared by every clone of the client and counts payments in flight, so
/// concurrent requests cannot overspend it.
///
/// ```
/// use coinslot_reqwest::{AssetLimit, Limits, SpendingPolicy};
///
/// let policy = SpendingPolicy::new()
///     .allow(AssetLimit::usdc_base_sepolia(Limits { per_request: "0.01", budget: "1.00" })?)
///     .allow(AssetLimit::usdc_base(Limits { per_request: "0.005", budget: "0.50" })?);
/// # Ok::<(), coinslot_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SpendingPolicy {
    limits: Vec<AssetLimit>,
}

impl SpendingPolicy {
    /// A policy that allows nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows an asset, after those allowed before in order of preference.
    #[must_use]
    pub fn allow(mut self, limit: AssetLimit) -> Self {
        self.limits.push(limit);
        self
    }

    pub(crate) fn into_budget(self) -> Budget {
        let spent = vec![Spend::default(); self.limits.len()];
        Budget {
            limits: self.limits.into(),
            spent: Arc::new(Mutex::new(spent)),
        }
    }
}

/// What a paying client has spent of one allowed asset (settled payments only).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Spent {
    /// The network.
    pub network: Network,
    /// The asset, as its limit names it.
    pub asset: String,
    /// The amount, in the asset's decimal units (`"0.05"`).
    pub amount: String,
    /// The amount, in atomic units.
    pub atomic: TokenAmount,
}

#[derive(Debug, Clone, Copy, Default)]
struct Spend {
    settled: U256,
    in_flight: U256,
}

/// The policy with its running totals.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    limits: Arc<[AssetLimit]>,
    spent: Arc<Mutex<Vec<Spend>>>,
}

/// An offer the policy allows, before the budget is asked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Allowed {
    /// The index of the asset's limit: its rank in the order of preference.
    pub(crate) limit: usize,
}

impl Budget {
    /// Checks an offer against the allowed assets and the cap per request.
    pub(crate) fn allows(&self, offer: &PaymentRequirements) -> Result<Allowed, RefusalReason> {
        let Some(limit) = self.limits.iter().position(|l| l.covers(offer)) else {
            return Err(if self.limits.iter().any(|l| l.network == offer.network) {
                RefusalReason::AssetNotAllowed
            } else {
                RefusalReason::NetworkNotAllowed
            });
        };
        let rule = &self.limits[limit];
        let price = offer.amount.as_u256();
        if price > rule.per_request.as_u256() {
            return Err(RefusalReason::OverRequestCap {
                cap: rule.decimal(rule.per_request.as_u256()),
                price: rule.decimal(price),
            });
        }
        Ok(Allowed { limit })
    }

    /// Holds `amount` of the budget for a payment in flight, if the budget has it.
    pub(crate) fn reserve(
        &self,
        allowed: Allowed,
        amount: TokenAmount,
    ) -> Result<Reservation, RefusalReason> {
        let rule = &self.limits[allowed.limit];
        let amount = amount.as_u256();
        let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        let spend = &mut spent[allowed.limit];
        let used = spend.settled.saturating_add(spend.in_flight);
        let remaining = rule.budget.as_u256().saturating_sub(used);
        if amount > remaining {
            return Err(RefusalReason::OverBudget {
                remaining: rule.decimal(remaining),
                price: rule.decimal(amount),
            });
        }
        spend.in_flight += amount;
        Ok(Reservation {
            budget: self.clone(),
            limit: allowed.limit,
            amount,
            done: false,
        })
    }

    /// What has been spent of each allowed asset, in the policy's order.
    pub(crate) fn spent(&self) -> Vec<Spent> {
        let spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        self.limits
            .iter()
            .zip(spent.iter())
            .map(|(limit, spend)| Spent {
                network: limit.network.clone(),
                asset: limit.asset.clone(),
                amount: limit.decimal(spend.settled),
                atomic: spend.settled.into(),
            })
            .collect()
    }
}

/// Budget held for one payment. Dropped without [`commit`](Self::commit), it is given back.
#[derive(Debug)]
pub(crate) struct Reservation {
    budget: Budget,
    limit: usize,
    amount: U256,
    done: bool,
}

impl Reservation {
    /// The payment went through: `charged` (at most the amount held) is spent, the rest given back.
    pub(crate) fn commit(mut self, charged: Option<TokenAmount>) {
        let charged = charged.map_or(self.amount, |c| c.as_u256().min(self.amount));
        let mut spent = self
            .budget
            .spent
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let spend = &mut spent[self.limit];
        spend.in_flight -= self.amount;
        spend.settled += charged;
        self.done = true;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.done {
            let mut spent = self
                .budget
                .spent
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            spent[self.limit].in_flight -= self.amount;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(amount: u64) -> PaymentRequirements {
        serde_json::from_value(serde_json::json!({
            "scheme": "exact", "network": "eip155:84532", "amount": amount.to_string(),
            "asset": "0x036cbd53842c5426634e7929541ec2318f3dcf7e",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60
        }))
        .unwrap()
    }

    #[test]
    fn caps_and_budgets_are_in_decimal_units() {
        let budget = SpendingPolicy::new()
            .allow(
                AssetLimit::usdc_base_sepolia(Limits {
                    per_request: "0.01",
                    budget: "0.025",
                })
                .unwrap(),
            )
            .into_budget();
        assert_eq!(
            budget.allows(&offer(10_001)).unwrap_err(),
            RefusalReason::OverRequestCap {
                cap: "0.01".into(),
                price: "0.010001".into()
            }
        );
        let allowed = budget.allows(&offer(10_000)).unwrap();
        let first = budget.reserve(allowed, 10_000u64.into()).unwrap();
        let second = budget.reserve(allowed, 10_000u64.into()).unwrap();
        assert_eq!(
            budget.reserve(allowed, 10_000u64.into()).unwrap_err(),
            RefusalReason::OverBudget {
                remaining: "0.005".into(),
                price: "0.01".into()
            }
        );
        drop(second); // a payment that did not go through gives its share back
        first.commit(None);
        assert!(budget.reserve(allowed, 10_000u64.into()).is_ok());
        assert_eq!(budget.spent()[0].amount, "0.01");
    }

    #[test]
    fn other_networks_and_assets_are_refused() {
        let budget = SpendingPolicy::new()
            .allow(
                AssetLimit::usdc_base(Limits {
                    per_request: "1",
                    budget: "1",
                })
                .unwrap(),
            )
            .into_budget();
        assert_eq!(
            budget.allows(&offer(1)).unwrap_err(),
            RefusalReason::NetworkNotAllowed
        );
        let budget = SpendingPolicy::new()
            .allow(
                AssetLimit::new(
                    Network::base_sepolia(),
                    "0x0000000000000000000000000000000000000001",
                    6,
                    Limits {
                        per_request: "1",
                        budget: "1",
                    },
                )
                .unwrap(),
            )
            .into_budget();
        assert_eq!(
            budget.allows(&offer(1)).unwrap_err(),
            RefusalReason::AssetNotAllowed
        );
    }
}
