#!/usr/bin/env bash
# The benchmarks: coinslot beside bare axum, x402-rs and the TypeScript reference, on one local
# chain. Builds everything in release, runs the criterion benches and the load runs, and writes
# docs/benchmarks.md (about 15 minutes on 2 cores, after the builds).
#
#   ./scripts/bench.sh           the figures of docs/benchmarks.md
#   ./scripts/bench.sh --smoke   every bench and every load path once, with a few requests, in
#                                the debug profile; writes target/benchmarks-smoke.md. CI runs
#                                this so that the benches keep building and running; it says
#                                nothing about speed.
#
# Needs only the Rust toolchain, Node.js 20+ and npm, like the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

mode=full
case "${1:-}" in
  "") ;;
  --smoke) mode=smoke ;;
  *) echo "usage: $0 [--smoke]" >&2; exit 2 ;;
esac

./scripts/install-tools.sh
# The Stacks API loads its embedding model at start.
./scripts/install-models.sh

# The x402-rs peer is a Cargo project of its own (its lock file stays out of ours), built into
# our target folder so that the runner finds it beside coinslot-bench.
peer=(cargo build --locked --manifest-path benches/peers/x402-rs/Cargo.toml)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

if [ "$mode" = smoke ]; then
  step "build (debug)"
  cargo build --locked -p coinslot-benches -p coinslot-example-stacks-api --bins
  "${peer[@]}"
  step "criterion benches, once each"
  cargo test --locked -p coinslot-benches --benches
  step "load runs, a few requests each"
  "$CARGO_TARGET_DIR/debug/coinslot-bench" run --smoke
else
  step "build (release)"
  cargo build --locked --release -p coinslot-benches -p coinslot-example-stacks-api --bins
  "${peer[@]}" --release
  step "criterion benches"
  cargo bench --locked -p coinslot-benches
  step "load runs"
  "$CARGO_TARGET_DIR/release/coinslot-bench" run --criterion "$CARGO_TARGET_DIR/criterion"
fi
