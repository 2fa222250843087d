//! The npm tools of the local chain (anvil, solc, Permit2's sources, viem), installed from the
//! committed lock file, and the contracts compiled once and cached under `target/`; and the
//! Python packages (the reference PyPI `x402`, from `python/requirements.txt`; schemathesis,
//! from `python/schemathesis.txt`), installed into folders under `target/` when a test first
//! needs them.
//!
//! Each step runs at most once per machine and source version: a file lock serialises test
//! processes (nextest runs each test in its own), and each output is keyed by a hash of
//! everything that goes into it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use alloy::primitives::keccak256;

use crate::error::{Error, Result};

/// Paths to the installed tools and the compiled contracts.
#[derive(Debug)]
pub struct Tools {
    /// The anvil executable.
    pub anvil: PathBuf,
    /// The folder of the npm tools and their scripts.
    pub js_dir: PathBuf,
    /// The compiled contracts (JSON written by `js/compile.mjs`).
    pub artifacts: PathBuf,
}

/// The tools, installed and compiled on first use.
///
/// Blocks while `npm ci` and the compiler run (some seconds, the first time on a machine).
pub fn tools() -> Result<&'static Tools> {
    static TOOLS: OnceLock<std::result::Result<Tools, String>> = OnceLock::new();
    TOOLS
        .get_or_init(|| prepare().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|message| Error::Tool {
            tool: "testkit",
            message: message.clone(),
        })
}

/// Python with the pinned Python reference packages (`python/requirements.txt`), installed
/// on first use into a folder under `target/coinslot-testkit/`, with pip's downloads cached
/// beside it.
#[derive(Debug)]
pub struct Python {
    /// The folder the packages are installed in (`pip install --target`).
    pub packages: PathBuf,
}

impl Python {
    /// `python3` running `script`, with the packages on its path and no user site.
    pub fn command(&self, script: impl AsRef<Path>) -> Command {
        let mut command = Command::new("python3");
        command
            .arg("-s")
            .arg(script.as_ref())
            .env("PYTHONPATH", &self.packages);
        command
    }
}

/// The Python reference packages, installed on first use: blocks while pip runs (a minute,
/// the first time on a machine). Needs `python3` with pip on PATH (`scripts/install-tools.sh`
/// installs Debian's when missing).
pub fn python() -> Result<&'static Python> {
    static PYTHON: PythonCell = OnceLock::new();
    installed(&PYTHON, "python", "requirements.txt")
}

/// schemathesis and openapi-spec-validator (PyPI), pinned in `python/schemathesis.txt`,
/// installed on first use like [`python`]: they check a service against its OpenAPI document,
/// and the document itself. Their command lines: `command(packages.join("bin/st"))`,
/// `command(packages.join("bin/openapi-spec-validator"))`.
pub fn schemathesis() -> Result<&'static Python> {
    static SCHEMATHESIS: PythonCell = OnceLock::new();
    installed(&SCHEMATHESIS, "schemathesis", "schemathesis.txt")
}

/// A set of Python packages, installed once per process (or its failure, told each time).
type PythonCell = OnceLock<std::result::Result<Python, String>>;

fn installed(
    cell: &'static PythonCell,
    tool: &'static str,
    requirements: &str,
) -> Result<&'static Python> {
    cell.get_or_init(|| prepare_python(requirements).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|message| Error::Tool {
            tool,
            message: message.clone(),
        })
}

/// The folder of the testkit's Python scripts.
pub fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

