//! The store's contract: every test runs against SQLite (a temporary file) and against
//! PostgreSQL (a fresh database, see caredesk-testkit). PostgreSQL is never skipped: without
//! it these tests fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use caredesk_domain::policy::{DEFAULT_POLICY_TOML, Policy};
use caredesk_domain::services::{ServiceCommand, ServiceRefusal, ServiceState, decide_service};
use caredesk_domain::ticket::clocks::{ClockContext, compute};
use caredesk_domain::ticket::{Actor, Command, EventData, Role, TicketState, decide};
use caredesk_store::{
    Activated, Change, Delivery, ImportBatch, Licence, LicenceTerms, NewActivation,
    NewActivationSession, NewAttachment, NewContact, NewContract, NewCustomer, NewProduct,
    NewRelease, NewServiceRequest, NewStaff, NewTicket, QueueFilter, Scope, ServiceUpdateError,
    SessionHolder, SessionOrigin, SessionOwner, StaffMember, Store, StoreError, StoredKey,
    UpdateError,
};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};

/// Each contract test, generated once per backend.
macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = caredesk_testkit::TestDatabase::sqlite().await;
                    super::$test(test.store.clone()).await;
                    test.finish().await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = caredesk_testkit::TestDatabase::postgres().await;
                    super::$test(test.store.clone()).await;
                    test.finish().await;
                }
            )*
        }
    };
}

contract!(
    customers_contacts_contracts_and_products,
    unique_values_are_conflicts_that_name_the_field,
    staff_and_tokens,
    tokens_expire_and_are_revoked_once,
    sessions_are_listed_and_ended_by_their_holder,
    the_release_catalog_is_ordered,
    a_product_carries_its_licence,
    the_activation_key_is_made_once,
    one_time_activation_passwords_are_used_once,
    installations_are_counted_one_activation_at_a_time,
    a_ticket_is_created_with_its_clocks,
    idempotent_creation_returns_the_same_ticket,
    updates_append_events_and_recompute_clocks,
    stored_clocks_always_equal_a_recomputation,
    a_stale_version_is_a_conflict,
    customers_see_only_their_own_tickets_and_public_events,
    concurrent_writers_lose_no_event,
    breaches_are_recorded_once_by_the_sweep,
    a_warning_is_dropped_when_its_clock_is_met_first,
    the_queue_is_in_policy_order_with_filters_and_pages,
    attachments_are_kept_once_per_content,
    a_failed_import_writes_nothing,
    tickets_are_imported_with_their_history,
    a_change_that_ends_a_clock_keeps_its_breach,
    attachments_of_internal_notes_stay_internal,
    intake_facts_gather_what_intake_needs,
    intake_is_recorded_on_the_timeline,
    unanswered_proposals_are_reminded_then_listed,
    service_requests_keep_their_states_and_their_keys,
    the_csm_and_manager_views_filter_the_queue,
    the_on_call_rota_is_listed_by_start,
    a_failed_creation_writes_nothing_and_the_next_one_works,
    advisor_loads_always_equal_a_recount,
    notices_are_written_with_the_events_that_call_for_them,
    notices_are_claimed_under_leases_and_delivered_once,
    periodic_jobs_run_under_one_lease_at_a_time,
    notices_given_back_untried_are_not_counted,
    a_customer_searches_its_own_tickets,
    tickets_opened_together_each_keep_their_own_rows,
    a_sign_in_burst_is_told_to_each_administrator_once,
    every_way_of_looking_for_texts_finds_the_same,
    a_customers_monthly_report_is_recorded_once,
    timelines_are_read_a_page_at_a_time,
    a_new_policy_version_rebuilds_the_open_tickets_once,
);

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn policy() -> Policy {
    Policy::built_in().unwrap()
}

const MONDAY_10: &str = "2026-11-23T10:00:00+01:00";

/// A customer of `program` in `region` with a contact, a contract and a product.
struct Fixture {
    customer_id: i64,
    contact_id: i64,
    program: &'static str,
    region: &'static str,
}

async fn customer(
    store: &Store,
    number: &str,
    program: &'static str,
    region: &'static str,
) -> Fixture {
    let now = at(MONDAY_10);
    let customer = store
        .create_customer(
            &NewCustomer {
                number: number.into(),
                name: format!("Customer {number}"),
                region: region.into(),
                language: "en".into(),
            },
            now,
        )
        .await
        .unwrap();
    let contact = store
        .create_contact(
            &NewContact {
                customer_id: customer.id,
                name: "Ada".into(),
                email: format!("ada@{number}.example"),
                phone: "+1 555 0100".into(),
                language: "en".into(),
                designated: true,
                password_hash: None,
            },
            now,
        )
        .await
        .unwrap();
    store
        .create_contract(
            &NewContract {
                customer_id: customer.id,
                program: program.into(),
                starts_on: date(2026, 1, 1),
                ends_on: date(2027, 12, 31),
                eula_accepted: true,
            },
            now,
        )
        .await
        .unwrap();
    store
        .register_product(
            &NewProduct {
                customer_id: customer.id,
                product_line: "ol-connect".into(),
                version: "2026.1".into(),
                serial: format!("SN-{number}"),
                licence: Default::default(),
            },
            now,
        )
        .await
        .unwrap();
    Fixture {
        customer_id: customer.id,
        contact_id: contact.id,
        program,
        region,
    }
}

fn new_ticket(fixture: &Fixture, severity: &str, key: Option<&str>) -> NewTicket {
    NewTicket {
        customer_id: fixture.customer_id,
        contact_id: Some(fixture.contact_id),
        product_id: None,
        product_line: "ol-connect".into(),
        version: "2026.1".into(),
        serial: "SN-1".into(),
        program: fixture.program.into(),
        region: fixture.region.into(),
        language: "en".into(),
        channel: "portal".into(),
        subject: "Printing stopped".into(),
        description: "Nothing comes out of the printer since the update.".into(),
        details: serde_json::json!({ "business_impact": "invoices are late" }),
        severity: severity.into(),
        actor: Actor::Contact {
            id: fixture.contact_id,
        },
        created_by: format!("contact:{}", fixture.contact_id),
        idempotency_key: key.map(str::to_string),
        request_hash: key.map(|_| "hash-1".to_string()),
        intake: None,
    }
}

/// What intake records for a ticket of `fixture` at MONDAY_10 (portal, English): `flags`,
/// and the advisor it went to, if any.
fn intake_record(
    policy: &Policy,
    fixture: &Fixture,
    severity: &str,
    flags: Vec<caredesk_domain::intake::IntakeFlag>,
    advisor: Option<i64>,
) -> caredesk_store::IntakeRecord {
    let profile = caredesk_domain::policy::TicketProfile {
        program: fixture.program,
        region: fixture.region,
        product_line: "ol-connect",
        severity,
        channel: "portal",
    };
    caredesk_store::IntakeRecord {
        flags,
        language: caredesk_domain::intake::LanguageChoice {
            language: "en".into(),
            reason: "preferred".into(),
        },
        coverage: caredesk_domain::intake::coverage_window(policy, &profile, at(MONDAY_10))
            .unwrap(),
        office_language: None,
        assignment: advisor.map(|advisor| caredesk_domain::routing::Assignment {
            advisor: Some(advisor),
            reason: "the lightest load".into(),
        }),
    }
}

/// A staff member of the emea office, `name@desk.example` (the name lower-cased).
async fn emea_staff(store: &Store, name: &str, role: Role, languages: &[&str]) -> StaffMember {
    store
        .create_staff(
            &NewStaff {
                email: format!("{}@desk.example", name.to_lowercase()),
                name: name.into(),
                role,
                region: Some("emea".into()),
                languages: languages
                    .iter()
                    .map(|language| language.to_string())
                    .collect(),
                password_hash: None,
            },
            at(MONDAY_10),
        )
        .await
        .unwrap()
}

const ADVISOR: Actor = Actor::Staff {
    id: 1,
    role: Role::Advisor,
};

async fn act(
    store: &Store,
    policy: &Policy,
    id: i64,
    when: &str,
    actor: Actor,
    command: Command,
) -> caredesk_store::TicketRecord {
    let role = actor.role().unwrap();
    store
        .update_ticket(policy, Change::by(actor, id, at(when)), |_, snapshot| {
            decide(snapshot, role, command, policy)
        })
        .await
        .unwrap()
        .0
}

fn reply(body: &str) -> Command {
    Command::Reply {
        body: body.into(),
        via: Default::default(),
    }
}

async fn customers_contacts_contracts_and_products(store: Store) {
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let customer = store.customer(fixture.customer_id).await.unwrap();
    assert_eq!(customer.number, "C-1");
    assert_eq!(store.customer_by_number("C-1").await.unwrap(), customer);
    let contact = store.contact_by_email("  ADA@c-1.EXAMPLE ").await.unwrap();
    assert_eq!(contact.id, fixture.contact_id);
    assert!(contact.designated);
    assert_eq!(store.contacts_of(customer.id).await.unwrap().len(), 1);
    let contracts = store.contracts_of(customer.id).await.unwrap();
    assert_eq!(contracts[0].program, "gold");
    assert_eq!(contracts[0].ends_on, date(2027, 12, 31));
    let product = store.product_by_serial("SN-C-1").await.unwrap();
    assert_eq!(product.customer_id, customer.id);
    assert_eq!(store.products_of(customer.id).await.unwrap(), vec![product]);
    assert!(matches!(
        store.customer(9999).await,
        Err(StoreError::NotFound)
    ));
}

async fn unique_values_are_conflicts_that_name_the_field(store: Store) {
    customer(&store, "C-1", "gold", "emea").await;
    let again = store
        .create_customer(
            &NewCustomer {
                number: "C-1".into(),
                name: "Twin".into(),
                region: "emea".into(),
                language: "en".into(),
            },
            at(MONDAY_10),
        )
        .await;
    let Err(StoreError::Conflict(message)) = again else {
        panic!("expected a conflict, got {again:?}")
    };
    assert_eq!(message, "number already exists");
}

