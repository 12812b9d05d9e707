//! Accepting connections and serving HTTP/1.1 on them, with WebSocket upgrades, until a
//! shutdown: then no new connection is taken, idle ones are closed, and requests in flight are
//! answered before [`serve`] returns.
//!
//! Twilio's webhooks and media streams are HTTP/1.1, and so is what a reverse proxy sends its
//! upstream. The connections are hyper's own, with [`App`] as their service: no auto-detected
//! HTTP/2, no tower adapter and no boxed body in between (that was `axum::serve`, a few percent
//! of a gather callback's CPU time).

use crate::app::App;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Serves `app` on `listener` until `shutdown` resolves, then drains: see the module docs.
pub(crate) async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let (stop, stopping) = watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        // Connections that have ended are let go of as new ones come.
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, _)) => {
                connections.spawn(connection(stream, app.clone(), stopping.clone()));
            }
            Err(e) => refused(e).await,
        }
    }
    drop(listener);
    // Every connection is told, then waited for.
    drop(stop);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One connection, served until it closes; told of a shutdown (`stopping` closed), it finishes
/// the request in flight, if any, and closes.
async fn connection(stream: TcpStream, app: App, mut stopping: watch::Receiver<()>) {
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), app)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        biased;
        result = conn.as_mut() => result,
        _ = stopping.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::trace!(error = %e, "a connection ended with an error");
    }
}

/// After a failed `accept`: a connection that went away before it was taken is nothing;
/// anything else (out of file descriptors, say) is logged, and accepting pauses for a second
/// so that the loop does not spin on it.
async fn refused(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection; trying again in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
