//! What our HTTP client costs on top of a bare `reqwest::Client`: the same N GET requests
//! (a small JSON answer, decoded) to a local HTTP server, first through `vendor-http`
//! (rate limiter unlimited, so only the client's own work counts: building the request,
//! the auth header, the limiter, retries' bookkeeping, error mapping, tracing, decoding),
//! then through bare reqwest, in one process.
//!
//! ```sh
//! cargo run --release --example client_overhead_bench -- -n 20000
//! cargo run --release --example client_overhead_bench -- -n 20000 --vendor zapmail
//! ```
//!
//! The last line of stdout is one JSON object: CPU time (user + system, of this process:
//! the server's share is the same for both) and wall time of each, their ratios (best round
//! against best round, and the median of each round's ratio to the next round of bare); then,
//! measured apart, what the vendor's look for an error inside a 2xx answer costs per
//! answer (`Vendor::error_in_success`) and what reading the answer as a JSON tree costs.

use std::time::{Duration, Instant};

use clap::Parser;
use cpu_time::ProcessTime;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vendor_http::{ClientBuilder, HttpCore, RateLimits, Request};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Time N requests through our client and through bare reqwest.
#[derive(Debug, Parser)]
#[command(name = "client_overhead_bench")]
struct Args {
    /// Requests per client.
    #[arg(short = 'n', long, default_value_t = 20_000)]
    n: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured rounds per client (alternating; the best of each is kept, and the median
    /// of each round's own ratio is reported too).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Whose `Vendor` hooks the client under test uses: `generic` (none), or one vendor's
    /// own — `zapmail` and `plusvibe` look for an error inside every 2xx body, `heyreach`
    /// does not. The rate limiter is unlimited in every case.
    #[arg(long, value_enum, default_value_t = VendorKind::Generic)]
    vendor: VendorKind,
    /// Shorthand for `--vendor zapmail`: a vendor that reports errors inside HTTP 200
    /// bodies.
    #[arg(long, conflicts_with = "vendor")]
    errors_in_200: bool,
}

/// The vendors the client under test can speak as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum VendorKind {
    /// A vendor with no errors inside 2xx bodies and the default error parser.
    Generic,
    /// `zapmail::Zapmail`: probes the top-level `status` of every 2xx body.
    Zapmail,
    /// `plusvibe::PlusVibe`: probes the top-level `status` and `code` of every 2xx body.
    Plusvibe,
    /// `heyreach::HeyReach`: no probe.
    Heyreach,
}

impl VendorKind {
    fn name(self) -> &'static str {
        match self {
            VendorKind::Generic => "generic",
            VendorKind::Zapmail => "zapmail",
            VendorKind::Plusvibe => "plusvibe",
            VendorKind::Heyreach => "heyreach",
        }
    }

    fn errors_in_200(self) -> bool {
        matches!(self, VendorKind::Zapmail | VendorKind::Plusvibe)
    }

    /// This vendor's `Vendor::error_in_success`.
    fn probe(self) -> fn(&[u8]) -> Option<u16> {
        use vendor_http::Vendor;
        match self {
            VendorKind::Generic => Bench::error_in_success,
            VendorKind::Zapmail => zapmail::Zapmail::error_in_success,
            VendorKind::Plusvibe => plusvibe::PlusVibe::error_in_success,
            VendorKind::Heyreach => heyreach::HeyReach::error_in_success,
        }
    }

    /// A client core with this vendor's hooks, on `base`, without rate limits.
    fn core(self, base: &str) -> vendor_http::Result<HttpCore> {
        fn build<V: vendor_http::Vendor>(base: &str) -> vendor_http::Result<HttpCore> {
            ClientBuilder::<V>::new()
                .api_key("bench-key")
                .base_url(base)
                .rate_limits(RateLimits::unlimited())
                .build_core()
        }
        match self {
            VendorKind::Generic => build::<Bench>(base),
            VendorKind::Zapmail => build::<zapmail::Zapmail>(base),
            VendorKind::Plusvibe => build::<plusvibe::PlusVibe>(base),
            VendorKind::Heyreach => build::<heyreach::HeyReach>(base),
        }
    }
}

const BODY: &str = r#"{"id":"ws_1","name":"Acme's Infrastructure (0c9a7b7e)","status":"ACTIVE","domains":3,"mailboxes":[{"email":"tim@acme.com"},{"email":"tim.keen@acme.com"}]}"#;

/// A minimal keep-alive HTTP/1.1 server answering every request with `BODY`.
async fn serve(listener: TcpListener) {
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            continue;
        };
        let response = response.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            let mut have = 0;
            loop {
                match sock.read(&mut buf[have..]).await {
                    Ok(0) | Err(_) => return,
                    Ok(k) => have += k,
                }
                // GET requests only: each ends with an empty line.
                while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                    if sock.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                    buf.copy_within(end + 4..have, 0);
                    have -= end + 4;
                }
                if have == buf.len() {
                    return;
                }
            }
        });
    }
}

/// A vendor with no errors inside 2xx bodies and the default error parser.
#[derive(Debug, Clone, Copy, Default)]
struct Bench;

impl vendor_http::Vendor for Bench {
    const NAME: &'static str = "bench";
    const DEFAULT_BASE_URL: &'static str = "http://127.0.0.1:1";
    type Client = vendor_http::HttpCore;
    fn default_limits() -> RateLimits {
        RateLimits::unlimited()
    }
    fn auth_header() -> vendor_http::reqwest::header::HeaderName {
        vendor_http::reqwest::header::HeaderName::from_static("x-api-key")
    }
}

