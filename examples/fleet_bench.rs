//! The fleet benchmark: N customers provisioned at once by one worker on one agency key,
//! against the three simulators enforcing the vendors' real quotas × `--rate-scale`
//! (the clients follow the same scaled quotas, so the figures keep their meaning).
//!
//! ```sh
//! cargo run --release --example fleet_bench                       # 100 Starter, SQLite
//! cargo run --release --example fleet_bench -- -n 20 --tier scale
//! cargo run --release --example fleet_bench -- --store postgres://postgres@127.0.0.1/fleet
//! ```
//!
//! The simulators run in a child process (this program again, with the hidden flag
//! `--serve-simulators`), so the worker's peak memory is measured alone;
//! `--in-process-simulators` runs them in this process as before.
//!
//! Progress goes to stderr; the last line of stdout is one JSON object (see
//! `BENCHMARKS.md` at the repository root for every field and the figures of a run).

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use clap::Parser;
use provisioning::sim::{Duplicates, Simulators, SimulatorsConfig, simulator_engine_config};
use provisioning::store::{MemoryStore, SqliteStore};
use provisioning::{
    Clients, Engine, EngineConfig, FnSink, NewProvision, Payment, ProgressEvent, ProgressSink,
    ProvisionId, ProvisionStatus, SecretKey, StepStatus, Store,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::time::Instant;
use vendor_http::{GENERAL, Permit, RateLimiter, RateLimits, RetryConfig, WindowLimiter};
use zapmail::mock::Transition;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// The clients' production timeout (the simulators' clients default to 2 s, which a
/// loaded machine turns into lost answers).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Provision N customers at once against the simulators and print the figures as JSON.
#[derive(Debug, Parser)]
#[command(name = "fleet_bench")]
struct Args {
    /// Provisions to run at once.
    #[arg(short = 'n', long, default_value_t = 100)]
    n: usize,
    /// Tier of every provision (starter: 3 domains, growth: 5, scale: 10).
    #[arg(long, default_value = "starter")]
    tier: String,
    /// Where the engine keeps its state: `sqlite` (a new file in the temp folder), a
    /// `sqlite://PATH` URL, or a `postgres://` URL of an empty database.
    #[arg(long, default_value = "sqlite")]
    store: String,
    /// Every vendor quota multiplied by this (simulators and clients alike).
    #[arg(long, default_value_t = 20.0)]
    rate_scale: f64,
    /// Latency the simulators add to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Provisions the worker drives at once (default: all N; fewer makes the others wait
    /// for a slot).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Also print the calls per route of the run and of the calibration to stderr.
    #[arg(short, long)]
    verbose: bool,
    /// Run the simulators in this process (the old mode: `peak_rss_mb` then includes
    /// them and their request journals).
    #[arg(long)]
    in_process_simulators: bool,
    /// Internal: serve the simulators (JSON settings) to the parent over stdin/stdout.
    #[arg(long, hide = true, value_name = "JSON")]
    serve_simulators: Option<String>,
}

/// Calls per route of the three simulators, for `--verbose`, and Zapmail's calls per
/// second from `origin_ns` (shared timeline, see [`Timeline`]; `None`: its first call).
fn print_routes(what: &str, report: &SimReport, origin_ns: Option<i64>) {
    let arrivals = &report.zapmail_arrivals_ns;
    if let Some(origin) = origin_ns.or_else(|| arrivals.iter().min().copied()) {
        let mut per_s = Vec::<usize>::new();
        for &at in arrivals {
            let s = (at - origin).max(0) as usize / 1_000_000_000;
            if per_s.len() <= s {
                per_s.resize(s + 1, 0);
            }
            per_s[s] += 1;
        }
        eprintln!("{what}: zapmail calls per second: {per_s:?}");
    }
    eprintln!("{what}: calls per route");
    for (r, k) in &report.routes {
        eprintln!("  {k:7} {r}");
    }
}

/// One clock both processes can read. An `Instant` means nothing in another process, so
/// each process reads the wall clock (`SystemTime`, unix-epoch nanoseconds) once at start
/// next to its monotonic clock (`Instant`), and places every later instant `t` at
/// `wall_ns + (t - mono)`. Both processes run on one machine: the monotonic clock is
/// system-wide (NTP slews it and the wall clock alike), so the two processes' mappings
/// differ by a constant only: the microseconds between the two reads of each pair, plus
/// a step of the wall clock, if one happened between the two processes' starts (a fraction
/// of a second apart). A step later in the run moves neither mapping.
#[derive(Debug, Clone, Copy)]
struct Timeline {
    wall_ns: i64,
    mono: std::time::Instant,
}

impl Timeline {
    fn start() -> Self {
        let mono = std::time::Instant::now();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timeline {
            wall_ns: i64::try_from(wall.as_nanos()).unwrap_or(i64::MAX),
            mono,
        }
    }

    /// `t` on the shared timeline (unix-epoch nanoseconds).
    fn ns(&self, t: std::time::Instant) -> i64 {
        let signed = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        match t.checked_duration_since(self.mono) {
            Some(after) => self.wall_ns + signed(after),
            None => self.wall_ns - signed(self.mono - t),
        }
    }
}

/// The child's settings (`--serve-simulators`): those of [`sims_config`].
#[derive(Debug, Serialize, Deserialize)]
struct ServeConfig {
    rate_scale: f64,
    latency_ms: u64,
}

/// Where the simulators answer, with their test keys (the child's first line).
#[derive(Debug, Serialize, Deserialize)]
struct Endpoints {
    zapmail_url: String,
    zapmail_key: String,
    plusvibe_url: String,
    plusvibe_key: String,
    plusvibe_agency_workspace: String,
    heyreach_url: String,
    heyreach_key: String,
}

impl Endpoints {
    fn of(sims: &Simulators) -> Self {
        Endpoints {
            zapmail_url: sims.zapmail.base_url(),
            zapmail_key: sims.zapmail.api_key(),
            plusvibe_url: sims.plusvibe.base_url(),
            plusvibe_key: sims.plusvibe.api_key().to_string(),
            plusvibe_agency_workspace: sims.plusvibe.agency_workspace_id().to_string(),
            heyreach_url: sims.heyreach.base_url(),
            heyreach_key: sims.heyreach.api_key().to_string(),
        }
    }
}

/// What the simulators saw (the answer to `report`).
#[derive(Debug, Serialize, Deserialize)]
struct SimReport {
    /// Requests received per vendor (zapmail, plusvibe, heyreach), 429s included.
    calls: [usize; 3],
    /// Requests refused with 429 per vendor.
    refused: [usize; 3],
    /// Zapmail requests not refused.
    zapmail_admitted: usize,
    /// Arrival of every Zapmail request counted in the general limit only (availability
    /// queries have their own bucket), on the shared timeline ([`Timeline`]).
    zapmail_arrivals_ns: Vec<i64>,
    /// Requests per `"vendor route"`.
    routes: BTreeMap<String, usize>,
    /// `Simulators::duplicates`.
    duplicates: Vec<String>,
    /// Peak resident memory of the simulators' process, MB (when it is their own).
    peak_rss_mb: Option<f64>,
}

/// Requests received per vendor.
fn calls_of(sims: &Simulators) -> [usize; 3] {
    [
        sims.zapmail.journal().len(),
        sims.plusvibe.journal().len(),
        sims.heyreach.journal().len(),
    ]
}

/// Read the journals without copying them (`Journal::entries` clones every body).
fn report_of(sims: &Simulators, timeline: &Timeline, peak_rss_mb: Option<f64>) -> SimReport {
    let routes = std::cell::RefCell::new(BTreeMap::<String, usize>::new());
    let arrivals = std::cell::RefCell::new(Vec::new());
    let general = |route: &str| {
        route != zapmail::mock::routes::AVAILABLE && route != zapmail::mock::routes::AVAILABLE_BULK
    };
    for (vendor, journal) in [
        ("zapmail", sims.zapmail.journal()),
        ("plusvibe", sims.plusvibe.journal()),
        ("heyreach", sims.heyreach.journal()),
    ] {
        journal.count_where(|e| {
            *routes
                .borrow_mut()
                .entry(format!("{vendor} {}", e.route))
                .or_default() += 1;
            if vendor == "zapmail" && general(&e.route) {
                arrivals.borrow_mut().push(timeline.ns(e.at));
            }
            false
        });
    }
    SimReport {
        calls: calls_of(sims),
        refused: [
            sims.zapmail.journal().rate_limited(),
            sims.plusvibe.journal().rate_limited(),
            sims.heyreach.journal().rate_limited(),
        ],
        zapmail_admitted: sims.zapmail.journal().count_where(|e| !e.rate_limited),
        zapmail_arrivals_ns: arrivals.into_inner(),
        routes: routes.into_inner(),
        duplicates: sims.duplicates().found,
        peak_rss_mb,
    }
}

/// The child process: start the simulators with `config`, print their [`Endpoints`] as one
/// JSON line, then answer one JSON line per command read from stdin: `counts` (requests
/// per vendor so far), `report` ([`SimReport`]); `quit` or the end of stdin (the parent
/// ended) exits.
async fn serve_simulators(config: &str) -> Result<(), AnyError> {
    let config: ServeConfig = serde_json::from_str(config)?;
    let timeline = Timeline::start();
    let sims = Simulators::start_with(sims_config(
        config.rate_scale,
        Duration::from_millis(config.latency_ms),
    ))
    .await;
    println!("{}", serde_json::to_string(&Endpoints::of(&sims))?);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let answer = match line.trim() {
            "counts" => json!(calls_of(&sims)),
            // The peak first: building the report allocates.
            "report" => serde_json::to_value(report_of(&sims, &timeline, Some(peak_rss_mb())))?,
            "quit" => break,
            other => json!({ "error": format!("unknown command {other:?}") }),
        };
        println!("{answer}");
    }
    Ok(())
}

