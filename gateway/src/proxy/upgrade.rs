//! Protocol upgrades (WebSocket over HTTP/1.1): once the upstream answers 101, the client's and the
//! upstream's connections are joined and bytes are copied both ways until either side closes.

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_util::task::TaskTracker;

/// Joins the two upgraded connections in a task of its own; `tasks` lets shutdown wait for it.
pub fn tunnel(client: OnUpgrade, upstream: OnUpgrade, tasks: &TaskTracker, app: String) {
    tasks.spawn(async move {
        let (client, upstream) = match tokio::try_join!(client, upstream) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(app, error = %e, "upgrade handshake did not complete");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut upstream = TokioIo::new(upstream);
        match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
            Ok((up, down)) => tracing::debug!(
                app,
                bytes_up = up,
                bytes_down = down,
                "upgraded connection closed"
            ),
            Err(e) => tracing::debug!(app, error = %e, "upgraded connection ended with an error"),
        }
    });
}
