//! One callback file: command, kind, payload and reply fields, decisions, samples.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::Value;

use super::check::Checker;
use crate::model::spec::{CallbackSampleSpec, CallbackSpec};
use crate::model::{Callback, CallbackKind, CallbackSample, Decision, Effect};
use crate::names::{is_camel_ident, snake};

/// A callback spec as parsed, with where it came from.
pub(super) struct RawCallback {
    /// File as displayed in errors.
    pub file: PathBuf,
    /// Directory name: the area (`C2C`).
    pub area: String,
    /// File stem: the name (`CallbackBeforeSendMsg`).
    pub name: String,
    /// The file's text, to find positions in.
    pub text: String,
    /// The parsed spec.
    pub spec: CallbackSpec,
}

/// Names the generated callback module defines itself.
const CALLBACK_RESERVED: &[&str] = &["Payload", "Reply", "META", "DECISIONS"];

impl Checker<'_> {
    /// Checks and resolves one callback.
    pub(super) fn callback(&mut self, raw: &RawCallback) -> Callback {
        let s = &raw.spec;
        let expected = format!("{}.{}", raw.area, raw.name);
        if s.command != expected {
            let pos = self.loc.key("command");
            self.err(
                pos,
                "command".to_owned(),
                format!("`{}` must live in `callbacks/{}.yaml`", s.command, s.command.replacen('.', "/", 1)),
            );
        }
        if !is_camel_ident(&raw.area) || !is_camel_ident(&raw.name) {
            let pos = self.loc.key("command");
            self.err(pos, "command".to_owned(), "area and name must be UpperCamelCase identifiers".into());
        }
        for (key, value) in [("title", &s.title), ("description", &s.description), ("source", &s.source)] {
            if value.trim().is_empty() {
                let pos = self.loc.key(key);
                self.err(pos, key.to_owned(), "must not be empty".into());
            }
        }
        let kind = match s.kind.as_str() {
            "before" => CallbackKind::Before,
            "after" => CallbackKind::After,
            other => {
                let pos = self.loc.key("kind");
                self.err(pos, "kind".to_owned(), format!("`{other}` is neither `before` nor `after`"));
                CallbackKind::After
            }
        };
        for name in CALLBACK_RESERVED {
            self.type_names.insert((*name).to_owned());
        }
        let payload = self.fields(&s.payload, "payload");
        if payload.iter().any(|f| f.wire == "CallbackCommand") {
            let pos = self.loc.first("name", "CallbackCommand");
            self.err(pos, "payload.CallbackCommand".to_owned(), "the command is not a payload field".into());
        }
        let reply = self.fields(&s.reply, "reply");
        if kind == CallbackKind::After && (!s.reply.is_empty() || !s.decisions.is_empty()) {
            let pos = self.loc.key("kind");
            self.err(
                pos,
                "kind".to_owned(),
                "an after-callback's reply is only acknowledged: drop `reply` and `decisions`".into(),
            );
        }
        for f in &reply {
            if matches!(f.wire.as_str(), "ActionStatus" | "ErrorCode" | "ErrorInfo") {
                let pos = self.loc.first("name", &f.wire);
                self.err(pos, format!("reply.{}", f.wire), "the envelope is not listed in `reply`".into());
            }
        }
        let reply_names: HashSet<&str> = reply.iter().map(|f| f.wire.as_str()).collect();
        let decisions = self.decisions(s, &reply_names);
        if kind == CallbackKind::Before && !decisions.iter().any(|d| d.effect == Effect::Allow) {
            let pos = self.loc.key("kind");
            self.err(
                pos,
                "decisions".to_owned(),
                "a before-callback needs a decision with `effect: allow`".into(),
            );
        }
        let top_level: HashSet<&str> = payload.iter().map(|f| f.wire.as_str()).collect();
        let samples = s
            .samples
            .iter()
            .enumerate()
            .filter_map(|(i, sample)| self.callback_sample(i, sample, &s.command, &top_level))
            .collect();
        if s.samples.is_empty() {
            let pos = self.loc.key("command");
            self.err(pos, "samples".to_owned(), "at least one sample body is needed".into());
        }
        Callback {
            file: raw.file.clone(),
            area: raw.area.clone(),
            name: raw.name.clone(),
            command: s.command.clone(),
            title: s.title.clone(),
            description: s.description.clone(),
            kind,
            source: s.source.clone(),
            note: s.note.clone(),
            partial: s.partial.clone(),
            limits: s
                .limits
                .iter()
                .map(|l| crate::model::Limit {
                    name: l.name.clone(),
                    max: l.max,
                    code: None,
                    doc: l.doc.clone(),
                })
                .collect(),
            payload,
            reply,
            decisions,
            samples,
        }
    }

    fn decisions(&mut self, s: &CallbackSpec, reply_names: &HashSet<&str>) -> Vec<Decision> {
        let mut names = HashSet::new();
        let mut out = Vec::new();
        for d in &s.decisions {
            let pos = self.loc.next("name", &d.name);
            let path = format!("decisions.{}", d.name);
            if snake(&d.name) != d.name || !names.insert(d.name.clone()) {
                self.err(pos, path.clone(), "decision names are unique snake_case identifiers".into());
            }
            if matches!(d.name.as_str(), "new" | "into" | "from") {
                self.err(pos, path.clone(), "this name is taken by a generated method".into());
            }
            let effect = match d.effect.as_str() {
                "allow" => Effect::Allow,
                "deny" => Effect::Deny,
                "drop" => Effect::Drop,
                other => {
                    self.err(pos, path.clone(), format!("effect `{other}` is not `allow`, `deny` or `drop`"));
                    Effect::Allow
                }
            };
            let (codes, ranged) = match (d.code, d.codes) {
                (Some(c), None) => ((c, c), false),
                (None, Some([lo, hi])) if lo <= hi => ((lo, hi), true),
                (None, Some(_)) => {
                    self.err(pos, path.clone(), "`codes` must be [min, max] with min <= max".into());
                    ((0, 0), true)
                }
                _ => {
                    self.err(pos, path.clone(), "give exactly one of `code` and `codes`".into());
                    ((0, 0), false)
                }
            };
            if ranged && !d.fields.is_empty() {
                self.err(pos, path.clone(), "a decision with `codes` cannot also take `fields`".into());
            }
            if d.caller_error.is_some() && effect != Effect::Deny {
                self.err(pos, path.clone(), "`caller_error` is for `effect: deny` only".into());
            }
            for f in d.fields.iter().filter(|f| !reply_names.contains(f.as_str())) {
                self.err(pos, path.clone(), format!("`{f}` is not a `reply` field"));
            }
            out.push(Decision {
                name: d.name.clone(),
                doc: d.doc.clone(),
                effect,
                codes,
                ranged,
                caller_error: d.caller_error,
                fields: d.fields.clone(),
            });
        }
        out
    }

    fn callback_sample(
        &mut self,
        i: usize,
        sample: &CallbackSampleSpec,
        command: &str,
        fields: &HashSet<&str>,
    ) -> Option<CallbackSample> {
        let pos = self.loc.next("name", &sample.name);
        let path = format!("samples[{i}]");
        let json = |v: &serde_yaml::Value| serde_json::to_value(v).map_err(|e| e.to_string());
        let (payload, reply) = match (json(&sample.payload), sample.reply.as_ref().map(json).transpose()) {
            (Ok(p), Ok(r)) => (p, r),
            (Err(e), _) | (_, Err(e)) => {
                self.err(pos, path, format!("not expressible as JSON: {e}"));
                return None;
            }
        };
        let Value::Object(map) = &payload else {
            self.err(pos, format!("{path}.payload"), "must be a JSON object".into());
            return None;
        };
        if reply.as_ref().is_some_and(|r| !r.is_object()) {
            self.err(pos, format!("{path}.reply"), "must be a JSON object".into());
        }
        match map.get("CallbackCommand") {
            Some(Value::String(c)) if c == command => {}
            _ => self.err(pos, format!("{path}.payload"), format!("`CallbackCommand` must be `{command}`")),
        }
        for key in map.keys().filter(|k| *k != "CallbackCommand" && !fields.contains(k.as_str())) {
            self.err(pos, format!("{path}.payload.{key}"), "not a `payload` field of this spec".into());
        }
        // Serialized from the YAML value, not from `payload`, which sorts keys.
        let payload_json = serde_json::to_string(&sample.payload).unwrap_or_default();
        let payload_json_pretty = serde_json::to_string_pretty(&sample.payload).unwrap_or_default();
        Some(CallbackSample { name: sample.name.clone(), payload, payload_json, payload_json_pretty, reply })
    }
}
