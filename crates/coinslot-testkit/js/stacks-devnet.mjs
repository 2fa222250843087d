// The coinslot Stacks devnet: the node and Hiro API calls an x402 facilitator makes, over a
// Clarinet simnet.
//
//   node stacks-devnet.mjs [--network testnet|mainnet] [--port N] [--block-ms N]
//
// Each raw transaction sent to `POST /v2/transactions` is checked with @stacks/transactions
// (decoding, network, signatures of origin and sponsor, nonce, fee, balance), held in a
// mempool, and executed in the simnet when a block is mined (every --block-ms, in nonce order
// per account): STX transfers, contract calls and deployments. The post-conditions of a call or
// deployment are checked against the execution's events; one that breaks them is reversed and
// marked `abort_by_post_condition`. SIP-010 tokens standing in for sBTC and USDCx sit at the real
// contract addresses of the chosen network.
//
// `/testkit/*` routes let tests fund accounts, read balances, pause mining, and drop a pending
// transaction (a fault a real node shows only under load: named here as the fault it stands for).
//
// Prints `Stacks devnet listening on http://127.0.0.1:PORT` once ready.

import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initSimnet } from '@stacks/clarinet-sdk';
import {
  Cl,
  cvToString,
  deserializeTransaction,
  addressHashModeToVersion,
  addressFromVersionHash,
  addressToString,
  PayloadType,
  AuthType,
  PostConditionMode,
  PostConditionType,
  PostConditionPrincipalId,
  FungibleConditionCode,
} from '@stacks/transactions';
import { verifySignatures } from './stacks-signatures.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const NETWORK = option('network', 'testnet');
if (!['testnet', 'mainnet'].includes(NETWORK)) throw new Error(`unknown network ${NETWORK}`);
const MAINNET = NETWORK === 'mainnet';
const TX_VERSION = MAINNET ? 0x00 : 0x80;
const CHAIN_ID = MAINNET ? 0x00000001 : 0x80000000;
const BLOCK_MS = Number(option('block-ms', '200'));
const PORT = Number(option('port', '0'));
// The node's floor: 1 µSTX per byte of the transaction.
const MIN_FEE_RATE = 1n;
// Where fees go (a burn address: hash160 of nothing in particular, never a test key).
const FEE_SINK = MAINNET
  ? 'SP000000000000000000002Q6VF78'
  : 'ST000000000000000000002AMW42H';

const TOKENS = MAINNET
  ? {
      sbtc: { deployer: 'SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4', name: 'sbtc-token', asset: 'sbtc-token', symbol: 'sBTC', decimals: 8 },
      usdcx: { deployer: 'SP120SBRBQJ00MCWS7TM5R8WJNTTKD5K0HFRC2CNE', name: 'usdcx', asset: 'usdcx-token', symbol: 'USDCx', decimals: 6 },
      // Same name and code as sBTC, another deployer: what a forged token looks like.
      fake: { deployer: 'SP2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CH94GRJ', name: 'sbtc-token', asset: 'sbtc-token', symbol: 'sBTC', decimals: 8 },
    }
  : {
      sbtc: { deployer: 'ST1F7QA2MDF17S807EPA36TSS8AMEFY4KA9TVGWXT', name: 'sbtc-token', asset: 'sbtc-token', symbol: 'sBTC', decimals: 8 },
      usdcx: { deployer: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM', name: 'usdcx', asset: 'usdcx-token', symbol: 'USDCx', decimals: 6 },
      fake: { deployer: 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG', name: 'sbtc-token', asset: 'sbtc-token', symbol: 'sBTC', decimals: 8 },
    };
for (const token of Object.values(TOKENS)) token.contract = `${token.deployer}.${token.name}`;

// The simnet writes a deployment plan next to its manifest: give it a folder of its own.
const project = fs.mkdtempSync(path.join(os.tmpdir(), 'coinslot-devnet-'));
fs.cpSync(path.join(here, 'stacks'), project, { recursive: true });
const cleanup = () => fs.rmSync(project, { recursive: true, force: true });
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));

