//! What the runner asks the host about the processes it measures: where they run (CPU
//! affinity, through util-linux `taskset`), the CPU time they used and their peak memory
//! (from `/proc`). Linux only, like the rest of the runner.

use std::process::{Command, Stdio};
use std::time::Duration;

/// The server on CPU 0 and this process (the load driver) on CPU 1, for as long as it lives;
/// both go back to every CPU when it is dropped.
///
/// On a small machine the driver and the server otherwise share the same cores, and the
/// scheduler's placement, not the server, decides a light path's throughput from run to run.
#[derive(Debug)]
pub struct SplitCpus {
    server: u32,
    all: String,
}

impl SplitCpus {
    /// Splits the CPUs; `None` with fewer than two, or when `taskset` refuses.
    pub fn new(server: u32) -> Option<Self> {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        if cpus < 2 {
            return None;
        }
        let all = format!("0-{}", cpus - 1);
        let split = Self { server, all };
        (pin(server, "0") && pin(std::process::id(), "1")).then_some(split)
    }
}

impl Drop for SplitCpus {
    fn drop(&mut self) {
        pin(self.server, &self.all);
        pin(std::process::id(), &self.all);
    }
}

/// Sets the affinity of every thread of `pid`.
fn pin(pid: u32, cpus: &str) -> bool {
    Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// CPU time a process used, in user space and in the kernel on its behalf.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuTime {
    /// In user space.
    pub user: Duration,
    /// In the kernel (system calls, and the loopback network's work done on its CPU).
    pub system: Duration,
}

/// The CPU time `pid` has used so far.
pub fn cpu_time(pid: u32) -> Option<CpuTime> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15, counted from the pid.
    let ticks = |i: usize| Some(fields.get(i)?.parse::<u64>().ok()? as f64 / clock_ticks()?);
    Some(CpuTime {
        user: Duration::from_secs_f64(ticks(11)?),
        system: Duration::from_secs_f64(ticks(12)?),
    })
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux nearly everywhere).
fn clock_ticks() -> Option<f64> {
    static TICKS: std::sync::OnceLock<Option<f64>> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    })
}

/// The peak resident memory of `pid` (VmHWM), kB.
pub fn peak_memory_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
