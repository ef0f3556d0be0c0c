//! yuqing (舆情): hears public opinion about an agency in time and makes sure it is answered
//! within the law's deadlines. See ARCHITECTURE.md for the map of modules.

pub mod classify;
pub mod diagnostic;
pub mod duration;
pub mod normalize;
pub mod severity;
pub mod watchlist;
