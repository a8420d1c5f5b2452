//! The desk's use cases without HTTP: the rules that moved here from the handlers, on
//! SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use caredesk_desk::intake::{OpenTicket, Opened, open_ticket};
use caredesk_desk::tickets::{NewFile, act};
use caredesk_desk::{Caller, Clock, Desk, DeskError, DeskLimits};
use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::{Command, ContactMedium, Role};
use caredesk_mail::MessageIds;
use caredesk_store::{NewContact, NewContract, NewCustomer, NewProduct, NewStaff, Scope, Store};
use caredesk_testkit::TestDatabase;
use jiff::civil::date;

macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = caredesk_testkit::TestDatabase::sqlite().await;
                    super::$test(&test).await;
                    test.finish().await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = caredesk_testkit::TestDatabase::postgres().await;
                    super::$test(&test).await;
                    test.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    intake_refuses_what_the_policy_and_the_caller_do_not_allow,
    a_retried_form_opens_one_ticket,
    an_action_and_its_files_are_one_transaction,
);

fn desk_on(store: &Store) -> Desk {
    Desk {
        store: store.clone(),
        policy: Arc::new(Policy::built_in().unwrap()),
        // Monday 23 November 2026, 10:00 in Amsterdam: the EMEA office is open.
        clock: Clock::manual("2026-11-23T09:00:00Z".parse().unwrap()),
        mail_ids: MessageIds::new("desk.example"),
        limits: DeskLimits::default(),
        client_address: None,
    }
}

/// A gold customer in EMEA with a contact, a contract and a registered product.
async fn customer(desk: &Desk, number: &str) -> Caller {
    let now = desk.clock.now();
    let store = &desk.store;
    let customer = store
        .create_customer(
            &NewCustomer {
                number: number.into(),
                name: format!("Customer {number}"),
                region: "emea".into(),
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
                name: "Contact".into(),
                email: format!("contact@{}.example", number.to_lowercase()),
                phone: "+31 20 555 0100".into(),
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
                program: "gold".into(),
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
            },
            now,
        )
        .await
        .unwrap();
    Caller::Contact {
        id: contact.id,
        customer_id: customer.id,
    }
}

async fn advisor(desk: &Desk) -> Caller {
    let member = desk
        .store
        .create_staff(
            &NewStaff {
                email: "advisor@desk.example".into(),
                name: "Advisor".into(),
                role: Role::Advisor,
                region: Some("emea".into()),
                languages: vec!["en".into()],
                password_hash: None,
            },
            desk.clock.now(),
        )
        .await
        .unwrap();
    Caller::Staff {
        id: member.id,
        role: member.role,
    }
}

fn form(number: &str) -> OpenTicket {
    OpenTicket {
        channel: "portal".into(),
        severity: "P3".into(),
        product_line: "ol-connect".into(),
        version: "2026.1".into(),
        serial: format!("SN-{number}"),
        subject: "Invoices stopped printing".into(),
        description: "No invoice leaves the print queue.".into(),
        business_impact: "Invoices are late".into(),
        ..OpenTicket::default()
    }
}

/// The fields a refusal names.
fn refused_fields(error: DeskError) -> Vec<String> {
    match error {
        DeskError::Invalid(problems) => problems.into_iter().map(|p| p.field).collect(),
        other => panic!("expected invalid fields, got {other:?}"),
    }
}

