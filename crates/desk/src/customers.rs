//! Customers and what belongs to them: contacts, care contracts, registered products, and
//! the dedicated customer success manager of the programs that have one. Managers change
//! them; each change is checked against the policy first, every faulty field at once. The
//! checks are also public (`customer_problems`, …) for whoever reads many rows before it
//! writes them, as the command line's import does.

use caredesk_domain::catalog::version_problem;
use caredesk_domain::intake::{ContractTerms, Cover, cover};
use caredesk_domain::policy::Policy;
use caredesk_domain::reason::Reason;
use caredesk_domain::ticket::Role;
use caredesk_store::{
    Contact, Contract, Customer, ImportBatch, ImportCounts, LicenceTerms, NewContact, NewContract,
    NewCustomer, NewProduct, Product, StoreError,
};

use crate::error::Problems;
use crate::intake::contract_terms;
use crate::sessions::hash_password_off_thread;
use crate::{Caller, Desk, DeskError, FieldProblem, bounds};

/// Who may change customers and their records.
pub const MANAGERS: [Role; 3] = [
    Role::Admin,
    Role::SupportManager,
    Role::CustomerSuccessManager,
];

/// Adds a customer of a region of the policy.
pub async fn add_customer(
    desk: &Desk,
    caller: &Caller,
    new: NewCustomer,
) -> Result<Customer, DeskError> {
    caller.require_role(&MANAGERS)?;
    refuse_any(customer_problems(&desk.policy(), &new))?;
    let new = NewCustomer {
        number: new.number.trim().to_string(),
        name: new.name.trim().to_string(),
        ..new
    };
    Ok(desk
        .audited_store(caller)
        .create_customer(&new, desk.clock.now())
        .await?)
}

/// A contact as a manager enters it: with a password when it may sign in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactForm {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub language: String,
    pub designated: bool,
    pub password: Option<String>,
}

/// Adds a contact to a customer.
pub async fn add_contact(
    desk: &Desk,
    caller: &Caller,
    customer: i64,
    form: ContactForm,
) -> Result<Contact, DeskError> {
    caller.require_role(&MANAGERS)?;
    desk.store.customer(customer).await?;
    refuse_any(contact_problems(&desk.policy(), &form))?;
    let password_hash = match form.password {
        Some(password) => Some(hash_password_off_thread(password).await?),
        None => None,
    };
    let new = NewContact {
        customer_id: customer,
        name: form.name.trim().to_string(),
        email: form.email.trim().to_string(),
        phone: form.phone.trim().to_string(),
        language: form.language,
        designated: form.designated,
        password_hash,
    };
    Ok(desk
        .audited_store(caller)
        .create_contact(&new, desk.clock.now())
        .await?)
}

/// Adds a care contract of a program of the policy.
pub async fn add_contract(
    desk: &Desk,
    caller: &Caller,
    new: NewContract,
) -> Result<Contract, DeskError> {
    caller.require_role(&MANAGERS)?;
    desk.store.customer(new.customer_id).await?;
    refuse_any(contract_problems(&desk.policy(), &new))?;
    Ok(desk
        .audited_store(caller)
        .create_contract(&new, desk.clock.now())
        .await?)
}

/// Registers a product (line, version, serial number) to a customer.
pub async fn register_product(
    desk: &Desk,
    caller: &Caller,
    new: NewProduct,
) -> Result<Product, DeskError> {
    caller.require_role(&MANAGERS)?;
    desk.store.customer(new.customer_id).await?;
    // Blank licence fields are not given; the others are checked as kept.
    let filled = |text: Option<String>| {
        text.map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty())
    };
    let new = NewProduct {
        licence: LicenceTerms {
            edition: filled(new.licence.edition),
            licensed_version: filled(new.licence.licensed_version),
            ..new.licence
        },
        ..new
    };
    refuse_any(product_problems(&desk.policy(), &new))?;
    let new = NewProduct {
        version: new.version.trim().to_string(),
        serial: new.serial.trim().to_string(),
        ..new
    };
    Ok(desk
        .audited_store(caller)
        .register_product(&new, desk.clock.now())
        .await?)
}

/// Writes customers with their contacts, contracts and products all at once, or nothing:
/// for an operator who brings the customers of another system. The caller has checked each
/// row with the functions below and the rows against each other; the store refuses a number,
/// an e-mail address or a serial that another row or a stored record already holds.
pub async fn import(
    desk: &Desk,
    caller: &Caller,
    batch: &ImportBatch,
) -> Result<ImportCounts, DeskError> {
    caller.require_role(&MANAGERS)?;
    Ok(desk
        .audited_store(caller)
        .import(batch, desk.clock.now())
        .await?)
}

