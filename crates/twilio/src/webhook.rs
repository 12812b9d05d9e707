//! Voice webhook request parameters (to be implemented).
