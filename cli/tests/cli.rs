//! `gtm-infra` run as a process against the vendor simulators (started in this test
//! process, passed to the tool by environment variables): output, `--json` shapes, exit
//! codes, configuration errors and bad input; a `worker` process completing a provision
//! queued by another process; the PostgreSQL store (`GTM_TEST_POSTGRES_URL`).

use std::path::Path;
use std::process::Stdio;
use std::str::FromStr;
use std::time::Duration;

use provisioning::sim::{Simulators, SimulatorsConfig};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SECRET_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// Every variable the tool reads, cleared so the caller's environment cannot leak in.
const VARS: [&str; 12] = [
    "ZAPMAIL_API_KEY",
    "ZAPMAIL_BASE_URL",
    "PLUSVIBE_API_KEY",
    "PLUSVIBE_BASE_URL",
    "PLUSVIBE_WORKSPACE_ID",
    "HEYREACH_API_KEY",
    "HEYREACH_BASE_URL",
    "GTM_DATABASE_URL",
    "GTM_SECRET_KEY",
    "GTM_SIMULATORS",
    "GTM_CONFIG",
    "RUST_LOG",
];
/// A guard against a hang, never a synchronisation: every wait is on a real condition.
const GUARD: Duration = Duration::from_secs(90);

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
    /// The error line: exactly one line, starting with `error:`.
    fn error_line(&self) -> &str {
        let line = self.stderr.trim_end();
        assert!(
            line.starts_with("error: ") && !line.contains('\n'),
            "not a one-line error: {:?}",
            self.stderr
        );
        line
    }
}

