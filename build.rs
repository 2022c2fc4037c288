//! Tells the tests whether Chromium is installed: the test that renders
//! the HTML report in it is then run, and reported as ignored otherwise.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(chromium)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=CHROMIUM");
    let named = std::env::var_os("CHROMIUM").map(std::path::PathBuf::from);
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("chromium")).collect::<Vec<_>>())
        .unwrap_or_default();
    if named.into_iter().chain(on_path).any(|c| c.is_file()) {
        println!("cargo::rustc-cfg=chromium");
    }
}
