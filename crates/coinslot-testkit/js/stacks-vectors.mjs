// Cross-checks of coinslot's Stacks codec against @stacks/transactions 7.6.
//
//   node stacks-vectors.mjs generate < {"count": 1000, "seed": 1}
//   node stacks-vectors.mjs check    < {"transactions": ["<hex>", …]}
//
// `generate` builds transactions of every payload kind stacks.js can build, with both auth
// types, single- and multi-signature (sequential and not) origins, post-conditions of each kind,
// on both networks, from a seeded generator; `check` decodes transactions made elsewhere and
// verifies their signatures. Both answer one summary per transaction: its fields as plain JSON
// (the same shape coinslot's tests build from their own decoding), its txid, and whether its
// signatures verify.

import {
  Cl,
  Pc,
  AuthType,
  PayloadType,
  PostConditionType,
  PostConditionPrincipalId,
  StacksWireType,
  StacksTransactionWire,
  TransactionSigner,
  TenureChangeCause,
  addressToString,
  addressFromVersionHash,
  createCoinbasePayload,
  createNakamotoCoinbasePayload,
  createTenureChangePayload,
  createSingleSigSpendingCondition,
  createStandardAuth,
  createSponsoredAuth,
  deserializeTransaction,
  isSingleSig,
  makeContractCall,
  makeContractDeploy,
  makeSTXTokenTransfer,
  privateKeyToPublic,
  privateKeyToAddress,
  serializeCV,
  sponsorTransaction,
  AddressHashMode,
} from '@stacks/transactions';
import { verifySignatures } from './stacks-signatures.mjs';

// ---- A seeded generator, so that a failing case can be built again.

function generator(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (items) => items[int(items.length)];
  const bytes = (n) => Uint8Array.from({ length: n }, () => int(256));
  const hex = (n) => Buffer.from(bytes(n)).toString('hex');
  const big = (bits) => {
    let v = 0n;
    for (let i = 0; i < bits; i += 8) v = (v << 8n) | BigInt(int(256));
    return v;
  };
  // A valid secp256k1 key: 32 random bytes below the order (the chance of not is ~2^-128).
  const key = () => `${hex(31)}${hex(1)}01`.replace(/^00/, '01');
  return { next, int, pick, bytes, hex, big, key };
}

const names = ['alpha', 'token-x', 'pay_2', 'a', 'vault-v3', 'sbtc-token'];

function clarityValue(r, depth = 0) {
  const leaf = [
    () => Cl.int(r.big(120) - (1n << 119n)),
    () => Cl.uint(r.big(128)),
    () => Cl.buffer(r.bytes(r.int(40))),
    () => Cl.bool(r.int(2) === 0),
    () => Cl.principal(privateKeyToAddress(r.key(), r.pick(['mainnet', 'testnet']))),
    () => Cl.contractPrincipal(privateKeyToAddress(r.key(), 'testnet'), r.pick(names)),
    () => Cl.none(),
    () => Cl.stringAscii(r.pick(['', 'hello', 'x402 pays', 'a\tb\nc'])),
    () => Cl.stringUtf8(r.pick(['', 'héllo', '支付', '🙂 ok'])),
  ];
  const nested = [
    () => Cl.ok(clarityValue(r, depth + 1)),
    () => Cl.error(clarityValue(r, depth + 1)),
    () => Cl.some(clarityValue(r, depth + 1)),
    () => Cl.list(Array.from({ length: r.int(4) }, () => clarityValue(r, depth + 1))),
    () => Cl.tuple(Object.fromEntries(Array.from({ length: 1 + r.int(4) }, (_, i) => [`${r.pick(['b', 'a', 'z-k', 'amount'])}${i}`, clarityValue(r, depth + 1)]))),
  ];
  return r.pick(depth < 3 && r.int(3) === 0 ? nested : leaf)();
}

function postCondition(r, network) {
  const address = privateKeyToAddress(r.key(), network);
  const principal = r.pick([
    () => Pc.origin(),
    () => Pc.principal(address),
    () => Pc.principal(`${address}.${r.pick(names)}`),
  ])();
  const amount = r.big(40);
  const fungible = r.pick([
    (p) => p.willSendEq(amount), (p) => p.willSendGt(amount), (p) => p.willSendGte(amount),
    (p) => p.willSendLt(amount), (p) => p.willSendLte(amount),
  ])(principal);
  const contract = `${privateKeyToAddress(r.key(), network)}.${r.pick(names)}`;
  return r.pick([
    () => fungible.ustx(),
    () => fungible.ft(contract, r.pick(['sbtc-token', 'usdcx-token', 'gold'])),
    () => r.pick([(p) => p.willSendAsset(), (p) => p.willNotSendAsset()])(principal).nft(`${contract}::${r.pick(['nft', 'badge'])}`, clarityValue(r, 2)),
  ])();
}

