//! REST live-call updates (to be implemented).
