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
//! Progress goes to stderr; the last line of stdout is one JSON object (see
//! `BENCHMARKS.md` at the repository root for every field and the figures of a run).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use clap::Parser;
use provisioning::sim::{Simulators, SimulatorsConfig};
use provisioning::store::{MemoryStore, SqliteStore};
use provisioning::{
    Engine, EngineConfig, FnSink, NewProvision, Payment, ProgressEvent, ProgressSink, ProvisionId,
    ProvisionStatus, SecretKey, StepStatus, Store,
};
use serde_json::json;
use tokio::time::Instant;
use vendor_http::{GENERAL, Permit, RateLimiter, RateLimits, WindowLimiter};
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
}

/// Calls per route of the three simulators, for `--verbose`.
fn print_routes(what: &str, sims: &Simulators) {
    let mut by_route = BTreeMap::<String, usize>::new();
    for (v, j) in [
        ("zapmail", sims.zapmail.journal()),
        ("plusvibe", sims.plusvibe.journal()),
        ("heyreach", sims.heyreach.journal()),
    ] {
        for e in j.entries() {
            *by_route.entry(format!("{v} {}", e.route)).or_default() += 1;
        }
    }
    let z = sims.zapmail.journal().entries();
    if let Some(first) = z.first().map(|e| e.at) {
        let mut per_s = Vec::<usize>::new();
        for e in &z {
            let s = (e.at - first).as_secs() as usize;
            if per_s.len() <= s {
                per_s.resize(s + 1, 0);
            }
            per_s[s] += 1;
        }
        eprintln!("{what}: zapmail calls per second: {per_s:?}");
    }
    eprintln!("{what}: calls per route");
    for (r, k) in by_route {
        eprintln!("  {k:7} {r}");
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
    if let Err(e) = bench(args).await {
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

fn engine_config(sims: &Simulators, concurrency: Option<usize>) -> EngineConfig {
    let mut base = sims.engine_config();
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
        plusvibe_agency_workspace_id: Some(sims.plusvibe.agency_workspace_id().to_string()),
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
    progress: Option<&Simulators>,
) -> Result<(Vec<ProvisionId>, Duration), AnyError> {
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
                        eprintln!(
                            "[{:6.1}s] {}/{n} finished; calls: zapmail {}, plusvibe {}, heyreach {}",
                            start.elapsed().as_secs_f64(),
                            finished.load(Ordering::SeqCst),
                            s.zapmail.journal().len(),
                            s.plusvibe.journal().len(),
                            s.heyreach.journal().len(),
                        );
                    }
                }
            }
        }
    };
    engine.run_worker(stop).await?;
    Ok((ids, start.elapsed()))
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
    let clients = sims.clients();
    let engine = Engine::builder()
        .clients(clients.zapmail, clients.plusvibe, clients.heyreach)
        .store(Arc::new(MemoryStore::new()))
        .secret_key(SecretKey::generate())
        .sink(sink)
        .config(engine_config(&sims, Some(n.min(CALIBRATION_CONCURRENCY))))
        .build()
        .await?;
    let (ids, _) = run_fleet(&engine, &finished, &notify, n, tier, None).await?;
    for id in ids {
        let s = engine.status(id).await?;
        if s.status != ProvisionStatus::Active {
            return Err(format!("calibration run ended {}: {:?}", s.status, s.error).into());
        }
    }
    if verbose {
        print_routes("calibration", &sims);
    }
    Ok([
        sims.zapmail.journal().len(),
        sims.plusvibe.journal().len(),
        sims.heyreach.journal().len(),
    ])
}

/// Peak resident memory of this process (simulators included), MB.
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

async fn bench(args: Args) -> Result<(), AnyError> {
    if args.n == 0 {
        return Err("-n must be at least 1".into());
    }
    if !(args.rate_scale.is_finite() && args.rate_scale > 0.0) {
        return Err("--rate-scale must be a positive number".into());
    }
    let tier = args.tier.trim().to_lowercase();
    eprintln!(
        "fleet_bench: {} {tier} provisions, quotas x{}, store {}",
        args.n, args.rate_scale, args.store
    );
    let sims = Simulators::start_with(sims_config(
        args.rate_scale,
        Duration::from_millis(args.latency_ms),
    ))
    .await;
    let zapmail_limits = sims.zapmail.limits().limits();
    let watched = Arc::new(Watched {
        inner: WindowLimiter::new(zapmail_limits.clone()),
        grants: Mutex::new(Vec::new()),
    });
    let (store, temp_file) = open_store(&args.store).await?;
    let (finished, notify, sink) = finish_counter();
    let engine = Engine::builder()
        .clients(
            sims.zapmail
                .client_builder()
                .timeout(CLIENT_TIMEOUT)
                .rate_limiter(watched.clone())
                .build()?,
            sims.plusvibe
                .client_builder()
                .timeout(CLIENT_TIMEOUT)
                .build()?,
            sims.heyreach
                .client_builder()
                .timeout(CLIENT_TIMEOUT)
                .build()?,
        )
        .store(store.clone())
        .secret_key(SecretKey::generate())
        .sink(sink)
        .config(engine_config(
            &sims,
            Some(args.concurrency.unwrap_or(args.n)),
        ))
        .build()
        .await?;
    if !store.list_provisions().await?.is_empty() {
        return Err(
            "the store already holds provisions: give the benchmark an empty database".into(),
        );
    }

    let (ids, makespan) =
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
    let duplicates = sims.duplicates();
    for d in &duplicates.found {
        eprintln!("duplicate: {d}");
    }

    // Calls per vendor, and the fewest the same fleet needs.
    let calls = [
        sims.zapmail.journal().len(),
        sims.plusvibe.journal().len(),
        sims.heyreach.journal().len(),
    ];
    let refused = [
        sims.zapmail.journal().rate_limited(),
        sims.plusvibe.journal().rate_limited(),
        sims.heyreach.journal().rate_limited(),
    ];
    let http_429: usize = refused.iter().sum();
    // Measured before the calibration starts its own simulators.
    let peak_rss = peak_rss_mb();
    eprintln!(
        "run: {succeeded}/{} active in {:.1}s, calls {calls:?}, 429s {refused:?}, duplicates {}, peak RSS {peak_rss:.0} MB",
        args.n,
        makespan.as_secs_f64(),
        duplicates.total()
    );
    eprintln!("calibrating: the same fleet with every poll answered at once...");
    if args.verbose {
        print_routes("run", &sims);
    }
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
    let admitted = sims.zapmail.journal().count_where(|e| !e.rate_limited);
    let schedule = vendor_http::limit::analysis::window_schedule(&zapmail_limits.general, admitted);
    let lower_bound = schedule.last().copied().unwrap_or_default();
    drop(schedule);
    let grants = watched.grants.lock().unwrap().clone();
    let first = grants.first().map(|g| g.0);
    let last_queued = grants
        .iter()
        .rev()
        .find(|g| g.1)
        .or(grants.last())
        .map(|g| g.0);
    let (utilization, utilization_smooth, saturated) = match (first, last_queued) {
        (Some(a), Some(b)) if b > a => {
            let span = b - a;
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

    if let Some(p) = temp_file {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
    }
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
        "makespan_s": round3(makespan.as_secs_f64()),
        "lower_bound_s": round3(lower_bound.as_secs_f64()),
        "peak_rss_mb": (peak_rss * 10.0).round() / 10.0,
    });
    println!("{out}");
    Ok(())
}
