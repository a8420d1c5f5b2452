//! Product activation (POLICY.md §9): administrators issue a customer's one-time activation
//! password, which the customer uses at the activation manager to activate its registered
//! products; a contact signed in does the same for its organisation, staff for any. Each
//! activation gets a code signed with the desk's key for that serial and machine, allowing
//! the highest version the licence and the care contract allow; the number of active
//! installations is the licence's.

use std::net::IpAddr;

use caredesk_domain::activation::{ActivationClaims, issue_code, machine_id_problem};
use caredesk_domain::catalog::highest_allowed;
use caredesk_domain::intake::{ContractTerms, Cover, cover};
use caredesk_domain::policy::UpdateRule;
use caredesk_domain::reason::Reason;
use caredesk_domain::ticket::Role;
use caredesk_store::{
    Activated, Activation, NewActivation, NewActivationSession, Product, StoreError,
};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::catalog::catalog_release;
use crate::intake::contract_terms;
use crate::sessions::{
    ThrottleKeys, hash_password_off_thread, new_token, throttled, verify_password_off_thread,
    waste_a_password_check,
};
use crate::{Caller, Desk, DeskError, FieldProblem};

/// Who may issue one-time activation passwords.
pub const ISSUERS: [Role; 1] = [Role::Admin];

/// The letters a one-time password is made of: Crockford's base 32, without I, L, O and
/// U, which are misread when a password is read out on the phone or copied from paper
/// (and read as 1, 1 and 0 when typed).
const PASSWORD_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A one-time activation password as it is told once, to be given to the customer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssuedPassword {
    pub customer_id: i64,
    /// Shown this once; the desk keeps only its hash.
    pub password: String,
    pub expires_at: Timestamp,
}

/// Issues customer `customer_id` a new one-time activation password, valid for the
/// policy's `activation.password_valid_days`; any earlier one stops working.
pub async fn issue_password(
    desk: &Desk,
    caller: &Caller,
    customer_id: i64,
) -> Result<IssuedPassword, DeskError> {
    caller.require_role(&ISSUERS)?;
    desk.store.customer(customer_id).await?;
    let password = new_password();
    let hash = hash_password_off_thread(normalized(&password)).await?;
    let now = desk.clock.now();
    let days = i64::from(desk.policy().activation.password_valid_days);
    let expires_at = now
        .checked_add(SignedDuration::from_hours(24 * days))
        .map_err(DeskError::unexpected)?;
    desk.audited_store(caller)
        .issue_activation_password(customer_id, &hash, now, expires_at)
        .await?;
    Ok(IssuedPassword {
        customer_id,
        password,
        expires_at,
    })
}

/// Sixteen letters of [`PASSWORD_ALPHABET`] (80 random bits) in four groups of four.
fn new_password() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    let letters: Vec<char> = bytes
        .iter()
        .map(|byte| char::from(PASSWORD_ALPHABET[usize::from(byte % 32)]))
        .collect();
    letters
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A password as typed, the way it is hashed: without blanks and dashes, in upper case,
/// O read as 0 and I and L as 1.
pub(crate) fn normalized(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// Who activates: a caller (a contact for its organisation, staff for any customer), or a
/// customer signed in at the activation manager with its one-time password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activator {
    Caller(Caller),
    Customer { customer_id: i64 },
}

impl Activator {
    /// The customer whose products this activator may touch; none: any.
    pub fn customer(&self) -> Option<i64> {
        match *self {
            Activator::Caller(Caller::Contact { customer_id, .. })
            | Activator::Customer { customer_id } => Some(customer_id),
            Activator::Caller(Caller::Staff { .. } | Caller::System) => None,
        }
    }

    /// Who an activation is recorded as made or undone by.
    pub fn key(&self) -> String {
        match self {
            Activator::Caller(caller) => caller.key(),
            Activator::Customer { customer_id } => format!("customer:{customer_id}"),
        }
    }
}

/// What the activation manager's form sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivationForm {
    pub serial: String,
    pub machine_id: String,
}

/// An activation as its product's owner reads it: the code to copy, and whether it was
/// made now or the machine had it already.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Granted {
    pub activation: Activation,
    pub product: Product,
    pub new: bool,
}

