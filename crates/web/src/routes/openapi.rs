//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

use crate::AppState;

pub fn router(document: Arc<OpenApi>) -> Router<AppState> {
    Router::new().route(
        "/api/v1/openapi.json",
        get(move || {
            let document = document.clone();
            async move { Json((*document).clone()) }
        }),
    )
}

/// Adds what every operation of its kind can answer and its own annotation leaves unsaid,
/// the same for all, so that the document tells each status a client may meet: 401 where a
/// bearer token is required (none, unknown, expired or revoked), and for a JSON body 400 (not
/// JSON), 413 (larger than the server takes), 415 (not `application/json`) and 422 (a field
/// refused); and on every operation 503 (the database is away for now, with `Retry-After`).
/// An operation's own description of a status is kept.
pub fn complete_responses(document: &mut OpenApi) {
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let secured = operation
                .security
                .as_ref()
                .is_some_and(|requirements| !requirements.is_empty());
            let json_body = matches!(
                &operation.request_body,
                Some(RefOr::T(body)) if body.content.contains_key("application/json")
            );
            let mut expected = vec![(
                "503",
                "The database is unavailable for now; retry after `Retry-After` seconds",
            )];
            if secured {
                expected.push((
                    "401",
                    "Not signed in: no bearer token, or one unknown, expired or revoked",
                ));
            }
            if json_body {
                expected.extend([
                    ("400", "The body is not well-formed JSON"),
                    ("413", "The body is larger than the server accepts"),
                    ("415", "The body is not application/json"),
                    ("422", "A field is missing or refused; each is named"),
                ]);
            }
            for (status, description) in expected {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::T(problem(description)));
            }
        }
    }
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}
