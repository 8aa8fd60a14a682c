//! The integration tests of `trustspace-mpc`, one test binary: queries against SQLite
//! ([`sql`]) and networked sessions over TLS ([`service`]).

mod common;
mod service;
mod sql;