/// Activates the product `form.serial` on `form.machine_id`: a serial of the activator's
/// customer, a machine identifier as installations show it, a free installation. The same
/// machine again gets the code it has.
pub async fn activate(
    desk: &Desk,
    activator: &Activator,
    form: ActivationForm,
) -> Result<Granted, DeskError> {
    if let Activator::Caller(caller) = activator
        && caller
            .role()
            .is_some_and(|role| role != Role::CustomerContact && !role.is_staff())
    {
        return Err(DeskError::Forbidden(
            "this is for customers and staff".into(),
        ));
    }
    let serial = form.serial.trim().to_string();
    let machine_id = form.machine_id.trim().to_string();
    let mut problems = Vec::new();
    let product = if serial.is_empty() {
        problems.push(FieldProblem::of("serial", Reason::required()));
        None
    } else {
        match product_of(desk, activator, &serial).await? {
            Some(product) => Some(product),
            None => {
                problems.push(FieldProblem::of(
                    "serial",
                    Reason::invalid(format!(
                        "{serial} is not a product registered to this customer"
                    )),
                ));
                None
            }
        }
    };
    if let Some(reason) = machine_id_problem(&machine_id) {
        problems.push(FieldProblem::of(
            "machine_id",
            if reason == "required" {
                Reason::required()
            } else {
                Reason::invalid(reason)
            },
        ));
    }
    let Some(product) = product.filter(|_| problems.is_empty()) else {
        return Err(DeskError::Invalid(problems));
    };

    let now = desk.clock.now();
    let highest_version = highest_version(desk, &product, now).await?;
    let key = desk.activation_keys.signing_key(&desk.store, now).await?;
    let code = issue_code(
        &ActivationClaims {
            serial: product.serial.clone(),
            product_line: product.product_line.clone(),
            machine_id: machine_id.clone(),
            highest_version: highest_version.clone(),
            issued_at: now,
        },
        key,
    );
    let recorded = desk
        .store
        .activate(
            &NewActivation {
                product_id: product.id,
                machine_id,
                code,
                highest_version,
                by: activator.key(),
                from: address_of(desk),
            },
            now,
        )
        .await?;
    match recorded {
        Activated::New(activation) => Ok(Granted {
            activation,
            product,
            new: true,
        }),
        Activated::Already(activation) => Ok(Granted {
            activation,
            product,
            new: false,
        }),
        Activated::AllInUse { installations } => Err(DeskError::Conflict {
            detail: format!(
                "all {installations} installations of {} are active: deactivate one (the machine it replaces) first",
                product.serial
            ),
            state: None,
            allowed_actions: None,
        }),
    }
}

/// Deactivates activation `id` (the machine is replaced or gone), as its product's owner
/// or staff; kept in the history with who, when and from where.
pub async fn deactivate(
    desk: &Desk,
    activator: &Activator,
    id: i64,
) -> Result<Activation, DeskError> {
    let activation = desk.store.activation(id).await?;
    let product = desk.store.product(activation.product_id).await?;
    if activator
        .customer()
        .is_some_and(|customer| customer != product.customer_id)
    {
        return Err(DeskError::NotFound);
    }
    Ok(desk
        .store
        .deactivate(id, &activator.key(), &address_of(desk), desk.clock.now())
        .await?)
}

/// The activations of the product `serial` (deactivated ones too, newest first), for its
/// owner or staff.
pub async fn activations_of(
    desk: &Desk,
    activator: &Activator,
    serial: &str,
) -> Result<(Product, Vec<Activation>), DeskError> {
    let product = product_of(desk, activator, serial)
        .await?
        .ok_or(DeskError::NotFound)?;
    let activations = desk.store.activations_of(product.id).await?;
    Ok((product, activations))
}

