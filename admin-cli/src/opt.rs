//! The command line, as types only: what each command accepts and its `--help`. The commands
//! themselves live in `cmd/`, one module per noun.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use pforte::cli::ConfigArg;
use pforte::policy::engine::LoginStrength;

/// Which config is read, and the exit codes, shown at the end of `--help`.
const AFTER_HELP: &str = "The config: one named by --config or PFORTE_CONFIG is always read; \
otherwise /etc/pforte/gateway.toml is read only by a command that needs it. `policy check DIR`, \
`policy explain --policy DIR --groups G,..`, `policy diff OLD NEW --users FILE` and \
`keys --dir DIR` need none.\n\nExit codes:\n  0  done (or: allowed, nothing changes)\n  \
1  failed, refused or not allowed\n  2  bad input or config\n  3  unhealthy: the directory or \
the session store does not answer";

/// Manage the policies, keys, users, groups, sessions, OpenID Connect clients and partners'
/// providers of a Pforte gateway, from the gateway's own config file (`pforte` itself only runs
/// the gateway).
#[derive(Parser)]
#[command(name = "pforte-admin", version, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// The gateway config file, shared with the gateway.
    #[command(flatten)]
    pub config: ConfigArg,
    /// Do not ask before a change that cannot be undone (needed without a terminal).
    #[arg(long, short, global = true)]
    pub yes: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The nouns.
#[derive(Subcommand)]
pub enum Command {
    /// Check a policy, explain a decision, compare two policies, list who may use an app.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// List, generate, rotate or retire the signing keys of `[keys] dir` (or `--dir`).
    Keys(KeysArgs),
    /// List, show or revoke login sessions (Redis directly; the memory store through the
    /// running gateway's admin listener).
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// List, show, add, disable, enable and delete people; set passwords; lift a brute-force
    /// lock; list and reset second factors.
    #[command(subcommand)]
    Users(UsersCommand),
    /// List and show groups with their members; add groups and memberships.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// List, show, add or remove the OpenID Connect clients of `[oidc] clients`; give a client
    /// a new secret.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// List or show the partners' OpenID providers of `[federation] providers`, or test that
    /// they can be used: discovery, keys, client secret.
    #[command(subcommand)]
    Idps(IdpsCommand),
    /// Ask the running gateway (its admin listener) what it has loaded and whether the
    /// directory and the session store answer. Exit 3 when something is unhealthy or the
    /// gateway does not answer: usable from monitoring.
    #[command(after_help = "Example:\n  pforte-admin status --json")]
    Status {
        #[command(flatten)]
        json: JsonArg,
    },
    /// Check that the audit log is whole (nothing edited, deleted, inserted, reordered or cut
    /// off before a signed checkpoint), or show its events filtered by person, app, kind and time.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Second factors' sealing key: `mfa generate-key` prints a new one for `[mfa] key`.
    #[command(subcommand)]
    Mfa(MfaKeyCommand),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  pforte-admin completions bash > \
/etc/bash_completion.d/pforte-admin")]
    Completions {
        /// The shell.
        shell: Shell,
    },
    /// Print the man page (roff).
    #[command(
        after_help = "Example:\n  pforte-admin man > /usr/local/share/man/man1/pforte-admin.1"
    )]
    Man,
}

/// Print JSON instead of a table, for scripts.
#[derive(Args, Clone, Copy)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pforte-admin policy ...`: the gateway's own policy engine. `check DIR`, `explain --policy DIR
/// --groups G,..` and `diff OLD NEW --users FILE` read only the files they are given, so they run
/// where there is no gateway and no config (CI).
#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy: every error and warning with file, line and column.
    ///
    /// Exit code 0: loads; 1: errors (it would not load); 2: warnings only, with --strict.
    #[command(after_help = "Examples:\n  pforte-admin policy check --strict\n  \
