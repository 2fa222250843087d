//! The Stacks utilities: address re-versioning, Clarity and transaction decoding, an account's
//! profile from the node, and message and SIP-018 signature checks, all on coinslot-stacks.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use coinslot::stacks::address::Principal;
use coinslot::stacks::message::{
    sip018_domain, sip018_hash, verify_message, verify_structured_data,
};
use coinslot::stacks::node::StacksNode;
use coinslot::stacks::transaction::{AnchorMode, Payload, PostConditionMode};
use coinslot::stacks::{ClarityValue, StacksAddress, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::caller::Caller;
use crate::error::{ApiError, Body, ErrorBody};
use crate::routes::reply;

/// Address versions: single-signature and multi-signature, on mainnet and testnet.
const MAINNET_P2PKH: u8 = 22;
const MAINNET_P2SH: u8 = 20;
const TESTNET_P2PKH: u8 = 26;
const TESTNET_P2SH: u8 = 21;

/// The network to re-version an address for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct TargetNetwork {
    /// `mainnet` or `testnet` (the default).
    #[param(pattern = "^(mainnet|testnet)$")]
    pub target_network: Option<String>,
}

fn network_name(address: &StacksAddress) -> &'static str {
    if address.is_mainnet() {
        "mainnet"
    } else {
        "testnet"
    }
}

/// An address re-versioned.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressConverted {
    /// The address asked about.
    pub original: String,
    /// The same account on the target network.
    pub converted: String,
    /// `mainnet` or `testnet`.
    pub original_network: String,
    /// `mainnet` or `testnet`.
    pub target_network: String,
}

/// The same account on the other network: its key hash under the other network's version.
#[utoipa::path(get, path = "/stacks/address/{address}", tag = "stacks",
    summary = "An address (or contract principal) re-versioned for mainnet or testnet",
    params(("address" = String, Path, description = "A Stacks address or contract principal"), TargetNetwork),
    responses((status = 200, body = AddressConverted),
              (status = 400, body = ErrorBody)))]
pub async fn address(
    caller: Caller,
    Path(address): Path<String>,
    Query(target): Query<TargetNetwork>,
) -> Result<Json<Value>, ApiError> {
    let principal: Principal = address
        .parse()
        .map_err(|e| ApiError::bad_request(format!("address {address:?}: {e}")))?;
    let to_mainnet = match target.target_network.as_deref() {
        None | Some("testnet") => false,
        Some("mainnet") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "targetNetwork {other:?}: use mainnet or testnet"
            )));
        }
    };
    let original = principal.address();
    let multisig = matches!(original.version, MAINNET_P2SH | TESTNET_P2SH);
    let version = match (to_mainnet, multisig) {
        (true, false) => MAINNET_P2PKH,
        (true, true) => MAINNET_P2SH,
        (false, false) => TESTNET_P2PKH,
        (false, true) => TESTNET_P2SH,
    };
    let converted = StacksAddress::new(version, original.hash160)
        .ok_or_else(|| ApiError::bad_request("address: unknown version"))?;
    let converted = match &principal {
        Principal::Standard(_) => Principal::Standard(converted),
        Principal::Contract(_, name) => Principal::Contract(converted, name.clone()),
    };
    Ok(reply(
        &caller,
        AddressConverted {
            original: principal.to_string(),
            converted: converted.to_string(),
            original_network: network_name(original).to_owned(),
            target_network: if to_mainnet { "mainnet" } else { "testnet" }.to_owned(),
        },
    ))
}

/// Hex of a consensus-encoded value or transaction.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HexRequest {
    /// The bytes in hex, with or without `0x`.
    #[schema(pattern = "^(0x)?([0-9a-fA-F]{2})*$")]
    pub hex: String,
}

