//! No secret appears in any progress event, log line (everything `tracing` emits at
//! TRACE), error, snapshot, or byte of the SQLite database (issue 3).
//!
//! One full provisioning runs against the simulators with the paths that handle secrets
//! exercised: the PIPL registration is refused (so the partner upload carries every
//! mailbox password and the client login), the mailbox listing (which carries passwords
//! and TOTP secrets) answers with broken bodies until the engine reports the decode error,
//! and a vendor refusal fails the run before an operator retry finishes it. Then every
//! output is searched for the three API keys, the PlusVibe client password and every
//! mailbox password and TOTP secret.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use provisioning::sim::Simulators;
use provisioning::store::SqliteStore;
use provisioning::{
    EngineError, FnSink, NewProvision, Payment, ProgressEvent, ProvisionStatus, SecretKey,
    StepStatus, Store, TracingSink,
};
use secrecy::ExposeSecret;
use vendor_http::sim::Fault;
use zapmail::mock::routes as zr;

/// Everything `tracing` writes, from every thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process-wide capture (installed once, at TRACE: every worker thread logs into it).
fn capture() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        logs
    })
    .clone()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The places `secret` was found (by name) among `haystacks`.
fn hits(haystacks: &[(String, Vec<u8>)], secret: &str) -> Vec<String> {
    haystacks
        .iter()
        .filter(|(_, hay)| contains(hay, secret.as_bytes()))
        .map(|(name, _)| name.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_events_logs_errors_snapshots_or_the_database() {
    let logs = capture();
    tracing::info!("capture works");

    let sims = Arc::new(Simulators::start().await);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("gtm.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    let key_bytes = [0x5au8; 32];

    // Events, kept whole; once mailboxes are being created, the listing (passwords and
    // TOTP secrets inside) answers with truncated bodies until the engine sees the error.
    let events: Arc<Mutex<Vec<ProgressEvent>>> = Arc::default();
    let broken_listing = Arc::new(AtomicBool::new(false));
    let sink = {
        let (events, sims, armed) = (events.clone(), sims.clone(), broken_listing.clone());
        FnSink(move |e: &ProgressEvent| {
            events.lock().unwrap().push(e.clone());
            let waiting_for_mailboxes = e.step == 5
                && e.status == StepStatus::InProgress
                && e.message
                    .as_deref()
                    .unwrap_or("")
                    .contains("mailboxes active");
            if waiting_for_mailboxes && !armed.swap(true, Ordering::SeqCst) {
                sims.zapmail
                    .faults()
                    .inject(zr::LIST_MAILBOXES, Fault::Malformed, 7);
            }
        })
    };
    let engine = sims
        .engine_builder()
        .store(store.clone())
        .secret_key(SecretKey::from_bytes(key_bytes))
        .sink(Arc::new(sink))
        .sink(Arc::new(TracingSink))
        .build()
        .await
        .unwrap();

    // Errors and snapshots, as text (Debug and Display).
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut keep_error = |what: &str, e: &dyn std::fmt::Debug, d: &dyn std::fmt::Display| {
        texts.push((format!("{what} (Debug)"), format!("{e:?}")));
        texts.push((format!("{what} (Display)"), d.to_string()));
    };

    let bad = engine
        .create_provision(
            NewProvision::new("Tim Keen", "tim@acme.example", "starter")
                .domains(["acme.io", "acme.com", "acme.net"])
                .patterns("tim", "tim.keen"),
        )
        .await
        .unwrap_err();
    keep_error("bad input", &bad, &bad);

    let names = ["secretsacme.com", "secretsacme.net", "secretsacme.org"];
    let id = engine
        .create_provision(
            NewProvision::new("Tim Keen", "tim@acme.example", "starter")
                .domains(names)
                .patterns("tim", "tim.keen"),
        )
        .await
        .unwrap();
    engine.mark_paid(id, Payment::default()).await.unwrap();

    // Zapmail refuses the PlusVibe login (partner upload instead), and the first mailbox
    // creation (the run fails; an operator retries).
    sims.zapmail
        .faults()
        .inject(zr::ADD_ACCOUNT, Fault::Status(400), 1);
    sims.zapmail
        .faults()
        .inject(zr::CREATE_MAILBOXES, Fault::Status(422), 1);
    let failed = engine.run(id).await.unwrap();
    assert_eq!(failed.status, ProvisionStatus::Failed);
    texts.push(("failed snapshot".into(), format!("{failed:?}")));
    texts.push((
        "failed snapshot (JSON)".into(),
        serde_json::to_string(&failed).unwrap(),
    ));
    engine.retry(id).await.unwrap();
    let snap = engine.run(id).await.unwrap();
    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);
    assert!(broken_listing.load(Ordering::SeqCst));
    assert_eq!(sims.plusvibe.partner_uploads().len(), 1);
    texts.push(("snapshot".into(), format!("{snap:?}")));
    texts.push((
        "snapshot (JSON)".into(),
        serde_json::to_string(&snap).unwrap(),
    ));
    let state = engine.state(id).await.unwrap();
    texts.push(("state".into(), format!("{state:?}")));
    texts.push((
        "state (JSON)".into(),
        serde_json::to_string(&state).unwrap(),
    ));
    texts.push((
        "stored events".into(),
        format!("{:?}", store.events(id, 0).await.unwrap()),
    ));
    texts.push(("engine".into(), format!("{engine:?}")));
    texts.push(("clients".into(), format!("{:?}", engine.clients())));
    texts.push(("simulators".into(), format!("{sims:?}")));

    let wrong_state = engine.retry(id).await.unwrap_err();
    let mut keep_error = |what: &str, e: &dyn std::fmt::Debug, d: &dyn std::fmt::Display| {
        texts.push((format!("{what} (Debug)"), format!("{e:?}")));
        texts.push((format!("{what} (Display)"), d.to_string()));
    };
    keep_error("retry an active provision", &wrong_state, &wrong_state);
    let sealed = state.ledger.plusvibe_client_password.clone().unwrap();
    let wrong_key = SecretKey::generate()
        .open(&sealed, &id.to_string())
        .unwrap_err();
    let wrong_key = EngineError::from(wrong_key);
    keep_error("open with another key", &wrong_key, &wrong_key);

    // A vendor decode error straight from the client, on the listing with passwords.
    let ws = zapmail::WorkspaceId::from(snap.zapmail_workspace_id.clone().unwrap().as_str());
    sims.zapmail
        .faults()
        .inject(zr::LIST_MAILBOXES, Fault::Malformed, 6);
    let decode = engine
        .clients()
        .zapmail
        .in_workspace(&ws)
        .mailboxes()
        .list_all(None)
        .await
        .unwrap_err();
    assert_eq!(decode.kind(), zapmail::ErrorKind::Decode);
    keep_error("mailbox listing decode error", &decode, &decode);

    // The secrets, read from the simulators.
    let mut secrets: Vec<(String, String)> = vec![
        ("Zapmail key".into(), zapmail::mock::TEST_API_KEY.into()),
        ("PlusVibe key".into(), plusvibe::mock::TEST_API_KEY.into()),
        ("HeyReach key".into(), heyreach::mock::TEST_API_KEY.into()),
    ];
    let client = sims
        .plusvibe
        .client_by_email("tim@acme.example")
        .expect("the client login exists");
    let client_password = client.password.expose_secret().to_string();
    secrets.push(("PlusVibe client password".into(), client_password.clone()));
    let listing = sims
        .zapmail
        .client()
        .in_workspace(&ws)
        .mailboxes()
        .list_all(None)
        .await
        .unwrap();
    let mut mailboxes = 0;
    for m in listing.mailboxes() {
        mailboxes += 1;
        let password = m.password.as_ref().expect("Zapmail lists the password");
        secrets.push((
            format!("password of {}", m.email),
            password.expose_secret().to_string(),
        ));
        if let Some(app) = &m.app_password {
            secrets.push((
                format!("app password of {}", m.email),
                app.expose_secret().to_string(),
            ));
        }
        if let Some(totp) = &m.secret {
            secrets.push((
                format!("TOTP secret of {}", m.email),
                totp.expose_secret().to_string(),
            ));
        }
    }
    assert_eq!(mailboxes, 6);
    for d in &listing.domains {
        let admin = d
            .admin_details
            .as_ref()
            .expect("Zapmail lists the admin login");
        for (what, v) in [
            ("admin password", &admin.new_password),
            ("admin TOTP", &admin.secret),
        ] {
            if let Some(v) = v {
                secrets.push((
                    format!("{what} of {}", d.domain),
                    v.expose_secret().to_string(),
                ));
            }
        }
    }
    for (what, s) in &secrets {
        assert!(s.len() >= 8, "{what} is too short to search for: {s:?}");
    }

    // The stored password is ciphertext that opens with the engine's key to the real one.
    let column: String =
        sqlx::query_scalar("SELECT plusvibe_client_password FROM infra_provisions WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(column.starts_with("xc20p1:"), "{column}");
    let opened = SecretKey::from_bytes(key_bytes)
        .open(&provisioning::Sealed::from_stored(column), &id.to_string())
        .unwrap();
    assert_eq!(opened.expose_secret(), client_password);

    // Every haystack.
    let mut haystacks: Vec<(String, Vec<u8>)> = texts
        .into_iter()
        .map(|(name, text)| (name, text.into_bytes()))
        .collect();
    for (i, e) in events.lock().unwrap().iter().enumerate() {
        haystacks.push((format!("event {i} (Debug)"), format!("{e:?}").into_bytes()));
        haystacks.push((format!("event {i} (JSON)"), serde_json::to_vec(e).unwrap()));
    }
    let scan_files = |haystacks: &mut Vec<(String, Vec<u8>)>, phase: &str| {
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if let Ok(bytes) = std::fs::read(&path) {
                haystacks.push((format!("{phase}: {}", path.display()), bytes));
            }
        }
    };
    scan_files(&mut haystacks, "open database");
    store.close().await;
    scan_files(&mut haystacks, "closed database");
    let log_bytes = logs.0.lock().unwrap().clone();
    let log_text = String::from_utf8_lossy(&log_bytes).to_string();
    assert!(log_text.contains("capture works"));
    // The run was logged, at every level, through the clients and the engine.
    assert!(
        log_text.contains("TRACE") || log_text.contains("DEBUG"),
        "no verbose logs"
    );
    assert!(
        log_text.contains("provisioning::progress"),
        "no progress logs"
    );
    haystacks.push(("tracing output".into(), log_bytes));

    let events_seen = events.lock().unwrap().len();
    assert!(events_seen > 20, "only {events_seen} events");
    // The decode error is reported (so its body was part of what was searched).
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.step == 5 && e.error.as_deref().unwrap_or("").contains("decode")),
        "the broken listing never reached the events"
    );

    // The search works: it finds what must be there (the sealed password in the database
    // files, the mailbox addresses in the decode error's body).
    assert!(
        hits(&haystacks, sealed.as_str())
            .iter()
            .any(|h| h.contains("open database")),
        "the sealed password is not in the database files"
    );
    assert!(!hits(&haystacks, "tim.keen@secretsacme").is_empty());
    assert!(
        hits(&haystacks, "admin@secretsacme.com")
            .iter()
            .any(|h| h.starts_with("mailbox listing decode error"))
    );

    let mut leaks = Vec::new();
    for (what, secret) in &secrets {
        let found = hits(&haystacks, secret);
        if !found.is_empty() {
            leaks.push(format!("{what} found in: {}", found.join(", ")));
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

/// The default path (issue 8): Zapmail registers the PlusVibe login and exports the
/// mailboxes (the test above takes the partner upload). The registered-account listing,
/// which carries the login, and the PlusVibe account listing answer with broken bodies
/// once each: the clients retry them, logging each decode error (with the redacted body)
/// at WARN, so those messages are searched too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_path_leaks_no_secret_either() {
    let logs = capture();
    let sims = Simulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("gtm.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    let events: Arc<Mutex<Vec<ProgressEvent>>> = Arc::default();
    let seen = events.clone();
    let engine = sims
        .engine_builder()
        .store(store.clone())
        .secret_key(SecretKey::generate())
        .sink(Arc::new(FnSink(move |e: &ProgressEvent| {
            seen.lock().unwrap().push(e.clone())
        })))
        .sink(Arc::new(TracingSink))
        .build()
        .await
        .unwrap();
    let id = engine
        .create_provision(
            NewProvision::new("Eve Export", "eve@exportacme.example", "starter")
                .domains(["exportacme.com", "exportacme.net", "exportacme.org"])
                .patterns("eve", "eve.export"),
        )
        .await
        .unwrap();
    engine.mark_paid(id, Payment::default()).await.unwrap();
    sims.zapmail
        .faults()
        .inject(zr::LIST_ACCOUNTS, Fault::Malformed, 1);
    sims.plusvibe
        .faults()
        .inject(plusvibe::mock::routes::LIST_ACCOUNTS, Fault::Malformed, 1);
    let snap = engine.run(id).await.unwrap();
    assert_eq!(snap.status, ProvisionStatus::Active, "{:?}", snap.error);
    assert_eq!(
        sims.zapmail.exports_started(),
        1,
        "the export path was taken"
    );
    assert!(sims.plusvibe.partner_uploads().is_empty());
    assert_eq!(sims.zapmail.faults().pending(), 0);
    assert_eq!(sims.plusvibe.faults().pending(), 0);

    let client = sims
        .plusvibe
        .client_by_email("eve@exportacme.example")
        .unwrap();
    let mut secrets = vec![
        (
            "Zapmail key".to_string(),
            zapmail::mock::TEST_API_KEY.to_string(),
        ),
        ("PlusVibe key".into(), plusvibe::mock::TEST_API_KEY.into()),
        ("HeyReach key".into(), heyreach::mock::TEST_API_KEY.into()),
        (
            "PlusVibe client password".into(),
            client.password.expose_secret().to_string(),
        ),
    ];
    let ws = zapmail::WorkspaceId::from(snap.zapmail_workspace_id.clone().unwrap().as_str());
    let listing = sims
        .zapmail
        .client()
        .in_workspace(&ws)
        .mailboxes()
        .list_all(None)
        .await
        .unwrap();
    for m in listing.mailboxes() {
        if let Some(p) = &m.password {
            secrets.push((
                format!("password of {}", m.email),
                p.expose_secret().to_string(),
            ));
        }
    }
    assert!(secrets.len() >= 4 + 6);

    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("snapshot".into(), format!("{snap:?}").into_bytes()),
        ("snapshot (JSON)".into(), serde_json::to_vec(&snap).unwrap()),
        (
            "state".into(),
            format!("{:?}", engine.state(id).await.unwrap()).into_bytes(),
        ),
        (
            "stored events".into(),
            format!("{:?}", store.events(id, 0).await.unwrap()).into_bytes(),
        ),
    ];
    let evs = events.lock().unwrap().clone();
    for (i, e) in evs.iter().enumerate() {
        haystacks.push((format!("event {i}"), serde_json::to_vec(e).unwrap()));
    }
    store.close().await;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if let Ok(bytes) = std::fs::read(&path) {
            haystacks.push((format!("{}", path.display()), bytes));
        }
    }
    haystacks.push(("tracing output".into(), logs.0.lock().unwrap().clone()));
    assert!(!hits(&haystacks, "eve.export@exportacme").is_empty());
    let leaks: Vec<String> = secrets
        .iter()
        .filter_map(|(what, s)| {
            let found = hits(&haystacks, s);
            (!found.is_empty()).then(|| format!("{what} found in: {}", found.join(", ")))
        })
        .collect();
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}
