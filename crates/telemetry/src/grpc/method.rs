//! The gRPC method of a request, from its path `/package.Service/Method`,
//! and the bounded set of method names used as metric labels.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

const UNKNOWN: &str = "unknown";
/// Longest service or method name taken from a path.
const MAX_NAME: usize = 128;
/// Distinct method labels per layer; beyond it a method is counted as `other`.
const MAX_METHOD_LABELS: usize = 256;

/// Service and method of a request; `unknown` for both unless the path is a
/// well-formed method path, so no arbitrary text from a request reaches a
/// label or span attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GrpcMethod<'a> {
    /// Fully qualified service, e.g. `hellowork.registration.v1.Registration`.
    pub(crate) service: &'a str,
    /// Method, e.g. `Apply`.
    pub(crate) method: &'a str,
}

impl<'a> GrpcMethod<'a> {
    pub(crate) fn from_path(path: &'a str) -> Self {
        path.strip_prefix('/')
            .and_then(|rest| rest.split_once('/'))
            .filter(|(service, method)| is_name(service, true) && is_name(method, false))
            .map_or(
                Self {
                    service: UNKNOWN,
                    method: UNKNOWN,
                },
                |(service, method)| Self { service, method },
            )
    }

    /// `package.Service/Method`.
    pub(crate) fn full_name(self) -> String {
        format!("{}/{}", self.service, self.method)
    }
}

fn is_name(text: &str, dotted: bool) -> bool {
    !text.is_empty()
        && text.len() <= MAX_NAME
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || (dotted && b == b'.'))
}

/// Metric label values of methods, interned and bounded in number: a client
/// calling made-up methods (rejected before routing, e.g. by authentication)
/// cannot grow the label set without limit.
#[derive(Debug, Clone)]
pub(crate) struct MethodLabels {
    interned: Arc<Mutex<HashMap<String, Arc<str>>>>,
    other: Arc<str>,
}

impl MethodLabels {
    pub(crate) fn new() -> Self {
        Self {
            interned: Arc::default(),
            other: Arc::from("other"),
        }
    }

    /// The label of `method`: its full name, or `other` once the limit of
    /// distinct names is reached.
    pub(crate) fn label(&self, method: GrpcMethod<'_>) -> Arc<str> {
        let name = method.full_name();
        let mut interned = self.interned.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(label) = interned.get(&name) {
            return Arc::clone(label);
        }
        if interned.len() >= MAX_METHOD_LABELS {
            return Arc::clone(&self.other);
        }
        let label: Arc<str> = Arc::from(name.as_str());
        interned.insert(name, Arc::clone(&label));
        label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_path_names_service_and_method() {
        let method = GrpcMethod::from_path("/hellowork.registration.v1.Registration/Apply");
        assert_eq!(method.service, "hellowork.registration.v1.Registration");
        assert_eq!(method.method, "Apply");
        assert_eq!(
            method.full_name(),
            "hellowork.registration.v1.Registration/Apply"
        );
    }

    #[test]
    fn anything_else_is_unknown() {
        for path in [
            "/",
            "/metrics",
            "/a.B/",
            "//Apply",
            "/a.B/C/D",
            "/a.B/Yamada Taro",
            "/a.B/%E5%B1%B1",
            &format!("/a.B/{}", "x".repeat(200)),
        ] {
            let method = GrpcMethod::from_path(path);
            assert_eq!(
                (method.service, method.method),
                (UNKNOWN, UNKNOWN),
                "{path}"
            );
        }
    }

    #[test]
    fn method_labels_are_bounded() {
        let labels = MethodLabels::new();
        let names: Vec<String> = (0..MAX_METHOD_LABELS + 10)
            .map(|i| format!("M{i}"))
            .collect();
        let assigned: Vec<Arc<str>> = names
            .iter()
            .map(|name| {
                labels.label(GrpcMethod {
                    service: "a.B",
                    method: name,
                })
            })
            .collect();
        assert_eq!(&*assigned[0], "a.B/M0");
        assert_eq!(&*assigned[MAX_METHOD_LABELS - 1], "a.B/M255");
        assert_eq!(&*assigned[MAX_METHOD_LABELS], "other");
        // Names seen before the limit keep their label.
        let again = labels.label(GrpcMethod {
            service: "a.B",
            method: "M0",
        });
        assert_eq!(&*again, "a.B/M0");
    }
}
