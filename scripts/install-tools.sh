#!/usr/bin/env bash
# Installs the npm tools the local chain, the tests and the demo use (anvil, solc, Permit2's
# sources, viem, the reference x402 packages) into crates/coinslot-testkit/js, from its committed
# lock file. Runs `npm ci` only when the lock file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is not on PATH" >&2; exit 1; }
done

js=crates/coinslot-testkit/js
if ! cmp -s "$js/package-lock.json" "$js/node_modules/.coinslot-lock" 2>/dev/null; then
  printf '\n==> npm ci (%s)\n' "$js"
  (cd "$js" && npm ci --no-audit --no-fund)
  cp "$js/package-lock.json" "$js/node_modules/.coinslot-lock"
fi
