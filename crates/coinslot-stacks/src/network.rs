//! The two Stacks networks and what names them: CAIP-2 ids, transaction versions, chain ids.

use coinslot_core::Network;

use crate::transaction::{CHAIN_ID_MAINNET, CHAIN_ID_TESTNET, Transaction, TransactionVersion};

/// Stacks mainnet or testnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StacksNetwork {
    /// `stacks:1`: version 0x00, chain id 1.
    Mainnet,
    /// `stacks:2147483648`: version 0x80, chain id 0x80000000.
    Testnet,
}

impl StacksNetwork {
    /// The network a CAIP-2 id names, if it is a Stacks one.
    pub fn from_caip2(network: &Network) -> Option<Self> {
        match (network.namespace(), network.reference()) {
            ("stacks", "1") => Some(Self::Mainnet),
            ("stacks", "2147483648") => Some(Self::Testnet),
            _ => None,
        }
    }

    /// The CAIP-2 id.
    pub fn caip2(self) -> Network {
        match self {
            Self::Mainnet => Network::stacks_mainnet(),
            Self::Testnet => Network::stacks_testnet(),
        }
    }

    /// Whether this is mainnet.
    pub fn is_mainnet(self) -> bool {
        self == Self::Mainnet
    }

    /// The transaction version byte.
    pub fn version(self) -> TransactionVersion {
        match self {
            Self::Mainnet => TransactionVersion::Mainnet,
            Self::Testnet => TransactionVersion::Testnet,
        }
    }

    /// The chain id.
    pub fn chain_id(self) -> u32 {
        match self {
            Self::Mainnet => CHAIN_ID_MAINNET,
            Self::Testnet => CHAIN_ID_TESTNET,
        }
    }

    /// Whether a transaction is for this network: both its version and its chain id.
    pub fn holds(self, tx: &Transaction) -> bool {
        tx.version == self.version() && tx.chain_id == self.chain_id()
    }
}
