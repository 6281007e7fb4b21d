//! Requests at a fixed rate on keep-alive connections, as wrk2 makes them: each connection has
//! its own schedule (one request every `connections / rate` seconds), and a request's latency
//! counts from the moment the schedule meant to send it. A server that stalls is then charged
//! for every request that should have gone out meanwhile (no coordinated omission).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{Request, header};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use crate::target::{Stream, Target};

/// What one run asks for.
pub struct Plan {
    /// Requests per second over all connections.
    pub rate: f64,
    /// Keep-alive connections, each with its share of the rate.
    pub connections: usize,
    /// Time before the measured window (not recorded).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// Requests per connection before it is closed and opened again; 0 keeps it.
    pub per_connection: u64,
    /// Extra header lines (`Name: value`), e.g. a session cookie.
    pub headers: Vec<(String, String)>,
}

/// What the measured window saw.
pub struct Outcome {
    /// Latencies in microseconds, from the scheduled start to the end of the body.
    pub latency: Histogram<u64>,
    /// Answers that were not 2xx or 3xx.
    pub bad_status: u64,
    /// Requests that failed on the connection (and were retried on a new one).
    pub errors: u64,
}

/// Runs `plan` against `target` and merges what every connection saw.
pub async fn run(target: Arc<Target>, plan: Arc<Plan>) -> anyhow::Result<Outcome> {
    let start = Instant::now() + Duration::from_millis(100);
    let interval = Duration::from_secs_f64(plan.connections as f64 / plan.rate);
    let mut workers = Vec::with_capacity(plan.connections);
    for i in 0..plan.connections {
        // Spread the connections' schedules evenly over one interval.
        let first = start + interval.mul_f64(i as f64 / plan.connections as f64);
        workers.push(tokio::spawn(worker(
            target.clone(),
            plan.clone(),
            first,
            interval,
            start,
        )));
    }
    let mut total = Outcome {
        latency: histogram()?,
        bad_status: 0,
        errors: 0,
    };
    for worker in workers {
        let outcome = worker.await??;
        total.latency.add(&outcome.latency)?;
        total.bad_status += outcome.bad_status;
        total.errors += outcome.errors;
    }
    Ok(total)
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 120_000_000, 3)?)
}

async fn worker(
    target: Arc<Target>,
    plan: Arc<Plan>,
    first: Instant,
    interval: Duration,
    start: Instant,
) -> anyhow::Result<Outcome> {
    let measured_from = start + plan.warmup;
    let end = measured_from + plan.duration;
    let mut outcome = Outcome {
        latency: histogram()?,
        bad_status: 0,
        errors: 0,
    };
    let mut sender: Option<SendRequest<Empty<Bytes>>> = None;
    let mut used = 0;
    let mut reported = false;
    let mut due = first;
    while due < end {
        tokio::time::sleep_until(due).await;
        let measured = due >= measured_from;
        let result = match sender.take() {
            Some(open) if plan.per_connection == 0 || used < plan.per_connection => Ok(open),
            _ => {
                used = 0;
                open(&target).await
            }
        };
        let result = match result {
            Ok(mut open) => {
                used += 1;
                let status = send(&mut open, &target, &plan).await;
                if status.is_ok() {
                    sender = Some(open);
                }
                status
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(status) if measured => {
                let micros = due.elapsed().as_micros().try_into().unwrap_or(u64::MAX);
                outcome.latency.saturating_record(micros);
                if !(200..400).contains(&status) {
                    outcome.bad_status += 1;
                }
            }
            Ok(_) => {}
            Err(e) => {
                if !reported {
                    eprintln!("first failed request: {e:#}");
                    reported = true;
                }
                outcome.errors += u64::from(measured);
            }
        }
        due += interval;
    }
    Ok(outcome)
}

async fn open(target: &Target) -> anyhow::Result<SendRequest<Empty<Bytes>>> {
    match target.connect().await? {
        Stream::Tls(tls) => handshake(*tls).await,
        Stream::Plain(tcp) => handshake(tcp).await,
    }
}

async fn handshake<IO>(io: IO) -> anyhow::Result<SendRequest<Empty<Bytes>>>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(io)).await?;
    // The connection ends when its sender is dropped, or on an error the next request reports.
    tokio::spawn(connection);
    Ok(sender)
}

async fn send(
    sender: &mut SendRequest<Empty<Bytes>>,
    target: &Target,
    plan: &Plan,
) -> anyhow::Result<u16> {
    let mut request = Request::get(&target.path).header(header::HOST, &target.authority);
    for (name, value) in &plan.headers {
        request = request.header(name, value);
    }
    sender.ready().await?;
    let response = sender.send_request(request.body(Empty::new())?).await?;
    let status = response.status().as_u16();
    response.into_body().collect().await?;
    Ok(status)
}
