// Drives the reference x402 implementation (@x402/core and @x402/evm 2.27.0, viem 2.57.1) for
// coinslot's interop tests. One JSON object in on stdin, one JSON object out on stdout.
//
//   node x402-reference.mjs pay     {"privateKey", "paymentRequired"}
//       -> the PaymentPayload the reference client (x402Client + ExactEvmScheme) makes
//   node x402-reference.mjs verify  {"rpcUrl", "privateKey", "paymentPayload", "paymentRequirements"}
//   node x402-reference.mjs settle  {...the same}
//       -> the reference facilitator's (x402Facilitator + ExactEvmScheme) answer, with
//          `privateKey` as its settlement key on the chain at `rpcUrl`
//
// Errors go to stderr with exit code 1.

import { x402Client } from "@x402/core/client";
import { x402Facilitator } from "@x402/core/facilitator";
import { registerExactEvmScheme as registerClient } from "@x402/evm/exact/client";
import { registerExactEvmScheme as registerFacilitator } from "@x402/evm/exact/facilitator";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { createWalletClient, http, publicActions, defineChain } from "viem";
import { privateKeyToAccount } from "viem/accounts";

const command = process.argv[2];
const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

async function pay({ privateKey, paymentRequired }) {
  const client = new x402Client();
  registerClient(client, { signer: privateKeyToAccount(privateKey) });
  return client.createPaymentPayload(paymentRequired);
}

function facilitator({ rpcUrl, privateKey }) {
  const account = privateKeyToAccount(privateKey);
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
  return facilitator;
}

const bigints = (_, value) => (typeof value === "bigint" ? value.toString() : value);

try {
  let output;
  if (command === "pay") output = await pay(input);
  else if (command === "verify") output = await facilitator(input).verify(input.paymentPayload, input.paymentRequirements);
  else if (command === "settle") output = await facilitator(input).settle(input.paymentPayload, input.paymentRequirements);
  else throw new Error(`unknown command ${command}`);
  process.stdout.write(JSON.stringify(output, bigints) + "\n");
} catch (error) {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
}
