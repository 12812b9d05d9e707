//! `X-Twilio-Signature`: compute and validate (to be implemented).
