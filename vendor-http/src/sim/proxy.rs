//! A TCP pass-through in front of the wiremock server that can really drop a connection.
//!
//! wiremock always completes a response, so a "dropped connection" fault is marked with a
//! response header instead; this proxy forwards bytes both ways and, when it sees the marker
//! in the server's answer, closes the client's connection without forwarding that answer.
//! Plain HTTP/1.1 only (what the clients speak to `http://` simulators).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The header a simulator response carries when its connection must be dropped.
pub(crate) const DROP_MARKER: &str = "x-sim-drop-connection";

/// Listen on a free local port and forward every connection to `upstream`.
pub(crate) async fn start(upstream: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(server) = TcpStream::connect(upstream).await {
                    let _ = pump(client, server).await;
                }
            });
        }
    });
    Ok(addr)
}

async fn pump(client: TcpStream, server: TcpStream) -> std::io::Result<()> {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
    };
    let downstream = async {
        let marker = DROP_MARKER.as_bytes();
        let mut buf = vec![0u8; 16 * 1024];
        // The marker may straddle two reads: keep the last bytes of the previous one.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut window = std::mem::take(&mut tail);
            window.extend_from_slice(&buf[..n]);
            if window
                .windows(marker.len())
                .any(|w| w.eq_ignore_ascii_case(marker))
            {
                // Drop: the client sees its connection close mid-exchange.
                return;
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
            let keep = window.len().min(marker.len() - 1);
            tail = window[window.len() - keep..].to_vec();
        }
        let _ = client_write.shutdown().await;
    };
    tokio::select! {
        _ = downstream => {}
        _ = async { upstream.await; std::future::pending::<()>().await } => {}
    }
    Ok(())
}
