//! The user name policies match on, derived from the caller ARN AWS verified
//! (docs/identity.md).
//!
//! | ARN | user |
//! | --- | --- |
//! | `arn:<p>:iam::A:user/path/alice` | `alice` |
//! | `arn:<p>:sts::A:assumed-role/R/S`, `R` matching [`IdentityRoles`] | `S` |
//! | `arn:<p>:sts::A:assumed-role/R/S`, any other role | `R/S` |
//! | `arn:<p>:sts::A:federated-user/N` | `federated-user/N` (the caller picks `N`) |
//! | `arn:<p>:iam::A:root` | [`IdentityError::Root`] |
//!
//! ```
//! use policy::identity::{IdentityRoles, derive_user};
//!
//! let roles = IdentityRoles::default();
//! let sso = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com";
//! assert_eq!(derive_user(sso, &roles).unwrap().user, "alice@example.com");
//! let ci = "arn:aws:sts::123456789012:assumed-role/deployer/build-42";
//! assert_eq!(derive_user(ci, &roles).unwrap().user, "deployer/build-42");
//! ```

use crate::glob::Glob;
use sentinel_types::{Arn, is_iam_name_char};

/// Roles whose session names are set by an identity provider rather than by
/// the caller (`SENTINEL_IDENTITY_ROLES`), as globs on the role name.
#[derive(Debug, Clone)]
pub struct IdentityRoles(Vec<Glob>);

impl IdentityRoles {
    /// Compiles the globs (`*` and `?` only, like policy globs). An empty list
    /// trusts no role's session names.
    pub fn new(globs: &[String]) -> Result<Self, IdentityError> {
        globs
            .iter()
            .map(|g| {
                Glob::new(g)
                    .map_err(|e| IdentityError::InvalidGlob(format!("`{g}`: {}", e.message)))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The globs, comma-separated, as configured: part of what an approval was given
    /// under (a `users` glob's meaning depends on them).
    pub fn describe(&self) -> String {
        let globs: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        globs.join(",")
    }

    fn trusts(&self, role: &str) -> bool {
        self.0.iter().any(|g| g.matches(role))
    }
}

impl Default for IdentityRoles {
    /// `AWSReservedSSO_*`: IAM Identity Center sets these session names to the
    /// signed-in user.
    fn default() -> Self {
        Self(Glob::new("AWSReservedSSO_*").into_iter().collect())
    }
}

/// How the caller signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An IAM user.
    User,
    /// A role session; `role` is the role name, `session` the session name.
    AssumedRole {
        /// The role's name (assumed-role ARNs carry no path).
        role: String,
        /// The session name.
        session: String,
    },
    /// An STS federated user.
    FederatedUser,
}

/// A caller, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: String,
    /// The caller's 12-digit account.
    pub account_id: String,
    /// The name policies match with `users`.
    pub user: String,
    /// How the caller signed in.
    pub kind: PrincipalKind,
}

impl Caller {
    /// Who is behind the caller, as far as AWS lets us tell, for separation of duties
    /// (self-approval, one approval per approver, the break-glass cooldown, self-review;
    /// docs/approvals.md). Coarser than [`Caller::user`] on purpose:
    ///
    /// - an IAM user is its name, and an identity role's session its session name, in
    ///   every account (an Identity Center user is one person wherever they sign in; two
    ///   accounts' IAM users of one name are taken to be one person, never two);
    /// - a role whose session name the caller picks is `R/*`: every session of it is one
    ///   person, since whoever may assume `R` may call the session anything;
    /// - a federated user is `federated-user/*` for the same reason.
    ///
    /// Whether this is a role session Sentinel vended (session name
    /// `sentinel-<session id>`): the person behind it is whoever it was vended to, which
    /// the ARN does not say.
    pub fn is_vended_session(&self) -> bool {
        matches!(&self.kind, PrincipalKind::AssumedRole { session, .. }
            if session
                .strip_prefix("sentinel-")
                .is_some_and(|id| sentinel_types::SessionId::parse(id).is_ok()))
    }

    /// Treating two people as one only ever refuses an approval; never the reverse.
    pub fn person(&self) -> String {
        match &self.kind {
            PrincipalKind::AssumedRole { role, session } if self.user != *session => {
                format!("{role}/*")
            }
            PrincipalKind::FederatedUser => "federated-user/*".to_owned(),
            PrincipalKind::User | PrincipalKind::AssumedRole { .. } => self.user.clone(),
        }
    }
}

/// A caller ARN that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The account root user.
    #[error("root credentials are not accepted")]
    Root,
    /// Not an IAM user, assumed-role or federated-user ARN.
    #[error("`{0}` is not an IAM user, assumed-role or federated-user ARN")]
    Unparsable(String),
    /// A glob in `SENTINEL_IDENTITY_ROLES` that is not valid.
    #[error("invalid identity role glob {0}")]
    InvalidGlob(String),
}

