// Compiles the contracts of coinslot's local chain with solc from npm and writes one JSON file:
//   { "TestUSDC": Artifact, "TestWallet": Artifact, "TestWalletFactory": Artifact,
//     "GasBurner": Artifact, "InvalidOpcode": Artifact, "TestPermitToken": Artifact,
//     "X402ExactPermit2Proxy": Artifact, "X402UptoPermit2Proxy": Artifact,
//     "Erc6492Probe": Artifact, "Permit2": Artifact }
// where Artifact = { abi, bytecode, deployedBytecode, immutables: { name: [{start, length}] } }.
//
// TestUSDC, TestWallet, TestWalletFactory, TestPermitToken, the x402 Permit2 proxies and the
// hostile contracts are ours (../contracts); Erc6492Probe belongs to
// coinslot-evm, which carries its creation code and checks it against this output. Permit2 is compiled from the sources that
// @uniswap/v4-periphery ships, with the settings Permit2 is built with (solc 0.8.17, via-IR,
// 1,000,000 optimizer runs, no metadata hash). The output is a build product: the testkit caches
// it under target/, it is never committed.
//
// Usage: node compile.mjs OUT.json

import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";
import solc0817 from "solc0817";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error("usage: node compile.mjs OUT.json");
  process.exit(2);
}

const permit2Root = join(here, "node_modules/@uniswap/v4-periphery/lib/permit2");

function compile(compiler, sources, settings, resolveImport) {
  const input = {
    language: "Solidity",
    sources,
    settings: {
      ...settings,
      outputSelection: {
        "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"], "": ["ast"] },
      },
    },
  };
  const output = JSON.parse(compiler.compile(JSON.stringify(input), { import: resolveImport }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    for (const e of errors) console.error(e.formattedMessage);
    process.exit(1);
  }
  return output;
}

// Names of the immutables, by the AST id that immutableReferences uses.
function immutableNames(output) {
  const names = {};
  const visit = (node) => {
    if (!node || typeof node !== "object") return;
    if (node.nodeType === "VariableDeclaration" && node.mutability === "immutable") names[node.id] = node.name;
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === "object") visit(value);
    }
  };
  for (const source of Object.values(output.sources)) visit(source.ast);
  return names;
}

function artifact(output, file, name) {
  const contract = output.contracts[file][name];
  const names = immutableNames(output);
  const immutables = {};
  for (const [id, refs] of Object.entries(contract.evm.deployedBytecode.immutableReferences || {})) {
    immutables[names[id]] = refs;
  }
  return {
    abi: contract.abi,
    bytecode: "0x" + contract.evm.bytecode.object,
    deployedBytecode: "0x" + contract.evm.deployedBytecode.object,
    immutables,
  };
}

const ours = {
  "TestUSDC.sol": join(here, "../contracts/TestUSDC.sol"),
  "TestWallet.sol": join(here, "../contracts/TestWallet.sol"),
  "TestWalletFactory.sol": join(here, "../contracts/TestWalletFactory.sol"),
  "Hostile.sol": join(here, "../contracts/Hostile.sol"),
  "TestPermitToken.sol": join(here, "../contracts/TestPermitToken.sol"),
  "X402Permit2Proxies.sol": join(here, "../contracts/X402Permit2Proxies.sol"),
  "Erc6492Probe.sol": join(here, "../../coinslot-evm/contracts/Erc6492Probe.sol"),
};
// No metadata hash: the bytecode then depends on the source and the compiler only, not on
// where the files sit, so a committed copy can be checked against it.
const own = compile(
  solc,
  Object.fromEntries(Object.entries(ours).map(([name, path]) => [name, { content: readFileSync(path, "utf8") }])),
  { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun", metadata: { bytecodeHash: "none" } },
  () => ({ error: "our contracts import only each other" }),
);

// Permit2 imports its own files by relative path and solmate as "solmate/…".
const permit2Import = (path) => {
  const candidates = path.startsWith("solmate/")
    ? [join(permit2Root, "lib", path)]
    : [join(permit2Root, path), resolve(permit2Root, path)];
  for (const candidate of candidates) {
    if (existsSync(candidate)) return { contents: readFileSync(candidate, "utf8") };
  }
  return { error: `not found: ${path}` };
};
const permit2File = "src/Permit2.sol";
const permit2 = compile(
  solc0817,
  { [permit2File]: { content: readFileSync(join(permit2Root, permit2File), "utf8") } },
  { viaIR: true, optimizer: { enabled: true, runs: 1000000 }, metadata: { bytecodeHash: "none" } },
  permit2Import,
);

writeFileSync(
  out,
  JSON.stringify({
    compilers: { ours: solc.version(), Permit2: solc0817.version() },
    TestUSDC: artifact(own, "TestUSDC.sol", "TestUSDC"),
    TestWallet: artifact(own, "TestWallet.sol", "TestWallet"),
    TestWalletFactory: artifact(own, "TestWalletFactory.sol", "TestWalletFactory"),
    GasBurner: artifact(own, "Hostile.sol", "GasBurner"),
    InvalidOpcode: artifact(own, "Hostile.sol", "InvalidOpcode"),
    TestPermitToken: artifact(own, "TestPermitToken.sol", "TestPermitToken"),
    X402ExactPermit2Proxy: artifact(own, "X402Permit2Proxies.sol", "X402ExactPermit2Proxy"),
    X402UptoPermit2Proxy: artifact(own, "X402Permit2Proxies.sol", "X402UptoPermit2Proxy"),
    Erc6492Probe: artifact(own, "Erc6492Probe.sol", "Erc6492Probe"),
    Permit2: artifact(permit2, permit2File, "Permit2"),
  }),
);
