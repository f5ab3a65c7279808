//! settle: the monthly settlement job of a freelance marketplace's compensation service.
//!
//! The rules (`rules`, `settlement`) are pure; reading (`input`, `validate`), writing
//! (`output`, `manifest`) and the ledger (`ledger`) surround them; `pipeline` moves a month's
//! orders through them batch by batch, and `run` ties the stages together for the `settle`
//! binary. ARCHITECTURE.md has the map.

pub mod adjustments;
pub mod backfill;
pub mod calendar;
pub mod encodings;
pub mod generate;
pub mod input;
pub mod job;
pub mod ledger;
pub mod manifest;
pub mod model;
pub mod money;
pub mod output;
pub mod pause;
pub mod pipeline;
pub mod policy;
pub mod progress;
pub mod report;
pub mod rules;
pub mod run;
pub mod settlement;
pub mod validate;
pub mod verify;