struct Measured {
    cpu: Duration,
    wall: Duration,
}

async fn measure<F, Fut>(n: usize, concurrency: usize, one: F) -> Result<Measured, AnyError>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<Value, AnyError>> + Send,
{
    let cpu = ProcessTime::now();
    let wall = Instant::now();
    let per = n.div_ceil(concurrency);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let one = one.clone();
        tasks.spawn(async move {
            for _ in 0..per {
                let v = one().await?;
                std::hint::black_box(v);
            }
            Ok::<_, AnyError>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(Measured {
        cpu: cpu.elapsed(),
        wall: wall.elapsed(),
    })
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), AnyError> {
    if args.n == 0 || args.concurrency == 0 || args.rounds == 0 {
        return Err("-n, --concurrency and --rounds must be at least 1".into());
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(serve(listener));

    let vendor = if args.errors_in_200 {
        VendorKind::Zapmail
    } else {
        args.vendor
    };
    let ours = vendor.core(&base)?;
    let bare = reqwest::Client::new();
    let url = format!("{base}/v2/workspaces");

    let ours_one = {
        let ours = ours.clone();
        move || {
            let ours = ours.clone();
            async move {
                Ok::<Value, AnyError>(ours.send::<Value>(Request::get("/v2/workspaces")).await?)
            }
        }
    };
    let bare_one = {
        let bare = bare.clone();
        let url = url.clone();
        move || {
            let (bare, url) = (bare.clone(), url.clone());
            async move {
                let r = bare
                    .get(&url)
                    .header("x-api-key", "bench-key")
                    .send()
                    .await?
                    .error_for_status()?;
                Ok::<Value, AnyError>(r.json::<Value>().await?)
            }
        }
    };
    // Warm both (connections, allocator).
    measure(args.n / 10 + 1, args.concurrency, ours_one.clone()).await?;
    measure(args.n / 10 + 1, args.concurrency, bare_one.clone()).await?;
    let mut best_ours: Option<Measured> = None;
    let mut best_bare: Option<Measured> = None;
    // Each round's own ratio: on a shared machine the load drifts between rounds, and a
    // round of ours and the round of bare right after it share most of it.
    let mut paired: Vec<f64> = Vec::with_capacity(args.rounds);
    for round in 0..args.rounds {
        let o = measure(args.n, args.concurrency, ours_one.clone()).await?;
        let b = measure(args.n, args.concurrency, bare_one.clone()).await?;
        eprintln!(
            "round {}: ours cpu {:.3}s wall {:.3}s; bare cpu {:.3}s wall {:.3}s",
            round + 1,
            o.cpu.as_secs_f64(),
            o.wall.as_secs_f64(),
            b.cpu.as_secs_f64(),
            b.wall.as_secs_f64()
        );
        paired.push(o.cpu.as_secs_f64() / b.cpu.as_secs_f64());
        let keep = |best: &mut Option<Measured>, m: Measured| {
            if best.as_ref().is_none_or(|x| m.cpu < x.cpu) {
                *best = Some(m);
            }
        };
        keep(&mut best_ours, o);
        keep(&mut best_bare, b);
    }
    let (o, b) = (
        best_ours.expect("rounds >= 1"),
        best_bare.expect("rounds >= 1"),
    );
    // What one look for an error inside the answer costs on its own, and what reading
    // the answer as a JSON tree (the former probe) costs: best of 5 runs of 100,000.
    let per_body = |f: &dyn Fn(&[u8]) -> bool| {
        (0..5)
            .map(|_| {
                let t = ProcessTime::now();
                for _ in 0..100_000 {
                    std::hint::black_box(f(std::hint::black_box(BODY.as_bytes())));
                }
                t.elapsed().as_secs_f64() * 1e9 / 100_000.0
            })
            .fold(f64::INFINITY, f64::min)
    };
    let probe = vendor.probe();
    let probe_ns = per_body(&|b| probe(b).is_some());
    let tree_ns = per_body(&|b| serde_json::from_slice::<Value>(b).is_ok());
    paired.sort_by(f64::total_cmp);
    let median_ratio = (paired[(paired.len() - 1) / 2] + paired[paired.len() / 2]) / 2.0;
    let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
    println!(
        "{}",
        json!({
            "requests": args.n,
            "vendor": vendor.name(),
            "errors_in_200": vendor.errors_in_200(),
            "concurrency": args.concurrency,
            "ours_cpu_s": r3(o.cpu.as_secs_f64()),
            "bare_cpu_s": r3(b.cpu.as_secs_f64()),
            "ours_wall_s": r3(o.wall.as_secs_f64()),
            "bare_wall_s": r3(b.wall.as_secs_f64()),
            "cpu_ratio": r3(o.cpu.as_secs_f64() / b.cpu.as_secs_f64()),
            "wall_ratio": r3(o.wall.as_secs_f64() / b.wall.as_secs_f64()),
            "cpu_ratio_median_of_rounds": r3(median_ratio),
            "ours_cpu_us_per_request": r3(o.cpu.as_secs_f64() * 1e6 / args.n as f64),
            "bare_cpu_us_per_request": r3(b.cpu.as_secs_f64() * 1e6 / args.n as f64),
            "probe_ns_per_answer": r3(probe_ns),
            "json_tree_ns_per_answer": r3(tree_ns),
        })
    );
    Ok(())
}
