//! What the server's end-to-end tests share: a server built from a config and run on a
//! loopback port until stopped.
#![allow(dead_code, clippy::unwrap_used)]

use hotline_server::bots::EngineBuilder;
use hotline_server::{Server, ServerConfig, ServerError};
use std::time::Duration;

/// A server running on loopback.
pub(crate) struct Running {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops the server and checks that it finishes within 5 s: idle keep-alive connections
    /// (the test's clients keep theirs open) are closed, not waited for.
    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .expect("the server stops within 5 s of being told to")
            .expect("the server's task ends without a panic");
    }
}

/// Builds `config` (its public URL set to the port bound here), with `engines` for the
/// engines the server cannot build itself, and serves it.
pub(crate) async fn serve_with(
    mut config: ServerConfig,
    engines: Option<&dyn EngineBuilder>,
) -> Result<Running, ServerError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    config.public_url = format!("http://{addr}");
    let server = Server::build_with(&config, None, engines).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    Ok(Running {
        base: format!("http://{addr}"),
        stop: Some(tx),
        task,
    })
}

/// [`serve_with`] with no engine builder; the config must be valid.
pub(crate) async fn serve(config: ServerConfig) -> Running {
    serve_with(config, None).await.unwrap()
}
