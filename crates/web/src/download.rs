//! Downloads, the same from the API and the pages. An attachment is always a download
//! (never shown inline), its type kept only when it is one that cannot run (an image, a PDF,
//! plain text…), and sandboxed should a browser open it anyway: whoever uploaded a file does
//! not choose how another person's browser treats it. A CSV the desk writes (an export, a
//! report) is a download with its name.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use caredesk_store::AttachmentContent;

/// Types a browser shows without running anything; any other is sent as bytes.
const INERT_TYPES: [&str; 9] = [
    "application/pdf",
    "application/zip",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/csv",
    "text/plain",
    "application/octet-stream",
];

pub fn download(stored: AttachmentContent) -> Response {
    let declared = stored
        .attachment
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let content_type = if INERT_TYPES.contains(&declared.as_str()) {
        HeaderValue::from_str(&declared)
            .unwrap_or(HeaderValue::from_static("application/octet-stream"))
    } else {
        HeaderValue::from_static("application/octet-stream")
    };
    let name = &stored.attachment.filename;
    // The name in ASCII for every browser, and whole (RFC 5987) for those that read it.
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let whole = percent_encode(name.as_bytes());
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{whole}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'"),
            ),
        ],
        stored.content,
    )
        .into_response()
}

/// Every byte but RFC 5987's attr-chars as %XX.
fn percent_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(byte) {
                (*byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// `body` (CSV the desk wrote) as a download named `file_name` (plain ASCII, no quotes).
pub fn csv_attachment(file_name: &str, body: String) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use caredesk_store::Attachment;

    fn stored(name: &str, content_type: &str) -> AttachmentContent {
        AttachmentContent {
            attachment: Attachment {
                id: 1,
                ticket_id: 1,
                event_seq: None,
                filename: name.into(),
                content_type: content_type.into(),
                size: 2,
                sha256: String::new(),
                created_at: jiff::Timestamp::UNIX_EPOCH,
            },
            content: b"hi".to_vec(),
        }
    }

    fn header_of(response: &Response, name: header::HeaderName) -> &str {
        response.headers()[name].to_str().unwrap()
    }

    #[test]
    fn a_download_never_runs_as_a_page() {
        let html = download(stored("page.html", "text/html"));
        assert_eq!(
            header_of(&html, header::CONTENT_TYPE),
            "application/octet-stream"
        );
        assert!(header_of(&html, header::CONTENT_SECURITY_POLICY).starts_with("sandbox"));
        let picture = download(stored("Schéma.PNG", "Image/PNG; charset=x"));
        assert_eq!(header_of(&picture, header::CONTENT_TYPE), "image/png");
        assert_eq!(
            header_of(&picture, header::CONTENT_DISPOSITION),
            "attachment; filename=\"Sch_ma.PNG\"; filename*=UTF-8''Sch%C3%A9ma.PNG"
        );
    }
}
