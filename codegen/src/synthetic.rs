//! Synthetic spec sets, for measuring how cost grows with the number of
//! endpoints (`cargo xtask bench`, the codegen bench).

use std::fs;
use std::path::{Path, PathBuf};

/// Writes a spec directory with `n` endpoints for benchmarks: `shared/`
/// copied from `specs`, and its endpoint specs replicated round-robin under
/// new services (`synth0`, `synth1`, ..., 100 endpoints each) and commands.
pub fn write_specs(specs: &Path, out: &Path, n: usize) -> std::io::Result<()> {
    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(out.join("shared"))?;
    for entry in fs::read_dir(specs.join("shared"))? {
        let entry = entry?;
        fs::copy(entry.path(), out.join("shared").join(entry.file_name()))?;
    }
    let mut sources: Vec<PathBuf> = Vec::new();
    for dir in fs::read_dir(specs)? {
        let dir = dir?.path();
        if dir.is_dir() && dir.file_name().is_some_and(|n| n != "shared") {
            for f in fs::read_dir(&dir)? {
                let f = f?.path();
                if f.extension().is_some_and(|e| e == "yaml") {
                    sources.push(f);
                }
            }
        }
    }
    sources.sort();
    for i in 0..n {
        let src = &sources[i % sources.len()];
        let command = format!("{}_{i}", src.file_stem().unwrap_or_default().to_string_lossy().to_lowercase());
        let service = format!("synth{}", i / 100);
        let text: Vec<String> =
            fs::read_to_string(src)?
                .lines()
                .map(|l| {
                    if l.starts_with("path:") {
                        format!("path: v4/{service}/{command}")
                    } else {
                        l.to_owned()
                    }
                })
                .collect();
        fs::create_dir_all(out.join(&service))?;
        fs::write(out.join(&service).join(format!("{command}.yaml")), text.join("\n") + "\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_set_loads() {
        let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        let out = std::env::temp_dir().join(format!("tim-synthetic-{}", std::process::id()));
        write_specs(&specs, &out, 150).unwrap();
        let set = crate::load_dir(&out, Path::new("synthetic")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.endpoints.len(), 150);
        assert!(set.endpoints.iter().any(|e| e.service == "synth1"));
        fs::remove_dir_all(&out).ok();
    }
}