/// What is wrong with a new customer: its number and name are required, its region and
/// language those of the policy.
pub fn customer_problems(policy: &Policy, new: &NewCustomer) -> Vec<FieldProblem> {
    let mut problems = Problems::default();
    problems.text("number", &new.number, bounds::SHORT);
    problems.text("name", &new.name, bounds::NAME);
    if let Err(unknown) = policy.region(&new.region) {
        problems.add("region", Reason::invalid(unknown.to_string()));
    }
    problems.language(policy, &new.language);
    problems.into_problems()
}

/// What is wrong with a new contact: a name, an e-mail address, a language of the policy,
/// and a password of at least 12 characters when it has one.
pub fn contact_problems(policy: &Policy, form: &ContactForm) -> Vec<FieldProblem> {
    let mut problems = Problems::default();
    problems.text("name", &form.name, bounds::NAME);
    if form.email.chars().count() > bounds::EMAIL {
        problems.add("email", Reason::too_long(bounds::EMAIL));
    } else if !looks_like_email(&form.email) {
        problems.add("email", Reason::invalid("not an e-mail address"));
    }
    problems.at_most("phone", &form.phone, bounds::SHORT);
    problems.language(policy, &form.language);
    if let Some(password) = &form.password {
        // A password is kept (hashed) as typed, spaces and all.
        let length = password.chars().count();
        if length < 12 {
            problems.add("password", Reason::invalid("at least 12 characters"));
        } else if length > bounds::PASSWORD {
            problems.add("password", Reason::too_long(bounds::PASSWORD));
        }
    }
    problems.into_problems()
}

/// What is wrong with a new contract: a program of the policy, and an end on or after its
/// start.
pub fn contract_problems(policy: &Policy, new: &NewContract) -> Vec<FieldProblem> {
    let mut problems = Problems::default();
    if let Err(unknown) = policy.program(&new.program) {
        problems.add("program", Reason::invalid(unknown.to_string()));
    }
    if new.ends_on < new.starts_on {
        problems.add(
            "ends_on",
            Reason::invalid("the contract ends before it starts"),
        );
    }
    problems.into_problems()
}

/// What is wrong with a product to register: a product line of the policy, a version and a
/// serial number.
pub fn product_problems(policy: &Policy, new: &NewProduct) -> Vec<FieldProblem> {
    let mut problems = Problems::default();
    if let Err(unknown) = policy.product_line(&new.product_line) {
        problems.add("product_line", Reason::invalid(unknown.to_string()));
    }
    problems.text("version", &new.version, bounds::SHORT);
    problems.text("serial", &new.serial, bounds::SERIAL);
    licence_problems(policy, new, &mut problems);
    problems.into_problems()
}

/// The most installations one licence may allow.
pub const MAX_INSTALLATIONS: i64 = 10_000;

/// A licence's edition is one of its line's in the policy (any, when the line names none),
/// its licensed version a version, its installations at least one.
fn licence_problems(policy: &Policy, new: &NewProduct, problems: &mut Problems) {
    let licence = &new.licence;
    if let (Some(edition), Ok(line)) = (&licence.edition, policy.product_line(&new.product_line))
        && !line.editions.is_empty()
        && !line.editions.contains(edition)
    {
        problems.add(
            "edition",
            Reason::invalid(format!(
                "not an edition of {}: one of {}",
                line.name,
                line.editions.join(", ")
            )),
        );
    }
    if let Some(edition) = &licence.edition {
        problems.text("edition", edition, bounds::SHORT);
    }
    if let Some(reason) = licence
        .licensed_version
        .as_deref()
        .and_then(version_problem)
    {
        problems.add("licensed_version", Reason::invalid(reason));
    }
    if let Some(installations) = licence.installations
        && !(1..=MAX_INSTALLATIONS).contains(&installations)
    {
        problems.add(
            "installations",
            Reason::invalid(format!("between 1 and {MAX_INSTALLATIONS}")),
        );
    }
}

fn refuse_any(problems: Vec<FieldProblem>) -> Result<(), DeskError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DeskError::Invalid(problems))
    }
}

