//! Every change this tool makes, in the gateway's audit log (`pforte::audit`, one JSON object
//! per line) with the admin who made it, as the gateway's typed events.

pub use pforte::telemetry::audit::KeyChange;
use pforte::telemetry::audit::{self, AuditContext, AuditEvent};

/// Who is at the keyboard: the person behind `sudo` when there is one, else the login user,
/// else the numeric uid (read from the process's own `/proc` entry, which needs no unsafe code).
pub fn admin_name() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata("/proc/self").map_or_else(
                |_| "unknown".to_string(),
                |meta| format!("uid:{}", meta.uid()),
            )
        })
}

/// The context of events outside any request.
fn context() -> AuditContext<'static> {
    AuditContext {
        request_id: "",
        source: None,
    }
}

/// Records a writing command's event, with the gateway's typed events.
pub fn record(event: AuditEvent<'_>) {
    audit::record(context(), event);
}

/// Records a change of the signing keys.
pub fn key_change(change: KeyChange, kid: &str, by: &str) {
    record(AuditEvent::KeyChanged { change, kid, by });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_has_a_name() {
        assert!(!admin_name().is_empty());
    }
}
