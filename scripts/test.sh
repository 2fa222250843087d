#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the npm tools the tests need (anvil, solc,
# Permit2's sources, viem) from the committed lock file, then checks formatting, lints and docs,
# and runs every test. Needs only the Rust toolchain, Node.js 20+ and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool is not on PATH" >&2; exit 1; }
done

step() { printf '\n==> %s\n' "$*"; }

# npm ci wipes node_modules: run it only when the lock file changed since the last install.
js=crates/coinslot-testkit/js
if ! cmp -s "$js/package-lock.json" "$js/node_modules/.coinslot-lock" 2>/dev/null; then
  step "npm ci ($js)"
  (cd "$js" && npm ci --no-audit --no-fund)
  cp "$js/package-lock.json" "$js/node_modules/.coinslot-lock"
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "cargo test"
cargo test --workspace --locked
