//! coinslot's benchmarks: the load driver, the servers it measures on our side, the runner that
//! measures every peer, and the report it writes to `docs/benchmarks.md`.
//!
//! `scripts/bench.sh` runs it all; `docs/benchmarks.md` says what is measured and how.

pub mod host;
pub mod load;
pub mod report;
pub mod run;
pub mod samples;
pub mod serve;
pub mod stacks_api;
