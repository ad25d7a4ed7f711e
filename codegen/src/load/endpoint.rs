//! One endpoint file: path, rate limit, group types, errors, fields, samples.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use super::check::Checker;
use crate::model::spec::{EndpointSpec, FieldSpec, LimitSpec, RateLimitSpec, SampleSpec};
use crate::model::{
    Endpoint, ErrorCode, ExtraRateLimit, GroupType, GroupTypeRow, Limit, Per, RateLimit, Sample,
};
use crate::names::split_path;

/// An endpoint spec as parsed, with where it came from.
pub(super) struct RawEndpoint {
    /// File as displayed in errors.
    pub file: PathBuf,
    /// Directory name: the service.
    pub service: String,
    /// File stem: the command.
    pub command: String,
    /// The file's text, to find positions in.
    pub text: String,
    /// The parsed spec.
    pub spec: EndpointSpec,
}

impl Checker<'_> {
    /// Checks and resolves one endpoint; `tables` are the shared error tables' names.
    pub(super) fn endpoint(&mut self, raw: &RawEndpoint, tables: &BTreeSet<String>) -> Endpoint {
        let s = &raw.spec;
        match split_path(&s.path) {
            None => {
                let pos = self.loc.key("path");
                self.err(
                    pos,
                    "path".to_owned(),
                    format!("`{}` is not of the form v4/<service>/<command>", s.path),
                );
            }
            Some((service, command)) if service != raw.service || command != raw.command => {
                let pos = self.loc.key("path");
                self.err(
                    pos,
                    "path".to_owned(),
                    format!("`{}` must live in `{service}/{command}.yaml`", s.path),
                );
            }
            Some(_) => {}
        }
        let rate_limit = parse_rate_limit(&s.rate_limit).unwrap_or_else(|| {
            let pos = self.loc.key("rate_limit");
            self.err(pos, "rate_limit".to_owned(), format!("`{}` is not N/s, N/min or N/day", s.rate_limit));
            RateLimit { calls: 1, per: Per::Second }
        });
        for (key, value) in [("title", &s.title), ("description", &s.description)] {
            if value.trim().is_empty() {
                let pos = self.loc.key(key);
                self.err(pos, key.to_owned(), "must not be empty".into());
            }
        }
        for name in s.group_types.keys() {
            if !GroupType::ALL.iter().any(|g| g.as_str() == name) {
                let pos = self.loc.key(name);
                let known: Vec<_> = GroupType::ALL.iter().map(|g| g.as_str()).collect();
                self.err(
                    pos,
                    format!("group_types.{name}"),
                    format!("unknown group type (known: {})", known.join(", ")),
                );
            }
        }
        let group_types = GroupType::ALL
            .into_iter()
            .filter_map(|group_type| {
                let row = s.group_types.get(group_type.as_str())?;
                Some(GroupTypeRow {
                    group_type,
                    supported: row.supported,
                    ignored: row.ignored,
                    note: row.note.clone(),
                })
            })
            .collect();
        for table in &s.shared_errors {
            if !tables.contains(table) {
                let pos = self.loc.key("shared_errors");
                self.err(
                    pos,
                    "shared_errors".to_owned(),
                    format!("unknown shared error table `{table}` (not in shared/errors.yaml)"),
                );
            }
        }
        let errors = self.error_codes(&s.errors, "errors");
        let mut wire_names = HashSet::new();
        collect_names(&s.request, self.raw_shared, &mut HashSet::new(), &mut wire_names);
        for e in &errors {
            for f in e.fields.iter().filter(|f| !wire_names.contains(f.as_str())) {
                let pos = self.loc.first("code", &e.code.to_string());
                self.err(pos, format!("errors.{}.fields", e.code), format!("`{f}` is not a request field"));
            }
        }
        let request = self.fields(&s.request, "request");
        let response = self.fields(&s.response, "response");
        let samples = s.samples.iter().enumerate().filter_map(|(i, sample)| self.sample(i, sample)).collect();
        if s.samples.is_empty() {
            let pos = self.loc.key("path");
            self.err(pos, "samples".to_owned(), "at least one documented sample is needed".into());
        }
        let limits = self.limits(&s.limits, &errors);
        let rate_limits = self.rate_limits(&s.rate_limits, &errors, &s.request);
        Endpoint {
            file: raw.file.clone(),
            service: raw.service.clone(),
            command: raw.command.clone(),
            path: s.path.clone(),
            title: s.title.clone(),
            description: s.description.clone(),
            rate_limit,
            idempotent: s.idempotent,
            deprecated: s.deprecated.clone(),
            note: s.note.clone(),
            partial: s.partial.clone(),
            edition: s.edition.clone(),
            group_types,
            shared_errors: s.shared_errors.clone(),
            errors,
            request,
            response,
            samples,
            limits,
            rate_limits,
            pagination: None,
            batch: None,
        }
    }

    /// The `rate_limits:` list: a valid rate, top-level request fields for
    /// `cost` (an array) and `per`, an error of the endpoint's table, at most
    /// one `main`.
    fn rate_limits(
        &mut self,
        specs: &[RateLimitSpec],
        errors: &[ErrorCode],
        request: &[FieldSpec],
    ) -> Vec<ExtraRateLimit> {
        let mut out = Vec::new();
        for (i, l) in specs.iter().enumerate() {
            let pos = self.loc.first("rate", &l.rate);
            let at = format!("rate_limits[{i}]");
            let rate = parse_rate_limit(&l.rate).unwrap_or_else(|| {
                self.err(
                    pos,
                    format!("{at}.rate"),
                    format!("`{}` is not a rate such as `200/s`, `10/min`", l.rate),
                );
                RateLimit { calls: 1, per: Per::Second }
            });
            let field = |name: &str| request.iter().find(|f| f.name.as_deref() == Some(name));
            if let Some(cost) = &l.cost {
                match field(cost) {
                    Some(f) if f.ty == "array" => {}
                    Some(_) => self.err(pos, format!("{at}.cost"), format!("`{cost}` is not an array field")),
                    None => self.err(
                        pos,
                        format!("{at}.cost"),
                        format!("`{cost}` is not a top-level request field"),
                    ),
                }
            }
            if let Some(per) = &l.per {
                if field(per).is_none() {
                    self.err(pos, format!("{at}.per"), format!("`{per}` is not a top-level request field"));
                }
            }
            let code = match &l.error {
                None => None,
                Some(name) => match errors.iter().find(|e| &e.name == name) {
                    Some(e) => Some(e.code),
                    None => {
                        self.err(
                            pos,
                            format!("{at}.error"),
                            format!("`{name}` is not an error of this endpoint"),
                        );
                        None
                    }
                },
            };
            out.push(ExtraRateLimit {
                rate,
                cost: l.cost.clone(),
                per: l.per.clone(),
                code,
                main: l.main,
                doc: l.doc.clone(),
            });
        }
        if out.iter().filter(|l| l.main).count() > 1 {
            let pos = self.loc.key("rate_limits");
            self.err(pos, "rate_limits".to_owned(), "at most one limit is `main`".into());
        }
        out
    }

    /// The `limits:` list: unique snake_case names, errors of the endpoint's table.
    fn limits(&mut self, specs: &[LimitSpec], errors: &[ErrorCode]) -> Vec<Limit> {
        let mut names = HashSet::new();
        let mut out = Vec::new();
        for l in specs {
            let pos = self.loc.first("name", &l.name);
            let at = format!("limits.{}", l.name);
            let snake = !l.name.is_empty()
                && l.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !snake {
                self.err(pos, at.clone(), "a limit's name is snake_case (a-z, 0-9, _)".into());
            }
            if !names.insert(l.name.clone()) {
                self.err(pos, at.clone(), "a limit of this name is listed twice".into());
            }
            let code = match &l.error {
                None => None,
                Some(name) => match errors.iter().find(|e| &e.name == name) {
                    Some(e) => Some(e.code),
                    None => {
                        let known: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
                        self.err(
                            pos,
                            format!("{at}.error"),
                            format!(
                                "`{name}` is not an error of this endpoint (known: {})",
                                known.join(", ")
                            ),
                        );
                        None
                    }
                },
            };
            out.push(Limit { name: l.name.clone(), max: l.max, code, doc: l.doc.clone() });
        }
        out
    }

    fn sample(&mut self, i: usize, sample: &SampleSpec) -> Option<Sample> {
        let problem = if !sample.request.is_mapping() || !sample.response.is_mapping() {
            Some("request and response must be JSON objects".to_owned())
        } else {
            None
        };
        let json = |v: &serde_yaml::Value| -> Result<_, String> {
            let value = serde_json::to_value(v).map_err(|e| e.to_string())?;
            // Serialized from the YAML value, not from `value`, which sorts keys.
            let compact = serde_json::to_string(v).map_err(|e| e.to_string())?;
            let pretty = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
            Ok((value, compact, pretty))
        };
        let converted = json(&sample.request).and_then(|r| Ok((r, json(&sample.response)?)));
        let problem =
            problem.or_else(|| converted.as_ref().err().map(|e| format!("not expressible as JSON: {e}")));
        if let Some(problem) = problem {
            let pos = self.loc.next("name", &sample.name);
            self.err(pos, format!("samples[{i}]"), problem);
            return None;
        }
        let ((request, request_json, request_json_pretty), (response, response_json, _)) = converted.ok()?;
        Some(Sample {
            name: sample.name.clone(),
            request,
            response,
            request_json,
            request_json_pretty,
            response_json,
        })
    }
}

