//! Customers and what belongs to them. Staff see and manage every customer; a customer
//! contact sees its own organisation only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use caredesk_domain::ticket::Role;
use caredesk_store::{
    Contact, Contract, Customer, NewContact, NewContract, NewCustomer, NewProduct, Product,
    StoreError,
};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use caredesk_desk::sessions::hash_password_off_thread;

use crate::auth::Principal;
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiPath};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers, create_customer))
        .routes(routes!(get_customer))
        .routes(routes!(set_csm))
        .routes(routes!(add_contact))
        .routes(routes!(add_contract))
        .routes(routes!(register_product))
}

/// Who may change customers and their records.
const MANAGERS: [Role; 3] = [
    Role::Admin,
    Role::SupportManager,
    Role::CustomerSuccessManager,
];

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    number: String,
    name: String,
    region: String,
    language: String,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerFile {
    customer: Customer,
    contacts: Vec<Contact>,
    contracts: Vec<Contract>,
    products: Vec<Product>,
}

/// Every customer (staff only).
#[utoipa::path(
    get,
    path = "/api/v1/customers",
    tag = "customers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "All customers", body = Vec<Customer>),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_customers(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<Customer>>, ApiError> {
    principal.require_staff()?;
    Ok(Json(state.store.customers().await?))
}

/// Adds a customer.
#[utoipa::path(
    post,
    path = "/api/v1/customers",
    tag = "customers",
    security(("bearer" = [])),
    request_body = CreateCustomer,
    responses(
        (status = 201, description = "Added", body = Customer),
        (status = 409, description = "The customer number exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_customer(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateCustomer>,
) -> Result<(StatusCode, Json<Customer>), ApiError> {
    principal.require_role(&MANAGERS)?;
    let mut errors = FieldErrors::default();
    errors.not_empty("number", &request.number);
    errors.not_empty("name", &request.name);
    let region = state.policy.region(&request.region);
    if let Err(unknown) = &region {
        errors.add("region", unknown.to_string());
    }
    if !state.policy.languages.supported.contains(&request.language) {
        errors.add(
            "language",
            format!("one of {}", state.policy.languages.supported.join(", ")),
        );
    }
    errors.finish()?;
    let new = NewCustomer {
        number: request.number.trim().to_string(),
        name: request.name.trim().to_string(),
        region: request.region,
        language: request.language,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_customer(&new, state.clock.now()).await?),
    ))
}

