//! The target of a run: the live endpoint (checked to be reachable first), the embedded
//! reference mock (one per contract), or a recording; the HTTP client and the runtime that
//! reach it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::error::{Cause, HarnessError};
use crate::case::Case;
use crate::http::{HttpClient, Target};
use crate::mock::{DEFAULT_KEY, Fault, MockConfig, ReferenceMock, load_examples};
use crate::record::{Recorder, RunInfo, SuiteTarget};
use crate::redact::Secret;
use crate::replay::Replayer;
use crate::settings::{Settings, env};

/// What a run's requests go to, and what sends them.
pub struct Connected {
    pub runtime: tokio::runtime::Runtime,
    pub http: HttpClient,
    /// One target per contract file.
    pub targets: BTreeMap<PathBuf, Target>,
    /// The run's recording (`CONTRACT_RECORD`) and what it targeted.
    pub recorder: Option<(Arc<Recorder>, RunInfo)>,
    /// The recording a replay answers from (`CONTRACT_REPLAY`).
    pub replayer: Option<Arc<Replayer>>,
    /// Kept alive for the run: dropping them stops the servers.
    pub mocks: Vec<ReferenceMock>,
}

impl Connected {
    /// The base URLs the run sends to, each once, in contract order: suites that share an
    /// endpoint name it once.
    pub fn base_urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = Vec::new();
        for url in self.targets.values().map(|t| t.base.to_string()) {
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
        urls
    }
}

impl Connected {
    /// The size of each listing the run reads, where it is known: the embedded mock's
    /// dataset, by contract file.
    pub fn known_sizes(&self) -> BTreeMap<PathBuf, u64> {
        self.targets
            .iter()
            .filter_map(|(path, target)| {
                let mock = self.mocks.iter().find(|m| m.base_url() == target.base)?;
                Some((path.clone(), mock.config().items as u64))
            })
            .collect()
    }
}

/// Reads the recording a replay answers from, and takes from it how the recorded run sent
/// its credential (`--auth`), unless this run says otherwise.
pub fn load_replay(
    mut settings: Settings,
) -> Result<(Settings, Option<Arc<Replayer>>), HarnessError> {
    let Some(path) = settings.replay.clone() else {
        return Ok((settings, None));
    };
    let replayer =
        Replayer::load(&path, settings.redactor_with_key()).map_err(|e| HarnessError::Replay {
            from: settings.source(env::REPLAY),
            source: Cause(e),
        })?;
    let info = replayer.info();
    if settings.auth.is_none() && !settings.no_auth {
        settings.no_auth = info.no_auth;
        settings.auth = info.auth.as_deref().and_then(|a| a.parse().ok());
    }
    Ok((settings, Some(Arc::new(replayer))))
}

/// Builds the runtime and client, and starts a reference mock per contract when no live
/// endpoint is configured.
pub fn connect(
    settings: &Settings,
    cases: &[Case],
    replayer: Option<Arc<Replayer>>,
) -> Result<Connected, Vec<HarnessError>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| vec![HarnessError::Runtime(e)])?;
    // A replay builds no HTTP client at all: nothing can reach the network.
    let mut http = match &replayer {
        Some(replayer) => {
            HttpClient::replaying(Arc::clone(replayer), settings.client.max_body_bytes)
        }
        None => HttpClient::new(&settings.client_for_run()).map_err(|e| vec![e.into()])?,
    };
    let recorder = settings
        .record
        .as_ref()
        .map(|_| Arc::new(Recorder::new(settings.redactor_with_key())));
    if let Some(recorder) = &recorder {
        http = http.recording(Arc::clone(recorder));
    }

    let mut contracts = BTreeMap::new();
    for case in cases {
        contracts
            .entry(case.contract_path.clone())
            .or_insert_with(|| Arc::clone(&case.contract));
    }
    let mut targets = BTreeMap::new();
    let mut mocks = Vec::new();
    let headers = settings.request_headers();
    let target = |base: Url, key: &Secret, auth| Target {
        no_auth: settings.no_auth,
        headers: headers.clone(),
        ..Target::new(base, key.clone(), auth)
    };
    let base_url_for = base_urls_for(settings, &contracts)?;
    match (&replayer, &settings.base_url) {
        (Some(replayer), _) => {
            // The recorded targets, so request lines read as they did in the recorded run.
            let key = settings.key_sent();
            for (path, contract) in contracts {
                let auth = settings.auth.unwrap_or(contract.auth);
                let base = replayer.base_for(&suite_of(&path)).ok_or_else(|| {
                    vec![HarnessError::ReplayNoTarget {
                        from: settings.source(env::REPLAY),
                        path: replayer.path().to_owned(),
                        record: env::RECORD,
                    }]
                })?;
                targets.insert(path, target(base, &key, auth));
            }
        }
        (None, Some(base)) => {
            let key = match (&settings.api_key, settings.no_auth) {
                (_, true) => Secret::new(""),
                (Some(key), false) => key.clone(),
                (None, false) => {
                    return Err(vec![HarnessError::NoKey {
                        from: settings.source(env::BASE_URL),
                        key: env::API_KEY,
                        base: base.to_string(),
                        no_auth_hint: settings.no_auth_hint(),
                    }]);
                }
            };
            runtime
                .block_on(preflight(
                    base,
                    settings.source(env::BASE_URL),
                    settings.client.connect_timeout,
                ))
                .map_err(|e| vec![e])?;
            for own in base_url_for.values() {
                runtime
                    .block_on(preflight(
                        own,
                        settings.source(env::BASE_URL_FOR),
                        settings.client.connect_timeout,
                    ))
                    .map_err(|e| vec![e])?;
            }
            for (path, contract) in contracts {
                let auth = settings.auth.unwrap_or(contract.auth);
                let base = base_url_for.get(&suite_of(&path)).unwrap_or(base);
                targets.insert(path, target(base.clone(), &key, auth));
            }
        }
        (None, None) => {
            let key = settings
                .api_key
                .clone()
                .unwrap_or_else(|| Secret::new(DEFAULT_KEY));
            for (path, contract) in contracts {
                let auth = settings.auth.unwrap_or(contract.auth);
                let mut config = MockConfig::for_contract(&contract)
                    .key(key.expose())
                    .auth(auth);
                if let Some(examples) =
                    load_examples(&path, &contract).map_err(|e| vec![HarnessError::Examples(e)])?
                {
                    config = config.examples(examples);
                }
                if settings.no_auth {
                    // The mock as a server without auth: it answers whatever credential comes.
                    config = config.fault(Fault::AuthNotChecked);
                }
                let mock = runtime.block_on(ReferenceMock::start_embedded(config));
                targets.insert(path, target(mock.base_url(), &key, auth));
                mocks.push(mock);
            }
        }
    }
    let recorder = recorder.map(|recorder| {
        let info = RunInfo {
            targets: targets
                .iter()
                .map(|(path, target)| SuiteTarget {
                    suite: suite_of(path),
                    base: target.base.to_string(),
                })
                .collect(),
            reference_mock: settings.base_url.is_none(),
            auth: settings.auth.map(|a| a.to_string()),
            no_auth: settings.no_auth,
        };
        (recorder, info)
    });
    Ok(Connected {
        runtime,
        http,
        targets,
        recorder,
        replayer,
        mocks,
    })
}

