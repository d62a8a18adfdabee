//! Diagnostics: problems with input are data (a path and what to do), not errors.

use std::fmt;

/// One step of an attribute path, in the resource's own (snake_case) names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathStep {
    Attr(String),
    Key(String),
    Index(usize),
}

/// Where in the configuration a problem is.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    pub fn root() -> Self {
        AttrPath(Vec::new())
    }

    pub fn attr(name: &str) -> Self {
        AttrPath(vec![PathStep::Attr(name.to_string())])
    }

    pub fn then_attr(mut self, name: &str) -> Self {
        self.0.push(PathStep::Attr(name.to_string()));
        self
    }

    pub fn then_key(mut self, key: &str) -> Self {
        self.0.push(PathStep::Key(key.to_string()));
        self
    }

    pub fn then_index(mut self, i: usize) -> Self {
        self.0.push(PathStep::Index(i));
        self
    }

    /// The first attribute name, if any.
    pub fn head(&self) -> Option<&str> {
        match self.0.first() {
            Some(PathStep::Attr(a)) => Some(a),
            _ => None,
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                PathStep::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found in input or while talking to AWS, with where it is and what to do about it.
///
/// The summary never quotes a value (it names attributes only); the detail may. Where the value at
/// `path` is secret (a Pulumi secret), an adapter shows `value_free_detail` instead of the detail, or,
/// when there is none, only that the value is secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttrPath>,
    /// The detail without the value at `path` or anything derived from it (its network, its parts,
    /// its length).
    pub value_free_detail: Option<String>,
}

impl Diagnostic {
    pub fn error(path: AttrPath, summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: Some(path),
            value_free_detail: None,
        }
    }

    pub fn warning(path: AttrPath, summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path: Some(path),
            value_free_detail: None,
        }
    }

    /// An error that belongs to no single attribute.
    pub fn general(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
            value_free_detail: None,
        }
    }

    /// The same, with a detail to show where the value at its path is secret.
    pub fn with_value_free_detail(mut self, detail: impl Into<String>) -> Self {
        self.value_free_detail = Some(detail.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The attribute path as Terraform writes it (empty when the diagnostic has none).
    pub fn path_text(&self) -> String {
        self.path
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) if !p.0.is_empty() => write!(f, "{}: {}: {}", p, self.summary, self.detail),
            _ => write!(f, "{}: {}", self.summary, self.detail),
        }
    }
}

/// True when any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}
