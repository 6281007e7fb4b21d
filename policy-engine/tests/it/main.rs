//! Integration tests of the policy crate, one binary: the demo policy, the golden error
//! messages, the tools, and the property test against a reference interpreter.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod demo;
mod golden;
mod reference;
mod support;
mod tools;
