//! Stamps the module with the git commit it was built from, so the line
//! Envoy logs at VM start (`distill-guard 0.1.0 (abc1234)`) says exactly
//! what is running. Without git (a source tarball) the hash is "unknown".
use std::process::Command;

fn main() {
    let hash = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=DISTILL_GUARD_GIT={hash}");
    // Re-run only when HEAD moves, not on every source change.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