const simnet = await initSimnet(path.join(project, 'Clarinet.toml'));
simnet.setEpoch('3.1');
const source = fs.readFileSync(path.join(here, 'stacks', 'token.clar'), 'utf8');
for (const token of Object.values(TOKENS)) {
  // The simnet carries the real sBTC contracts at their mainnet address: use those.
  if (simnet.getContractSource(token.contract)) continue;
  const code = source
    .replaceAll('TOKEN_NAME', token.asset)
    .replaceAll('TOKEN_SYMBOL', token.symbol)
    .replaceAll('TOKEN_DECIMALS', String(token.decimals));
  const deployed = simnet.deployContract(token.name, code, { clarityVersion: 3 }, token.deployer);
  if (deployed.result.type !== 'true' && deployed.result.type !== 'ok') {
    throw new Error(`cannot deploy ${token.contract}: ${cvToString(deployed.result)}`);
  }
}

// ---- Chain state the simnet does not keep: nonces, the mempool, transactions by id.

/** Next nonce per account, counting mined transactions only. */
const nonces = new Map();
/** txid (no 0x) → record {tx, raw, status, origin, payer, nonce, fee, result, blockHeight, events, receivedAt}. */
const transactions = new Map();
/** txids waiting to be mined, in arrival order. */
let mempool = [];
let mining = true;
let blockHeight = simnet.blockHeight;

const nextNonce = (address) => nonces.get(address) ?? 0n;

function stxBalance(principal) {
  return simnet.getAssetsMap().get('STX')?.get(principal) ?? 0n;
}

function ftBalance(token, principal) {
  // The simnet's asset map names a token without its deployer; ask the contract instead.
  const answer = simnet.callReadOnlyFn(token.contract, 'get-balance', [Cl.principal(principal)], token.deployer);
  return BigInt(answer.result.value.value);
}

function conditionAddress(condition) {
  const version = addressHashModeToVersion(condition.hashMode, MAINNET ? 'mainnet' : 'testnet');
  return addressToString(addressFromVersionHash(version, condition.signer));
}

function normalizeTxid(text) {
  return text.toLowerCase().replace(/^0x/, '');
}

// ---- Broadcast: the checks a node makes before a transaction enters its mempool.

class Rejection extends Error {
  constructor(reason, reasonData, txid) {
    super(reason);
    this.reason = reason;
    this.reasonData = reasonData;
    this.txid = txid;
  }
}