async fn intake_refuses_what_the_policy_and_the_caller_do_not_allow(test: &TestDatabase) {
    let desk = desk_on(&test.store);
    let acme = customer(&desk, "ACME").await;
    let other = customer(&desk, "OTHER").await;
    let staff = advisor(&desk).await;
    let Caller::Contact {
        customer_id: other_id,
        ..
    } = other
    else {
        unreachable!()
    };

    // A contact opens tickets for its own organisation only.
    let foreign = OpenTicket {
        customer_id: Some(other_id),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &foreign, None).await.unwrap_err();
    assert!(matches!(error, DeskError::Forbidden(_)), "{error:?}");

    // Staff must say whose ticket it is; customers come through the portal; subjects are
    // given and short.
    let error = open_ticket(&desk, &staff, &form("ACME"), None)
        .await
        .unwrap_err();
    assert_eq!(refused_fields(error), ["customer_id"]);
    let by_phone = OpenTicket {
        channel: "phone".into(),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &by_phone, None)
        .await
        .unwrap_err();
    assert_eq!(refused_fields(error), ["channel"]);
    let untitled = OpenTicket {
        subject: " ".into(),
        description: String::new(),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &untitled, None)
        .await
        .unwrap_err();
    assert_eq!(refused_fields(error), ["subject", "description"]);
    let long = OpenTicket {
        subject: "x".repeat(201),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &long, None).await.unwrap_err();
    assert_eq!(refused_fields(error), ["subject"]);
    // Another organisation's serial is not this customer's.
    let error = open_ticket(&desk, &acme, &form("OTHER"), None)
        .await
        .unwrap_err();
    assert_eq!(refused_fields(error), ["serial"]);

    assert!(
        desk.store
            .tickets_of(other_id, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing refused was written"
    );
    // Staff naming the customer open it, as a phone ticket.
    let phoned = OpenTicket {
        customer_id: Some(other_id),
        channel: "phone".into(),
        ..form("OTHER")
    };
    let Opened::Ticket(created) = open_ticket(&desk, &staff, &phoned, None).await.unwrap() else {
        panic!("a ticket was expected");
    };
    assert_eq!(created.ticket.customer_id, other_id);
    assert_eq!(created.ticket.channel, "phone");
}

async fn a_retried_form_opens_one_ticket(test: &TestDatabase) {
    let desk = desk_on(&test.store);
    let acme = customer(&desk, "ACME").await;
    let key = Some("form-1".to_string());
    let Opened::Ticket(first) = open_ticket(&desk, &acme, &form("ACME"), key.clone())
        .await
        .unwrap()
    else {
        panic!("a ticket was expected");
    };
    assert!(!first.replayed);
    let Opened::Ticket(again) = open_ticket(&desk, &acme, &form("ACME"), key.clone())
        .await
        .unwrap()
    else {
        panic!("a ticket was expected");
    };
    assert!(again.replayed);
    assert_eq!(again.ticket.id, first.ticket.id);
    // The same key for another request is a conflict, not a second ticket.
    let changed = OpenTicket {
        subject: "Something else".into(),
        ..form("ACME")
    };
    let error = open_ticket(&desk, &acme, &changed, key).await.unwrap_err();
    assert!(matches!(error, DeskError::Conflict { .. }), "{error:?}");
}

async fn an_action_and_its_files_are_one_transaction(test: &TestDatabase) {
    let desk = desk_on(&test.store);
    let acme = customer(&desk, "ACME").await;
    let staff = advisor(&desk).await;
    let Opened::Ticket(created) = open_ticket(&desk, &acme, &form("ACME"), None)
        .await
        .unwrap()
    else {
        panic!("a ticket was expected");
    };
    let id = created.ticket.id;
    let file = NewFile {
        name: "settings.xml".into(),
        content_type: "application/xml".into(),
        content: b"<settings/>".to_vec(),
    };

    // Refused (a customer cannot accept what was never proposed): neither event nor file.
    let refused = act(
        &desk,
        &acme,
        id,
        Command::AcceptSolution {
            note: "thanks".into(),
        },
        None,
        std::slice::from_ref(&file),
    )
    .await;
    assert!(
        matches!(refused, Err(DeskError::Conflict { .. })),
        "{refused:?}"
    );
    assert!(
        desk.store
            .attachments_of(id, Scope::All)
            .await
            .unwrap()
            .is_empty()
    );

    // Done: the file is on the reply it came with.
    desk.clock.advance(jiff::SignedDuration::from_mins(5));
    let acted = act(
        &desk,
        &staff,
        id,
        Command::Reply {
            body: "Please apply the attached settings.".into(),
            via: ContactMedium::Reply,
        },
        None,
        &[file],
    )
    .await
    .unwrap();
    let reply = acted
        .timeline
        .iter()
        .rev()
        .find(|event| event.actor == staff.actor())
        .unwrap();
    let files = desk.store.attachments_of(id, Scope::All).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].event_seq, Some(i64::from(reply.seq)));
    assert_eq!(files[0].filename, "settings.xml");
    // The customer sees it: the reply is public.
    let seen = desk.store.attachments_of(id, acme.scope()).await.unwrap();
    assert_eq!(seen.len(), 1);
}
