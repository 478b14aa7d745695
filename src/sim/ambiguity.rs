//! Named switches for what the providers' documents leave open. Each switch has readings; the default is the
//! one that hurts a client most, so that the client is built to be right under every reading (the two
//! `*-optional-fields` switches excepted: their hostile reading refuses every edit, see their meanings). Set them with
//! `infertop sim --ambiguity NAME=READING`, in [`super::SimConfig::ambiguities`], or at run time with
//! `POST /_sim/ambiguities {"NAME": "READING"}`; `GET /_sim/ambiguities` lists them with the current reading.

use serde_json::{Value, json};

/// One switch as listed by `infertop sim --list-ambiguities`.
#[derive(Debug, Clone, Copy)]
pub struct Switch {
    pub name: &'static str,
    /// The first is the default: the most hostile, except where that reading would leave nothing to use (the
    /// switch says why in its meaning).
    pub readings: &'static [&'static str],
    /// What each reading means, in the order of `readings`.
    pub meanings: &'static [&'static str],
    /// The document that leaves it open.
    pub source: &'static str,
}

pub const GCORE_V3_NULL: &str = "gcore-v3-null";
pub const GCORE_TRIGGER_NULL: &str = "gcore-trigger-null";
pub const GCORE_V2_PROJECT: &str = "gcore-v2-default-project";
pub const GCORE_V2_LOGS: &str = "gcore-v2-logs";
pub const SESTERCE_NULL: &str = "sesterce-null";
pub const SESTERCE_NO_MODEL: &str = "sesterce-patch-without-model";
pub const RUNAI_NULL: &str = "runai-null";
pub const RUNAI_TYPE: &str = "runai-workload-type";
pub const RUNAI_FILTER: &str = "runai-filterby";
pub const RUNAI_TOKEN: &str = "runai-token";
pub const RUNAI_V1_GRANT: &str = "runai-v1-grant";
pub const RUNAI_METRICS: &str = "runai-inference-metrics";
pub const PRICING_PREVIEW: &str = "pricing-preview";
pub const GCORE_V2_OPTIONAL: &str = "gcore-v2-optional-fields";
pub const SESTERCE_OPTIONAL: &str = "sesterce-optional-fields";

