//! `idps test [ID]`: every provider (or one) fetched now, all at once, through one
//! [`Upstreams`] built as the gateway builds it (the crypto provider of Pforte's TLS clients,
//! the system's roots and `federation.ca_file`), then judged one by one. Exit 0 when every
//! provider tested passes (warnings allowed), 1 when one fails.

use std::fmt::Write as _;
use std::sync::Arc;

use pforte::config::Federation;
use pforte::crypto;
use pforte::federation::upstream::Upstreams;
use pforte_federation::{Provider, Providers};
use tokio::task::JoinSet;

use super::IdpsCmdError;
use super::fetch::{self, Discovery, Fetched, KeySet};
use super::judge::{self, Verdict};
use super::secret;
use crate::error::{CmdError, Exit};

/// Tests the provider `id`, or every provider, at `now`.
pub async fn run(
    federation: &Federation,
    providers: &Providers,
    id: Option<&str>,
    now: u64,
    json: bool,
) -> Result<Exit, CmdError> {
    let chosen: Vec<Provider> = match id {
        Some(id) => vec![
            providers
                .get(id)
                .cloned()
                .ok_or_else(|| IdpsCmdError::UnknownProvider(id.to_owned()))?,
        ],
        None => providers.iter().cloned().collect(),
    };
    let upstreams = Upstreams::new(&crypto::client_provider(), federation.ca_file.as_deref())
        .map_err(IdpsCmdError::from)?;
    let fetched = fetch_all(Arc::new(upstreams), &chosen, now).await;
    let verdicts: Vec<Verdict> = chosen
        .iter()
        .zip(&fetched)
        .map(|(provider, fetched)| {
            judge::judge(provider, fetched, &secret::inspect(&provider.secret))
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&verdicts)?);
    } else if verdicts.is_empty() {
        println!("no providers in {}", federation.providers_file.display());
    } else {
        print!("{}", render(&verdicts));
    }
    Ok(if verdicts.iter().all(|v| v.passed) {
        Exit::OK
    } else {
        Exit::NO
    })
}

/// Fetches every provider's documents concurrently (each within the gateway's timeouts), in
/// the order of `providers`.
async fn fetch_all(upstreams: Arc<Upstreams>, providers: &[Provider], now: u64) -> Vec<Fetched> {
    let mut tasks = JoinSet::new();
    for (i, provider) in providers.iter().enumerate() {
        let (upstreams, issuer) = (upstreams.clone(), provider.issuer.clone());
        tasks.spawn(async move { (i, fetch::probe(&upstreams, &issuer, now).await) });
    }
    let mut fetched: Vec<Option<Fetched>> = providers.iter().map(|_| None).collect();
    while let Some(done) = tasks.join_next().await {
        if let Ok((i, result)) = done
            && let Some(slot) = fetched.get_mut(i)
        {
            *slot = Some(result);
        }
    }
    fetched
        .into_iter()
        .map(|f| {
            f.unwrap_or(Fetched {
                discovery: Discovery::Unreachable("the check stopped before an answer".into()),
                keys: KeySet::NotFetched,
            })
        })
        .collect()
}

/// The verdicts for people: a line per provider, its errors and warnings below it, a total.
fn render(verdicts: &[Verdict]) -> String {
    let mut out = String::new();
    for v in verdicts {
        let outcome = if v.passed { "passed" } else { "FAILED" };
        let _ = write!(out, "{} ({}): {outcome}", v.id, v.issuer);
        if !v.signing_keys.is_empty() {
            let _ = write!(out, "; signing keys {}", v.signing_keys.join(","));
        }
        out.push('\n');
        for e in &v.errors {
            let _ = writeln!(out, "  error: {} [{}]", e.message, e.problem);
        }
        for w in &v.warnings {
            let _ = writeln!(out, "  warning: {} [{}]", w.message, w.problem);
        }
    }
    let passed = verdicts.iter().filter(|v| v.passed).count();
    let _ = writeln!(out, "{passed} of {} provider(s) passed", verdicts.len());
    out
}

#[cfg(test)]
mod tests {
    use super::judge::Finding;
    use super::*;

    #[test]
    fn each_provider_reads_as_a_line_with_its_findings_below() {
        let verdicts = [
            Verdict {
                id: "partner".into(),
                issuer: "https://idp.partner.example".into(),
                passed: true,
                errors: vec![],
                warnings: vec![Finding {
                    problem: "no_backchannel_logout",
                    message: "no back-channel logout".into(),
                }],
                signing_keys: vec!["k1".into()],
            },
            Verdict {
                id: "down".into(),
                issuer: "https://idp.down.example".into(),
                passed: false,
                errors: vec![Finding {
                    problem: "unreachable",
                    message: "discovery document: no answer".into(),
                }],
                warnings: vec![],
                signing_keys: vec![],
            },
        ];
        assert_eq!(
            render(&verdicts),
            "partner (https://idp.partner.example): passed; signing keys k1\n  \
             warning: no back-channel logout [no_backchannel_logout]\n\
             down (https://idp.down.example): FAILED\n  \
             error: discovery document: no answer [unreachable]\n\
             1 of 2 provider(s) passed\n"
        );
    }
}
