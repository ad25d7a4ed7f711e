//! The state file: what `tim mock --state` keeps across runs, `--seed`
//! starts from, and the control API's `GET`/`PUT /__tim/state` exchange.
//!
//! A state file is a JSON object naming its format and version around the
//! [`World`]:
//!
//! ```json
//! {"format": "tim-emulator-state", "version": 1, "world": {"accounts": {...}, ...}}
//! ```
//!
//! Reading is strict: anything that is not a state file of this format (an
//! empty object, an array, another program's JSON, a misspelt key at any
//! depth, a newer version) is refused with the reason and, for a key, its
//! path. Writing is atomic and durable: a temporary file in the same
//! directory, written and synced, then renamed over the target, then the
//! directory synced; a failed write removes its temporary file and leaves
//! the target as it was. A symbolic link is followed (its target is
//! replaced, the link stays); a dangling one is an error, never replaced.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::World;

/// The `format` every state file names.
pub const FORMAT: &str = "tim-emulator-state";

/// The version this build writes; it reads this one and older.
pub const VERSION: u64 = 1;

/// A state document that is not one this build can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidState {
    /// What is wrong, naming the key's path where one is at fault.
    pub reason: String,
}

impl fmt::Display for InvalidState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for InvalidState {}

/// A state or seed file that cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFileError {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for StateFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "state file {}: {}", self.path, self.reason)
    }
}

impl std::error::Error for StateFileError {}

#[derive(Serialize)]
struct Out<'a> {
    format: &'static str,
    version: u64,
    world: &'a World,
}

/// The first look: which format and version the document claims (any
/// JSON, so that another program's file is named as such).
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct In {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    version: u64,
    world: World,
}

/// The state document of `world`.
pub fn to_vec(world: &World) -> Vec<u8> {
    // A World is maps of strings and plain values: serializing cannot fail.
    serde_json::to_vec_pretty(&Out { format: FORMAT, version: VERSION, world }).unwrap_or_default()
}

/// Reads a state document.
pub fn from_slice(bytes: &[u8]) -> Result<World, InvalidState> {
    let invalid = |reason: String| InvalidState { reason };
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return Err(invalid("empty; a state file is a JSON object".into())),
        Some(b'{') => {}
        Some(b'[') => return Err(invalid("a JSON array, not a state file (a JSON object)".into())),
        Some(_) => return Err(invalid("not a JSON object, so not a state file".into())),
    }
    let header: Header =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
    match header.format.as_ref().map(|f| f.as_str()) {
        Some(Some(FORMAT)) => {}
        Some(_) => {
            let other = header.format.map(|f| f.to_string()).unwrap_or_default();
            return Err(invalid(format!("its \"format\" is {}, not {FORMAT:?}", quote(&other))));
        }
        None => {
            return Err(invalid(format!(
                "no \"format\" key: not a {FORMAT} file (it starts {{\"format\": \"{FORMAT}\", \"version\": {VERSION}, ...}})"
            )));
        }
    }
    match header.version.as_ref().map(|v| v.as_u64()) {
        Some(Some(v)) if v > VERSION => {
            return Err(invalid(format!(
                "format version {v} was written by a newer tim; this one reads up to version {VERSION}"
            )));
        }
        Some(Some(0)) | Some(None) => {
            return Err(invalid("its \"version\" is not a positive integer".into()))
        }
        None => return Err(invalid("no \"version\" key (a positive integer)".into())),
        Some(Some(_)) => {}
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: In = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        invalid(format!("at {path}: {}", e.into_inner()))
    })?;
    de.end().map_err(|e| invalid(format!("after the document: {e}")))?;
    Ok(parsed.world)
}

/// At most 60 characters of a value from the file.
fn quote(text: &str) -> String {
    match text.char_indices().nth(60) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}...", &text[..cut]),
    }
}

/// What is at a path the state is to be read from and written to.
fn existing(path: &Path) -> Result<Option<PathBuf>, String> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
        Ok(m) if m.file_type().is_symlink() => match fs::canonicalize(path) {
            Ok(target) => Ok(Some(target)),
            Err(_) => {
                let to = fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
                Err(format!("a symbolic link to {to}, which does not exist (it is left as it is)"))
            }
        },
        Ok(m) if m.is_dir() => Err("a directory, not a file".into()),
        Ok(_) => Ok(Some(path.to_owned())),
    }
}

/// Reads the state file at `path`, or `None` when nothing is there.
pub fn load_if_exists(path: &Path) -> Result<Option<World>, StateFileError> {
    let err = |reason: String| StateFileError { path: path.display().to_string(), reason };
    let Some(file) = existing(path).map_err(err)? else { return Ok(None) };
    let bytes = fs::read(&file).map_err(|e| err(e.to_string()))?;
    from_slice(&bytes).map(Some).map_err(|e| err(e.reason))
}

/// Reads the state file at `path`; a missing one is an error.
pub fn load(path: &Path) -> Result<World, StateFileError> {
    load_if_exists(path)?
        .ok_or_else(|| StateFileError { path: path.display().to_string(), reason: "no such file".into() })
}

/// Writes `world` to `path` atomically and durably (see the module docs).
pub fn save(world: &World, path: &Path) -> Result<(), StateFileError> {
    write_bytes(&to_vec(world), path)
}

/// Writes a state document to `path` atomically and durably.
pub fn write_bytes(bytes: &[u8], path: &Path) -> Result<(), StateFileError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let err = |reason: String| StateFileError { path: path.display().to_string(), reason };
    let target = existing(path).map_err(err)?.unwrap_or_else(|| path.to_owned());
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let written = (|| {
        let mut f = File::options().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &target)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(err(e.to_string()));
    }
    // The rename is durable once the directory is; not every platform
    // lets a directory be opened for that, and the data is safe either way.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(world: &str) -> String {
        format!(r#"{{"format":"{FORMAT}","version":{VERSION},"world":{world}}}"#)
    }

    #[test]
    fn round_trips() {
        let mut w = World::new("admin");
        w.accounts.ensure("alice");
        let back = from_slice(&to_vec(&w)).unwrap();
        assert_eq!(to_vec(&back), to_vec(&w));
    }

    #[test]
    fn refuses_what_is_not_a_state_file() {
        for (bytes, says) in [
            ("", "empty"),
            ("{}", "no \"format\""),
            ("[]", "array"),
            ("42", "not a JSON object"),
            (r#"{"name":"my-app","dependencies":{}}"#, "no \"format\""),
            (r#"{"format":"other","version":1,"world":{}}"#, "\"other\""),
            (&format!(r#"{{"format":"{FORMAT}","version":99,"world":{{}}}}"#), "newer"),
            (&format!(r#"{{"format":"{FORMAT}","world":{{}}}}"#), "version"),
            (&doc(r#"{"acounts":{}}"#), "world.acounts"),
            (&doc(r#"{"accounts":{"accounts":{"a":{"kiked":2}}}}"#), "world.accounts.accounts.a.kiked"),
            (&format!(r#"{{"format":"{FORMAT}","version":1,"world":{{}},"extra":1}}"#), "extra"),
            (&format!("{} x", doc("{}")), "trailing characters"),
            ("{\"format\":", "not valid JSON"),
        ] {
            let e = from_slice(bytes.as_bytes()).expect_err(bytes);
            assert!(e.reason.contains(says), "{bytes}: {e}");
        }
    }

    #[test]
    fn an_empty_world_is_a_state() {
        let w = from_slice(doc("{}").as_bytes()).unwrap();
        assert!(w.accounts.ids().is_empty());
    }
}