/// The per-suite base URLs (`--base-url-for SUITE=URL`) of the run's suites. A suite that is
/// none of the cases folder's is an error naming the setting; one the run did not select is
/// left alone (a CI variable may list every suite while a run picks one). They need a base
/// URL for the other suites, and are ignored by a replay, like the base URL.
fn base_urls_for(
    settings: &Settings,
    contracts: &BTreeMap<std::path::PathBuf, Arc<crate::contract::Contract>>,
) -> Result<BTreeMap<String, Url>, Vec<HarnessError>> {
    let from = settings.source(env::BASE_URL_FOR);
    let invalid = |reason: String| {
        vec![HarnessError::Setting(
            crate::settings::SettingError::Invalid { from, reason },
        )]
    };
    if settings.base_url_for.is_empty() || settings.replay.is_some() {
        return Ok(BTreeMap::new());
    }
    if settings.base_url.is_none() {
        return Err(invalid(format!(
            "per-suite base URLs need a base URL for the others too: set {} (or --base-url)",
            env::BASE_URL
        )));
    }
    let run: Vec<String> = contracts.keys().map(|p| suite_of(p)).collect();
    let mut out = BTreeMap::new();
    for (suite, url) in &settings.base_url_for {
        let exists = run.contains(suite) || crate::files::is_dir(&settings.cases_dir.join(suite));
        if !exists {
            return Err(invalid(format!(
                "`{suite}` is not a suite of {} (its suites: {}); write SUITE=URL with a suite's \
                 folder name",
                settings.cases_dir.display(),
                run.join(", ")
            )));
        }
        out.insert(suite.clone(), url.clone());
    }
    Ok(out)
}

/// A suite's name: its contract's folder.
fn suite_of(contract_path: &Path) -> String {
    contract_path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Fails fast, once, when the live endpoint cannot even be connected to, instead of failing
/// every case with the same transport error. Skipped behind a proxy, where the proxy connects.
async fn preflight(
    base: &Url,
    source: &'static str,
    connect_timeout: Duration,
) -> Result<(), HarnessError> {
    let proxied = [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    if proxied {
        return Ok(());
    }
    let (Some(host), Some(port)) = (base.host_str(), base.port_or_known_default()) else {
        return Err(HarnessError::NoHost {
            from: source,
            url: base.to_string(),
        });
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let connect = tokio::net::TcpStream::connect((host, port));
    let unreachable = |source_error| HarnessError::Unreachable {
        from: source,
        url: base.to_string(),
        source: source_error,
    };
    // A listener that never accepts (its queue full, or packets dropped) is found here,
    // within the connect timeout, before any case runs.
    match tokio::time::timeout(connect_timeout, connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e)),
        Err(_) => Err(unreachable(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "no connection within {} s",
                crate::exchange::seconds(connect_timeout)
            ),
        ))),
    }
}

/// The line that opens a run: what it checks, with which headers and credential.
pub fn describe(settings: &Settings, connected: &Connected) -> String {
    let urls = connected.base_urls();
    let mut text = match (&connected.replayer, &settings.base_url) {
        (Some(replayer), base) => format!(
            "list-contract: checking a {}; no request is sent{}",
            replayer.describe(),
            if base.is_some() {
                format!(" ({} is ignored)", settings.source(env::BASE_URL))
            } else {
                String::new()
            }
        ),
        (None, Some(_)) => format!("list-contract: checking {}", urls.join(", ")),
        (None, None) => format!(
            "list-contract: {} is not set; checking the embedded reference mock at {}",
            env::BASE_URL,
            urls.join(", ")
        ),
    };
    if !settings.headers.is_empty() {
        let names: Vec<&str> = settings.headers.iter().map(|(n, _)| n.as_str()).collect();
        text.push_str(&format!(
            "; with header(s) {} on every request",
            names.join(", ")
        ));
    }
    if settings.no_auth {
        text.push_str(&format!(
            "; no credential sent ({}): auth is not checked",
            settings.no_auth_source()
        ));
    }
    text
}