/// The simulators in a child process, and the pipes to talk to it. Dropping it kills the
/// child; the child also exits when its stdin closes (this process ended).
#[derive(Debug)]
struct SimChild {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl SimChild {
    async fn spawn(config: &ServeConfig) -> Result<(Self, Endpoints), AnyError> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--serve-simulators")
            .arg(serde_json::to_string(config)?)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().ok_or("no stdin for the simulators")?;
        let stdout = child.stdout.take().ok_or("no stdout from the simulators")?;
        let mut c = SimChild {
            child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
        };
        let endpoints = c.read().await?;
        Ok((c, endpoints))
    }

    async fn read<T: DeserializeOwned>(&mut self) -> Result<T, AnyError> {
        let line = self
            .stdout
            .next_line()
            .await?
            .ok_or("the simulators' process ended")?;
        Ok(serde_json::from_str(&line)?)
    }

    async fn ask<T: DeserializeOwned>(&mut self, command: &str) -> Result<T, AnyError> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        self.read().await
    }

    async fn quit(mut self) -> Result<(), AnyError> {
        self.stdin.write_all(b"quit\n").await?;
        drop(self.stdin);
        self.child.wait().await?;
        Ok(())
    }
}

/// The simulators of the measured run: in a child process (default) or in this one.
#[derive(Debug)]
enum Sims {
    Child(Box<tokio::sync::Mutex<SimChild>>),
    InProcess(Box<Simulators>, Timeline),
}

