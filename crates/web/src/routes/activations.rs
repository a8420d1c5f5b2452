//! Product activation over the API (POLICY.md §9): a customer's contact activates its
//! organisation's registered products on machines (staff any customer's), reads their
//! activations and deactivates one when a machine is replaced. The code each activation
//! gets is what the installed product keeps and shows the update manager.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use caredesk_desk::activation::{self, ActivationForm, Activator, Granted};
use caredesk_store::Activation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activate_product))
        .routes(routes!(list_activations))
        .routes(routes!(deactivate_installation))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateProduct {
    /// The registered product's serial number.
    #[schema(min_length = 1, max_length = 100)]
    serial: String,
    /// The installation's machine identifier, as it shows it: 8 to 128 letters, digits,
    /// '-', '_', ':', '.', '{' and '}'.
    #[schema(
        min_length = 8,
        max_length = 128,
        pattern = "^[A-Za-z0-9_:.{}-]{8,128}$"
    )]
    machine_id: String,
}

/// An activation with the product it is of.
#[derive(Serialize, ToSchema)]
pub struct ActivationView {
    #[serde(flatten)]
    activation: Activation,
    serial: String,
    product_line: String,
}

/// Activates a registered product on a machine: its activation code, signed for that
/// serial and machine. 201 for a new installation, 200 with the code it has for a machine
/// already active.
#[utoipa::path(
    post,
    path = "/api/v1/activations",
    tag = "activation",
    security(("bearer" = [])),
    request_body = ActivateProduct,
    responses(
        (status = 201, description = "Activated", body = ActivationView),
        (status = 200, description = "The machine was active already: its activation", body = ActivationView),
        (status = 409, description = "Every installation of the licence is active", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown serial or a malformed machine identifier", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn activate_product(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiJson(request): ApiJson<ActivateProduct>,
) -> Result<(StatusCode, Json<ActivationView>), ApiError> {
    let granted = activation::activate(
        &state.desk().from_address(client),
        &Activator::Caller(principal.caller()),
        ActivationForm {
            serial: request.serial,
            machine_id: request.machine_id,
        },
    )
    .await?;
    let status = if granted.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view_of(granted))))
}

/// The activations of a registered product, deactivated ones too, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/products/{serial}/activations",
    tag = "activation",
    security(("bearer" = [])),
    params(("serial" = String, Path, description = "Serial number")),
    responses(
        (status = 200, description = "The activations", body = Vec<ActivationView>),
        (status = 404, description = "No such product for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_activations(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(serial): ApiPath<String>,
) -> Result<Json<Vec<ActivationView>>, ApiError> {
    let (product, activations) = activation::activations_of(
        &state.desk(),
        &Activator::Caller(principal.caller()),
        &serial,
    )
    .await?;
    Ok(Json(
        activations
            .into_iter()
            .map(|activation| ActivationView {
                activation,
                serial: product.serial.clone(),
                product_line: product.product_line.clone(),
            })
            .collect(),
    ))
}

/// Deactivates an activation (the machine is replaced or gone): its installation is free
/// again; kept in the history with who, when and from where.
#[utoipa::path(
    post,
    path = "/api/v1/activations/{id}/deactivate",
    tag = "activation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Activation id")),
    responses(
        (status = 200, description = "Deactivated", body = ActivationView),
        (status = 404, description = "No such activation for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Deactivated already", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn deactivate_installation(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ActivationView>, ApiError> {
    let desk = state.desk().from_address(client);
    let activation =
        activation::deactivate(&desk, &Activator::Caller(principal.caller()), id).await?;
    let product = state.store.product(activation.product_id).await?;
    Ok(Json(ActivationView {
        activation,
        serial: product.serial,
        product_line: product.product_line,
    }))
}

fn view_of(granted: Granted) -> ActivationView {
    ActivationView {
        activation: granted.activation,
        serial: granted.product.serial,
        product_line: granted.product.product_line,
    }
}
