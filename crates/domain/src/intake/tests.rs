//! Every intake rule of POLICY.md §1, §3 and §5, table by table, on the default policy.

use jiff::Timestamp;
use jiff::civil::date;

use super::*;
use crate::policy::Policy;
use crate::reason::ReasonCode;

fn policy() -> Policy {
    Policy::built_in().expect("the built-in policy loads")
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("an instant")
}

fn contract(program: &str, from: Date, to: Date, eula: bool) -> ContractTerms {
    ContractTerms {
        program: program.to_string(),
        starts_on: from,
        ends_on: to,
        eula_accepted: eula,
    }
}

fn form() -> IntakeForm {
    IntakeForm {
        description: "Invoices stopped printing".into(),
        severity: "P2".into(),
        business_impact: "Late invoices".into(),
        product_line: "ol-connect".into(),
        version: "2026.1".into(),
        serial: "SN-1".into(),
        ..IntakeForm::default()
    }
}

fn contact() -> ContactPerson {
    ContactPerson {
        name: "Ana".into(),
        email: "ana@example.test".into(),
        phone: "+1 514 555 0100".into(),
        language: "fr".into(),
    }
}

fn products() -> Vec<RegisteredProduct> {
    vec![
        RegisteredProduct {
            id: 11,
            product_line: "ol-connect".into(),
            version: "2026.1".into(),
            serial: "SN-1".into(),
        },
        RegisteredProduct {
            id: 12,
            product_line: "planetpress-suite".into(),
            version: "7.6".into(),
            serial: "PP-9".into(),
        },
    ]
}

fn releases() -> Vec<CatalogRelease> {
    [("2025.1", 1), ("2025.2", 2), ("2026.1", 3)]
        .into_iter()
        .map(|(version, position)| CatalogRelease {
            version: version.into(),
            position,
            major: false,
            retired: false,
        })
        .collect()
}

struct Case<'a> {
    channel: &'a str,
    contracts: Vec<ContractTerms>,
    form: IntakeForm,
    contact: Option<ContactPerson>,
}

fn run(case: &Case<'_>) -> IntakeOutcome {
    run_with_catalog(case, &releases())
}

fn run_with_catalog(case: &Case<'_>, releases: &[CatalogRelease]) -> IntakeOutcome {
    let policy = policy();
    let products = products();
    assess(
        &policy,
        &IntakeRequest {
            lenient: false,
            channel: case.channel,
            region: "americas",
            contracts: &case.contracts,
            products: &products,
            releases,
            contact: case.contact.as_ref(),
            form: &case.form,
            now: at("2026-11-26T15:00:00Z"),
        },
    )
    .expect("known names")
}

fn valid() -> Vec<ContractTerms> {
    vec![contract("gold", date(2026, 1, 1), date(2026, 12, 31), true)]
}

#[test]
fn cover_is_refused_on_the_portal_and_flagged_on_the_phone() {
    let cases = [
        (
            "expired",
            vec![contract("gold", date(2025, 1, 1), date(2025, 12, 31), true)],
            "the care contract ended on 2025-12-31",
            "renew",
        ),
        (
            "licence not accepted",
            vec![contract(
                "gold",
                date(2026, 1, 1),
                date(2026, 12, 31),
                false,
            )],
            "licence agreement",
            "accept the licence",
        ),
        ("none", vec![], "no care contract", "take out"),
        (
            "not started",
            vec![contract("gold", date(2027, 1, 1), date(2027, 12, 31), true)],
            "starts on 2027-01-01",
            "once the contract has started",
        ),
    ];
    for (name, contracts, reason, remedy) in cases {
        let portal = run(&Case {
            channel: "portal",
            contracts: contracts.clone(),
            form: form(),
            contact: Some(contact()),
        });
        match portal {
            IntakeOutcome::Refused {
                fields,
                not_covered: Some(refusal),
            } => {
                assert!(fields.is_empty(), "{name}: {fields:?}");
                assert_eq!(refusal.field, "contract");
                assert!(
                    refusal.reason.contains(reason),
                    "{name}: {}",
                    refusal.reason
                );
                assert!(
                    refusal.reason.contains(remedy),
                    "{name}: {}",
                    refusal.reason
                );
                // Only a licence to accept is a remedy the contact may give at once.
                assert_eq!(
                    refusal.reason.code == ReasonCode::LicenceNotAccepted,
                    name == "licence not accepted",
                    "{name}: {:?}",
                    refusal.reason.code
                );
            }
            other => panic!("{name}: the portal should refuse, got {other:?}"),
        }
        let phone = run(&Case {
            channel: "phone",
            contracts,
            form: form(),
            contact: Some(contact()),
        });
        let IntakeOutcome::Ticket(ticket) = phone else {
            panic!("{name}: the phone records the ticket");
        };
        assert_eq!(ticket.program, "standard", "{name}: the uncovered program");
        assert!(
            matches!(&ticket.flags[..], [IntakeFlag::NotCovered { reason: r, .. }] if r.contains(reason)),
            "{name}: {:?}",
            ticket.flags
        );
    }
}

