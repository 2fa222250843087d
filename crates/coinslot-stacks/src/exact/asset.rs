//! The assets `exact` pays in: STX and SIP-010 tokens, named in every form the
//! implementations write (`STX`, `slip44:5757`, `ADDRESS.contract`, `sip010:…`, symbols).

use std::str::FromStr;

use crate::address::{ContractName, Principal, StacksAddress};

/// The SLIP-44 coin type of STX, as CAIP-19 and the Stacks scheme draft write it.
pub const STX_SLIP44: &str = "slip44:5757";

/// µSTX per STX.
pub const STX_DECIMALS: u8 = 6;

/// A SIP-010 token: its contract, the fungible token it defines, its decimals.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sip010Token {
    /// The contract's deployer.
    pub address: StacksAddress,
    /// The contract's name.
    pub contract_name: ContractName,
    /// The fungible token defined in the contract (post-conditions name it).
    pub asset_name: String,
    /// Decimals of the token.
    pub decimals: u8,
    /// The symbol (`sBTC`), which an offer may use as its asset.
    pub symbol: String,
}

impl Sip010Token {
    /// A token from its contract id (`ADDRESS.contract`), asset name, decimals and symbol.
    pub fn new(
        contract: &str,
        asset_name: &str,
        decimals: u8,
        symbol: &str,
    ) -> Result<Self, crate::AddressError> {
        let Principal::Contract(address, contract_name) = contract.parse()? else {
            return Err(crate::AddressError::ContractName(contract.to_owned()));
        };
        Ok(Self {
            address,
            contract_name,
            asset_name: asset_name.to_owned(),
            decimals,
            symbol: symbol.to_owned(),
        })
    }

    /// `ADDRESS.contract`.
    pub fn contract_id(&self) -> String {
        format!("{}.{}", self.address, self.contract_name)
    }

    /// `sip010:ADDRESS.contract.asset`, the form of the Stacks scheme draft.
    pub fn caip19(&self) -> String {
        format!("sip010:{}.{}", self.contract_id(), self.asset_name)
    }

    /// Whether this is the contract `address.name`.
    pub fn is_contract(&self, address: &StacksAddress, name: &ContractName) -> bool {
        self.address == *address && self.contract_name == *name
    }

    /// sBTC on mainnet (`SM3VDX….sbtc-token`, 8 decimals).
    pub fn sbtc_mainnet() -> Self {
        known(
            "SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token",
            "sbtc-token",
            8,
            "sBTC",
        )
    }

    /// sBTC on testnet (`ST1F7Q….sbtc-token`, 8 decimals).
    pub fn sbtc_testnet() -> Self {
        known(
            "ST1F7QA2MDF17S807EPA36TSS8AMEFY4KA9TVGWXT.sbtc-token",
            "sbtc-token",
            8,
            "sBTC",
        )
    }

    /// USDCx on mainnet (`SP120S….usdcx`, 6 decimals).
    pub fn usdcx_mainnet() -> Self {
        known(
            "SP120SBRBQJ00MCWS7TM5R8WJNTTKD5K0HFRC2CNE.usdcx",
            "usdcx-token",
            6,
            "USDCx",
        )
    }

    /// USDCx on testnet: the contract x402-stacks and the AIBTC API name (`ST1PQH….usdcx`;
    /// Circle has announced none on testnet).
    pub fn usdcx_testnet() -> Self {
        known(
            "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.usdcx",
            "usdcx-token",
            6,
            "USDCx",
        )
    }
}

fn known(contract: &str, asset: &str, decimals: u8, symbol: &str) -> Sip010Token {
    // These literals are checked by the tests of this module; a failure here is a typo.
    Sip010Token::new(contract, asset, decimals, symbol)
        .unwrap_or_else(|_| unreachable!("known token {contract} does not parse"))
}

/// What an offer's `asset` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetId {
    /// STX.
    Stx,
    /// A token by symbol (`sBTC`, `USDCx`), case-insensitive.
    Symbol(String),
    /// A contract, with the asset name when the form gives it.
    Contract {
        /// The deployer.
        address: StacksAddress,
        /// The contract.
        contract_name: ContractName,
        /// The fungible token, in the `sip010:` form.
        asset_name: Option<String>,
    },
}

/// Why an `asset` string names nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognized Stacks asset {0:?}")]
pub struct UnknownAsset(pub String);

impl FromStr for AssetId {
    type Err = UnknownAsset;

