//! Which LDAP operations a login costs, as the real slapd of the test services logs them
//! (`DIR/ldap/slapd.log`, log level `stats`): an unknown name and a wrong password must cost the
//! same, cold and warm, so the login page's timing does not tell which accounts exist.
//!
//! The operations are those of this process's connections: the test's own sockets to slapd
//! (/proc/self/fd and /proc/self/net/tcp) give the client ports, slapd's ACCEPT lines give the
//! connection ids. The file holds a single test so that no other test shares the process.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
// Measures or waits for real servers in real time.
#![allow(clippy::disallowed_methods)]

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pforte_directory::{
    AuthError, Directory, FailureReason, LdapDirectory, LdapSettings, Secret, UserRecord,
};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run under ./tests/run (or source deploy/dev/services.sh env)")
    })
}

fn settings() -> LdapSettings {
    let base = var("PFORTE_TEST_LDAP_BASE_DN");
    let password = std::fs::read_to_string(var("PFORTE_TEST_LDAP_BIND_PW_FILE")).unwrap();
    let mut s = LdapSettings {
        urls: vec![var("PFORTE_TEST_LDAP_URL")],
        bind_dn: var("PFORTE_TEST_LDAP_BIND_DN"),
        bind_password: Secret::new(password.trim_end()),
        user_base: Some(format!("ou=people,{base}")),
        base_dn: base.clone(),
        disabled_filter: Some("(employeeType=disabled)".into()),
        pool_size: 1,
        bind_pool_size: 1,
        ..LdapSettings::default()
    };
    s.groups.base = Some(format!("ou=groups,{base}"));
    s
}

fn refusal(result: Result<UserRecord, AuthError>) -> FailureReason {
    match result {
        Err(AuthError::InvalidCredentials(reason)) => reason,
        other => panic!("expected invalid credentials, got {other:?}"),
    }
}

/// The slapd log, read from the offset taken when the directory was built.
struct SlapdLog {
    path: PathBuf,
    start: u64,
    server_port: u16,
    base_dn: String,
}

impl SlapdLog {
    fn open() -> Self {
        let path = PathBuf::from(var("PFORTE_TEST_SERVICES_DIR")).join("ldap/slapd.log");
        let start = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        let url = var("PFORTE_TEST_LDAP_URL");
        let server_port = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let base_dn = var("PFORTE_TEST_LDAP_BASE_DN");
        Self {
            path,
            start,
            server_port,
            base_dn,
        }
    }

    fn offset(&self) -> u64 {
        std::fs::metadata(&self.path).unwrap().len()
    }

    /// Complete lines written from `offset` on.
    fn lines_from(&self, offset: u64) -> Vec<String> {
        let mut file = std::fs::File::open(&self.path).unwrap();
        file.seek(SeekFrom::Start(offset)).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete.lines().map(str::to_owned).collect()
    }

    /// slapd's ids of this process's connections to it.
    fn our_connections(&self) -> HashSet<String> {
        let ports = our_client_ports(self.server_port);
        let server = format!(":{})", self.server_port);
        self.lines_from(self.start)
            .iter()
            .filter(|line| line.contains(" ACCEPT from ") && line.ends_with(&server))
            .filter(|line| {
                ports
                    .iter()
                    .any(|port| line.contains(&format!(":{port} (IP=")))
            })
            .filter_map(|line| field(line, "conn="))
            .collect()
    }