function admit(raw) {
  let tx;
  try {
    tx = deserializeTransaction(raw);
  } catch (error) {
    throw new Rejection('Deserialization', { message: String(error.message ?? error) });
  }
  const txid = tx.txid();
  if (tx.serialize() !== raw.toString('hex')) {
    throw new Rejection('Deserialization', { message: 'trailing or non-canonical bytes' }, txid);
  }
  if (tx.transactionVersion !== TX_VERSION || tx.chainId !== CHAIN_ID) {
    throw new Rejection('BadTransactionVersion', { expected_chain_id: CHAIN_ID, actual_chain_id: tx.chainId }, txid);
  }
  const known = transactions.get(txid);
  if (known && known.status === 'pending') return txid;
  try {
    verifySignatures(tx);
  } catch (error) {
    throw new Rejection('SignatureValidation', { message: String(error.message ?? error) }, txid);
  }
  const origin = conditionAddress(tx.auth.spendingCondition);
  const payerCondition = tx.auth.authType === AuthType.Sponsored ? tx.auth.sponsorSpendingCondition : tx.auth.spendingCondition;
  const payer = conditionAddress(payerCondition);
  const nonce = BigInt(tx.auth.spendingCondition.nonce);
  const fee = BigInt(payerCondition.fee);
  if (nonce < nextNonce(origin)) {
    throw new Rejection('BadNonce', { expected: Number(nextNonce(origin)), actual: Number(nonce), principal: origin, is_origin: true }, txid);
  }
  if (tx.auth.authType === AuthType.Sponsored) {
    const sponsorNonce = BigInt(payerCondition.nonce);
    if (sponsorNonce < nextNonce(payer)) {
      throw new Rejection('BadNonce', { expected: Number(nextNonce(payer)), actual: Number(sponsorNonce), principal: payer, is_origin: false }, txid);
    }
  }
  for (const id of mempool) {
    const other = transactions.get(id);
    if (other.origin === origin && other.nonce === nonce) {
      throw new Rejection('ConflictingNonceInMempool', { principal: origin, nonce: Number(nonce) }, txid);
    }
  }
  const minimum = BigInt(raw.length) * MIN_FEE_RATE;
  if (fee < minimum) {
    throw new Rejection('FeeTooLow', { expected: Number(minimum), actual: Number(fee) }, txid);
  }
  let spend = fee;
  if (tx.payload.payloadType === PayloadType.TokenTransfer && payer === origin) spend += BigInt(tx.payload.amount);
  const balance = stxBalance(payer);
  if (balance < spend) {
    throw new Rejection('NotEnoughFunds', { expected: `0x${spend.toString(16)}`, actual: `0x${balance.toString(16)}` }, txid);
  }
  transactions.set(txid, { tx, raw, txid, status: 'pending', origin, payer, nonce, fee, receivedAt: Date.now() });
  mempool.push(txid);
  return txid;
}

// ---- Mining: execute what can run, in nonce order.

/** Sums what each principal sent, by asset ('STX' or `contract::asset`). */
function movements(events) {
  const sent = new Map();
  const add = (principal, asset, amount) => {
    const key = `${principal}|${asset}`;
    sent.set(key, (sent.get(key) ?? 0n) + BigInt(amount));
  };
  for (const event of events) {
    const data = event.data;
    if (event.event === 'stx_transfer_event' || event.event === 'stx_burn_event') add(data.sender, 'STX', data.amount);
    if (event.event === 'ft_transfer_event' || event.event === 'ft_burn_event') add(data.sender, data.asset_identifier, data.amount);
    if (event.event === 'nft_transfer_event' || event.event === 'nft_burn_event') add(data.sender, data.asset_identifier, 1);
  }
  return sent;
}

function holds(code, moved, amount) {
  switch (code) {
    case FungibleConditionCode.Equal: case 'eq': return moved === amount;
    case FungibleConditionCode.Greater: case 'gt': return moved > amount;
    case FungibleConditionCode.GreaterEqual: case 'gte': return moved >= amount;
    case FungibleConditionCode.Less: case 'lt': return moved < amount;
    case FungibleConditionCode.LessEqual: case 'lte': return moved <= amount;
    default: return false;
  }
}

/** Whether the events satisfy the transaction's post-conditions and mode. */
function postConditionsHold(tx, origin, events) {
  const sent = movements(events);
  const covered = new Set();
  for (const pc of tx.postConditions.values) {
    const principal = pc.principal.prefix === PostConditionPrincipalId.Origin
      ? origin
      : pc.principal.prefix === PostConditionPrincipalId.Contract
        ? `${addressToString(pc.principal.address)}.${pc.principal.contractName.content}`
        : addressToString(pc.principal.address);
    if (pc.conditionType === PostConditionType.STX) {
      covered.add(`${principal}|STX`);
      if (!holds(pc.conditionCode, sent.get(`${principal}|STX`) ?? 0n, BigInt(pc.amount))) return false;
    } else if (pc.conditionType === PostConditionType.Fungible) {
      const asset = `${addressToString(pc.asset.address)}.${pc.asset.contractName.content}::${pc.asset.assetName.content}`;
      covered.add(`${principal}|${asset}`);
      if (!holds(pc.conditionCode, sent.get(`${principal}|${asset}`) ?? 0n, BigInt(pc.amount))) return false;
    } else if (pc.conditionType === PostConditionType.NonFungible) {
      const asset = `${addressToString(pc.asset.address)}.${pc.asset.contractName.content}::${pc.asset.assetName.content}`;
      covered.add(`${principal}|${asset}`);
    }
  }
  if (tx.postConditionMode === PostConditionMode.Allow) return true;
  for (const key of sent.keys()) {
    const [principal] = key.split('|');
    if (tx.postConditionMode === PostConditionMode.Originator && principal !== origin) continue;
    if (!covered.has(key)) return false;
  }
  return true;
}