/// The value as JSON in the shape of stacks.js `cvToJSON`: `{type, value}`, numbers as text,
/// responses with `success`.
pub fn clarity_json(value: &ClarityValue) -> Value {
    match value {
        ClarityValue::Int(v) => json!({"type": "int", "value": v.to_string()}),
        ClarityValue::UInt(v) => json!({"type": "uint", "value": v.to_string()}),
        ClarityValue::Buffer(bytes) => {
            json!({"type": format!("(buff {})", bytes.len()), "value": format!("0x{}", hex::encode(bytes))})
        }
        ClarityValue::Bool(v) => json!({"type": "bool", "value": v}),
        ClarityValue::Principal(p) => json!({"type": "principal", "value": p.to_string()}),
        ClarityValue::Ok(inner) => {
            json!({"type": "(response ok)", "value": clarity_json(inner), "success": true})
        }
        ClarityValue::Err(inner) => {
            json!({"type": "(response err)", "value": clarity_json(inner), "success": false})
        }
        ClarityValue::None => json!({"type": "(optional none)", "value": null}),
        ClarityValue::Some(inner) => {
            json!({"type": "(optional some)", "value": clarity_json(inner)})
        }
        ClarityValue::List(items) => json!({
            "type": format!("(list {})", items.len()),
            "value": items.iter().map(clarity_json).collect::<Vec<_>>(),
        }),
        ClarityValue::Tuple(fields) => json!({
            "type": "tuple",
            "value": fields.iter().map(|(k, v)| (k.clone(), clarity_json(v))).collect::<serde_json::Map<_, _>>(),
        }),
        ClarityValue::StringAscii(text) => {
            json!({"type": format!("(string-ascii {})", text.len()), "value": text})
        }
        ClarityValue::StringUtf8(text) => {
            json!({"type": format!("(string-utf8 {})", text.len()), "value": text})
        }
    }
}

fn type_name(value: &ClarityValue) -> &'static str {
    match value {
        ClarityValue::Int(_) => "int",
        ClarityValue::UInt(_) => "uint",
        ClarityValue::Buffer(_) => "buffer",
        ClarityValue::Bool(_) => "bool",
        ClarityValue::Principal(Principal::Standard(_)) => "principal-standard",
        ClarityValue::Principal(Principal::Contract(..)) => "principal-contract",
        ClarityValue::Ok(_) => "response-ok",
        ClarityValue::Err(_) => "response-err",
        ClarityValue::None => "optional-none",
        ClarityValue::Some(_) => "optional-some",
        ClarityValue::List(_) => "list",
        ClarityValue::Tuple(_) => "tuple",
        ClarityValue::StringAscii(_) => "string-ascii",
        ClarityValue::StringUtf8(_) => "string-utf8",
    }
}

/// A Clarity value, decoded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClarityDecoded {
    /// Its consensus encoding, `0x…`.
    pub hex: String,
    /// Its kind of value (`uint`, `tuple`, `principal`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The value in the shape of stacks.js `cvToJSON`: `{type, value}`, numbers as text.
    pub value: Value,
    /// The value in Clarity's own notation.
    pub repr: String,
}

/// A consensus-encoded Clarity value, decoded.
#[utoipa::path(post, path = "/stacks/decode/clarity", tag = "stacks",
    summary = "A Clarity value decoded from its consensus hex",
    request_body = HexRequest,
    responses((status = 200, body = ClarityDecoded),
              (status = 400, body = ErrorBody)))]
pub async fn decode_clarity(
    caller: Caller,
    Body(request): Body<HexRequest>,
) -> Result<Json<Value>, ApiError> {
    let value = ClarityValue::from_hex(&request.hex)
        .map_err(|e| ApiError::bad_request(format!("hex: not a Clarity value: {e}")))?;
    Ok(reply(
        &caller,
        ClarityDecoded {
            hex: format!("0x{}", value.to_hex()),
            kind: type_name(&value).to_owned(),
            value: clarity_json(&value),
            repr: value.to_string(),
        },
    ))
}