#[test]
fn a_covered_customer_gets_the_program_of_its_latest_valid_contract() {
    let contracts = vec![
        contract("standard", date(2024, 1, 1), date(2026, 12, 31), true),
        contract("platinum", date(2026, 6, 1), date(2027, 5, 31), true),
        contract("gold", date(2026, 9, 1), date(2027, 8, 31), false),
    ];
    let IntakeOutcome::Ticket(ticket) = run(&Case {
        channel: "portal",
        contracts,
        form: form(),
        contact: Some(contact()),
    }) else {
        panic!("covered");
    };
    assert_eq!(ticket.program, "platinum");
    assert_eq!(ticket.product_id, Some(11));
    assert!(ticket.flags.is_empty());
}

#[test]
fn serial_numbers_must_be_the_customers_and_of_the_line() {
    for (serial, expected) in [
        ("SN-404", "is not registered to this customer"),
        ("PP-9", "registered for planetpress-suite, not ol-connect"),
    ] {
        let mut with_serial = form();
        with_serial.serial = serial.into();
        let portal = run(&Case {
            channel: "portal",
            contracts: valid(),
            form: with_serial.clone(),
            contact: Some(contact()),
        });
        assert!(
            matches!(&portal, IntakeOutcome::Refused { fields, not_covered: None }
                if fields.len() == 1 && fields[0].field == "serial" && fields[0].reason.contains(expected)),
            "{portal:?}"
        );
        let IntakeOutcome::Ticket(phone) = run(&Case {
            channel: "phone",
            contracts: valid(),
            form: with_serial,
            contact: Some(contact()),
        }) else {
            panic!("phone records it");
        };
        assert_eq!(phone.product_id, None);
        assert!(
            matches!(&phone.flags[..], [IntakeFlag::SerialNotRegistered { reason, .. }] if reason.contains(expected))
        );
    }
}

#[test]
fn only_the_two_most_recent_releases_are_in_scope() {
    let cases = [
        ("2026.1", None),
        ("2025.2", None),
        ("2025.1", Some("not among the supported releases")),
        ("9.9", Some("not a release in the catalog")),
    ];
    for (version, flagged) in cases {
        let mut with_version = form();
        with_version.version = version.into();
        let IntakeOutcome::Ticket(ticket) = run(&Case {
            channel: "portal",
            contracts: valid(),
            form: with_version,
            contact: Some(contact()),
        }) else {
            panic!("{version}: accepted, even outside scope");
        };
        match flagged {
            None => assert!(ticket.flags.is_empty(), "{version}: {:?}", ticket.flags),
            Some(reason) => assert!(
                matches!(&ticket.flags[..], [IntakeFlag::OutsideSupportScope { supported, reason: r, .. }]
                    if supported == &["2026.1", "2025.2"] && r.contains(reason)),
                "{version}: {:?}",
                ticket.flags
            ),
        }
    }
}