pforte-admin policy check policies/ --strict     (in CI: no gateway, no config)")]
    Check {
        /// The policy folder (with policy.toml and apps.toml) or entry file (default: the
        /// config's policy file).
        policy: Option<PathBuf>,
        #[command(flatten)]
        apps: AppsArg,
        /// Treat warnings as failures (exit 2), for CI.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Show the decision for one request and the rule (file:line) that made it.
    ///
    /// Exit code 0: allowed; 1: not allowed (denied, login or step-up required); 2: the question
    /// could not be answered (the policy does not load, no app at the URL, ...).
    #[command(
        after_help = "Examples:\n  pforte-admin policy explain --user bob https://video.example.org/room/1\n  \
pforte-admin policy explain --policy policies/ --user alice --groups staff,admins --auth mfa \
--from 10.1.2.3 https://admin.localhost/settings"
    )]
    Explain {
        /// The URL asked about, like https://mail.example.org/inbox.
        url: String,
        /// The policy folder or entry file (default: the config's policy file).
        #[arg(long)]
        policy: Option<PathBuf>,
        #[command(flatten)]
        apps: AppsArg,
        /// The user; leave out to ask for someone not logged in.
        #[arg(long)]
        user: Option<String>,
        /// The user's groups, comma-separated (`--groups ''` for none); without it the groups
        /// of --user come from the live directory.
        #[arg(long, value_delimiter = ',')]
        groups: Option<Vec<String>>,
        /// How the user logged in: password or mfa.
        #[arg(long, default_value = "password")]
        auth: LoginStrength,
        /// The client's address.
        #[arg(long, default_value = "192.0.2.1")]
        from: IpAddr,
        /// The HTTP method.
        #[arg(long, default_value = "GET")]
        method: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Which users gain or lose which app when NEW replaces OLD (default: the policy in force).
    ///
    /// The users come from the live directory unless --users names a users file.
    ///
    /// Exit code 0: nobody's apps change; 1: some do; 2: the question could not be answered.
    #[command(
        allow_missing_positional = true,
        after_help = "Examples:\n  pforte-admin policy diff ./policies\n  \
pforte-admin policy diff /etc/pforte/policies ./policies --users policies/users.toml"
    )]
    Diff {
        /// The policy in force, folder or entry file (default: the config's policy file).
        old: Option<PathBuf>,
        /// The changed policy (folder or entry file).
        new: PathBuf,
        /// The apps file for NEW (default: apps.toml beside NEW, else the config's apps file).
        #[arg(long)]
        apps: Option<PathBuf>,
        /// A users file ([[user]] name, groups) instead of the live directory.
        #[arg(long)]
        users: Option<PathBuf>,
        #[command(flatten)]
        assumed: Assumed,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Every user of the live directory who may open APP (its entry path), from --from with
    /// --auth.
    #[command(
        after_help = "Example:\n  pforte-admin policy who-can mail --from 10.1.2.3 --auth mfa"
    )]
    WhoCan {
        /// The app's name, as in apps.toml.
        app: String,
        #[command(flatten)]
        assumed: Assumed,
        #[command(flatten)]
        json: JsonArg,
    },
}

/// The apps file a policy is compiled against, when it is not the policy's own.
#[derive(Args)]
pub struct AppsArg {
    /// The apps file (default: apps.toml beside the policy, else the config's apps file).
    #[arg(long)]
    pub apps: Option<PathBuf>,
}

/// Where and how everyone `diff` and `who-can` ask about is assumed to log in.
#[derive(Args, Clone, Copy)]
pub struct Assumed {
    /// The client address assumed for everyone.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))]
    pub from: IpAddr,
    /// The login strength assumed for everyone.
    #[arg(long, default_value = "mfa")]
    pub auth: LoginStrength,
}

/// `pforte-admin keys ...`: the key folder, `--dir` or the config's `[keys] dir`.
#[derive(Args)]
pub struct KeysArgs {
    /// The key folder (default: the config's `[keys] dir`); with it no config is needed.
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// What to do with the keys.
#[derive(Subcommand)]
pub enum KeysCommand {
    /// The keys with their algorithm, state and dates.
    List {
        #[command(flatten)]
        json: JsonArg,
    },
    /// Make a new key: the next one (published, not yet signing), or the active one when there
    /// is none. The folder is made (owner only) if missing.
    #[command(after_help = "Examples:\n  pforte-admin keys generate --alg es256\n  \
pforte-admin keys generate --dir /etc/pforte/keys     (the first key, before the config names it)")]
    Generate {
        /// The algorithm.
        #[arg(long, value_enum, default_value_t = AlgArg::Es256)]
        alg: AlgArg,
    },
    /// The next key starts signing; the active one is retired (still published for
    /// `retire_after`), and a new next key is made. Asks first.
    Rotate,
    /// Stop publishing a key early (never the only active one). Asks first.
    Retire {
        /// The key id.
        kid: String,
    },
}

/// Key kinds on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum AlgArg {
    /// ECDSA P-256 (the default: small and fast).
    Es256,
    /// RSA 2048 bits.
    Rs256,
    /// RSA 3072 bits.
    Rs256_3072,
    /// Ed25519.
    Eddsa,
}

