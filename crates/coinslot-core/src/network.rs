//! Networks: [CAIP-2] chain identifiers, patterns over them, and the names x402 v1 used.
//!
//! ```
//! use coinslot_core::{Network, NetworkPattern};
//!
//! let base_sepolia: Network = "eip155:84532".parse()?;
//! assert_eq!(base_sepolia.namespace(), "eip155");
//! assert_eq!(base_sepolia.eip155_chain_id(), Some(84532));
//! assert_eq!(base_sepolia.v1_name(), Some("base-sepolia"));
//! assert_eq!(Network::from_v1_name("base-sepolia")?, base_sepolia);
//!
//! let any_evm: NetworkPattern = "eip155:*".parse()?;
//! assert!(any_evm.matches(&base_sepolia));
//! assert!(!any_evm.matches(&Network::stacks_mainnet()));
//! # Ok::<(), coinslot_core::Error>(())
//! ```
//!
//! [CAIP-2]: https://github.com/ChainAgnostic/CAIPs/blob/main/CAIPs/caip-2.md

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A CAIP-2 chain identifier, `namespace:reference`, such as `eip155:8453` or `stacks:1`.
///
/// Parsing enforces the CAIP-2 character rules: the namespace is 3 to 8 characters of
/// `[-a-z0-9]`, the reference 1 to 32 characters of `[-_a-zA-Z0-9]`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Network {
    id: Box<str>,
    colon: u8,
}

/// Largest namespace length CAIP-2 allows.
const MAX_NAMESPACE: usize = 8;
/// Largest reference length CAIP-2 allows.
const MAX_REFERENCE: usize = 32;

/// The x402 v1 network names and their CAIP-2 identifiers.
const V1_NAMES: &[(&str, &str)] = &[
    ("base", "eip155:8453"),
    ("base-sepolia", "eip155:84532"),
    ("avalanche", "eip155:43114"),
    ("avalanche-fuji", "eip155:43113"),
    ("polygon", "eip155:137"),
    ("polygon-amoy", "eip155:80002"),
    ("sei", "eip155:1329"),
    ("sei-testnet", "eip155:1328"),
    ("abstract", "eip155:2741"),
    ("abstract-testnet", "eip155:11124"),
    ("iotex", "eip155:4689"),
    ("peaq", "eip155:3338"),
    ("story", "eip155:1514"),
    ("educhain", "eip155:41923"),
    ("skale-base-sepolia", "eip155:324705682"),
    ("megaeth", "eip155:4326"),
    ("monad", "eip155:143"),
    ("stable", "eip155:988"),
    ("stable-testnet", "eip155:2201"),
    ("ethereum", "eip155:1"),
    ("sepolia", "eip155:11155111"),
    ("solana", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
    ("solana-devnet", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"),
];

impl Network {
    /// Base mainnet, `eip155:8453`.
    pub fn base() -> Self {
        Self::eip155(8453)
    }
    /// Base Sepolia, `eip155:84532`: the chain of coinslot's local anvil.
    pub fn base_sepolia() -> Self {
        Self::eip155(84532)
    }
    /// Stacks mainnet, `stacks:1`.
    pub fn stacks_mainnet() -> Self {
        Self::from_valid("stacks:1")
    }
    /// Stacks testnet, `stacks:2147483648`.
    pub fn stacks_testnet() -> Self {
        Self::from_valid("stacks:2147483648")
    }
}

impl Network {
    /// Parses a CAIP-2 identifier.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidNetwork {
            input: input.to_owned(),
            reason,
        };
        let (namespace, reference) = input
            .split_once(':')
            .ok_or_else(|| invalid("missing ':' between namespace and reference"))?;
        check_namespace(namespace).map_err(invalid)?;
        if reference.is_empty() {
            return Err(invalid("empty reference"));
        }
        if reference.len() > MAX_REFERENCE {
            return Err(invalid("reference longer than 32 characters"));
        }
        if !reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid("reference has a character outside [-_a-zA-Z0-9]"));
        }
        Ok(Self::from_valid(input))
    }

    /// `eip155:<chain_id>`.
    pub fn eip155(chain_id: u64) -> Self {
        Self::from_valid(&format!("eip155:{chain_id}"))
    }

    fn from_valid(id: &str) -> Self {
        let colon = id.find(':').unwrap_or(0);
        Self {
            id: id.into(),
            // CAIP-2 namespaces are at most 8 bytes.
            colon: colon as u8,
        }
    }

    /// The whole identifier.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The part before the colon: `eip155`, `solana`, `stacks`…
    pub fn namespace(&self) -> &str {
        &self.id[..usize::from(self.colon)]
    }

    /// The part after the colon: a chain id, a genesis hash…
    pub fn reference(&self) -> &str {
        &self.id[usize::from(self.colon) + 1..]
    }

    /// The EVM chain id, for an `eip155:` network whose reference is a decimal `u64` without
    /// leading zeros.
    pub fn eip155_chain_id(&self) -> Option<u64> {
        if self.namespace() != "eip155" {
            return None;
        }
        let reference = self.reference();
        if reference.len() > 1 && reference.starts_with('0') {
            return None;
        }
        if !reference.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        reference.parse().ok()
    }

    /// The network an x402 v1 name stands for (`base-sepolia` is `eip155:84532`).
    pub fn from_v1_name(name: &str) -> Result<Self> {
        V1_NAMES
            .iter()
            .find(|(v1, _)| *v1 == name)
            .map(|(_, caip2)| Self::from_valid(caip2))
            .ok_or_else(|| Error::UnknownNetworkName {
                name: name.to_owned(),
            })
    }

    /// The x402 v1 name of this network, if it has one.
    pub fn v1_name(&self) -> Option<&'static str> {
        V1_NAMES
            .iter()
            .find(|(_, caip2)| *caip2 == self.as_str())
            .map(|(v1, _)| *v1)
    }

    /// The x402 v1 name, or an error saying the network has none.
    pub fn try_v1_name(&self) -> Result<&'static str> {
        self.v1_name().ok_or_else(|| Error::NoV1Name {
            network: self.to_string(),
        })
    }
}

