//! An answer of the mock as plain data (status, headers, content type, body, delay), built as
//! wiremock's `ResponseTemplate` is, and handed to wiremock or to the mock's own server alike.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use serde::Serialize;
use wiremock::ResponseTemplate;

/// What the mock answers to one request. Its builder methods are `ResponseTemplate`'s, with
/// the same meaning: `set_body_json` sets `application/json`, `set_body_string` `text/plain`,
/// `set_body_raw` the type given, `set_body_bytes` none; the type, when set, is sent as
/// `Content-Type` over any header of that name.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    mime: String,
    body: Vec<u8>,
    delay: Option<Duration>,
}

impl Answer {
    pub(super) fn new(status: u16) -> Self {
        Answer {
            status: StatusCode::from_u16(status).expect("a valid status"),
            headers: HeaderMap::new(),
            mime: String::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    pub(super) fn insert_header(mut self, name: &'static str, value: &str) -> Self {
        let value = HeaderValue::from_str(value).expect("a valid header value");
        self.headers.insert(HeaderName::from_static(name), value);
        self
    }

    pub(super) fn set_body_bytes(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub(super) fn set_body_json(mut self, body: impl Serialize) -> Self {
        self.body = serde_json::to_vec(&body).expect("a JSON value serializes");
        self.mime = "application/json".to_owned();
        self
    }

    pub(super) fn set_body_string(mut self, body: impl Into<String>) -> Self {
        self.body = body.into().into_bytes();
        self.mime = "text/plain".to_owned();
        self
    }

    pub(super) fn set_body_raw(mut self, body: impl Into<Vec<u8>>, mime: &str) -> Self {
        self.body = body.into();
        self.mime = mime.to_owned();
        self
    }

    pub(super) fn set_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// How long to wait before answering.
    pub(super) fn delay(&self) -> Option<Duration> {
        self.delay
    }

    /// The headers as sent: the content type, when there is one, over any header of its name.
    fn wire_headers(&self) -> HeaderMap {
        let mut headers = self.headers.clone();
        if !self.mime.is_empty() {
            let mime = HeaderValue::from_str(&self.mime).expect("a valid content type");
            headers.insert(http::header::CONTENT_TYPE, mime);
        }
        headers
    }

    /// The answer for wiremock.
    pub(super) fn into_template(self) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status);
        for (name, value) in &self.wire_headers() {
            template = template.insert_header(name.clone(), value.clone());
        }
        template = template.set_body_bytes(self.body);
        match self.delay {
            Some(delay) => template.set_delay(delay),
            None => template,
        }
    }

    /// The answer for hyper (the delay is the server's to wait).
    pub(super) fn into_response(self) -> http::Response<Full<Bytes>> {
        let headers = self.wire_headers();
        let mut response = http::Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() = self.status;
        *response.headers_mut() = headers;
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_set_their_content_type_as_wiremock_does() {
        let json = Answer::new(400)
            .insert_header("request-id", "req_1")
            .set_body_json(serde_json::json!({"a": 1}))
            .into_response();
        assert_eq!(json.status(), 400);
        assert_eq!(json.headers()["content-type"], "application/json");
        assert_eq!(json.headers()["request-id"], "req_1");
        let text = Answer::new(503).set_body_string("Service Unavailable");
        assert_eq!(text.into_response().headers()["content-type"], "text/plain");
        let bare = Answer::new(200).set_body_bytes(b"{}".to_vec());
        assert!(bare.into_response().headers().get("content-type").is_none());
        let raw = Answer::new(200)
            .set_body_raw("<html></html>", "text/html")
            .into_response();
        assert_eq!(raw.headers()["content-type"], "text/html");
        let late = Answer::new(200).set_delay(Duration::from_secs(60));
        assert_eq!(late.delay(), Some(Duration::from_secs(60)));
    }
}