/// `pforte-admin sessions ...`
#[derive(Subcommand)]
pub enum SessionsCommand {
    /// The live sessions: created, last seen, source address, login strength and the factors
    /// shown, device, OIDC clients.
    List {
        /// Only this person's sessions (user name or subject).
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// One session in full: its person, times, source and device, login strength, the factors
    /// shown (in order) and when the last one was, OIDC clients.
    Show {
        /// The session id, as `sessions list` shows it.
        sid: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// End one session (by its 16-character id) or every session of a person. Asks first; every
    /// gateway refuses the session within 1 s.
    #[command(
        after_help = "Examples:\n  pforte-admin sessions revoke 0123456789abcdef\n  \
pforte-admin sessions revoke --user bob --yes"
    )]
    Revoke {
        /// The session id, as `sessions list` shows it.
        #[arg(required_unless_present = "user", conflicts_with = "user")]
        sid: Option<String>,
        /// Every session of this person (user name or subject).
        #[arg(long)]
        user: Option<String>,
    },
}

/// `pforte-admin clients ...`
#[derive(Subcommand)]
pub enum ClientsCommand {
    /// The registered clients: id, app, type (public or confidential), redirect URIs, scopes.
    List {
        #[command(flatten)]
        json: JsonArg,
    },
    /// One client: everything but its secret hash (never shown).
    Show {
        /// The client id.
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Register a client of an app. A confidential client (the default) gets a new random
    /// secret, printed once; the file keeps only its argon2id hash. Validated as the gateway
    /// loads it before the file is written.
    #[command(
        after_help = "Examples:\n  pforte-admin clients add nextcloud --app docs \
--redirect-uri https://cloud.example.org/apps/user_oidc/code --scope openid,profile,email,groups\n  \
pforte-admin clients add cli --app files --public --redirect-uri http://127.0.0.1:8765/callback"
    )]
    Add(AddClientArgs),
    /// Give a confidential client a new secret, printed once; the old one stops working when
    /// the gateways reload. Asks first.
    RotateSecret {
        /// The client id.
        id: String,
    },
    /// Remove a client: its app can no longer log people in. Asks first.
    Remove {
        /// The client id.
        id: String,
    },
}

