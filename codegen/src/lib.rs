//! Spec model, validation and rendering for Tencent IM REST endpoints.
//!
//! `load_dir` reads and validates a directory of YAML specs (see
//! `specs/README.md`), [`render()`] turns it into tokens, and [`output`] gives the
//! two front ends their form: formatted files (`cargo xtask codegen`) or one
//! token stream (`tim_codegen_macros::generate!`).

pub mod error;
mod load;
mod locate;
pub mod model;
pub mod names;
pub mod output;
mod render;
pub mod synthetic;
mod validate;

pub use error::{SpecError, SpecErrors};
pub use load::{load_dir, Endpoint, SpecSet};
pub use render::{render, render_regions, render_with, RenderOptions, Rendered};