pub const SWITCHES: &[Switch] = &[
    Switch {
        name: GCORE_V3_NULL,
        readings: &["clears", "keeps"],
        meanings: &[
            "a top-level field or a probe slot sent as null in a v3 PATCH is reset (null, empty or removed)",
            "null in a v3 PATCH leaves the field as it is (what Terraform v0's updates rely on)",
        ],
        source: "specs/gcore-inference.openapi.yaml PATCH body (nullable, default null, effect unstated); api/gcore.md §6",
    },
    Switch {
        name: GCORE_TRIGGER_NULL,
        readings: &["ignored", "removes"],
        meanings: &[
            "a trigger sent as null in a v3 PATCH container is ignored: the trigger stays",
            "a trigger sent as null in a v3 PATCH container removes it",
        ],
        source: "specs/gcore-inference.openapi.yaml ContainerScaleTriggersSerializer (each nullable, default null); api/gcore.md §6",
    },
    Switch {
        name: GCORE_V2_PROJECT,
        readings: &["other", "same"],
        meanings: &[
            "a v2 PUT without project_id goes to the key's default project, which is not the deployment's (404)",
            "the key's default project is the deployment's project",
        ],
        source: "seeds/001 (project_id: \"if not provided, your default project ID will be used\")",
    },
    Switch {
        name: GCORE_V2_OPTIONAL,
        // Not the hostile reading first: under "omitted" every v2 edit is refused (the client must not send a
        // PUT that would reset what it did not read), which would leave the demo and every v2 edit test with
        // nothing to edit. Tests of the refusal ask for "omitted" by name.
        readings: &["sent", "omitted"],
        meanings: &[
            "v2 deployment answers (GET, list, PUT) carry every field, null where there is no value \
             (default: kept so that v2 edits can be made at all; the hostile reading is \"omitted\")",
            "v2 deployment answers omit every field the schema does not require (api_key_ids, auth_enabled, \
             command, description, envs, image_registry_id, probes, timeout, address, created_at, \
             containers[].error_message, containers[].scale.cooldown_period and .triggers): a client that builds its full-replace PUT from such an answer \
             would reset them",
        ],
        source: "seeds/001 and specs/gcore-inference-v2-legacy InferenceInstanceOutSerializer (required: only \
                 containers, flavor_id, id, image, listening_port, name, status; ContainerScaleSerializer: min, \
                 max); api/README.md ambiguities",
    },
    Switch {
        name: GCORE_V2_LOGS,
        readings: &["page", "object"],
        meanings: &[
            "GET .../logs of the v2 API answers a {count, results} page of lines (as v3 does), more lines than the \
             dashboard shows: the client sorts and cuts them itself",
            "GET .../logs of the v2 API answers one log line object, as the v2 document's schema types it",
        ],
        source: "specs/gcore-inference-v2-legacy.openapi.yaml GET /cloud/v2/inference/deployments/{instance_id}/logs \
                 (\"List of Inference Instance Logs\", schema InferenceInstanceLogOutSerializer: one object)",
    },
    Switch {
        name: SESTERCE_NULL,
        readings: &["clears", "keeps"],
        meanings: &[
            "a nullable field sent as null in a PATCH is cleared (modelId null detaches the model)",
            "null in a PATCH leaves the field as it is",
        ],
        source: "seeds/004 PATCH /ai-inference/instances/{id} (every field required and nullable)",
    },
    Switch {
        name: SESTERCE_OPTIONAL,
        // Not the hostile reading first: under "omitted" every Sesterce edit is refused (the PATCH must carry
        // each of these fields), which would leave the demo and every Sesterce edit test with nothing to edit.
        // Tests of the refusal ask for "omitted" by name.
        readings: &["sent", "omitted"],
        meanings: &[
            "instance details carry every field, null where there is no value (default: kept so that Sesterce \
             edits can be made at all; the hostile reading is \"omitted\")",
            "instance details omit description, podLifetime, startupCommand, envs and apiKeysIds: a PATCH \
             built from them without those fields would clear them",
        ],
        source: "seeds/004 GET /ai-inference/instances/{id} (an example, no schema) vs PATCH (every field \
                 required); api/runai-sesterce.md §B.3 (InferenceInstanceDetails: description?, podLifetime?, \
                 startupCommand?; no apiKeysIds)",
    },
    Switch {
        name: SESTERCE_NO_MODEL,
        readings: &["rejected", "keeps"],
        meanings: &[
            "a PATCH without modelId or registryId is refused with 400 (the seed marks both required)",
            "a PATCH without modelId or registryId keeps the instance's model and registry (as sesterce-cli sends it)",
        ],
        source: "seeds/004 PATCH (modelId, registryId required) vs GET details (neither returned); api/runai-sesterce.md §B.3",
    },
    Switch {
        name: RUNAI_NULL,
        readings: &["clears", "keeps"],
        meanings: &[
            "a spec field sent as null in a PATCH is removed (the image is gone)",
            "null and absent decode alike, as in the Go control plane: the field is kept",
        ],
        source: "seeds/003 PATCH /api/v1/workloads/inferences/{id} (null unstated); api/README.md ambiguities",
    },
    Switch {
        name: RUNAI_TYPE,
        readings: &["inference", "Inference"],
        meanings: &[
            "inference workloads carry type \"inference\" in the workloads list",
            "inference workloads carry type \"Inference\" (the WorkloadType enum's casing)",
        ],
        source: "specs/runai-inference.openapi.json Workload.type (free string, example runai-job)",
    },
    Switch {
        name: RUNAI_FILTER,
        readings: &["exact", "ignored"],
        meanings: &[
            "filterBy=type==X matches the type exactly, casing included",
            "filterBy on type is ignored: every workload is listed",
        ],
        source: "specs/runai-inference.openapi.json GET /api/v1/workloads filterBy (matching unstated)",
    },
    Switch {
        name: RUNAI_TOKEN,
        readings: &["v1-only", "v2-only", "both", "v1-only-405"],
        meanings: &[
            "only POST /api/v1/token (JSON, deprecated) is served; /api/v2/token answers 404",
            "only POST /api/v2/token (form, OAuth2) is served; /api/v1/token answers 404",
            "both token endpoints are served",
            "only POST /api/v1/token is served; /api/v2/token answers 405 (a gateway that routes the path but \
             not the method), which the client must read as \"not served\" as it does a 404",
        ],
        source: "api/runai-sesterce.md §A.1 (v2 current, v1 deprecated but served; older planes have only v1)",
    },
    Switch {
        name: RUNAI_V1_GRANT,
        // Not a one-grant reading first: either one refuses a client the other takes (runapy's app_token, the
        // spec's client_credentials), and the contract tests hold every sign-in body against the spec, which
        // spells app_token's fields otherwise. The client and doctor sign in under each reading, asked by name
        // (tests/runai_signin.rs).
        readings: &["both", "app-token-only", "client-credentials-only"],
        meanings: &[
            "POST /api/v1/token takes both grants (default: the hostile readings are the two below)",
            "POST /api/v1/token takes only grantType app_token with AppId/AppSecret (as NVIDIA's runapy sends \
             it); client_credentials is refused with 400",
            "POST /api/v1/token takes only grantType client_credentials with clientID/clientSecret (the spec's \
             example); app_token is refused with 400",
        ],
        source: "api/runai-sesterce.md §A.1 (TokenRequest: app_token deprecated, client_credentials; runapy 1.224.0 \
                 sends app_token with AppId/AppSecret); api/README.md ambiguities (Run:ai v1 token body)",
    },
    Switch {
        name: RUNAI_METRICS,
        readings: &["404", "served"],
        meanings: &[
            "the control plane is older than 2.18: inference metrics answer 404",
            "inference metrics are served",
        ],
        source: "seeds/003 (inference metrics need control plane 2.18 or later)",
    },
    Switch {
        name: PRICING_PREVIEW,
        readings: &["at-max", "per-replica"],
        meanings: &[
            "a pricing preview (Gcore and Sesterce) prices `max` replicas in every region: the price × their sum",
            "a pricing preview prices one replica, whatever `max` says",
        ],
        source: "seeds/004 POST /ai-inference/instances/pricing (body scale.max, answer pricePerHour: per what \
                 unstated); specs/gcore-inference.openapi.yaml pricing (containers[].scale.max, price_per_hour \
                 \"of the item\")",
    },
];

