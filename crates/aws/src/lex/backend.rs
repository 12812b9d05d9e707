//! [`LexEngine`]: [`Engine`] on Lex V2's RecognizeUtterance (audio and text turns alike).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_lexruntimev2::config::{Credentials, Region};
use aws_sdk_lexruntimev2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lexruntimev2::primitives::ByteStream;
use hotline_bot::{BotSession, Engine, EngineConfig, EngineError, LexConfig, Reply, TurnInput};

use super::wire::{self, SessionState, WireInterpretation, WireMessage};

/// The request content type of audio turns: the media pipeline's 8 kHz 16-bit mono PCM.
pub const LPCM_8K: &str =
    "audio/lpcm; sample-rate=8000; sample-size-bits=16; channel-count=1; is-big-endian=false";
/// The request content type of text turns (text, digits, the start text).
pub const TEXT_INPUT: &str = "text/plain; charset=utf-8";
const TEXT_REPLY: &str = "text/plain; charset=utf-8";
const PCM_REPLY: &str = "audio/pcm";

/// Builds the engine `config` describes, whatever its type (the fake through `hotline-bot`).
pub async fn build(config: &EngineConfig) -> Result<Arc<dyn Engine>, EngineError> {
    match config {
        EngineConfig::Lex(lex) => Ok(Arc::new(LexEngine::connect(lex).await?)),
        other => other.build().await,
    }
}

/// An Amazon Lex V2 bot alias, reached through the AWS SDK.
#[derive(Debug, Clone)]
pub struct LexEngine {
    client: aws_sdk_lexruntimev2::Client,
    config: LexConfig,
}

