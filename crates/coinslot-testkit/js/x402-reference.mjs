// Drives the reference x402 implementation (@x402/core, @x402/evm, @x402/fetch, @x402/hono
// 2.27.0, and the legacy v1 x402-fetch 1.2.0; viem 2.57.1) for coinslot's interop tests.
//
// One-shot commands: one JSON object in on stdin, one JSON object out on stdout.
//   node x402-reference.mjs pay     {"privateKey", "paymentRequired", "rpcUrl"?}
//       -> the PaymentPayload the reference client (x402Client with the exact EVM scheme, over
//          EIP-3009 or Permit2 as `extra.assetTransferMethod` says, and the upto scheme) makes
//   node x402-reference.mjs verify  {"rpcUrl", "privateKey", "paymentPayload", "paymentRequirements"}
//   node x402-reference.mjs settle  {...the same}
//       -> the reference facilitator's (x402Facilitator with the exact and upto EVM schemes, and
//          erc20ApprovalGasSponsoring) answer, with `privateKey` as its settlement key on the
//          chain at `rpcUrl`
//   node x402-reference.mjs fetch-v2 {"privateKey", "url"}   (@x402/fetch)
//   node x402-reference.mjs fetch-v1 {"privateKey", "url"}   (legacy x402-fetch)
//       -> {"status", "body", "paymentResponse"}: a GET of `url` that pays a 402
//
// Services, configured by environment, printing "... listening on http://127.0.0.1:PORT":
//   node x402-reference.mjs serve-hono         PAY_TO, FACILITATOR_URL
//       -> @x402/hono with GET /weather at $0.001 (exact, eip155:84532), GET /exact/evm/permit2
//          (0.001 USDC through Permit2) and GET /upto/evm/permit2 (up to $0.001, charging 700)
//   node x402-reference.mjs serve-hono         PAY_TO, RPC_URL, PRIVATE_KEY
//       -> the same, with the reference facilitator in-process (the benchmarks' setup)
//   node x402-reference.mjs serve-facilitator  RPC_URL, PRIVATE_KEY
//       -> the reference facilitator behind /verify, /settle, /supported
//
// Errors go to stderr with exit code 1.

import { x402Client } from "@x402/core/client";
import { x402Facilitator } from "@x402/core/facilitator";
import { registerExactEvmScheme as registerClient } from "@x402/evm/exact/client";
import { UptoEvmScheme as UptoEvmClient } from "@x402/evm/upto/client";
import { registerExactEvmScheme as registerFacilitator } from "@x402/evm/exact/facilitator";
import { UptoEvmScheme as UptoEvmFacilitator } from "@x402/evm/upto/facilitator";
import { UptoEvmScheme as UptoEvmServer } from "@x402/evm/upto/server";
import { toFacilitatorEvmSigner } from "@x402/evm";
import {
  createWalletClient, http, publicActions, defineChain, nonceManager, parseTransaction,
  recoverTransactionAddress,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { wrapFetchWithPayment, decodePaymentResponseHeader } from "@x402/fetch";
import { wrapFetchWithPayment as wrapFetchV1 } from "x402-fetch";
import { createSigner } from "x402/types";
import { paymentMiddleware, setSettlementOverrides, x402ResourceServer } from "@x402/hono";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme as ExactEvmServer } from "@x402/evm/exact/server";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import { createServer } from "node:http";

const command = process.argv[2];
// The local chain's USDC test token, at the Base Sepolia USDC address.
const USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
const readInput = () => new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(JSON.parse(text)));
});

async function pay({ privateKey, paymentRequired, rpcUrl }) {
  const client = new x402Client();
  // The tests choose the assets and amounts; the client's own caps (default assets only, a
  // dollar cap) would refuse the test token.
  client.setSpendControls(false);
  const signer = privateKeyToAccount(privateKey);
  // With a node to read, the client signs the gas-sponsoring extensions a 402 offers.
  registerClient(client, { signer, schemeOptions: rpcUrl ? { rpcUrl } : undefined });
  client.register("eip155:*", new UptoEvmClient(signer));
  return client.createPaymentPayload(paymentRequired);
}

function facilitator({ rpcUrl, privateKey }) {
  // viem's nonce manager hands out nonces locally: without it, settlements sent at once read
  // the same pending nonce from the node and all but one are refused.
  const account = privateKeyToAccount(privateKey, { nonceManager });
  const chain = defineChain({
    id: 84532,
    name: "coinslot local chain",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) }).extend(publicActions);
  const signer = toFacilitatorEvmSigner({
    address: account.address,
    readContract: (args) => wallet.readContract(args),
    verifyTypedData: (args) => wallet.verifyTypedData(args),
    writeContract: (args) => wallet.writeContract(args),
    sendTransaction: (args) => wallet.sendTransaction(args),
    waitForTransactionReceipt: (args) => wallet.waitForTransactionReceipt(args),
    getCode: (args) => wallet.getCode(args),
  });
  const facilitator = new x402Facilitator();
  registerFacilitator(facilitator, { signer, networks: "eip155:84532" });
  facilitator.register("eip155:84532", new UptoEvmFacilitator(signer));
  // erc20ApprovalGasSponsoring: the reference leaves sending the payer's signed approval to the
  // deployment, through an extension signer's `sendTransactions` (the extension object is
  // `{key, signer}`, the shape @x402/extensions' helper returns). This deployment, the tests',
  // sends the payer the gas its approval may cost when it lacks it, broadcasts the approval,
  // waits for it, then sends the settlement.
  const sendTransactions = async (transactions) => {
    const hashes = [];
    for (const transaction of transactions) {
      if (typeof transaction !== "string") {
        hashes.push(await wallet.sendTransaction({ ...transaction, account }));
        continue;
      }
      const parsed = parseTransaction(transaction);
      const payer = await recoverTransactionAddress({ serializedTransaction: transaction });
      const cost = parsed.gas * parsed.maxFeePerGas;
      const balance = await wallet.getBalance({ address: payer });
      if (balance < cost) {
        const funding = await wallet.sendTransaction({ account, to: payer, value: cost - balance });
        await wallet.waitForTransactionReceipt({ hash: funding });
      }
      const hash = await wallet.sendRawTransaction({ serializedTransaction: transaction });
      await wallet.waitForTransactionReceipt({ hash });
      hashes.push(hash);
    }
    return hashes;
  };
  facilitator.registerExtension({
    key: "erc20ApprovalGasSponsoring",
    signer: { ...signer, sendTransactions },
  });
  return facilitator;
}

