//! A private temporary directory for one test, removed when dropped.

#![allow(dead_code)]

use std::path::PathBuf;

pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh directory for one call of a helper that many tests share (a tag from a process-wide counter).
    pub fn unique(prefix: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        TempDir::new(prefix, &NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string())
    }

    /// `$TMPDIR/infertop-{prefix}-{pid}-{tag}`, empty.
    pub fn new(prefix: &str, tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("infertop-{prefix}-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