    /// The operations (SRCH, BIND, ...) that this process's connections ran since `offset`, in
    /// the order slapd received them. A health probe of `d` marks the end: once slapd has logged
    /// it, it has logged everything sent before it.
    async fn operations_since(&self, d: &Directory, offset: u64) -> Vec<String> {
        d.health().await;
        let marker = format!("SRCH base=\"{}\" scope=0", self.base_dn);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ours = self.our_connections();
            let mut seen = HashSet::new();
            let mut operations = Vec::new();
            for line in self.lines_from(offset) {
                let (Some(conn), Some(op)) = (field(&line, "conn="), field(&line, "op=")) else {
                    continue;
                };
                let kind = line
                    .split(" op=")
                    .nth(1)
                    .and_then(|r| r.split(' ').nth(1))
                    .unwrap_or_default();
                // slapd logs an operation's RESULT (for a search: SEARCH RESULT) after its
                // request; the result of an operation that started before `offset` may land
                // after it and is not ours.
                let result = kind == "RESULT" || line.contains(" SEARCH RESULT ");
                if result || !ours.contains(&conn) || !seen.insert((conn, op)) {
                    continue;
                }
                if line.contains(&marker) {
                    return operations;
                }
                operations.push(kind.to_owned());
            }
            assert!(
                Instant::now() < deadline,
                "the health probe never showed in {}: does slapd log at level stats?",
                self.path.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The value after `key` up to the next space (`conn=1338` gives `1338`).
fn field(line: &str, key: &str) -> Option<String> {
    let rest = line.split(&format!(" {key}")).nth(1)?;
    Some(rest.split(' ').next()?.to_owned())
}

/// The local ports of this process's TCP sockets to `server_port`.
fn our_client_ports(server_port: u16) -> HashSet<u16> {
    let inodes: HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            let inode = target.strip_prefix("socket:[")?.strip_suffix(']')?;
            Some(inode.to_owned())
        })
        .collect();
    let port = |address: &str| u16::from_str_radix(address.rsplit(':').next()?, 16).ok();
    let table = std::fs::read_to_string("/proc/self/net/tcp").unwrap();
    let by_inode: HashMap<&str, (Option<u16>, Option<u16>)> = table
        .lines()
        .skip(1)
        .filter_map(|row| {
            let columns: Vec<&str> = row.split_whitespace().collect();
            Some((*columns.get(9)?, (port(columns[1]), port(columns[2]))))
        })
        .collect();
    by_inode
        .into_iter()
        .filter(|(inode, (_, remote))| inodes.contains(*inode) && *remote == Some(server_port))
        .filter_map(|(_, (local, _))| local)
        .collect()
}

#[tokio::test]
async fn unknown_names_and_wrong_passwords_cost_the_same_ldap_operations() {
    let log = SlapdLog::open();
    let d = Directory::Ldap(LdapDirectory::new(settings()).unwrap());
    // Opens the one service and the one bind connection; not measured.
    d.authenticate("erin", "erinpw").await.unwrap();
    let unknown = format!("pforte-nobody-{}", std::process::id());

    let mut measure = Vec::new();
    for round in ["cold", "warm"] {
        let offset = log.offset();
        let reason = refusal(d.authenticate(&unknown, "alicepw").await);
        assert_eq!(reason, FailureReason::UnknownUser);
        let unknown_ops = log.operations_since(&d, offset).await;

        let offset = log.offset();
        let reason = refusal(d.authenticate("alice", "bobpw").await);
        assert_eq!(reason, FailureReason::WrongPassword);
        let wrong_ops = log.operations_since(&d, offset).await;

        assert_eq!(
            unknown_ops, wrong_ops,
            "{round}: unknown name vs wrong password"
        );
        measure.push(unknown_ops);
    }
    assert_eq!(
        measure[0],
        ["SRCH", "SRCH", "BIND"],
        "cold: the user search and the disabled search, then the bind"
    );
    assert_eq!(
        measure[1],
        ["BIND"],
        "warm: both answers cached, the bind only"
    );

    // The right password on the cached entry: the bind, then the entry read fresh (an account
    // disabled since it was cached must not log in) and the group reads (alice's memberOf:
    // admins, staff).
    let offset = log.offset();
    let alice = d.authenticate("alice", "alicepw").await.unwrap();
    assert_eq!(alice.groups, ["admins", "staff"]);
    let right_ops = log.operations_since(&d, offset).await;
    assert_eq!(right_ops, ["BIND", "SRCH", "SRCH", "SRCH", "SRCH"]);

    // A session's identity refresh reads past both caches, by subject: what each active
    // session costs the directory once per refresh interval (BENCHMARKS.md).
    let offset = log.offset();
    let reread = d.find_by_subject(&alice.subject).await.unwrap();
    assert_eq!(reread.as_ref(), Some(&alice));
    let refresh_ops = log.operations_since(&d, offset).await;
    println!("one identity refresh: {refresh_ops:?}");
    assert_eq!(
        refresh_ops,
        ["SRCH", "SRCH", "SRCH", "SRCH", "SRCH"],
        "subject search, user and disabled searches, the group reads"
    );
}