    /// `STX`, `slip44:5757`, `ADDRESS.contract`, `sip010:ADDRESS.contract.asset`, a network
    /// prefix (`stacks:1/sip010:…`), or a symbol.
    fn from_str(text: &str) -> Result<Self, UnknownAsset> {
        let unknown = || UnknownAsset(text.to_owned());
        let body = match text.split_once('/') {
            Some((network, rest)) if network.starts_with("stacks:") => rest,
            Some(_) => return Err(unknown()),
            None => text,
        };
        if body.eq_ignore_ascii_case("STX") || body == STX_SLIP44 {
            return Ok(Self::Stx);
        }
        if let Some(id) = body.strip_prefix("sip010:") {
            let mut parts = id.splitn(3, '.');
            let (Some(address), Some(name), asset) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(unknown());
            };
            return Ok(Self::Contract {
                address: address.parse().map_err(|_| unknown())?,
                contract_name: ContractName::new(name).map_err(|_| unknown())?,
                asset_name: asset
                    .filter(|a| crate::clarity::is_clarity_name(a))
                    .map(str::to_owned),
            });
        }
        if body.contains('.') {
            let Ok(Principal::Contract(address, contract_name)) = body.parse() else {
                return Err(unknown());
            };
            return Ok(Self::Contract {
                address,
                contract_name,
                asset_name: None,
            });
        }
        if !body.is_empty() && body.len() <= 16 && body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(Self::Symbol(body.to_owned()));
        }
        Err(unknown())
    }
}

/// What a payment moves: STX or one SIP-010 token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StacksAsset {
    /// STX.
    Stx,
    /// A SIP-010 token.
    Sip010(Sip010Token),
}

impl StacksAsset {
    /// Decimals.
    pub fn decimals(&self) -> u8 {
        match self {
            Self::Stx => STX_DECIMALS,
            Self::Sip010(token) => token.decimals,
        }
    }

    /// The `asset` an offer writes: `STX`, or `ADDRESS.contract` (the forms x402-stacks and the
    /// AIBTC API read; the `sip010:` form of the draft spec is also read, never written, since
    /// x402-stacks 2.0 splits it wrongly).
    pub fn offer_id(&self) -> String {
        match self {
            Self::Stx => "STX".to_owned(),
            Self::Sip010(token) => token.contract_id(),
        }
    }
}

/// The tokens a client or facilitator knows on one network, by contract and symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenList {
    tokens: Vec<Sip010Token>,
}

impl TokenList {
    /// sBTC and USDCx of mainnet or testnet.
    pub fn known(mainnet: bool) -> Self {
        let tokens = if mainnet {
            vec![Sip010Token::sbtc_mainnet(), Sip010Token::usdcx_mainnet()]
        } else {
            vec![Sip010Token::sbtc_testnet(), Sip010Token::usdcx_testnet()]
        };
        Self { tokens }
    }

    /// No token at all (STX only).
    pub fn empty() -> Self {
        Self { tokens: Vec::new() }
    }

    /// Adds a token; one already listed under the same contract is replaced.
    pub fn add(&mut self, token: Sip010Token) {
        self.tokens
            .retain(|t| !t.is_contract(&token.address, &token.contract_name));
        self.tokens.push(token);
    }

    /// The tokens.
    pub fn tokens(&self) -> &[Sip010Token] {
        &self.tokens
    }

    /// What `asset` names, if it is STX or a listed token. A contract form must name a listed
    /// contract exactly (deployer and name); an asset name, when the form gives one, must be
    /// the token's.
    pub fn resolve(&self, asset: &str) -> Option<StacksAsset> {
        match asset.parse::<AssetId>().ok()? {
            AssetId::Stx => Some(StacksAsset::Stx),
            AssetId::Symbol(symbol) => self
                .tokens
                .iter()
                .find(|t| t.symbol.eq_ignore_ascii_case(&symbol))
                .cloned()
                .map(StacksAsset::Sip010),
            AssetId::Contract {
                address,
                contract_name,
                asset_name,
            } => self
                .tokens
                .iter()
                .find(|t| {
                    t.is_contract(&address, &contract_name)
                        && asset_name.as_ref().is_none_or(|a| *a == t.asset_name)
                })
                .cloned()
                .map(StacksAsset::Sip010),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tokens_parse() {
        for mainnet in [true, false] {
            assert_eq!(TokenList::known(mainnet).tokens().len(), 2);
        }
    }

    #[test]
    fn every_form_resolves() {
        let list = TokenList::known(true);
        let sbtc = StacksAsset::Sip010(Sip010Token::sbtc_mainnet());
        for form in [
            "SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token",
            "sip010:SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token.sbtc-token",
            "stacks:1/sip010:SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token.sbtc-token",
            "sBTC",
            "SBTC",
        ] {
            assert_eq!(list.resolve(form), Some(sbtc.clone()), "{form}");
        }
        for form in ["STX", "stx", "slip44:5757"] {
            assert_eq!(list.resolve(form), Some(StacksAsset::Stx));
        }
        for form in [
            "sip010:SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token.other",
            "ST1F7QA2MDF17S807EPA36TSS8AMEFY4KA9TVGWXT.sbtc-token",
            "eip155:1/erc20:0x00",
            "",
            "slip44:0",
        ] {
            assert_eq!(list.resolve(form), None, "{form}");
        }
    }
}