/// The packages pinned in `python/<requirements>`, each set in its own folder named by the
/// hash of its pins.
fn prepare_python(requirements: &str) -> Result<Python> {
    let cache = cache_dir();
    fs::create_dir_all(&cache).map_err(|e| Error::io(&cache, e))?;
    let lock_path = cache.join("python.lock");
    let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;

    let requirements = python_dir().join(requirements);
    let pinned = fs::read(&requirements).map_err(|e| Error::io(&requirements, e))?;
    let packages = cache.join(format!("python-{}", &keccak256(&pinned).to_string()[2..18]));
    let ready = packages.join(".coinslot-ready");
    if !ready.exists() {
        // A half-made install (one cut off) is made again from nothing.
        if packages.exists() {
            fs::remove_dir_all(&packages).map_err(|e| Error::io(&packages, e))?;
        }
        run(
            "pip",
            Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(["--no-warn-script-location", "--target"])
                .arg(&packages)
                .arg("--requirement")
                .arg(&requirements)
                .env("PIP_CACHE_DIR", cache.join("pip-cache")),
        )?;
        fs::write(&ready, b"").map_err(|e| Error::io(&ready, e))?;
    }
    drop(lock);
    Ok(Python { packages })
}

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// `target/coinslot-testkit`, honouring `CARGO_TARGET_DIR`.
fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("coinslot-testkit")
}

fn prepare() -> Result<Tools> {
    let js = js_dir();
    let cache = cache_dir();
    fs::create_dir_all(&cache).map_err(|e| Error::io(&cache, e))?;
    let lock_path = cache.join("install.lock");
    let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;

    install_npm_tools(&js)?;
    let anvil = find_anvil(&js).ok_or_else(|| Error::Tool {
        tool: "anvil",
        message: format!("npm ci ran but no anvil binary is under {}", js.display()),
    })?;

    let artifacts = cache.join(format!("contracts-{}.json", source_hash(&js)?));
    if !artifacts.exists() {
        let partial = artifacts.with_extension("partial");
        run(
            "node",
            Command::new("node")
                .arg(js.join("compile.mjs"))
                .arg(&partial)
                .current_dir(&js),
        )?;
        fs::rename(&partial, &artifacts).map_err(|e| Error::io(&artifacts, e))?;
    }
    drop(lock);
    Ok(Tools {
        anvil,
        js_dir: js,
        artifacts,
    })
}

/// Runs `npm ci` unless `node_modules` was installed from the current lock file. The stamp is
/// the same one `scripts/test.sh` writes.
fn install_npm_tools(js: &Path) -> Result<()> {
    let lock = js.join("package-lock.json");
    let stamp = js.join("node_modules/.coinslot-lock");
    let wanted = fs::read(&lock).map_err(|e| Error::io(&lock, e))?;
    if fs::read(&stamp).is_ok_and(|installed| installed == wanted) {
        return Ok(());
    }
    run(
        "npm",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(js),
    )?;
    fs::write(&stamp, wanted).map_err(|e| Error::io(&stamp, e))
}

/// The native anvil binary of the npm package for this platform (not the `.bin` node wrapper,
/// whose child would outlive a kill).
fn find_anvil(js: &Path) -> Option<PathBuf> {
    let scope = js.join("node_modules/@foundry-rs");
    fs::read_dir(scope)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("anvil-"))
        .map(|entry| entry.path().join("bin/anvil"))
        .find(|path| path.is_file())
}

/// Hash of everything the compiled output depends on.
fn source_hash(js: &Path) -> Result<String> {
    let inputs = [
        js.join("compile.mjs"),
        js.join("package-lock.json"),
        js.join("../contracts/TestUSDC.sol"),
        js.join("../contracts/TestWallet.sol"),
        js.join("../contracts/TestWalletFactory.sol"),
        js.join("../contracts/Hostile.sol"),
        js.join("../contracts/TestPermitToken.sol"),
        js.join("../contracts/X402Permit2Proxies.sol"),
        js.join("../../coinslot-evm/contracts/Erc6492Probe.sol"),
    ];
    let mut all = Vec::new();
    for path in inputs {
        all.extend(fs::read(&path).map_err(|e| Error::io(&path, e))?);
    }
    Ok(keccak256(&all).to_string()[2..18].to_owned())
}

fn run(tool: &'static str, command: &mut Command) -> Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Tool {
            tool,
            message: format!("cannot run it ({e}); Node.js 20+ with npm must be on PATH"),
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::Tool {
            tool,
            message: format!(
                "{}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}
