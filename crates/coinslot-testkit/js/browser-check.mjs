// Opens a page in Debian's headless Chromium (through playwright-core, which drives a browser
// it did not download) and reports what a visitor would see go wrong.
//
// `node browser-check.mjs check` reads {url, screenshot, waitFor} on stdin and prints
// {title, text, consoleErrors, pageErrors, failedRequests}: the page's console errors,
// uncaught exceptions and failed requests, its visible text once the `waitFor` selector is
// shown, and a full-page PNG written to `screenshot`.
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

async function check({ url, screenshot, waitFor }) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // The closed network of CI: no background connections, no first-run work.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors = [];
    const pageErrors = [];
    const failedRequests = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('requestfailed', (request) => failedRequests.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on('response', (response) => {
      if (response.status() >= 400) failedRequests.push(`${response.url()}: ${response.status()}`);
    });
    await page.goto(url, { waitUntil: 'networkidle' });
    if (waitFor) await page.waitForSelector(waitFor, { timeout: 10_000 });
    await page.screenshot({ path: screenshot, fullPage: true });
    return {
      title: await page.title(),
      text: await page.innerText('body'),
      consoleErrors,
      pageErrors,
      failedRequests,
    };
  } finally {
    await browser.close();
  }
}

const input = JSON.parse(await new Promise((resolve) => {
  let data = '';
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
}));
const commands = { check };
const command = commands[process.argv[2]];
if (!command) {
  console.error(`unknown command ${process.argv[2]}`);
  process.exit(2);
}
console.log(JSON.stringify(await command(input)));
