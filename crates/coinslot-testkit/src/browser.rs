//! [`check_page`]: a page opened in Debian's headless Chromium (`/usr/bin/chromium`, installed
//! by `scripts/install-tools.sh`; `CHROMIUM` names another), driven by the pinned npm
//! `playwright-core` through `js/browser-check.mjs`.

use std::path::Path;

use serde::Deserialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::reference::run_script;

/// What a visitor of a page would see go wrong, and what it shows.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageCheck {
    /// The document's title.
    pub title: String,
    /// Its visible text.
    pub text: String,
    /// Errors written to the console.
    pub console_errors: Vec<String>,
    /// Uncaught exceptions.
    pub page_errors: Vec<String>,
    /// Requests that failed or were answered 4xx/5xx.
    pub failed_requests: Vec<String>,
}

impl PageCheck {
    /// Whether the page loaded without a console error, an exception or a failed request.
    pub fn is_clean(&self) -> bool {
        self.console_errors.is_empty()
            && self.page_errors.is_empty()
            && self.failed_requests.is_empty()
    }
}

/// Opens `url`, waits for `wait_for` (a CSS selector) to show, and writes a full-page PNG
/// screenshot to `screenshot`.
pub async fn check_page(url: &str, wait_for: &str, screenshot: &Path) -> Result<PageCheck> {
    let answer = run_script(
        "browser-check.mjs",
        "check",
        json!({"url": url, "waitFor": wait_for, "screenshot": screenshot}),
    )
    .await?;
    serde_json::from_value(answer).map_err(|e| Error::Tool {
        tool: "browser-check.mjs",
        message: format!("unexpected answer: {e}"),
    })
}