impl Sims {
    /// Requests received per vendor so far.
    async fn counts(&self) -> Result<[usize; 3], AnyError> {
        match self {
            Sims::Child(c) => c.lock().await.ask("counts").await,
            Sims::InProcess(s, _) => Ok(calls_of(s)),
        }
    }

    async fn report(&self) -> Result<SimReport, AnyError> {
        match self {
            Sims::Child(c) => c.lock().await.ask("report").await,
            Sims::InProcess(s, t) => Ok(report_of(s, t, None)),
        }
    }

    async fn close(self) -> Result<(), AnyError> {
        match self {
            Sims::Child(c) => c.into_inner().quit().await,
            Sims::InProcess(..) => Ok(()),
        }
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    // `RUST_LOG=warn` shows the engine's warnings (lost answers, replaced logins).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let result = match &args.serve_simulators {
        Some(config) => serve_simulators(config).await,
        None => bench(args).await,
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The agency's Zapmail limiter, watched: when each request was let through and whether it
/// had to wait (the limiter was the bottleneck at that moment).
#[derive(Debug)]
struct Watched {
    inner: WindowLimiter,
    grants: Mutex<Vec<(Instant, bool)>>,
}

#[async_trait]
impl RateLimiter for Watched {
    async fn acquire(&self, bucket: &str) -> Permit {
        let asked = Instant::now();
        let permit = self.inner.acquire(bucket).await;
        let now = Instant::now();
        let waited = now - asked > Duration::from_millis(1);
        if bucket == GENERAL || !self.inner.limits().buckets.contains_key(bucket) {
            self.grants.lock().unwrap().push((now, waited));
        }
        permit
    }
    async fn penalize(&self, bucket: &str, wait: Duration) {
        self.inner.penalize(bucket, wait).await;
    }
}

fn sims_config(scale: f64, latency: Duration) -> SimulatorsConfig {
    let mut c = SimulatorsConfig::default().with_latency(latency);
    c.zapmail.limits = Some(zapmail::default_limits().scaled(scale));
    c.plusvibe.limits = Some(plusvibe::default_limits().scaled(scale));
    c.heyreach.limits = Some(heyreach::default_limits().scaled(scale));
    // Enough money and mailbox slots for any fleet.
    c.zapmail.wallet_balance = zapmail::Decimal::from(1_000_000);
    c.zapmail.mailbox_slots = 1_000_000;
    c
}

fn engine_config(plusvibe_agency_workspace: &str, concurrency: Option<usize>) -> EngineConfig {
    let mut base = simulator_engine_config();
    // A drive waits for the shared rate limiter inside a step, and the engine renews its
    // claim only when it saves: with hundreds of provisions queued behind Zapmail's
    // per-minute window (the oldest first), a young provision's drive can wait longer
    // than the 30 s lease of the fast settings, and a lapsed claim is picked up again.
    base.lease = Duration::from_secs(900);
    // Likewise a poll queues behind the limiter: deadlines far beyond any run's length.
    for p in [
        &mut base.polls.domains,
        &mut base.polls.mailboxes,
        &mut base.polls.export,
        &mut base.polls.purchase_visibility,
    ] {
        p.deadline = Duration::from_secs(3600);
    }
    EngineConfig {
        concurrency: concurrency.unwrap_or(base.concurrency).max(1),
        // A deployment names its agency workspace (otherwise each run looks it up).
        plusvibe_agency_workspace_id: Some(plusvibe_agency_workspace.to_string()),
        ..base
    }
}

fn request(i: usize, domains: usize) -> NewProvision {
    let tlds = ["com", "net", "org", "biz", "info", "live"];
    NewProvision::new(
        format!("Customer {i}"),
        format!("owner{i}@fleet{i}.example"),
        "",
    )
    .domains((0..domains).map(|d| format!("fleet{i}x{d}.{}", tlds[d % tlds.len()])))
    .patterns("sales", "hello")
}

/// Run `n` provisions of `tier` on `engine` with one worker until every one has ended.
/// Returns the ids and the time from the worker's start to the last end.
async fn run_fleet(
    engine: &Engine,
    finished: &AtomicUsize,
    notify: &tokio::sync::Notify,
    n: usize,
    tier: &str,
    progress: Option<&Sims>,
) -> Result<(Vec<ProvisionId>, Instant, Duration), AnyError> {
    let tier_row = engine
        .store()
        .tier_by_slug(tier)
        .await
        .map_err(|_| format!("unknown tier {tier:?}: use starter, growth or scale"))?;
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let mut req = request(i, tier_row.domain_count as usize);
        req.tier_slug = tier.to_string();
        let id = engine.create_provision(req).await?;
        engine.mark_paid(id, Payment::default()).await?;
        ids.push(id);
    }
    let start = Instant::now();
    let stop = async {
        while finished.load(Ordering::SeqCst) < n {
            tokio::select! {
                _ = notify.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(2)) => {
                    if let Some(s) = progress {
                        let calls = match s.counts().await {
                            Ok([z, p, h]) => format!("zapmail {z}, plusvibe {p}, heyreach {h}"),
                            Err(e) => format!("unknown ({e})"),
                        };
                        eprintln!(
                            "[{:6.1}s] {}/{n} finished; calls: {calls}",
                            start.elapsed().as_secs_f64(),
                            finished.load(Ordering::SeqCst),
                        );
                    }
                }
            }
        }
    };
    engine.run_worker(stop).await?;
    Ok((ids, start, start.elapsed()))
}

