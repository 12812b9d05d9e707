//! The Twilio call emulator (to be implemented).
