// Times @stacks/transactions 7.6 decoding and verifying transactions, for coinslot's benchmarks.
//
//   node stacks-bench.mjs   {"transactions": ["<hex>", ...], "seconds": 3}
//       -> {"perSecond", "count", "seconds"}: deserializeTransaction then the signature checks
//          (origin, and sponsor if any), over the list again and again for `seconds`, after a
//          warm-up of a tenth of that.
//
// Every transaction is checked once first: one that fails is an error, not a fast run.

import { deserializeTransaction } from '@stacks/transactions';
import { verifySignatures } from './stacks-signatures.mjs';

let text = '';
for await (const chunk of process.stdin) text += chunk;
const { transactions, seconds } = JSON.parse(text);

const check = (hex) => verifySignatures(deserializeTransaction(hex));
transactions.forEach(check);

function loop(budgetMs) {
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(budgetMs * 1e6));
  let count = 0;
  for (;;) {
    for (const hex of transactions) check(hex);
    count += transactions.length;
    const elapsed = process.hrtime.bigint() - start;
    if (elapsed >= budget) return { count, seconds: Number(elapsed) / 1e9 };
  }
}

loop(seconds * 100);
const { count, seconds: took } = loop(seconds * 1000);
process.stdout.write(JSON.stringify({ perSecond: count / took, count, seconds: took }) + '\n');