/// Counts provisions whose run ended, and wakes the stop future on each.
type Finished = (
    Arc<AtomicUsize>,
    Arc<tokio::sync::Notify>,
    Arc<dyn ProgressSink>,
);

fn finish_counter() -> Finished {
    let finished = Arc::new(AtomicUsize::new(0));
    let notify = Arc::new(tokio::sync::Notify::new());
    let (f, w) = (finished.clone(), notify.clone());
    let sink: Arc<dyn ProgressSink> = Arc::new(FnSink(move |e: &ProgressEvent| {
        let ended = (e.step == 0 && e.status == StepStatus::Completed)
            || (e.status == StepStatus::Failed && e.provision_status == ProvisionStatus::Failed);
        if ended {
            f.fetch_add(1, Ordering::SeqCst);
            w.notify_one();
        }
    }));
    (finished, notify, sink)
}

/// Drives at once in the calibration run (a thousand unlimited drives at once only measure
/// the machine; the call counts do not depend on it).
const CALIBRATION_CONCURRENCY: usize = 50;

/// The fewest calls per vendor the same fleet makes when every vendor transition is
/// immediate (every poll answered at once) and nothing limits or fails.
///
/// It runs in this process (its simulators are dropped before it returns).
async fn calibrate(n: usize, tier: &str, verbose: bool) -> Result<[usize; 3], AnyError> {
    let mut c = sims_config(1.0, Duration::ZERO);
    c.zapmail.limits = Some(RateLimits::unlimited());
    c.plusvibe.limits = Some(RateLimits::unlimited());
    c.heyreach.limits = Some(RateLimits::unlimited());
    c.zapmail.domain_activation = Transition::immediate();
    c.zapmail.mailbox_activation = Transition::immediate();
    c.zapmail.export_completion = Transition::immediate();
    c.zapmail.export_import_delay = Duration::ZERO;
    let sims = Simulators::start_with(c).await;
    let (finished, notify, sink) = finish_counter();
    let c = clients(
        &Endpoints::of(&sims),
        [
            RateLimits::unlimited(),
            RateLimits::unlimited(),
            RateLimits::unlimited(),
        ],
        None,
    )?;
    let engine = Engine::builder()
        .clients(c.zapmail, c.plusvibe, c.heyreach)
        .store(Arc::new(MemoryStore::new()))
        .secret_key(SecretKey::generate())
        .sink(sink)
        .config(engine_config(
            sims.plusvibe.agency_workspace_id().as_ref(),
            Some(n.min(CALIBRATION_CONCURRENCY)),
        ))
        .build()
        .await?;
    let (ids, _, _) = run_fleet(&engine, &finished, &notify, n, tier, None).await?;
    for id in ids {
        let s = engine.status(id).await?;
        if s.status != ProvisionStatus::Active {
            return Err(format!("calibration run ended {}: {:?}", s.status, s.error).into());
        }
    }
    if verbose {
        print_routes(
            "calibration",
            &report_of(&sims, &Timeline::start(), None),
            None,
        );
    }
    Ok(calls_of(&sims))
}