/// Names (or, with `None`, removes) the customer's dedicated customer success manager, who
/// sees all of its tickets. Only a customer with a current contract whose program includes
/// one may have one (POLICY.md §1, §7). Support managers and administrators only.
pub async fn set_csm(
    desk: &Desk,
    caller: &Caller,
    customer: i64,
    csm: Option<i64>,
) -> Result<Customer, DeskError> {
    caller.require_role(&[Role::SupportManager, Role::Admin])?;
    let found = desk.store.customer(customer).await?;
    if let Some(csm) = csm {
        match desk.store.staff_member(csm).await {
            Ok(member) if member.active && member.role == Role::CustomerSuccessManager => {}
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(DeskError::invalid(
                    "csm_id",
                    "no active customer success manager has this id",
                ));
            }
            Err(other) => return Err(DeskError::Store(other)),
        }
        let today = today_of(desk, &found)?;
        let contracts = desk.store.contracts_of(customer).await?;
        let entitled = contracts.iter().any(|contract| {
            contract.starts_on <= today
                && today <= contract.ends_on
                && desk
                    .policy()
                    .program(&contract.program)
                    .is_ok_and(|program| program.dedicated_csm)
        });
        if !entitled {
            return Err(DeskError::invalid(
                "csm_id",
                "the customer has no current contract whose program includes a dedicated customer success manager",
            ));
        }
    }
    Ok(desk.audited_store(caller).set_csm(customer, csm).await?)
}

/// Records that a care contract's end-user licence agreement is accepted (POLICY.md §1:
/// cover needs it), with who and when: a contact of the customer accepts it for its
/// organisation, a manager records an acceptance given otherwise (on paper, by phone).
/// Accepting an accepted contract changes nothing; an ended contract covers nothing any
/// more and is refused. Another organisation's contract is not found.
pub async fn accept_licence(
    desk: &Desk,
    caller: &Caller,
    contract: i64,
) -> Result<Contract, DeskError> {
    let found = desk.store.contract(contract).await?;
    match *caller {
        Caller::Contact { customer_id, .. } if customer_id != found.customer_id => {
            return Err(DeskError::NotFound);
        }
        Caller::Contact { .. } => {}
        Caller::Staff { .. } | Caller::System => caller.require_role(&MANAGERS)?,
    }
    if found.eula_accepted {
        return Ok(found);
    }
    let customer = desk.store.customer(found.customer_id).await?;
    if found.ends_on < today_of(desk, &customer)? {
        return Err(DeskError::invalid(
            "contract",
            format!(
                "the care contract ended on {}; a current contract is needed",
                found.ends_on
            ),
        ));
    }
    Ok(desk
        .audited_store(caller)
        .accept_licence(contract, desk.clock.now())
        .await?)
}

/// Where a contract stands today in its customer's region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Upcoming,
    Current,
    Ended,
}

/// A customer's care contracts, each with where it stands today, and its cover as intake
/// reads it (covered, or why not: a licence to accept, an ended contract…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Care {
    pub customer: Customer,
    pub contracts: Vec<(Contract, Standing)>,
    pub cover: Cover,
}

/// The customer's care contracts: a contact sees its own organisation's only (another is
/// not found), staff any customer's.
pub async fn care_of(desk: &Desk, caller: &Caller, customer: i64) -> Result<Care, DeskError> {
    if let Caller::Contact { customer_id, .. } = *caller
        && customer_id != customer
    {
        return Err(DeskError::NotFound);
    }
    let customer = desk.store.customer(customer).await?;
    let today = today_of(desk, &customer)?;
    let contracts: Vec<(Contract, Standing)> = desk
        .store
        .contracts_of(customer.id)
        .await?
        .into_iter()
        .map(|contract| {
            let standing = if today < contract.starts_on {
                Standing::Upcoming
            } else if contract.ends_on < today {
                Standing::Ended
            } else {
                Standing::Current
            };
            (contract, standing)
        })
        .collect();
    let terms: Vec<ContractTerms> = contracts
        .iter()
        .map(|(contract, _)| contract_terms(contract))
        .collect();
    Ok(Care {
        cover: cover(&terms, today),
        customer,
        contracts,
    })
}

/// Today in the customer's region, as intake reads cover.
fn today_of(desk: &Desk, customer: &Customer) -> Result<jiff::civil::Date, DeskError> {
    let policy = desk.policy();
    let region = policy
        .region(&customer.region)
        .map_err(DeskError::unexpected)?;
    Ok(region.today(desk.clock.now()))
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
                && !text
                    .contains(|character: char| character.is_whitespace() || character.is_control())
        }
        None => false,
    }
}
