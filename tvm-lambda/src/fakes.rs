//! In-memory stand-ins for the TVM's ports, for handler tests and benchmarks.
//! Exported under the `test-util` feature; never used in the shipped binary.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

use crate::grant::{CredentialIssuer, IssueError, IssueRequest, IssuedCredentials};
use crate::policies::{PolicySource, SourceError};

/// Policies held in a map; can be told to fail.
#[derive(Default)]
pub struct FakePolicySource {
    policies: Mutex<HashMap<String, String>>,
    failure: Mutex<Option<SourceError>>,
    fetches: AtomicUsize,
}

impl FakePolicySource {
    /// A source holding `(profile, yaml)` pairs.
    pub fn new<'a>(policies: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let map = policies
            .into_iter()
            .map(|(p, y)| (p.to_owned(), y.to_owned()))
            .collect();
        Self {
            policies: Mutex::new(map),
            ..Self::default()
        }
    }

    /// Adds or replaces a profile's policy.
    pub fn put(&self, profile: &str, yaml: &str) {
        self.policies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(profile.to_owned(), yaml.to_owned());
    }

    /// Every call fails with `failure` until called again with `None`.
    pub fn fail_with(&self, failure: Option<SourceError>) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = failure;
    }

    /// How many times `fetch` was called.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), SourceError> {
        match self
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }
}

impl PolicySource for FakePolicySource {
    async fn fetch(&self, profile: &str) -> Result<Option<String>, SourceError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        Ok(self
            .policies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(profile)
            .cloned())
    }

    async fn list(&self) -> Result<Vec<String>, SourceError> {
        self.check()?;
        let mut names: Vec<String> = self
            .policies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        names.sort();
        Ok(names)
    }
}

/// Issues made-up credentials that expire `duration_secs` after a fixed instant,
/// and remembers every request; can be told to fail.
pub struct FakeIssuer {
    now: DateTime<Utc>,
    requests: Mutex<Vec<IssueRequest>>,
    failure: Mutex<Option<IssueError>>,
    on_issue: Mutex<Option<IssueHook>>,
}

/// What a test runs while STS "answers": another request racing this one.
type IssueHook = Box<dyn Fn() + Send>;

impl FakeIssuer {
    /// Credentials are dated from `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            requests: Mutex::new(Vec::new()),
            failure: Mutex::new(None),
            on_issue: Mutex::new(None),
        }
    }

    /// Runs `hook` inside every later call, before it answers.
    pub fn on_issue(&self, hook: impl Fn() + Send + 'static) {
        *self.on_issue.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(hook));
    }

    /// Every call fails with `failure` until called again with `None`.
    pub fn fail_with(&self, failure: Option<IssueError>) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = failure;
    }

    /// The requests seen so far.
    pub fn requests(&self) -> Vec<IssueRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl CredentialIssuer for FakeIssuer {
    async fn issue(&self, request: &IssueRequest) -> Result<IssuedCredentials, IssueError> {
        if let Some(failure) = self
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Err(failure);
        }
        if let Some(hook) = &*self.on_issue.lock().unwrap_or_else(PoisonError::into_inner) {
            hook();
        }
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        requests.push(request.clone());
        let n = requests.len();
        Ok(IssuedCredentials {
            credentials: protocol::Credentials {
                access_key_id: format!("ASIAFAKE{n:012}"),
                secret_access_key: format!("fake-secret-{n}"),
                session_token: format!("fake-token-{n}"),
                expiration: self.now + Duration::seconds(i64::from(request.duration_secs)),
            },
            assumed_role_arn: Some(format!(
                "{}/{}",
                request
                    .role_arn
                    .as_str()
                    .replacen(":iam::", ":sts::", 1)
                    .replacen(":role/", ":assumed-role/", 1),
                request.session_name
            )),
        })
    }
}