/// Peak resident memory of this process (`VmHWM`), MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn open_store(spec: &str) -> Result<(Arc<dyn Store>, Option<std::path::PathBuf>), AnyError> {
    if spec == "sqlite" {
        let path = std::env::temp_dir().join(format!("fleet-bench-{}.db", std::process::id()));
        let store = SqliteStore::open(&format!("sqlite://{}", path.display())).await?;
        return Ok((Arc::new(store), Some(path)));
    }
    if spec.starts_with("sqlite:") {
        return Ok((Arc::new(SqliteStore::open(spec).await?), None));
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        let store = provisioning::store::PostgresStore::connect(spec).await?;
        return Ok((Arc::new(store), None));
    }
    Err(format!("--store {spec:?}: use sqlite, sqlite://PATH or postgres://...").into())
}

/// Clients against `at` with the simulators' client settings (test keys, fast retries)
/// and the production timeout, each following its `limits` (zapmail, plusvibe, heyreach);
/// Zapmail's requests go through `zapmail_limiter` when given.
fn clients(
    at: &Endpoints,
    [zapmail_limits, plusvibe_limits, heyreach_limits]: [RateLimits; 3],
    zapmail_limiter: Option<Arc<dyn RateLimiter>>,
) -> Result<Clients, AnyError> {
    let mut zapmail = zapmail::Client::builder()
        .api_key(at.zapmail_key.clone())
        .base_url(at.zapmail_url.clone())
        .retry(RetryConfig::fast())
        .timeout(CLIENT_TIMEOUT)
        .rate_limits(zapmail_limits);
    if let Some(limiter) = zapmail_limiter {
        zapmail = zapmail.rate_limiter(limiter);
    }
    Ok(Clients {
        zapmail: zapmail.build()?,
        plusvibe: plusvibe::Client::builder()
            .api_key(at.plusvibe_key.clone())
            .base_url(at.plusvibe_url.clone())
            .retry(RetryConfig::fast())
            .timeout(CLIENT_TIMEOUT)
            .rate_limits(plusvibe_limits)
            .build()?,
        heyreach: heyreach::Client::builder()
            .api_key(at.heyreach_key.clone())
            .base_url(at.heyreach_url.clone())
            .retry(RetryConfig::fast())
            .timeout(CLIENT_TIMEOUT)
            .rate_limits(heyreach_limits)
            .build()?,
    })
}

