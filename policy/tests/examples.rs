//! Every policy in `examples/policies/` parses without warnings, belongs to the
//! profile its file is named after, and allows and denies what its comments say;
//! `_admin.yaml` is the admin policy.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a broken example must fail the test loudly"
)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use policy::identity::{IdentityRoles, derive_user};
use policy::{AdminDecision, AdminRequest, Decision, PolicySet, Request};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policies")
}

fn load(profile: &str) -> PolicySet {
    let path = examples_dir().join(format!("{profile}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap();
    policy::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What `set` decides for `principal` at `at` (RFC 3339) from `ip`.
fn decide<'s>(set: &'s PolicySet, principal: &str, at: &str, ip: Option<&str>) -> Decision<'s> {
    let caller = derive_user(principal, &IdentityRoles::default()).unwrap();
    let request = Request {
        principal_arn: principal,
        user: &caller.user,
        account_id: &caller.account_id,
        source_ip: ip.map(|ip| ip.parse::<IpAddr>().unwrap()),
        requested_duration: None,
        workload: None,
    };
    let now: DateTime<Utc> = at.parse().unwrap();
    policy::evaluate(set, &request, now)
}

fn allowed_by(decision: Decision<'_>) -> Option<&str> {
    match decision {
        Decision::Allow { rule, .. } => Some(rule),
        _ => None,
    }
}

fn denied_by(decision: Decision<'_>) -> Option<Option<&str>> {
    match decision {
        Decision::Deny { rule, .. } => Some(rule),
        _ => None,
    }
}

const ALICE: &str = "arn:aws:iam::123456789012:user/eng/alice";
const MALLORY: &str = "arn:aws:iam::123456789012:user/eng/mallory";
const OUTSIDER: &str = "arn:aws:iam::123456789012:user/sales/sam";
const ONCALL: &str =
    "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_OnCall_0123abcd/alice@example.com";
const SSO_ENGINEER: &str =
    "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Engineer_0123abcd/bob@example.com";
// 2026-03-02 is a Monday; Berlin is UTC+1 then.
const MONDAY_MORNING: &str = "2026-03-02T09:00:00Z";
const MONDAY_NIGHT: &str = "2026-03-02T23:00:00Z";
const SATURDAY_NOON: &str = "2026-03-07T11:00:00Z";

#[test]
fn every_example_parses_cleanly_for_its_own_profile_and_is_exercised_here() {
    let mut profiles: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    profiles.sort();
    assert_eq!(
        profiles,
        [
            "_admin",
            "break-glass",
            "dev",
            "payments",
            "prod",
            "staging"
        ],
        "a new example needs its own test below"
    );
    for profile in profiles.iter().filter(|p| *p != "_admin") {
        let set = load(profile);
        assert!(set.lints().is_empty(), "{profile}: {:?}", set.lints());
        assert_eq!(
            set.profile().role_arn.as_str(),
            format!("arn:aws:iam::123456789012:role/SentinelProtected-{profile}")
        );
        protocol_name_check(profile);
    }
}

/// File names are profile names, so they must be valid ones (docs/policy.md).
fn protocol_name_check(profile: &str) {
    let mut chars = profile.chars();
    assert!(
        chars.next().is_some_and(|c| c.is_ascii_alphanumeric()),
        "{profile}"
    );
    assert!(
        chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')),
        "{profile}"
    );
}

#[test]
fn dev_allows_engineers_but_not_the_suspended_user_or_outsiders() {
    let set = load("dev");
    let allow = decide(&set, ALICE, MONDAY_MORNING, None);
    assert_eq!(allowed_by(allow), Some("engineers"));
    assert!(
        matches!(
            allow,
            Decision::Allow {
                duration: 3600,
                cap: 14_400,
                ..
            }
        ),
        "{allow:?}"
    );
    assert_eq!(
        decide(&set, MALLORY, MONDAY_MORNING, None),
        Decision::Deny {
            rule: Some("suspended-users"),
            reason: Some("access suspended pending review")
        }
    );
    assert_eq!(
        denied_by(decide(&set, OUTSIDER, MONDAY_MORNING, None)),
        Some(None)
    );
}

#[test]
fn staging_follows_berlin_business_hours() {
    let set = load("staging");
    assert_eq!(
        allowed_by(decide(&set, ALICE, MONDAY_MORNING, None)),
        Some("business-hours")
    );
    assert_eq!(
        allowed_by(decide(&set, SSO_ENGINEER, MONDAY_MORNING, None)),
        Some("business-hours")
    );
    // 18:30 UTC is 19:30 in Berlin in winter ...
    assert_eq!(
        denied_by(decide(&set, ALICE, "2026-03-02T18:30:00Z", None)),
        Some(None)
    );
    // ... and 17:30 UTC is 19:30 in summer, while 16:30 UTC is still 18:30.
    assert_eq!(
        denied_by(decide(&set, ALICE, "2026-07-06T17:30:00Z", None)),
        Some(None)
    );
    assert!(decide(&set, ALICE, "2026-07-06T16:30:00Z", None).is_allow());
    assert_eq!(
        denied_by(decide(&set, ALICE, SATURDAY_NOON, None)),
        Some(None)
    );
}

#[test]
fn break_glass_is_for_on_call_outside_business_hours_only() {
    let set = load("break-glass");
    let night = decide(&set, ONCALL, MONDAY_NIGHT, None);
    assert_eq!(allowed_by(night), Some("oncall"));
    assert!(
        matches!(
            night,
            Decision::Allow {
                duration: 900,
                cap: 1800,
                ..
            }
        ),
        "{night:?}"
    );
    assert!(decide(&set, ONCALL, SATURDAY_NOON, None).is_allow());
    assert_eq!(
        denied_by(decide(&set, ONCALL, MONDAY_MORNING, None)),
        Some(Some("business-hours"))
    );
    assert_eq!(
        denied_by(decide(&set, ALICE, MONDAY_NIGHT, None)),
        Some(None)
    );
}

#[test]
fn prod_needs_a_corporate_network_and_refuses_contractors() {
    let set = load("prod");
    let rule = Some("engineers-on-corporate-network");
    assert_eq!(
        allowed_by(decide(&set, ALICE, MONDAY_MORNING, Some("10.1.2.3"))),
        rule
    );
    assert_eq!(
        allowed_by(decide(
            &set,
            SSO_ENGINEER,
            MONDAY_MORNING,
            Some("2001:db8::7")
        )),
        rule
    );
    assert_eq!(
        denied_by(decide(&set, ALICE, MONDAY_MORNING, Some("203.0.113.9"))),
        Some(None)
    );
    assert_eq!(
        denied_by(decide(&set, ALICE, MONDAY_MORNING, None)),
        Some(None)
    );
    let contractor = "arn:aws:iam::123456789012:user/eng/contractor-carl";
    assert_eq!(
        denied_by(decide(&set, contractor, MONDAY_MORNING, Some("10.1.2.3"))),
        Some(Some("no-contractors"))
    );
}

/// What the example admin policy decides for `principal` doing `action` on
/// `profile` from `ip`, Monday morning.
fn admin<'s>(
    set: &'s policy::AdminPolicySet,
    principal: &str,
    action: &str,
    profile: Option<&str>,
    ip: Option<&str>,
) -> AdminDecision<'s> {
    let caller = derive_user(principal, &IdentityRoles::default()).unwrap();
    let request = AdminRequest {
        principal_arn: principal,
        user: &caller.user,
        account_id: &caller.account_id,
        source_ip: ip.map(|ip| ip.parse::<IpAddr>().unwrap()),
        action,
        profile,
    };
    policy::evaluate_admin(set, &request, MONDAY_MORNING.parse().unwrap())
}