impl LexEngine {
    /// Builds the client: region and credentials from the configuration or the SDK's standard
    /// chain. The SDK does not retry (the caller hears an apology and tries again instead), and
    /// each turn is bounded by `timeout_ms`. Contacts no Lex endpoint.
    pub async fn connect(config: &LexConfig) -> Result<LexEngine, EngineError> {
        config.validate()?;
        let timeout = Duration::from_millis(config.timeout_ms);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            // The SDK's own limit is a backstop just above the turn's, which reports `Timeout`.
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(timeout + Duration::from_millis(500))
                    .build(),
            );
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(keys) = &config.credentials {
            loader = loader.credentials_provider(Credentials::new(
                keys.access_key_id.clone(),
                keys.secret_access_key.clone(),
                None,
                None,
                "hotline-lex-config",
            ));
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(EngineError::Configuration(
                "lex: no AWS region (set `region` or AWS_REGION)".into(),
            ));
        }
        let mut lex = aws_sdk_lexruntimev2::config::Builder::from(&sdk);
        if let Some(endpoint) = &config.endpoint_url {
            lex = lex.endpoint_url(endpoint.clone());
        }
        tracing::debug!(
            bot_id = %config.bot_id,
            alias_id = %config.bot_alias_id,
            locale = %config.locale_id,
            endpoint = config.endpoint_url.as_deref().unwrap_or("AWS"),
            "Lex V2 engine ready"
        );
        Ok(LexEngine {
            client: aws_sdk_lexruntimev2::Client::from_conf(lex.build()),
            config: config.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LexConfig {
        &self.config
    }

    /// One RecognizeUtterance call: audio (`LPCM_8K`) or text (`text/plain; charset=utf-8`).
    async fn recognize(
        &self,
        session: &BotSession,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(Reply, SessionState), EngineError> {
        let mut state: SessionState = match &session.engine_state {
            Some(v) => serde_json::from_value(v.clone()).unwrap_or_default(),
            None => SessionState::default(),
        };
        state.session_attributes = session.attributes.clone();
        let out = self
            .client
            .recognize_utterance()
            .bot_id(&self.config.bot_id)
            .bot_alias_id(&self.config.bot_alias_id)
            .locale_id(&self.config.locale_id)
            .session_id(&session.call_sid)
            .request_content_type(content_type)
            .response_content_type(if self.config.audio_replies {
                PCM_REPLY
            } else {
                TEXT_REPLY
            })
            .session_state(wire::encode_header(&state)?)
            .input_stream(ByteStream::from(body))
            .send()
            .await
            .map_err(map_sdk_error)?;
        let messages: Vec<WireMessage> = match out.messages() {
            Some(h) => wire::decode_header("messages", h)?,
            None => Vec::new(),
        };
        let interpretations: Vec<WireInterpretation> = match out.interpretations() {
            Some(h) => wire::decode_header("interpretations", h)?,
            None => Vec::new(),
        };
        let state: SessionState = match out.session_state() {
            Some(h) => wire::decode_header("sessionState", h)?,
            None => SessionState::default(),
        };
        let transcript = out
            .input_transcript()
            .map(wire::decode_transcript)
            .transpose()?;
        let is_pcm = out.content_type().is_some_and(|t| t.starts_with(PCM_REPLY));
        let audio = out
            .audio_stream
            .collect()
            .await
            .map_err(|e| EngineError::Unavailable(format!("reading Lex's audio reply: {e}")))?
            .into_bytes();
        let mut reply = wire::reply(&messages, &state, &interpretations, transcript);
        if self.config.audio_replies && is_pcm && !audio.is_empty() {
            reply.audio = Some(wire::pcm16k_to_ulaw8k(&audio));
        }
        Ok((reply, state))
    }
}

/// Maps an SDK failure to the audience-level [`EngineError`].
fn map_sdk_error<E, R>(error: SdkError<E, R>) -> EngineError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &error {
        SdkError::TimeoutError(_) => EngineError::Unavailable(format!("Lex timed out: {error}")),
        SdkError::DispatchFailure(e) => {
            EngineError::Unavailable(format!("cannot reach Lex: {e:?}"))
        }
        SdkError::ResponseError(_) => {
            EngineError::BadResponse(format!("unreadable Lex response: {error:?}"))
        }
        SdkError::ServiceError(ctx) => {
            let e = ctx.err();
            let code = e.code().unwrap_or("unknown");
            let message = format!("{code}: {}", e.message().unwrap_or("no message"));
            match code {
                "ThrottlingException"
                | "InternalServerException"
                | "BadGatewayException"
                | "DependencyFailedException"
                | "ConflictException" => EngineError::Unavailable(message),
                "AccessDeniedException" | "ResourceNotFoundException" | "ValidationException" => {
                    EngineError::Configuration(message)
                }
                "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "ExpiredTokenException" => {
                    EngineError::Configuration(format!("credentials: {message}"))
                }
                _ => EngineError::BadResponse(message),
            }
        }
        _ => EngineError::Unavailable(format!("Lex request failed: {error:?}")),
    }
}

#[async_trait]
impl Engine for LexEngine {
    async fn turn(&self, session: &mut BotSession, input: TurnInput) -> Result<Reply, EngineError> {
        let limit = Duration::from_millis(self.config.timeout_ms);
        let call = async {
            match &input {
                TurnInput::Audio { pcm_8k } => {
                    let bytes = pcm_8k.iter().flat_map(|s| s.to_le_bytes()).collect();
                    self.recognize(session, LPCM_8K, bytes).await
                }
                TurnInput::Text(t) | TurnInput::Digits(t) => {
                    let (mut reply, state) = self
                        .recognize(session, TEXT_INPUT, t.clone().into_bytes())
                        .await?;
                    reply.transcript = None;
                    Ok((reply, state))
                }
                TurnInput::Start => {
                    let text = self.config.start_text.clone().into_bytes();
                    let (mut reply, state) = self.recognize(session, TEXT_INPUT, text).await?;
                    reply.transcript = None;
                    Ok((reply, state))
                }
            }
        };
        let (reply, state) = match tokio::time::timeout(limit, call).await {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => {
                tracing::warn!(call_sid = %session.call_sid, error = %e, "Lex turn failed");
                return Err(e);
            }
            Err(_) => {
                return Err(EngineError::Timeout {
                    engine: "lex",
                    ms: self.config.timeout_ms,
                });
            }
        };
        session.attributes.extend(state.session_attributes.clone());
        session.engine_state = Some(
            serde_json::to_value(&state)
                .map_err(|e| EngineError::BadResponse(format!("Lex session state: {e}")))?,
        );
        Ok(reply)
    }

    fn name(&self) -> &'static str {
        "lex"
    }
}
