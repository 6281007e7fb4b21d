//! The raw bind rate of an LDAP server: the reference the login benchmark
//! (`tests/bench/auth.sh`) compares Pforte's logins against. `CONNECTIONS` connections each bind
//! as the user again and again (a password check, as a login does) for `SECONDS`, with ldap3,
//! the client Pforte itself uses.
//!
//! `cargo run --release -p pforte-directory --example bind_rate -- URL DN PASSWORD SECONDS CONNECTIONS`
// Measures or waits for real servers in real time.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ldap3::LdapConnAsync;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, dn, password, seconds, connections] = args.as_slice() else {
        return Err("usage: bind_rate URL DN PASSWORD SECONDS CONNECTIONS".into());
    };
    let seconds: u64 = seconds.parse()?;
    let connections: usize = connections.parse()?;
    let binds = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (conn, mut ldap) = LdapConnAsync::new(url).await?;
        ldap3::drive!(conn);
        let (dn, password, binds) = (dn.clone(), password.clone(), binds.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let ok = ldap
                    .simple_bind(&dn, &password)
                    .await
                    .and_then(ldap3::LdapResult::success)
                    .is_ok();
                if !ok {
                    return Err("a bind failed");
                }
                binds.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let total = binds.load(Ordering::Relaxed);
    println!("binds_per_second={:.0}", total as f64 / seconds as f64);
    Ok(())
}
