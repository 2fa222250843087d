//! What a transaction does: its payload, one of nine kinds.

use crate::address::{ContractName, Principal, StacksAddress};
use crate::clarity::{
    ClarityValue, MAX_VALUE_SIZE, encode_principal, put_name, read_address, read_clarity_name,
    read_contract_name,
};
use crate::codec::{DecodeError, DecodeErrorKind, Reader};

/// The memo of an STX transfer: always 34 bytes, zero-padded on the right.
pub type Memo = [u8; 34];

/// A microblock header, as a poison-microblock payload carries two of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicroblockHeader {
    /// Header version.
    pub version: u8,
    /// Sequence number.
    pub sequence: u16,
    /// The parent block.
    pub prev_block: [u8; 32],
    /// Merkle root of the microblock's transactions.
    pub tx_merkle_root: [u8; 32],
    /// The miner's signature.
    pub signature: [u8; 65],
}

/// A Nakamoto tenure change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenureChange {
    /// Consensus hash of this tenure.
    pub tenure_consensus_hash: [u8; 20],
    /// Consensus hash of the previous tenure.
    pub prev_tenure_consensus_hash: [u8; 20],
    /// Consensus hash of the burnchain view.
    pub burn_view_consensus_hash: [u8; 20],
    /// The last block of the previous tenure.
    pub previous_tenure_end: [u8; 32],
    /// Blocks in the previous tenure.
    pub previous_tenure_blocks: u32,
    /// Why the tenure changes: 0 block found, 1 to 6 the kinds of extension.
    pub cause: u8,
    /// The miner's public key hash.
    pub pubkey_hash: [u8; 20],
}

/// A transaction payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Send µSTX (type 0x00).
    TokenTransfer {
        /// Who receives.
        recipient: Principal,
        /// µSTX.
        amount: u64,
        /// 34 bytes.
        memo: Memo,
    },
    /// Deploy a contract (type 0x01, or 0x06 with a Clarity version).
    SmartContract {
        /// The contract's name.
        name: ContractName,
        /// Its source.
        code: String,
        /// The Clarity version, for a versioned deployment (type 0x06).
        clarity_version: Option<u8>,
    },
    /// Call a public function (type 0x02).
    ContractCall {
        /// The contract's deployer.
        address: StacksAddress,
        /// The contract's name.
        contract_name: ContractName,
        /// The function.
        function_name: String,
        /// The arguments.
        args: Vec<ClarityValue>,
    },
    /// Report a miner's equivocating microblocks (type 0x03).
    PoisonMicroblock(Box<(MicroblockHeader, MicroblockHeader)>),
    /// A miner's coinbase (type 0x04).
    Coinbase([u8; 32]),
    /// A coinbase paid to another principal (type 0x05).
    CoinbaseToAlt([u8; 32], Principal),
    /// A tenure change (type 0x07).
    TenureChange(Box<TenureChange>),
    /// A Nakamoto coinbase (type 0x08).
    NakamotoCoinbase {
        /// The coinbase bytes.
        payload: [u8; 32],
        /// Where the reward goes, if not to the miner.
        recipient: Option<Principal>,
        /// The miner's VRF proof.
        vrf_proof: Box<[u8; 80]>,
    },
}

/// The longest contract source the decoder takes.
const MAX_CODE_LEN: u32 = MAX_VALUE_SIZE;