async fn staff_and_tokens(store: Store) {
    let now = at(MONDAY_10);
    let advisor = store
        .create_staff(
            &NewStaff {
                email: "Anna@Desk.example".into(),
                name: "Anna".into(),
                role: Role::Advisor,
                region: Some("emea".into()),
                languages: vec!["en".into(), "nl".into()],
                password_hash: Some("hash".into()),
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(advisor.email, "anna@desk.example");
    assert_eq!(advisor.languages, ["en", "nl"]);
    assert_eq!(
        store.staff_by_email("ANNA@desk.example").await.unwrap().id,
        advisor.id
    );
    let token = store
        .add_api_token(advisor.id, "ci", "secret-token", now, None)
        .await
        .unwrap();
    assert_eq!(
        store.staff_by_token("secret-token", now).await.unwrap().id,
        advisor.id
    );
    assert!(matches!(
        store.staff_by_token("other", now).await,
        Err(StoreError::NotFound)
    ));
    store.revoke_api_token(token.id, now).await.unwrap();
    assert!(matches!(
        store.staff_by_token("secret-token", now).await,
        Err(StoreError::NotFound)
    ));
}

async fn tokens_expire_and_are_revoked_once(store: Store) {
    let now: Timestamp = "2026-12-04T10:00:00Z".parse().unwrap();
    let later = now + SignedDuration::from_hours(48);
    let member = store
        .create_staff(&staff_member("tokens@desk.example", Role::Admin), now)
        .await
        .unwrap();
    let lasting = store
        .add_api_token(member.id, "ci", "lasting-secret", now, None)
        .await
        .unwrap();
    let expiring = store
        .add_api_token(
            member.id,
            "demo",
            "expiring-secret",
            now,
            Some(now + SignedDuration::from_hours(24)),
        )
        .await
        .unwrap();
    assert!(expiring.is_active(now) && !expiring.is_active(later));
    assert_eq!(
        store
            .staff_by_token("expiring-secret", now)
            .await
            .unwrap()
            .id,
        member.id
    );
    assert!(matches!(
        store.staff_by_token("expiring-secret", later).await,
        Err(StoreError::NotFound)
    ));
    let listed = store.api_tokens(Some(member.id)).await.unwrap();
    assert_eq!(
        listed.iter().map(|token| token.id).collect::<Vec<_>>(),
        [expiring.id, lasting.id],
        "newest first"
    );
    assert!(
        store
            .api_tokens(Some(member.id + 1000))
            .await
            .unwrap()
            .is_empty()
    );
    let revoked = store.revoke_api_token(lasting.id, later).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(later));
    assert!(matches!(
        store.revoke_api_token(lasting.id, later).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.revoke_api_token(9_999_999, later).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        !store
            .revoke_api_token_by_secret("lasting-secret", later)
            .await
            .unwrap()
    );
    assert!(
        store
            .revoke_api_token_by_secret("expiring-secret", now)
            .await
            .unwrap()
    );
}

async fn sessions_are_listed_and_ended_by_their_holder(store: Store) {
    let now: Timestamp = "2026-12-04T10:00:00Z".parse().unwrap();
    let until = now + SignedDuration::from_hours(12);
    let member = store
        .create_staff(&staff_member("sessions@desk.example", Role::Advisor), now)
        .await
        .unwrap();
    let other = store
        .create_staff(&staff_member("other@desk.example", Role::Advisor), now)
        .await
        .unwrap();
    let origin = |address: &str| SessionOrigin {
        address: address.into(),
        client: "Firefox".into(),
    };
    let owner = SessionOwner::Staff(member.clone());
    store
        .open_session(&owner, "first", &origin("192.0.2.1"), now, until)
        .await
        .unwrap();
    store
        .open_session(&owner, "second", &origin("192.0.2.2"), now, until)
        .await
        .unwrap();
    store
        .open_session(
            &SessionOwner::Staff(other.clone()),
            "theirs",
            &origin("192.0.2.3"),
            now,
            until,
        )
        .await
        .unwrap();
    let holder = SessionHolder::Staff(member.id);
    let sessions = store.sessions_of(holder, "first", now).await.unwrap();
    assert_eq!(
        sessions
            .iter()
            .map(|session| (session.address.as_str(), session.current))
            .collect::<Vec<_>>(),
        [("192.0.2.2", false), ("192.0.2.1", true)]
    );
    let theirs = store
        .sessions_of(SessionHolder::Staff(other.id), "", now)
        .await
        .unwrap();
    assert!(matches!(
        store.end_session_of(holder, theirs[0].id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .end_session_of(SessionHolder::Contact(member.id), sessions[0].id)
            .await,
        Err(StoreError::NotFound)
    ));
    store.end_session_of(holder, sessions[0].id).await.unwrap();
    assert!(store.session_owner("second", now).await.is_err());
    assert!(store.session_owner("first", now).await.is_ok());
    assert!(store.close_session("first").await.unwrap());
    assert!(!store.close_session("first").await.unwrap());
    assert!(
        store
            .sessions_of(holder, "", until)
            .await
            .unwrap()
            .is_empty()
    );
}

fn staff_member(email: &str, role: Role) -> NewStaff {
    NewStaff {
        email: email.into(),
        name: "Someone".into(),
        role,
        region: Some("emea".into()),
        languages: vec!["en".into()],
        password_hash: None,
    }
}

/// Versions are placed by their numbers, not as text ("8.10" after "8.9", "8.2" before
/// both), whatever order they are published in; notes are kept by language; a version is
/// published once; a retired release stays, marked, and is not retired twice.
async fn the_release_catalog_is_ordered(store: Store) {
    let publish = |version: &str, notes: &[(&str, &str)]| NewRelease {
        product_line: "planetpress-suite".into(),
        version: version.into(),
        kind: "minor".into(),
        released_on: date(2024, 1, 1),
        download_url: Some(format!("https://downloads.example.com/{version}.exe")),
        sha256: Some("ab".repeat(32)),
        notes: notes
            .iter()
            .map(|(language, text)| (language.to_string(), text.to_string()))
            .collect(),
    };
    for version in ["8.9", "8.10", "8.2", "8.10.1"] {
        store
            .add_release(&publish(version, &[("en", "Notes"), ("ja", "ノート")]))
            .await
            .unwrap();
    }
    store
        .add_release(&NewRelease {
            product_line: "ol-connect".into(),
            ..publish("2024.1", &[])
        })
        .await
        .unwrap();
    let line = store.releases_of("planetpress-suite").await.unwrap();
    let order: Vec<(&str, i64)> = line
        .iter()
        .map(|release| (release.version.as_str(), release.position))
        .collect();
    assert_eq!(order, [("8.10.1", 4), ("8.10", 3), ("8.9", 2), ("8.2", 1)]);
    assert_eq!(
        line[0].download_url.as_deref(),
        Some("https://downloads.example.com/8.10.1.exe")
    );

    let notes = store
        .release_notes(Some("planetpress-suite"))
        .await
        .unwrap();
    assert_eq!(notes.len(), 8);
    assert!(notes.iter().any(|note| note.release_id == line[0].id
        && note.language == "ja"
        && note.notes == "ノート"));
    assert!(
        store
            .release_notes(Some("ol-connect"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.release_notes(None).await.unwrap().len(), 8);

    // Published at once, in any order: the line still reads in version order.
    let racers = ["9.3", "9.1", "9.4", "9.2", "9.0.1"].map(|version| {
        let store = store.clone();
        let new = NewRelease {
            product_line: "ol-connect".into(),
            ..publish(version, &[])
        };
        tokio::spawn(async move { store.add_release(&new).await.unwrap() })
    });
    for racer in racers {
        racer.await.unwrap();
    }
    let raced: Vec<(String, i64)> = store
        .releases_of("ol-connect")
        .await
        .unwrap()
        .into_iter()
        .map(|release| (release.version, release.position))
        .collect();
    let versions: Vec<&str> = raced.iter().map(|(version, _)| version.as_str()).collect();
    assert_eq!(versions, ["2024.1", "9.4", "9.3", "9.2", "9.1", "9.0.1"]);
    assert!(
        raced.windows(2).all(|pair| pair[0].1 > pair[1].1),
        "{raced:?}"
    );

    // A near duplicate is the same version.
    let near = store.add_release(&publish("8.09", &[])).await;
    assert!(
        matches!(&near, Err(StoreError::Conflict(detail)) if detail.contains("already in the catalog")),
        "{near:?}"
    );
    let again = store.add_release(&publish("8.9", &[])).await;
    assert!(
        matches!(&again, Err(StoreError::Conflict(detail)) if detail.contains("already in the catalog")),
        "{again:?}"
    );

    let retired = store
        .retire_release(line[1].id, at(MONDAY_10))
        .await
        .unwrap();
    assert_eq!(retired.retired_at, Some(at(MONDAY_10)));
    assert_eq!(store.release(line[1].id).await.unwrap(), retired);
    let twice = store.retire_release(line[1].id, at(MONDAY_10)).await;
    assert!(
        matches!(&twice, Err(StoreError::Conflict(detail)) if detail.contains("already retired")),
        "{twice:?}"
    );
    assert!(matches!(
        store.retire_release(9_999, at(MONDAY_10)).await,
        Err(StoreError::NotFound)
    ));
    let all: Vec<(String, String, bool)> = store
        .all_releases()
        .await
        .unwrap()
        .into_iter()
        .map(|release| {
            let retired = release.is_retired();
            (release.product_line, release.version, retired)
        })
        .collect();
    assert_eq!(
        all,
        [
            ("ol-connect".into(), "2024.1".into(), false),
            ("ol-connect".into(), "9.4".into(), false),
            ("ol-connect".into(), "9.3".into(), false),
            ("ol-connect".into(), "9.2".into(), false),
            ("ol-connect".into(), "9.1".into(), false),
            ("ol-connect".into(), "9.0.1".into(), false),
            ("planetpress-suite".into(), "8.10.1".into(), false),
            ("planetpress-suite".into(), "8.10".into(), true),
            ("planetpress-suite".into(), "8.9".into(), false),
            ("planetpress-suite".into(), "8.2".into(), false),
        ]
    );
}

/// A product's licence is stored with it and read back the same way by every reader (by
/// customer, by serial, at intake); what is not given takes its default.
async fn a_product_carries_its_licence(store: Store) {
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let licensed = store
        .register_product(
            &NewProduct {
                customer_id: fixture.customer_id,
                product_line: "ol-connect".into(),
                version: "2025.2".into(),
                serial: "OLC-LIC".into(),
                licence: LicenceTerms {
                    edition: Some("Print".into()),
                    licensed_version: Some("2026.1".into()),
                    installations: Some(3),
                },
            },
            at(MONDAY_10),
        )
        .await
        .unwrap();
    assert_eq!(
        licensed.licence,
        Licence {
            edition: Some("Print".into()),
            licensed_version: "2026.1".into(),
            installations: 3,
        }
    );
    assert_eq!(store.product_by_serial("OLC-LIC").await.unwrap(), licensed);
    let products = store.products_of(fixture.customer_id).await.unwrap();
    assert!(products.contains(&licensed));
    // The fixture's product was registered without a licence: its defaults.
    let plain = products
        .iter()
        .find(|product| product.id != licensed.id)
        .unwrap();
    assert_eq!(
        plain.licence,
        Licence {
            edition: None,
            licensed_version: plain.version.clone(),
            installations: 1,
        }
    );
    let facts = store
        .intake_facts(&policy(), fixture.customer_id, "ol-connect", at(MONDAY_10))
        .await
        .unwrap();
    assert_eq!(facts.products, products);
}

/// Instances that start together keep the first key written, and every later start reads it.
async fn the_activation_key_is_made_once(store: Store) {
    let first = StoredKey {
        public_key: "aa".repeat(32),
        private_key: "bb".repeat(32),
    };
    let second = StoredKey {
        public_key: "cc".repeat(32),
        private_key: "dd".repeat(32),
    };
    let (one, two) = tokio::join!(
        store.activation_key(&first, at(MONDAY_10)),
        store.activation_key(&second, at(MONDAY_10))
    );
    let kept = one.unwrap();
    assert_eq!(two.unwrap(), kept);
    assert!(kept == first || kept == second);
    assert_eq!(
        store.activation_key(&second, at(MONDAY_10)).await.unwrap(),
        kept
    );
}

/// A password is used once; a new one voids the old, which can then never be used.
async fn one_time_activation_passwords_are_used_once(store: Store) {
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let customer_id = fixture.customer_id;
    assert_eq!(store.activation_password(customer_id).await.unwrap(), None);
    let issued = at(MONDAY_10);
    let expires = issued + SignedDuration::from_hours(24 * 30);
    store
        .issue_activation_password(customer_id, "hash-1", issued, expires)
        .await
        .unwrap();
    let stored = store
        .activation_password(customer_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            stored.password_hash.as_str(),
            stored.issued_at,
            stored.expires_at,
            stored.used_at
        ),
        ("hash-1", issued, expires, None)
    );
    let later = issued + SignedDuration::from_hours(1);
    let session = |secret: &'static str| NewActivationSession {
        secret,
        expires_at: later + SignedDuration::from_hours(1),
        address: "192.0.2.7",
    };
    let (one, two) = (session("cd_one"), session("cd_two"));
    let (first, second) = tokio::join!(
        store.use_activation_password(customer_id, "hash-1", &one, later),
        store.use_activation_password(customer_id, "hash-1", &two, later)
    );
    assert_eq!(
        [first.unwrap(), second.unwrap()]
            .iter()
            .filter(|used| **used)
            .count(),
        1,
        "used exactly once"
    );
    // Exactly one session opened with it: the winner's.
    let opened: Vec<bool> = [
        store.activation_session_customer("cd_one", later).await,
        store.activation_session_customer("cd_two", later).await,
    ]
    .into_iter()
    .map(|found| match found {
        Ok(customer) => {
            assert_eq!(customer, customer_id);
            true
        }
        Err(StoreError::NotFound) => false,
        Err(other) => panic!("{other}"),
    })
    .collect();
    assert_eq!(opened.iter().filter(|open| **open).count(), 1, "{opened:?}");
    assert_eq!(
        store
            .activation_password(customer_id)
            .await
            .unwrap()
            .unwrap()
            .used_at,
        Some(later)
    );

    // Reissued in the same second: the old password cannot use the new one up.
    store
        .issue_activation_password(customer_id, "hash-2", issued, expires)
        .await
        .unwrap();
    // ... and the sessions it opened are over.
    for secret in ["cd_one", "cd_two"] {
        assert!(matches!(
            store.activation_session_customer(secret, later).await,
            Err(StoreError::NotFound)
        ));
    }
    let stored = store
        .activation_password(customer_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.password_hash.as_str(), stored.used_at),
        ("hash-2", None)
    );
    let used = |hash: &'static str, now: Timestamp| {
        let store = store.clone();
        async move {
            store
                .use_activation_password(customer_id, hash, &session("cd_three"), now)
                .await
                .unwrap()
        }
    };
    assert!(!used("hash-1", later).await);
    // Past its expiry it cannot be used either.
    assert!(!used("hash-2", expires).await);
    assert!(used("hash-2", later).await);
}

/// A licence's installations are counted under the product's lock: the same machine again
/// is the activation it has, one past the count is refused, a deactivated one frees its
/// place and stays in the history; of concurrent activations for the last place, one wins.
async fn installations_are_counted_one_activation_at_a_time(store: Store) {
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let register = |serial: &str, installations: i64| NewProduct {
        customer_id: fixture.customer_id,
        product_line: "ol-connect".into(),
        version: "2026.1".into(),
        serial: serial.into(),
        licence: LicenceTerms {
            installations: Some(installations),
            ..LicenceTerms::default()
        },
    };
    let product = store
        .register_product(&register("OLC-2", 2), at(MONDAY_10))
        .await
        .unwrap();
    let activation = |machine: &str| NewActivation {
        product_id: product.id,
        machine_id: machine.into(),
        code: format!("CDA1.code-for-{machine}"),
        highest_version: "2026.1".into(),
        by: "contact:1".into(),
        from: "192.0.2.7".into(),
    };
    let now = at(MONDAY_10);
    let Activated::New(first) = store.activate(&activation("machine-1"), now).await.unwrap() else {
        panic!("the first installation is new");
    };
    assert_eq!(
        (
            first.code.as_str(),
            first.activated_by.as_str(),
            first.activated_from.as_str()
        ),
        ("CDA1.code-for-machine-1", "contact:1", "192.0.2.7")
    );
    let mut again = activation("machine-1");
    again.code = "CDA1.another-code".into();
    assert_eq!(
        store.activate(&again, now).await.unwrap(),
        Activated::Already(first.clone())
    );
    assert!(matches!(
        store.activate(&activation("machine-2"), now).await.unwrap(),
        Activated::New(_)
    ));
    assert_eq!(
        store.activate(&activation("machine-3"), now).await.unwrap(),
        Activated::AllInUse { installations: 2 }
    );

    let later = now + SignedDuration::from_hours(1);
    let freed = store
        .deactivate(first.id, "staff:9", "198.51.100.1", later)
        .await
        .unwrap();
    assert_eq!(
        (
            freed.deactivated_at,
            freed.deactivated_by.as_deref(),
            freed.deactivated_from.as_deref()
        ),
        (Some(later), Some("staff:9"), Some("198.51.100.1"))
    );
    assert!(matches!(
        store.deactivate(first.id, "staff:9", "", later).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.deactivate(999_999, "staff:9", "", later).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .active_activation(product.id, "machine-1")
            .await
            .unwrap(),
        None
    );
    // What an update check reads in one query: the product, and the active code on that
    // machine (none once deactivated, none on a machine never activated).
    let (found, code) = store
        .product_activated_on("OLC-2", "machine-2")
        .await
        .unwrap();
    assert_eq!(
        (found.id, code.as_deref()),
        (product.id, Some("CDA1.code-for-machine-2"))
    );
    for machine in ["machine-1", "machine-9"] {
        let (_, code) = store.product_activated_on("OLC-2", machine).await.unwrap();
        assert_eq!(code, None, "{machine}");
    }
    assert!(matches!(
        store.product_activated_on("OLC-404", "machine-2").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .activate(&activation("machine-3"), later)
            .await
            .unwrap(),
        Activated::New(_)
    ));
    let history: Vec<(String, bool)> = store
        .activations_of(product.id)
        .await
        .unwrap()
        .into_iter()
        .map(|activation| {
            let active = activation.is_active();
            (activation.machine_id, active)
        })
        .collect();
    assert_eq!(
        history,
        [
            ("machine-3".to_string(), true),
            ("machine-2".to_string(), true),
            ("machine-1".to_string(), false)
        ]
    );
    assert_eq!(store.activation(freed.id).await.unwrap(), freed);
    assert!(matches!(
        store
            .activate(
                &NewActivation {
                    product_id: 999_999,
                    ..activation("machine-9")
                },
                now
            )
            .await,
        Err(StoreError::NotFound)
    ));

    // Five machines at once for one place: one is activated, four are told all are in use.
    let single = store
        .register_product(&register("OLC-3", 1), at(MONDAY_10))
        .await
        .unwrap();
    let attempts = (0..5).map(|index| {
        let store = store.clone();
        let new = NewActivation {
            product_id: single.id,
            ..activation(&format!("racer-{index}"))
        };
        tokio::spawn(async move { store.activate(&new, now).await.unwrap() })
    });
    let mut outcomes = Vec::new();
    for attempt in attempts {
        outcomes.push(attempt.await.unwrap());
    }
    assert_eq!(
        outcomes
            .iter()
            .filter(|outcome| matches!(outcome, Activated::New(_)))
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(store.activations_of(single.id).await.unwrap().len(), 1);
}

async fn a_ticket_is_created_with_its_clocks(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let created = store
        .create_ticket(&policy, &new_ticket(&fixture, "P2", None), at(MONDAY_10))
        .await
        .unwrap();
    let ticket = created.ticket;
    assert!(!created.replayed);
    // What creation returns is what was stored.
    assert_eq!(store.ticket(ticket.id, Scope::All).await.unwrap(), ticket);
    assert_eq!(
        created.timeline,
        store.timeline(ticket.id, Scope::All).await.unwrap()
    );
    assert_eq!(ticket.state, TicketState::New);
    assert_eq!(ticket.version_number, 1);
    assert_eq!(ticket.calendar, "emea");
    assert_eq!(
        ticket.first_response_due_at,
        Some(at("2026-11-23T14:00:00+01:00"))
    );
    assert_eq!(
        ticket.resolution_due_at,
        Some(at("2026-11-26T10:00:00+01:00"))
    );
    assert_eq!(ticket.details["business_impact"], "invoices are late");
    let timeline = store.timeline(ticket.id, Scope::All).await.unwrap();
    assert_eq!(timeline.len(), 1);
    assert!(matches!(timeline[0].data, EventData::Created { .. }));
}

async fn idempotent_creation_returns_the_same_ticket(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let request = new_ticket(&fixture, "P2", Some("key-1"));
    let first = store
        .create_ticket(&policy, &request, at(MONDAY_10))
        .await
        .unwrap();
    let second = store
        .create_ticket(&policy, &request, at(MONDAY_10))
        .await
        .unwrap();
    assert!(second.replayed);
    assert_eq!(first.ticket.id, second.ticket.id);
    // The same key with a different request is refused.
    let different = NewTicket {
        request_hash: Some("hash-2".into()),
        ..request.clone()
    };
    assert!(matches!(
        store
            .create_ticket(&policy, &different, at(MONDAY_10))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Concurrent retries still make one ticket.
    let store = Arc::new(store);
    let racing = NewTicket {
        idempotency_key: Some("key-2".into()),
        ..request
    };
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (store, policy, racing) = (store.clone(), policy_arc(), racing.clone());
            tokio::spawn(async move {
                store
                    .create_ticket(&policy, &racing, at(MONDAY_10))
                    .await
                    .unwrap()
                    .ticket
                    .id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

fn policy_arc() -> Arc<Policy> {
    Arc::new(policy())
}

async fn updates_append_events_and_recompute_clocks(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let id = store
        .create_ticket(&policy, &new_ticket(&fixture, "P2", None), at(MONDAY_10))
        .await
        .unwrap()
        .ticket
        .id;
    let ticket = act(
        &store,
        &policy,
        id,
        "2026-11-23T11:00:00+01:00",
        ADVISOR,
        reply("on it"),
    )
    .await;
    assert_eq!(ticket.state, TicketState::InProgress);
    assert_eq!(ticket.version_number, 2);
    assert_eq!(
        ticket.next_update_due_at,
        Some(at("2026-11-24T11:00:00+01:00"))
    );
    let ticket = act(
        &store,
        &policy,
        id,
        "2026-11-23T12:00:00+01:00",
        ADVISOR,
        Command::ChangeSeverity {
            severity: "P1".into(),
            reason: "production stopped".into(),
        },
    )
    .await;
    assert_eq!(ticket.severity, "P1");
    assert_eq!(
        ticket.resolution_due_at,
        Some(at("2026-11-25T10:00:00+01:00"))
    );
    // A refusal writes nothing.
    let refused = store
        .update_ticket(
            &policy,
            Change::by(ADVISOR, id, at("2026-11-23T13:00:00+01:00")),
            |_, snapshot| {
                decide(
                    snapshot,
                    Role::Advisor,
                    Command::AcceptSolution {
                        note: String::new(),
                    },
                    &policy,
                )
            },
        )
        .await;
    assert!(matches!(refused, Err(UpdateError::Refused(_))));
    assert_eq!(store.timeline(id, Scope::All).await.unwrap().len(), 3);
}

async fn stored_clocks_always_equal_a_recomputation(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "gold", "americas").await;
    let id = store
        .create_ticket(
            &policy,
            &new_ticket(&fixture, "P1", None),
            at("2026-11-27T20:00:00-05:00"),
        )
        .await
        .unwrap()
        .ticket
        .id;
    let steps: Vec<(&str, Command)> = vec![
        ("2026-11-27T20:30:00-05:00", reply("looking")),
        (
            "2026-11-27T21:00:00-05:00",
            Command::RequestFromCustomer {
                request: caredesk_domain::ticket::CustomerRequest::Information,
                body: "logs please".into(),
            },
        ),
        (
            "2026-11-30T09:00:00-05:00",
            Command::CustomerMessage {
                body: "attached".into(),
            },
        ),
        (
            "2026-11-30T10:00:00-05:00",
            Command::ChangeSeverity {
                severity: "P2".into(),
                reason: "workaround found".into(),
            },
        ),
        (
            "2026-11-30T11:00:00-05:00",
            Command::ProposeSolution {
                resolution: caredesk_domain::ticket::Resolution::Workaround,
                body: "restart the service nightly".into(),
            },
        ),
        (
            "2026-11-30T12:00:00-05:00",
            Command::RejectSolution {
                reason: "not acceptable".into(),
            },
        ),
    ];
    for (when, command) in steps {
        let actor = match command {
            Command::CustomerMessage { .. } | Command::RejectSolution { .. } => Actor::Contact {
                id: fixture.contact_id,
            },
            _ => ADVISOR,
        };
        let stored = act(&store, &policy, id, when, actor, command).await;
        let events = store.timeline(id, Scope::All).await.unwrap();
        let context = ClockContext {
            program: &stored.program,
            region: &stored.region,
            product_line: &stored.product_line,
        };
        let clocks = compute(&policy, &context, &events, at(when)).unwrap();
        assert_eq!(stored.calendar, clocks.calendar, "{when}");
        assert_eq!(
            stored.first_response_due_at, clocks.first_response.due_at,
            "{when}"
        );
        assert_eq!(
            stored.next_update_due_at,
            clocks.next_update.as_ref().and_then(|c| c.due_at),
            "{when}"
        );
        assert_eq!(
            stored.resolution_due_at,
            clocks.resolution.as_ref().and_then(|c| c.due_at),
            "{when}"
        );
        assert_eq!(stored.next_due_at, clocks.next_due(), "{when}");
        assert_eq!(stored.at_risk_at, clocks.next_at_risk(), "{when}");
    }
}

async fn a_stale_version_is_a_conflict(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let ticket = store
        .create_ticket(&policy, &new_ticket(&fixture, "P3", None), at(MONDAY_10))
        .await
        .unwrap()
        .ticket;
    let update = |version: i64| {
        let (store, policy) = (&store, &policy);
        async move {
            store
                .update_ticket(
                    policy,
                    Change {
                        expected_version: Some(version),
                        ..Change::by(ADVISOR, ticket.id, at(MONDAY_10))
                    },
                    |_, snapshot| decide(snapshot, Role::Advisor, reply("hello"), policy),
                )
                .await
        }
    };
    update(1).await.unwrap();
    assert!(matches!(
        update(1).await,
        Err(UpdateError::Store(StoreError::StaleVersion(_)))
    ));
    assert_eq!(
        store.timeline(ticket.id, Scope::All).await.unwrap().len(),
        2
    );
}

async fn customers_see_only_their_own_tickets_and_public_events(store: Store) {
    let policy = policy();
    let alpha = customer(&store, "ALPHA", "standard", "emea").await;
    let beta = customer(&store, "BETA", "standard", "emea").await;
    let id = store
        .create_ticket(&policy, &new_ticket(&alpha, "P3", None), at(MONDAY_10))
        .await
        .unwrap()
        .ticket
        .id;
    act(
        &store,
        &policy,
        id,
        MONDAY_10,
        ADVISOR,
        Command::Note {
            body: "internal".into(),
        },
    )
    .await;
    assert!(
        store
            .ticket(id, Scope::Customer(alpha.customer_id))
            .await
            .is_ok()
    );
    assert!(matches!(
        store.ticket(id, Scope::Customer(beta.customer_id)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.timeline(id, Scope::Customer(beta.customer_id)).await,
        Err(StoreError::NotFound)
    ));
    let visible = store
        .timeline(id, Scope::Customer(alpha.customer_id))
        .await
        .unwrap();
    assert_eq!(visible.len(), 1, "the internal note stays internal");
    let refused = store
        .update_ticket(
            &policy,
            Change {
                scope: Scope::Customer(beta.customer_id),
                ..Change::by(
                    Actor::Contact {
                        id: beta.contact_id,
                    },
                    id,
                    at(MONDAY_10),
                )
            },
            |_, snapshot| {
                decide(
                    snapshot,
                    Role::CustomerContact,
                    Command::CustomerMessage { body: "hi".into() },
                    &policy,
                )
            },
        )
        .await;
    assert!(matches!(
        refused,
        Err(UpdateError::Store(StoreError::NotFound))
    ));
    let attachment = NewAttachment {
        ticket_id: id,
        event_seq: None,
        filename: "log.txt".into(),
        content_type: "text/plain".into(),
        content: b"secret".to_vec(),
        uploaded_by: "contact".into(),
    };
    assert!(matches!(
        store
            .add_attachment(
                &attachment,
                Scope::Customer(beta.customer_id),
                at(MONDAY_10)
            )
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn concurrent_writers_lose_no_event(store: Store) {
    let policy = Arc::new(policy());
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let id = store
        .create_ticket(&policy, &new_ticket(&fixture, "P3", None), at(MONDAY_10))
        .await
        .unwrap()
        .ticket
        .id;
    let store = Arc::new(store);
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let (store, policy) = (store.clone(), policy.clone());
            tokio::spawn(async move {
                for note in 0..100 {
                    store
                        .update_ticket(
                            &policy,
                            Change::by(ADVISOR, id, at(MONDAY_10)),
                            |_, snapshot| {
                                decide(
                                    snapshot,
                                    Role::Advisor,
                                    Command::Note {
                                        body: format!("writer {writer} note {note}"),
                                    },
                                    &policy,
                                )
                            },
                        )
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let timeline = store.timeline(id, Scope::All).await.unwrap();
    assert_eq!(timeline.len(), 201);
    assert!(
        timeline
            .iter()
            .enumerate()
            .all(|(index, event)| event.seq as usize == index + 1)
    );
    assert_eq!(
        store.ticket(id, Scope::All).await.unwrap().version_number,
        201
    );
}

async fn breaches_are_recorded_once_by_the_sweep(store: Store) {
    // Breaches alone: no alert of a P2 that nobody works (which would come at 12:00).
    let policy = Policy::from_toml(
        &DEFAULT_POLICY_TOML.replace("idle_alert_after = \"2h\"", "idle_alert_after = \"none\""),
        "no-idle-alerts.toml",
    )
    .unwrap();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let id = store
        .create_ticket(&policy, &new_ticket(&fixture, "P2", None), at(MONDAY_10))
        .await
        .unwrap()
        .ticket
        .id;
    // Before the first response is due nothing happens.
    assert_eq!(
        store
            .record_due_breaches(&policy, at("2026-11-23T13:00:00+01:00"), 100)
            .await
            .unwrap()
            .recorded,
        0
    );
    assert_eq!(
        store
            .record_due_breaches(&policy, at("2026-11-23T14:05:00+01:00"), 100)
            .await
            .unwrap()
            .recorded,
        1
    );
    assert_eq!(
        store
            .record_due_breaches(&policy, at("2026-11-23T14:10:00+01:00"), 100)
            .await
            .unwrap()
            .recorded,
        0
    );
    let ticket = store.ticket(id, Scope::All).await.unwrap();
    assert!(ticket.breached);
    let breaches: Vec<_> = store
        .timeline(id, Scope::All)
        .await
        .unwrap()
        .into_iter()
        .filter(|event| matches!(event.data, EventData::ClockBreached { .. }))
        .collect();
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].actor, Actor::System);
    // A P2 breach escalates to the support manager by itself (escalate_on_breach).
    assert!(ticket.escalation_open);
    let timeline = store.timeline(id, Scope::All).await.unwrap();
    assert!(timeline.iter().any(|event| event.actor == Actor::System
        && matches!(&event.data, EventData::EscalationRequested { reason } if reason.contains("first response"))));
    // Three business days later the resolution target passes too.
    assert_eq!(
        store
            .record_due_breaches(&policy, at("2026-11-27T10:00:00+01:00"), 100)
            .await
            .unwrap()
            .recorded,
        1
    );
}

async fn the_queue_is_in_policy_order_with_filters_and_pages(store: Store) {
    let policy = policy();
    let standard = customer(&store, "STD", "standard", "emea").await;
    let gold = customer(&store, "GLD", "gold", "emea").await;
    let americas = customer(&store, "AMR", "standard", "americas").await;
    let open = |fixture: &Fixture, severity: &str, when: &str| {
        let request = new_ticket(fixture, severity, None);
        let (store, policy, when) = (&store, &policy, at(when));
        async move {
            store
                .create_ticket(policy, &request, when)
                .await
                .unwrap()
                .ticket
                .id
        }
    };
    let p3_standard = open(&standard, "P3", "2026-11-23T09:00:00+01:00").await;
    let p1_standard_late = open(&standard, "P1", "2026-11-23T11:00:00+01:00").await;
    let p1_standard_early = open(&standard, "P1", "2026-11-23T10:00:00+01:00").await;
    let p1_gold = open(&gold, "P1", "2026-11-23T12:00:00+01:00").await;
    let p2_americas = open(&americas, "P2", "2026-11-23T08:00:00-05:00").await;
    let now = at("2026-11-23T12:30:00+01:00");

    let ids = |tickets: Vec<caredesk_store::TicketRecord>| {
        tickets.into_iter().map(|t| t.id).collect::<Vec<_>>()
    };
    let all = store
        .queue(&QueueFilter::default(), None, 50, now)
        .await
        .unwrap();
    assert_eq!(
        ids(all.clone()),
        [
            p1_gold,
            p1_standard_early,
            p1_standard_late,
            p2_americas,
            p3_standard
        ]
    );
    // Pages of two, each after the last row of the one before.
    let first = store
        .queue(&QueueFilter::default(), None, 2, now)
        .await
        .unwrap();
    let second = store
        .queue(&QueueFilter::default(), Some(first[1].sort_key), 2, now)
        .await
        .unwrap();
    let third = store
        .queue(&QueueFilter::default(), Some(second[1].sort_key), 2, now)
        .await
        .unwrap();
    assert_eq!([ids(first), ids(second), ids(third)].concat(), ids(all));

    let region = QueueFilter {
        region: Some("americas".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(store.queue(&region, None, 50, now).await.unwrap()),
        [p2_americas]
    );
    let gold_only = QueueFilter {
        program: Some("gold".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(store.queue(&gold_only, None, 50, now).await.unwrap()),
        [p1_gold]
    );
    // The 10:00 P1 ticket's first response (4 h, due 14:00) is at risk from 13:12; at 13:30
    // it is, the 11:00 one (at risk from 14:12) is not yet, and the P3 one is already late.
    let at_risk = QueueFilter {
        at_risk: Some(true),
        ..Default::default()
    };
    let later = at("2026-11-23T13:30:00+01:00");
    assert_eq!(
        ids(store.queue(&at_risk, None, 50, later).await.unwrap()),
        [p1_standard_early]
    );
    let breached = QueueFilter {
        breached: Some(true),
        ..Default::default()
    };
    let evening = at("2026-11-23T15:30:00+01:00");
    let late: Vec<i64> = ids(store.queue(&breached, None, 50, evening).await.unwrap());
    assert!(
        late.contains(&p1_standard_early) && late.contains(&p3_standard),
        "{late:?}"
    );
    let new_only = QueueFilter {
        state: Some(TicketState::New),
        customer_id: Some(gold.customer_id),
        ..Default::default()
    };
    assert_eq!(
        ids(store.queue(&new_only, None, 50, now).await.unwrap()),
        [p1_gold]
    );
}

async fn attachments_are_kept_once_per_content(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let id = store
        .create_ticket(&policy, &new_ticket(&fixture, "P3", None), at(MONDAY_10))
        .await
        .unwrap()
        .ticket
        .id;
    let attachment = |name: &str| NewAttachment {
        ticket_id: id,
        event_seq: Some(1),
        filename: name.into(),
        content_type: "text/plain".into(),
        content: b"ERROR 42 at line 7".to_vec(),
        uploaded_by: "contact:1".into(),
    };
    let first = store
        .add_attachment(
            &attachment("a.log"),
            Scope::Customer(fixture.customer_id),
            at(MONDAY_10),
        )
        .await
        .unwrap();
    let second = store
        .add_attachment(&attachment("b.log"), Scope::All, at(MONDAY_10))
        .await
        .unwrap();
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(first.size, 18);
    let read = store.attachment(id, second.id, Scope::All).await.unwrap();
    assert_eq!(read.content, b"ERROR 42 at line 7");
    assert_eq!(read.attachment.filename, "b.log");
    assert_eq!(store.attachments_of(id, Scope::All).await.unwrap().len(), 2);
}

async fn a_failed_import_writes_nothing(store: Store) {
    let contact = |email: &str| NewContact {
        customer_id: 0,
        name: "Bob".into(),
        email: email.into(),
        phone: String::new(),
        language: "fr".into(),
        designated: false,
        password_hash: None,
    };
    let batch = ImportBatch {
        customers: vec![NewCustomer {
            number: "IMP-1".into(),
            name: "Imported".into(),
            region: "americas".into(),
            language: "fr".into(),
        }],
        contacts: vec![
            ("IMP-1".into(), contact("bob@imp.example")),
            ("IMP-1".into(), contact("bob@imp.example")),
        ],
        contracts: vec![],
        products: vec![],
    };
    assert!(matches!(
        store.import(&batch, at(MONDAY_10)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.customer_by_number("IMP-1").await,
        Err(StoreError::NotFound)
    ));
    let fixed = ImportBatch {
        contacts: vec![("IMP-1".into(), contact("bob@imp.example"))],
        ..batch
    };
    let counts = store.import(&fixed, at(MONDAY_10)).await.unwrap();
    assert_eq!((counts.customers, counts.contacts), (1, 1));
}

async fn tickets_are_imported_with_their_history(store: Store) {
    use caredesk_domain::ticket::{Snapshot, TicketEvent};
    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let new = new_ticket(&fixture, "P3", None);
    let mut events = vec![TicketEvent {
        seq: 1,
        at: at(MONDAY_10),
        actor: new.actor,
        data: EventData::Created {
            severity: "P3".into(),
            channel: "portal".into(),
        },
    }];
    for (when, role, actor, command) in [
        (
            "2026-11-23T11:00:00+01:00",
            Role::Advisor,
            ADVISOR,
            reply("on it"),
        ),
        (
            "2026-11-24T11:00:00+01:00",
            Role::Advisor,
            ADVISOR,
            Command::ProposeSolution {
                resolution: caredesk_domain::ticket::Resolution::PermanentFix,
                body: "patched".into(),
            },
        ),
        (
            "2026-11-24T12:00:00+01:00",
            Role::CustomerContact,
            new.actor,
            Command::AcceptSolution {
                note: String::new(),
            },
        ),
    ] {
        let snapshot = Snapshot::of(&events).unwrap();
        for data in decide(&snapshot, role, command, &policy).unwrap() {
            let seq = events.len() as u32 + 1;
            events.push(TicketEvent {
                seq,
                at: at(when),
                actor,
                data,
            });
        }
    }
    // A second ticket whose first response never came: its breach is recorded on import.
    let forgotten = vec![events[0].clone()];
    let ids = store
        .import_tickets(
            &policy,
            &[(new.clone(), events), (new.clone(), forgotten)],
            at("2026-12-01T10:00:00+01:00"),
        )
        .await
        .unwrap();
    let closed = store.ticket(ids[0], Scope::All).await.unwrap();
    assert_eq!(closed.state, TicketState::Closed);
    assert_eq!(closed.version_number, 5);
    assert_eq!(closed.closed_at, Some(at("2026-11-24T12:00:00+01:00")));
    let late = store.ticket(ids[1], Scope::All).await.unwrap();
    assert!(late.breached);
    // Imported events are in the timeline the database keeps for bulk reads, too.
    let read = every_timeline_read_in_bulk(&store, date(2026, 11, 1), date(2026, 11, 30)).await;
    for id in ids {
        let bulk = read.iter().find(|ticket| ticket.id == id).unwrap();
        assert_eq!(bulk.events, store.timeline(id, Scope::All).await.unwrap());
    }
    // A timeline that does not start with its created event is refused, and nothing is kept.
    let before = store
        .queue(&QueueFilter::default(), None, 100, at(MONDAY_10))
        .await
        .unwrap()
        .len();
    let broken = vec![TicketEvent {
        seq: 1,
        at: at(MONDAY_10),
        actor: ADVISOR,
        data: EventData::InternalNote {
            body: "no start".into(),
        },
    }];
    assert!(matches!(
        store
            .import_tickets(
                &policy,
                &[(new.clone(), vec![]), (new, broken)],
                at(MONDAY_10)
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    let after = store
        .queue(&QueueFilter::default(), None, 100, at(MONDAY_10))
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
}

async fn a_change_that_ends_a_clock_keeps_its_breach(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let id = store
        .create_ticket(&policy, &new_ticket(&fixture, "P2", None), at(MONDAY_10))
        .await
        .unwrap()
        .ticket
        .id;
    act(
        &store,
        &policy,
        id,
        "2026-11-23T11:00:00+01:00",
        ADVISOR,
        reply("on it"),
    )
    .await;
    // The daily update was due Tuesday 11:00; nobody swept; Wednesday's update ends that clock.
    act(
        &store,
        &policy,
        id,
        "2026-11-25T12:00:00+01:00",
        ADVISOR,
        reply("still on it"),
    )
    .await;
    // Then lowering the severity to P4 (no resolution clock) after the resolution ran out.
    act(
        &store,
        &policy,
        id,
        "2026-12-03T12:00:00+01:00",
        ADVISOR,
        Command::ChangeSeverity {
            severity: "P4".into(),
            reason: "cosmetic after all".into(),
        },
    )
    .await;
    let breached: Vec<_> = store
        .timeline(id, Scope::All)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|event| match event.data {
            EventData::ClockBreached { clock, .. } => Some(clock),
            _ => None,
        })
        .collect();
    use caredesk_domain::ticket::ClockKind;
    assert!(breached.contains(&ClockKind::NextUpdate), "{breached:?}");
    assert!(breached.contains(&ClockKind::Resolution), "{breached:?}");
    // Nothing remains for the sweep.
    let sweep = store
        .record_due_breaches(&policy, at("2026-12-04T12:00:00+01:00"), 100)
        .await
        .unwrap();
    assert_eq!(sweep.recorded, 0);
    assert!(sweep.failed.is_empty());
}

async fn attachments_of_internal_notes_stay_internal(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let id = store
        .create_ticket(&policy, &new_ticket(&fixture, "P3", None), at(MONDAY_10))
        .await
        .unwrap()
        .ticket
        .id;
    act(
        &store,
        &policy,
        id,
        MONDAY_10,
        ADVISOR,
        Command::Note {
            body: "see the dump".into(),
        },
    )
    .await;
    let file = |seq: Option<i64>| NewAttachment {
        ticket_id: id,
        event_seq: seq,
        filename: "dump.bin".into(),
        content_type: "application/octet-stream".into(),
        content: vec![1, 2, 3],
        uploaded_by: "staff:1".into(),
    };
    let customer = Scope::Customer(fixture.customer_id);
    let internal = store
        .add_attachment(&file(Some(2)), Scope::All, at(MONDAY_10))
        .await
        .unwrap();
    let public = store
        .add_attachment(&file(Some(1)), customer, at(MONDAY_10))
        .await
        .unwrap();
    let seen: Vec<i64> = store
        .attachments_of(id, customer)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(seen, [public.id]);
    assert!(matches!(
        store.attachment(id, internal.id, customer).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.attachments_of(id, Scope::All).await.unwrap().len(), 2);
    // A customer cannot hang a file on the internal note, nor anyone on a missing event.
    assert!(matches!(
        store
            .add_attachment(&file(Some(2)), customer, at(MONDAY_10))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .add_attachment(&file(Some(9)), Scope::All, at(MONDAY_10))
            .await,
        Err(StoreError::Conflict(_))
    ));
}

async fn intake_facts_gather_what_intake_needs(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "gold", "americas").await;
    for version in ["2025.1", "2025.2", "2026.1"] {
        store
            .add_release(&NewRelease {
                product_line: "ol-connect".into(),
                version: version.into(),
                kind: "minor".into(),
                released_on: date(2026, 1, 1),
                download_url: None,
                sha256: None,
                notes: Default::default(),
            })
            .await
            .unwrap();
    }
    let staff = |email: &str, region: &str, languages: &[&str]| NewStaff {
        email: email.into(),
        name: email.split('@').next().unwrap().into(),
        role: Role::Advisor,
        region: Some(region.into()),
        languages: languages.iter().map(|l| l.to_string()).collect(),
        password_hash: None,
    };
    let busy = store
        .create_staff(
            &staff("busy@desk", "americas", &["en", "fr"]),
            at(MONDAY_10),
        )
        .await
        .unwrap();
    let away = store
        .create_staff(&staff("away@desk", "americas", &["en"]), at(MONDAY_10))
        .await
        .unwrap();
    store
        .create_staff(&staff("far@desk", "emea", &["en"]), at(MONDAY_10))
        .await
        .unwrap();
    store.set_availability(away.id, false).await.unwrap();
    assert!(matches!(
        store.set_availability(999_999, false).await,
        Err(StoreError::NotFound)
    ));
    // Two open tickets on `busy`: a P1 (weight 8) and a P3 (weight 2).
    for severity in ["P1", "P3"] {
        let id = store
            .create_ticket(
                &policy,
                &new_ticket(&fixture, severity, None),
                at(MONDAY_10),
            )
            .await
            .unwrap()
            .ticket
            .id;
        act(
            &store,
            &policy,
            id,
            MONDAY_10,
            ADVISOR,
            Command::Assign {
                advisor: Some(busy.id),
                reason: None,
            },
        )
        .await;
    }
    store
        .add_on_call_shift(
            "americas",
            busy.id,
            at("2026-11-23T17:00:00-05:00"),
            at("2026-11-24T08:00:00-05:00"),
        )
        .await
        .unwrap();
    assert!(
        store
            .add_on_call_shift("americas", busy.id, at(MONDAY_10), at(MONDAY_10))
            .await
            .is_err()
    );

    let facts = store
        .intake_facts(
            &policy,
            fixture.customer_id,
            "ol-connect",
            at("2026-11-23T20:00:00-05:00"),
        )
        .await
        .unwrap();
    // Read in one statement as JSON, the same records as read one table at a time.
    assert_eq!(
        facts.customer,
        store.customer(fixture.customer_id).await.unwrap()
    );
    assert_eq!(
        facts.contracts,
        store.contracts_of(fixture.customer_id).await.unwrap()
    );
    assert_eq!(
        facts.contacts,
        store.contacts_of(fixture.customer_id).await.unwrap()
    );
    assert_eq!(
        facts.products,
        store.products_of(fixture.customer_id).await.unwrap()
    );
    assert_eq!(
        facts.releases,
        store.releases_of("ol-connect").await.unwrap()
    );
    assert_eq!(facts.contracts.len(), 1);
    assert_eq!(facts.contacts.len(), 1);
    assert_eq!(facts.products.len(), 1);
    let versions: Vec<&str> = facts.releases.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["2026.1", "2025.2", "2025.1"]);
    let loads: Vec<(i64, bool, u64)> = facts
        .candidates
        .iter()
        .map(|c| (c.id, c.available, c.load))
        .collect();
    assert_eq!(
        loads,
        [(busy.id, true, 10), (away.id, false, 0)],
        "only advisors of the region"
    );
    assert_eq!(facts.on_call.len(), 1);
    assert_eq!(facts.on_call[0].staff_id, busy.id);
    // Outside the shift nobody is on call.
    let daytime = store
        .intake_facts(&policy, fixture.customer_id, "ol-connect", at(MONDAY_10))
        .await
        .unwrap();
    assert!(daytime.on_call.is_empty());
    assert!(matches!(
        store
            .intake_facts(&policy, 999_999, "ol-connect", at(MONDAY_10))
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn intake_is_recorded_on_the_timeline(store: Store) {
    use caredesk_domain::intake::{IntakeFlag, LanguageChoice, coverage_window};
    use caredesk_domain::policy::TicketProfile;
    use caredesk_domain::routing::Assignment;

    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let advisor = emea_staff(&store, "Noor", Role::Advisor, &["nl"]).await;
    let profile = TicketProfile {
        program: "standard",
        region: "emea",
        product_line: "ol-connect",
        severity: "P3",
        channel: "phone",
    };
    let mut new = new_ticket(&fixture, "P3", None);
    new.intake = Some(caredesk_store::IntakeRecord {
        flags: vec![IntakeFlag::Incomplete {
            missing: vec!["serial".into()],
        }],
        language: LanguageChoice {
            language: "nl".into(),
            reason: "preferred".into(),
        },
        coverage: coverage_window(&policy, &profile, at(MONDAY_10)).unwrap(),
        office_language: None,
        assignment: Some(Assignment {
            advisor: Some(advisor.id),
            reason: "lightest load".into(),
        }),
    });
    let created = store
        .create_ticket(&policy, &new, at(MONDAY_10))
        .await
        .unwrap();
    assert_eq!(created.timeline.len(), 3);
    let stored = store.ticket(created.ticket.id, Scope::All).await.unwrap();
    assert_eq!(
        stored, created.ticket,
        "what creation returns is what was stored"
    );
    assert_eq!(stored.assignee_id, Some(advisor.id));
    assert_eq!(stored.version_number, 3);
    assert!(
        matches!(&stored.flags[..], [IntakeFlag::Incomplete { missing }] if missing == &["serial"])
    );
    let timeline = store.timeline(stored.id, Scope::All).await.unwrap();
    assert_eq!(timeline, created.timeline);
    let kinds: Vec<&str> = timeline.iter().map(|event| event.data.kind()).collect();
    assert_eq!(kinds, ["created", "intake_checked", "assigned"]);
    assert_eq!(timeline[1].actor, Actor::System);
    // The customer sees the checks, not who was picked.
    let public = store
        .timeline(stored.id, Scope::Customer(fixture.customer_id))
        .await
        .unwrap();
    assert_eq!(public.len(), 2);
}

async fn unanswered_proposals_are_reminded_then_listed(store: Store) {
    use caredesk_domain::ticket::Resolution;

    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let id = store
        .create_ticket(&policy, &new_ticket(&fixture, "P4", None), at(MONDAY_10))
        .await
        .unwrap()
        .ticket
        .id;
    act(
        &store,
        &policy,
        id,
        MONDAY_10,
        ADVISOR,
        Command::ProposeSolution {
            resolution: Resolution::PlannedForRelease {
                release: "2026.2".into(),
            },
            body: "Fixed in 2026.2".into(),
        },
    )
    .await;
    // Every two business days (16 emea hours) from the last one sent: Wednesday, Friday,
    // Tuesday; listed on Thursday; then nothing more.
    let mut sent = Vec::new();
    for when in [
        "2026-11-24T10:00:00+01:00",
        "2026-11-25T10:01:00+01:00",
        "2026-11-27T10:02:00+01:00",
        "2026-12-01T10:03:00+01:00",
        "2026-12-03T10:04:00+01:00",
        "2026-12-10T10:05:00+01:00",
    ] {
        let sweep = store
            .record_due_breaches(&policy, at(when), 100)
            .await
            .unwrap();
        sent.push(sweep.recorded);
    }
    assert_eq!(sent, [0, 1, 1, 1, 1, 0]);
    let ticket = store.ticket(id, Scope::All).await.unwrap();
    assert!(ticket.consent_unanswered);
    assert_eq!(
        ticket.state,
        TicketState::PlannedForRelease,
        "never closed without consent"
    );
    let kinds: Vec<String> = store
        .timeline(id, Scope::All)
        .await
        .unwrap()
        .iter()
        .filter(|event| event.actor == Actor::System)
        .map(|event| event.data.kind().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "consent_reminder",
            "consent_reminder",
            "consent_reminder",
            "consent_unanswered"
        ]
    );
}

fn new_service_request(fixture: &Fixture, key: Option<&str>, hash: &str) -> NewServiceRequest {
    NewServiceRequest {
        customer_id: fixture.customer_id,
        contact_id: Some(fixture.contact_id),
        product_line: "ol-connect".into(),
        version: "2026.1".into(),
        programming_language: "Python".into(),
        subject: "An ERP connector".into(),
        description: "Post every invoice to our ERP.".into(),
        reason: "custom programming in Python is a professional-services request".into(),
        created_by: format!("contact:{}", fixture.contact_id),
        idempotency_key: key.map(str::to_string),
        request_hash: key.map(|_| hash.to_string()),
        source: None,
    }
}

async fn service_requests_keep_their_states_and_their_keys(store: Store) {
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let other = customer(&store, "C-2", "gold", "emea").await;
    let now = at(MONDAY_10);
    let first = store
        .create_service_request(&new_service_request(&fixture, Some("k"), "h1"), now)
        .await
        .unwrap();
    assert!(!first.replayed);
    assert_eq!(first.request.state, ServiceState::Requested);
    assert_eq!(first.request.version_number, 1);
    let again = store
        .create_service_request(&new_service_request(&fixture, Some("k"), "h1"), now)
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.request, first.request);
    assert!(matches!(
        store
            .create_service_request(&new_service_request(&fixture, Some("k"), "h2"), now)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let id = first.request.id;
    assert!(matches!(
        store
            .service_request(id, Scope::Customer(other.customer_id))
            .await,
        Err(StoreError::NotFound)
    ));

    let quote = |state: ServiceState| {
        decide_service(
            state,
            Role::Advisor,
            ServiceCommand::Quote {
                quote: "3 days".into(),
            },
        )
    };
    let later = at("2026-11-23T11:00:00+01:00");
    let quoted = store
        .update_service_request(id, Scope::All, Some(1), "staff:1", later, |current| {
            quote(current.state)
        })
        .await
        .unwrap();
    assert_eq!(quoted.state, ServiceState::Quoted);
    assert_eq!(quoted.quote.as_deref(), Some("3 days"));
    assert_eq!(quoted.quoted_at, Some(later));
    assert_eq!(quoted.version_number, 2);
    // Built on the old version: refused, nothing written.
    assert!(matches!(
        store
            .update_service_request(id, Scope::All, Some(1), "staff:1", later, |current| {
                quote(current.state)
            })
            .await,
        Err(ServiceUpdateError::Store(StoreError::StaleVersion(_)))
    ));
    // Not allowed in its state: refused, nothing written.
    assert!(matches!(
        store
            .update_service_request(id, Scope::All, None, "staff:1", later, |current| {
                quote(current.state)
            })
            .await,
        Err(ServiceUpdateError::Refused(ServiceRefusal::NotNow { .. }))
    ));
    assert!(matches!(
        store
            .update_service_request(
                id,
                Scope::Customer(other.customer_id),
                None,
                "contact:9",
                later,
                |current| decide_service(
                    current.state,
                    Role::CustomerContact,
                    ServiceCommand::Accept {
                        note: String::new()
                    }
                )
            )
            .await,
        Err(ServiceUpdateError::Store(StoreError::NotFound))
    ));
    let declined = store
        .update_service_request(
            id,
            Scope::Customer(fixture.customer_id),
            None,
            "contact:1",
            later,
            |current| {
                decide_service(
                    current.state,
                    Role::CustomerContact,
                    ServiceCommand::Decline {
                        reason: "over budget".into(),
                    },
                )
            },
        )
        .await
        .unwrap();
    assert_eq!(declined.state, ServiceState::Declined);
    assert_eq!(declined.answer.as_deref(), Some("over budget"));
    assert_eq!(declined.version_number, 3);

    store
        .create_service_request(&new_service_request(&other, None, ""), now)
        .await
        .unwrap();
    let listed = |scope, state| store.service_requests(scope, state, None, 50);
    assert_eq!(listed(Scope::All, None).await.unwrap().len(), 2);
    assert_eq!(
        listed(Scope::Customer(fixture.customer_id), None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        listed(Scope::All, Some(ServiceState::Requested))
            .await
            .unwrap()
            .len(),
        1
    );
    let newest = listed(Scope::All, None).await.unwrap()[0].id;
    let older = store
        .service_requests(Scope::All, None, Some(newest), 50)
        .await
        .unwrap();
    assert_eq!(older.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
}

async fn the_csm_and_manager_views_filter_the_queue(store: Store) {
    let policy = policy();
    let gold = customer(&store, "C-1", "gold", "emea").await;
    let standard = customer(&store, "C-2", "standard", "emea").await;
    let csm = emea_staff(&store, "Cleo", Role::CustomerSuccessManager, &["en"]).await;
    let named = store.set_csm(gold.customer_id, Some(csm.id)).await.unwrap();
    assert_eq!(named.csm_id, Some(csm.id));
    assert!(matches!(
        store.set_csm(999_999, Some(csm.id)).await,
        Err(StoreError::NotFound)
    ));
    let now = at(MONDAY_10);
    let gold_ticket = store
        .create_ticket(&policy, &new_ticket(&gold, "P3", None), now)
        .await
        .unwrap()
        .ticket
        .id;
    let mut incomplete = new_ticket(&standard, "P3", None);
    incomplete.intake = Some(intake_record(
        &policy,
        &standard,
        "P3",
        vec![caredesk_domain::intake::IntakeFlag::Incomplete {
            missing: vec!["business_impact".into()],
        }],
        None,
    ));
    let standard_ticket = store
        .create_ticket(&policy, &incomplete, now)
        .await
        .unwrap()
        .ticket
        .id;
    act(
        &store,
        &policy,
        standard_ticket,
        "2026-11-23T11:00:00+01:00",
        Actor::Contact {
            id: standard.contact_id,
        },
        Command::RequestEscalation {
            reason: "no news".into(),
        },
    )
    .await;
    let queue = |filter: QueueFilter| {
        let store = store.clone();
        async move {
            store
                .queue(&filter, None, 50, at("2026-11-23T12:00:00+01:00"))
                .await
                .unwrap()
                .into_iter()
                .map(|ticket| ticket.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        queue(QueueFilter {
            csm_id: Some(csm.id),
            ..Default::default()
        })
        .await,
        [gold_ticket]
    );
    assert_eq!(
        queue(QueueFilter {
            escalation_open: Some(true),
            ..Default::default()
        })
        .await,
        [standard_ticket]
    );
    assert_eq!(
        queue(QueueFilter {
            escalation_open: Some(false),
            ..Default::default()
        })
        .await,
        [gold_ticket]
    );
    assert_eq!(
        queue(QueueFilter {
            flag: Some("incomplete".into()),
            ..Default::default()
        })
        .await,
        [standard_ticket]
    );
    assert_eq!(
        queue(QueueFilter {
            consent_unanswered: Some(true),
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
    // Supplying what was missing takes the ticket off the "incomplete" list.
    act(
        &store,
        &policy,
        standard_ticket,
        "2026-11-23T12:00:00+01:00",
        Actor::Contact {
            id: standard.contact_id,
        },
        Command::SupplyDetails {
            details: [("business_impact".to_string(), "late invoices".to_string())].into(),
        },
    )
    .await;
    assert_eq!(
        queue(QueueFilter {
            flag: Some("incomplete".into()),
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
}

async fn the_on_call_rota_is_listed_by_start(store: Store) {
    let advisor = emea_staff(&store, "Ana", Role::Advisor, &["en"]).await;
    for (region, from, to) in [
        (
            "emea",
            "2026-11-24T17:00:00+01:00",
            "2026-11-25T09:00:00+01:00",
        ),
        (
            "emea",
            "2026-11-23T17:00:00+01:00",
            "2026-11-24T09:00:00+01:00",
        ),
        (
            "apac",
            "2026-11-23T17:00:00+11:00",
            "2026-11-24T09:00:00+11:00",
        ),
        (
            "emea",
            "2026-11-20T17:00:00+01:00",
            "2026-11-21T09:00:00+01:00",
        ),
    ] {
        let shift = store
            .add_on_call_shift(region, advisor.id, at(from), at(to))
            .await
            .unwrap();
        assert_eq!(shift.staff_name, "Ana");
    }
    let emea = store
        .on_call_shifts(Some("emea"), at(MONDAY_10))
        .await
        .unwrap();
    let starts: Vec<Timestamp> = emea.iter().map(|shift| shift.starts_at).collect();
    assert_eq!(
        starts,
        [
            at("2026-11-23T17:00:00+01:00"),
            at("2026-11-24T17:00:00+01:00")
        ],
        "by start, the past shift left out"
    );
    assert_eq!(
        store
            .on_call_shifts(None, at(MONDAY_10))
            .await
            .unwrap()
            .len(),
        3
    );
    store.set_availability(advisor.id, false).await.unwrap();
    assert!(!store.staff_member(advisor.id).await.unwrap().available);
}

async fn a_failed_creation_writes_nothing_and_the_next_one_works(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let now = at(MONDAY_10);
    // A customer that does not exist: the ticket row breaks a foreign key mid-transaction.
    let mut orphan = new_ticket(&fixture, "P2", None);
    orphan.customer_id = 999_999;
    assert!(store.create_ticket(&policy, &orphan, now).await.is_err());
    assert!(
        store
            .queue(&QueueFilter::default(), None, 50, now)
            .await
            .unwrap()
            .is_empty(),
        "nothing of the failed ticket was kept"
    );
    // The writer is not left inside the failed transaction: the next ticket and its
    // timeline are written whole.
    let created = store
        .create_ticket(&policy, &new_ticket(&fixture, "P2", None), now)
        .await
        .unwrap();
    let timeline = store.timeline(created.ticket.id, Scope::All).await.unwrap();
    assert_eq!(timeline, created.timeline);
    assert_eq!(
        store
            .queue(&QueueFilter::default(), None, 50, now)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn advisor_loads_always_equal_a_recount(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let mut advisors = Vec::new();
    for name in ["ana", "ben"] {
        advisors.push(emea_staff(&store, name, Role::Advisor, &["en"]).await.id);
    }
    let check = |moment: &'static str| {
        let store = store.clone();
        async move {
            let (kept, counted) = store.advisor_loads().await.unwrap();
            assert_eq!(kept, counted, "after {moment}");
            kept
        }
    };
    let now = at(MONDAY_10);
    let mut assigned = new_ticket(&fixture, "P2", None);
    assigned.intake = Some(intake_record(
        &policy,
        &fixture,
        "P2",
        Vec::new(),
        Some(advisors[0]),
    ));
    let first = store
        .create_ticket(&policy, &assigned, now)
        .await
        .unwrap()
        .ticket
        .id;
    let second = store
        .create_ticket(&policy, &assigned, now)
        .await
        .unwrap()
        .ticket
        .id;
    let loads = check("two creations").await;
    assert_eq!(loads.get(&(advisors[0], "P2".to_string())), Some(&2));

    let staff = Actor::Staff {
        id: advisors[0],
        role: Role::Advisor,
    };
    act(
        &store,
        &policy,
        first,
        "2026-11-23T10:10:00+01:00",
        staff,
        Command::Assign {
            advisor: Some(advisors[1]),
            reason: Some("Ana is away".into()),
        },
    )
    .await;
    check("a reassignment").await;
    act(
        &store,
        &policy,
        first,
        "2026-11-23T10:20:00+01:00",
        staff,
        Command::ChangeSeverity {
            severity: "P1".into(),
            reason: "worse".into(),
        },
    )
    .await;
    check("a severity change").await;
    act(
        &store,
        &policy,
        second,
        "2026-11-23T10:30:00+01:00",
        staff,
        reply("hello"),
    )
    .await;
    act(
        &store,
        &policy,
        second,
        "2026-11-23T10:40:00+01:00",
        staff,
        Command::ProposeSolution {
            resolution: caredesk_domain::ticket::Resolution::Workaround,
            body: "restart the spooler".into(),
        },
    )
    .await;
    act(
        &store,
        &policy,
        second,
        "2026-11-23T10:50:00+01:00",
        Actor::Contact {
            id: fixture.contact_id,
        },
        Command::AcceptSolution {
            note: String::new(),
        },
    )
    .await;
    let loads = check("a closure").await;
    assert_eq!(
        loads.into_iter().collect::<Vec<_>>(),
        [((advisors[1], "P1".to_string()), 1)]
    );
    act(
        &store,
        &policy,
        first,
        "2026-11-23T11:00:00+01:00",
        staff,
        Command::Assign {
            advisor: None,
            reason: Some("back to the queue".into()),
        },
    )
    .await;
    assert!(check("an unassignment").await.is_empty());

    // An imported timeline counts as it ends: assigned and open.
    let created = |seq: u32, data: EventData| caredesk_domain::ticket::TicketEvent {
        seq,
        at: now,
        actor: Actor::System,
        data,
    };
    store
        .import_tickets(
            &policy,
            &[(
                new_ticket(&fixture, "P3", None),
                vec![
                    created(
                        1,
                        EventData::Created {
                            severity: "P3".into(),
                            channel: "portal".into(),
                        },
                    ),
                    created(
                        2,
                        EventData::Assigned {
                            advisor: Some(advisors[1]),
                            reason: None,
                            overridden: None,
                        },
                    ),
                ],
            )],
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        check("an import").await.into_iter().collect::<Vec<_>>(),
        [((advisors[1], "P3".to_string()), 1)]
    );
}

/// A portal ticket of `fixture` (MONDAY_10), assigned to `advisor` at intake.
async fn assigned_ticket(
    store: &Store,
    policy: &Policy,
    fixture: &Fixture,
    severity: &str,
    advisor: i64,
) -> i64 {
    let mut new = new_ticket(fixture, severity, None);
    new.intake = Some(intake_record(
        policy,
        fixture,
        severity,
        Vec::new(),
        Some(advisor),
    ));
    store
        .create_ticket(policy, &new, at(MONDAY_10))
        .await
        .unwrap()
        .ticket
        .id
}

/// A support manager of `region` (or of none).
async fn manager_of(store: &Store, name: &str, region: Option<&str>) -> StaffMember {
    store
        .create_staff(
            &NewStaff {
                email: format!("{}@desk.example", name.to_lowercase()),
                name: name.into(),
                role: Role::SupportManager,
                region: region.map(str::to_string),
                languages: vec!["en".into()],
                password_hash: None,
            },
            at(MONDAY_10),
        )
        .await
        .unwrap()
}

/// (kind, recipient, staff) of a ticket's notices, in the order written.
async fn notices(store: &Store, id: i64) -> Vec<(String, String, Option<i64>)> {
    store
        .notices_of(id)
        .await
        .unwrap()
        .into_iter()
        .map(|notice| {
            // Nothing is delivered here; a warning whose clock ran out first is dropped.
            assert!(
                notice.state == "pending"
                    || (notice.state == "skipped" && notice.kind.is_at_risk_warning()),
                "{notice:?}"
            );
            (
                notice.kind.as_str().to_string(),
                notice.recipient,
                notice.staff_id,
            )
        })
        .collect()
}

fn notice(kind: &str, recipient: &str, staff: Option<i64>) -> (String, String, Option<i64>) {
    (kind.to_string(), recipient.to_string(), staff)
}

async fn notices_are_written_with_the_events_that_call_for_them(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let advisor = emea_staff(&store, "Eva", Role::Advisor, &["en"]).await;
    let manager = emea_staff(&store, "Max", Role::SupportManager, &["en"]).await;
    let anywhere = manager_of(&store, "Ann", None).await;
    let elsewhere = manager_of(&store, "Abe", Some("apac")).await;

    // A portal ticket of a gold customer, assigned at intake: acknowledged, its CSM and
    // its advisor told, in the same write as the ticket.
    let id = assigned_ticket(&store, &policy, &fixture, "P2", advisor.id).await;
    assert_eq!(
        notices(&store, id).await,
        [
            notice("acknowledgement", "contact", None),
            notice("new_ticket", "csm", None),
            notice("assigned", "staff", Some(advisor.id)),
        ]
    );

    // A reply reaches the customer; an escalation every manager of the region and of none.
    let contact = Actor::Contact {
        id: fixture.contact_id,
    };
    act(
        &store,
        &policy,
        id,
        "2026-11-23T10:30:00+01:00",
        ADVISOR,
        reply("On it"),
    )
    .await;
    act(
        &store,
        &policy,
        id,
        "2026-11-23T10:45:00+01:00",
        contact,
        Command::RequestEscalation {
            reason: "production is down".into(),
        },
    )
    .await;
    let written = notices(&store, id).await;
    assert_eq!(
        written[3..],
        [
            notice("public_update", "contact", None),
            notice("escalation", "staff", Some(manager.id.min(anywhere.id))),
            notice("escalation", "staff", Some(manager.id.max(anywhere.id))),
        ]
    );
    assert!(
        !written
            .iter()
            .any(|(_, _, staff)| *staff == Some(elsewhere.id))
    );

    // A refused change writes no notice; a sweep with nothing due writes none either.
    let refused = store
        .update_ticket(
            &policy,
            Change::by(contact, id, at("2026-11-23T11:00:00+01:00")),
            |_, snapshot| {
                let note = Command::Note {
                    body: "customers write no internal notes".into(),
                };
                decide(snapshot, Role::CustomerContact, note, &policy)
            },
        )
        .await;
    assert!(matches!(refused, Err(UpdateError::Refused(_))));
    store
        .record_due_breaches(&policy, at("2026-11-23T11:00:00+01:00"), 100)
        .await
        .unwrap();
    assert_eq!(notices(&store, id).await.len(), written.len());

    // The status update turns at risk: the advisor and (P2) each manager of the region are
    // warned once, however often the sweep passes; when it runs out, the breach reaches the
    // advisor and the managers.
    let due_soon = |written: &[(String, String, Option<i64>)]| -> Vec<Option<i64>> {
        let mut to: Vec<Option<i64>> = written
            .iter()
            .filter(|(kind, _, _)| kind == "update_due_soon")
            .map(|(_, _, staff)| *staff)
            .collect();
        to.sort_unstable();
        to
    };
    for hour in 1..=72 {
        let when = at("2026-11-23T11:00:00+01:00") + jiff::SignedDuration::from_hours(hour);
        store.record_due_breaches(&policy, when, 100).await.unwrap();
        let warned = due_soon(&notices(&store, id).await);
        let mut once = warned.clone();
        once.dedup();
        assert_eq!(warned, once, "warned once at most");
    }
    let written = notices(&store, id).await;
    let mut everyone = vec![Some(advisor.id), Some(manager.id), Some(anywhere.id)];
    everyone.sort_unstable();
    assert_eq!(due_soon(&written), everyone, "{written:?}");
    assert!(
        written.iter().any(|(kind, _, _)| kind == "breach"),
        "{written:?}"
    );
}

async fn notices_are_claimed_under_leases_and_delivered_once(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let advisor = emea_staff(&store, "Eva", Role::Advisor, &["en"]).await;
    let id = assigned_ticket(&store, &policy, &fixture, "P3", advisor.id).await;
    let now = at(MONDAY_10);
    let minute = jiff::SignedDuration::from_mins(1);

    // Nothing is due before its time.
    let early = store
        .claim_notices("a", now - minute, now, 10)
        .await
        .unwrap();
    assert!(early.is_empty());
    // Two workers share the three notices; none is taken twice.
    let first = store
        .claim_notices("a", now, now + minute, 2)
        .await
        .unwrap();
    let second = store
        .claim_notices("b", now, now + minute, 10)
        .await
        .unwrap();
    assert_eq!((first.len(), second.len()), (2, 1));
    let mut ids: Vec<i64> = first.iter().chain(&second).map(|n| n.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert!(
        first
            .iter()
            .chain(&second)
            .all(|notice| notice.attempts == 1)
    );
    assert!(
        store
            .claim_notices("c", now, now + minute, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // a: one sent, one to retry in five minutes.
    assert!(
        store
            .record_delivery(first[0].id, "a", &Delivery::Sent, now)
            .await
            .unwrap()
    );
    let retry = Delivery::Retry {
        error: "421 try later".into(),
        retry_at: now + 5 * minute,
    };
    assert!(
        store
            .record_delivery(first[1].id, "a", &retry, now)
            .await
            .unwrap()
    );
    // b dies holding its notice: once the lease runs out, c takes it (a second attempt),
    // and b's late word changes nothing.
    let later = now + 2 * minute;
    let retaken = store
        .claim_notices("c", later, later + minute, 10)
        .await
        .unwrap();
    assert_eq!(
        retaken
            .iter()
            .map(|n| (n.id, n.attempts))
            .collect::<Vec<_>>(),
        [(second[0].id, 2)]
    );
    assert!(
        !store
            .record_delivery(second[0].id, "b", &Delivery::Sent, later)
            .await
            .unwrap()
    );
    let failed = Delivery::Failed {
        error: "550 no such mailbox".into(),
    };
    assert!(
        store
            .record_delivery(second[0].id, "c", &failed, later)
            .await
            .unwrap()
    );
    // A sent notice is never taken again; the retried one comes back at its time.
    let retried = store
        .claim_notices("a", now + 5 * minute, now + 6 * minute, 10)
        .await
        .unwrap();
    assert_eq!(
        retried
            .iter()
            .map(|n| (n.id, n.attempts))
            .collect::<Vec<_>>(),
        [(first[1].id, 2)]
    );
    assert_eq!(retried[0].last_error.as_deref(), Some("421 try later"));
    assert!(
        store
            .record_delivery(first[1].id, "a", &Delivery::Sent, now + 5 * minute)
            .await
            .unwrap()
    );

    let sent = store.notices_in("sent", 10).await.unwrap();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|notice| notice.sent_at.is_some() && notice.ticket_id == Some(id))
    );
    let failed = store.notices_in("failed", 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].last_error.as_deref(), Some("550 no such mailbox"));
    assert!(
        store
            .claim_notices("a", now + 60 * minute, now + 61 * minute, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn periodic_jobs_run_under_one_lease_at_a_time(store: Store) {
    let now = at(MONDAY_10);
    let interval = jiff::SignedDuration::from_secs(30);
    assert!(
        store
            .take_job("sweep", "a", now, now + interval)
            .await
            .unwrap()
    );
    // Another instance skips the job while the lease lasts; the holder renews it.
    assert!(
        !store
            .take_job("sweep", "b", now, now + interval)
            .await
            .unwrap()
    );
    let later = now + jiff::SignedDuration::from_secs(29);
    assert!(
        !store
            .take_job("sweep", "b", later, later + interval)
            .await
            .unwrap()
    );
    assert!(
        store
            .take_job("sweep", "a", later, later + interval)
            .await
            .unwrap()
    );
    // Each job has its own lease.
    assert!(
        store
            .take_job("upkeep", "b", later, later + interval)
            .await
            .unwrap()
    );
    store
        .finish_job("sweep", "a", later, Some("2 tickets could not be swept"))
        .await
        .unwrap();
    // A holder that died: its lease runs out and another takes the job.
    let expired = later + interval;
    assert!(
        store
            .take_job("sweep", "b", expired, expired + interval)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_job("sweep", "a", expired, expired + interval)
            .await
            .unwrap()
    );
}

async fn notices_given_back_untried_are_not_counted(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let advisor = emea_staff(&store, "Eva", Role::Advisor, &["en"]).await;
    assigned_ticket(&store, &policy, &fixture, "P3", advisor.id).await;
    let now = at(MONDAY_10);
    let minute = jiff::SignedDuration::from_mins(1);
    let claimed = store
        .claim_notices("a", now, now + minute, 10)
        .await
        .unwrap();
    assert!(!claimed.is_empty());
    let ids: Vec<i64> = claimed.iter().map(|notice| notice.id).collect();
    // Another instance cannot give back what it does not hold.
    store.release_notices(&ids, "b").await.unwrap();
    assert!(
        store
            .claim_notices("b", now, now + minute, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The holder gives them back: free at once, and the untried claim not counted.
    store.release_notices(&ids, "a").await.unwrap();
    let again = store
        .claim_notices("b", now, now + minute, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), ids.len());
    assert!(again.iter().all(|notice| notice.attempts == 1));
}

async fn a_customer_searches_its_own_tickets(store: Store) {
    let policy = policy();
    let acme = customer(&store, "C-1", "gold", "emea").await;
    let other = customer(&store, "C-2", "standard", "emea").await;
    let now = at(MONDAY_10);
    let mut ids = Vec::new();
    for subject in [
        "Printing stopped",
        "Licence 100% used",
        "Slow_preview",
        "PRINTER offline",
    ] {
        let mut new = new_ticket(&acme, "P3", None);
        new.subject = subject.into();
        ids.push(
            store
                .create_ticket(&policy, &new, now)
                .await
                .unwrap()
                .ticket
                .id,
        );
    }
    let mut foreign = new_ticket(&other, "P3", None);
    foreign.subject = "Printing stopped elsewhere".into();
    store.create_ticket(&policy, &foreign, now).await.unwrap();
    let search = |text: &str, open: Option<bool>| caredesk_store::TicketSearch {
        text: text.into(),
        open,
    };
    let subjects = |found: Vec<caredesk_store::TicketRecord>| -> Vec<String> {
        found.into_iter().map(|ticket| ticket.subject).collect()
    };

    // In any case, the customer's own only; newest first.
    let found = store
        .search_tickets_of(acme.customer_id, &search("PRINTING", None), 10)
        .await
        .unwrap();
    assert_eq!(subjects(found), ["Printing stopped"]);
    let found = store
        .search_tickets_of(acme.customer_id, &search("Offline", None), 10)
        .await
        .unwrap();
    assert_eq!(subjects(found), ["PRINTER offline"]);
    let found = store
        .search_tickets_of(acme.customer_id, &search("printer", None), 10)
        .await
        .unwrap();
    assert_eq!(
        subjects(found),
        ["PRINTER offline"],
        "subjects, not descriptions"
    );
    // LIKE's wildcards are plain characters in what a customer types.
    let found = store
        .search_tickets_of(acme.customer_id, &search("100%", None), 10)
        .await
        .unwrap();
    assert_eq!(subjects(found), ["Licence 100% used"]);
    let found = store
        .search_tickets_of(acme.customer_id, &search("w_p", None), 10)
        .await
        .unwrap();
    assert_eq!(subjects(found), ["Slow_preview"]);
    // A ticket number finds its ticket; the limit holds.
    let found = store
        .search_tickets_of(acme.customer_id, &search(&format!("#{}", ids[1]), None), 10)
        .await
        .unwrap();
    assert_eq!(subjects(found), ["Licence 100% used"]);
    let found = store
        .search_tickets_of(acme.customer_id, &search("", None), 2)
        .await
        .unwrap();
    assert_eq!(found.len(), 2, "the limit holds");
    assert_eq!(found[0].id, ids[3], "newest first");
    // Open or closed.
    let found = store
        .search_tickets_of(acme.customer_id, &search("", Some(false)), 10)
        .await
        .unwrap();
    assert!(found.is_empty());
    let found = store
        .search_tickets_of(acme.customer_id, &search("", Some(true)), 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 4);

    // Every contract at once, by customer.
    let contracts = store.contracts().await.unwrap();
    let owners: Vec<i64> = contracts
        .iter()
        .map(|contract| contract.customer_id)
        .collect();
    assert_eq!(owners, [acme.customer_id, other.customer_id]);
    // The kept loads alone are the first half of what the recount compares.
    assert_eq!(
        store.kept_advisor_loads().await.unwrap(),
        store.advisor_loads().await.unwrap().0
    );
}

/// Tickets opened at the same moment (on SQLite, written in one transaction when they meet at
/// the writer): each keeps its own row, timeline, notices and advisor load, and one that
/// fails fails alone.
async fn tickets_opened_together_each_keep_their_own_rows(store: Store) {
    let policy = Arc::new(policy());
    let fixtures = [
        customer(&store, "C-1", "gold", "emea").await,
        customer(&store, "C-2", "standard", "emea").await,
    ];
    let advisor = emea_staff(&store, "ana", Role::Advisor, &["en"]).await.id;
    let now = at(MONDAY_10);
    let requests: Vec<NewTicket> = (0..24)
        .map(|index| {
            let fixture = &fixtures[index % 2];
            let severity = ["P1", "P2", "P3", "P4"][index % 4];
            let mut request = new_ticket(fixture, severity, None);
            request.subject = format!("Ticket number {index}");
            if index % 3 == 0 {
                request.intake = Some(intake_record(
                    &policy,
                    fixture,
                    severity,
                    Vec::new(),
                    Some(advisor),
                ));
            }
            // Every seventh names a customer that does not exist.
            if index % 7 == 6 {
                request.customer_id = 999_999;
            }
            request
        })
        .collect();
    let tasks: Vec<_> = requests
        .iter()
        .cloned()
        .map(|request| {
            let (store, policy) = (store.clone(), policy.clone());
            tokio::spawn(async move { store.create_ticket(&policy, &request, now).await })
        })
        .collect();
    let mut opened = Vec::new();
    for (request, task) in requests.iter().zip(tasks) {
        match task.await.unwrap() {
            Ok(created) => {
                assert_ne!(request.customer_id, 999_999, "{}", request.subject);
                opened.push((request, created));
            }
            Err(_) => assert_eq!(request.customer_id, 999_999, "{}", request.subject),
        }
    }
    assert_eq!(opened.len(), 21);
    let mut ids: Vec<i64> = opened
        .iter()
        .map(|(_, created)| created.ticket.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 21, "each ticket has an id of its own");
    for (request, created) in &opened {
        let stored = store.ticket(created.ticket.id, Scope::All).await.unwrap();
        assert_eq!(stored, created.ticket, "{}", request.subject);
        assert_eq!(stored.subject, request.subject);
        assert_eq!(stored.customer_id, request.customer_id);
        let timeline = store.timeline(created.ticket.id, Scope::All).await.unwrap();
        assert_eq!(timeline, created.timeline, "{}", request.subject);
    }
    // Opened together (several tickets' events in one statement on PostgreSQL), each keeps
    // its own timeline in the copy bulk reads take, too.
    let day = date(2026, 11, 23);
    let read = every_timeline_read_in_bulk(&store, day, day).await;
    assert_eq!(read.len(), 21);
    for (request, created) in &opened {
        let bulk = read
            .iter()
            .find(|ticket| ticket.id == created.ticket.id)
            .unwrap();
        assert_eq!(bulk.events, created.timeline, "{}", request.subject);
    }
    for (request, created) in &opened {
        let notices = store.notices_of(created.ticket.id).await.unwrap();
        assert!(!notices.is_empty(), "{} has its notices", request.subject);
        assert!(
            notices
                .iter()
                .all(|notice| notice.event_seq as usize <= created.timeline.len()),
            "{}: {notices:?}",
            request.subject
        );
    }
    let (kept, counted) = store.advisor_loads().await.unwrap();
    assert_eq!(kept, counted);
    let assigned = opened
        .iter()
        .filter(|(request, _)| request.intake.is_some())
        .count();
    assert_eq!(kept.values().sum::<i64>(), i64::try_from(assigned).unwrap());
}

/// A throttled account is told to every active administrator once, as a notice of no ticket
/// carrying what it says; a second refusal of the same burst writes nothing, a burst that
/// goes on past the alert's memory is told again, and beyond the hour's allowance only the
/// mark is written.
async fn a_sign_in_burst_is_told_to_each_administrator_once(store: Store) {
    use caredesk_domain::notify::NoticeKind;
    use caredesk_domain::sign_in::{Attempt, SignInBurst, SignInThrottle};

    let now = at("2026-12-04T10:00:00Z");
    let first = store
        .create_staff(&staff_member("first-admin@desk.example", Role::Admin), now)
        .await
        .unwrap();
    let gone = store
        .create_staff(&staff_member("gone-admin@desk.example", Role::Admin), now)
        .await
        .unwrap();
    store.set_staff_active(gone.id, false, now).await.unwrap();
    store
        .create_staff(&staff_member("advisor@desk.example", Role::Advisor), now)
        .await
        .unwrap();
    let second = store
        .create_staff(&staff_member("second-admin@desk.example", Role::Admin), now)
        .await
        .unwrap();

    let throttle = SignInThrottle::default();
    let guess = |at: Timestamp| {
        let store = store.clone();
        async move {
            store
                .count_sign_in_attempt("account:target", "address:192.0.2.7", |account, address| {
                    throttle.attempt(account, address, at)
                })
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        assert!(matches!(guess(now).await, Attempt::Check { .. }));
    }
    let Attempt::Wait { alert, .. } = guess(now).await else {
        panic!("the sixth guess waits");
    };
    assert_eq!((alert.account, alert.address), (Some(5), None));

    let burst = SignInBurst {
        address: "192.0.2.7".into(),
        address_failures: None,
        account_failures: alert.account,
        account: Some("ana@acme.example".into()),
        longest_wait_minutes: 15,
        at: now,
    };
    let hour_ago = at("2026-12-04T09:00:00Z");
    assert!(
        store
            .alert_sign_in_burst(&["account:target"], &burst, hour_ago, Some(10), now)
            .await
            .unwrap()
    );
    let alerts = |store: Store| async move {
        store
            .notices_in("pending", 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|notice| notice.kind == NoticeKind::SignInBurst)
            .collect::<Vec<_>>()
    };
    let told = alerts(store.clone()).await;
    assert_eq!(
        told.iter()
            .map(|notice| notice.staff_id)
            .collect::<Vec<_>>(),
        vec![Some(first.id), Some(second.id)],
        "every active administrator, nobody else"
    );
    for notice in &told {
        assert_eq!(notice.ticket_id, None);
        assert_eq!(notice.recipient, "staff");
        let said: SignInBurst = serde_json::from_str(notice.details.as_deref().unwrap()).unwrap();
        assert_eq!(said, burst);
        assert_eq!(store.ticket_of_notice(notice.id).await.unwrap(), None);
    }
    // The guess after is refused without news, and told of no more.
    let Attempt::Wait { alert, .. } = guess(now).await else {
        panic!("still waiting");
    };
    assert!(!alert.any(), "the burst was told of");
    assert!(
        !store
            .alert_sign_in_burst(&["account:target"], &burst, hour_ago, Some(10), now)
            .await
            .unwrap()
    );
    assert_eq!(alerts(store.clone()).await.len(), 2);

    // Beyond the hour's allowance, another address is marked but not told of.
    for _ in 0..2 {
        store
            .count_sign_in_attempt(
                "account:other",
                "address:198.51.100.9",
                |account, address| throttle.attempt(account, address, now),
            )
            .await
            .unwrap();
    }
    assert!(
        !store
            .alert_sign_in_burst(&["address:198.51.100.9"], &burst, hour_ago, Some(1), now)
            .await
            .unwrap()
    );
    assert_eq!(alerts(store.clone()).await.len(), 2);
    assert!(
        !store
            .alert_sign_in_burst(&["address:198.51.100.9"], &burst, hour_ago, None, now)
            .await
            .unwrap(),
        "the mark landed: the address is not told of again"
    );
    // The desk's own accounts are told whatever the hour's count.
    for _ in 0..2 {
        store
            .count_sign_in_attempt(
                "account:staff",
                "address:203.0.113.1",
                |account, address| throttle.attempt(account, address, now),
            )
            .await
            .unwrap();
    }
    assert!(
        store
            .alert_sign_in_burst(&["account:staff"], &burst, hour_ago, None, now)
            .await
            .unwrap()
    );
    assert_eq!(alerts(store.clone()).await.len(), 4);

    // Two hours on, the burst that goes on is news again; the alerts are delivered like any
    // notice, claimed with their details.
    let later = at("2026-12-04T12:00:00Z");
    assert!(
        store
            .alert_sign_in_burst(
                &["account:target"],
                &burst,
                at("2026-12-04T11:00:00Z"),
                Some(10),
                later
            )
            .await
            .unwrap()
    );
    let claimed = store
        .claim_notices("deliverer", later, at("2026-12-04T12:01:00Z"), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 6);
    assert!(claimed.iter().all(|notice| notice.details.is_some()));
}

/// PostgreSQL looks for texts in windows of the newest events read in order, or through
/// its index, as it judges cheaper; whichever way it takes, it finds the same texts in the
/// same order as reading every event would. Tiny windows and extreme costs make it take
/// each way (and switch between them) on a few events.
async fn every_way_of_looking_for_texts_finds_the_same(store: Store) {
    use caredesk_domain::resources::search::required_words;
    use caredesk_store::TextSearchPlan;

    let policy = policy();
    let fixture = customer(&store, "C-1", "gold", "emea").await;
    let mut minute = 0;
    let mut next_instant = || {
        minute += 1;
        at(MONDAY_10) + SignedDuration::from_mins(minute)
    };
    let mut tickets = Vec::new();
    for subject in [
        "PostScript driver damaged",
        "Spooler stops",
        "Invoices late",
    ] {
        let mut new = new_ticket(&fixture, "P3", None);
        new.subject = subject.into();
        let created = store
            .create_ticket(&policy, &new, next_instant())
            .await
            .unwrap();
        tickets.push(created.ticket.id);
    }
    let replies = [
        "Restart the spooler.",
        "The printer queue is empty.",
        "Spooler and printer restarted.",
        "Nothing to add.",
        "The spooler stopped again overnight.",
        "Printer firmware updated.",
    ];
    for (index, body) in replies.iter().enumerate() {
        let id = tickets[index % tickets.len()];
        let when = next_instant().to_string();
        act(&store, &policy, id, &when, ADVISOR, reply(body)).await;
    }

    let plans = [
        TextSearchPlan::default(),
        // Always to the index after the first event read.
        TextSearchPlan {
            first_window: 1,
            fetch_to_scan: 0.0,
        },
        // Never to the index: windows read in order, growing.
        TextSearchPlan {
            first_window: 1,
            fetch_to_scan: f64::INFINITY,
        },
        TextSearchPlan {
            first_window: 2,
            fetch_to_scan: 1.0,
        },
        TextSearchPlan {
            first_window: 3,
            fetch_to_scan: 0.5,
        },
    ];
    let texts = |hits: caredesk_store::TicketTextHits| -> Vec<i64> {
        hits.texts.iter().map(|text| text.event_id).collect()
    };
    let spooler = required_words("spooler", &["en"]);
    let everything = texts(
        store
            .search_ticket_texts(&spooler, None, 100)
            .await
            .unwrap(),
    );
    // The subject, then three replies, the latest first.
    assert_eq!(everything.len(), 4, "{everything:?}");
    assert!(everything.windows(2).all(|pair| pair[0] > pair[1]));
    let middle = everything[1];
    for query in [
        "spooler",
        "printer",
        "postscript",
        "spooler printer",
        "absent",
    ] {
        let words = required_words(query, &["en"]);
        for limit in [1, 2, 3, 100] {
            for before in [None, Some(middle)] {
                let expected = texts(
                    store
                        .search_ticket_texts_planned(&words, before, limit, plans[0])
                        .await
                        .unwrap(),
                );
                for plan in &plans[1..] {
                    let found = store
                        .search_ticket_texts_planned(&words, before, limit, *plan)
                        .await
                        .unwrap();
                    assert_eq!(
                        texts(found),
                        expected,
                        "{query:?}, at most {limit}, before {before:?}, {plan:?}"
                    );
                }
            }
        }
    }
}

/// Every clock warns before it runs out (POLICY.md §6), and a warning still waiting to go out
/// when the clock is met is dropped: nobody is told to answer a ticket already answered.
async fn a_warning_is_dropped_when_its_clock_is_met_first(store: Store) {
    let policy = policy();
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let eva = emea_staff(&store, "Eva", Role::Advisor, &["en"]).await;
    let otto = emea_staff(&store, "Otto", Role::Advisor, &["en"]).await;
    let max = emea_staff(&store, "Max", Role::SupportManager, &["en"]).await;
    let id = assigned_ticket(&store, &policy, &fixture, "P2", eva.id).await;
    let turns = store
        .ticket(id, Scope::All)
        .await
        .unwrap()
        .at_risk_at
        .unwrap();
    let minute = jiff::SignedDuration::from_mins(1);
    let later = |minutes: i64| turns + minute * (minutes as i32);
    // (kind, state, staff) of the warnings written, in order.
    let warnings = |entries: Vec<caredesk_store::OutboxEntry>| -> Vec<(String, String, i64)> {
        entries
            .into_iter()
            .filter(|entry| entry.kind.is_at_risk_warning())
            .map(|entry| {
                (
                    entry.kind.as_str().to_string(),
                    entry.state,
                    entry.staff_id.unwrap_or_default(),
                )
            })
            .collect()
    };
    let row = |state: &str, staff: i64| {
        (
            "first_response_at_risk".to_string(),
            state.to_string(),
            staff,
        )
    };
    store
        .record_due_breaches(&policy, later(1), 100)
        .await
        .unwrap();
    // The advisor, and the manager of a P2; the sweep passing again writes nothing more.
    store
        .record_due_breaches(&policy, later(2), 100)
        .await
        .unwrap();
    assert_eq!(
        warnings(store.notices_of(id).await.unwrap()),
        [row("pending", eva.id), row("pending", max.id)]
    );

    // Handed to Otto and back: Eva's first warning is dropped, Otto's too, and Eva is warned
    // again (a dropped warning may be written again).
    let manager = Actor::Staff {
        id: max.id,
        role: Role::SupportManager,
    };
    let assign = |advisor: i64| Command::Assign {
        advisor: Some(advisor),
        reason: Some("workload".into()),
    };
    act(
        &store,
        &policy,
        id,
        &later(3).to_string(),
        manager,
        assign(otto.id),
    )
    .await;
    act(
        &store,
        &policy,
        id,
        &later(4).to_string(),
        manager,
        assign(eva.id),
    )
    .await;
    assert_eq!(
        warnings(store.notices_of(id).await.unwrap()),
        [
            row("skipped", eva.id),
            row("pending", max.id),
            row("skipped", otto.id),
            row("pending", eva.id),
        ]
    );

    // Eva answers before the warnings went out: the clock is met, both are dropped, saying why.
    let eva_actor = Actor::Staff {
        id: eva.id,
        role: Role::Advisor,
    };
    act(
        &store,
        &policy,
        id,
        &later(5).to_string(),
        eva_actor,
        reply("On it"),
    )
    .await;
    let entries = store.notices_of(id).await.unwrap();
    assert_eq!(
        warnings(entries.clone()),
        [
            row("skipped", eva.id),
            row("skipped", max.id),
            row("skipped", otto.id),
            row("skipped", eva.id),
        ]
    );
    let dropped = entries
        .iter()
        .rfind(|entry| entry.kind.is_at_risk_warning())
        .unwrap();
    assert!(
        dropped
            .last_error
            .as_deref()
            .is_some_and(|why| why.contains("the clock was met")),
        "{dropped:?}"
    );

    // Warnings a worker holds under lease are being sent: an answer leaves them alone.
    let second = assigned_ticket(&store, &policy, &fixture, "P2", eva.id).await;
    store
        .record_due_breaches(&policy, later(1), 100)
        .await
        .unwrap();
    let claimed = store
        .claim_notices("worker", later(6), later(20), 100)
        .await
        .unwrap();
    assert_eq!(
        claimed
            .iter()
            .filter(|entry| entry.ticket_id == Some(second) && entry.kind.is_at_risk_warning())
            .count(),
        2
    );
    act(
        &store,
        &policy,
        second,
        &later(7).to_string(),
        eva_actor,
        reply("On it"),
    )
    .await;
    assert_eq!(
        warnings(store.notices_of(second).await.unwrap()),
        [row("pending", eva.id), row("pending", max.id)]
    );
}

/// A small deterministic generator of numbers (the same histories on every run and backend).
struct Dice(u64);

impl Dice {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A ticket's history as advisors and the customer might make it, from `opened` until it
/// closes or `now`: replies, requests to the customer and answers, severity changes,
/// proposals accepted or rejected, at gaps of minutes to days (so that some clocks breach).
fn generated_history(
    policy: &Policy,
    new: &NewTicket,
    opened: Timestamp,
    now: Timestamp,
    advisors: &[i64],
    dice: &mut Dice,
) -> Vec<caredesk_domain::ticket::TicketEvent> {
    use caredesk_domain::ticket::step::step;
    use caredesk_domain::ticket::{CustomerRequest, Resolution, Snapshot, TicketEvent};
    let context = ClockContext {
        program: &new.program,
        region: &new.region,
        product_line: &new.product_line,
    };
    let contact = new.actor;
    let mut events = vec![TicketEvent {
        seq: 1,
        at: opened,
        actor: contact,
        data: EventData::Created {
            severity: new.severity.clone(),
            channel: new.channel.clone(),
        },
    }];
    // Two tickets in three are assigned at once, one in three never.
    if dice.below(3) > 0 {
        events.push(TicketEvent {
            seq: 2,
            at: opened,
            actor: Actor::System,
            data: EventData::Assigned {
                advisor: Some(*dice.pick(advisors)),
                reason: Some("the lightest load".into()),
                overridden: None,
            },
        });
    }
    let mut when = opened;
    for _ in 0..dice.below(10) {
        let gap = match dice.below(4) {
            0 => 5 + dice.below(120),
            1 => 120 + dice.below(600),
            2 => 1440 + dice.below(2880),
            _ => 4320 + dice.below(7200),
        };
        when = when
            .checked_add(SignedDuration::from_mins(gap as i64))
            .unwrap();
        if when >= now {
            break;
        }
        let snapshot = Snapshot::of(&events).unwrap();
        let (role, actor, command) = match snapshot.state {
            TicketState::Closed => break,
            TicketState::WaitingOnCustomer => (
                Role::CustomerContact,
                contact,
                Command::CustomerMessage {
                    body: "Here it is.".into(),
                },
            ),
            // One acceptance in four is the customer's word on the phone, recorded by an
            // advisor.
            TicketState::SolutionProposed if dice.below(3) > 0 => match dice.below(4) {
                0 => (
                    Role::Advisor,
                    Actor::Staff {
                        id: *dice.pick(advisors),
                        role: Role::Advisor,
                    },
                    Command::AcceptSolution {
                        note: "Accepted on the phone.".into(),
                    },
                ),
                _ => (
                    Role::CustomerContact,
                    contact,
                    Command::AcceptSolution {
                        note: String::new(),
                    },
                ),
            },
            TicketState::SolutionProposed => (
                Role::CustomerContact,
                contact,
                Command::RejectSolution {
                    reason: "It still fails.".into(),
                },
            ),
            _ if snapshot.escalation_open && dice.below(2) == 0 => (
                Role::SupportManager,
                Actor::Staff {
                    id: 1,
                    role: Role::SupportManager,
                },
                Command::AnswerEscalation {
                    answer: "A senior advisor takes it.".into(),
                },
            ),
            _ if dice.below(9) == 0 => (
                Role::CustomerContact,
                contact,
                Command::RequestEscalation {
                    reason: "We are losing orders.".into(),
                },
            ),
            _ => (
                Role::Advisor,
                // Most work by the first advisor, some by the others.
                match dice.below(3) {
                    0 => Actor::Staff {
                        id: *dice.pick(advisors),
                        role: Role::Advisor,
                    },
                    _ => ADVISOR,
                },
                match dice.below(6) {
                    0 | 1 => reply("We are looking into it."),
                    2 => Command::RequestFromCustomer {
                        request: *dice.pick(&[
                            CustomerRequest::Information,
                            CustomerRequest::RemoteAccess,
                            CustomerRequest::TestInDevelopment,
                        ]),
                        body: "Could you send the log?".into(),
                    },
                    3 => Command::ChangeSeverity {
                        severity: dice.pick(&["P1", "P2", "P3", "P4"]).to_string(),
                        reason: "The impact is other than first said.".into(),
                    },
                    _ => Command::ProposeSolution {
                        resolution: Resolution::Workaround,
                        body: "Restart the service with the new setting.".into(),
                    },
                },
            ),
        };
        let Ok(decided) = decide(&snapshot, role, command, policy) else {
            continue;
        };
        let step = step(policy, &context, &events, decided, actor, when).unwrap();
        events.extend(step.events);
    }
    events
}

/// A report's counts of one group, recounted from timelines without the clock engine: a
/// clock is met or breached by the events on the timeline (every breach due before `now` is
/// recorded by then), open within or past its target by whether a breach is recorded yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Recount {
    tickets: u64,
    /// For the first response, the updates and the resolution: met, breached, open within,
    /// open past.
    clocks: [[u64; 4]; 3],
    /// Closed; escalations asked, raised by the desk, answered; tickets escalated, of those
    /// resolved and still open; proposals, accepted, rejected, unanswered; decisions outside
    /// support; professional-services requests.
    activity: [u64; 13],
}

fn recount_of(
    policy: &Policy,
    timeline: &[caredesk_domain::ticket::TicketEvent],
    recount: &mut Recount,
) {
    use caredesk_domain::ticket::ClockKind;
    let breached = |kind: ClockKind| {
        timeline.iter().any(
            |event| matches!(&event.data, EventData::ClockBreached { clock, .. } if *clock == kind),
        )
    };
    let closed = timeline
        .iter()
        .any(|event| matches!(event.data, EventData::Closed { .. }));
    let accepted = timeline
        .iter()
        .any(|event| matches!(event.data, EventData::SolutionAccepted { .. }));
    let answered = timeline
        .iter()
        .skip(1)
        .any(|event| event.data.is_advisor_contact());
    recount.tickets += 1;
    let events = |wanted: &dyn Fn(&caredesk_domain::ticket::TicketEvent) -> bool| {
        timeline.iter().filter(|event| wanted(event)).count() as u64
    };
    let asked = events(&|event| {
        matches!(event.data, EventData::EscalationRequested { .. }) && event.actor != Actor::System
    });
    let automatic = events(&|event| {
        matches!(event.data, EventData::EscalationRequested { .. }) && event.actor == Actor::System
    });
    let escalated = u64::from(asked + automatic > 0);
    // Closed while outside support: a professional-services request took it over.
    let mut outside = false;
    let mut services = 0;
    for event in timeline {
        match event.data {
            EventData::OutsideSupport { .. } => outside = true,
            EventData::OutsideSupportReversed { .. } => outside = false,
            EventData::Closed { .. } => services = u64::from(outside),
            _ => {}
        }
    }
    let activity = [
        u64::from(closed),
        asked,
        automatic,
        events(&|event| matches!(event.data, EventData::EscalationAnswered { .. })),
        escalated,
        escalated * u64::from(accepted),
        escalated * u64::from(!closed),
        events(&|event| matches!(event.data, EventData::SolutionProposed { .. })),
        events(&|event| matches!(event.data, EventData::SolutionAccepted { .. })),
        events(&|event| matches!(event.data, EventData::SolutionRejected { .. })),
        events(&|event| matches!(event.data, EventData::ConsentUnanswered { .. })),
        events(&|event| matches!(event.data, EventData::OutsideSupport { .. })),
        services,
    ];
    for (sum, count) in recount.activity.iter_mut().zip(activity) {
        *sum += count;
    }
    let count = |recount: &mut Recount, clock: usize, settled: bool, met: bool, late: bool| {
        let slot = match (settled, late, met) {
            (true, true, _) => Some(1),
            (true, false, true) => Some(0),
            (true, false, false) => None,
            (false, false, _) => Some(2),
            (false, true, _) => Some(3),
        };
        if let Some(slot) = slot {
            recount.clocks[clock][slot] += 1;
        }
    };
    count(
        recount,
        0,
        answered || closed,
        answered,
        breached(ClockKind::FirstResponse),
    );
    // The updates: each contact after the first while an update was owed, late if a missed
    // update was recorded since the contact before; and each missed update no contact ended.
    let mut severity = String::new();
    let mut contacted = false;
    let mut missed_since = false;
    let (mut owed, mut late, mut late_ended) = (0u64, 0u64, 0u64);
    for event in timeline {
        match &event.data {
            EventData::Created {
                severity: first, ..
            } => severity = first.clone(),
            EventData::SeverityChanged { to, .. } => severity = to.clone(),
            EventData::ClockBreached {
                clock: ClockKind::NextUpdate,
                ..
            } => {
                late += 1;
                missed_since = true;
            }
            _ => {}
        }
        if event.data.is_advisor_contact() && event.seq > 1 {
            let cadence = policy.severity(&severity).unwrap().update_every.is_some();
            if contacted && cadence {
                owed += 1;
                if missed_since {
                    late_ended += 1;
                }
            }
            contacted = true;
            missed_since = false;
        }
    }
    let owed = owed + late - late_ended;
    recount.clocks[1][0] += owed - late;
    recount.clocks[1][1] += late;
    let cadence_now = policy.severity(&severity).unwrap().update_every.is_some();
    if contacted && cadence_now && !closed {
        recount.clocks[1][if missed_since { 3 } else { 2 }] += 1;
    }
    // A recorded breach counts even when the severity has no resolution target any more.
    if policy.severity(&severity).unwrap().resolution.is_some() || breached(ClockKind::Resolution) {
        count(
            recount,
            2,
            closed,
            accepted,
            breached(ClockKind::Resolution),
        );
    }
}

/// Contract tests that also reach the database from outside (as an earlier version of
/// caredesk left it, or to read a row whole), given its URL; generated once per backend.
macro_rules! contract_with_url {
    ($($test:ident),* $(,)?) => {
        mod with_url_on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = caredesk_testkit::TestDatabase::sqlite().await;
                    super::$test(test.store.clone(), &test.url).await;
                    test.finish().await;
                }
            )*
        }
        mod with_url_on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = caredesk_testkit::TestDatabase::postgres().await;
                    super::$test(test.store.clone(), &test.url).await;
                    test.finish().await;
                }
            )*
        }
    };
}

contract_with_url!(
    reports_equal_a_recount_from_the_timelines,
    a_rebuild_writes_what_a_change_would,
);

/// Reports count what the tickets' timelines say, whichever totals or index they read; and
/// the same after the totals are filled again as migration 0033 fills them, and after every
/// ticket is measured again as one written before reports were.
async fn reports_equal_a_recount_from_the_timelines(store: Store, url: &str) {
    use caredesk_domain::report::{ActivityTally, ComplianceRow, Dimension, ReportFilter, Span};
    use caredesk_store::{ComplianceQuery, FlowQuery};
    use std::collections::BTreeMap;
    let policy = policy();
    let fixtures = [
        customer(&store, "R-1", "standard", "emea").await,
        customer(&store, "R-2", "gold", "americas").await,
        customer(&store, "R-3", "platinum", "apac").await,
    ];
    let mut advisors = Vec::new();
    for name in ["Ada", "Grace"] {
        advisors.push(emea_staff(&store, name, Role::Advisor, &["en"]).await.id);
    }
    let now = at("2026-10-15T12:00:00Z");
    let first_day = at("2026-06-01T00:00:00Z");
    let mut dice = Dice(19);
    let mut histories = Vec::new();
    for number in 0..1800 {
        let fixture = &fixtures[number % 3];
        let opened = first_day
            .checked_add(SignedDuration::from_mins(dice.below(134 * 1440) as i64))
            .unwrap();
        let mut new = new_ticket(fixture, dice.pick::<&str>(&["P1", "P2", "P3", "P4"]), None);
        new.channel = dice.pick(&["phone", "portal"]).to_string();
        let history = generated_history(&policy, &new, opened, now, &advisors, &mut dice);
        histories.push((new, history));
    }
    for batch in histories.chunks(300) {
        store.import_tickets(&policy, batch, now).await.unwrap();
    }
    // Some tickets live through the store's own steps, closing there.
    let mut stepped = Vec::new();
    for number in 0..45 {
        let fixture = &fixtures[number % 3];
        let opened = first_day
            .checked_add(SignedDuration::from_mins(dice.below(120 * 1440) as i64))
            .unwrap();
        let new = new_ticket(fixture, dice.pick::<&str>(&["P1", "P2", "P3"]), None);
        let id = store
            .create_ticket(&policy, &new, opened)
            .await
            .unwrap()
            .ticket
            .id;
        let history = generated_history(&policy, &new, opened, now, &advisors, &mut dice);
        for event in history
            .iter()
            .skip(1)
            .filter(|event| event.actor != Actor::System)
        {
            let data = event.data.clone();
            store
                .update_ticket(
                    &policy,
                    Change::by(event.actor, id, event.at),
                    move |_, _| Ok::<_, std::convert::Infallible>(vec![data]),
                )
                .await
                .unwrap();
        }
        stepped.push(id);
    }
    store
        .record_due_breaches(&policy, now, 100_000)
        .await
        .unwrap();
    // A note on a closed ticket changes none of its measures, nor the monthly totals.
    for id in &stepped {
        store
            .update_ticket(&policy, Change::by(ADVISOR, *id, now), |_, _| {
                Ok::<_, std::convert::Infallible>(vec![EventData::InternalNote {
                    body: "Checked again later.".into(),
                }])
            })
            .await
            .unwrap();
    }

    // The recount of each ticket from its timeline, with what reports group it by.
    struct Recounted {
        opened: Timestamp,
        closed: Option<Timestamp>,
        group_of: std::collections::HashMap<Dimension, String>,
        recount: Recount,
    }
    let mut recounts = Vec::new();
    // The open tickets as the backlog groups them: opened, state, profile, customer, advisor.
    let mut open_tickets = Vec::new();
    let mut closed_by_steps = 0;
    for fixture in &fixtures {
        for ticket in store.tickets_of(fixture.customer_id, 10_000).await.unwrap() {
            if ticket.closed_at.is_none() {
                open_tickets.push((
                    ticket.opened_at,
                    [
                        ticket.state.as_str().to_string(),
                        ticket.program.clone(),
                        ticket.severity.clone(),
                        ticket.region.clone(),
                        ticket.product_line.clone(),
                        ticket.channel.clone(),
                    ],
                    ticket.customer_id,
                    ticket.assignee_id,
                ));
            }
            let timeline = store.timeline(ticket.id, Scope::All).await.unwrap();
            if stepped.contains(&ticket.id) && ticket.closed_at.is_some() {
                closed_by_steps += 1;
            }
            let mut recount = Recount::default();
            recount_of(&policy, &timeline, &mut recount);
            let month = jiff::tz::TimeZone::UTC.to_datetime(ticket.opened_at).date();
            recounts.push(Recounted {
                opened: ticket.opened_at,
                closed: ticket.closed_at,
                group_of: [
                    (Dimension::Customer, ticket.customer_id.to_string()),
                    (
                        Dimension::Advisor,
                        ticket
                            .assignee_id
                            .map_or_else(|| "none".to_string(), |id| id.to_string()),
                    ),
                    (Dimension::Program, ticket.program.clone()),
                    (Dimension::Severity, ticket.severity.clone()),
                    (Dimension::Channel, ticket.channel.clone()),
                    (
                        Dimension::Month,
                        format!("{:04}-{:02}", month.year(), month.month()),
                    ),
                ]
                .into_iter()
                .collect(),
                recount,
            });
        }
    }
    assert!(
        closed_by_steps > 5,
        "{closed_by_steps} tickets closed by steps"
    );
    let recount_in =
        |from: Timestamp, to: Timestamp, by: &[Dimension], only: Vec<(Dimension, String)>| {
            let mut groups: BTreeMap<Vec<String>, Recount> = BTreeMap::new();
            for ticket in &recounts {
                if ticket.opened < from || ticket.opened >= to {
                    continue;
                }
                if only
                    .iter()
                    .any(|(dimension, value)| ticket.group_of[dimension] != *value)
                {
                    continue;
                }
                let group = by
                    .iter()
                    .map(|dimension| ticket.group_of[dimension].clone())
                    .collect();
                let sum = groups.entry(group).or_default();
                sum.tickets += ticket.recount.tickets;
                for (clock, counts) in ticket.recount.clocks.iter().enumerate() {
                    for (slot, count) in counts.iter().enumerate() {
                        sum.clocks[clock][slot] += count;
                    }
                }
                for (slot, count) in ticket.recount.activity.iter().enumerate() {
                    sum.activity[slot] += count;
                }
            }
            groups
        };
    let as_recounts = |rows: Vec<ComplianceRow>| -> BTreeMap<Vec<String>, Recount> {
        rows.into_iter()
            .map(|row| {
                for tally in [&row.first_response, &row.updates, &row.resolution] {
                    assert_eq!(tally.measured, tally.met + tally.breached);
                }
                for tally in [&row.first_response, &row.resolution] {
                    assert_eq!(tally.bands.iter().sum::<u64>(), tally.measured);
                }
                let counts = |tally: &caredesk_domain::report::ClockTally| {
                    [
                        tally.met,
                        tally.breached,
                        tally.open_within,
                        tally.open_past,
                    ]
                };
                let a = &row.activity;
                (
                    row.group.clone(),
                    Recount {
                        tickets: row.tickets,
                        clocks: [
                            counts(&row.first_response),
                            counts(&row.updates),
                            counts(&row.resolution),
                        ],
                        activity: [
                            a.closed,
                            a.escalations_asked,
                            a.escalations_automatic,
                            a.escalations_answered,
                            a.escalated,
                            a.escalated_resolved,
                            a.escalated_open,
                            a.proposals,
                            a.proposals_accepted,
                            a.proposals_rejected,
                            a.proposals_unanswered,
                            a.outside_support,
                            a.services_requested,
                        ],
                    },
                )
            })
            .collect()
    };
    let filter = ReportFilter::default();
    // Whole months (the monthly totals and the open tickets), a period cut inside months
    // (the daily totals at either end), a single day, advisors and one customer (the
    // people's totals), and one customer or advisor by something else, or advisors of one
    // program (the tickets alone).
    let (ada, r2) = (advisors[0], fixtures[1].customer_id);
    let of_customer = ReportFilter {
        customer: Some(r2),
        ..ReportFilter::default()
    };
    let of_advisor = ReportFilter {
        advisor: Some(ada),
        ..ReportFilter::default()
    };
    let p2_of_advisor = ReportFilter {
        advisor: Some(ada),
        severity: Some("P2".into()),
        ..ReportFilter::default()
    };
    let gold = ReportFilter {
        program: Some("gold".into()),
        ..ReportFilter::default()
    };
    use Dimension::{Advisor, Channel, Customer, Month, Program, Severity};
    // The period's first and last days, the breakdown, the filter, which tickets of the
    // recount it keeps, and how many tickets it must count at least.
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<Dimension>,
        &'a ReportFilter,
        Vec<(Dimension, String)>,
        u64,
    );
    let cases: Vec<Case> = vec![
        (
            "2026-06-01",
            "2026-09-30",
            vec![Program, Severity],
            &filter,
            vec![],
            1000,
        ),
        (
            "2026-06-10",
            "2026-09-19",
            vec![Program, Severity],
            &filter,
            vec![],
            1000,
        ),
        (
            "2026-07-15",
            "2026-07-15",
            vec![Severity],
            &filter,
            vec![],
            5,
        ),
        (
            "2026-06-10",
            "2026-09-19",
            vec![Month, Severity],
            &filter,
            vec![],
            1000,
        ),
        (
            "2026-05-01",
            "2026-10-31",
            vec![Customer, Program, Severity],
            &filter,
            vec![],
            1000,
        ),
        (
            "2026-06-10",
            "2026-10-20",
            vec![Advisor],
            &filter,
            vec![],
            1000,
        ),
        (
            "2026-06-10",
            "2026-10-20",
            vec![Customer, Month],
            &filter,
            vec![],
            1000,
        ),
        (
            "2026-06-03",
            "2026-09-27",
            vec![Month],
            &of_customer,
            vec![(Customer, r2.to_string())],
            300,
        ),
        (
            "2026-06-03",
            "2026-09-27",
            vec![Month],
            &of_advisor,
            vec![(Advisor, ada.to_string())],
            300,
        ),
        (
            "2026-06-03",
            "2026-09-27",
            vec![Severity],
            &of_customer,
            vec![(Customer, r2.to_string())],
            300,
        ),
        (
            "2026-06-03",
            "2026-09-27",
            vec![Severity, Month],
            &of_advisor,
            vec![(Advisor, ada.to_string())],
            300,
        ),
        (
            "2026-06-03",
            "2026-09-27",
            vec![Channel, Month],
            &of_customer,
            vec![(Customer, r2.to_string())],
            300,
        ),
        (
            "2026-06-03",
            "2026-09-27",
            vec![Month],
            &p2_of_advisor,
            vec![(Advisor, ada.to_string()), (Severity, "P2".into())],
            50,
        ),
        (
            "2026-06-01",
            "2026-10-31",
            vec![Advisor],
            &gold,
            vec![(Program, "gold".into())],
            300,
        ),
        // One advisor by more than severity, over months cut at both ends: the people's
        // detailed totals, monthly and daily.
        (
            "2026-06-10",
            "2026-10-20",
            vec![Program, Channel],
            &of_advisor,
            vec![(Advisor, ada.to_string())],
            300,
        ),
        // Advisors and a customer at once: the tickets themselves.
        (
            "2026-06-03",
            "2026-09-27",
            vec![Advisor],
            &of_customer,
            vec![(Customer, r2.to_string())],
            300,
        ),
    ];
    let every_case_equals_its_recount = async |stage: &str| {
        for (first_day, last_day, by, filter, only, at_least) in cases.clone() {
            let (first_day, last_day): (jiff::civil::Date, jiff::civil::Date) =
                (first_day.parse().unwrap(), last_day.parse().unwrap());
            let query = ComplianceQuery {
                first_day,
                last_day,
                now,
                filter,
                by: &by,
            };
            let report = store.compliance(&query).await.unwrap();
            // The activity alone is the same rows' activity.
            let activity: Vec<(Vec<String>, u64, ActivityTally)> = store
                .activity(&query)
                .await
                .unwrap()
                .into_iter()
                .map(|row| (row.group, row.tickets, row.activity))
                .collect();
            let compliance_activity: Vec<(Vec<String>, u64, ActivityTally)> = report
                .iter()
                .map(|row| (row.group.clone(), row.tickets, row.activity))
                .collect();
            assert_eq!(
                activity, compliance_activity,
                "{stage}: activity from {first_day} to {last_day} by {by:?} of {filter:?}"
            );
            let midnight = |day: jiff::civil::Date| {
                jiff::tz::TimeZone::UTC
                    .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
                    .unwrap()
            };
            let from = midnight(first_day);
            let to = midnight(last_day.tomorrow().unwrap());
            let expected = recount_in(from, to, &by, only);
            let counted: u64 = expected.values().map(|recount| recount.tickets).sum();
            assert!(
                counted >= at_least,
                "{counted} tickets from {first_day} to {last_day} by {by:?}"
            );
            let found = as_recounts(report);
            for (group, recount) in &expected {
                assert_eq!(
                    found.get(group),
                    Some(recount),
                    "{stage}: {group:?} from {first_day} to {last_day} by {by:?} of {filter:?}"
                );
            }
            assert_eq!(
                found.len(),
                expected.len(),
                "{stage}: from {first_day} to {last_day} by {by:?}"
            );
        }
    };
    every_case_equals_its_recount("as kept").await;
    // The people's detailed totals as migration 0038 fills them from the tickets' measures
    // (activity included) are those closing the tickets added.
    caredesk_testkit::refill_people_detail_as_the_migration_does(url).await;
    every_case_equals_its_recount("people's detailed totals filled by migration 0038").await;
    // Tickets opened and closed per week or month, by something or of someone, equal a
    // count of the tickets' own instants.
    // The span, the period's first and last days, the breakdown, the filter and which
    // tickets of the recount it keeps.
    type FlowCase<'a> = (
        Span,
        &'a str,
        &'a str,
        Vec<Dimension>,
        &'a ReportFilter,
        Vec<(Dimension, String)>,
    );
    let flow_cases: Vec<FlowCase> = vec![
        (
            Span::Month,
            "2026-06-10",
            "2026-09-19",
            vec![Severity],
            &filter,
            vec![],
        ),
        (
            Span::Week,
            "2026-06-01",
            "2026-10-15",
            vec![],
            &filter,
            vec![],
        ),
        (
            Span::Week,
            "2026-07-01",
            "2026-09-30",
            vec![Channel],
            &of_customer,
            vec![(Customer, r2.to_string())],
        ),
        (
            Span::Month,
            "2026-06-01",
            "2026-10-31",
            vec![Program],
            &of_advisor,
            vec![(Advisor, ada.to_string())],
        ),
        (
            Span::Week,
            "2026-06-01",
            "2026-10-31",
            vec![Program, Channel],
            &gold,
            vec![(Program, "gold".into())],
        ),
    ];
    let flows_equal_their_recount = async |stage: &str| {
        for (span, first_day, last_day, by, filter, only) in flow_cases.clone() {
            let (first_day, last_day): (jiff::civil::Date, jiff::civil::Date) =
                (first_day.parse().unwrap(), last_day.parse().unwrap());
            let rows = store
                .flows(&FlowQuery {
                    first_day,
                    last_day,
                    span,
                    filter,
                    by: &by,
                })
                .await
                .unwrap();
            let found: BTreeMap<(jiff::civil::Date, Vec<String>), (u64, u64)> = rows
                .into_iter()
                .map(|row| ((row.period, row.group), (row.opened, row.closed)))
                .collect();
            let day_of = |at: Timestamp| jiff::tz::TimeZone::UTC.to_datetime(at).date();
            let (first, last) = (span.start_of(first_day), span.end_of(last_day));
            let mut expected: BTreeMap<(jiff::civil::Date, Vec<String>), (u64, u64)> =
                BTreeMap::new();
            for ticket in &recounts {
                if only
                    .iter()
                    .any(|(dimension, value)| ticket.group_of[dimension] != *value)
                {
                    continue;
                }
                let group: Vec<String> = by
                    .iter()
                    .map(|dimension| ticket.group_of[dimension].clone())
                    .collect();
                let opened = day_of(ticket.opened);
                if first <= opened && opened <= last {
                    expected
                        .entry((span.start_of(opened), group.clone()))
                        .or_default()
                        .0 += 1;
                }
                if let Some(closed) = ticket.closed.map(day_of)
                    && first <= closed
                    && closed <= last
                {
                    expected
                        .entry((span.start_of(closed), group))
                        .or_default()
                        .1 += 1;
                }
            }
            let (opened, closed) = expected
                .values()
                .fold((0, 0), |(o, c), (opened, closed)| (o + opened, c + closed));
            assert!(
                opened > 20 && closed > 20,
                "{opened} opened, {closed} closed by {by:?} per {span:?}"
            );
            assert_eq!(
                found, expected,
                "{stage}: per {span:?} from {first_day} to {last_day} by {by:?} of {filter:?}"
            );
        }
    };
    // Each breakdown adds up to the same whole.
    let whole = |by: Vec<Dimension>, filter: ReportFilter| {
        let store = store.clone();
        async move {
            let rows = store
                .compliance(&ComplianceQuery {
                    first_day: "2026-06-01".parse().unwrap(),
                    last_day: "2026-09-30".parse().unwrap(),
                    now,
                    filter: &filter,
                    by: &by,
                })
                .await
                .unwrap();
            let mut total = ComplianceRow::default();
            for row in &rows {
                total.add(row);
            }
            total
        }
    };
    let everything = whole(vec![], ReportFilter::default()).await;
    // The generated history has every kind of activity the recount compares.
    let activity = &everything.activity;
    for (what, count) in [
        ("escalations asked", activity.escalations_asked),
        (
            "escalations raised by the desk",
            activity.escalations_automatic,
        ),
        ("escalations answered", activity.escalations_answered),
        ("escalated and resolved", activity.escalated_resolved),
        ("escalated and open", activity.escalated_open),
        ("proposals rejected", activity.proposals_rejected),
        ("business time waiting", activity.waiting_minutes),
    ] {
        assert!(count > 0, "no {what} in {activity:?}");
    }
    assert_eq!(
        whole(vec![Dimension::Month], ReportFilter::default()).await,
        everything
    );
    assert_eq!(
        whole(
            vec![Dimension::Channel, Dimension::Language],
            ReportFilter::default()
        )
        .await,
        everything
    );
    let gold = whole(
        vec![],
        ReportFilter {
            program: Some("gold".into()),
            ..ReportFilter::default()
        },
    )
    .await;
    let of_r2 = whole(
        vec![],
        ReportFilter {
            customer: Some(fixtures[1].customer_id),
            ..ReportFilter::default()
        },
    )
    .await;
    assert_eq!(gold, of_r2);
    assert!(gold.tickets > 0 && gold.tickets < everything.tickets);

    flows_equal_their_recount("as kept").await;
    // The backlog: open tickets counted per state and profile between instants equal a
    // count of the open tickets. Two cutoffs are openings themselves (at or before counts).
    open_tickets.sort_by_key(|(opened, ..)| *opened);
    assert!(
        open_tickets.len() > 10,
        "{} open tickets",
        open_tickets.len()
    );
    let third = open_tickets.len() / 3;
    let cutoffs = [
        open_tickets[0].0 - jiff::SignedDuration::from_secs(1),
        open_tickets[third].0,
        open_tickets[2 * third].0,
    ];
    for filter in [&filter, &of_customer, &of_advisor] {
        let mut expected: BTreeMap<(Vec<String>, usize), u64> = BTreeMap::new();
        for (opened, profile, customer, advisor) in &open_tickets {
            if filter.customer.is_some_and(|id| id != *customer)
                || filter.advisor.is_some_and(|id| Some(id) != *advisor)
            {
                continue;
            }
            let after = cutoffs.iter().filter(|cutoff| *opened > **cutoff).count();
            *expected.entry((profile.to_vec(), after)).or_default() += 1;
        }
        let found: BTreeMap<(Vec<String>, usize), u64> = store
            .backlog(filter, &cutoffs)
            .await
            .unwrap()
            .into_iter()
            .map(|group| {
                let profile = vec![
                    group.state,
                    group.program,
                    group.severity,
                    group.region,
                    group.product_line,
                    group.channel,
                ];
                ((profile, group.after_cutoffs), group.tickets)
            })
            .collect();
        if filter.customer.is_none() && filter.advisor.is_none() {
            let afters: std::collections::BTreeSet<usize> =
                expected.keys().map(|(_, after)| *after).collect();
            assert_eq!(afters, [1, 2, 3].into(), "{expected:?}");
        }
        assert_eq!(found, expected, "backlog of {filter:?}");
    }
    // Created and imported tickets had their work counted as it came: none is left to count.
    assert_eq!(store.count_earlier_work(&policy, 10).await.unwrap(), 0);
    work_equals_its_recount(&store, &policy, &fixtures, advisors[0], "as kept").await;
    // A database migrated from before the daily and people's totals, and measured before
    // reports kept activity: the job runner measures it again, swapping what each closed
    // ticket added to the totals.
    caredesk_testkit::refill_report_totals_as_the_migration_does(url).await;
    flows_equal_their_recount("filled by the migration").await;
    // A closed ticket changed (a note) before the job reaches it: the change measures it
    // again and swaps its contribution; the job then finds it done.
    let mut closed_stepped = None;
    for id in &stepped {
        if store
            .ticket(*id, Scope::All)
            .await
            .unwrap()
            .closed_at
            .is_some()
        {
            closed_stepped = Some(*id);
            break;
        }
    }
    let closed_stepped = closed_stepped.unwrap();
    store
        .update_ticket(&policy, Change::by(ADVISOR, closed_stepped, now), |_, _| {
            Ok::<_, std::convert::Infallible>(vec![EventData::InternalNote {
                body: "Looked at once more after the upgrade.".into(),
            }])
        })
        .await
        .unwrap();
    let mut measured_again = 0;
    loop {
        let batch = store
            .measure_earlier_tickets(&policy, now, 400)
            .await
            .unwrap();
        if batch == 0 {
            break;
        }
        measured_again += batch;
    }
    assert_eq!(
        measured_again,
        recounts.len() - 1,
        "all but the one changed"
    );
    every_case_equals_its_recount("filled by the migration, measured again").await;
    flows_equal_their_recount("filled by the migration, measured again").await;
    // A database written before reports kept measures: the job runner measures its tickets.
    caredesk_testkit::forget_report_measures(url).await;
    let mut measured = 0;
    loop {
        let batch = store
            .measure_earlier_tickets(&policy, now, 400)
            .await
            .unwrap();
        if batch == 0 {
            break;
        }
        measured += batch;
    }
    assert_eq!(measured, recounts.len());
    every_case_equals_its_recount("measured later").await;
    flows_equal_their_recount("measured later").await;
    // A database written before work was counted: the job runner counts it from the
    // timelines, once; a ticket changed before the job reaches it is counted by its change.
    caredesk_testkit::forget_report_work(url).await;
    let first_of_r1 = store.tickets_of(fixtures[0].customer_id, 1).await.unwrap()[0].id;
    store
        .update_ticket(&policy, Change::by(ADVISOR, first_of_r1, now), |_, _| {
            Ok::<_, std::convert::Infallible>(vec![EventData::InternalNote {
                body: "Counted by its change.".into(),
            }])
        })
        .await
        .unwrap();
    let mut counted = 0;
    loop {
        let batch = store.count_earlier_work(&policy, 400).await.unwrap();
        if batch == 0 {
            break;
        }
        counted += batch;
    }
    assert_eq!(counted, recounts.len() - 1, "all but the one changed");
    work_equals_its_recount(&store, &policy, &fixtures, advisors[0], "counted later").await;
}

/// The people report's counts equal a count of the staff's events on every timeline, per
/// week and per month, for everyone and for one advisor's work on one region's tickets.
async fn work_equals_its_recount(
    store: &Store,
    policy: &Policy,
    fixtures: &[Fixture],
    advisor: i64,
    stage: &str,
) {
    use caredesk_domain::policy::TicketProfile;
    use caredesk_domain::report::Span;
    use caredesk_domain::work::WorkCounts;
    use caredesk_store::WorkQuery;
    use std::collections::BTreeMap;
    type Key = (Span, jiff::civil::Date, i64, String, String);
    let mut expected: BTreeMap<Key, WorkCounts> = BTreeMap::new();
    for fixture in fixtures {
        for ticket in store.tickets_of(fixture.customer_id, 10_000).await.unwrap() {
            let timeline = store.timeline(ticket.id, Scope::All).await.unwrap();
            let context = ClockContext {
                program: &ticket.program,
                region: &ticket.region,
                product_line: &ticket.product_line,
            };
            let office = policy
                .calendar(&policy.region(&ticket.region).unwrap().calendar)
                .unwrap();
            let mut severity = String::new();
            let mut handled: Vec<i64> = Vec::new();
            let mut answered = false;
            let mut proposer = None;
            let mut language = ticket.language.clone();
            for event in &timeline {
                // Who each event counts for: the proposer of a solution accepted, and
                // whoever of the staff wrote it.
                let mut pieces: Vec<(i64, WorkCounts)> = Vec::new();
                match &event.data {
                    EventData::Created {
                        severity: opened, ..
                    } => {
                        severity.clone_from(opened);
                        continue;
                    }
                    EventData::IntakeChecked {
                        language: chosen, ..
                    } => {
                        language.clone_from(&chosen.language);
                    }
                    EventData::ShiftChanged { language: now, .. } => language.clone_from(now),
                    EventData::SolutionAccepted { .. } => {
                        if let Some(proposer) = proposer {
                            pieces.push((
                                proposer,
                                WorkCounts {
                                    solutions_accepted: 1,
                                    ..WorkCounts::default()
                                },
                            ));
                        }
                    }
                    EventData::SeverityChanged { to, .. } => severity.clone_from(to),
                    _ => {}
                }
                if let Actor::Staff { id, .. } = event.actor {
                    // An acceptance recorded by staff closes the ticket in the same action.
                    let previous = &timeline[event.seq as usize - 2];
                    let closing_of_acceptance = matches!(event.data, EventData::Closed { .. })
                        && matches!(previous.data, EventData::SolutionAccepted { .. })
                        && previous.actor == event.actor;
                    let mut counts = WorkCounts {
                        actions: u64::from(!closing_of_acceptance),
                        ..WorkCounts::default()
                    };
                    if !handled.contains(&id) {
                        handled.push(id);
                        counts.tickets = 1;
                    }
                    if event.data.is_advisor_contact() {
                        counts.replies = 1;
                        if !answered {
                            answered = true;
                            counts.first_responses = 1;
                            // Within the target as it stood then, with no breach recorded.
                            let before = &timeline[..event.seq as usize];
                            let clocks = compute(policy, &context, before, event.at).unwrap();
                            let recorded = before.iter().any(|earlier| {
                                matches!(
                                    earlier.data,
                                    EventData::ClockBreached {
                                        clock: caredesk_domain::ticket::ClockKind::FirstResponse,
                                        ..
                                    }
                                )
                            });
                            counts.first_responses_in_time =
                                u64::from(!clocks.first_response.breached && !recorded);
                        }
                    }
                    if matches!(event.data, EventData::SolutionProposed { .. }) {
                        proposer = Some(id);
                    }
                    let profile = TicketProfile {
                        program: &ticket.program,
                        region: &ticket.region,
                        product_line: &ticket.product_line,
                        severity: &severity,
                        channel: &ticket.channel,
                    };
                    let extended = policy.calendar_for(&profile).unwrap().rule.is_some();
                    counts.after_hours = u64::from(extended && !office.is_open(event.at).unwrap());
                    if counts != WorkCounts::default() {
                        pieces.push((id, counts));
                    }
                }
                let day = jiff::tz::TimeZone::UTC.to_datetime(event.at).date();
                for (person, counts) in pieces {
                    for span in [Span::Week, Span::Month] {
                        expected
                            .entry((
                                span,
                                span.start_of(day),
                                person,
                                ticket.region.clone(),
                                language.clone(),
                            ))
                            .or_default()
                            .add(&counts);
                    }
                }
            }
        }
    }
    let mut all = WorkCounts::default();
    for ((span, ..), counts) in &expected {
        if *span == Span::Week {
            all.add(counts);
        }
    }
    let people: std::collections::BTreeSet<i64> =
        expected.keys().map(|(_, _, person, ..)| *person).collect();
    assert!(people.len() >= 2, "{stage}: work by {people:?}");
    for (what, count) in [
        ("tickets", all.tickets),
        ("first responses in time", all.first_responses_in_time),
        (
            "first responses late",
            all.first_responses - all.first_responses_in_time,
        ),
        ("solutions accepted", all.solutions_accepted),
        ("actions after hours", all.after_hours),
    ] {
        assert!(count > 10, "{stage}: {count} {what} in {all:?}");
    }
    let cases = [
        (Span::Week, None, None),
        (Span::Month, None, None),
        (Span::Week, Some(advisor), Some("americas")),
    ];
    for (span, person, region) in cases {
        let rows = store
            .work(&WorkQuery {
                first_day: "2026-05-01".parse().unwrap(),
                last_day: "2026-12-31".parse().unwrap(),
                span,
                region,
                language: None,
                person,
            })
            .await
            .unwrap();
        let found: BTreeMap<Key, WorkCounts> = rows
            .into_iter()
            .map(|row| {
                (
                    (span, row.period, row.person, row.region, row.language),
                    row.counts,
                )
            })
            .collect();
        let wanted: BTreeMap<Key, WorkCounts> = expected
            .iter()
            .filter(|((of_span, _, of_person, of_region, _), _)| {
                *of_span == span
                    && person.is_none_or(|person| person == *of_person)
                    && region.is_none_or(|region| region == of_region)
            })
            .map(|(key, counts)| (key.clone(), *counts))
            .collect();
        assert!(wanted.len() > 3, "{stage}: {span:?} {person:?} {region:?}");
        assert_eq!(
            found, wanted,
            "{stage}: per {span:?} of {person:?} in {region:?}"
        );
    }
}

async fn a_customers_monthly_report_is_recorded_once(store: Store) {
    use caredesk_domain::notify::{MonthlyReportNotice, NoticeKind};

    let gold = customer(&store, "GOLD", "gold", "emea").await;
    let platinum = customer(&store, "PLAT", "platinum", "amer").await;
    let standard = customer(&store, "STD", "standard", "emea").await;
    let csm = emea_staff(&store, "Carla CSM", Role::CustomerSuccessManager, &["en"]).await;
    store.set_csm(gold.customer_id, Some(csm.id)).await.unwrap();
    // A second designated contact, and one who is not designated.
    for (email, designated) in [("bo@gold.example", true), ("cy@gold.example", false)] {
        store
            .create_contact(
                &NewContact {
                    customer_id: gold.customer_id,
                    name: email.into(),
                    email: email.into(),
                    phone: String::new(),
                    language: "fr".into(),
                    designated,
                    password_hash: None,
                },
                at(MONDAY_10),
            )
            .await
            .unwrap();
    }
    // A contract that ended before the month owes nothing.
    let lapsed = customer(&store, "OLD", "standard", "emea").await;
    store
        .create_contract(
            &NewContract {
                customer_id: lapsed.customer_id,
                program: "gold".into(),
                starts_on: date(2025, 1, 1),
                ends_on: date(2026, 10, 31),
                eula_accepted: true,
            },
            at(MONDAY_10),
        )
        .await
        .unwrap();

    // Contracts that touch November by a day at either end are owed it; one that starts in
    // December is not.
    let mut touching = Vec::new();
    for (number, starts_on, ends_on) in [
        ("LAST", date(2026, 11, 30), date(2027, 11, 29)),
        ("FIRST", date(2025, 11, 2), date(2026, 11, 1)),
        ("NEXT", date(2026, 12, 1), date(2027, 11, 30)),
    ] {
        let fixture = customer(&store, number, "standard", "emea").await;
        store
            .create_contract(
                &NewContract {
                    customer_id: fixture.customer_id,
                    program: "gold".into(),
                    starts_on,
                    ends_on,
                    eula_accepted: true,
                },
                at(MONDAY_10),
            )
            .await
            .unwrap();
        touching.push(fixture.customer_id);
    }

    let programs = ["gold", "platinum"];
    let (first, last) = (date(2026, 11, 1), date(2026, 11, 30));
    let december = at("2026-12-01T00:00:00Z");
    let owed = |limit: i64| {
        let store = store.clone();
        async move {
            store
                .reports_owed("2026-11", (first, last), december, &programs, (0, limit))
                .await
                .unwrap()
                .iter()
                .map(|owed| (owed.customer_id, owed.program.clone()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        owed(10).await,
        [
            (gold.customer_id, "gold".to_string()),
            (platinum.customer_id, "platinum".to_string()),
            (touching[0], "gold".to_string()),
            (touching[1], "gold".to_string()),
        ]
    );
    // A page at a time, after the last one seen.
    assert_eq!(owed(1).await, [(gold.customer_id, "gold".to_string())]);
    let next_page: Vec<i64> = store
        .reports_owed(
            "2026-11",
            (first, last),
            december,
            &programs,
            (gold.customer_id, 2),
        )
        .await
        .unwrap()
        .iter()
        .map(|owed| owed.customer_id)
        .collect();
    assert_eq!(next_page, [platinum.customer_id, touching[0]]);
    assert!(
        store
            .reports_owed("2026-11", (first, last), december, &[], (0, 10))
            .await
            .unwrap()
            .is_empty()
    );

    // Two instances record the gold customer's November at once: one of them writes it,
    // with one notice per designated contact and one to the CSM.
    let now = at("2026-12-01T01:00:00Z");
    let (one, other) = tokio::join!(
        store.record_monthly_report(gold.customer_id, "2026-11", r#"{"n":1}"#, now),
        store.record_monthly_report(gold.customer_id, "2026-11", r#"{"n":2}"#, now),
    );
    let (one, other) = (one.unwrap(), other.unwrap());
    assert!(one != other, "exactly one of them records it");
    let kept = store
        .monthly_report(gold.customer_id, "2026-11")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept, if one { r#"{"n":1}"# } else { r#"{"n":2}"# });
    let monthly: Vec<_> = store
        .notices_in("pending", 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|notice| notice.kind == NoticeKind::MonthlyReport)
        .collect();
    let mut recipients: Vec<_> = monthly
        .iter()
        .map(|notice| (notice.recipient.clone(), notice.contact_id, notice.staff_id))
        .collect();
    recipients.sort();
    let bo = store
        .contacts_of(gold.customer_id)
        .await
        .unwrap()
        .into_iter()
        .find(|contact| contact.email == "bo@gold.example")
        .unwrap();
    assert_eq!(
        recipients,
        [
            ("contact".to_string(), Some(gold.contact_id), None),
            ("contact".to_string(), Some(bo.id), None),
            ("staff".to_string(), None, Some(csm.id)),
        ]
    );
    for notice in &monthly {
        assert_eq!(notice.ticket_id, None);
        let named: MonthlyReportNotice =
            serde_json::from_str(notice.details.as_deref().unwrap()).unwrap();
        assert_eq!(
            named,
            MonthlyReportNotice {
                customer_id: gold.customer_id,
                month: "2026-11".into(),
            }
        );
    }
    // Recorded, it is owed no more; the next month is.
    assert_eq!(
        owed(10).await,
        [
            (platinum.customer_id, "platinum".to_string()),
            (touching[0], "gold".to_string()),
            (touching[1], "gold".to_string()),
        ]
    );
    assert!(
        !store
            .record_monthly_report(gold.customer_id, "2026-11", "{}", now)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .reports_owed(
                "2026-12",
                (date(2026, 12, 1), date(2026, 12, 31)),
                at("2027-01-01T00:00:00Z"),
                &programs,
                (0, 10)
            )
            .await
            .unwrap()
            .len(),
        4,
        "the gold and platinum customers, and those whose gold contract runs on into December"
    );
    // The customers were added on 23 November: October's report is owed to none of them.
    assert!(
        store
            .reports_owed(
                "2026-10",
                (date(2026, 10, 1), date(2026, 10, 31)),
                at("2026-11-01T00:00:00Z"),
                &programs,
                (0, 10)
            )
            .await
            .unwrap()
            .is_empty()
    );
    // A customer without a CSM: its designated contact only.
    assert!(
        store
            .record_monthly_report(platinum.customer_id, "2026-11", "{}", now)
            .await
            .unwrap()
    );
    let of_platinum: Vec<_> = store
        .notices_in("pending", 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|notice| {
            notice.kind == NoticeKind::MonthlyReport
                && serde_json::from_str::<MonthlyReportNotice>(notice.details.as_deref().unwrap())
                    .unwrap()
                    .customer_id
                    == platinum.customer_id
        })
        .map(|notice| (notice.recipient, notice.contact_id, notice.staff_id))
        .collect();
    assert_eq!(
        of_platinum,
        [("contact".to_string(), Some(platinum.contact_id), None)]
    );
    assert_eq!(
        store
            .monthly_report(standard.customer_id, "2026-11")
            .await
            .unwrap(),
        None
    );
}

/// Tickets with their whole timelines, as replay reads them: a page at a time in order of
/// number, of the filter only, each with the events its own timeline holds.
async fn timelines_are_read_a_page_at_a_time(store: Store) {
    use caredesk_domain::report::ReportFilter;
    let policy = policy();
    let acme = customer(&store, "C-1", "gold", "emea").await;
    let other = customer(&store, "C-2", "standard", "emea").await;
    let now = at(MONDAY_10);
    let mut acme_tickets = Vec::new();
    for (fixture, severity) in [
        (&acme, "P2"),
        (&other, "P3"),
        (&acme, "P3"),
        (&acme, "P1"),
        (&other, "P2"),
    ] {
        let created = store
            .create_ticket(&policy, &new_ticket(fixture, severity, None), now)
            .await
            .unwrap();
        if fixture.customer_id == acme.customer_id {
            acme_tickets.push(created.ticket.id);
        }
    }
    // One of them with more than its creation on its timeline.
    let noted = acme_tickets[1];
    act(
        &store,
        &policy,
        noted,
        "2026-11-23T11:00:00+01:00",
        ADVISOR,
        // Quotes, a backslash, a line break, a tab and accents: the timeline travels as JSON
        // built by the database.
        reply("looking at the \"logs\" in C:\\caredesk\n\tthe café's réponse ✓"),
    )
    .await;
    // And appended after that text: the database splices the next event in after it.
    act(
        &store,
        &policy,
        noted,
        "2026-11-23T11:30:00+01:00",
        ADVISOR,
        reply("encore une réponse — ✓✓"),
    )
    .await;
    let of_acme = ReportFilter {
        customer: Some(acme.customer_id),
        ..ReportFilter::default()
    };
    let mut read = Vec::new();
    let mut after = caredesk_store::TimelineCursor::default();
    loop {
        let page = store
            .timelines(&caredesk_store::TimelineQuery {
                first_day: date(2026, 11, 1),
                last_day: date(2026, 11, 30),
                filter: &of_acme,
                after,
                through: None,
                limit: 2,
            })
            .await
            .unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = last.cursor();
        read.extend(page);
    }
    assert_eq!(
        read.iter().map(|ticket| ticket.id).collect::<Vec<_>>(),
        acme_tickets
    );
    for ticket in &read {
        assert_eq!(ticket.customer_id, acme.customer_id);
        assert_eq!(
            (ticket.program.as_str(), ticket.region.as_str()),
            ("gold", "emea")
        );
        assert_eq!(
            ticket.events,
            store.timeline(ticket.id, Scope::All).await.unwrap()
        );
    }
    assert!(read[1].events.len() > read[0].events.len());
    assert_eq!(read[2].severity, "P1");
    // The same tickets read by pages counted first, each page by itself: the ends fall
    // between tickets opened in the same second, so the number decides.
    let (first_day, last_day) = (date(2026, 11, 1), date(2026, 11, 30));
    let start = caredesk_store::TimelineCursor::default();
    let end = store
        .timeline_page_end(first_day, last_day, &of_acme, start, 2)
        .await
        .unwrap();
    assert_eq!(end, Some(read[1].cursor()));
    let last = store
        .timeline_page_end(first_day, last_day, &of_acme, read[1].cursor(), 2)
        .await
        .unwrap();
    assert_eq!(last, None, "one ticket is left: no full page");
    let mut by_pages = Vec::new();
    for (after, through) in [(start, end), (read[1].cursor(), None)] {
        by_pages.extend(
            store
                .timelines(&caredesk_store::TimelineQuery {
                    first_day,
                    last_day,
                    filter: &of_acme,
                    after,
                    through,
                    limit: 100,
                })
                .await
                .unwrap(),
        );
    }
    assert_eq!(by_pages, read);
    // Opened outside the period: none.
    let none = store
        .timelines(&caredesk_store::TimelineQuery {
            first_day: date(2026, 12, 1),
            last_day: date(2026, 12, 31),
            filter: &ReportFilter::default(),
            after: caredesk_store::TimelineCursor::default(),
            through: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// Every ticket opened from `first_day` to `last_day`, with the timeline a bulk read gives
/// (the one the database keeps beside the events), a page at a time.
async fn every_timeline_read_in_bulk(
    store: &Store,
    first_day: jiff::civil::Date,
    last_day: jiff::civil::Date,
) -> Vec<caredesk_store::TicketTimeline> {
    let everyone = caredesk_domain::report::ReportFilter::default();
    let mut read = Vec::new();
    let mut after = caredesk_store::TimelineCursor::default();
    loop {
        let page = store
            .timelines(&caredesk_store::TimelineQuery {
                first_day,
                last_day,
                filter: &everyone,
                after,
                through: None,
                limit: 100,
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.cursor();
        read.extend(page);
    }
    read
}

/// The built-in policy with P3's status updates every business hour instead of every two
/// business days.
fn hourly_p3_updates() -> String {
    p3_updates_every("1h")
}

/// The built-in policy with P3's status updates every `cadence` (business time).
fn p3_updates_every(cadence: &str) -> String {
    let start = DEFAULT_POLICY_TOML.find("[severities.P3]").unwrap();
    let line = start
        + DEFAULT_POLICY_TOML[start..]
            .find("update_every = ")
            .unwrap();
    let end = line + DEFAULT_POLICY_TOML[line..].find('\n').unwrap();
    format!(
        "{}update_every = \"{cadence}\"{}",
        &DEFAULT_POLICY_TOML[..line],
        &DEFAULT_POLICY_TOML[end..]
    )
}

fn policy_version_of<'a>(
    document: &'a str,
    source: &'a str,
    now: Timestamp,
) -> caredesk_store::NewPolicyVersion<'a> {
    caredesk_store::NewPolicyVersion {
        document,
        sha256: source,
        source,
        applied_by: "the contract suite",
        applied_at: now,
        effective_at: now,
        note: None,
    }
}

/// A rebuild writes the tickets a new version gives no event in bulk, setting only the
/// columns that moved (queue keys, measures alone, nothing but the version): each ticket's
/// row is then, column for column, what the locked way of any change writes at the same
/// instant.
async fn a_rebuild_writes_what_a_change_would(store: Store, url: &str) {
    use caredesk_testkit::ticket_row;
    use std::collections::BTreeMap;

    let opened = at(MONDAY_10);
    let first = store
        .add_policy_version(&policy_version_of(DEFAULT_POLICY_TOML, "first", opened))
        .await
        .unwrap();
    let under_first = Policy {
        stored_as: first,
        ..policy()
    };
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let create = async |severity: &str, when: Timestamp| {
        store
            .create_ticket(&under_first, &new_ticket(&fixture, severity, None), when)
            .await
            .unwrap()
            .ticket
            .id
    };
    // A P3 answered at 10:30: its status update runs, due in two business days.
    let updated = create("P3", opened).await;
    act(
        &store,
        &under_first,
        updated,
        "2026-11-23T10:30:00+01:00",
        ADVISOR,
        reply("looking"),
    )
    .await;
    // A P4 waiting for its first response since 10:00, and one opened at 11:00.
    let waiting = create("P4", opened).await;
    let rebuilt_at = at("2026-11-23T11:00:00+01:00");
    let fresh = create("P4", rebuilt_at).await;
    let tickets = [updated, waiting, fresh];
    let mut before = Vec::new();
    let mut timelines = Vec::new();
    for id in tickets {
        before.push(ticket_row(url, id).await);
        timelines.push(store.timeline(id, Scope::All).await.unwrap().len());
    }

    // The second version: P3 status updates every four business hours; nothing is due.
    let document = p3_updates_every("4h");
    let second = store
        .add_policy_version(&policy_version_of(&document, "second", rebuilt_at))
        .await
        .unwrap();
    let under_second = Policy {
        stored_as: second,
        ..Policy::from_toml(&document, "second").unwrap()
    };
    let rebuilt = store
        .rebuild_tickets(&under_second, &tickets, rebuilt_at)
        .await
        .unwrap();
    assert_eq!((rebuilt.tickets, rebuilt.breaches), (3, 0));
    assert!(rebuilt.failed.is_empty(), "{:?}", rebuilt.failed);
    let mut after = Vec::new();
    for (id, events) in tickets.into_iter().zip(timelines) {
        assert_eq!(
            store.timeline(id, Scope::All).await.unwrap().len(),
            events,
            "ticket {id} got no event"
        );
        after.push(ticket_row(url, id).await);
    }
    let changed = |before: &BTreeMap<String, String>, after: &BTreeMap<String, String>| {
        after
            .iter()
            .filter(|(column, value)| before.get(*column) != Some(*value))
            .map(|(column, _)| column.clone())
            .collect::<Vec<_>>()
    };
    // Each kind of write was made.
    let moved = changed(&before[0], &after[0]);
    assert!(
        moved.contains(&"next_update_due_at".to_string()),
        "{moved:?}"
    );
    let measured = changed(&before[1], &after[1]);
    assert!(
        measured.contains(&"first_response_used".to_string()),
        "{measured:?}"
    );
    assert!(!measured.contains(&"due_sort".to_string()), "{measured:?}");
    assert_eq!(changed(&before[2], &after[2]), ["policy_version"]);

    // The locked way, at the same instant, under the same version, writes the same rows.
    for (id, bulk) in tickets.into_iter().zip(&after) {
        let events_before = store.timeline(id, Scope::All).await.unwrap().len();
        store
            .update_ticket(
                &under_second,
                Change::by(Actor::System, id, rebuilt_at),
                |_, _| Ok::<_, std::convert::Infallible>(Vec::new()),
            )
            .await
            .unwrap();
        assert_eq!(
            store.timeline(id, Scope::All).await.unwrap().len(),
            events_before,
            "ticket {id} got no event"
        );
        let mut locked = ticket_row(url, id).await;
        let mut bulk = bulk.clone();
        for row in [&mut locked, &mut bulk] {
            // What only the locked way of a change moves on: the row's version and time.
            row.remove("version_number");
            row.remove("updated_at");
        }
        assert_eq!(bulk, locked, "ticket {id}");
    }

    // A batch read and computed under a third version, then written after another writer
    // (a rebuild under the second version, as a slower instance would run it) rewrote a
    // ticket of it without an event: the batch does not stamp the third version on the
    // other's due times; the ticket goes the locked way and follows the third version.
    let late = create("P3", opened).await;
    act(
        &store,
        &under_first,
        late,
        "2026-11-23T10:30:00+01:00",
        ADVISOR,
        reply("looking"),
    )
    .await;
    let third = store
        .add_policy_version(&policy_version_of(DEFAULT_POLICY_TOML, "third", rebuilt_at))
        .await
        .unwrap();
    let under_third = Policy {
        stored_as: third,
        ..policy()
    };
    let prepared = store
        .prepare_rebuild(&under_third, &[late], rebuilt_at)
        .await
        .unwrap();
    let meanwhile = store
        .rebuild_tickets(&under_second, &[late], rebuilt_at)
        .await
        .unwrap();
    assert_eq!(meanwhile.tickets, 1);
    let under_second_row = ticket_row(url, late).await;
    let written = store.write_rebuild(&under_third, prepared).await.unwrap();
    assert_eq!((written.tickets, written.breaches), (1, 0));
    let mut bulk = ticket_row(url, late).await;
    assert_eq!(bulk["policy_version"], third.to_string());
    assert_ne!(
        bulk["next_update_due_at"], under_second_row["next_update_due_at"],
        "the third version's update cadence, not the second's"
    );
    store
        .update_ticket(
            &under_third,
            Change::by(Actor::System, late, rebuilt_at),
            |_, _| Ok::<_, std::convert::Infallible>(Vec::new()),
        )
        .await
        .unwrap();
    let mut locked = ticket_row(url, late).await;
    for row in [&mut locked, &mut bulk] {
        row.remove("version_number");
        row.remove("updated_at");
    }
    assert_eq!(bulk, locked);

    // A batch written after another writer changed a column the batch does not set,
    // without moving the ticket's version number (as the measuring of old tickets does):
    // the batch does not leave that column as the other writer left it under its own
    // version; the ticket goes the locked way, and its row is the version's, whole.
    let raced = create("P4", opened).await;
    let fourth = store
        .add_policy_version(&policy_version_of(&document, "fourth", rebuilt_at))
        .await
        .unwrap();
    let under_fourth = Policy {
        stored_as: fourth,
        ..Policy::from_toml(&document, "fourth").unwrap()
    };
    let later = at("2026-11-23T11:30:00+01:00");
    let prepared = store
        .prepare_rebuild(&under_fourth, &[raced], later)
        .await
        .unwrap();
    {
        use sqlx::Connection;
        let mut outside = sqlx::AnyConnection::connect(url).await.unwrap();
        let changed = sqlx::query("UPDATE tickets SET escalations_asked = 99 WHERE id = $1")
            .bind(raced)
            .execute(&mut outside)
            .await
            .unwrap();
        assert_eq!(changed.rows_affected(), 1);
        outside.close().await.unwrap();
    }
    let written = store.write_rebuild(&under_fourth, prepared).await.unwrap();
    assert_eq!(written.tickets, 1);
    let mut bulk = ticket_row(url, raced).await;
    assert_eq!(bulk["policy_version"], fourth.to_string());
    assert_eq!(
        bulk["escalations_asked"], "0",
        "recomputed from the timeline"
    );
    store
        .update_ticket(
            &under_fourth,
            Change::by(Actor::System, raced, later),
            |_, _| Ok::<_, std::convert::Infallible>(Vec::new()),
        )
        .await
        .unwrap();
    let mut locked = ticket_row(url, raced).await;
    for row in [&mut locked, &mut bulk] {
        row.remove("version_number");
        row.remove("updated_at");
    }
    assert_eq!(bulk, locked);
}

/// A new version is stored with the next number and computed into every open ticket, a
/// batch at a time: a rebuild stopped after its first batch and resumed later gives every
/// open ticket the clocks a recomputation under the new version gives, and records each
/// breach the change caused once, naming the version; a closed ticket keeps its measures.
async fn a_new_policy_version_rebuilds_the_open_tickets_once(store: Store) {
    use caredesk_domain::ticket::ClockKind;
    use caredesk_store::{BehindPosition, RebuildProgress};

    let opened = at(MONDAY_10);
    assert_eq!(store.policy_version_in_force(opened).await.unwrap(), None);
    let first = store
        .add_policy_version(&policy_version_of(DEFAULT_POLICY_TOML, "first", opened))
        .await
        .unwrap();
    assert_eq!(first, 1);
    let under_first = Policy {
        stored_as: first,
        ..policy()
    };
    let fixture = customer(&store, "C-1", "standard", "emea").await;
    let mut open = Vec::new();
    for _ in 0..5 {
        let id = store
            .create_ticket(&under_first, &new_ticket(&fixture, "P3", None), opened)
            .await
            .unwrap()
            .ticket
            .id;
        act(
            &store,
            &under_first,
            id,
            "2026-11-23T10:30:00+01:00",
            ADVISOR,
            reply("looking"),
        )
        .await;
        open.push(id);
    }
    // One closed before the change: solution proposed and accepted.
    let closed = store
        .create_ticket(&under_first, &new_ticket(&fixture, "P3", None), opened)
        .await
        .unwrap()
        .ticket
        .id;
    act(
        &store,
        &under_first,
        closed,
        "2026-11-23T10:30:00+01:00",
        ADVISOR,
        Command::ProposeSolution {
            resolution: caredesk_domain::ticket::Resolution::PermanentFix,
            body: "patched".into(),
        },
    )
    .await;
    act(
        &store,
        &under_first,
        closed,
        "2026-11-23T10:40:00+01:00",
        Actor::Contact {
            id: fixture.contact_id,
        },
        Command::AcceptSolution {
            note: String::new(),
        },
    )
    .await;
    let closed_before = store.ticket(closed, Scope::All).await.unwrap();
    assert!(closed_before.closed_at.is_some());
    for id in &open {
        assert_eq!(
            store.ticket(*id, Scope::All).await.unwrap().policy_version,
            first
        );
    }

    // The second version: P3 status updates every hour, so every open ticket's update,
    // due two business days after the reply, is now past due at 15:00.
    let document = hourly_p3_updates();
    let applied = at("2026-11-23T15:00:00+01:00");
    let second = store
        .add_policy_version(&policy_version_of(&document, "second", applied))
        .await
        .unwrap();
    assert_eq!(second, 2);
    assert_eq!(
        store.policy_version_in_force(applied).await.unwrap(),
        Some(second)
    );
    let under_second = Policy {
        stored_as: second,
        ..Policy::from_toml(&document, "second").unwrap()
    };
    assert_eq!(
        store.rebuild_progress(second).await.unwrap(),
        RebuildProgress { open: 5, behind: 5 }
    );

    // A rebuild that stops after its first batch of two…
    let batch = store
        .open_tickets_behind(second, BehindPosition::default(), 2)
        .await
        .unwrap();
    let ids = |batch: &[BehindPosition]| batch.iter().map(|b| b.ticket).collect::<Vec<_>>();
    assert_eq!(ids(&batch), open[..2]);
    let rebuilt = store
        .rebuild_tickets(&under_second, &ids(&batch), applied)
        .await
        .unwrap();
    assert_eq!((rebuilt.tickets, rebuilt.breaches), (2, 2));
    // …resumed a few minutes later takes only the others…
    let resumed = at("2026-11-23T15:05:00+01:00");
    let rest = store
        .open_tickets_behind(second, BehindPosition::default(), 100)
        .await
        .unwrap();
    assert_eq!(ids(&rest), open[2..]);
    let rebuilt = store
        .rebuild_tickets(&under_second, &ids(&rest), resumed)
        .await
        .unwrap();
    assert_eq!((rebuilt.tickets, rebuilt.breaches), (3, 3));
    // …and taking them all again (a batch retried) finds them done: nothing more.
    let again = store
        .rebuild_tickets(&under_second, &open, resumed)
        .await
        .unwrap();
    assert_eq!((again.tickets, again.breaches), (0, 0));
    assert_eq!(
        store.rebuild_progress(second).await.unwrap(),
        RebuildProgress { open: 5, behind: 0 }
    );

    for id in &open {
        let stored = store.ticket(*id, Scope::All).await.unwrap();
        assert_eq!(stored.policy_version, second);
        let events = store.timeline(*id, Scope::All).await.unwrap();
        let context = ClockContext {
            program: &stored.program,
            region: &stored.region,
            product_line: &stored.product_line,
        };
        let clocks = compute(&under_second, &context, &events, resumed).unwrap();
        assert_eq!(
            stored.next_update_due_at,
            clocks.next_update.as_ref().and_then(|clock| clock.due_at),
            "ticket {id}"
        );
        assert_eq!(
            stored.first_response_due_at, clocks.first_response.due_at,
            "ticket {id}"
        );
        assert_eq!(stored.next_due_at, clocks.next_due(), "ticket {id}");
        assert_eq!(stored.at_risk_at, clocks.next_at_risk(), "ticket {id}");
        assert!(stored.breached, "ticket {id}");
        let caused: Vec<_> = events
            .iter()
            .filter_map(|event| match event.data {
                EventData::ClockBreached {
                    clock,
                    policy_change,
                    ..
                } => Some((clock, policy_change)),
                _ => None,
            })
            .collect();
        assert_eq!(
            caused,
            [(ClockKind::NextUpdate, Some(second))],
            "ticket {id}"
        );
    }
    // The closed ticket was not taken, and keeps what it was closed under.
    assert_eq!(
        store.ticket(closed, Scope::All).await.unwrap(),
        closed_before
    );
    let refused = store
        .rebuild_tickets(&under_second, &[closed], resumed)
        .await
        .unwrap();
    assert_eq!(refused.breaches, 0);
    assert_eq!(
        store.ticket(closed, Scope::All).await.unwrap(),
        closed_before
    );
    // A note added later under the new version keeps it measured as it was closed.
    act(
        &store,
        &under_second,
        closed,
        "2026-11-23T16:00:00+01:00",
        ADVISOR,
        Command::Note {
            body: "for the record".into(),
        },
    )
    .await;
    let noted = store.ticket(closed, Scope::All).await.unwrap();
    assert_eq!(noted.version_number, closed_before.version_number + 1);
    assert_eq!(noted.policy_version, first);
}
