//! `GET /status`: what is loaded and whether the directory and the session store answer, as a
//! [`StatusReport`]; `503` when something is unhealthy, so a probe can use the code alone.

use std::sync::atomic::Ordering;

use pforte_directory::ServerStatus;
use pforte_session::SessionStore;

use super::api::{
    DirectoryStatus, PolicyStatus, ServerView, SessionsStatus, StatusReport, StoreHealth,
};
use crate::state::Shared;

/// The report, and whether everything answers.
pub(super) async fn report(shared: &Shared) -> StatusReport {
    let snapshot = shared.snapshot.load_full();
    let config = &snapshot.config;
    let detail = match shared.sessions.count(shared.clock.now()).await {
        Ok(count) => StoreHealth {
            healthy: true,
            count: Some(count),
            error: None,
        },
        Err(e) => StoreHealth {
            healthy: false,
            count: None,
            error: Some(e.to_string()),
        },
    };
    let store = match &shared.sessions {
        SessionStore::Memory(_) => "memory",
        SessionStore::Redis(_) => "redis",
    };
    let directory = match &shared.directory {
        Some(directory) => {
            let health = directory.health().await;
            DirectoryStatus {
                healthy: health.is_ready(),
                servers: health
                    .servers
                    .into_iter()
                    .map(|s| ServerView {
                        url: s.url,
                        status: match s.status {
                            ServerStatus::Up => "up",
                            ServerStatus::Down => "down",
                            ServerStatus::Untried => "untried",
                        }
                        .to_owned(),
                        last_error: s.last_error,
                    })
                    .collect(),
            }
        }
        None => DirectoryStatus {
            healthy: true,
            servers: Vec::new(),
        },
    };
    StatusReport {
        healthy: detail.healthy && directory.healthy,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        uptime_seconds: shared.started.elapsed().as_secs(),
        ready: shared.ready.load(Ordering::Acquire),
        config: config.source.display().to_string(),
        last_reload_success: shared.metrics.last_reload_success(),
        apps: snapshot
            .apps
            .iter()
            .map(|a| a.app.name.to_string())
            .collect(),
        policy: PolicyStatus {
            file: config.policy_file.display().to_string(),
            rules: snapshot.policy.rule_count(),
            files: snapshot.policy.file_count(),
        },
        certificates: config.certificates.len(),
        keys: snapshot.keys.as_ref().map(|k| k.active().kid().to_string()),
        sessions: SessionsStatus {
            store: store.to_owned(),
            detail,
        },
        directory,
    }
}