async function generateOne(r) {
  const network = r.pick(['mainnet', 'testnet']);
  const sponsored = r.int(4) === 0;
  const multi = !sponsored && r.int(5) === 0;
  const senderKey = r.key();
  const fee = sponsored ? 0n : r.big(20);
  const nonce = r.big(16);
  const postConditions = Array.from({ length: r.int(4) }, () => postCondition(r, network));
  const postConditionMode = r.pick(['allow', 'deny']);
  let signing = { senderKey };
  if (multi) {
    const keys = Array.from({ length: 2 + r.int(3) }, () => r.key());
    const numSignatures = 1 + r.int(keys.length);
    const useNonSequentialMultiSig = r.int(2) === 0;
    // Sequential signing needs its signers in key order; order-independent any subset.
    const signerKeys = keys.slice(0, numSignatures);
    signing = { publicKeys: keys.map(privateKeyToPublic), numSignatures, signerKeys, useNonSequentialMultiSig };
  }
  const common = { ...signing, network, fee, nonce, sponsored, postConditions, postConditionMode };
  const kind = r.pick(['transfer', 'transfer', 'call', 'call', 'deploy', 'coinbase']);
  let tx;
  if (kind === 'transfer') {
    const recipient = r.int(3) === 0
      ? `${privateKeyToAddress(r.key(), network)}.${r.pick(names)}`
      : privateKeyToAddress(r.key(), network);
    tx = await makeSTXTokenTransfer({ ...common, recipient, amount: r.big(48), memo: r.pick(['', 'x402:abc', 'memo of the payment', '0123456789012345678901234567890123']) });
  } else if (kind === 'call') {
    tx = await makeContractCall({
      ...common,
      contractAddress: privateKeyToAddress(r.key(), network),
      contractName: r.pick(names),
      functionName: r.pick(['transfer', 'get-balance', 'swap-x-for-y', 'mint!']),
      functionArgs: Array.from({ length: r.int(5) }, () => clarityValue(r)),
      validateWithAbi: false,
    });
  } else if (kind === 'deploy') {
    tx = await makeContractDeploy({
      ...common,
      contractName: r.pick(names),
      codeBody: r.pick(['(define-public (ping) (ok true))', '(define-data-var n uint u0)\n\t(define-read-only (get-n) (var-get n))']),
      clarityVersion: r.pick([undefined, 1, 2, 3]),
    });
  } else {
    const payload = r.pick([
      () => createCoinbasePayload(r.bytes(32)),
      () => createCoinbasePayload(r.bytes(32), Cl.principal(privateKeyToAddress(r.key(), network))),
      () => createNakamotoCoinbasePayload(r.bytes(32), r.int(2) ? Cl.none() : Cl.some(Cl.principal(privateKeyToAddress(r.key(), network))), r.bytes(80)),
      () => createTenureChangePayload(r.hex(20), r.hex(20), r.hex(20), r.hex(32), r.int(1000), r.pick([TenureChangeCause.BlockFound, TenureChangeCause.Extended]), r.hex(20)),
    ])();
    const condition = createSingleSigSpendingCondition(AddressHashMode.P2PKH, privateKeyToPublic(senderKey), nonce, r.big(20));
    const auth = sponsored ? createSponsoredAuth(condition) : createStandardAuth(condition);
    tx = new StacksTransactionWire({ payload, auth, network });
    new TransactionSigner(tx).signOrigin(senderKey);
  }
  if (sponsored) {
    tx = await sponsorTransaction({ transaction: tx, sponsorPrivateKey: r.key(), fee: r.big(20), sponsorNonce: r.big(16), network });
  }
  return tx;
}

// ---- The summary both sides build.

const str = (v) => v.toString();

function condition(c) {
  const base = { hashMode: c.hashMode, signer: c.signer, nonce: str(c.nonce), fee: str(c.fee) };
  if (isSingleSig(c)) return { ...base, keyEncoding: c.keyEncoding, signature: c.signature.data };
  return {
    ...base,
    signaturesRequired: c.signaturesRequired,
    fields: c.fields.map((f) =>
      f.contents.type === StacksWireType.PublicKey
        ? `key:${f.pubKeyEncoding}:${compressed(f.contents.data)}`
        : `sig:${f.pubKeyEncoding}:${f.contents.data}`),
  };
}