#[test]
fn a_retired_release_leaves_the_scope_to_the_next_most_recent() {
    let mut catalog = releases();
    catalog[2].retired = true; // 2026.1 withdrawn
    for (version, in_scope) in [("2026.1", false), ("2025.2", true), ("2025.1", true)] {
        let mut with_version = form();
        with_version.version = version.into();
        let IntakeOutcome::Ticket(ticket) = run_with_catalog(
            &Case {
                channel: "portal",
                contracts: valid(),
                form: with_version,
                contact: Some(contact()),
            },
            &catalog,
        ) else {
            panic!("{version}: refused");
        };
        if in_scope {
            assert!(ticket.flags.is_empty(), "{version}: {:?}", ticket.flags);
        } else {
            assert!(
                matches!(&ticket.flags[..], [IntakeFlag::OutsideSupportScope { supported, .. }]
                    if supported == &["2025.2", "2025.1"]),
                "{version}: {:?}",
                ticket.flags
            );
        }
    }
}

#[test]
fn without_a_current_release_in_the_catalog_the_scope_is_flagged_as_not_checked() {
    let mut all_retired = releases();
    for release in &mut all_retired {
        release.retired = true;
    }
    for catalog in [Vec::new(), all_retired] {
        let IntakeOutcome::Ticket(ticket) = run_with_catalog(
            &Case {
                channel: "portal",
                contracts: valid(),
                form: form(),
                contact: Some(contact()),
            },
            &catalog,
        ) else {
            panic!("refused with catalog {catalog:?}");
        };
        assert!(
            matches!(&ticket.flags[..], [IntakeFlag::ScopeNotChecked { product_line, version, reason }]
                if product_line == "ol-connect" && version == &form().version
                    && reason.contains("could not be checked")),
            "{:?}",
            ticket.flags
        );
    }
}

#[test]
fn custom_programming_outside_the_native_languages_is_professional_services() {
    for (language, professional) in [
        ("Python", true),
        ("C#", true),
        ("javascript", false),
        ("PressTalk", false),
        ("HTML", false),
        ("", false),
    ] {
        let mut asking = form();
        asking.programming_language = Some(language.into());
        let outcome = run(&Case {
            channel: "portal",
            contracts: vec![],
            form: asking,
            contact: Some(contact()),
        });
        assert_eq!(
            matches!(outcome, IntakeOutcome::ProfessionalServices { .. }),
            professional,
            "{language}: {outcome:?}"
        );
    }
}

#[test]
fn required_information_is_refused_by_name_on_the_portal_and_listed_on_the_phone() {
    let mut gaps = form();
    gaps.business_impact = " ".into();
    gaps.serial = String::new();
    let mut no_phone = contact();
    no_phone.phone = String::new();
    let portal = run(&Case {
        channel: "portal",
        contracts: valid(),
        form: gaps.clone(),
        contact: Some(no_phone.clone()),
    });
    let IntakeOutcome::Refused { fields, .. } = portal else {
        panic!("refused");
    };
    let named: Vec<(&str, &str)> = fields
        .iter()
        .map(|r| (r.field, r.reason.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            ("business_impact", "required"),
            ("serial", "required"),
            ("contact", "required; missing its phone"),
        ]
    );
    let IntakeOutcome::Ticket(phone) = run(&Case {
        channel: "phone",
        contracts: valid(),
        form: gaps,
        contact: None,
    }) else {
        panic!("recorded");
    };
    assert_eq!(
        phone.flags,
        [IntakeFlag::Incomplete {
            missing: vec!["business_impact".into(), "serial".into(), "contact".into()]
        }]
    );
}

#[test]
fn the_language_is_the_contacts_if_the_region_speaks_it_else_english() {
    let policy = policy();
    for (region, preferred, expected) in [
        ("americas", "fr", "fr"),
        ("americas", "es", "es"),
        ("americas", "de", "en"),
        ("emea", "nl", "nl"),
        ("apac", "ja", "ja"),
        ("apac", "fr", "en"),
    ] {
        let choice = choose_language(&policy, region, preferred, None).expect("region");
        assert_eq!(
            choice.language, expected,
            "{region} {preferred}: {}",
            choice.reason
        );
    }
    let after_hours = choose_language(&policy, "emea", "de", Some("en")).expect("region");
    assert_eq!(after_hours.language, "en");
    assert!(after_hours.reason.contains("after"));
}

