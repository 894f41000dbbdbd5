//! Request traces (its own test binary: `tracing`'s per-callsite interest cache makes a
//! thread-local subscriber unreliable while other tests run in parallel threads).

use std::sync::{Arc, Mutex};

use serde_json::Value;
use vendor_http::sim::Fault;

mod toy;
use toy::*;

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn traces_name_the_request_and_never_a_secret() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = sim().await;
    let c = client(&s);
    s.faults().inject("POST /things", Fault::Status(503), 1);
    c.send::<Value>(create("a")).await.unwrap();
    let _ = c.send::<Value>(create("")).await;

    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("vendor_request"), "{text}");
    assert!(
        text.contains("vendor=\"toy\"") || text.contains("vendor=toy"),
        "{text}"
    );
    assert!(text.contains("attempt=2"), "{text}");
    assert!(text.contains("retrying vendor request"), "{text}");
    assert!(!text.contains(KEY), "{text}");
    assert!(!text.contains("pw-live-1"), "{text}");
}
