//! Properties of the source itself.

use crate::util::{python, root};

#[test]
fn no_import_cycle_among_the_modules_of_src() {
    let said = python("import_cycles.py", &[root().join("src").to_str().unwrap()]);
    assert!(said.starts_with("ok:"), "{said}");
}
