//! Keeping Pulumi secrets out of what the provider says: a diagnostic about a secret property names
//! its path, never its value, and no text the provider sends (check failures, errors, the engine's
//! `Log`, stderr) holds a secret value.
//!
//! Two layers, both here in the adapter (the core knows nothing of secrets):
//! - [`shown`]: a diagnostic whose path lies in a secret input keeps its path (without map keys,
//!   which are part of the value) and its summary (summaries quote no value), and shows the core's
//!   value-free detail, or else only that the value is secret. This needs no knowledge of how a
//!   message quotes a value, so it also hides partial quotes (one bad character, a length).
//! - [`Secrets::scrub`]: every text leaving the adapter has each secret this process has decoded,
//!   and the forms derived from it that messages print, replaced by `[secret]`. This catches what no
//!   path names: an AWS error that echoes a CIDR block, a debug line listing the rules it sends.
//!
//! A string shorter than [`MIN_BARE`] characters is replaced only where quoted (`"ab"`, `'ab'`):
//! bare, it occurs in ordinary text by chance, so replacing it would garble messages and hide nothing.
//! Booleans are not replaced (the path-based layer covers diagnostics about them).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::RwLock;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic, PathStep};
use crate::domain::types::{Cidr, GroupRef};

/// What a secret is shown as.
pub const SHOWN: &str = "[secret]";

/// The shortest string replaced wherever it occurs; shorter ones only where quoted.
pub const MIN_BARE: usize = 4;

/// The detail of a diagnostic about a secret value when the core gave no value-free one.
pub const SECRET_DETAIL: &str =
    "The value is secret, so this message does not repeat it; check the property named here.";

/// The secret values this process has seen, as the texts messages may print them.
#[derive(Default)]
pub struct Secrets {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    texts: BTreeSet<String>,
    /// Built from `texts` when first needed after a change.
    matcher: Option<AhoCorasick>,
}

impl Secrets {
    /// Remembers every string, number and map key in `v` (a secret input's value).
    pub fn remember(&self, v: &Value) {
        let mut found = BTreeSet::new();
        collect(v, &mut found);
        if found.is_empty() {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let before = inner.texts.len();
        inner.texts.extend(found);
        if inner.texts.len() != before {
            inner.matcher = None;
        }
    }

    /// `text` with every remembered secret replaced by [`SHOWN`] (in one pass, longest first).
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(ac) = self.matcher() else {
            return Cow::Borrowed(text);
        };
        if !ac.is_match(text) {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        ac.replace_all_with(text, &mut out, |_, _, dst| {
            dst.push_str(SHOWN);
            true
        });
        Cow::Owned(out)
    }

    fn matcher(&self) -> Option<AhoCorasick> {
        {
            let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
            if inner.texts.is_empty() {
                return None;
            }
            if let Some(m) = &inner.matcher {
                return Some(m.clone());
            }
        }
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = &inner.matcher {
            return Some(m.clone());
        }
        let built = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&inner.texts)
            .ok()?;
        inner.matcher = Some(built.clone());
        Some(built)
    }
}

fn collect(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => forms(s, out),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => forms(&format!("{n:.0}"), out),
        Value::Number(n) => forms(&n.to_string(), out),
        Value::List(items) => items.iter().for_each(|i| collect(i, out)),
        Value::Map(m) => {
            for (k, x) in m {
                forms(k, out);
                collect(x, out);
            }
        }
        Value::Null | Value::Unknown | Value::Bool(_) => {}
    }
}

/// The texts a message may print for the secret `s`: itself (escaped as `{:?}` prints it), and for a
/// CIDR block its network and addresses, for a group of a peered account its two parts.
fn forms(s: &str, out: &mut BTreeSet<String>) {
    let mut add = |t: &str| {
        if t.chars().count() >= MIN_BARE {
            out.insert(t.to_string());
        } else if !t.is_empty() {
            out.insert(format!("\"{t}\""));
            out.insert(format!("'{t}'"));
        }
        let escaped = format!("{t:?}");
        let inner = &escaped[1..escaped.len() - 1];
        if inner != t && !inner.is_empty() {
            out.insert(if t.chars().count() >= MIN_BARE {
                inner.to_string()
            } else {
                escaped.clone()
            });
        }
    };
    add(s);
    add(s.trim());
    if let Ok(c) = Cidr::parse(s) {
        let net = c.net().to_string();
        add(&net);
        add(&c.net().addr().to_string());
        if let Some((addr, _)) = s.trim().split_once('/') {
            add(addr);
        }
    }
    if let Ok(g) = GroupRef::parse(s.trim()) {
        add(g.id());
        if let Some(a) = g.account() {
            add(a);
        }
    }
}

/// `d` as a Pulumi user may see it when the top-level inputs `secret` were secret: see the module.
pub fn shown(d: &Diagnostic, secret: &BTreeSet<String>) -> Diagnostic {
    let Some(path) = d.path.as_ref().filter(|_| is_about_secret(d, secret)) else {
        return d.clone();
    };
    let steps = path
        .0
        .iter()
        .take_while(|s| !matches!(s, PathStep::Key(_)))
        .cloned()
        .collect();
    let mut out = d.clone();
    out.path = Some(AttrPath(steps));
    out.detail = d
        .value_free_detail
        .clone()
        .unwrap_or_else(|| SECRET_DETAIL.to_string());
    out
}

/// True when `d` is about a value of the secret inputs `secret`.
pub fn is_about_secret(d: &Diagnostic, secret: &BTreeSet<String>) -> bool {
    d.path
        .as_ref()
        .and_then(AttrPath::head)
        .is_some_and(|h| secret.contains(h))
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
