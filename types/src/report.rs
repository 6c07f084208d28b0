//! One line for an error and all its causes, as every binary logs and prints them.

/// `error: cause: deeper cause`, each cause once (a cause whose text the line already
/// holds, as SDK errors often repeat theirs, is not written again).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner: {0}")]
    struct Inner(&'static str);

    #[test]
    fn causes_are_joined_once() {
        assert_eq!(error_chain(&Outer(Inner("io"))), "outer: inner: io");
        assert_eq!(error_chain(&Inner("x")), "inner: x");
    }
}
