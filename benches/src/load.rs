//! The load driver: a fixed number of keep-alive HTTP/1.1 connections, each sending its next
//! request as soon as the last answer is read (a closed loop), timing every request.
//!
//! It speaks hyper's client connection directly, with nothing between it and the socket, so
//! that the driver costs as little of the shared CPU as it can.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One request to send.
#[derive(Debug, Clone)]
pub struct Job {
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Job {
    /// `GET path`.
    pub fn get(path: &str) -> Self {
        Self {
            method: Method::GET,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// `POST path` with a JSON body.
    pub fn post_json(path: &str, body: Vec<u8>) -> Self {
        Self::get(path)
            .with_header(
                HeaderName::from_static("content-type"),
                HeaderValue::from_static("application/json"),
            )
            .with_body(body)
    }

    /// Adds a header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    fn with_body(mut self, body: Vec<u8>) -> Self {
        self.method = Method::POST;
        self.body = body.into();
        self
    }

    fn request(&self, host: &str) -> Request<Full<Bytes>> {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header(http::header::HOST, host);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
            .body(Full::new(self.body.clone()))
            .expect("a request of a method, a path and valid headers")
    }
}

/// What to send.
#[derive(Debug, Clone)]
pub enum Work {
    /// The same request, over and over, for this long.
    Repeat(Job, Duration),
    /// Each of these once (unique payments), in order across the connections; no new
    /// request is sent once the time is up.
    Each(Arc<Vec<Job>>, Duration),
}

/// What an answer must be to count as served.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    /// The status.
    pub status: u16,
    /// A piece of the body (`"isValid":true`), if the status alone does not say it.
    pub body: Option<&'static str>,
}

/// The measurements of one load.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Requests answered as expected.
    pub served: usize,
    /// Every other outcome, by status (0: the connection failed), with one example body.
    pub failures: BTreeMap<u16, (usize, String)>,
    /// From the first request sent to the last answer read.
    pub elapsed: Duration,
    /// Latency of each served request, sorted, in microseconds.
    latencies: Vec<u32>,
}

impl Outcome {
    /// Served requests per second.
    pub fn throughput(&self) -> f64 {
        self.served as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency under which `fraction` of the served requests were answered, in ms.
    pub fn percentile_ms(&self, fraction: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((self.latencies.len() as f64 * fraction).ceil() as usize).max(1) - 1;
        f64::from(self.latencies[rank.min(self.latencies.len() - 1)]) / 1000.0
    }

    /// Requests that were not served, in all.
    pub fn failed(&self) -> usize {
        self.failures.values().map(|(n, _)| n).sum()
    }

    /// A one-line account of the failures, for error messages.
    pub fn failure_summary(&self) -> String {
        self.failures
            .iter()
            .map(|(status, (n, body))| format!("{n}× status {status}: {body}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Runs `work` against the server at `url` (`http://127.0.0.1:PORT`) over `connections`
/// connections.
pub async fn run(
    url: &str,
    connections: usize,
    work: Work,
    expect: Expect,
) -> Result<Outcome, String> {
    let (authority, address) = resolve(url).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers = (0..connections)
        .map(|_| {
            let (work, next, host) = (work.clone(), Arc::clone(&next), authority.to_owned());
            tokio::spawn(async move { connection(address, &host, work, &next, expect).await })
        })
        .collect::<Vec<_>>();
    let mut outcome = Outcome {
        served: 0,
        failures: BTreeMap::new(),
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for worker in workers {
        let part = worker.await.map_err(|e| e.to_string())?;
        outcome.served += part.served;
        outcome.latencies.extend(part.latencies);
        for (status, (n, body)) in part.failures {
            outcome.failures.entry(status).or_insert((0, body)).0 += n;
        }
    }
    outcome.elapsed = started.elapsed();
    outcome.latencies.sort_unstable();
    Ok(outcome)
}

/// One connection's loop; reconnects after a failed exchange.
async fn connection(
    address: SocketAddr,
    host: &str,
    work: Work,
    next: &AtomicUsize,
    expect: Expect,
) -> Outcome {
    let mut outcome = Outcome {
        served: 0,
        failures: BTreeMap::new(),
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(4096),
    };
    let deadline = match &work {
        Work::Repeat(_, limit) | Work::Each(_, limit) => Instant::now() + *limit,
    };
    let mut sender = None;
    loop {
        if Instant::now() >= deadline {
            break;
        }
        let job = match &work {
            Work::Repeat(job, _) => job,
            Work::Each(jobs, _) => match jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                Some(job) => job,
                None => break,
            },
        };
        if sender.is_none() {
            sender = connect(address).await.ok();
        }
        let started = Instant::now();
        let answer = match sender.as_mut() {
            Some(sender) => exchange(sender, job.request(host)).await,
            None => Err("cannot connect".to_owned()),
        };
        let latency = started.elapsed();
        let failure = match answer {
            Ok((status, required, body)) => {
                let body_ok = expect
                    .body
                    .is_none_or(|needle| contains(&body, needle.as_bytes()));
                if status == expect.status && body_ok {
                    outcome.served += 1;
                    outcome
                        .latencies
                        .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
                    continue;
                }
                (status, explain(&body, required.as_ref()))
            }
            Err(message) => {
                sender = None;
                (0, message)
            }
        };
        outcome
            .failures
            .entry(failure.0)
            .or_insert((0, failure.1))
            .0 += 1;
    }
    outcome
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(address: SocketAddr) -> Result<Sender, String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}

/// A failed answer in a few words: its body, or the challenge's header when the body is empty
/// (a v2 402 may carry its error only there).
fn explain(body: &[u8], payment_required: Option<&http::HeaderValue>) -> String {
    let text = if body.is_empty() {
        payment_required
            .and_then(|value| coinslot_core::header::decode_base64(value.as_bytes(), 1 << 16).ok())
            .map(|json| String::from_utf8_lossy(&json).into_owned())
            .unwrap_or_default()
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    text.chars().take(400).collect()
}

async fn exchange(
    sender: &mut Sender,
    request: Request<Full<Bytes>>,
) -> Result<(u16, Option<http::HeaderValue>, Bytes), String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let required = response.headers().get("payment-required").cloned();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, required, body))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The authority (`127.0.0.1:PORT`, the `Host` header) and the socket address of a URL.
async fn resolve(url: &str) -> Result<(&str, SocketAddr), String> {
    let authority = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are driven"))?
        .trim_end_matches('/');
    let address = tokio::net::lookup_host(authority)
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))?;
    Ok((authority, address))
}

/// One `GET`, for reading a server's 402 challenge: the status and the headers.
pub async fn fetch(url: &str, path: &str) -> Result<http::Response<Bytes>, String> {
    send_once(url, &Job::get(path)).await
}

/// `job` sent once, on a connection of its own.
pub async fn send_once(url: &str, job: &Job) -> Result<http::Response<Bytes>, String> {
    let (authority, address) = resolve(url).await?;
    let mut sender = connect(address).await?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(job.request(authority))
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(http::Response::from_parts(parts, body))
}
