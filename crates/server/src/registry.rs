//! The flows being served, reloaded when their files change.
//!
//! Saving a flow file takes effect for new calls within a second, without a restart; calls in
//! progress finish on the version they started with (each version stays loaded while it may be
//! in use, up to [`VERSIONS_KEPT`] per flow); an edit that fails validation is rejected with its
//! diagnostics and the previous version keeps serving.

use hotline_flow::{Diagnostic, Flow, Sources, load_flow, render_diagnostics};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// Old versions kept per flow for calls still running on them.
pub const VERSIONS_KEPT: usize = 16;

/// What a (re)load did, for the log and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadReport {
    /// A flow was loaded or replaced.
    Loaded {
        /// Flow id.
        id: String,
        /// Its version hash.
        version: String,
        /// The file.
        path: PathBuf,
        /// Rendered warnings, if any.
        warnings: String,
    },
    /// A file failed validation; the previous version (if any) keeps serving.
    Rejected {
        /// The file.
        path: PathBuf,
        /// Rendered diagnostics.
        diagnostics: String,
    },
}

#[derive(Debug, Default)]
struct Inner {
    current: HashMap<String, Arc<Flow>>,
    versions: HashMap<String, VecDeque<Arc<Flow>>>,
    files: Vec<Watched>,
}

#[derive(Debug, Clone)]
struct Watched {
    path: PathBuf,
    stamp: Option<(SystemTime, u64)>,
    id: Option<String>,
}

/// A check beyond the flow language's own, run on every flow (with the file it came from) at
/// load and at each reload (the server's: its intent engines know the intents the flow's
/// routes name). Errors reject the flow like an invalid file.
pub type FlowCheck = Arc<dyn Fn(&Flow, &Path) -> Vec<Diagnostic> + Send + Sync>;

/// The served flows. Cheap to share (`Arc`); reads take a short read lock.
#[derive(Default)]
pub struct FlowRegistry {
    inner: RwLock<Inner>,
    check: Option<FlowCheck>,
}

impl std::fmt::Debug for FlowRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowRegistry")
            .field("inner", &self.inner)
            .field("check", &self.check.is_some())
            .finish()
    }
}

