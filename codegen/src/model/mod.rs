//! The spec model, in two layers.
//!
//! [`spec`] mirrors the YAML files one to one: it is what `serde_yaml` parses.
//! The rest of this module is the resolved model the loader builds from it
//! once every check has passed: field types are [`Type`] values with their
//! constraints attached, shared types sit in one table and are referred to by
//! name, error roles, rate limits and group types are enums, samples are JSON.
//! The renderer, the fixture seeding and the property strategies read only
//! this resolved model, so a type string is interpreted in one place: the
//! loader.

mod callback;
mod endpoint;
mod errors;
pub mod spec;
mod ty;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use callback::{Callback, CallbackKind, CallbackSample, Decision, Effect};
pub use endpoint::{
    Batch, BatchResults, Endpoint, ExtraRateLimit, GroupType, GroupTypeRow, Limit, Pagination, Per,
    RateLimit, Sample,
};
pub use errors::{ErrorCode, ErrorRole, ErrorTable};
pub use ty::{
    Bounds, EnumType, EnumValue, EnumValues, Field, IntKind, ObjectType, SharedType, Type, UnionType,
    UnionVariant,
};

/// A loaded and validated set of specs.
#[derive(Debug, Clone)]
pub struct SpecSet {
    /// Endpoints, sorted by path.
    pub endpoints: Vec<Endpoint>,
    /// Callbacks (`callbacks/<Area>/<Name>.yaml`), sorted by command.
    pub callbacks: Vec<Callback>,
    /// Shared error tables by name (`shared/errors.yaml`).
    pub error_tables: BTreeMap<String, ErrorTable>,
    /// Shared types by name (`shared/types*.yaml`).
    pub types: BTreeMap<String, SharedType>,
    /// Regions (`shared/regions.yaml`), empty when the file is absent.
    pub regions: Vec<Region>,
    /// Every file read, for build-script style change tracking.
    pub files: Vec<PathBuf>,
}

impl SpecSet {
    /// Follows shared-type references until a type that is not one; `None`
    /// for a name the set does not define (the loader never produces one).
    pub fn resolve<'a>(&'a self, ty: &'a Type) -> Option<&'a Type> {
        let mut ty = ty;
        // A chain longer than the table would be a cycle of aliases.
        for _ in 0..=self.types.len() {
            match ty {
                Type::Shared(name) => ty = &self.types.get(name)?.ty,
                other => return Some(other),
            }
        }
        None
    }
}

/// One data-center region (`shared/regions.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Rust variant name.
    pub name: String,
    /// Kebab-case id used on the command line and in `TIM_REGION`.
    pub id: String,
    /// REST API host.
    pub host: String,
}
