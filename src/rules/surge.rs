//! The surge rule (domain.md): an incident that spreads fast, many items from several
//! sources within a short window, is raised one severity level, once.

use crate::vocab::duration::Span;

/// The surge rule: an incident that spreads fast is raised one level, once.
#[derive(Debug, Clone, Copy)]
pub struct Surge {
    /// At least this many items …
    pub items: i64,
    /// … from at least this many distinct sources …
    pub sources: i64,
    /// … within this window.
    pub within: Span,
}

impl Default for Surge {
    fn default() -> Self {
        Surge {
            items: 10,
            sources: 3,
            within: Span::from_secs(3600),
        }
    }
}