/// `p`-quantile (0..=1) of sorted `v`.
fn quantile(v: &[i64], p: f64) -> i64 {
    v[((v.len() - 1) as f64 * p).round() as usize]
}

async fn bench(args: Args) -> Result<(), AnyError> {
    if args.n == 0 {
        return Err("-n must be at least 1".into());
    }
    if !(args.rate_scale.is_finite() && args.rate_scale > 0.0) {
        return Err("--rate-scale must be a positive number".into());
    }
    let tier = args.tier.trim().to_lowercase();
    eprintln!(
        "fleet_bench: {} {tier} provisions, quotas x{}, store {}, simulators {}",
        args.n,
        args.rate_scale,
        args.store,
        if args.in_process_simulators {
            "in this process"
        } else {
            "in a child process"
        }
    );
    let timeline = Timeline::start();
    let serve = ServeConfig {
        rate_scale: args.rate_scale,
        latency_ms: args.latency_ms,
    };
    let (sims, endpoints) = if args.in_process_simulators {
        let s = Simulators::start_with(sims_config(
            serve.rate_scale,
            Duration::from_millis(serve.latency_ms),
        ))
        .await;
        let at = Endpoints::of(&s);
        (Sims::InProcess(Box::new(s), timeline), at)
    } else {
        let (child, at) = SimChild::spawn(&serve).await?;
        (Sims::Child(Box::new(tokio::sync::Mutex::new(child))), at)
    };
    // The quotas the Zapmail simulator enforces (`sims_config`).
    let zapmail_limits = zapmail::default_limits().scaled(args.rate_scale);
    let watched = Arc::new(Watched {
        inner: WindowLimiter::new(zapmail_limits.clone()),
        grants: Mutex::new(Vec::new()),
    });
    let (store, temp_file) = open_store(&args.store).await?;
    let (finished, notify, sink) = finish_counter();
    let scaled = [
        zapmail_limits.clone(),
        plusvibe::default_limits().scaled(args.rate_scale),
        heyreach::default_limits().scaled(args.rate_scale),
    ];
    let c = clients(&endpoints, scaled, Some(watched.clone()))?;
    let engine = Engine::builder()
        .clients(c.zapmail, c.plusvibe, c.heyreach)
        .store(store.clone())
        .secret_key(SecretKey::generate())
        .sink(sink)
        .config(engine_config(
            &endpoints.plusvibe_agency_workspace,
            Some(args.concurrency.unwrap_or(args.n)),
        ))
        .build()
        .await?;
    if !store.list_provisions().await?.is_empty() {
        return Err(
            "the store already holds provisions: give the benchmark an empty database".into(),
        );
    }

    let (ids, worker_start, makespan) =
        run_fleet(&engine, &finished, &notify, args.n, &tier, Some(&sims)).await?;

    let mut succeeded = 0;
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for id in &ids {
        let s = engine.status(*id).await?;
        if s.status == ProvisionStatus::Active {
            succeeded += 1;
        } else {
            *errors
                .entry(s.error.unwrap_or_else(|| s.status.to_string()))
                .or_default() += 1;
        }
    }
    for (e, k) in &errors {
        eprintln!("failed ({k}x): {e}");
    }
    // This process's peak (the worker's own unless the simulators run here), before the
    // report and the calibration allocate.
    let peak_rss = peak_rss_mb();
    let report = sims.report().await?;
    sims.close().await?;
    let duplicates = Duplicates {
        found: report.duplicates.clone(),
    };
    for d in &duplicates.found {
        eprintln!("duplicate: {d}");
    }

    // Calls per vendor, and the fewest the same fleet needs.
    let calls = report.calls;
    let refused = report.refused;
    let http_429: usize = refused.iter().sum();
    let sims_peak = report.peak_rss_mb.map_or(String::new(), |m| {
        format!(", simulators' peak RSS {m:.0} MB")
    });
    eprintln!(
        "run: {succeeded}/{} active in {:.1}s, calls {calls:?}, 429s {refused:?}, duplicates {}, peak RSS {peak_rss:.0} MB{sims_peak}",
        args.n,
        makespan.as_secs_f64(),
        duplicates.total()
    );
    // The limiter's grants on the shared timeline, like the simulators' arrivals.
    let grants: Vec<(i64, bool)> = watched
        .grants
        .lock()
        .unwrap()
        .iter()
        .map(|&(at, waited)| (timeline.ns(at.into_std()), waited))
        .collect();
    if args.verbose {
        print_routes("run", &report, Some(timeline.ns(worker_start.into_std())));
    }
    eprintln!("calibrating: the same fleet with every poll answered at once...");
    let min = calibrate(args.n, &tier, args.verbose).await?;
    let n = args.n as f64;
    let per = |c: usize| (c as f64 / n * 100.0).round() / 100.0;
    let names = ["zapmail", "plusvibe", "heyreach"];
    let obj = |v: [f64; 3], total: f64| {
        let mut m = serde_json::Map::new();
        for (k, x) in names.iter().zip(v) {
            m.insert(k.to_string(), json!(x));
        }
        m.insert("total".into(), json!(total));
        serde_json::Value::Object(m)
    };
    let cpp = calls.map(per);
    let mpp = min.map(per);

    // The Zapmail quotas in force: the least time they allow for the calls made (every
    // window of every limit, exact), and how much of what they allow the run used while
    // requests were queueing at the limiter.
    let schedule = vendor_http::limit::analysis::window_schedule(
        &zapmail_limits.general,
        report.zapmail_admitted,
    );
    let lower_bound = schedule.last().copied().unwrap_or_default();
    drop(schedule);
    let first = grants.first().map(|g| g.0);
    let last_queued = grants
        .iter()
        .rev()
        .find(|g| g.1)
        .or(grants.last())
        .map(|g| g.0);
    let (utilization, utilization_smooth, saturated) = match (first, last_queued) {
        (Some(a), Some(b)) if b > a => {
            let span = Duration::from_nanos((b - a) as u64);
            let used = grants.iter().filter(|g| g.0 <= b).count();
            // The most calls the quotas admit in a span that long (exact windows).
            let mut k = used.max(1);
            let allowed = loop {
                let sched =
                    vendor_http::limit::analysis::window_schedule(&zapmail_limits.general, k);
                let within = sched.iter().filter(|t| **t <= span).count();
                if within < k {
                    break within;
                }
                k *= 2;
            };
            // The same without the windows' step shape: each limit (n, W) allows n per W
            // pro rata over spans longer than W, and n over shorter ones.
            let smooth = zapmail_limits
                .general
                .limits
                .iter()
                .map(|l| f64::from(l.max) * (span.as_secs_f64() / l.per.as_secs_f64()).max(1.0))
                .fold(f64::INFINITY, f64::min);
            (
                used as f64 / allowed.max(1) as f64,
                used as f64 / smooth,
                span,
            )
        }
        _ => (f64::NAN, f64::NAN, Duration::ZERO),
    };
    // How long a request took from its grant at the limiter to its arrival at the
    // simulator (the gap that turns an admissible send into a 429): the k-th grant paired
    // with the k-th arrival, both in time order, when every grant arrived (an estimate:
    // requests may overtake each other on the way).
    let mut arrivals = report.zapmail_arrivals_ns.clone();
    arrivals.sort_unstable();
    let lag_ms = if arrivals.len() == grants.len() && !grants.is_empty() {
        let mut g: Vec<i64> = grants.iter().map(|g| g.0).collect();
        g.sort_unstable();
        let mut lag: Vec<i64> = arrivals.iter().zip(&g).map(|(a, g)| a - g).collect();
        lag.sort_unstable();
        let ms = |ns: i64| (ns as f64 / 1e4).round() / 100.0;
        json!({
            "p50": ms(quantile(&lag, 0.5)),
            "p99": ms(quantile(&lag, 0.99)),
            "max": ms(quantile(&lag, 1.0)),
        })
    } else {
        eprintln!(
            "zapmail_arrival_lag_ms: {} grants, {} arrivals: not paired",
            grants.len(),
            arrivals.len()
        );
        serde_json::Value::Null
    };

    if let Some(p) = temp_file {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
    }
    let round1 = |x: f64| (x * 10.0).round() / 10.0;
    let round3 = |x: f64| (x * 1000.0).round() / 1000.0;
    let out = json!({
        "provisions": args.n,
        "tier": tier,
        "store": if args.store.starts_with("postgres") { "postgres" } else { "sqlite" },
        "rate_scale": args.rate_scale,
        "concurrency": engine.config().concurrency,
        "succeeded": succeeded,
        "failed": args.n - succeeded,
        "http_calls": obj(calls.map(|c| c as f64), calls.iter().sum::<usize>() as f64),
        "calls_per_provision": obj(cpp, per(calls.iter().sum())),
        "min_calls_per_provision": obj(mpp, per(min.iter().sum())),
        "http_429": http_429,
        "http_429_by_vendor": obj(refused.map(|c| c as f64), http_429 as f64),
        "duplicate_resources": duplicates.total(),
        "zapmail_utilization": round3(utilization),
        "zapmail_utilization_pro_rata": round3(utilization_smooth),
        "zapmail_saturated_s": round3(saturated.as_secs_f64()),
        "zapmail_arrival_lag_ms": lag_ms,
        "makespan_s": round3(makespan.as_secs_f64()),
        "lower_bound_s": round3(lower_bound.as_secs_f64()),
        "peak_rss_mb": round1(peak_rss),
        "rss_includes_simulators": args.in_process_simulators,
        "simulators_peak_rss_mb": report.peak_rss_mb.map(round1),
    });
    println!("{out}");
    Ok(())
}