/** A public key field as the wire writes it: 33 bytes, hex (stacks.js keeps some as bytes). */
function compressed(data) {
  const hex = typeof data === 'string' ? data : Buffer.from(data).toString('hex');
  if (hex.length === 66) return hex;
  const x = hex.slice(2, 66);
  const odd = parseInt(hex.slice(-1), 16) % 2 === 1;
  return `${odd ? '03' : '02'}${x}`;
}

const address = (a) => addressToString(a);

function pcPrincipal(p) {
  if (p.prefix === PostConditionPrincipalId.Origin) return 'origin';
  if (p.prefix === PostConditionPrincipalId.Contract) return `${address(p.address)}.${p.contractName.content}`;
  return address(p.address);
}

function postConditionSummary(pc) {
  const out = { type: pc.conditionType, principal: pcPrincipal(pc.principal), code: pc.conditionCode };
  if (pc.amount !== undefined) out.amount = str(pc.amount);
  if (pc.asset) out.asset = `${address(pc.asset.address)}.${pc.asset.contractName.content}::${pc.asset.assetName.content}`;
  if (pc.assetName) out.assetValue = serializeCV(pc.assetName);
  return out;
}

function principalText(cv) {
  return cv.type === 'address' ? cv.value : cv.value;
}

function payloadSummary(p, raw) {
  switch (p.payloadType) {
    case PayloadType.TokenTransfer:
      return { type: 0, recipient: principalText(p.recipient), amount: str(p.amount), memo: raw.slice(-68) };
    case PayloadType.ContractCall:
      return { type: 2, contract: `${address(p.contractAddress)}.${p.contractName.content}`, function: p.functionName.content, args: p.functionArgs.map(serializeCV) };
    case PayloadType.SmartContract:
    case PayloadType.VersionedSmartContract:
      return { type: p.payloadType, name: p.contractName.content, code: p.codeBody.content, clarityVersion: p.clarityVersion ?? null };
    case PayloadType.Coinbase:
      return { type: 4, coinbase: Buffer.from(p.coinbaseBytes).toString('hex') };
    case PayloadType.CoinbaseToAltRecipient:
      return { type: 5, coinbase: Buffer.from(p.coinbaseBytes).toString('hex'), recipient: principalText(p.recipient) };
    case PayloadType.NakamotoCoinbase:
      return {
        type: 8,
        coinbase: Buffer.from(p.coinbaseBytes).toString('hex'),
        recipient: p.recipient ? principalText(p.recipient) : null,
        vrfProof: Buffer.from(p.vrfProof).toString('hex'),
      };
    case PayloadType.TenureChange:
      return {
        type: 7, tenureHash: p.tenureHash, previousTenureHash: p.previousTenureHash, burnViewHash: p.burnViewHash,
        previousTenureEnd: p.previousTenureEnd, previousTenureBlocks: p.previousTenureBlocks, cause: p.cause, publicKeyHash: p.publicKeyHash,
      };
    default:
      return { type: p.payloadType };
  }
}

/** Whether origin and sponsor signatures verify. */
function verification(tx) {
  try {
    verifySignatures(tx);
    return { verified: true };
  } catch (error) {
    return { verified: false, reason: String(error.message ?? error) };
  }
}

function summarize(tx, raw) {
  const origin = tx.auth.spendingCondition;
  return {
    hex: raw,
    txid: tx.txid(),
    ...verification(tx),
    fields: {
      version: tx.transactionVersion,
      chainId: tx.chainId,
      authType: tx.auth.authType,
      origin: condition(origin),
      sponsor: tx.auth.authType === AuthType.Sponsored ? condition(tx.auth.sponsorSpendingCondition) : null,
      anchorMode: tx.anchorMode,
      postConditionMode: tx.postConditionMode,
      postConditions: tx.postConditions.values.map(postConditionSummary),
      payload: payloadSummary(tx.payload, raw),
    },
  };
}

const command = process.argv[2];
const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => (text += chunk));
  process.stdin.on('end', () => resolve(text || '{}'));
}));

let output;
if (command === 'generate') {
  const r = generator(input.seed ?? 1);
  output = [];
  for (let i = 0; i < (input.count ?? 1000); i += 1) {
    const tx = await generateOne(r);
    const raw = tx.serialize();
    output.push(summarize(deserializeTransaction(raw), raw));
  }
} else if (command === 'check') {
  output = input.transactions.map((raw) => {
    try {
      return summarize(deserializeTransaction(raw), raw);
    } catch (error) {
      return { hex: raw, error: String(error.message ?? error) };
    }
  });
} else {
  throw new Error(`unknown command ${command}`);
}
process.stdout.write(JSON.stringify(output, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
