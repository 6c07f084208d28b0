//! Handler overhead per vend with in-memory ports: routing, identity, policy
//! (cached), decision, grant, session record and response JSON — everything the
//! TVM does except the network calls to AWS.

#![expect(
    clippy::expect_used,
    reason = "benchmark driver: a broken setup must stop loudly"
)]

use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use revocation::InMemoryIam;
use sessions::InMemorySessionStore;
use tvm_lambda::fakes::{FakeIssuer, FakePolicySource};
use tvm_lambda::{ApiRequest, IamCaller, Service, Settings};

const POLICY: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev
  session_tags: {team: payments}
rules:
  - name: no-contractors
    effect: deny
    conditions:
      users: ["contractor-*"]
  - name: engineers
    effect: allow
    conditions:
      principals: ["arn:aws:iam::123456789012:user/*"]
      source_ips: ["10.0.0.0/8"]
    max_duration: 1h
"#;

fn request() -> ApiRequest {
    ApiRequest {
        method: "GET".into(),
        path: "/".into(),
        query: Some("profile=dev".into()),
        caller: Some(IamCaller {
            user_arn: Some("arn:aws:iam::123456789012:user/alice".into()),
            account_id: Some("123456789012".into()),
            ..IamCaller::default()
        }),
        source_ip: Some("10.1.2.3".into()),
        user_agent: Some("bench".into()),
        request_id: "bench".into(),
        // The TVM's own account: the caller's, so the default allow-list admits it.
        tvm_account: Some("123456789012".parse().expect("account")),
        ..ApiRequest::default()
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let settings = |table: bool| {
        Settings::from_lookup(|name| match name {
            "SENTINEL_SESSION_TABLE" if table => Some("sessions".into()),
            _ => None,
        })
        .expect("settings")
    };
    let with_store = Service::new(
        settings(true),
        FakePolicySource::new([("dev", POLICY)]),
        FakeIssuer::new(Utc::now()),
        Some(InMemorySessionStore::default()),
        InMemoryIam::new(&"111122223333".parse().expect("account")),
    );
    let without_store = Service::new(
        settings(false),
        FakePolicySource::new([("dev", POLICY)]),
        FakeIssuer::new(Utc::now()),
        None::<InMemorySessionStore>,
        InMemoryIam::new(&"111122223333".parse().expect("account")),
    );
    // The first call loads the policy into the cache, as a warm Lambda would have it.
    let first = runtime.block_on(with_store.handle(request(), Utc::now()));
    assert_eq!(first.response.status, 200, "{}", first.response.body);

    let mut group = c.benchmark_group("handler");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("vend, in-memory session store", |b| {
        b.iter(|| runtime.block_on(with_store.handle(request(), Utc::now())))
    });
    group.bench_function("vend, no session table", |b| {
        b.iter(|| runtime.block_on(without_store.handle(request(), Utc::now())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
