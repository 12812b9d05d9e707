//! Media Streams WebSocket messages (to be implemented).
