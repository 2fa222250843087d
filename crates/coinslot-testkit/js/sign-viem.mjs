// Signs EIP-712 typed data with viem, for the testkit's cross-check of alloy's signatures.
// Reads {privateKey, domain, types, primaryType, message} as JSON on stdin (bigints as decimal
// strings) and prints the 65-byte signature as 0x-hex.

import { privateKeyToAccount } from "viem/accounts";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { privateKey, domain, types, primaryType, message } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
// JSON has no big integers: integer fields arrive as decimal strings.
const integer = /^u?int\d*$/;
for (const field of types[primaryType]) {
  if (integer.test(field.type)) message[field.name] = BigInt(message[field.name]);
}
domain.chainId = BigInt(domain.chainId);
const account = privateKeyToAccount(privateKey);
const signature = await account.signTypedData({ domain, types, primaryType, message });
process.stdout.write(signature + "\n");