/// A transaction, decoded.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionDecoded {
    /// Its id, `0x…`.
    pub txid: String,
    /// `token_transfer`, `contract_call`, `smart_contract`, …
    pub tx_type: String,
    /// `mainnet` or `testnet`.
    pub network: String,
    /// The origin's address, in the transaction's network.
    pub sender: String,
    /// Whether a sponsor pays the fee.
    pub sponsored: bool,
    /// The origin's nonce.
    pub nonce: String,
    /// The fee, in µSTX.
    pub fee: String,
    /// `on_chain_only`, `off_chain_only` or `any`.
    pub anchor_mode: String,
    /// `allow`, `deny` or `originator`.
    pub post_condition_mode: String,
    /// What it does, by type (a transfer's recipient, amount and memo; a call's contract,
    /// function and arguments).
    pub payload: Value,
    /// How many post-conditions it carries.
    pub post_condition_count: usize,
}

/// A raw transaction, decoded; its sender in the transaction's own network.
#[utoipa::path(post, path = "/stacks/decode/transaction", tag = "stacks",
    summary = "A raw Stacks transaction decoded (SIP-005)",
    request_body = HexRequest,
    responses((status = 200, body = TransactionDecoded),
              (status = 400, body = ErrorBody)))]
pub async fn decode_transaction(
    caller: Caller,
    Body(request): Body<HexRequest>,
) -> Result<Json<Value>, ApiError> {
    let tx = Transaction::from_hex(&request.hex)
        .map_err(|e| ApiError::bad_request(format!("hex: not a Stacks transaction: {e}")))?;
    let origin = tx.auth.origin();
    let mainnet = tx.version.is_mainnet();
    let (tx_type, payload) = match &tx.payload {
        Payload::TokenTransfer {
            recipient,
            amount,
            memo,
        } => (
            "token_transfer",
            json!({
                "recipient": recipient.to_string(),
                "amount": amount.to_string(),
                "memo": String::from_utf8_lossy(memo).trim_end_matches('\0').to_owned(),
            }),
        ),
        Payload::ContractCall {
            address,
            contract_name,
            function_name,
            args,
        } => (
            "contract_call",
            json!({
                "contractAddress": address.to_string(),
                "contractName": contract_name.as_str(),
                "functionName": function_name,
                "functionArgsCount": args.len(),
                "functionArgs": args.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }),
        ),
        Payload::SmartContract {
            name,
            code,
            clarity_version,
        } => (
            if clarity_version.is_some() {
                "versioned_smart_contract"
            } else {
                "smart_contract"
            },
            json!({"contractName": name.as_str(), "codeLength": code.len(), "clarityVersion": clarity_version}),
        ),
        Payload::PoisonMicroblock(_) => ("poison_microblock", json!({})),
        Payload::Coinbase(_) | Payload::CoinbaseToAlt(..) => ("coinbase", json!({})),
        Payload::TenureChange(_) => ("tenure_change", json!({})),
        Payload::NakamotoCoinbase { .. } => ("nakamoto_coinbase", json!({})),
    };
    Ok(reply(
        &caller,
        TransactionDecoded {
            txid: tx.txid().to_string(),
            tx_type: tx_type.to_owned(),
            network: if mainnet { "mainnet" } else { "testnet" }.to_owned(),
            sender: origin.address(mainnet).to_string(),
            sponsored: tx.auth.sponsor().is_some(),
            nonce: origin.nonce().to_string(),
            fee: origin.fee().to_string(),
            anchor_mode: match tx.anchor_mode {
                AnchorMode::OnChainOnly => "on_chain_only",
                AnchorMode::OffChainOnly => "off_chain_only",
                AnchorMode::Any => "any",
            }
            .to_owned(),
            post_condition_mode: match tx.post_condition_mode {
                PostConditionMode::Allow => "allow",
                PostConditionMode::Deny => "deny",
                PostConditionMode::Originator => "originator",
            }
            .to_owned(),
            payload,
            post_condition_count: tx.post_conditions.len(),
        },
    ))
}

/// An account's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileAnswer {
    /// `{input, address, bnsName?, blockHeight, stxBalance, nonce, fungibleTokens[{contractId,
    /// balance}], nonFungibleTokens[{contractId, count}]}`.
    pub profile: Value,
}