/// A customer with its contacts, contracts and registered products.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}",
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, description = "The customer's file", body = CustomerFile),
        (status = 404, description = "No such customer for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_customer(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CustomerFile>, ApiError> {
    if let Principal::Contact(contact) = &principal
        && contact.customer_id != id
    {
        return Err(ApiError::NotFound);
    }
    Ok(Json(CustomerFile {
        customer: state.store.customer(id).await?,
        contacts: state.store.contacts_of(id).await?,
        contracts: state.store.contracts_of(id).await?,
        products: state.store.products_of(id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignCsm {
    /// A customer success manager's staff id; `null` removes the customer's CSM.
    csm_id: Option<i64>,
}

/// Names the customer's dedicated customer success manager, who sees all of its tickets
/// (`GET /api/v1/queue?csm=ID`). Only programs with a dedicated CSM in the policy (gold and
/// platinum by default) have one. Support managers and administrators only.
#[utoipa::path(
    put,
    path = "/api/v1/customers/{id}/csm",
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Customer id")),
    request_body = AssignCsm,
    responses(
        (status = 200, description = "The customer, with its CSM", body = Customer),
        (status = 403, description = "Support managers and administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_csm(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<AssignCsm>,
) -> Result<Json<Customer>, ApiError> {
    principal.require_role(&[Role::SupportManager, Role::Admin])?;
    let customer = state.store.customer(id).await?;
    if let Some(csm_id) = request.csm_id {
        match state.store.staff_member(csm_id).await {
            Ok(member) if member.active && member.role == Role::CustomerSuccessManager => {}
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ApiError::invalid(
                    "csm_id",
                    "no active customer success manager has this id",
                ));
            }
            Err(other) => return Err(other.into()),
        }
        // Today in the customer's region, as intake reads cover.
        let today = state
            .policy
            .region(&customer.region)
            .map(|region| {
                state
                    .clock
                    .now()
                    .to_zoned_datetime(region.time_zone.clone())
                    .date()
            })
            .map_err(ApiError::unexpected)?;
        let contracts = state.store.contracts_of(id).await?;
        let entitled = contracts.iter().any(|contract| {
            contract.starts_on <= today
                && today <= contract.ends_on
                && state
                    .policy
                    .program(&contract.program)
                    .is_ok_and(|program| program.dedicated_csm)
        });
        if !entitled {
            return Err(ApiError::invalid(
                "csm_id",
                "the customer has no current contract whose program includes a dedicated customer success manager",
            ));
        }
    }
    Ok(Json(state.store.set_csm(id, request.csm_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddContact {
    name: String,
    email: String,
    #[serde(default)]
    phone: String,
    language: String,
    #[serde(default)]
    designated: bool,
    /// Lets the contact sign in to the portal and the API.
    #[serde(default)]
    password: Option<String>,
}

/// Adds a contact to a customer.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/contacts",
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Customer id")),
    request_body = AddContact,
    responses(
        (status = 201, description = "Added", body = Contact),
        (status = 409, description = "The e-mail address is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_contact(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<AddContact>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    principal.require_role(&MANAGERS)?;
    state.store.customer(id).await?;
    let mut errors = FieldErrors::default();
    errors.not_empty("name", &request.name);
    if !looks_like_email(&request.email) {
        errors.add("email", "not an e-mail address");
    }
    if !state.policy.languages.supported.contains(&request.language) {
        errors.add(
            "language",
            format!("one of {}", state.policy.languages.supported.join(", ")),
        );
    }
    if let Some(password) = &request.password
        && password.chars().count() < 12
    {
        errors.add("password", "at least 12 characters");
    }
    errors.finish()?;
    let password_hash = match request.password {
        Some(password) => Some(hash_password_off_thread(password).await?),
        None => None,
    };
    let new = NewContact {
        customer_id: id,
        name: request.name.trim().to_string(),
        email: request.email,
        phone: request.phone,
        language: request.language,
        designated: request.designated,
        password_hash,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_contact(&new, state.clock.now()).await?),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddContract {
    program: String,
    starts_on: Date,
    ends_on: Date,
    eula_accepted: bool,
}

/// Adds a care contract to a customer.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/contracts",
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Customer id")),
    request_body = AddContract,
    responses(
        (status = 201, description = "Added", body = Contract),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_contract(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<AddContract>,
) -> Result<(StatusCode, Json<Contract>), ApiError> {
    principal.require_role(&MANAGERS)?;
    state.store.customer(id).await?;
    let mut errors = FieldErrors::default();
    if let Err(unknown) = state.policy.program(&request.program) {
        errors.add("program", unknown.to_string());
    }
    if request.ends_on < request.starts_on {
        errors.add("ends_on", "the contract ends before it starts");
    }
    errors.finish()?;
    let new = NewContract {
        customer_id: id,
        program: request.program,
        starts_on: request.starts_on,
        ends_on: request.ends_on,
        eula_accepted: request.eula_accepted,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_contract(&new, state.clock.now()).await?),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterProduct {
    product_line: String,
    version: String,
    serial: String,
}

/// Registers a product (line, version, serial number) to a customer.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/products",
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Customer id")),
    request_body = RegisterProduct,
    responses(
        (status = 201, description = "Registered", body = Product),
        (status = 409, description = "The serial number is registered already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn register_product(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<RegisterProduct>,
) -> Result<(StatusCode, Json<Product>), ApiError> {
    principal.require_role(&MANAGERS)?;
    state.store.customer(id).await?;
    let mut errors = FieldErrors::default();
    if let Err(unknown) = state.policy.product_line(&request.product_line) {
        errors.add("product_line", unknown.to_string());
    }
    errors.not_empty("version", &request.version);
    errors.not_empty("serial", &request.serial);
    errors.finish()?;
    let new = NewProduct {
        customer_id: id,
        product_line: request.product_line,
        version: request.version.trim().to_string(),
        serial: request.serial.trim().to_string(),
    };
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .register_product(&new, state.clock.now())
                .await?,
        ),
    ))
}

/// One '@' with something on each side and a dot in the domain: enough to catch typos;
/// delivery is the real test.
pub fn looks_like_email(text: &str) -> bool {
    let text = text.trim();
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}
