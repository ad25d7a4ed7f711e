//! The conformance suite of the Tencent IM client (not published): recorded
//! [`fixtures`] that the tests replay against the emulator's replay mode
//! (`tim_emulator::MockConfig::replay`), the [`load`] workload that the
//! load test and the throughput benchmark share, and, with the `strategies`
//! feature, proptest strategies derived from the specs.

pub mod fixtures;
pub mod load;
pub mod redis_server;
#[cfg(feature = "strategies")]
pub mod strategies;

pub use fixtures::Fixture;