const bigints = (_, value) => (typeof value === "bigint" ? value.toString() : value);

/// A GET of `url` through a paying fetch; the receipt header decoded as the client reads it.
async function fetched(payingFetch, url, decode) {
  const response = await payingFetch(url, { method: "GET" });
  const header = response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
  return { status: response.status, body: await response.text(), paymentResponse: header ? decode(header) : null };
}

async function fetchV2({ privateKey, url }) {
  const client = new x402Client();
  client.setSpendControls(false);
  const signer = privateKeyToAccount(privateKey);
  registerClient(client, { signer });
  client.register("eip155:*", new UptoEvmClient(signer));
  return fetched(wrapFetchWithPayment(fetch, client), url, decodePaymentResponseHeader);
}

async function fetchV1({ privateKey, url }) {
  const signer = await createSigner("base-sepolia", privateKey);
  const decode = (header) => JSON.parse(Buffer.from(header, "base64").toString("utf8"));
  return fetched(wrapFetchV1(fetch, signer), url, decode);
}

function listening(what, port) {
  process.stdout.write(`${what} listening on http://127.0.0.1:${port}\n`);
}

/// The reference facilitator as the FacilitatorClient a resource server calls, in-process.
function inProcess(reference) {
  return {
    verify: (payload, requirements) => reference.verify(payload, requirements),
    settle: (payload, requirements) => reference.settle(payload, requirements),
    getSupported: async () => reference.getSupported(),
  };
}

function serveHono() {
  const client = process.env.FACILITATOR_URL
    ? new HTTPFacilitatorClient({ url: process.env.FACILITATOR_URL })
    : inProcess(facilitator({ rpcUrl: process.env.RPC_URL, privateKey: process.env.PRIVATE_KEY }));
  const server = new x402ResourceServer(client)
    .register("eip155:84532", new ExactEvmServer())
    .register("eip155:84532", new UptoEvmServer());
  const payTo = process.env.PAY_TO;
  const network = "eip155:84532";
  const app = new Hono();
  app.use(paymentMiddleware({
    "GET /weather": {
      accepts: { scheme: "exact", price: "$0.001", network, payTo },
      description: "Weather from the reference server",
    },
    "GET /exact/evm/permit2": {
      accepts: {
        scheme: "exact", network, payTo,
        price: { amount: "1000", asset: USDC, extra: { assetTransferMethod: "permit2" } },
      },
      description: "Exact through Permit2 from the reference server",
    },
    "GET /upto/evm/permit2": {
      accepts: { scheme: "upto", price: "$0.001", network, payTo },
      description: "Metered from the reference server: charges 700 of at most 1000",
    },
  }, server));
  app.get("/weather", (c) => c.json({ weather: "sunny", from: "@x402/hono" }));
  app.get("/exact/evm/permit2", (c) => c.json({ paid: "permit2", from: "@x402/hono" }));
  app.get("/upto/evm/permit2", (c) => {
    setSettlementOverrides(c, { amount: "700" });
    return c.json({ metered: true, from: "@x402/hono" });
  });
  const running = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => listening("Server", info.port));
  return running;
}

function serveFacilitator() {
  const reference = facilitator({ rpcUrl: process.env.RPC_URL, privateKey: process.env.PRIVATE_KEY });
  const http = createServer(async (request, response) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    const answer = (status, body) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body, bigints));
    };
    try {
      if (request.method === "GET" && request.url === "/supported") return answer(200, reference.getSupported());
      const body = text ? JSON.parse(text) : {};
      if (request.method === "POST" && request.url === "/verify") return answer(200, await reference.verify(body.paymentPayload, body.paymentRequirements));
      if (request.method === "POST" && request.url === "/settle") return answer(200, await reference.settle(body.paymentPayload, body.paymentRequirements));
      return answer(404, { error: "not found" });
    } catch (error) {
      return answer(500, { error: String(error?.message ?? error) });
    }
  });
  http.listen(0, "127.0.0.1", () => listening("Facilitator", http.address().port));
}

try {
  if (command === "serve-hono") serveHono();
  else if (command === "serve-facilitator") serveFacilitator();
  else {
    const input = await readInput();
    let output;
    if (command === "pay") output = await pay(input);
    else if (command === "verify") output = await facilitator(input).verify(input.paymentPayload, input.paymentRequirements);
    else if (command === "settle") output = await facilitator(input).settle(input.paymentPayload, input.paymentRequirements);
    else if (command === "fetch-v2") output = await fetchV2(input);
    else if (command === "fetch-v1") output = await fetchV1(input);
    else throw new Error(`unknown command ${command}`);
    process.stdout.write(JSON.stringify(output, bigints) + "\n");
  }
} catch (error) {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
}