/// An account's balances, nonce and tokens, read from the node and its Hiro API.
#[utoipa::path(get, path = "/stacks/profile/{address}", tag = "stacks",
    summary = "An account's STX balance, nonce and tokens (or a BNS name's)",
    params(("address" = String, Path, description = "A Stacks address, contract principal or BNS name")),
    responses((status = 200, body = ProfileAnswer),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody, description = "The Stacks node cannot be reached")))]
pub async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(input): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let profile = state.hiro.profile(&input).await?;
    Ok(reply(&caller, ProfileAnswer { profile }))
}

/// A message signed the Stacks way.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyMessageRequest {
    /// The message, as UTF-8 text.
    pub message: String,
    /// The RSV signature, 65 bytes in hex.
    pub signature: String,
    /// The signer's public key, 33 or 65 bytes in hex.
    pub public_key: String,
}

fn hex_bytes(field: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|e| ApiError::bad_request(format!("{field}: not hex: {e}")))
}

fn signature(text: &str) -> Result<[u8; 65], ApiError> {
    hex_bytes("signature", text)?
        .try_into()
        .map_err(|_| ApiError::bad_request("signature: 65 bytes (RSV) expected"))
}

fn public_key(text: &str) -> Result<Vec<u8>, ApiError> {
    let key = hex_bytes("publicKey", text)?;
    if key.len() == 33 || key.len() == 65 {
        Ok(key)
    } else {
        Err(ApiError::bad_request("publicKey: 33 or 65 bytes expected"))
    }
}

/// Whether a signature is the key's.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageVerified {
    /// Whether the signature is the key's, over this message.
    pub valid: bool,
    /// The message.
    pub message: String,
}

/// Whether a Stacks message signature (`"\x17Stacks Signed Message:\n"` prefix, or the legacy
/// one) is the key's.
#[utoipa::path(post, path = "/stacks/verify/message", tag = "stacks",
    summary = "Checks a Stacks signed message (RSV)",
    request_body = VerifyMessageRequest,
    responses((status = 200, body = MessageVerified),
              (status = 400, body = ErrorBody)))]
pub async fn verify_message_route(
    caller: Caller,
    Body(request): Body<VerifyMessageRequest>,
) -> Result<Json<Value>, ApiError> {
    let signature = signature(&request.signature)?;
    let key = public_key(&request.public_key)?;
    let valid = verify_message(request.message.as_bytes(), &signature, &key);
    Ok(reply(
        &caller,
        MessageVerified {
            valid,
            message: request.message,
        },
    ))
}

/// A SIP-018 domain.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sip018Domain {
    /// The application's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The chain id (1 mainnet, 2147483648 testnet).
    pub chain_id: u32,
}

/// Structured data signed under SIP-018.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifySip018Request {
    /// The RSV signature, 65 bytes in hex.
    pub signature: String,
    /// The signer's public key in hex.
    pub public_key: String,
    /// The domain.
    pub domain: Sip018Domain,
    /// The message: a consensus-encoded Clarity value in hex.
    pub message: String,
}

/// Whether a SIP-018 signature is the key's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sip018Verified {
    /// Whether the signature is the key's, over this domain and message.
    pub valid: bool,
    /// The message, in Clarity's notation.
    pub message: String,
    /// The hash signed, `0x…`.
    pub structured_data_hash: String,
}

/// Whether a SIP-018 signature is the key's: `sha256("SIP018" ‖ sha256(domain) ‖
/// sha256(message))`, as the SIP says (the reference service hashes the raw bytes instead).
#[utoipa::path(post, path = "/stacks/verify/sip018", tag = "stacks",
    summary = "Checks a SIP-018 structured data signature",
    request_body = VerifySip018Request,
    responses((status = 200, body = Sip018Verified),
              (status = 400, body = ErrorBody)))]
