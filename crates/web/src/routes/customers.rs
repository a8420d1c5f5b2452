//! Customers and what belongs to them. Staff see and manage every customer; a customer
//! contact sees its own organisation only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use caredesk_desk::activation::{self, IssuedPassword};
use caredesk_desk::customers::{self, ContactForm};
use caredesk_store::{
    Contact, Contract, Customer, LicenceTerms, NewContract, NewCustomer, NewProduct, Product,
};
use jiff::civil::Date;
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
        .routes(routes!(list_customers, create_customer))
        .routes(routes!(get_customer))
        .routes(routes!(set_csm))
        .routes(routes!(add_contact))
        .routes(routes!(add_contract))
        .routes(routes!(accept_licence))
        .routes(routes!(register_product))
        .routes(routes!(issue_activation_password))
}

/// Issues the customer's one-time activation password (administrators only): shown in this
/// answer only, valid for the policy's `activation.password_valid_days`; any earlier one
/// stops working.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/activation-password",
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 201, description = "Issued", body = IssuedPassword),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn issue_activation_password(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<IssuedPassword>), ApiError> {
    let issued =
        activation::issue_password(&state.desk().from_address(client), &principal.caller(), id)
            .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    #[schema(format = "one-line", min_length = 1, max_length = 50)]
    number: String,
    #[schema(format = "one-line", min_length = 1, max_length = 200)]
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
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiJson(request): ApiJson<CreateCustomer>,
) -> Result<(StatusCode, Json<Customer>), ApiError> {
    let new = NewCustomer {
        number: request.number,
        name: request.name,
        region: request.region,
        language: request.language,
    };
    let customer =
        customers::add_customer(&state.desk().from_address(client), &principal.caller(), new)
            .await?;
    Ok((StatusCode::CREATED, Json(customer)))
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
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<AssignCsm>,
) -> Result<Json<Customer>, ApiError> {
    let caller = principal.caller();
    Ok(Json(
        customers::set_csm(
            &state.desk().from_address(client),
            &caller,
            id,
            request.csm_id,
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddContact {
    #[schema(format = "one-line", min_length = 1, max_length = 200)]
    name: String,
    #[schema(format = "e-mail", max_length = 254)]
    email: String,
    #[serde(default)]
    #[schema(format = "one-line", max_length = 50)]
    phone: String,
    language: String,
    #[serde(default)]
    designated: bool,
    /// Lets the contact sign in to the portal and the API.
    #[serde(default)]
    #[schema(min_length = 12, max_length = 1024)]
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
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<AddContact>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    let form = ContactForm {
        name: request.name,
        email: request.email,
        phone: request.phone,
        language: request.language,
        designated: request.designated,
        password: request.password,
    };
    let contact = customers::add_contact(
        &state.desk().from_address(client),
        &principal.caller(),
        id,
        form,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(contact)))
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
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<AddContract>,
) -> Result<(StatusCode, Json<Contract>), ApiError> {
    let new = NewContract {
        customer_id: id,
        program: request.program,
        starts_on: request.starts_on,
        ends_on: request.ends_on,
        eula_accepted: request.eula_accepted,
    };
    let contract =
        customers::add_contract(&state.desk().from_address(client), &principal.caller(), new)
            .await?;
    Ok((StatusCode::CREATED, Json(contract)))
}

/// Records that the contract's end-user licence agreement is accepted, now, by the caller:
/// a contact of the customer for its organisation, or a manager recording an acceptance
/// given otherwise. Cover (POLICY.md §1) needs it; an accepted contract is returned as it
/// is.
#[utoipa::path(
    post,
    path = "/api/v1/contracts/{id}/licence-acceptance",
    tag = "customers",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Contract id")),
    responses(
        (status = 200, description = "Accepted (now or before)", body = Contract),
        (status = 403, description = "Managers and the customer's contacts only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The contract has ended", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn accept_licence(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Contract>, ApiError> {
    let contract =
        customers::accept_licence(&state.desk().from_address(client), &principal.caller(), id)
            .await?;
    Ok(Json(contract))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterProduct {
    product_line: String,
    #[schema(format = "one-line", min_length = 1, max_length = 50)]
    version: String,
    #[schema(format = "one-line", min_length = 1, max_length = 100)]
    serial: String,
    /// One of the product line's editions in the policy.
    #[schema(format = "one-line", max_length = 50)]
    edition: Option<String>,
    /// The highest version the licence was bought for; the version registered when absent
    /// (or empty).
    #[schema(max_length = 40, pattern = "^([A-Za-z0-9][A-Za-z0-9._+-]{0,39})?$")]
    licensed_version: Option<String>,
    /// How many installations may be active at once; 1 when absent.
    #[schema(minimum = 1, maximum = 10000)]
    installations: Option<i64>,
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
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<RegisterProduct>,
) -> Result<(StatusCode, Json<Product>), ApiError> {
    let new = NewProduct {
        customer_id: id,
        product_line: request.product_line,
        version: request.version,
        serial: request.serial,
        licence: LicenceTerms {
            edition: request.edition,
            licensed_version: request.licensed_version,
            installations: request.installations,
        },
    };
    let product =
        customers::register_product(&state.desk().from_address(client), &principal.caller(), new)
            .await?;
    Ok((StatusCode::CREATED, Json(product)))
}