/// `pforte-admin idps ...`: the upstream providers partners log in with (docs/federation.md).
#[derive(Subcommand)]
pub enum IdpsCommand {
    /// The providers: id, name, issuer, mode (guest or link) and the e-mail domains they serve.
    List {
        #[command(flatten)]
        json: JsonArg,
    },
    /// One provider in full, but for its client secret.
    ///
    /// Its client, where the client secret comes from and whether it can be read (never the
    /// secret), scopes, the guest rules or the link rule, logout, and the URIs to register at
    /// the provider.
    #[command(after_help = "Example:\n  pforte-admin idps show partner")]
    Show {
        /// The provider's id, as in idps.toml.
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Fetch each provider's discovery document and keys now, and name every problem.
    ///
    /// Errors: unreachable, wrong issuer, insecure endpoints, no PKCE S256, no usable client
    /// authentication, no accepted signing key, an unreadable client secret. Warnings (the
    /// provider still passes): no RFC 9207 `iss`, no end_session_endpoint, no back-channel
    /// logout.
    ///
    /// Exit code 0: every provider tested passes (warnings allowed); 1: one fails.
    #[command(after_help = "Examples:\n  pforte-admin idps test\n  \
pforte-admin idps test partner --json")]
    Test {
        /// The provider's id (default: every provider).
        id: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
}

/// What `clients add` registers.
#[derive(Args)]
pub struct AddClientArgs {
    /// The client id, as the app's OpenID Connect settings name it.
    pub id: String,
    /// The app in the apps file whose access rules decide who may get tokens.
    #[arg(long)]
    pub app: String,
    /// An exact redirect URI (repeat for more): https, or http on 127.0.0.1, [::1] or localhost.
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    /// An exact URI that logout may send people back to (repeat for more).
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes the client may ask for: openid, profile, email, groups, offline_access.
    #[arg(
        long = "scope",
        value_name = "SCOPE",
        value_delimiter = ',',
        default_values = ["openid", "profile", "email"]
    )]
    pub scopes: Vec<String>,
    /// The grants the client may use: authorization_code (the default), refresh_token,
    /// client_credentials, device_code (devices without a browser, RFC 8628), token_exchange
    /// (RFC 8693, with --exchange-audience).
    #[arg(long = "grant-type", value_name = "GRANT", value_delimiter = ',')]
    pub grant_types: Vec<String>,
    /// A browser or native app that cannot keep a secret: no secret, PKCE (S256) required.
    #[arg(long, conflicts_with = "jwks_uri")]
    pub public: bool,
    /// A server app that signs its requests with its own key (private_key_jwt, RFC 7523) and
    /// publishes the public keys at this https URL: no secret is made.
    #[arg(long, value_name = "URL")]
    pub jwks_uri: Option<String>,
    /// A client it may exchange a person's token for (with --grant-type token_exchange, RFC
    /// 8693; repeat for more).
    #[arg(long = "exchange-audience", value_name = "CLIENT")]
    pub exchange_audiences: Vec<String>,
    /// Its authorization requests must be pushed first (RFC 9126).
    #[arg(long)]
    pub require_par: bool,
    /// Where logout tokens are posted when a session ends (https).
    #[arg(long, value_name = "URI")]
    pub backchannel_logout_uri: Option<String>,
    /// Give this client pairwise subjects, so apps cannot correlate people by `sub`.
    #[arg(long)]
    pub pairwise: bool,
}