fn check_namespace(namespace: &str) -> std::result::Result<(), &'static str> {
    if namespace.len() < 3 {
        return Err("namespace shorter than 3 characters");
    }
    if namespace.len() > MAX_NAMESPACE {
        return Err("namespace longer than 8 characters");
    }
    if !namespace
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("namespace has a character outside [-a-z0-9]");
    }
    Ok(())
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Network({})", self.id)
    }
}

impl AsRef<str> for Network {
    fn as_ref(&self) -> &str {
        &self.id
    }
}

/// A set of networks: one network (`eip155:8453`), every network of a namespace (`eip155:*`),
/// or a list of references (`eip155:{1,8453,84532}`).
///
/// Used where the reference and the facilitators register schemes and signers by pattern.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NetworkPattern {
    text: Box<str>,
    kind: PatternKind,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum PatternKind {
    Exact(Network),
    Namespace(Box<str>),
    References(Box<str>, Vec<Box<str>>),
}

impl NetworkPattern {
    /// Parses `ns:ref`, `ns:*` or `ns:{ref,ref,…}`.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidNetworkPattern {
            input: input.to_owned(),
            reason,
        };
        let (namespace, reference) = input
            .split_once(':')
            .ok_or_else(|| invalid("missing ':' between namespace and reference"))?;
        check_namespace(namespace).map_err(invalid)?;
        let kind = if reference == "*" {
            PatternKind::Namespace(namespace.into())
        } else if let Some(list) = reference
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
        {
            let mut references = Vec::new();
            for item in list.split(',') {
                let network = Network::parse(&format!("{namespace}:{item}"))
                    .map_err(|_| invalid("a listed reference is not valid CAIP-2"))?;
                references.push(network.reference().into());
            }
            PatternKind::References(namespace.into(), references)
        } else {
            PatternKind::Exact(
                Network::parse(input).map_err(|_| invalid("reference is not valid CAIP-2"))?,
            )
        };
        Ok(Self {
            text: input.into(),
            kind,
        })
    }

    /// The pattern that matches every network of `namespace` (`eip155:*`).
    pub fn namespace(namespace: &str) -> Result<Self> {
        Self::parse(&format!("{namespace}:*"))
    }

    /// Whether `network` is in this set.
    pub fn matches(&self, network: &Network) -> bool {
        match &self.kind {
            PatternKind::Exact(exact) => exact == network,
            PatternKind::Namespace(ns) => **ns == *network.namespace(),
            PatternKind::References(ns, refs) => {
                **ns == *network.namespace() && refs.iter().any(|r| **r == *network.reference())
            }
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<Network> for NetworkPattern {
    fn from(network: Network) -> Self {
        Self {
            text: network.as_str().into(),
            kind: PatternKind::Exact(network),
        }
    }
}

impl fmt::Debug for NetworkPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetworkPattern({})", self.text)
    }
}

/// `FromStr` through `parse`, and `Display` and serde as the identifier's text.
macro_rules! text_impls {
    ($($ty:ty),*) => {$(
        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

text_impls!(Network, NetworkPattern);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_v1_name_maps_both_ways() {
        for (name, caip2) in V1_NAMES {
            let network = Network::from_v1_name(name).unwrap();
            assert_eq!(network.as_str(), *caip2);
            assert_eq!(network.v1_name(), Some(*name));
            assert_eq!(Network::parse(caip2).unwrap(), network);
        }
    }

    #[test]
    fn stacks_networks() {
        assert_eq!(Network::stacks_mainnet().reference(), "1");
        assert_eq!(Network::stacks_testnet().as_str(), "stacks:2147483648");
        assert_eq!(Network::stacks_testnet().eip155_chain_id(), None);
    }

    #[test]
    fn reference_list_pattern() {
        let p = NetworkPattern::parse("eip155:{1,8453}").unwrap();
        assert!(p.matches(&Network::eip155(8453)));
        assert!(!p.matches(&Network::eip155(84532)));
    }
}