/// The message, for settings errors that carry text.
impl From<IdentityError> for String {
    fn from(error: IdentityError) -> Self {
        error.to_string()
    }
}

/// Derives the user name from a caller ARN (docs/identity.md).
pub fn derive_user(arn: &str, roles: &IdentityRoles) -> Result<Caller, IdentityError> {
    let unparsable = || IdentityError::Unparsable(arn.to_owned());
    let parsed = Arn::parse(arn).map_err(|_| unparsable())?;
    let (partition, service, resource) = (parsed.partition(), parsed.service(), parsed.resource());
    let Some(account) = parsed.account().filter(|_| parsed.region().is_empty()) else {
        return Err(unparsable());
    };
    let segments: Vec<&str> = resource.split('/').collect();
    // SECURITY: every name segment must be a well-formed IAM name, so that a
    // derived user can never contain `/` except as the `R/S` separator.
    let names_ok = |names: &[&str]| {
        names
            .iter()
            .all(|n| !n.is_empty() && n.chars().all(is_iam_name_char))
    };
    let (user, kind) = match (service, segments.as_slice()) {
        ("iam", ["root"]) => return Err(IdentityError::Root),
        // Paths are `/` or `/a/b/`: any number of segments before the name.
        ("iam", ["user", path @ .., name]) if names_ok(path) && names_ok(&[name]) => {
            ((*name).to_owned(), PrincipalKind::User)
        }
        ("sts", ["assumed-role", role, session]) if names_ok(&[role, session]) => {
            let user = if roles.trusts(role) {
                (*session).to_owned()
            } else {
                format!("{role}/{session}")
            };
            (
                user,
                PrincipalKind::AssumedRole {
                    role: (*role).to_owned(),
                    session: (*session).to_owned(),
                },
            )
        }
        // SECURITY: `N` is whatever the caller passed to GetFederationToken, so it
        // never stands alone (it could name anyone).
        ("sts", ["federated-user", name]) if names_ok(&[name]) => (
            format!("federated-user/{name}"),
            PrincipalKind::FederatedUser,
        ),
        _ => return Err(unparsable()),
    };
    Ok(Caller {
        partition: partition.to_owned(),
        account_id: account.to_string(),
        user,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(arn: &str) -> Result<String, IdentityError> {
        derive_user(arn, &IdentityRoles::default()).map(|c| c.user)
    }

    #[test]
    fn iam_users_are_their_last_path_segment() {
        assert_eq!(
            user("arn:aws:iam::123456789012:user/alice").unwrap(),
            "alice"
        );
        assert_eq!(
            user("arn:aws:iam::123456789012:user/eng/alice").unwrap(),
            "alice"
        );
        assert_eq!(
            user("arn:aws:iam::123456789012:user/a/b/c/alice").unwrap(),
            "alice"
        );
    }

    fn person(arn: &str) -> String {
        derive_user(arn, &IdentityRoles::default())
            .unwrap()
            .person()
    }

    #[test]
    fn a_person_is_what_the_caller_cannot_choose() {
        // The same name in two accounts is one person.
        assert_eq!(person("arn:aws:iam::111122223333:user/eng/carol"), "carol");
        assert_eq!(person("arn:aws:iam::222233334444:user/carol"), "carol");
        let sso =
            "arn:aws:sts::222233334444:assumed-role/AWSReservedSSO_Dev_4567cdef/carol@example.com";
        assert_eq!(person(sso), "carol@example.com");
        // Every session of a role whose session name the caller picks is one person.
        assert_eq!(
            person("arn:aws:sts::111122223333:assumed-role/Leads/alice-1"),
            person("arn:aws:sts::111122223333:assumed-role/Leads/alice-2")
        );
        assert_eq!(
            person("arn:aws:sts::111122223333:assumed-role/Leads/alice-1"),
            "Leads/*"
        );
        assert_ne!(
            person("arn:aws:sts::111122223333:assumed-role/Leads/alice"),
            person("arn:aws:sts::111122223333:assumed-role/Ops/alice")
        );
        assert_eq!(
            person("arn:aws:sts::111122223333:federated-user/bob"),
            "federated-user/*"
        );
        let vended = |arn: &str| {
            derive_user(arn, &IdentityRoles::default())
                .unwrap()
                .is_vended_session()
        };
        assert!(vended(
            "arn:aws:sts::111122223333:assumed-role/Leads/sentinel-0123456789abcdef0123456789abcdef"
        ));
        assert!(!vended(
            "arn:aws:sts::111122223333:assumed-role/Leads/sentinel-alice"
        ));
        assert!(!vended(
            "arn:aws:iam::111122223333:user/sentinel-0123456789abcdef0123456789abcdef"
        ));
        // `*` is no IAM name character: a person key of a role never equals a user's.
        assert!(!is_iam_name_char('*'));
    }

    #[test]
    fn identity_center_sessions_are_the_session_name() {
        let caller = derive_user(
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_abc/alice@example.com",
            &IdentityRoles::default(),
        )
        .unwrap();
        assert_eq!(caller.user, "alice@example.com");
        assert_eq!(caller.account_id, "123456789012");
        assert_eq!(caller.partition, "aws");
        assert_eq!(
            caller.kind,
            PrincipalKind::AssumedRole {
                role: "AWSReservedSSO_Admin_abc".into(),
                session: "alice@example.com".into()
            }
        );
    }

    #[test]
    fn other_role_sessions_keep_the_role_because_the_caller_picks_the_session_name() {
        assert_eq!(
            user("arn:aws:sts::123456789012:assumed-role/deployer/alice").unwrap(),
            "deployer/alice"
        );
        let roles = IdentityRoles::new(&["okta-*".to_owned()]).unwrap();
        let okta = derive_user(
            "arn:aws:sts::123456789012:assumed-role/okta-eng/bob",
            &roles,
        )
        .unwrap();
        assert_eq!(okta.user, "bob");
        let sso = derive_user(
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_X/bob",
            &roles,
        )
        .unwrap();
        assert_eq!(
            sso.user, "AWSReservedSSO_X/bob",
            "the default is replaced, not extended"
        );
        let none = IdentityRoles::new(&[]).unwrap();
        assert_eq!(
            derive_user(
                "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_X/bob",
                &none
            )
            .unwrap()
            .user,
            "AWSReservedSSO_X/bob"
        );
    }

    #[test]
    fn federated_users_keep_their_kind_because_the_caller_picks_the_name() {
        // SECURITY: any IAM user allowed sts:GetFederationToken names itself; a bare
        // `alice` (or `ops-bob` to pass an `ops-*` rule) must never come from here.
        assert_eq!(
            user("arn:aws:sts::123456789012:federated-user/carol").unwrap(),
            "federated-user/carol"
        );
        assert_ne!(
            user("arn:aws:sts::123456789012:federated-user/alice").unwrap(),
            user("arn:aws:iam::123456789012:user/alice").unwrap()
        );
    }

    #[test]
    fn every_partition_is_understood() {
        for partition in [
            "aws",
            "aws-cn",
            "aws-us-gov",
            "aws-iso",
            "aws-iso-b",
            "aws-iso-e",
            "aws-eusc",
        ] {
            let caller = derive_user(
                &format!("arn:{partition}:iam::123456789012:user/alice"),
                &IdentityRoles::default(),
            )
            .unwrap();
            assert_eq!(caller.partition, partition);
            assert_eq!(caller.user, "alice");
        }
    }

    #[test]
    fn root_is_refused() {
        assert_eq!(
            user("arn:aws:iam::123456789012:root"),
            Err(IdentityError::Root)
        );
        assert_eq!(
            user("arn:aws-cn:iam::123456789012:root"),
            Err(IdentityError::Root)
        );
    }

    #[test]
    fn garbage_is_unparsable() {
        for bad in [
            "",
            "alice",
            "arn:aws:iam::123456789012",
            "arn:aws:iam::12345678901:user/alice",
            "arn:aws:iam::1234567890123:user/alice",
            "arn:aws:iam::123456789012:user/",
            "arn:aws:iam::123456789012:user",
            "arn:aws:iam::123456789012:role/admin",
            "arn:aws:sts::123456789012:assumed-role/R",
            "arn:aws:sts::123456789012:assumed-role/R/S/T",
            "arn:aws:sts::123456789012:assumed-role//S",
            "arn:aws:sts::123456789012:federated-user/",
            "arn:aws:iam:us-east-1:123456789012:user/alice",
            "arn:aws:s3:::bucket",
            "arn:azure:iam::123456789012:user/alice",
            "arn:aws:iam::123456789012:user/has space",
            "arn:aws:sts::123456789012:assumed-role/R/a*b",
        ] {
            assert_eq!(
                user(bad),
                Err(IdentityError::Unparsable(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn invalid_globs_are_refused() {
        let e = IdentityRoles::new(&["AWSReservedSSO_[a]".to_owned()]).unwrap_err();
        assert!(matches!(e, IdentityError::InvalidGlob(_)));
        assert!(e.to_string().contains("AWSReservedSSO_[a]"), "{e}");
        assert!(IdentityRoles::new(&[String::new()]).is_err());
    }
}