#[test]
fn coverage_windows_follow_program_severity_and_product_line() {
    let policy = policy();
    let profile = |program, severity, product_line| TicketProfile {
        program,
        region: "americas",
        product_line,
        severity,
        channel: "phone",
    };
    // Thursday 2026-11-26 23:00 in Montreal: the office is closed.
    let night = at("2026-11-27T04:00:00Z");
    let cases = [
        ("standard", "P1", "ol-connect", "americas", false, false),
        ("gold", "P1", "ol-connect", "24x5-americas", true, true),
        ("platinum", "P1", "ol-connect", "24x7-americas", true, true),
        ("gold", "P2", "ol-connect", "americas", false, false),
        (
            "platinum",
            "P1",
            "planetpress-suite",
            "americas",
            false,
            false,
        ),
    ];
    for (program, severity, line, calendar, open, after_hours) in cases {
        let window =
            coverage_window(&policy, &profile(program, severity, line), night).expect("known");
        assert_eq!(window.calendar, calendar, "{program} {severity} {line}");
        assert_eq!(window.open_now, open, "{program} {severity} {line}");
        assert_eq!(
            window.after_hours, after_hours,
            "{program} {severity} {line}"
        );
        if open {
            assert_eq!(window.clocks_start_at, night);
            assert_eq!(window.after_hours_language.as_deref(), Some("en"));
        } else {
            // Friday 08:00 in Montreal.
            assert_eq!(window.clocks_start_at, at("2026-11-27T13:00:00Z"));
            assert!(
                window.notice.contains("Friday 2026-11-27 08:00"),
                "{}",
                window.notice
            );
        }
    }
    // Saturday: the 24x5 calendar is closed too; the 24x7 one is open.
    let saturday = at("2026-11-28T16:00:00Z");
    assert!(
        !coverage_window(&policy, &profile("gold", "P1", "ol-connect"), saturday)
            .expect("known")
            .open_now
    );
    assert!(
        coverage_window(&policy, &profile("platinum", "P1", "ol-connect"), saturday)
            .expect("known")
            .after_hours
    );
}

#[test]
fn every_flag_name_is_listed() {
    let flags = [
        IntakeFlag::NotCovered {
            reason: String::new(),
            remedy: String::new(),
        },
        IntakeFlag::SerialNotRegistered {
            serial: String::new(),
            reason: String::new(),
        },
        IntakeFlag::OutsideSupportScope {
            version: String::new(),
            supported: Vec::new(),
            reason: String::new(),
        },
        IntakeFlag::Incomplete {
            missing: Vec::new(),
        },
        IntakeFlag::ScopeNotChecked {
            product_line: String::new(),
            version: String::new(),
            reason: String::new(),
        },
        IntakeFlag::UpdateRequest {
            serial: String::new(),
            installed: String::new(),
            requested: String::new(),
        },
    ];
    let names: Vec<&str> = flags.iter().map(IntakeFlag::name).collect();
    assert_eq!(names, IntakeFlag::NAMES);
}

fn envelope() -> Envelope<'static> {
    Envelope {
        channel: "portal",
        severity: "P3",
        product_line: "ol-connect",
        subject: "Invoices stopped printing",
        description: "No invoice leaves the queue.",
        customer_id: None,
        contact_id: None,
    }
}

fn refused(result: Result<Addressee, EnvelopeRefusal>) -> Vec<(&'static str, ReasonCode)> {
    match result {
        Err(EnvelopeRefusal::Fields(fields)) => fields
            .into_iter()
            .map(|refusal| (refusal.field, refusal.reason.code))
            .collect(),
        other => panic!("expected refused fields, got {other:?}"),
    }
}

