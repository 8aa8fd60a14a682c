//! The integration tests of `trustspace-mpc`, one test binary: queries against SQLite
//! ([`sql`]), networked sessions over TLS ([`service`]), property tests of the codecs
//! ([`codecs`]) and of the share arithmetic and accumulators ([`arith`]), and regressions of
//! the fuzz targets' findings ([`findings`]).

mod arith;
mod codecs;
mod common;
mod findings;
mod service;
mod sql;
