//! Strings that repeat across a fleet (images, hardware names, region names) are kept once: [`intern`] gives
//! the same `Arc<str>` for equal text, so ten thousand deployments on a handful of images hold a handful of
//! strings. The table forgets a string once nothing else holds it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// A string shared by every deployment that has it.
pub type Shared = Arc<str>;

struct Table {
    set: HashSet<Shared>,
    /// Size at which strings nobody else holds are dropped next.
    prune_at: usize,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

/// The shared copy of `s`.
pub fn intern(s: &str) -> Shared {
    let Ok(mut guard) = TABLE.lock() else { return Shared::from(s) };
    let t = guard.get_or_insert_with(|| Table { set: HashSet::new(), prune_at: 1024 });
    if let Some(a) = t.set.get(s) {
        return a.clone();
    }
    if t.set.len() >= t.prune_at {
        t.set.retain(|a| Arc::strong_count(a) > 1);
        t.prune_at = (t.set.len() * 2).max(1024);
    }
    let a = Shared::from(s);
    t.set.insert(a.clone());
    a
}

/// [`intern`] for an optional string.
pub fn intern_opt(s: Option<&str>) -> Option<Shared> {
    s.map(intern)
}

/// Serde for `Option<Shared>` (as an optional string), without serde's `rc` feature.
pub mod serde_opt {
    use super::{Shared, intern};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Shared>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_some(&**t),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Shared>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(|t| intern(&t)))
    }
}

/// Serde for `Shared` (as a string), without serde's `rc` feature.
pub mod serde_one {
    use super::{Shared, intern};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Shared, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Shared, D::Error> {
        Ok(intern(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_text_is_one_string_and_unheld_strings_are_forgotten() {
        let a = intern("registry.example.com/shared-test:1");
        let b = intern(&String::from("registry.example.com/shared-test:1"));
        assert!(Arc::ptr_eq(&a, &b));
        // Many strings nobody keeps: the table stays bounded.
        for i in 0..5000 {
            intern(&format!("gone-{i}"));
        }
        let len = TABLE.lock().unwrap().as_ref().unwrap().set.len();
        assert!(len < 3000, "{len} strings kept");
        assert!(Arc::ptr_eq(&a, &intern("registry.example.com/shared-test:1")), "a held string stays shared");
    }
}
