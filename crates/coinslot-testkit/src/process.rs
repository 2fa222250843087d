//! [`ServiceProcess`]: one of the example services (facilitator, server) run as a child
//! process, for tests and the demo.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use crate::error::{Error, Result};

/// A service binary running as a child process; killed when dropped, however the caller ends.
#[derive(Debug)]
pub struct ServiceProcess {
    child: Child,
    url: String,
}

impl ServiceProcess {
    /// Starts `program` with `envs`, and waits for its first line of output that starts with
    /// `ready` (`"Server listening"`); the service's URL is the first `http://` word of that
    /// line. Its log (stderr) goes to this process's stderr when `show_log` is set.
    pub fn start(
        program: impl AsRef<OsStr>,
        envs: &[(&str, String)],
        ready: &str,
        show_log: bool,
    ) -> Result<Self> {
        let mut command = Command::new(program);
        command.envs(envs.iter().map(|(k, v)| (*k, v.as_str())));
        Self::spawn(command, ready, show_log)
    }

    /// Like [`start`](Self::start), for a command with its arguments and environment set.
    pub fn spawn(mut command: Command, ready: &str, show_log: bool) -> Result<Self> {
        let name = command.get_program().to_string_lossy().into_owned();
        let failed = |message: String| Error::Tool {
            tool: "service",
            message: format!("{name}: {message}"),
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if show_log {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .map_err(|e| failed(format!("cannot start: {e}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| failed("no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let line = loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with(ready) => break line,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(failed(format!("reading its output: {e}"))),
                None => {
                    let status = child.wait().map_err(|e| failed(e.to_string()))?;
                    return Err(failed(format!(
                        "exited ({status}) before printing {ready:?}"
                    )));
                }
            }
        };
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .ok_or_else(|| failed(format!("no URL in {line:?}")))?
            .to_owned();
        // Whatever else it prints is drained, so that a full pipe never blocks it.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, url })
    }

    /// The process id, to read its resource use from `/proc`.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The URL the service printed.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Asks the service to stop as Ctrl-C would (SIGINT), and waits for it; true if it exited
    /// with success.
    pub fn interrupt(mut self) -> Result<bool> {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .map_err(|e| Error::Tool {
                tool: "kill",
                message: e.to_string(),
            })?;
        if !status.success() {
            return Ok(false);
        }
        self.wait()
    }

    /// Waits for the service to exit (after `POST /close`, say); true if it exited with success.
    pub fn wait(&mut self) -> Result<bool> {
        let status = self.child.wait().map_err(|e| Error::Tool {
            tool: "service",
            message: e.to_string(),
        })?;
        Ok(status.success())
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
