// A paid route behind the x402-stacks npm server middleware (2.0.3, `paymentMiddleware` on
// express), for interop tests. The middleware does not verify: it calls the facilitator's
// /settle only, and serves the content when the answer is `success: true`. It relies on a
// second settle of the same payment failing, so it shows whether a facilitator lets one
// payment be served twice.
//
//   FACILITATOR_URL, PAY_TO, NETWORK (testnet|mainnet), AMOUNT (µSTX) node x402-stacks-server.mjs
//
// GET /paid costs AMOUNT µSTX; GET /served (free) answers how many times /paid was served.
// Prints "Server listening on http://127.0.0.1:PORT" once it accepts connections.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const express = require('express');
const { paymentMiddleware } = require('x402-stacks');

let served = 0;
const app = express();
app.get('/served', (_req, res) => res.json({ served }));
app.get(
  '/paid',
  paymentMiddleware({
    facilitatorUrl: process.env.FACILITATOR_URL,
    payTo: process.env.PAY_TO,
    network: process.env.NETWORK ?? 'testnet',
    amount: process.env.AMOUNT,
    tokenType: 'STX',
    description: 'paid content',
    mimeType: 'application/json',
  }),
  (_req, res) => {
    served += 1;
    res.json({ message: 'paid content', served });
  },
);
const server = app.listen(0, '127.0.0.1', () => {
  console.log(`Server listening on http://127.0.0.1:${server.address().port}`);
});