#[test]
fn a_contact_opens_for_its_own_organisation_through_the_portal() {
    let policy = Policy::built_in().unwrap();
    let ana = Opener::Contact {
        id: 3,
        customer_id: 1,
    };
    assert_eq!(
        check_envelope(&policy, ana, &envelope()),
        Ok(Addressee {
            customer_id: 1,
            contact_id: Some(3)
        }),
        "a contact who names nobody is the ticket's contact"
    );
    let elsewhere = Envelope {
        customer_id: Some(2),
        ..envelope()
    };
    assert!(matches!(
        check_envelope(&policy, ana, &elsewhere),
        Err(EnvelopeRefusal::Forbidden(_))
    ));
    let by_phone = Envelope {
        channel: "phone",
        ..envelope()
    };
    assert_eq!(
        refused(check_envelope(&policy, ana, &by_phone)),
        [("channel", ReasonCode::Invalid)]
    );
}

#[test]
fn staff_name_the_customer_and_every_faulty_field_is_told_at_once() {
    let policy = Policy::built_in().unwrap();
    assert_eq!(
        refused(check_envelope(&policy, Opener::Staff, &envelope())),
        [("customer_id", ReasonCode::Invalid)]
    );
    let bad = Envelope {
        severity: "P9",
        product_line: "typewriter",
        subject: " ",
        description: "",
        customer_id: Some(1),
        ..envelope()
    };
    assert_eq!(
        refused(check_envelope(&policy, Opener::Staff, &bad)),
        [
            ("severity", ReasonCode::Invalid),
            ("product_line", ReasonCode::Invalid),
            ("subject", ReasonCode::Required),
            ("description", ReasonCode::Required),
        ]
    );
    let long = "x".repeat(SUBJECT_MAX_CHARS + 1);
    let too_long = Envelope {
        subject: &long,
        customer_id: Some(1),
        ..envelope()
    };
    assert_eq!(
        refused(check_envelope(&policy, Opener::Staff, &too_long)),
        [("subject", ReasonCode::TooLong { max: 200 })]
    );
    let exactly = "x".repeat(SUBJECT_MAX_CHARS);
    let at_the_limit = Envelope {
        subject: &exactly,
        customer_id: Some(1),
        ..envelope()
    };
    assert!(check_envelope(&policy, Opener::Staff, &at_the_limit).is_ok());
}

#[test]
fn the_contact_is_the_one_named_else_the_designated_one() {
    let contacts = [
        KnownContact {
            id: 4,
            designated: false,
        },
        KnownContact {
            id: 5,
            designated: true,
        },
    ];
    assert_eq!(contact_for(Some(4), &contacts), Ok(Some(4)));
    assert_eq!(contact_for(None, &contacts), Ok(Some(5)));
    assert_eq!(contact_for(None, &contacts[..1]), Ok(Some(4)));
    assert_eq!(contact_for(None, &[]), Ok(None));
    let stranger = contact_for(Some(9), &contacts).unwrap_err();
    assert_eq!(stranger.field, "contact_id");
}

#[test]
fn custom_programming_is_recognised_from_words_and_file_types() {
    let policy = Policy::built_in().unwrap();
    let named = |texts: &[&str], files: &[&str]| programming_language_named(&policy, texts, files);
    assert_eq!(
        named(&["Our Python script that feeds the workflow crashes."], &[]),
        Some("Python")
    );
    assert_eq!(
        named(&["see attached"], &["C:\\jobs\\Export.PS1"]),
        Some("PowerShell")
    );
    assert_eq!(named(&["A C# plugin calls the REST API."], &[]), Some("C#"));
    // The products' own languages, and words that only contain a name, are not custom work.
    assert_eq!(
        named(
            &["The JavaScript in our template, and the HTML/CSS."],
            &["layout.js"]
        ),
        None
    );
    assert_eq!(
        named(&["Invoices stopped printing at 9:00."], &["spooler.log"]),
        None
    );
    assert_eq!(named(&["Our javanese office reports it"], &[]), None);
    // What Java-based products and their installations say is not custom work.
    assert_eq!(
        named(
            &["java.lang.OutOfMemoryError: Java heap space"],
            &["ojdbc8.jar", "start.bat"]
        ),
        None
    );
    assert_eq!(
        named(
            &["Ruby in accounts says it fails"],
            &["messages.pl", "texts.cs"]
        ),
        None
    );
    assert_eq!(named(&["see the class"], &["Export.java"]), Some("Java"));
}
