//! The words of the domain: severities, spans of time, the clock, `file:line` diagnostics.
//!
//! The lowest floor: nothing here imports anything else of the crate, so every other layer
//! can speak these words.

pub mod clock;
pub mod diagnostic;
pub mod duration;
pub mod severity;