/// The product `serial`, when the activator may see it: one of its customer's (the same
/// answer for a serial of nobody's and one of another customer's).
async fn product_of(
    desk: &Desk,
    activator: &Activator,
    serial: &str,
) -> Result<Option<Product>, DeskError> {
    match desk.store.product_by_serial(serial).await {
        Ok(product)
            if activator
                .customer()
                .is_none_or(|customer| customer == product.customer_id) =>
        {
            Ok(Some(product))
        }
        Ok(_) | Err(caredesk_store::StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// The newest version the product may run: every release of its line with valid care
/// (`activation.updates_with_care`), else those its licence allows
/// (`activation.updates_without_care`).
async fn highest_version(
    desk: &Desk,
    product: &Product,
    now: Timestamp,
) -> Result<String, DeskError> {
    let rule = update_rule(desk, product.customer_id, now).await?;
    let releases: Vec<_> = desk
        .store
        .releases_of(&product.product_line)
        .await?
        .iter()
        .map(catalog_release)
        .collect();
    Ok(highest_allowed(
        rule,
        &releases,
        &product.licence.licensed_version,
    ))
}

/// The update rule of a customer's products today: with or without valid care.
pub async fn update_rule(
    desk: &Desk,
    customer_id: i64,
    now: Timestamp,
) -> Result<UpdateRule, DeskError> {
    Ok(match care_of(desk, customer_id, now).await? {
        Cover::Covered(_) => desk.policy().activation.updates_with_care,
        Cover::NotCovered { .. } => desk.policy().activation.updates_without_care,
    })
}

/// A customer's care today, in its region's time zone.
pub async fn care_of(desk: &Desk, customer_id: i64, now: Timestamp) -> Result<Cover, DeskError> {
    let customer = desk.store.customer(customer_id).await?;
    let policy = desk.policy();
    let region = policy
        .region(&customer.region)
        .map_err(DeskError::unexpected)?;
    let contracts: Vec<ContractTerms> = desk
        .store
        .contracts_of(customer_id)
        .await?
        .iter()
        .map(contract_terms)
        .collect();
    Ok(cover(&contracts, region.today(now)))
}

/// Signs a customer in at the activation manager with its customer number and one-time
/// password, using the password up and opening the customer's session there in one
/// transaction (never a password used up without a session). An unknown number and a
/// wrong password get the same answer (`WrongCredentials`) after as long as a real check;
/// only whoever typed the right password learns that it expired or was used already.
/// Failures are throttled per customer number and per client address like every sign-in.
pub async fn sign_in(
    desk: &Desk,
    number: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Result<ManagerSession, DeskError> {
    let keys = ThrottleKeys::named("activation", number, client);
    let typed = normalized(password);
    throttled(desk, &keys, None, async {
        let customer = match desk.store.customer_by_number(number.trim()).await {
            Ok(customer) => Some(customer),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other.into()),
        };
        let stored = match &customer {
            Some(customer) => desk.store.activation_password(customer.id).await?,
            None => None,
        };
        let Some(stored) = stored else {
            waste_a_password_check(typed).await?;
            return Err(DeskError::WrongCredentials);
        };
        if !verify_password_off_thread(typed, stored.password_hash.clone()).await? {
            return Err(DeskError::WrongCredentials);
        }
        let now = desk.clock.now();
        if stored.used_at.is_some() {
            return Err(DeskError::invalid(
                "password",
                "this one-time password was used already; ask for a new one",
            ));
        }
        if now >= stored.expires_at {
            return Err(DeskError::invalid(
                "password",
                format!(
                    "this one-time password expired on {}; ask for a new one",
                    stored.expires_at
                ),
            ));
        }
        let expires_at = now
            .checked_add(SignedDuration::from_mins(MANAGER_SESSION_MINUTES))
            .map_err(DeskError::unexpected)?;
        let secret = new_token();
        let address = client
            .map(|address| address.to_string())
            .unwrap_or_default();
        let session = NewActivationSession {
            secret: &secret,
            expires_at,
            address: &address,
        };
        if !desk
            .store
            .use_activation_password(stored.customer_id, &stored.password_hash, &session, now)
            .await?
        {
            return Err(DeskError::invalid(
                "password",
                "this one-time password was used already; ask for a new one",
            ));
        }
        Ok(ManagerSession {
            customer_id: stored.customer_id,
            expires_at,
            secret,
        })
    })
    .await
}

/// How long the activation manager keeps a customer signed in with its one-time password:
/// enough to activate its installations, short because the password is gone.
pub const MANAGER_SESSION_MINUTES: i64 = 60;

/// A customer signed in at the activation manager: the secret its browser keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagerSession {
    pub secret: String,
    pub customer_id: i64,
    pub expires_at: Timestamp,
}

/// The customer signed in at the activation manager with `secret`, while its session
/// lasts.
pub async fn manager_session(desk: &Desk, secret: &str) -> Result<Option<i64>, DeskError> {
    match desk
        .store
        .activation_session_customer(secret, desk.clock.now())
        .await
    {
        Ok(customer_id) => Ok(Some(customer_id)),
        Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Ends an activation manager session.
pub async fn close_manager_session(desk: &Desk, secret: &str) -> Result<(), DeskError> {
    Ok(desk
        .store
        .close_activation_session(secret, desk.clock.now())
        .await?)
}

/// A registered product as its owner manages it: its licence, its activations (newest
/// first, deactivated ones too) and how many installations are free.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedProduct {
    pub product: Product,
    pub activations: Vec<Activation>,
    pub free_installations: i64,
}

/// The products an activator may activate: its customer's, or for staff the one named.
pub async fn managed_products(
    desk: &Desk,
    activator: &Activator,
    serial: Option<&str>,
) -> Result<Vec<ManagedProduct>, DeskError> {
    let products = match (activator.customer(), serial) {
        (Some(customer_id), _) => desk.store.products_of(customer_id).await?,
        (None, Some(serial)) => product_of(desk, activator, serial.trim())
            .await?
            .into_iter()
            .collect(),
        (None, None) => Vec::new(),
    };
    let mut managed = Vec::with_capacity(products.len());
    for product in products {
        let activations = desk.store.activations_of(product.id).await?;
        let active =
            i64::try_from(activations.iter().filter(|a| a.is_active()).count()).unwrap_or(i64::MAX);
        managed.push(ManagedProduct {
            free_installations: (product.licence.installations - active).max(0),
            product,
            activations,
        });
    }
    Ok(managed)
}

fn address_of(desk: &Desk) -> String {
    desk.client_address
        .map(|address| address.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_four_groups_of_four_unambiguous_letters() {
        let password = new_password();
        let groups: Vec<&str> = password.split('-').collect();
        assert_eq!(groups.len(), 4, "{password}");
        assert!(groups.iter().all(|group| group.len() == 4), "{password}");
        assert!(
            password
                .chars()
                .filter(|c| *c != '-')
                .all(|c| PASSWORD_ALPHABET.contains(&(c as u8))),
            "{password}"
        );
        assert_ne!(new_password(), password);
        assert_eq!(normalized(" k7qm-3XTR wp9D-HV2A "), "K7QM3XTRWP9DHV2A");
        assert_eq!(normalized("O0Il-1"), "00111");
    }
}
