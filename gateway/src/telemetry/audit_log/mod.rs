//! The tamper-evident audit log: every audit event as a chained JSON line in its own file, and
//! a copy of each line handed to syslog and journald ([`delivery`]), counted in [`counters`].
pub mod counters;
pub mod delivery;