/// The reading of every switch, by index into [`SWITCHES`] and into each switch's readings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguities {
    chosen: Vec<usize>,
}

impl Default for Ambiguities {
    /// The most hostile reading of everything.
    fn default() -> Self {
        Ambiguities { chosen: vec![0; SWITCHES.len()] }
    }
}

fn switch_index(name: &str) -> Result<usize, String> {
    SWITCHES.iter().position(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = SWITCHES.iter().map(|s| s.name).collect();
        format!("unknown ambiguity {name:?}; known: {}", names.join(", "))
    })
}

impl Ambiguities {
    /// Sets `name` to `reading`.
    pub fn set(&mut self, name: &str, reading: &str) -> Result<(), String> {
        let i = switch_index(name)?;
        let sw = &SWITCHES[i];
        let r = sw.readings.iter().position(|r| *r == reading).ok_or_else(|| {
            format!("ambiguity {name} has no reading {reading:?}; readings: {}", sw.readings.join(", "))
        })?;
        self.chosen[i] = r;
        Ok(())
    }

    /// Builder form of [`Self::set`] for tests; panics on an unknown name or reading.
    pub fn with(mut self, name: &str, reading: &str) -> Self {
        if let Err(e) = self.set(name, reading) {
            panic!("{e}");
        }
        self
    }