/// Loads a flow file and runs the server's check on it.
fn load_checked(path: &Path, check: Option<&FlowCheck>) -> Result<hotline_flow::Loaded, String> {
    let loaded = load_flow(path).map_err(|diags| render(&diags))?;
    if let Some(check) = check {
        let diags = check(&loaded.flow, path);
        if !diags.is_empty() {
            return Err(render(&diags));
        }
    }
    Ok(loaded)
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn render(diags: &[Diagnostic]) -> String {
    render_diagnostics(diags, &Sources::read_for(diags))
}

impl FlowRegistry {
    /// Loads every flow file; fails with all diagnostics if any is invalid (a server must not
    /// start with a broken flow) or if two files declare the same flow id.
    pub fn load(paths: &[PathBuf]) -> Result<(FlowRegistry, Vec<LoadReport>), String> {
        FlowRegistry::load_with(paths, None)
    }

    /// [`FlowRegistry::load`] with a server check run on every flow, now and at each reload.
    pub fn load_with(
        paths: &[PathBuf],
        check: Option<FlowCheck>,
    ) -> Result<(FlowRegistry, Vec<LoadReport>), String> {
        let registry = FlowRegistry {
            inner: RwLock::default(),
            check,
        };
        let mut errors = String::new();
        let mut reports = Vec::new();
        for path in paths {
            match load_checked(path, registry.check.as_ref()) {
                Ok(loaded) => {
                    let id = loaded.flow.id.clone();
                    let mut inner = registry.write();
                    if let Some(other) = inner
                        .files
                        .iter()
                        .find(|w| w.id.as_deref() == Some(id.as_str()))
                    {
                        errors.push_str(&format!(
                            "error: flow id `{id}` is declared by both {} and {}\n",
                            other.path.display(),
                            path.display()
                        ));
                        continue;
                    }
                    inner.files.push(Watched {
                        path: path.clone(),
                        stamp: stamp(path),
                        id: Some(id.clone()),
                    });
                    reports.push(LoadReport::Loaded {
                        id: id.clone(),
                        version: loaded.flow.version_hash.clone(),
                        path: path.clone(),
                        warnings: if loaded.warnings.is_empty() {
                            String::new()
                        } else {
                            render(&loaded.warnings)
                        },
                    });
                    insert(&mut inner, Arc::new(loaded.flow));
                }
                Err(rendered) => errors.push_str(&rendered),
            }
        }
        if errors.is_empty() {
            Ok((registry, reports))
        } else {
            Err(errors)
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The current version of a flow.
    pub fn current(&self, id: &str) -> Option<Arc<Flow>> {
        self.read().current.get(id).cloned()
    }

    /// A specific version of a flow, if still loaded.
    pub fn version(&self, id: &str, version: &str) -> Option<Arc<Flow>> {
        let inner = self.read();
        inner
            .versions
            .get(id)
            .and_then(|vs| vs.iter().find(|f| f.version_hash == version).cloned())
    }

    /// The ids of the flows served, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.read().current.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Reloads the files that changed since the last look.
    pub fn reload_changed(&self) -> Vec<LoadReport> {
        let files = self.read().files.clone();
        let mut reports = Vec::new();
        for (i, w) in files.iter().enumerate() {
            let now = stamp(&w.path);
            if now == w.stamp || now.is_none() {
                continue;
            }
            match load_checked(&w.path, self.check.as_ref()) {
                Ok(loaded) => {
                    let mut inner = self.write();
                    if let Some(file) = inner.files.get_mut(i) {
                        file.stamp = now;
                    }
                    let clash = inner.files.iter().enumerate().any(|(j, other)| {
                        j != i && other.id.as_deref() == Some(loaded.flow.id.as_str())
                    });
                    if clash {
                        reports.push(LoadReport::Rejected {
                            path: w.path.clone(),
                            diagnostics: format!(
                                "error: flow id `{}` is already served from another file",
                                loaded.flow.id
                            ),
                        });
                        continue;
                    }
                    let unchanged = inner
                        .current
                        .get(&loaded.flow.id)
                        .is_some_and(|f| f.version_hash == loaded.flow.version_hash);
                    if unchanged {
                        continue;
                    }
                    if let Some(file) = inner.files.get_mut(i) {
                        file.id = Some(loaded.flow.id.clone());
                    }
                    reports.push(LoadReport::Loaded {
                        id: loaded.flow.id.clone(),
                        version: loaded.flow.version_hash.clone(),
                        path: w.path.clone(),
                        warnings: if loaded.warnings.is_empty() {
                            String::new()
                        } else {
                            render(&loaded.warnings)
                        },
                    });
                    insert(&mut inner, Arc::new(loaded.flow));
                }
                Err(rendered) => {
                    if let Some(file) = self.write().files.get_mut(i) {
                        file.stamp = now;
                    }
                    reports.push(LoadReport::Rejected {
                        path: w.path.clone(),
                        diagnostics: rendered,
                    });
                }
            }
        }
        reports
    }
}

fn insert(inner: &mut Inner, flow: Arc<Flow>) {
    let versions = inner.versions.entry(flow.id.clone()).or_default();
    versions.retain(|f| f.version_hash != flow.version_hash);
    versions.push_back(flow.clone());
    while versions.len() > VERSIONS_KEPT {
        versions.pop_front();
    }
    inner.current.insert(flow.id.clone(), flow);
}

/// Expands folders into the `.yaml`/`.yml` files they contain (sorted), keeps files as given.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("cannot read folder {}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file()
                        && f.extension()
                            .and_then(|x| x.to_str())
                            .is_some_and(|x| x == "yaml" || x == "yml")
                })
                .collect();
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("no such flow file or folder: {}", p.display()));
        }
    }
    if out.is_empty() {
        return Err("no flow files given (pass .yaml files or folders of them)".to_owned());
    }
    Ok(out)
}