#[test]
fn admin_lets_security_do_everything_and_leads_revoke_only_their_profiles() {
    let path = examples_dir().join("_admin.yaml");
    let set = policy::parse_admin(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(set.lints().is_empty(), "{:?}", set.lints());
    let security =
        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Security_0a1b/sam@example.com";
    let allowed = |d: AdminDecision<'_>| match d {
        AdminDecision::Allow { rule, .. } => Some(rule.to_owned()),
        AdminDecision::Deny { .. } => None,
    };
    for action in ["sessions:reconcile", "sessions:revoke", "breakglass:review"] {
        assert_eq!(
            allowed(admin(&set, security, action, None, None)).as_deref(),
            Some("security-team"),
            "{action}"
        );
    }
    assert!(!admin(&set, security, "requests:approve", None, None).is_allow());
    let lead = |action, profile, ip| admin(&set, ALICE, action, profile, ip);
    assert_eq!(
        allowed(lead("sessions:revoke", Some("staging"), Some("10.1.2.3"))).as_deref(),
        Some("leads-revoke-their-profiles")
    );
    assert_eq!(
        lead("sessions:revoke", Some("prod"), Some("10.1.2.3")),
        AdminDecision::Deny {
            rule: None,
            reason: None
        }
    );
    assert_eq!(
        lead("sessions:list", None, Some("10.1.2.3")),
        AdminDecision::Deny {
            rule: None,
            reason: None
        },
        "listing every profile's sessions is not a lead's"
    );
    assert_eq!(
        lead("sessions:reconcile", None, None),
        AdminDecision::Deny {
            rule: None,
            reason: None
        }
    );
    assert!(matches!(
        lead("sessions:revoke", Some("dev"), Some("203.0.113.9")),
        AdminDecision::Deny {
            rule: Some("no-admin-from-outside"),
            ..
        }
    ));
    assert!(!admin(&set, MALLORY, "sessions:list", Some("dev"), None).is_allow());
}

