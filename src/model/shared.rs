//! Strings that repeat across a fleet (images, hardware names, region names) are kept once: [`intern`] gives
//! the same `Arc<str>` for equal text, so ten thousand deployments on a handful of images hold a handful of
//! strings. The table forgets a string once nothing else holds it. Probes are shared the same way.

use super::Probes;
use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// A string shared by every deployment that has it.
pub type Shared = Arc<str>;

/// Shared values: the same `Arc` for equal values. Values nobody else holds are dropped each time the table
/// has doubled since the last such pass (never below its floor).
struct Table<T: ?Sized> {
    set: HashSet<Arc<T>>,
    prune_at: usize,
}

static TABLE: Mutex<Option<Table<str>>> = Mutex::new(None);
/// Probes repeat across a fleet as strings do (the same health checks on every deployment of an image).
static PROBES: Mutex<Option<Table<Probes>>> = Mutex::new(None);

fn shared<T: ?Sized + Hash + Eq, V: Borrow<T> + Into<Arc<T>>>(
    table: &Mutex<Option<Table<T>>>,
    floor: usize,
    v: V,
) -> Arc<T> {
    let Ok(mut guard) = table.lock() else { return v.into() };
    let t = guard.get_or_insert_with(|| Table { set: HashSet::new(), prune_at: floor });
    if let Some(a) = t.set.get(v.borrow()) {
        return a.clone();
    }
    if t.set.len() >= t.prune_at {
        t.set.retain(|a| Arc::strong_count(a) > 1);
        t.prune_at = (t.set.len() * 2).max(floor);
    }
    let a: Arc<T> = v.into();
    t.set.insert(a.clone());
    a
}

/// The shared copy of `s`.
pub fn intern(s: &str) -> Shared {
    shared(&TABLE, 1024, s)
}

/// The shared copy of `p` (an edit changes its own copy, with `Arc::make_mut`).
pub fn intern_probes(p: Probes) -> Arc<Probes> {
    shared(&PROBES, 256, p)
}

/// Serde for a deployment's `Option<Arc<Probes>>` (as optional probes), without serde's `rc` feature.
pub mod serde_probes {
    use super::{Probes, intern_probes};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(v: &Option<Arc<Probes>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_deref().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<Probes>>, D::Error> {
        Ok(Option::<Probes>::deserialize(d)?.map(intern_probes))
    }
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

    /// A table of its own (the global ones are shared with every other test): what is dropped, and when.
    #[test]
    fn unheld_values_stay_until_the_table_reaches_its_mark_which_then_doubles() {
        let table: Mutex<Option<Table<str>>> = Mutex::new(None);
        let state = |t: &Mutex<Option<Table<str>>>| {
            let g = t.lock().unwrap();
            let t = g.as_ref().unwrap();
            (t.set.len(), t.prune_at)
        };
        for i in 0..7 {
            shared(&table, 8, format!("unheld-{i}").as_str());
        }
        assert_eq!(state(&table), (7, 8), "below the mark nothing is dropped");
        let held: Vec<Arc<str>> = (0..20).map(|i| shared(&table, 8, format!("held-{i}").as_str())).collect();
        // At 8 the unheld went (the mark stays at the floor); at 8 held the mark doubled to 16, then to 32.
        assert_eq!(state(&table), (20, 32));
        assert!(held.iter().all(|h| Arc::strong_count(h) == 2), "each held value is in the table once");
    }

    fn probes_with_period(period: u32) -> Probes {
        let probe = super::super::Probe { period_seconds: Some(period), ..Default::default() };
        Probes { readiness: Some(super::super::ProbeConfig { enabled: true, probe }), ..Default::default() }
    }

    #[test]
    fn equal_probes_are_one_copy_an_edit_makes_its_own_and_unheld_probes_are_forgotten() {
        let a = intern_probes(probes_with_period(987_654));
        let b = intern_probes(probes_with_period(987_654));
        assert!(Arc::ptr_eq(&a, &b));
        // An edit of one deployment's probes never reaches the others that shared them.
        let mut edited = b.clone();
        Arc::make_mut(&mut edited).readiness.as_mut().unwrap().probe.period_seconds = Some(5);
        assert_eq!(a.readiness.as_ref().unwrap().probe.period_seconds, Some(987_654));
        assert!(!Arc::ptr_eq(&a, &edited));
        for i in 0..2000 {
            intern_probes(probes_with_period(i));
        }
        let len = PROBES.lock().unwrap().as_ref().unwrap().set.len();
        assert!(len < 1200, "{len} probes kept");
        assert!(Arc::ptr_eq(&a, &intern_probes(probes_with_period(987_654))), "held probes stay shared");
    }

    #[test]
    fn probes_read_and_write_as_plain_optional_probes() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct D {
            #[serde(default, with = "serde_probes")]
            probes: Option<Arc<Probes>>,
        }
        let d = D { probes: Some(intern_probes(probes_with_period(33))) };
        let text = serde_json::to_string(&d).unwrap();
        let plain = serde_json::json!({"probes": probes_with_period(33)});
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), plain);
        let back: D = serde_json::from_str(&text).unwrap();
        assert!(Arc::ptr_eq(back.probes.as_ref().unwrap(), d.probes.as_ref().unwrap()));
        let none: D = serde_json::from_str("{}").unwrap();
        assert!(none.probes.is_none());
    }
}
