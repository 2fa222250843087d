//! The SIP-005 transaction: its codec, its txid, and its parts.
//!
//! Layout: version (1), chain id (4), authorization, anchor mode (1), post-condition mode
//! (1), post-conditions (u32 count, items), payload. Decoding is strict: every enum byte must
//! name something, every length is checked against what is left, and nothing may follow.

mod auth;
mod payload;
mod post_condition;

use std::fmt;

pub use auth::{
    AUTH_SPONSORED, AUTH_STANDARD, AuthField, Authorization, HashMode, KeyEncoding, MultiSig,
    SingleSig, SpendingCondition,
};
pub use payload::{Memo, MicroblockHeader, Payload, TenureChange, memo};
pub use post_condition::{
    AssetInfo, FungibleCode, NonFungibleCode, PostCondition, PostConditionPrincipal, PoxCode,
};

use crate::codec::{DecodeError, DecodeErrorKind, Reader, decode_hex};
use crate::hash::sha512_256;

/// The chain id of Stacks mainnet.
pub const CHAIN_ID_MAINNET: u32 = 0x0000_0001;
/// The chain id of Stacks testnet.
pub const CHAIN_ID_TESTNET: u32 = 0x8000_0000;

/// The largest transaction the decoder takes (the node's own limit is lower).
pub const MAX_TRANSACTION_LEN: usize = 2 * 1024 * 1024;

/// Mainnet or testnet, as the first byte of a transaction says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TransactionVersion {
    /// `0x00`.
    Mainnet = 0x00,
    /// `0x80`.
    Testnet = 0x80,
}

impl TransactionVersion {
    /// The chain id that goes with this version on the public networks.
    pub fn default_chain_id(self) -> u32 {
        match self {
            Self::Mainnet => CHAIN_ID_MAINNET,
            Self::Testnet => CHAIN_ID_TESTNET,
        }
    }

    /// Whether this is mainnet.
    pub fn is_mainnet(self) -> bool {
        self == Self::Mainnet
    }
}

/// Where a transaction may be mined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum AnchorMode {
    /// In an anchored block only.
    OnChainOnly = 1,
    /// In a microblock only.
    OffChainOnly = 2,
    /// Either.
    Any = 3,
}

/// What happens to asset movements the post-conditions do not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PostConditionMode {
    /// Allowed.
    Allow = 1,
    /// Refused: the transaction aborts.
    Deny = 2,
    /// Refused for the origin's assets only.
    Originator = 3,
}

/// A transaction id: SHA-512/256 of the encoded transaction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Txid(pub [u8; 32]);

impl fmt::Display for Txid {
    /// `0x` and 64 lowercase hex digits, as the node and the Hiro API write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Txid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Txid({self})")
    }
}

/// A Stacks transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Mainnet or testnet.
    pub version: TransactionVersion,
    /// The chain id.
    pub chain_id: u32,
    /// Who signs and pays.
    pub auth: Authorization,
    /// Where it may be mined.
    pub anchor_mode: AnchorMode,
    /// What happens to movements the post-conditions do not name.
    pub post_condition_mode: PostConditionMode,
    /// The post-conditions.
    pub post_conditions: Vec<PostCondition>,
    /// What it does.
    pub payload: Payload,
}

impl Transaction {
    /// The consensus encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.push(self.version as u8);
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        self.auth.encode(&mut out);
        out.push(self.anchor_mode as u8);
        out.push(self.post_condition_mode as u8);
        out.extend_from_slice(
            &u32::try_from(self.post_conditions.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        for condition in &self.post_conditions {
            condition.encode(&mut out);
        }
        self.payload.encode(&mut out);
        out
    }

    /// The consensus encoding as lowercase hex, without a prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    /// The transaction id.
    pub fn txid(&self) -> Txid {
        Txid(sha512_256(&self.to_bytes()))
    }

    /// Decodes exactly one transaction from `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_TRANSACTION_LEN {
            return Err(too_long(bytes.len()));
        }
        let mut reader = Reader::new(bytes);
        let version = reader.enum_byte("transaction version", |b| match b {
            0x00 => Some(TransactionVersion::Mainnet),
            0x80 => Some(TransactionVersion::Testnet),
            _ => None,
        })?;
        let chain_id = reader.u32()?;
        let auth = Authorization::decode(&mut reader)?;
        let anchor_mode = reader.enum_byte("anchor mode", |b| match b {
            1 => Some(AnchorMode::OnChainOnly),
            2 => Some(AnchorMode::OffChainOnly),
            3 => Some(AnchorMode::Any),
            _ => None,
        })?;
        let post_condition_mode = reader.enum_byte("post-condition mode", |b| match b {
            1 => Some(PostConditionMode::Allow),
            2 => Some(PostConditionMode::Deny),
            3 => Some(PostConditionMode::Originator),
            _ => None,
        })?;
        // The smallest post-condition (STX, origin) takes 11 bytes.
        let count = reader.length("post-conditions", u32::MAX.into(), 11)?;
        let mut post_conditions = Vec::with_capacity(count);
        for _ in 0..count {
            post_conditions.push(PostCondition::decode(&mut reader)?);
        }
        let payload = Payload::decode(&mut reader)?;
        reader.finish()?;
        Ok(Self {
            version,
            chain_id,
            auth,
            anchor_mode,
            post_condition_mode,
            post_conditions,
            payload,
        })
    }

    /// Decodes hex (with or without `0x`) holding exactly one transaction.
    pub fn from_hex(text: &str) -> Result<Self, DecodeError> {
        if text.len() > 2 + 2 * MAX_TRANSACTION_LEN {
            return Err(too_long(text.len() / 2));
        }
        Self::from_bytes(&decode_hex(text)?)
    }
}

fn too_long(len: usize) -> DecodeError {
    Reader::error_at(
        0,
        DecodeErrorKind::TooLong {
            field: "transaction",
            len: len as u64,
        },
    )
}
