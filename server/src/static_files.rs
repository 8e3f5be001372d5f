//! Serving a directory (the demo shop, the built package) without ever leaving it.
//!
//! tower-http's `ServeDir` refuses `..` but follows symlinks, so a link inside `--www` could hand
//! out any file the process can read. Every request is resolved here first — symlinks included —
//! and must land inside the directory's own canonical path; otherwise 404.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::Router;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::ServeDir;

/// A router serving `root`'s files, refusing any path that resolves outside `root`.
pub fn confined(root: &Path) -> Router {
    let canonical = Arc::new(root.canonicalize().unwrap_or_else(|_| root.to_path_buf()));
    Router::new()
        .fallback_service(ServeDir::new(root))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let canonical = canonical.clone();
                async move {
                    if stays_inside(&canonical, req.uri().path()) {
                        next.run(req).await
                    } else {
                        tracing::warn!(
                            "static file {:?} resolves outside the served directory",
                            req.uri().path()
                        );
                        (StatusCode::NOT_FOUND, Body::empty()).into_response()
                    }
                }
            },
        ))
}

/// Whether the file (or directory index) `url_path` names resolves inside `root` (canonical).
fn stays_inside(root: &Path, url_path: &str) -> bool {
    let decoded = percent_decode(url_path);
    let mut path: PathBuf = root.to_path_buf();
    for part in decoded.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." || part.contains('\\') {
            return false;
        }
        path.push(part);
    }
    let inside = |p: &Path| match p.canonicalize() {
        Ok(real) => real.starts_with(root),
        // Nothing there: ServeDir answers 404 itself.
        Err(_) => true,
    };
    inside(&path) && (!path.is_dir() || inside(&path.join("index.html")))
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn symlinks_out_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "s").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("index.html"), "i").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            root.path().join("leak.txt"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("dir")).unwrap();
        std::os::unix::fs::symlink(
            root.path().join("index.html"),
            root.path().join("alias.html"),
        )
        .unwrap();
        let r = root.path().canonicalize().unwrap();
        assert!(super::stays_inside(&r, "/index.html"));
        assert!(
            super::stays_inside(&r, "/alias.html"),
            "a link inside is fine"
        );
        assert!(super::stays_inside(&r, "/missing.js"));
        assert!(!super::stays_inside(&r, "/leak.txt"));
        assert!(!super::stays_inside(&r, "/%6Ceak.txt"));
        assert!(!super::stays_inside(&r, "/dir/secret.txt"));
        assert!(!super::stays_inside(&r, "/a/../../etc/passwd"));
    }
}
