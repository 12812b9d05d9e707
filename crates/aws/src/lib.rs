//! Hotline's AWS clients, on the official AWS SDK for Rust.
//!
//! - [`s3`]: presigned S3 GET URLs for prompts kept in a bucket (`prompts: s3://bucket/prefix`).
//! - [`lex`]: the Amazon Lex V2 conversational engine ([`hotline_bot::Engine`]).
//!
//! The SDK is the most expensive dependency to compile, so it lives here, apart from the server
//! (which only knows the [`hotline_server::app::S3Presigner`] trait) and from the flow runtime.

pub mod lex;
pub mod s3;

pub use lex::LexEngine;
pub use s3::{CredentialsSource, S3Error, S3Prompts, S3PromptsConfig};
