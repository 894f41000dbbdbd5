//! Shared bits of the examples (see `vendors_tour.rs` and `quickstart.rs` beside this file).

/// Print a section heading.
pub fn heading(title: &str) {
    println!("\n== {title}");
}

/// Print one step of a tour.
pub fn say(what: impl std::fmt::Display) {
    println!("  - {what}");
}
