//! The `hotline` command.
fn main() {}