/// The wire names of `fields` at any depth, through the shared types they
/// use (each visited once).
fn collect_names<'a>(
    fields: &'a [FieldSpec],
    shared: Option<&'a BTreeMap<String, FieldSpec>>,
    seen: &mut HashSet<&'a str>,
    out: &mut HashSet<&'a str>,
) {
    let follow = |f: &'a FieldSpec, seen: &mut HashSet<&'a str>, out: &mut HashSet<&'a str>| {
        collect_names(f.fields.as_deref().unwrap_or_default(), shared, seen, out);
        if let Some(def) = shared.and_then(|s| s.get(f.ty.as_str())) {
            if seen.insert(f.ty.as_str()) {
                collect_names(std::slice::from_ref(def), shared, seen, out);
            }
        }
    };
    for f in fields {
        if let Some(n) = &f.name {
            out.insert(n);
        }
        follow(f, seen, out);
        if let Some(items) = &f.items {
            follow(items, seen, out);
        }
    }
}

/// Parses `200/s`, `10/min`, `100/day`.
fn parse_rate_limit(s: &str) -> Option<RateLimit> {
    let (n, unit) = s.split_once('/')?;
    let calls: u32 = n.trim().parse().ok().filter(|n| *n > 0)?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => Per::Second,
        "min" | "minute" => Per::Minute,
        "day" => Per::Day,
        _ => return None,
    };
    Some(RateLimit { calls, per })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits() {
        assert_eq!(parse_rate_limit("200/s"), Some(RateLimit { calls: 200, per: Per::Second }));
        assert_eq!(parse_rate_limit("100/day"), Some(RateLimit { calls: 100, per: Per::Day }));
        assert_eq!(parse_rate_limit("0/s"), None);
        assert_eq!(parse_rate_limit("10/min").unwrap().to_string(), "10/min");
    }
}
