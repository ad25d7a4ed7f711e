//! Spec model, validation and rendering for Tencent IM REST endpoints.
//!
//! [`load_dir`] reads, checks and resolves a directory of YAML specs (see
//! `specs/README.md`) into the typed [`model`]; [`render_with`] turns it into a
//! tree of modules, and [`output`] gives the two front ends their form:
//! formatted files (`cargo xtask codegen`) or one token stream
//! (`tim_codegen_macros::generate!`).

#![warn(missing_docs)]
pub mod error;
mod load;
pub mod model;
pub mod names;
pub mod openapi;
pub mod output;
mod render;
pub mod scaffold;
#[cfg(feature = "schema")]
pub mod schema;
pub mod synthetic;

pub use error::{SpecError, SpecErrors};
pub use load::load_dir;
pub use model::{Endpoint, SpecSet};
pub use render::{render, render_regions, render_with, Module, RenderOptions, Rendered};
