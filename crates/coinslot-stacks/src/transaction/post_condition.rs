//! Post-conditions: limits on what a transaction may move, checked by the node after it runs.

use crate::address::{ContractName, StacksAddress};
use crate::clarity::{ClarityValue, put_name, read_address, read_clarity_name, read_contract_name};
use crate::codec::{DecodeError, Reader};

/// Whose assets a post-condition is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostConditionPrincipal {
    /// The transaction's origin.
    Origin,
    /// An account.
    Standard(StacksAddress),
    /// A contract.
    Contract(StacksAddress, ContractName),
}

/// A fungible asset: `ADDRESS.contract::asset-name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetInfo {
    /// The contract's deployer.
    pub address: StacksAddress,
    /// The contract.
    pub contract_name: ContractName,
    /// The asset defined in the contract (for sBTC `sbtc-token`).
    pub asset_name: String,
}

/// How an amount compares in a fungible post-condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FungibleCode {
    /// Exactly.
    Equal = 1,
    /// More than.
    Greater = 2,
    /// At least.
    GreaterEqual = 3,
    /// Less than.
    Less = 4,
    /// At most.
    LessEqual = 5,
}

impl FungibleCode {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            1 => Self::Equal,
            2 => Self::Greater,
            3 => Self::GreaterEqual,
            4 => Self::Less,
            5 => Self::LessEqual,
            _ => return None,
        })
    }

    /// Whether `moved` satisfies the condition against `amount`.
    pub fn holds(self, moved: u128, amount: u128) -> bool {
        match self {
            Self::Equal => moved == amount,
            Self::Greater => moved > amount,
            Self::GreaterEqual => moved >= amount,
            Self::Less => moved < amount,
            Self::LessEqual => moved <= amount,
        }
    }
}

/// How a non-fungible post-condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum NonFungibleCode {
    /// The principal sends the asset.
    Sends = 0x10,
    /// The principal keeps the asset.
    DoesNotSend = 0x11,
    /// The principal may send it.
    MaybeSent = 0x12,
}

/// How a PoX post-condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PoxCode {
    /// The principal does not stack.
    WillNotPerform = 0x30,
    /// The principal may stack.
    MayPerform = 0x31,
    /// The principal stacks.
    WillPerform = 0x32,
}

/// A post-condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostCondition {
    /// STX sent by the principal.
    Stx {
        /// Whose STX.
        principal: PostConditionPrincipal,
        /// The comparison.
        code: FungibleCode,
        /// µSTX.
        amount: u64,
    },
    /// A fungible token sent by the principal.
    Fungible {
        /// Whose tokens.
        principal: PostConditionPrincipal,
        /// Which token.
        asset: AssetInfo,
        /// The comparison.
        code: FungibleCode,
        /// Atomic units.
        amount: u64,
    },
    /// A non-fungible token.
    NonFungible {
        /// Whose token.
        principal: PostConditionPrincipal,
        /// Which asset class.
        asset: AssetInfo,
        /// Which token of the class.
        asset_value: ClarityValue,
        /// What happens to it.
        code: NonFungibleCode,
    },
    /// STX locked by stacking (epoch 4.0).
    Staking {
        /// Whose STX.
        principal: PostConditionPrincipal,
        /// The comparison.
        code: FungibleCode,
        /// µSTX.
        amount: u64,
    },
    /// Whether the principal stacks (epoch 4.0).
    Pox {
        /// Who.
        principal: PostConditionPrincipal,
        /// What.
        code: PoxCode,
    },
}

impl PostConditionPrincipal {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Origin => out.push(0x01),
            Self::Standard(address) => {
                out.push(0x02);
                out.push(address.version);
                out.extend_from_slice(&address.hash160);
            }
            Self::Contract(address, name) => {
                out.push(0x03);
                out.push(address.version);
                out.extend_from_slice(&address.hash160);
                put_name(out, name.as_str());
            }
        }
    }

    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = reader.offset();
        match reader.u8()? {
            0x01 => Ok(Self::Origin),
            0x02 => Ok(Self::Standard(read_address(reader)?)),
            0x03 => {
                let address = read_address(reader)?;
                Ok(Self::Contract(address, read_contract_name(reader)?))
            }
            value => Err(Reader::unknown(at, "post-condition principal", value)),
        }
    }
}

impl AssetInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.address.version);
        out.extend_from_slice(&self.address.hash160);
        put_name(out, self.contract_name.as_str());
        put_name(out, &self.asset_name);
    }

    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            address: read_address(reader)?,
            contract_name: read_contract_name(reader)?,
            asset_name: read_clarity_name(reader)?,
        })
    }
}

impl PostCondition {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Stx {
                principal,
                code,
                amount,
            } => {
                out.push(0);
                principal.encode(out);
                out.push(*code as u8);
                out.extend_from_slice(&amount.to_be_bytes());
            }
            Self::Fungible {
                principal,
                asset,
                code,
                amount,
            } => {
                out.push(1);
                principal.encode(out);
                asset.encode(out);
                out.push(*code as u8);
                out.extend_from_slice(&amount.to_be_bytes());
            }
            Self::NonFungible {
                principal,
                asset,
                asset_value,
                code,
            } => {
                out.push(2);
                principal.encode(out);
                asset.encode(out);
                asset_value.encode(out);
                out.push(*code as u8);
            }
            Self::Staking {
                principal,
                code,
                amount,
            } => {
                out.push(3);
                principal.encode(out);
                out.push(*code as u8);
                out.extend_from_slice(&amount.to_be_bytes());
            }
            Self::Pox { principal, code } => {
                out.push(4);
                principal.encode(out);
                out.push(*code as u8);
            }
        }
    }

    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = reader.offset();
        let kind = reader.u8()?;
        let fungible = |reader: &mut Reader<'_>| {
            reader.enum_byte("fungible condition code", FungibleCode::from_byte)
        };
        Ok(match kind {
            0 => Self::Stx {
                principal: PostConditionPrincipal::decode(reader)?,
                code: fungible(reader)?,
                amount: reader.u64()?,
            },
            1 => Self::Fungible {
                principal: PostConditionPrincipal::decode(reader)?,
                asset: AssetInfo::decode(reader)?,
                code: fungible(reader)?,
                amount: reader.u64()?,
            },
            2 => Self::NonFungible {
                principal: PostConditionPrincipal::decode(reader)?,
                asset: AssetInfo::decode(reader)?,
                asset_value: ClarityValue::decode(reader)?,
                code: reader.enum_byte("non-fungible condition code", |b| {
                    Some(match b {
                        0x10 => NonFungibleCode::Sends,
                        0x11 => NonFungibleCode::DoesNotSend,
                        0x12 => NonFungibleCode::MaybeSent,
                        _ => return None,
                    })
                })?,
            },
            3 => Self::Staking {
                principal: PostConditionPrincipal::decode(reader)?,
                code: fungible(reader)?,
                amount: reader.u64()?,
            },
            4 => Self::Pox {
                principal: PostConditionPrincipal::decode(reader)?,
                code: reader.enum_byte("pox condition code", |b| {
                    Some(match b {
                        0x30 => PoxCode::WillNotPerform,
                        0x31 => PoxCode::MayPerform,
                        0x32 => PoxCode::WillPerform,
                        _ => return None,
                    })
                })?,
            },
            value => return Err(Reader::unknown(at, "post-condition type", value)),
        })
    }
}
