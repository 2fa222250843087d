// The x402-stacks npm client (2.0.3) paying a URL, for interop tests.
//
//   node x402-stacks-client.mjs < {"url", "privateKey", "network": "testnet"|"mainnet", "nodeUrl"}
//
// x402-stacks builds its transaction with @stacks/transactions 6, which reads the nonce and the
// fee from Hiro's public API; here Hiro's hosts are routed to `nodeUrl` (the devnet), and
// nothing else about the client changes. Answers {status, data, paymentResponse} or {error}.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => (text += chunk));
  process.stdin.on('end', () => resolve(text));
}));

const realFetch = globalThis.fetch;
globalThis.fetch = (resource, init) => {
  const url = new URL(typeof resource === 'string' ? resource : resource.url ?? String(resource));
  if (url.hostname.endsWith('hiro.so')) {
    return realFetch(`${input.nodeUrl}${url.pathname}${url.search}`, init);
  }
  return realFetch(resource, init);
};

const axios = require('axios');
const { privateKeyToAccount, wrapAxiosWithPayment, decodePaymentResponse } = require('x402-stacks');

const account = privateKeyToAccount(input.privateKey, input.network);
const api = wrapAxiosWithPayment(axios.create({ timeout: 60_000 }), account);
let output;
try {
  const response = await api.get(input.url);
  output = {
    status: response.status,
    data: response.data,
    payer: account.address,
    paymentResponse: decodePaymentResponse(response.headers['payment-response']),
  };
} catch (error) {
  output = { status: error.response?.status ?? null, error: String(error.message ?? error), data: error.response?.data ?? null };
}
process.stdout.write(JSON.stringify(output));
