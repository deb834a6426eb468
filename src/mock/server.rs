//! The mock's own HTTP server, for `serve` and the embedded mock: the responder's answers over
//! hyper, served as wiremock serves them, keeping nothing of the requests it answers
//! (wiremock keeps every request a mock matched, recording on or off: a long-running server
//! would grow with every request).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::watch;

use super::responder::Responder;

/// A running server; it stops when this is dropped.
pub(super) struct OwnServer {
    address: SocketAddr,
    /// Dropped with the server: the accept loop and every connection end.
    _shutdown: watch::Sender<()>,
}

impl OwnServer {
    /// Serves `responder` on `listener` (or a free port of 127.0.0.1), on a thread of its own
    /// with a runtime of its own, as wiremock does.
    pub(super) fn start(listener: Option<std::net::TcpListener>, responder: Responder) -> Self {
        let listener = listener.unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .expect("Failed to bind an OS port for a mock server.")
        });
        let address = listener
            .local_addr()
            .expect("Failed to get server address.");
        let (shutdown, stop) = watch::channel(());
        let responder = Arc::new(responder);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("Cannot build local tokio runtime");
            runtime.block_on(run(listener, responder, stop));
        });
        OwnServer {
            address,
            _shutdown: shutdown,
        }
    }

    /// `http://127.0.0.1:PORT`, as wiremock's `MockServer::uri`.
    pub(super) fn uri(&self) -> String {
        format!("http://{}", self.address)
    }
}

/// Accepts connections until `stop` says so, each served on a task of its own.
async fn run(
    listener: std::net::TcpListener,
    responder: Arc<Responder>,
    mut stop: watch::Receiver<()>,
) {
    listener
        .set_nonblocking(true)
        .expect("Cannot set non-blocking mode on TcpListener");
    let listener = tokio::net::TcpListener::from_std(listener).expect("Cannot upgrade TcpListener");
    loop {
        let stream = tokio::select! { biased;
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        let responder = Arc::clone(&responder);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let responder = Arc::clone(&responder);
                async move { Ok::<_, Infallible>(answer(&responder, request).await) }
            });
            let server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let connection = server.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(connection);
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    _ = stop.changed() => connection.as_mut().graceful_shutdown(),
                }
            }
        });
    }
}

/// The responder's answer to `request`, after the delay it asks for.
async fn answer(
    responder: &Responder,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let request = wiremock_request(request).await;
    let answer = responder.reply(&request);
    if let Some(delay) = answer.delay() {
        tokio::time::sleep(delay).await;
    }
    let response = answer.into_response();
    if responder.config.log_requests {
        eprintln!(
            "{}",
            request_line(&request, response.status().as_u16(), &responder.config.key)
        );
    }
    response
}

/// Headers whose values are credentials: never printed, only whether they hold the key.
const CREDENTIAL_HEADERS: [&str; 6] = [
    "authorization",
    "x-api-key",
    "api-key",
    "proxy-authorization",
    "cookie",
    "x-goog-api-key",
];

/// One line on a request, for `serve --log-requests`: `GET /v1/batches?limit=7 -> 200;
/// headers: accept: */*, authorization: Bearer *** (the served key), …`. A credential
/// header's value is masked whatever it is, and says whether it is the served key; the served
/// key is masked wherever else it appears.
pub(super) fn request_line(request: &wiremock::Request, status: u16, key: &str) -> String {
    let mut target = request.url.path().to_owned();
    if let Some(query) = request.url.query() {
        target.push('?');
        target.push_str(query);
    }
    let headers: Vec<String> = request
        .headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let value = String::from_utf8_lossy(value.as_bytes());
            if !CREDENTIAL_HEADERS.contains(&name) {
                return format!("{name}: {value}");
            }
            let (scheme, secret) = match value.split_once(' ') {
                Some((scheme, secret)) if name.ends_with("authorization") => {
                    (format!("{scheme} "), secret)
                }
                _ => (String::new(), value.as_ref()),
            };
            let which = if secret == key {
                "the served key"
            } else if secret.is_empty() {
                "empty"
            } else {
                "not the served key"
            };
            format!("{name}: {scheme}*** ({which})")
        })
        .collect();
    let line = format!(
        "serve: {} {target} -> {status}; headers: {}",
        request.method,
        headers.join(", ")
    );
    crate::redact::Redactor::new([crate::redact::Secret::new(key)]).redact(&line)
}

/// `request` as the responder reads it: wiremock's `Request`, made as wiremock makes it.
async fn wiremock_request(request: hyper::Request<Incoming>) -> wiremock::Request {
    let (parts, body) = request.into_parts();
    let url = match parts.uri.authority() {
        Some(_) => parts.uri.to_string(),
        None => format!("http://localhost{}", parts.uri),
    }
    .parse()
    .expect("a request URL");
    // A body that cannot be read is answered as an empty one (the mock reads none).
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    wiremock::Request {
        url,
        method: parts.method,
        headers: parts.headers,
        body,
    }
}
