//! People for `tests/bench/mfa.sh`: a people file with COUNT people (`user0` ... ), all with the
//! password `benchpw`, each with an authenticator app sealed with the gateway's MFA key, and a
//! list of their TOTP keys for the load generator, which plays their authenticator apps.
//!
//! `cargo run --release -p pforte-factors --example bench_people -- KEY_HEX COUNT OUT_DIR [M_KIB T]`
//!
//! writes `OUT_DIR/people.toml` and `OUT_DIR/secrets.txt` (`username base32-key` per line). The
//! password hash is argon2id with `M_KIB` KiB and `T` passes (default: 19456 and 2, the demo's
//! and OWASP's); everyone shares one hash, made once (the gateway verifies it per login).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use pforte_factors::seal::{Purpose, Sealer};
use pforte_factors::totp::StoredTotp;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [key, count, out, rest @ ..] = args.as_slice() else {
        eprintln!("usage: bench_people KEY_HEX COUNT OUT_DIR [M_KIB T]");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("COUNT is a number");
    let (m_kib, passes) = match rest {
        [m, t] => (m.parse().expect("M_KIB"), t.parse().expect("T")),
        _ => (19_456, 2),
    };
    let sealer = Sealer::new(key).expect("a 32-byte key in hex");
    let params = Params::new(m_kib, passes, 1, None).expect("argon2 parameters");
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(b"benchpw")
        .expect("argon2")
        .to_string();
    // A tool outside the gateway: the enrolment date is only shown on the security page.
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();

    let mut people = String::from("[[group]]\nname = \"staff\"\n");
    let mut secrets = String::new();
    for i in 0..count {
        let (username, subject) = (format!("user{i}"), format!("bench-{i}"));
        let totp = StoredTotp::generate("bench", now).unwrap();
        let sealed = sealer
            .seal(Purpose::Totp, &subject, &serde_json::to_vec(&totp).unwrap())
            .unwrap();
        write!(
            people,
            "\n[[user]]\nusername = \"{username}\"\nid = \"{subject}\"\nname = \"Bench {i}\"\n\
             password = \"{hash}\"\ngroups = [\"staff\"]\ntotp = [\"{sealed}\"]\n"
        )
        .unwrap();
        writeln!(secrets, "{username} {}", totp.secret).unwrap();
    }
    let out = std::path::Path::new(out);
    std::fs::write(out.join("people.toml"), people).unwrap();
    std::fs::write(out.join("secrets.txt"), secrets).unwrap();
}