#[test]
fn payments_changes_need_a_security_lead_and_on_call_may_break_glass() {
    let set = load("payments");
    let engineer = "arn:aws:iam::123456789012:user/eng/alice";
    let security = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Security_0123abcd/sam";
    let Decision::RequireApproval {
        rule,
        approval,
        cap,
        ..
    } = decide(&set, engineer, MONDAY_MORNING, None)
    else {
        panic!("an engineer needs an approval")
    };
    assert_eq!((rule, cap), ("changes-need-a-lead", 3600));
    let lead = derive_user(security, &IdentityRoles::default()).unwrap();
    let approver = Request {
        principal_arn: security,
        user: &lead.user,
        account_id: &lead.account_id,
        source_ip: None,
        requested_duration: None,
        workload: None,
    };
    let now: DateTime<Utc> = MONDAY_MORNING.parse().unwrap();
    assert_eq!(approval.groups_of(&approver, now), [0]);
    assert!(approval.reason_rule().check("rotate keys").is_err());
    assert!(approval.reason_rule().check("CHG-1234 rotate keys").is_ok());
    // On-call is not asked for an approval: a vend never uses break_glass rules...
    assert_eq!(
        denied_by(decide(&set, ONCALL, MONDAY_NIGHT, None)),
        Some(None)
    );
    // ...`sentinel breakglass` does.
    let caller = derive_user(ONCALL, &IdentityRoles::default()).unwrap();
    let oncall = Request {
        principal_arn: ONCALL,
        user: &caller.user,
        account_id: &caller.account_id,
        source_ip: None,
        requested_duration: Some(3600),
        workload: None,
    };
    let Decision::BreakGlass {
        rule,
        break_glass,
        duration,
        ..
    } = policy::evaluate_in(&set, &oncall, now, policy::Mode::BreakGlass)
    else {
        panic!("on-call may break glass")
    };
    assert_eq!((rule, duration), ("on-call-emergency", 1800));
    assert_eq!(break_glass.cooldown(), Some(4 * 3600));
    assert!(!policy::evaluate_in(&set, &approver, now, policy::Mode::BreakGlass).is_allow());
}