/** Puts back what a reversed transaction moved (STX and SIP-010 transfers). */
function reverse(events) {
  for (const event of [...events].reverse()) {
    const data = event.data;
    if (event.event === 'stx_transfer_event') {
      simnet.transferSTX(BigInt(data.amount), data.sender, data.recipient);
    } else if (event.event === 'ft_transfer_event') {
      const contract = data.asset_identifier.split('::')[0];
      simnet.callPublicFn(contract, 'transfer', [Cl.uint(data.amount), Cl.principal(data.recipient), Cl.principal(data.sender), Cl.none()], data.recipient);
    }
  }
}

function execute(record) {
  const { tx, origin } = record;
  const payload = tx.payload;
  switch (payload.payloadType) {
    case PayloadType.TokenTransfer:
      return simnet.transferSTX(BigInt(payload.amount), cvToString(payload.recipient).replace(/^'/, ''), origin);
    case PayloadType.ContractCall: {
      const contract = `${addressToString(payload.contractAddress)}.${payload.contractName.content}`;
      return simnet.callPublicFn(contract, payload.functionName.content, payload.functionArgs, origin);
    }
    case PayloadType.SmartContract:
    case PayloadType.VersionedSmartContract:
      return simnet.deployContract(payload.contractName.content, payload.codeBody.content, { clarityVersion: payload.clarityVersion ?? 3 }, origin);
    default:
      return null;
  }
}

function mineOne(record) {
  const { tx, origin, payer, fee } = record;
  mempool = mempool.filter((id) => id !== record.txid);
  nonces.set(origin, record.nonce + 1n);
  if (payer !== origin) nonces.set(payer, BigInt(tx.auth.sponsorSpendingCondition.nonce) + 1n);
  if (fee > 0n) simnet.transferSTX(fee, FEE_SINK, payer);
  let outcome;
  try {
    outcome = execute(record);
  } catch (error) {
    outcome = null;
    record.error = String(error.message ?? error);
  }
  blockHeight = simnet.blockHeight;
  record.blockHeight = blockHeight;
  if (!outcome) {
    record.status = 'abort_by_response';
    record.result = { hex: '0x', repr: record.error ?? 'unsupported payload' };
    return;
  }
  // As the node: post-conditions guard contract calls and deployments, not plain STX transfers.
  const payload = tx.payload;
  const ok = outcome.result.type === 'ok' || outcome.result.type === 'true';
  record.result = { repr: cvToString(outcome.result) };
  record.events = outcome.events;
  if (!ok) {
    record.status = 'abort_by_response';
  } else if (payload.payloadType !== PayloadType.TokenTransfer && !postConditionsHold(tx, origin, outcome.events)) {
    reverse(outcome.events);
    record.status = 'abort_by_post_condition';
  } else {
    record.status = 'success';
  }
}

/** Mines every transaction whose nonce is next for its account, until none is. */
function mine() {
  let progress = true;
  let mined = 0;
  while (progress) {
    progress = false;
    for (const id of [...mempool]) {
      const record = transactions.get(id);
      if (record.nonce !== nextNonce(record.origin)) continue;
      const balance = stxBalance(record.payer);
      if (balance < record.fee) continue;
      mineOne(record);
      mined += 1;
      progress = true;
    }
  }
  if (mined > 0) simnet.mineEmptyBlock();
  blockHeight = simnet.blockHeight;
  return mined;
}

setInterval(() => {
  if (mining) mine();
}, BLOCK_MS).unref();

// ---- HTTP.

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function accountJson(principal) {
  const balance = stxBalance(principal);
  return {
    balance: `0x${balance.toString(16).padStart(32, '0')}`,
    locked: `0x${'0'.repeat(32)}`,
    unlock_height: 0,
    nonce: Number(nextNonce(principal)),
    balance_proof: '',
    nonce_proof: '',
  };
}

function noncesJson(principal) {
  const pending = mempool.map((id) => transactions.get(id)).filter((r) => r.origin === principal).map((r) => r.nonce);
  const executed = nextNonce(principal);
  const lastMempool = pending.length ? pending.reduce((a, b) => (a > b ? a : b)) : null;
  const possible = lastMempool !== null && lastMempool + 1n > executed ? lastMempool + 1n : executed;
  const missing = [];
  if (lastMempool !== null) {
    for (let n = executed; n < lastMempool; n += 1n) if (!pending.includes(n)) missing.push(Number(n));
  }
  return {
    last_executed_tx_nonce: executed > 0n ? Number(executed - 1n) : null,
    last_mempool_tx_nonce: lastMempool === null ? null : Number(lastMempool),
    possible_next_nonce: Number(possible),
    detected_missing_nonces: missing,
    detected_mempool_nonces: pending.map(Number),
  };
}

function txJson(record) {
  const tx = record.tx;
  const type = {
    [PayloadType.TokenTransfer]: 'token_transfer',
    [PayloadType.ContractCall]: 'contract_call',
    [PayloadType.SmartContract]: 'smart_contract',
    [PayloadType.VersionedSmartContract]: 'smart_contract',
  }[tx.payload.payloadType] ?? 'other';
  const json = {
    tx_id: `0x${record.txid}`,
    tx_status: record.status,
    tx_type: type,
    nonce: Number(record.nonce),
    fee_rate: record.fee.toString(),
    sender_address: record.origin,
    sponsored: tx.auth.authType === AuthType.Sponsored,
    anchor_mode: 'any',
  };
  if (record.status !== 'pending' && !record.status.startsWith('dropped')) {
    json.block_height = record.blockHeight;
    json.tx_result = record.result;
    json.canonical = true;
  }
  if (type === 'token_transfer') {
    json.token_transfer = {
      recipient_address: cvToString(tx.payload.recipient).replace(/^'/, ''),
      amount: tx.payload.amount.toString(),
    };
  }
  return json;
}

function balancesJson(principal) {
  const out = { stx: stxBalance(principal).toString() };
  for (const [name, token] of Object.entries(TOKENS)) out[name] = ftBalance(token, principal).toString();
  return out;
}

// The Hiro API's `/extended/v1/address/:principal/balances`, with the fields a profile reads.
function hiroBalancesJson(principal) {
  const fungible = {};
  for (const token of Object.values(TOKENS)) {
    const balance = ftBalance(token, principal);
    if (balance > 0n) fungible[`${token.contract}::${token.asset}`] = { balance: balance.toString() };
  }
  return {
    stx: { balance: stxBalance(principal).toString(), locked: '0', burnchain_unlock_height: 0 },
    fungible_tokens: fungible,
    non_fungible_tokens: {},
  };
}

function fund(body) {
  const address = body.address;
  const amount = (name) => BigInt(body[name] ?? 0);
  if (amount('stx') > 0n) simnet.mintSTX(address, amount('stx'));
  for (const [name, token] of Object.entries(TOKENS)) {
    if (amount(name) === 0n) continue;
    simnet.mintFT(`${token.contract}.${token.asset}`, address, amount(name));
  }
  return balancesJson(address);
}

const routes = [
  ['POST', /^\/v2\/transactions$/, async (req, res) => {
    let raw = await readBody(req);
    if ((req.headers['content-type'] ?? '').includes('json')) {
      raw = Buffer.from(JSON.parse(raw.toString()).tx.replace(/^0x/, ''), 'hex');
    }
    try {
      send(res, 200, JSON.stringify(admit(raw)));
    } catch (error) {
      if (!(error instanceof Rejection)) throw error;
      send(res, 400, { error: 'transaction rejected', reason: error.reason, reason_data: error.reasonData, txid: error.txid });
    }
  }],
  ['GET', /^\/extended\/v1\/tx\/([0-9a-fA-Fx]+)$/, (req, res, [id]) => {
    const record = transactions.get(normalizeTxid(id));
    if (!record) return send(res, 404, { error: `could not find transaction by ID ${id}` });
    send(res, 200, txJson(record));
  }],
  ['GET', /^\/v2\/accounts\/([^/?]+)/, (req, res, [principal]) => send(res, 200, accountJson(principal))],
  ['GET', /^\/extended\/v1\/address\/([^/?]+)\/balances$/, (req, res, [principal]) => send(res, 200, hiroBalancesJson(principal))],
  ['GET', /^\/extended\/v1\/address\/([^/?]+)\/nonces/, (req, res, [principal]) => send(res, 200, noncesJson(principal))],
  ['GET', /^\/v2\/fees\/transfer$/, (req, res) => send(res, 200, JSON.stringify(Number(MIN_FEE_RATE)))],
  ['POST', /^\/v2\/fees\/transaction$/, async (req, res) => {
    const body = JSON.parse((await readBody(req)).toString() || '{}');
    const length = BigInt(body.estimated_len ?? 0) || BigInt((body.transaction_payload ?? '').length / 2 + 150);
    const fee = (rate) => Number(length * rate);
    send(res, 200, {
      estimated_cost: {}, estimated_cost_scalar: 1, cost_scalar_change_by_byte: 0,
      estimations: [{ fee_rate: 1, fee: fee(1n) }, { fee_rate: 2, fee: fee(2n) }, { fee_rate: 3, fee: fee(3n) }],
    });
  }],
  ['GET', /^\/v2\/info$/, (req, res) => send(res, 200, { network_id: CHAIN_ID, stacks_tip_height: blockHeight, burn_block_height: simnet.burnBlockHeight })],
  ['GET', /^\/testkit\/info$/, (req, res) => send(res, 200, { network: NETWORK, chainId: CHAIN_ID, version: TX_VERSION, blockHeight, feeSink: FEE_SINK, tokens: TOKENS })],
  ['GET', /^\/testkit\/balances\/([^/?]+)$/, (req, res, [principal]) => send(res, 200, balancesJson(principal))],
  ['POST', /^\/testkit\/fund$/, async (req, res) => send(res, 200, fund(JSON.parse((await readBody(req)).toString())))],
  ['POST', /^\/testkit\/mining$/, async (req, res) => {
    mining = Boolean(JSON.parse((await readBody(req)).toString()).enabled);
    send(res, 200, { mining });
  }],
  ['POST', /^\/testkit\/mine$/, (req, res) => send(res, 200, { mined: mine(), blockHeight })],
  ['POST', /^\/testkit\/drop$/, async (req, res) => {
    const body = JSON.parse((await readBody(req)).toString());
    const id = normalizeTxid(body.txid);
    const record = transactions.get(id);
    if (!record || record.status !== 'pending') return send(res, 409, { error: 'not pending' });
    mempool = mempool.filter((t) => t !== id);
    record.status = body.status ?? 'dropped_replace_by_fee';
    send(res, 200, txJson(record));
  }],
];

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://devnet');
  try {
    for (const [method, pattern, handler] of routes) {
      const match = url.pathname.match(pattern);
      if (req.method === method && match) return await handler(req, res, match.slice(1));
    }
    send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  } catch (error) {
    send(res, 500, { error: String(error.stack ?? error) });
  }
});

server.listen(PORT, '127.0.0.1', () => {
  console.log(`Stacks devnet listening on http://127.0.0.1:${server.address().port} (${NETWORK})`);
});
