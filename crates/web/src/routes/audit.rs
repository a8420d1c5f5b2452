//! The audit trail over the API (administrators only): JSON, or CSV to keep.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use caredesk_desk::audit;
use caredesk_domain::ticket::Role;
use caredesk_store::{AuditEntry, AuditFilter};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Principal;
use crate::download::csv_attachment;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_trail))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// customer, contact, contract, product, staff, on_call_shift, api_token, webhook.
    entity: Option<String>,
    entity_id: Option<i64>,
    /// Who: `staff:3`, `system`.
    actor: Option<String>,
    /// From this instant (RFC 3339), included.
    from: Option<Timestamp>,
    /// Until this instant, excluded.
    until: Option<Timestamp>,
    /// Entries older than this one: the next page starts below the last id read.
    before_id: Option<i64>,
    /// 1 to 1,000; 100 unless given (a CSV without it holds every entry, up to 100,000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// `json` (the default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
}

/// Every administrative change, newest first: who, when, from which address, what, and the
/// record before and after (administrators only). Nothing in it can be changed or deleted.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "notices",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "The entries (JSON), or with format=csv the same as CSV",
            content((Vec<AuditEntry> = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad filter", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn audit_trail(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    principal.require_role(&[Role::Admin])?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "json or csv")),
    };
    let filter = AuditFilter {
        entity: query.entity,
        entity_id: query.entity_id,
        actor: query.actor,
        from: query.from,
        until: query.until,
        before_id: query.before_id,
        limit: query.limit.unwrap_or(100),
    };
    let desk = state.desk();
    if !csv {
        let entries = audit::trail(&desk, &principal.caller(), &filter).await?;
        return Ok(Json(entries).into_response());
    }
    // A CSV holds every entry asked for, unless a limit is given.
    let entries = match query.limit {
        Some(_) => audit::trail(&desk, &principal.caller(), &filter).await?,
        None => audit::export(&desk, &principal.caller(), &filter).await?,
    };
    Ok(csv_attachment("audit.csv", audit::as_csv(&entries)))
}