/// The simulators, a temporary directory and the environment pointing the tool at them.
struct Rig {
    sims: Simulators,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

async fn rig() -> Rig {
    let mut c = SimulatorsConfig::default();
    // Every CLI process has its own rate limiter: give the simulators room.
    c.zapmail.limits = Some(zapmail::default_limits().scaled(20.0));
    c.plusvibe.limits = Some(plusvibe::default_limits().scaled(20.0));
    c.heyreach.limits = Some(heyreach::default_limits().scaled(20.0));
    let sims = Simulators::start_with(c).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("gtm.db").display());
    let env = vec![
        ("ZAPMAIL_BASE_URL", sims.zapmail.base_url()),
        ("ZAPMAIL_API_KEY", sims.zapmail.api_key()),
        ("PLUSVIBE_BASE_URL", sims.plusvibe.base_url()),
        ("PLUSVIBE_API_KEY", sims.plusvibe.api_key().to_string()),
        ("HEYREACH_BASE_URL", sims.heyreach.base_url()),
        ("HEYREACH_API_KEY", sims.heyreach.api_key().to_string()),
        ("GTM_DATABASE_URL", db),
        ("GTM_SECRET_KEY", SECRET_KEY.to_string()),
        ("GTM_SIMULATORS", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Rig { sims, dir, env }
}

fn command(dir: &Path, env: &[(String, String)], args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gtm-infra"));
    c.args(args).current_dir(dir).kill_on_drop(true);
    for v in VARS {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

async fn run_in(dir: &Path, env: &[(String, String)], args: &[&str]) -> Out {
    let out = tokio::time::timeout(GUARD, command(dir, env, args).output())
        .await
        .unwrap_or_else(|_| panic!("gtm-infra {args:?} did not finish"))
        .unwrap();
    Out {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

impl Rig {
    async fn run(&self, args: &[&str]) -> Out {
        run_in(self.dir.path(), &self.env, args).await
    }
    /// The environment with `var` replaced (or removed when `value` is `None`).
    fn env_with(&self, var: &str, value: Option<&str>) -> Vec<(String, String)> {
        let mut env: Vec<_> = self.env.iter().filter(|(k, _)| k != var).cloned().collect();
        if let Some(v) = value {
            env.push((var.to_string(), v.to_string()));
        }
        env
    }
    /// No secret of the environment appears in the output.
    fn assert_no_secrets(&self, out: &Out) {
        for (k, v) in &self.env {
            if k.ends_with("_API_KEY") || k == "GTM_SECRET_KEY" {
                assert!(
                    !out.stdout.contains(v.as_str()) && !out.stderr.contains(v.as_str()),
                    "{k} printed"
                );
            }
        }
    }
}

fn provision_args<'a>(name: &'a str, domains: &'a str) -> Vec<&'a str> {
    vec![
        "provision",
        "--name",
        name,
        "--email",
        "tim@acme.example",
        "--tier",
        "starter",
        "--domains",
        domains,
        "--patterns",
        "tim,tim.keen",
    ]
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("running").to_string();
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[tokio::test]
async fn help_documents_commands_examples_and_exit_codes_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let secret = vec![(
        "ZAPMAIL_API_KEY".to_string(),
        "zk-very-secret-1".to_string(),
    )];
    let out = run_in(dir.path(), &secret, &["--help"]).await;
    assert_eq!(out.code, 0);
    for word in [
        "suggest",
        "check",
        "quote",
        "tiers",
        "provision",
        "status",
        "retry",
        "upgrade",
        "cancel",
        "dashboard",
        "worker",
        "simulate",
        "demo",
        "Exit codes",
        "4  provisioning failed",
        "3  vendor error",
        "2  user error",
        "GTM_DATABASE_URL",
    ] {
        assert!(out.stdout.contains(word), "--help lacks {word:?}");
    }
    let sub = run_in(dir.path(), &secret, &["provision", "--help"]).await;
    assert_eq!(sub.code, 0);
    assert!(sub.stdout.contains("Examples:"));
    assert!(sub.stdout.contains("ZAPMAIL_API_KEY"));
    for cmd in ["upgrade", "cancel", "dashboard"] {
        let help = run_in(dir.path(), &secret, &[cmd, "--help"]).await;
        assert_eq!(help.code, 0);
        assert!(help.stdout.contains("Examples:"), "{cmd}");
        assert!(help.stdout.contains("JSON:"), "{cmd}");
        assert!(help.stdout.contains("Exit code"), "{cmd}");
    }
    for o in [&out, &sub] {
        assert!(!o.stdout.contains("zk-very-secret-1"), "a key in --help");
    }
    // A usage error is a user error.
    let bad = run_in(dir.path(), &[], &["provision", "--name"]).await;
    assert_eq!(bad.code, 2);
    let unknown = run_in(dir.path(), &[], &["frobnicate"]).await;
    assert_eq!(unknown.code, 2);
}

#[tokio::test]
async fn suggest_works_offline_and_refuses_an_unusable_brand() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &[], &["suggest", "Acme Outreach", "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["brand"], "Acme Outreach");
    let names = v["suggestions"].as_array().unwrap();
    assert!(names.len() > 10);
    assert!(names.iter().any(|n| n == "acmeoutreach.com"));
    assert!(!names.iter().any(|n| n.as_str().unwrap().ends_with(".io")));

    let text = run_in(dir.path(), &[], &["suggest", "acme"]).await;
    assert_eq!(text.code, 0);
    assert_eq!(text.stdout.lines().next(), Some("acme.com"));

    let bad = run_in(dir.path(), &[], &["suggest", "!!!"]).await;
    assert_eq!(bad.code, 2);
    assert!(bad.error_line().contains("no letters"));
}

#[tokio::test]
async fn check_and_quote_answer_with_exact_prices() {
    let r = rig().await;
    r.sims.zapmail.mark_taken(["takenbrand.com"]);
    let out = r
        .run(&[
            "check",
            "freshbrand.com",
            "takenbrand.com",
            "bad_name.com",
            "--json",
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["name"], "freshbrand.com");
    assert_eq!(rows[0]["availability"]["kind"], "available");
    assert!(rows[0]["price_cents"].as_i64().unwrap() > 0);
    assert_eq!(rows[1]["availability"]["kind"], "unavailable");
    assert_eq!(rows[2]["availability"]["kind"], "invalid");
    r.assert_no_secrets(&out);

    let table = r.run(&["check", "freshbrand.com", "takenbrand.com"]).await;
    assert_eq!(table.code, 0);
    assert!(table.stdout.starts_with("DOMAIN"));
    assert!(table.stdout.contains("taken"));

    let checked = r
        .run(&["suggest", "Fresh Brand", "--check", "--json"])
        .await;
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    assert_eq!(
        checked.json()["suggestions"][0]["availability"]["kind"],
        "available"
    );

    let q = r
        .run(&[
            "quote", "--tier", "starter", "qa.com", "qb.com", "qc.net", "--json",
        ])
        .await;
    assert_eq!(q.code, 0, "{}", q.stderr);
    let v = q.json();
    let quote = &v["quote"];
    let domains: i64 = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["price_cents"].as_i64().unwrap())
        .sum();
    assert_eq!(quote["domain_registration_cents"], domains);
    assert_eq!(
        quote["total_due_now_cents"].as_i64().unwrap(),
        9700 + domains + 4700
    );
    let human = r
        .run(&["quote", "--tier", "starter", "qa.com", "qb.com", "qc.net"])
        .await;
    assert!(human.stdout.contains("Total due now"));
    assert!(human.stdout.contains("$97.00"));

    // Bad input: wrong count, a taken domain, an unknown tier.
    let few = r.run(&["quote", "--tier", "starter", "qa.com"]).await;
    assert_eq!(few.code, 2);
    assert!(few.error_line().contains("exactly 3"));
    let taken = r
        .run(&["quote", "qa.com", "qb.com", "takenbrand.com"])
        .await;
    assert_eq!(taken.code, 2);
    assert!(taken.error_line().contains("takenbrand.com"));
    let tier = r.run(&["quote", "--tier", "platinum", "qa.com"]).await;
    assert_eq!(tier.code, 2);
    assert!(tier.error_line().contains("platinum"));
}

#[tokio::test]
async fn missing_or_wrong_configuration_is_one_line_naming_what_to_set() {
    let r = rig().await;
    let no_key = r.env_with("ZAPMAIL_API_KEY", None);
    let out = run_in(r.dir.path(), &no_key, &["check", "x.com"]).await;
    assert_eq!(out.code, 2);
    assert!(out.error_line().contains("ZAPMAIL_API_KEY is not set"));

    let out = run_in(r.dir.path(), &no_key, &["check", "x.com", "--json"]).await;
    assert_eq!(out.code, 2);
    let e = out.json();
    assert_eq!(e["error"]["exit_code"], 2);
    assert_eq!(e["error"]["kind"], "user");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ZAPMAIL_API_KEY")
    );

    let wrong_key = r.env_with("ZAPMAIL_API_KEY", Some("not-the-key"));
    let out = run_in(r.dir.path(), &wrong_key, &["check", "x.com"]).await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.error_line().contains("ZAPMAIL_API_KEY"));
    assert!(!out.stderr.contains("not-the-key"));

    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("http://127.0.0.1:{port}/api");
    let unreachable = r.env_with("HEYREACH_BASE_URL", Some(&closed));
    let args = provision_args("Una Reach", "unreach1.com,unreach2.com,unreach3.com");
    let out = run_in(r.dir.path(), &unreachable, &args).await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.error_line().contains("cannot reach heyreach"));
    assert!(out.error_line().contains("HEYREACH_BASE_URL"));

    // Simulator mode sends sample billing details: never to a real vendor.
    let real = r.env_with("ZAPMAIL_BASE_URL", Some("https://api.zapmail.example/api"));
    let out = run_in(r.dir.path(), &real, &args).await;
    assert_eq!(out.code, 2);
    assert!(out.error_line().contains("GTM_SIMULATORS"));

    let no_heyreach = r.env_with("HEYREACH_API_KEY", None);
    let out = run_in(r.dir.path(), &no_heyreach, &["worker"]).await;
    assert_eq!(out.code, 2);
    assert!(out.error_line().contains("HEYREACH_API_KEY is not set"));

    let no_secret = r.env_with("GTM_SECRET_KEY", None);
    let out = run_in(r.dir.path(), &no_secret, &args).await;
    assert_eq!(out.code, 2);
    assert!(out.error_line().contains("GTM_SECRET_KEY is not set"));
    let bad_secret = r.env_with("GTM_SECRET_KEY", Some("short"));
    let out = run_in(r.dir.path(), &bad_secret, &args).await;
    assert_eq!(out.code, 2);
    assert!(out.error_line().contains("GTM_SECRET_KEY is not valid"));

    let bad_db = r.env_with("GTM_DATABASE_URL", Some("mysql://db/gtm"));
    let out = run_in(r.dir.path(), &bad_db, &["status"]).await;
    assert_eq!(out.code, 2);
    assert!(out.error_line().contains("sqlite://"));
    let missing_dir = r.env_with("GTM_DATABASE_URL", Some("sqlite:///no/such/dir/x.db"));
    let out = run_in(r.dir.path(), &missing_dir, &["status"]).await;
    assert_eq!(out.code, 1);
    assert!(out.error_line().contains("GTM_DATABASE_URL"));

    // The config file: below the environment, above the defaults; typos are refused.
    let file = r.dir.path().join("ops.toml");
    std::fs::write(
        &file,
        format!(
            "[zapmail]\napi_key = \"{}\"\nbase_url = \"{}\"\n",
            r.sims.zapmail.api_key(),
            r.sims.zapmail.base_url()
        ),
    )
    .unwrap();
    let bare: Vec<(String, String)> = vec![];
    let out = run_in(
        r.dir.path(),
        &bare,
        &["--config", file.to_str().unwrap(), "check", "filebrand.com"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let env_wins = vec![("ZAPMAIL_API_KEY".to_string(), "env-key-wins".to_string())];
    let out = run_in(
        r.dir.path(),
        &env_wins,
        &["--config", file.to_str().unwrap(), "check", "filebrand.com"],
    )
    .await;
    assert_eq!(out.code, 3, "the environment's (wrong) key must win");
    let flag_wins = r
        .run(&[
            "--zapmail-api-key",
            "flag-key-wins",
            "check",
            "filebrand.com",
        ])
        .await;
    assert_eq!(flag_wins.code, 3, "the flag's (wrong) key must win");
    assert!(!flag_wins.stderr.contains("flag-key-wins"));
    std::fs::write(&file, "[zapmail]\napikey = \"x\"\n").unwrap();
    let out = run_in(
        r.dir.path(),
        &bare,
        &["--config", file.to_str().unwrap(), "check", "x.com"],
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(out.error_line().contains("apikey"));
}

#[tokio::test]
async fn tiers_are_listed_added_updated_and_deactivated() {
    let r = rig().await;
    let list = r.run(&["tiers", "--json"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let slugs: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(slugs, ["starter", "growth", "scale"]);

    let add = r
        .run(&[
            "tiers",
            "add",
            "--name",
            "Agency",
            "--slug",
            "agency",
            "--domains",
            "20",
            "--setup",
            "497",
            "--monthly",
            "247.50",
            "--json",
        ])
        .await;
    assert_eq!(add.code, 0, "{}", add.stderr);
    let t = add.json();
    assert_eq!(t["setup_fee_cents"], 49700);
    assert_eq!(t["monthly_fee_cents"], 24750);
    assert_eq!(t["sort_order"], 3);

    let table = r.run(&["tiers", "list"]).await;
    assert!(table.stdout.starts_with("SLUG"));
    assert!(table.stdout.contains("agency"));
    assert!(table.stdout.contains("$247.50"));

    let up = r
        .run(&["tiers", "update", "agency", "--monthly", "199.99", "--json"])
        .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(up.json()["monthly_fee_cents"], 19999);
    assert_eq!(up.json()["domain_count"], 20);

    let dup = r
        .run(&[
            "tiers",
            "add",
            "--name",
            "X",
            "--slug",
            "agency",
            "--domains",
            "1",
            "--setup",
            "1",
            "--monthly",
            "1",
        ])
        .await;
    assert_eq!(dup.code, 2);
    assert!(dup.error_line().contains("agency"));
    let bad_money = r
        .run(&[
            "tiers",
            "add",
            "--name",
            "X",
            "--slug",
            "x",
            "--domains",
            "1",
            "--setup",
            "1.234",
            "--monthly",
            "1",
        ])
        .await;
    assert_eq!(bad_money.code, 2);
    let bad_slug = r
        .run(&[
            "tiers",
            "add",
            "--name",
            "X",
            "--slug",
            "Bad Slug",
            "--domains",
            "1",
            "--setup",
            "1",
            "--monthly",
            "1",
        ])
        .await;
    assert_eq!(bad_slug.code, 2);
    assert!(bad_slug.error_line().contains("slug"));

    let off = r.run(&["tiers", "deactivate", "agency", "--json"]).await;
    assert_eq!(off.code, 0);
    assert_eq!(off.json()["is_active"], false);
    let missing = r.run(&["tiers", "deactivate", "nope"]).await;
    assert_eq!(missing.code, 2);
    assert!(missing.error_line().contains("nope"));
}

#[tokio::test]
async fn provision_runs_to_active_and_status_shows_it() {
    let r = rig().await;
    let out = r
        .run(
            &[
                provision_args("Tim Keen", "keenout.com,getkeenout.net,trykeenout.org"),
                vec!["--json"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    r.assert_no_secrets(&out);
    let v = out.json();
    assert_eq!(v["status"], "active");
    assert_eq!(v["tier"], "starter");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["domains"].as_array().unwrap().len(), 3);
    let mailboxes: usize = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["mailboxes"].as_array().unwrap().len())
        .sum();
    assert_eq!(mailboxes, 6);
    assert!(v["heyreach_list_id"].is_i64());
    assert_eq!(v["provisioning_log"].as_array().unwrap().len(), 10);
    assert_eq!(r.sims.zapmail.domains_bought("keenout.com"), 1);

    // Text output: progress lines on stderr (not a terminal), the summary on stdout.
    let text = r
        .run(&provision_args(
            "Ada Lovelace",
            "adalove.com,getadalove.net,tryadalove.org",
        ))
        .await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stderr.contains("Setup complete"), "{}", text.stderr);
    assert!(text.stderr.contains("adalove.com"));
    assert!(text.stdout.contains("active"));
    assert!(
        text.stdout.contains("ada.lovelace@adalove.com") || text.stdout.contains("tim@adalove.com")
    );
    r.assert_no_secrets(&text);

    let list = r.run(&["status", "--json"]).await;
    assert_eq!(list.code, 0);
    let rows = list.json();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "active")
    );
    let table = r.run(&["status"]).await;
    assert!(table.stdout.starts_with("ID"));
    assert!(table.stdout.contains("Tim Keen"));

    let one = r.run(&["status", &id[..8]]).await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(one.stdout.contains(&id));
    assert!(one.stdout.contains("keenout.com"));
    assert!(one.stdout.contains("Setup complete"));
    let one_json = r.run(&["status", &id, "--json"]).await;
    assert_eq!(one_json.json()["id"], id.as_str());

    // Bad input: nothing stored, exit 2.
    let few = r
        .run(&provision_args("Few Domains", "fewd1.com,fewd2.com"))
        .await;
    assert_eq!(few.code, 2);
    assert!(few.error_line().contains("3"));
    let io = r
        .run(&provision_args("Io Domain", "iod1.io,iod2.com,iod3.com"))
        .await;
    assert_eq!(io.code, 2);
    let mut one_pattern = provision_args("One Pattern", "op1.com,op2.com,op3.com");
    *one_pattern.last_mut().unwrap() = "tim";
    let out = r.run(&one_pattern).await;
    assert_eq!(out.code, 2);
    assert!(out.error_line().contains("--patterns"));
    let list = r.run(&["status", "--json"]).await;
    assert_eq!(list.json().as_array().unwrap().len(), 2, "bad input stored");

    let unknown = r.run(&["status", "00000000"]).await;
    assert_eq!(unknown.code, 2);
    let not_id = r.run(&["status", "zzz"]).await;
    assert_eq!(not_id.code, 2);
    let active = r.run(&["retry", &id]).await;
    assert_eq!(active.code, 2);
    assert!(active.error_line().contains("only a failed run"));
}

#[tokio::test]
async fn a_failed_provision_exits_4_and_retry_resumes_it() {
    let r = rig().await;
    r.sims
        .zapmail
        .set_wallet_balance(zapmail::Decimal::from_str("1.00").unwrap());
    let out = r
        .run(
            &[
                provision_args("Poor Wallet", "poorw1.com,poorw2.net,poorw3.org"),
                vec!["--json"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["status"], "failed");
    assert!(v["error"].as_str().unwrap().contains("Purchasing domains"));
    let line = out.error_line();
    assert!(line.contains("gtm-infra retry"), "{line}");
    let id = v["id"].as_str().unwrap().to_string();

    let status = r.run(&["status", &id]).await;
    assert_eq!(status.code, 4);
    assert!(status.stdout.contains("FAILED"));

    r.sims
        .zapmail
        .set_wallet_balance(zapmail::Decimal::from(500));
    // Queued for a worker (twice: the second changes nothing), then driven here.
    let queued = r.run(&["retry", &id, "--no-run", "--json"]).await;
    assert_eq!(queued.code, 0, "{}", queued.stderr);
    assert_eq!(queued.json()["status"], "provisioning");
    let again = r.run(&["retry", &id, "--no-run"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("already queued"));
    let retried = r.run(&["retry", &id[..8], "--json"]).await;
    assert_eq!(retried.code, 0, "{}", retried.stderr);
    assert_eq!(retried.json()["status"], "active");
    for d in ["poorw1.com", "poorw2.net", "poorw3.org"] {
        assert_eq!(r.sims.zapmail.domains_bought(d), 1, "{d}");
    }
}

#[tokio::test]
async fn a_worker_process_completes_a_provision_queued_by_another_process() {
    let r = rig().await;
    let mut worker = command(
        r.dir.path(),
        &r.env,
        &["worker", "--concurrency", "2", "--json"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut events = BufReader::new(worker.stdout.take().unwrap()).lines();

    let queued = r
        .run(
            &[
                provision_args("Wendy Worker", "wendyw.com,getwendyw.net,trywendyw.org"),
                vec!["--no-run", "--json"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(queued.code, 0, "{}", queued.stderr);
    let v = queued.json();
    assert_eq!(v["status"], "provisioning");
    let id = v["id"].as_str().unwrap().to_string();

    // Read the worker's event stream until the provision is active.
    let finished = tokio::time::timeout(GUARD, async {
        while let Some(line) = events.next_line().await.unwrap() {
            let e: Value = serde_json::from_str(&line).expect("worker --json prints JSON lines");
            assert!(e["step"].is_u64() && e["name"].is_string(), "{line}");
            if e["provision_id"] == id.as_str() && e["provision_status"] == "active" {
                return true;
            }
            assert_ne!(e["provision_status"], "failed", "{line}");
        }
        false
    })
    .await
    .expect("the worker finished the provision");
    assert!(finished, "the worker's stdout closed early");

    let status = r.run(&["status", &id, "--json"]).await;
    assert_eq!(status.code, 0);
    assert_eq!(status.json()["status"], "active");

    // SIGTERM stops it cleanly.
    sigterm(&worker);
    let exit = tokio::time::timeout(GUARD, worker.wait())
        .await
        .expect("the worker stopped")
        .unwrap();
    assert_eq!(exit.code(), Some(0));
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut worker.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("stopped"), "{stderr}");
}

#[tokio::test]
async fn simulate_prints_urls_and_export_lines_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = command(
        dir.path(),
        &[],
        &["simulate", "--json", "--latency-ms", "0"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(GUARD, lines.next_line())
        .await
        .expect("simulate printed")
        .unwrap()
        .expect("a line");
    let v: Value = serde_json::from_str(&first).unwrap();
    assert!(
        v["zapmail"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    let env: Vec<(String, String)> = v["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .chain([("GTM_SECRET_KEY".to_string(), SECRET_KEY.to_string())])
        .collect();
    assert!(env.iter().any(|(k, _)| k == "PLUSVIBE_WORKSPACE_ID"));
    let check = run_in(dir.path(), &env, &["check", "simbrand.com", "--json"]).await;
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert_eq!(check.json()[0]["availability"]["kind"], "available");
    // The printed database is relative to the working directory.
    let status = run_in(dir.path(), &env, &["status", "--json"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(dir.path().join("gtm-infra-sim.db").exists());

    sigterm(&sim);
    let exit = tokio::time::timeout(GUARD, sim.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit.code(), Some(0));

    // Text mode prints export lines.
    let mut sim = command(dir.path(), &[], &["simulate", "--latency-ms", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let mut exports = 0;
    while let Some(line) = tokio::time::timeout(GUARD, lines.next_line())
        .await
        .unwrap()
        .unwrap()
    {
        if line.starts_with("export ") {
            exports += 1;
        }
        if line.starts_with("export GTM_SECRET_KEY") {
            break;
        }
    }
    assert_eq!(exports, 10);
    sigterm(&sim);
    tokio::time::timeout(GUARD, sim.wait())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn demo_runs_the_quickstart_without_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = run_in(
        dir.path(),
        &[],
        &[
            "demo",
            "--db",
            db.to_str().unwrap(),
            "--latency-ms",
            "0",
            "--json",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["status"], "active");
    assert_eq!(v["customer"]["name"], "Tim Keen");
    assert!(db.exists());
}

#[tokio::test]
async fn provisioning_into_postgres() {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let server = std::env::var("GTM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(PgConnectOptions::from_str(&server).unwrap())
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL via GTM_TEST_POSTGRES_URL: {e}"));
    let name = format!("gtm_cli_test_{:016x}", fastrand_u64());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b.to_string(), format!("?{q}")),
        None => (server.clone(), String::new()),
    };
    let slash = base
        .rfind('/')
        .filter(|i| *i > base.find("://").unwrap() + 2);
    let url = match slash {
        Some(i) => format!("{}/{name}{query}", &base[..i]),
        None => format!("{base}/{name}{query}"),
    };

    let r = rig().await;
    let env = r.env_with("GTM_DATABASE_URL", Some(&url));
    let args = [
        provision_args("Pat Gres", "patgres.com,getpatgres.net,trypatgres.org"),
        vec!["--json"],
    ]
    .concat();
    let out = run_in(r.dir.path(), &env, &args).await;
    let list = run_in(r.dir.path(), &env, &["status", "--json"]).await;
    // On PostgreSQL the clients' budgets live in the database (shared by every worker):
    // one row per vendor key and bucket, Zapmail's availability bucket included.
    let db = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(PgConnectOptions::from_str(&url).unwrap())
        .await
        .unwrap();
    let budgets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gtm_rate_limits")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["status"], "active");
    assert_eq!(list.json()[0]["status"], "active");
    assert!(
        budgets >= 4,
        "expected shared rate-limit rows for the three vendors, found {budgets}"
    );
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}

#[tokio::test]
async fn ctrl_c_during_a_run_exits_130_and_leaves_the_provision_saved() {
    let r = rig().await;
    // Slow answers, so the run is surely still going when the signal arrives.
    let slow = Duration::from_millis(150);
    r.sims.zapmail.set_latency(slow);
    r.sims.plusvibe.set_latency(slow);
    r.sims.heyreach.set_latency(slow);
    let args = provision_args("Ivy Interrupt", "ivyint.com,getivyint.net,tryivyint.org");
    let mut child = command(r.dir.path(), &r.env, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut id = None;
    let mut rest = String::new();
    tokio::time::timeout(GUARD, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(x) = line.strip_prefix("provision ") {
                id = x.split(':').next().map(str::to_string);
            }
            if line.contains("Creating Zapmail workspace") {
                break;
            }
        }
    })
    .await
    .expect("the run started");
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(GUARD, child.wait())
        .await
        .expect("stopped")
        .unwrap();
    assert_eq!(status.code(), Some(130));
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push_str(&line);
        rest.push('\n');
    }
    assert!(rest.contains("error: interrupted"), "{rest}");
    let id = id.expect("the id was printed");
    let saved = r.run(&["status", &id, "--json"]).await;
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    assert_eq!(saved.json()["status"], "provisioning");
}

// ------------------------------------------------------ upgrade, cancel, dashboard --

/// A Starter provision run to `active` by the tool; its id.
async fn active_starter(r: &Rig, name: &str, domains: &str) -> String {
    let out = r
        .run(&[provision_args(name, domains), vec!["--json"]].concat())
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["status"], "active");
    v["id"].as_str().unwrap().to_string()
}

fn domain_names(snapshot: &Value) -> Vec<String> {
    snapshot["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn upgrade_starter_to_growth_adds_two_domains_and_downgrades_are_refused() {
    let r = rig().await;
    let id = active_starter(&r, "Uma Upgrade", "umaup.com,getumaup.net,tryumaup.org").await;

    let out = r
        .run(&[
            "upgrade",
            &id[..8],
            "--tier",
            "growth",
            "--domains",
            "useumaup.com,umaupmail.net",
            "--json",
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    r.assert_no_secrets(&out);
    let v = out.json();
    assert_eq!(v["status"], "active");
    assert_eq!(v["tier"], "growth");
    assert_eq!(v["run"], serde_json::json!(["upgrade", "succeeded"]));
    assert_eq!(
        domain_names(&v),
        [
            "umaup.com",
            "getumaup.net",
            "tryumaup.org",
            "useumaup.com",
            "umaupmail.net"
        ]
    );
    assert!(
        v["domains"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["mailboxes"].as_array().unwrap().len() == 2)
    );
    // Only the new domains were bought; the old ones not again.
    for d in [
        "umaup.com",
        "getumaup.net",
        "tryumaup.org",
        "useumaup.com",
        "umaupmail.net",
    ] {
        assert_eq!(r.sims.zapmail.domains_bought(d), 1, "{d}");
    }

    // A downgrade: one line, exit 2, nothing changes.
    let down = r
        .run(&["upgrade", &id, "--tier", "starter", "--domains", "x1.com"])
        .await;
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert!(down.error_line().contains("downgrade"), "{}", down.stderr);
    assert!(down.stdout.is_empty());
    let down_json = r
        .run(&[
            "upgrade",
            &id,
            "--tier",
            "starter",
            "--domains",
            "x1.com",
            "--json",
        ])
        .await;
    assert_eq!(down_json.code, 2);
    assert_eq!(down_json.json()["error"]["kind"], "user");
    // The same tier, an unknown tier, an unknown id: user errors too.
    let same = r
        .run(&[
            "upgrade",
            &id,
            "--tier",
            "growth",
            "--domains",
            "x1.com,x2.com",
        ])
        .await;
    assert_eq!(same.code, 2);
    assert!(same.error_line().contains("already on tier"));
    let unknown = r
        .run(&["upgrade", &id, "--tier", "platinum", "--domains", "x1.com"])
        .await;
    assert_eq!(unknown.code, 2);
    assert!(unknown.error_line().contains("platinum"));
    let no_such = r
        .run(&[
            "upgrade",
            "00000000",
            "--tier",
            "growth",
            "--domains",
            "x1.com",
        ])
        .await;
    assert_eq!(no_such.code, 2);
    let status = r.run(&["status", &id, "--json"]).await;
    assert_eq!(status.json()["tier"], "growth");
    assert_eq!(status.json()["domains"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn upgrade_no_run_queues_it_with_the_wrong_count_refused_and_retry_drives_it() {
    let r = rig().await;
    let id = active_starter(&r, "Quinn Queue", "qqueue.com,getqqueue.net,tryqqueue.org").await;
    let few = r
        .run(&[
            "upgrade",
            &id,
            "--tier",
            "growth",
            "--domains",
            "useqqueue.com",
        ])
        .await;
    assert_eq!(few.code, 2);
    assert!(
        few.error_line().contains("adds 2 domains"),
        "{}",
        few.stderr
    );

    let queued = r
        .run(&[
            "upgrade",
            &id,
            "--tier",
            "growth",
            "--domains",
            "useqqueue.com,qqueuemail.net",
            "--no-run",
            "--json",
        ])
        .await;
    assert_eq!(queued.code, 0, "{}", queued.stderr);
    let v = queued.json();
    assert_eq!(v["status"], "upgrading");
    assert_eq!(v["run"], serde_json::json!(["upgrade", "pending"]));
    assert_eq!(r.sims.zapmail.domains_bought("useqqueue.com"), 0);
    // Cancelling while the upgrade is queued is refused.
    let cancel = r.run(&["cancel", &id]).await;
    assert_eq!(cancel.code, 2);
    assert!(
        cancel.error_line().contains("in progress"),
        "{}",
        cancel.stderr
    );

    // Text mode: progress on stderr, the result on stdout.
    let driven = r.run(&["retry", &id]).await;
    assert_eq!(driven.code, 0, "{}", driven.stderr);
    assert!(driven.stderr.contains("useqqueue.com"), "{}", driven.stderr);
    assert!(driven.stdout.contains("tier growth"), "{}", driven.stdout);
    assert_eq!(r.sims.zapmail.domains_bought("useqqueue.com"), 1);
}

#[tokio::test]
async fn cancel_tears_down_and_a_provision_never_paid_for_is_cancelled_with_nothing_to_do() {
    let r = rig().await;
    let id = active_starter(
        &r,
        "Cole Cancel",
        "colecan.com,getcolecan.net,trycolecan.org",
    )
    .await;
    let out = r.run(&["cancel", &id, "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["run"], serde_json::json!(["cancel", "succeeded"]));
    assert_eq!(v["domains"].as_array().unwrap().len(), 3, "domains kept");
    // Warmup is stopped at PlusVibe.
    let dash = r.run(&["dashboard", &id, "--json"]).await;
    assert_eq!(dash.code, 0, "{}", dash.stderr);
    let d = dash.json();
    assert_eq!(d["status"], "cancelled");
    for dom in d["domains"].as_array().unwrap() {
        for m in dom["mailboxes"].as_array().unwrap() {
            assert_eq!(m["warmup_status"], "INACTIVE", "{m}");
        }
    }
    // Again: nothing more to do, still cancelled.
    let again = r.run(&["cancel", &id[..8]]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("cancelled"), "{}", again.stdout);
    // A cancelled provision cannot be upgraded.
    let up = r
        .run(&[
            "upgrade",
            &id,
            "--tier",
            "growth",
            "--domains",
            "a1.com,a2.com",
        ])
        .await;
    assert_eq!(up.code, 2);

    // A provision the host created whose checkout never completed.
    let pending = {
        let url = &r
            .env
            .iter()
            .find(|(k, _)| k == "GTM_DATABASE_URL")
            .unwrap()
            .1;
        let store = std::sync::Arc::new(provisioning::store::SqliteStore::open(url).await.unwrap());
        let c = r.sims.clients();
        let engine = provisioning::Engine::builder()
            .clients(c.zapmail, c.plusvibe, c.heyreach)
            .store(store)
            .secret_key(
                provisioning::SecretKey::parse(&secrecy::SecretString::from(SECRET_KEY)).unwrap(),
            )
            .config(r.sims.engine_config())
            .build()
            .await
            .unwrap();
        engine
            .create_provision(
                provisioning::NewProvision::new("Pam Pending", "pam@acme.example", "starter")
                    .domains(["pampend.com", "getpampend.net", "trypampend.org"])
                    .patterns("pam", "pam.pending"),
            )
            .await
            .unwrap()
            .to_string()
    };
    let before = r.sims.zapmail.journal().entries().len();
    let out = r.run(&["cancel", &pending, "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["status"], "cancelled");
    assert!(v["run"].is_null(), "nothing to tear down: {}", v["run"]);
    // No vendor was needed: nothing bought, nothing removed, not even a read.
    let calls = r.sims.zapmail.journal().entries();
    assert_eq!(
        calls.len(),
        before,
        "{:?}",
        calls[before..].iter().map(|e| &e.route).collect::<Vec<_>>()
    );
    let text = r.run(&["cancel", &pending]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("cancelled"), "{}", text.stdout);
    assert_eq!(r.sims.zapmail.domains_bought("pampend.com"), 0);

    // A provision whose run is live (queued for a worker) is refused, one line.
    let queued = r
        .run(
            &[
                provision_args("Live Run", "liverun.com,getliverun.net,tryliverun.org"),
                vec!["--no-run", "--json"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(queued.code, 0, "{}", queued.stderr);
    let live = queued.json()["id"].as_str().unwrap().to_string();
    let refused = r.run(&["cancel", &live, "--no-run"]).await;
    assert_eq!(refused.code, 2);
    assert!(refused.error_line().contains("in progress"));
    let unknown = r.run(&["cancel", "00000000"]).await;
    assert_eq!(unknown.code, 2);
}

#[tokio::test]
async fn dashboard_shows_health_and_is_partial_when_a_vendor_is_down() {
    let r = rig().await;
    let id = active_starter(
        &r,
        "Dana Dash",
        "danadash.com,getdanadash.net,trydanadash.org",
    )
    .await;
    assert!(r.sims.plusvibe.state().set_health(
        "tim@danadash.com",
        plusvibe::mock::SimHealth {
            overall_7d: Some(97.5),
            google_7d: Some(99.0),
            microsoft_7d: Some(0.0),
            other_7d: None,
            reply_rate_7d: Some(12.0),
            email_sent_today: Some(0),
            warmup_email_sent_today: Some(14),
            ..Default::default()
        },
    ));

    let table = r.run(&["dashboard", &id[..8]]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    r.assert_no_secrets(&table);
    let t = &table.stdout;
    assert!(t.contains("PlusVibe login  tim@acme.example"), "{t}");
    assert!(t.contains("HeyReach list"), "{t}");
    assert!(t.contains("0 leads"), "{t}");
    assert!(t.contains("DOMAIN"), "{t}");
    let tim = t
        .lines()
        .find(|l| l.contains("tim@danadash.com"))
        .expect("a row per mailbox");
    assert!(tim.contains("ACTIVE") && tim.contains("97.5%") && tim.contains("99.0%"));
    assert!(tim.contains("0.0%"), "a measured zero: {tim}");
    let fresh = t
        .lines()
        .find(|l| l.contains("tim@getdanadash.net"))
        .unwrap();
    assert!(fresh.contains("no data"), "no data is not 0: {fresh}");
    assert_eq!(
        t.lines()
            .filter(|l| l.contains('@') && l.contains("ACTIVE"))
            .count(),
        6
    );

    let json = r.run(&["dashboard", &id, "--json"]).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let d = json.json();
    assert_eq!(d["provision_id"], id.as_str());
    assert_eq!(d["tier"], "starter");
    assert_eq!(d["plusvibe_login_email"], "tim@acme.example");
    assert_eq!(d["missing"], serde_json::json!([]));
    assert_eq!(d["heyreach_list"]["lead_count"], 0);
    assert_eq!(d["domains"].as_array().unwrap().len(), 3);
    let h = &d["domains"][0]["mailboxes"][0]["health"];
    assert_eq!(d["domains"][0]["mailboxes"][0]["email"], "tim@danadash.com");
    assert_eq!(h["overall_7d"], 97.5);
    assert_eq!(h["microsoft_7d"], 0.0);
    assert!(h["other_7d"].is_null());
    assert!(d["domains"][1]["mailboxes"][0]["health"]["overall_7d"].is_null());

    // HeyReach down: the rest is shown, the list is named missing, exit 3.
    r.sims.heyreach.faults().inject(
        vendor_http::sim::ANY_ROUTE,
        vendor_http::sim::Fault::Status(503),
        1000,
    );
    let partial = r.run(&["dashboard", &id, "--json"]).await;
    assert_eq!(partial.code, 3, "{}", partial.stderr);
    assert!(partial.error_line().contains("partial"));
    assert!(partial.error_line().contains("HeyReach list"));
    let d = partial.json();
    assert_eq!(d["missing"][0]["part"], "heyreach_list");
    assert!(d["heyreach_list"].is_null());
    assert_eq!(
        d["domains"][0]["mailboxes"][0]["health"]["overall_7d"],
        97.5
    );
    let ok = r.run(&["dashboard", &id, "--allow-partial"]).await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stdout.contains("HeyReach list   unavailable"),
        "{}",
        ok.stdout
    );
    assert!(ok.stdout.contains("97.5%"));
    r.sims.heyreach.faults().clear();

    // PlusVibe down: domains and mailboxes listed, warmup unknown (not "no data").
    r.sims.plusvibe.faults().inject(
        plusvibe::mock::routes::LIST_ACCOUNTS,
        vendor_http::sim::Fault::Status(503),
        1000,
    );
    let partial = r.run(&["dashboard", &id]).await;
    assert_eq!(partial.code, 3, "{}", partial.stderr);
    assert!(partial.error_line().contains("PlusVibe warmup"));
    let t = &partial.stdout;
    assert!(t.contains("PlusVibe warmup unavailable"), "{t}");
    let row = t.lines().find(|l| l.contains("tim@danadash.com")).unwrap();
    assert!(
        row.contains("unavailable") && !row.contains("97.5%"),
        "{row}"
    );
    assert!(t.contains("0 leads"), "HeyReach still answered: {t}");
    r.sims.plusvibe.faults().clear();

    let unknown = r.run(&["dashboard", "00000000"]).await;
    assert_eq!(unknown.code, 2);
}

#[tokio::test]
async fn a_failed_teardown_exits_4_and_retry_finishes_it() {
    let r = rig().await;
    let id = active_starter(
        &r,
        "Tess Teardown",
        "tessdown.com,gettessdown.net,trytessdown.org",
    )
    .await;
    r.sims.zapmail.faults().inject(
        zapmail::mock::routes::SCHEDULED_REMOVAL,
        vendor_http::sim::Fault::Status(400),
        1000,
    );
    let out = r.run(&["cancel", &id, "--json"]).await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    let line = out.error_line();
    assert!(
        line.contains("teardown") && line.contains("gtm-infra retry"),
        "{line}"
    );
    let v = out.json();
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["run"], serde_json::json!(["cancel", "failed"]));
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("Scheduling mailbox removal")
    );

    let status = r.run(&["status", &id]).await;
    assert_eq!(status.code, 4, "{}", status.stderr);
    assert!(status.error_line().contains("teardown"));

    r.sims.zapmail.faults().clear();
    let retried = r.run(&["retry", &id, "--json"]).await;
    assert_eq!(retried.code, 0, "{}", retried.stderr);
    assert_eq!(
        retried.json()["run"],
        serde_json::json!(["cancel", "succeeded"])
    );
}