impl Payload {
    /// The payload type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Self::TokenTransfer { .. } => 0x00,
            Self::SmartContract {
                clarity_version: None,
                ..
            } => 0x01,
            Self::ContractCall { .. } => 0x02,
            Self::PoisonMicroblock(_) => 0x03,
            Self::Coinbase(_) => 0x04,
            Self::CoinbaseToAlt(..) => 0x05,
            Self::SmartContract {
                clarity_version: Some(_),
                ..
            } => 0x06,
            Self::TenureChange(_) => 0x07,
            Self::NakamotoCoinbase { .. } => 0x08,
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.type_byte());
        match self {
            Self::TokenTransfer {
                recipient,
                amount,
                memo,
            } => {
                encode_principal(recipient, out);
                out.extend_from_slice(&amount.to_be_bytes());
                out.extend_from_slice(memo);
            }
            Self::SmartContract {
                name,
                code,
                clarity_version,
            } => {
                if let Some(version) = clarity_version {
                    out.push(*version);
                }
                put_name(out, name.as_str());
                out.extend_from_slice(&u32::try_from(code.len()).unwrap_or(u32::MAX).to_be_bytes());
                out.extend_from_slice(code.as_bytes());
            }
            Self::ContractCall {
                address,
                contract_name,
                function_name,
                args,
            } => {
                out.push(address.version);
                out.extend_from_slice(&address.hash160);
                put_name(out, contract_name.as_str());
                put_name(out, function_name);
                out.extend_from_slice(&u32::try_from(args.len()).unwrap_or(u32::MAX).to_be_bytes());
                for arg in args {
                    arg.encode(out);
                }
            }
            Self::PoisonMicroblock(headers) => {
                headers.0.encode(out);
                headers.1.encode(out);
            }
            Self::Coinbase(payload) => out.extend_from_slice(payload),
            Self::CoinbaseToAlt(payload, recipient) => {
                out.extend_from_slice(payload);
                encode_principal(recipient, out);
            }
            Self::TenureChange(change) => {
                out.extend_from_slice(&change.tenure_consensus_hash);
                out.extend_from_slice(&change.prev_tenure_consensus_hash);
                out.extend_from_slice(&change.burn_view_consensus_hash);
                out.extend_from_slice(&change.previous_tenure_end);
                out.extend_from_slice(&change.previous_tenure_blocks.to_be_bytes());
                out.push(change.cause);
                out.extend_from_slice(&change.pubkey_hash);
            }
            Self::NakamotoCoinbase {
                payload,
                recipient,
                vrf_proof,
            } => {
                out.extend_from_slice(payload);
                match recipient {
                    Some(principal) => {
                        ClarityValue::some(ClarityValue::Principal(principal.clone())).encode(out);
                    }
                    None => ClarityValue::None.encode(out),
                }
                out.extend_from_slice(vrf_proof.as_slice());
            }
        }
    }

    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = reader.offset();
        Ok(match reader.u8()? {
            0x00 => Self::TokenTransfer {
                recipient: read_principal(reader)?,
                amount: reader.u64()?,
                memo: reader.array()?,
            },
            0x01 => decode_contract(reader, None)?,
            0x02 => {
                let address = read_address(reader)?;
                let contract_name = read_contract_name(reader)?;
                let function_name = read_clarity_name(reader)?;
                let count = reader.length("function arguments", MAX_VALUE_SIZE.into(), 1)?;
                let mut args = Vec::with_capacity(count);
                for _ in 0..count {
                    args.push(ClarityValue::decode(reader)?);
                }
                Self::ContractCall {
                    address,
                    contract_name,
                    function_name,
                    args,
                }
            }
            0x03 => Self::PoisonMicroblock(Box::new((
                MicroblockHeader::decode(reader)?,
                MicroblockHeader::decode(reader)?,
            ))),
            0x04 => Self::Coinbase(reader.array()?),
            0x05 => Self::CoinbaseToAlt(reader.array()?, read_principal(reader)?),
            0x06 => {
                let version =
                    reader.enum_byte("clarity version", |v| (1..=6).contains(&v).then_some(v))?;
                decode_contract(reader, Some(version))?
            }
            0x07 => Self::TenureChange(Box::new(TenureChange {
                tenure_consensus_hash: reader.array()?,
                prev_tenure_consensus_hash: reader.array()?,
                burn_view_consensus_hash: reader.array()?,
                previous_tenure_end: reader.array()?,
                previous_tenure_blocks: reader.u32()?,
                cause: reader.enum_byte("tenure change cause", |c| (c <= 6).then_some(c))?,
                pubkey_hash: reader.array()?,
            })),
            0x08 => {
                let payload = reader.array()?;
                let recipient_at = reader.offset();
                let recipient = match ClarityValue::decode(reader)? {
                    ClarityValue::None => None,
                    ClarityValue::Some(inner) => match *inner {
                        ClarityValue::Principal(principal) => Some(principal),
                        _ => return Err(invalid(recipient_at, "coinbase recipient")),
                    },
                    _ => return Err(invalid(recipient_at, "coinbase recipient")),
                };
                Self::NakamotoCoinbase {
                    payload,
                    recipient,
                    vrf_proof: Box::new(reader.array()?),
                }
            }
            value => return Err(Reader::unknown(at, "payload type", value)),
        })
    }
}

fn invalid(at: usize, what: &'static str) -> DecodeError {
    Reader::error_at(at, DecodeErrorKind::Invalid(what))
}

/// A principal written as a Clarity value (prefix 0x05 or 0x06).
fn read_principal(reader: &mut Reader<'_>) -> Result<Principal, DecodeError> {
    let at = reader.offset();
    match reader.u8()? {
        0x05 => Ok(Principal::Standard(read_address(reader)?)),
        0x06 => {
            let address = read_address(reader)?;
            Ok(Principal::Contract(address, read_contract_name(reader)?))
        }
        value => Err(Reader::unknown(at, "principal prefix", value)),
    }
}

fn decode_contract(
    reader: &mut Reader<'_>,
    clarity_version: Option<u8>,
) -> Result<Payload, DecodeError> {
    let name = read_contract_name(reader)?;
    let at = reader.offset();
    let len = reader.length("contract code", MAX_CODE_LEN.into(), 1)?;
    let bytes = reader.take(len)?;
    // Contract source is printable ASCII and whitespace, as the node's `StacksString`.
    if !bytes
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        return Err(invalid(at, "contract code"));
    }
    Ok(Payload::SmartContract {
        name,
        code: String::from_utf8_lossy(bytes).into_owned(),
        clarity_version,
    })
}

impl MicroblockHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.version);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.prev_block);
        out.extend_from_slice(&self.tx_merkle_root);
        out.extend_from_slice(&self.signature);
    }

    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            version: reader.u8()?,
            sequence: reader.u16()?,
            prev_block: reader.array()?,
            tx_merkle_root: reader.array()?,
            signature: reader.array()?,
        })
    }
}

/// A memo from text or bytes of at most 34 bytes, zero-padded; `None` if longer.
pub fn memo(bytes: &[u8]) -> Option<Memo> {
    let mut memo = [0u8; 34];
    memo.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(memo)
}
