//! The words of the domain: severities, incident and deadline states, ids, spans of time
//! (`2小时30分`), the clock, `file:line` diagnostics, and web text made safe to show.
//!
//! The lowest floor: nothing here imports anything else of the crate, so every other layer
//! can speak these words.

pub mod action;
pub mod clock;
pub mod diagnostic;
pub mod duration;
pub mod ids;
pub mod role;
pub mod severity;
pub mod span;
pub mod state;
pub mod text;
pub mod words;