    /// Parses `NAME=READING` (the command-line form).
    pub fn set_pair(&mut self, pair: &str) -> Result<(), String> {
        let (name, reading) = pair
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=READING, got {pair:?} (see --list-ambiguities)"))?;
        self.set(name.trim(), reading.trim())
    }

    /// The current reading of `name` (one of its readings; unknown names panic, they are constants).
    pub fn reading(&self, name: &str) -> &'static str {
        let i = switch_index(name).unwrap_or_else(|e| panic!("{e}"));
        SWITCHES[i].readings[self.chosen[i]]
    }

    pub fn is(&self, name: &str, reading: &str) -> bool {
        self.reading(name) == reading
    }

    /// Every switch with its readings, default, current reading and source.
    pub fn to_json(&self) -> Value {
        Value::Array(
            SWITCHES
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    json!({
                        "name": s.name,
                        "readings": s.readings,
                        "default": s.readings[0],
                        "current": s.readings[self.chosen[i]],
                        "meanings": s.meanings,
                        "source": s.source,
                    })
                })
                .collect(),
        )
    }
}

/// All combinations of the readings of `names` (for tests that run a path under every reading).
pub fn every_reading_of(names: &[&str]) -> Vec<Ambiguities> {
    let mut out = vec![Ambiguities::default()];
    for name in names {
        let i = switch_index(name).unwrap_or_else(|e| panic!("{e}"));
        out = out
            .into_iter()
            .flat_map(|a| {
                (0..SWITCHES[i].readings.len()).map(move |r| {
                    let mut b = a.clone();
                    b.chosen[i] = r;
                    b
                })
            })
            .collect();
    }
    out
}

/// The text of `infertop sim --list-ambiguities`.
pub fn listing() -> String {
    let mut out = String::new();
    for s in SWITCHES {
        out.push_str(&format!("{}  (default: {})\n", s.name, s.readings[0]));
        for (r, m) in s.readings.iter().zip(s.meanings) {
            out.push_str(&format!("    {r:<11} {m}\n"));
        }
        out.push_str(&format!("    source: {}\n", s.source));
    }
    out
}

/// A short label of the non-default readings, for test messages.
impl std::fmt::Display for Ambiguities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = SWITCHES
            .iter()
            .zip(&self.chosen)
            .map(|(s, r)| format!("{}={}", s.name, s.readings[*r]))
            .collect();
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_first_readings_and_pairs_parse() {
        let mut a = Ambiguities::default();
        assert!(a.is(RUNAI_TOKEN, "v1-only"));
        a.set_pair("runai-token=both").unwrap();
        assert!(a.is(RUNAI_TOKEN, "both"));
        assert!(a.set_pair("runai-token=v3").unwrap_err().contains("v1-only, v2-only, both"));
        assert!(a.set_pair("nope=x").unwrap_err().contains("unknown ambiguity"));
        assert!(a.set_pair("runai-token").unwrap_err().contains("NAME=READING"));
    }

    #[test]
    fn every_reading_covers_the_product() {
        let all = every_reading_of(&[RUNAI_TOKEN, SESTERCE_NULL]);
        assert_eq!(all.len(), 8);
        let labels: std::collections::BTreeSet<String> = all.iter().map(|a| a.to_string()).collect();
        assert_eq!(labels.len(), 8);
    }

    #[test]
    fn every_switch_has_a_meaning_per_reading() {
        for s in SWITCHES {
            assert_eq!(s.readings.len(), s.meanings.len(), "{}", s.name);
            assert!(s.readings.len() >= 2, "{}", s.name);
        }
    }
}
