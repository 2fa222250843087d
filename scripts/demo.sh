#!/usr/bin/env bash
# The demo, from a fresh clone: anvil with the USDC test token, the facilitator, the paid API and
# the paying agent, each a real process; a handful of paid calls, then everything shut down.
# Needs only the Rust toolchain, Node.js 20+ and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-tools.sh
printf '\n==> cargo build (the example services)\n'
cargo build --locked --quiet -p coinslot-example-facilitator -p coinslot-example-server \
  -p coinslot-example-client -p coinslot-example-demo
printf '\n==> demo\n'
exec ./target/debug/demo