pub async fn verify_sip018(
    caller: Caller,
    Body(request): Body<VerifySip018Request>,
) -> Result<Json<Value>, ApiError> {
    let signature = signature(&request.signature)?;
    let key = public_key(&request.public_key)?;
    let message = ClarityValue::from_hex(&request.message)
        .map_err(|e| ApiError::bad_request(format!("message: not a Clarity value: {e}")))?;
    let domain = &request.domain;
    let domain = sip018_domain(&domain.name, &domain.version, domain.chain_id)
        .ok_or_else(|| ApiError::bad_request("domain: name and version must be ASCII"))?;
    let valid = verify_structured_data(&domain, &message, &signature, &key);
    Ok(reply(
        &caller,
        Sip018Verified {
            valid,
            message: message.to_string(),
            structured_data_hash: format!("0x{}", hex::encode(sip018_hash(&domain, &message))),
        },
    ))
}

/// The node's and Hiro API's answers a profile is made of: the account's nonce through
/// coinslot-stacks' [`StacksNode`], the rest (balances, tip, BNS names) read here.
#[derive(Debug, Clone)]
pub struct Hiro {
    base: String,
    client: reqwest::Client,
    node: StacksNode,
}

impl Hiro {
    /// The API at `base` (a node with the Hiro API, as `STACKS_NODE_URL`).
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(coinslot::stacks::node::DEFAULT_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            node: StacksNode::new(base).with_client(client.clone()),
            client,
        }
    }

    async fn get(&self, path: &str) -> Result<Option<Value>, ApiError> {
        let unreachable = node_unreachable;
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(unreachable)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = response.error_for_status().map_err(unreachable)?;
        response.json().await.map(Some).map_err(unreachable)
    }

    async fn profile(&self, input: &str) -> Result<Value, ApiError> {
        let (principal, bns_name) = match input.parse::<Principal>() {
            Ok(principal) => (principal, None),
            Err(_) if is_bns_name(input) => {
                let found = self.get(&format!("/v1/names/{input}")).await?;
                let address = found
                    .as_ref()
                    .and_then(|name| name["address"].as_str())
                    .and_then(|address| address.parse::<Principal>().ok())
                    .ok_or_else(|| ApiError::not_found(format!("no BNS name {input:?}")))?;
                (address, Some(input.to_owned()))
            }
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "{input:?} is neither a Stacks address nor a BNS name: {e}"
                )));
            }
        };
        let address = principal.to_string();
        let missing = || {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "the Stacks node answered without the account",
            )
        };
        let balances = self
            .get(&format!("/extended/v1/address/{address}/balances"))
            .await?
            .ok_or_else(missing)?;
        let nonces = self.node.nonces(&address).await.map_err(node_unreachable)?;
        let info = self.get("/v2/info").await?;
        let tokens = |field: &str, value: &str| -> Vec<Value> {
            balances[field]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(id, entry)| json!({"contractId": id, value: entry[value].clone()}))
                .collect()
        };
        Ok(json!({
            "input": input,
            "address": address,
            "bnsName": bns_name,
            "blockHeight": info.as_ref().map(|i| i["stacks_tip_height"].clone()),
            "stxBalance": {
                "balance": balances["stx"]["balance"].clone(),
                "locked": balances["stx"]["locked"].clone(),
                "unlockHeight": balances["stx"]["burnchain_unlock_height"].clone(),
            },
            "nonce": nonces.possible_next,
            "fungibleTokens": tokens("fungible_tokens", "balance"),
            "nonFungibleTokens": tokens("non_fungible_tokens", "count"),
        }))
    }
}

/// The node failed to answer: a 502 that says so, the cause logged.
fn node_unreachable(error: impl std::fmt::Display) -> ApiError {
    tracing::warn!(%error, "the Stacks node did not answer");
    ApiError::new(StatusCode::BAD_GATEWAY, "the Stacks node cannot be reached")
}

/// `name.namespace`, lower-case letters, digits, `-` and `_`, at most 48 characters.
fn is_bns_name(input: &str) -> bool {
    let Some((name, namespace)) = input.split_once('.') else {
        return false;
    };
    let part = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    input.len() <= 48 && part(name) && part(namespace)
}