/// `pforte-admin users ...`
#[derive(Subcommand)]
pub enum UsersCommand {
    /// The enabled people of the directory, with their groups.
    List {
        /// Only members of this group (nested membership counts).
        #[arg(long)]
        group: Option<String>,
        /// Only people whose user name, name or mail contains this text (any case).
        #[arg(long)]
        filter: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// One person: name, mail, groups (nested included), brute-force lock, active sessions,
    /// and when their identity was last read from the directory.
    Show {
        /// The user name.
        user: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Lift the brute-force lock (and delay) on an account, so its owner can log in again.
    Unlock {
        /// The user name.
        user: String,
    },
    /// Add a person, optionally into groups (each must exist). Without --password-stdin nobody
    /// can log in until `users set-password`.
    #[command(
        after_help = "Examples:\n  pforte-admin users add frank --name \"Frank Zappa\" \
--mail frank@example.org --group staff\n  \
printf '%s\\n' \"$PASSWORD\" | pforte-admin users add frank --name \"Frank Zappa\" --password-stdin"
    )]
    Add {
        /// The user name (login name).
        user: String,
        /// The full name, shown on the portal.
        #[arg(long)]
        name: String,
        /// The mail address.
        #[arg(long)]
        mail: Option<String>,
        /// A group to put them in (repeat for more).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Set a person's password: asked twice without echo, or read from standard input. LDAP
    /// servers hash it themselves; a people file stores an argon2id hash.
    #[command(after_help = "Example:\n  pforte-admin users set-password frank")]
    SetPassword {
        /// The user name.
        user: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Disable an account: the gateway refuses its logins, and its sessions end at once on every
    /// gateway (Redis, or the memory store through the running gateway's admin listener), their
    /// OpenID Connect clients told by back-channel logout.
    Disable {
        /// The user name.
        user: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The user name.
        user: String,
    },
    /// Delete a person with their group memberships, and end their sessions. Asks first.
    #[command(after_help = "Example:\n  pforte-admin users delete frank --yes")]
    Delete {
        /// The user name.
        user: String,
    },
    /// Second factors (TOTP, passkeys, recovery codes): who has which, and a reset for a person
    /// who lost their device.
    #[command(subcommand)]
    Mfa(MfaCommand),
}

/// `pforte-admin users mfa ...`
#[derive(Subcommand)]
pub enum MfaCommand {
    /// The enabled people with second factors and how many of each kind (never the values).
    List {
        /// Also list the people without any second factor.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Remove every second factor of a person: until they enrol again they log in with their
    /// password alone (and are led to enrol where a rule asks for a second factor). Asks first.
    #[command(after_help = "Example:\n  pforte-admin users mfa reset carol --yes")]
    Reset {
        /// The user name.
        user: String,
    },
}

/// How a new password is given.
#[derive(Args)]
pub struct PasswordArg {
    /// Read the password from the first line of standard input (for scripts).
    #[arg(long)]
    pub password_stdin: bool,
}

/// `pforte-admin groups ...`
#[derive(Subcommand)]
pub enum GroupsCommand {
    /// Every group with its direct members (users, and nested groups marked with `@`).
    List {
        #[command(flatten)]
        json: JsonArg,
    },
    /// One group: its direct members, then the people in it through nested groups, each marked
    /// with the group they come through.
    #[command(after_help = "Example:\n  pforte-admin groups show staff")]
    Show {
        /// The group name.
        group: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Add an empty group.
    Add {
        /// The group name, as policies will name it.
        group: String,
    },
    /// Put a person into a group.
    #[command(after_help = "Example:\n  pforte-admin groups add-member staff frank")]
    AddMember {
        /// The group name.
        group: String,
        /// The user name.
        user: String,
    },
    /// Take a person out of a group.
    RemoveMember {
        /// The group name.
        group: String,
        /// The user name.
        user: String,
    },
}

/// `pforte-admin audit ...`: the hash-chained audit log (docs/audit.md).
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that audit log files are whole: their hash chains and signed checkpoints.
    ///
    /// Every replica's chain is followed across rotated files and several replicas' files,
    /// given in any order. Without --json: a summary per replica chain, the notices, and the
    /// first break with file:line, its kind and why.
    ///
    /// Exit code 0: intact; 1: a break was found (the first one is shown with file:line);
    /// 2: a file or the key folder cannot be read.
    #[command(
        after_help = "Examples:\n  pforte-admin audit verify /var/log/pforte/audit.jsonl* \
--keys /mnt/offline/audit-keys\n  \
pforte-admin audit verify audit-a.jsonl audit-b.jsonl --checkpoints siem-export.log --json\n\n\
Verify with a copy of the public keys (`<kid>.pub`) kept off the gateway host: someone who \
can rewrite the log on the host could also replace the keys there."
    )]
    Verify {
        /// The audit log files (several replicas', rotated ones; any order).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// A file of checkpoint lines kept elsewhere (a SIEM or syslog copy: the JSON starts at
        /// the first `{` of a line), to catch a log cut short after its last checkpoint
        /// (repeat for more).
        #[arg(long = "checkpoints", value_name = "FILE")]
        checkpoints: Vec<PathBuf>,
        /// The folder of the audit public keys (`<kid>.pub`; default: the config's
        /// `[audit] key_dir`).
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Show audit events, filtered by person, app, kind of event and time.
    ///
    /// One line each (time, replica, event, person, app or client, source, the rest), or with
    /// --json the matching lines unchanged. A line that is not JSON is named with file:line on
    /// standard error and skipped (the exit code stays 0: `audit verify` is the check).
    #[command(
        after_help = "Examples:\n  pforte-admin audit show --person alice --since 7d\n  \
pforte-admin audit show --kind 'oidc_*' --since 2026-12-01T00:00:00Z --until 2026-12-02T00:00:00Z\n  \
pforte-admin audit show old.jsonl --kind login_failure --json | jq .username"
    )]
    Show {
        /// The audit log files, merged into one timeline (rotated files, several replicas';
        /// default: the config's `log.audit_file`).
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Only events about or by this person: `subject`, `username`, `user` or `by` (any
        /// case); events naming only the subject their logins in these files show count too.
        #[arg(long, value_name = "NAME")]
        person: Option<String>,
        /// Only events of this app or OpenID Connect client (`app` or `client`).
        #[arg(long, value_name = "APP")]
        app: Option<String>,
        /// Only this kind of event (`login_failure`), or kinds starting with a prefix (`oidc_*`).
        #[arg(long, value_name = "EVENT")]
        kind: Option<String>,
        /// Only events at or after TIME: RFC 3339 (`2026-12-07T10:00:00Z`, `2026-12-07`) or a
        /// time back from now (`2h`, `7d`).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only events before TIME (same forms as --since).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("pforte-admin").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn diff_takes_the_policy_in_force_before_the_new_one_or_from_the_config() {
        let Command::Policy(PolicyCommand::Diff { old, new, .. }) =
            parse(&["policy", "diff", "/etc/pforte/policies", "./policies"]).command
        else {
            panic!("not diff")
        };
        assert_eq!(old, Some(PathBuf::from("/etc/pforte/policies")));
        assert_eq!(new, PathBuf::from("./policies"));
        let Command::Policy(PolicyCommand::Diff { old, new, .. }) =
            parse(&["policy", "diff", "./policies"]).command
        else {
            panic!("not diff")
        };
        assert_eq!((old, new), (None, PathBuf::from("./policies")));
    }

    #[test]
    fn explain_tells_no_groups_from_groups_left_to_the_directory() {
        let groups = |args: &[&str]| match parse(args).command {
            Command::Policy(PolicyCommand::Explain { groups, .. }) => groups,
            _ => panic!("not explain"),
        };
        let url = "https://mail.example.org/";
        assert_eq!(groups(&["policy", "explain", "--user", "bob", url]), None);
        assert_eq!(
            groups(&["policy", "explain", "--user", "bob", "--groups", "", url]),
            Some(vec![String::new()])
        );
        assert_eq!(
            groups(&["policy", "explain", "--groups", "staff,it", url]),
            Some(vec!["staff".to_string(), "it".to_string()])
        );
    }

    #[test]
    fn verify_takes_many_files_and_checkpoint_files() {
        let Command::Audit(AuditCommand::Verify {
            files,
            checkpoints,
            keys,
            ..
        }) = parse(&[
            "audit",
            "verify",
            "a.jsonl",
            "--checkpoints",
            "siem.log",
            "b.jsonl",
            "--keys",
            "/k",
            "--checkpoints",
            "c.log",
        ])
        .command
        else {
            panic!("not verify")
        };
        assert_eq!(files, [PathBuf::from("a.jsonl"), PathBuf::from("b.jsonl")]);
        assert_eq!(
            checkpoints,
            [PathBuf::from("siem.log"), PathBuf::from("c.log")]
        );
        assert_eq!(keys, Some(PathBuf::from("/k")));
        let none = Cli::try_parse_from(["pforte-admin", "audit", "verify"]);
        assert!(none.is_err(), "verify needs a file");
        let Command::Audit(AuditCommand::Show { files, kind, .. }) =
            parse(&["audit", "show", "--kind", "oidc_*"]).command
        else {
            panic!("not show")
        };
        assert!(files.is_empty(), "the config's audit file");
        assert_eq!(kind.as_deref(), Some("oidc_*"));
    }

    #[test]
    fn the_key_folder_goes_before_or_after_the_command() {
        for args in [
            ["keys", "--dir", "/k", "list"],
            ["keys", "list", "--dir", "/k"],
        ] {
            let Command::Keys(keys) = parse(&args).command else {
                panic!("not keys")
            };
            assert_eq!(keys.dir, Some(PathBuf::from("/k")));
        }
    }
}

/// `pforte-admin mfa ...`
#[derive(Debug, Subcommand)]
pub enum MfaKeyCommand {
    /// Print a new random key (32 bytes, base64) for `[mfa] key`. Every replica needs the same
    /// key; keep it beside the gateway's other secrets, never in the directory.
    #[command(
        after_help = "Example:\n  (umask 077; pforte-admin mfa generate-key > /etc/pforte/secrets/mfa.key)"
    )]
    GenerateKey,
}
