//! How a workload (a caller authenticated by a verified JWT, SPEC §10) is named: the one
//! rule the TVM, the authorizer's verifier and `sentinel policy test` share.

/// The prefix of an issuer's workloads' users: its URL without the scheme and a
/// trailing `/` (`token.actions.githubusercontent.com`,
/// `oidc.eks.eu-west-1.amazonaws.com/id/ABC`). Issuer URLs are unique, so users of
/// different issuers never collide, even on one host.
pub fn workload_user_prefix(issuer: &str) -> &str {
    issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer)
        .trim_end_matches('/')
}

/// A workload's user: its SPIFFE ID for a SPIFFE issuer, else `<issuer>:<sub>` with the
/// issuer's URL less its scheme (SPEC §10 says `<issuer host>:<sub>`; the path and port
/// are kept so two issuers on one host never name different workloads alike).
///
/// ```
/// use sentinel_types::workload_user;
/// assert_eq!(
///     workload_user("https://token.actions.githubusercontent.com", "repo:org/app:ref:refs/heads/main", false),
///     "token.actions.githubusercontent.com:repo:org/app:ref:refs/heads/main"
/// );
/// assert_eq!(workload_user("https://spire.test", "spiffe://td/ns/a", true), "spiffe://td/ns/a");
/// ```
pub fn workload_user(issuer: &str, subject: &str, spiffe: bool) -> String {
    if spiffe {
        return subject.to_owned();
    }
    format!("{}:{subject}", workload_user_prefix(issuer))
}
