//! The charts of the report pages: drawn by `caredesk_charts`, served as the images the
//! pages' `<img>` load.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
pub use caredesk_charts::{Panel, Series, count_bars, share_bars};

/// A drawn chart as the image a page's `<img>` loads.
pub(super) fn svg_response(svg: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("image/svg+xml; charset=utf-8"),
        )],
        svg,
    )
        .into_response()
}
