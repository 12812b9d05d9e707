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

/// A form POST of `params` to `path` as Twilio sends it, signed with `token` over `public` and
/// the path (or, with `signed` false, with a wrong signature), answered by `server`'s service
/// without a socket: the status and the body.
pub(crate) async fn post_form(
    server: &Server,
    (public, token): (&str, &str),
    path: &str,
    params: &[(&str, &str)],
    signed: bool,
) -> (axum::http::StatusCode, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let signature = if signed {
        hotline_twilio::signature::compute(token, &format!("{public}{path}"), &owned)
    } else {
        "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==".to_owned()
    };
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let req = axum::http::Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signature)
        .body(axum::body::Body::from(body))
        .unwrap();
    let resp = server.app().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}
