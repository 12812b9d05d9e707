//! The TwiML for Voice data model.
//!
//! One struct per verb or noun, with public fields named after Twilio's attributes (in
//! snake_case). `None` means "attribute absent": Twilio's default applies, and the accessor
//! methods return it. Builder-style `with_*` methods are provided for fluent construction.

use std::fmt;

/// HTTP method for `action`, `url` and callback attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST` (Twilio's default everywhere).
    #[default]
    Post,
}

impl Method {
    /// The attribute spelling, `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }

    /// Parses `GET`/`POST` case-insensitively, as Twilio does.
    pub fn parse(s: &str) -> Option<Method> {
        if s.eq_ignore_ascii_case("GET") {
            Some(Method::Get)
        } else if s.eq_ignore_ascii_case("POST") {
            Some(Method::Post)
        } else {
            None
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A complete TwiML document: `<Response>` and its verbs, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    /// The verbs, executed in order.
    pub verbs: Vec<Verb>,
}

/// One TwiML verb.
#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    /// `<Say>`: text to speech.
    Say(Say),
    /// `<Play>`: an audio URL, or DTMF digits.
    Play(Play),
    /// `<Pause>`: silence.
    Pause(Pause),
    /// `<Gather>`: collect speech and/or DTMF.
    Gather(Gather),
    /// `<Redirect>`: fetch another document.
    Redirect(Redirect),
    /// `<Hangup>`: end the call.
    Hangup,
    /// `<Reject>`: refuse an incoming call without answering it.
    Reject(Reject),
    /// `<Dial>`: connect the caller to another party.
    Dial(Dial),
    /// `<Enqueue>`: put the caller in a queue.
    Enqueue(Enqueue),
    /// `<Leave>`: take the caller out of the queue.
    Leave,
    /// `<Record>`: record the caller.
    Record(Record),
    /// `<Start>`: start a background operation (a unidirectional media stream).
    Start(Start),
    /// `<Stop>`: stop a background operation.
    Stop(Stop),
    /// `<Connect>`: hand the call to a bidirectional media stream until it closes.
    Connect(Connect),
}

impl Verb {
    /// The element name of this verb (`"Say"`, `"Gather"`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Say(_) => "Say",
            Verb::Play(_) => "Play",
            Verb::Pause(_) => "Pause",
            Verb::Gather(_) => "Gather",
            Verb::Redirect(_) => "Redirect",
            Verb::Hangup => "Hangup",
            Verb::Reject(_) => "Reject",
            Verb::Dial(_) => "Dial",
            Verb::Enqueue(_) => "Enqueue",
            Verb::Leave => "Leave",
            Verb::Record(_) => "Record",
            Verb::Start(_) => "Start",
            Verb::Stop(_) => "Stop",
            Verb::Connect(_) => "Connect",
        }
    }
}

/// `<Say>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Say {
    /// The text to speak.
    pub text: String,
    /// `voice`, e.g. `alice`, `Polly.Joanna`.
    pub voice: Option<String>,
    /// `language`, BCP-47 (`fr-FR`).
    pub language: Option<String>,
    /// `loop`: repetitions; `0` means "until the call ends" (Twilio caps it).
    pub loop_count: Option<u32>,
}

impl Say {
    /// A `<Say>` of `text` with every attribute absent.
    pub fn new(text: impl Into<String>) -> Self {
        Say {
            text: text.into(),
            ..Say::default()
        }
    }
    /// Sets `voice`.
    pub fn with_voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }
    /// Sets `language`.
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }
    /// Sets `loop`.
    pub fn with_loop(mut self, n: u32) -> Self {
        self.loop_count = Some(n);
        self
    }
    /// Repetitions to perform, with Twilio's default of 1.
    pub fn loops(&self) -> u32 {
        self.loop_count.unwrap_or(1)
    }
}

/// `<Play>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Play {
    /// The audio URL (element text). Empty when `digits` is used.
    pub url: String,
    /// `loop`: repetitions; `0` means "until the call ends".
    pub loop_count: Option<u32>,
    /// `digits`: DTMF tones to play (`0-9`, `*`, `#`, `w` for a half-second wait).
    pub digits: Option<String>,
}

impl Play {
    /// A `<Play>` of `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Play {
            url: url.into(),
            ..Play::default()
        }
    }
    /// A `<Play digits="…"/>`.
    pub fn digits(digits: impl Into<String>) -> Self {
        Play {
            digits: Some(digits.into()),
            ..Play::default()
        }
    }
    /// Sets `loop`.
    pub fn with_loop(mut self, n: u32) -> Self {
        self.loop_count = Some(n);
        self
    }
    /// Repetitions to perform, with Twilio's default of 1.
    pub fn loops(&self) -> u32 {
        self.loop_count.unwrap_or(1)
    }
}

/// `<Pause>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pause {
    /// `length` in seconds.
    pub length: Option<u32>,
}

impl Pause {
    /// A `<Pause length="secs"/>`.
    pub fn new(secs: u32) -> Self {
        Pause { length: Some(secs) }
    }
    /// Seconds to wait, with Twilio's default of 1.
    pub fn length_secs(&self) -> u32 {
        self.length.unwrap_or(1)
    }
}

/// Which inputs a `<Gather>` listens for (`input="dtmf speech"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GatherInput {
    /// Key presses.
    pub dtmf: bool,
    /// Speech.
    pub speech: bool,
}

impl GatherInput {
    /// `input="dtmf"` (Twilio's default).
    pub const DTMF: GatherInput = GatherInput {
        dtmf: true,
        speech: false,
    };
    /// `input="speech"`.
    pub const SPEECH: GatherInput = GatherInput {
        dtmf: false,
        speech: true,
    };
    /// `input="dtmf speech"`.
    pub const BOTH: GatherInput = GatherInput {
        dtmf: true,
        speech: true,
    };

    /// The attribute spelling: `dtmf`, `speech` or `dtmf speech`.
    ///
    /// A value with neither input set renders as `dtmf`, Twilio's default.
    pub fn as_str(self) -> &'static str {
        match (self.dtmf, self.speech) {
            (true, true) => "dtmf speech",
            (false, true) => "speech",
            _ => "dtmf",
        }
    }

    /// Parses the attribute value: `dtmf` and/or `speech`, separated by whitespace, in any
    /// order, case-insensitively (`"speech dtmf"` is [`GatherInput::BOTH`]). Returns `None` for
    /// an empty value or any other word.
    pub fn parse(s: &str) -> Option<GatherInput> {
        let mut input = GatherInput {
            dtmf: false,
            speech: false,
        };
        for word in s.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()) {
            if word.eq_ignore_ascii_case("dtmf") {
                input.dtmf = true;
            } else if word.eq_ignore_ascii_case("speech") {
                input.speech = true;
            } else {
                return None;
            }
        }
        (input.dtmf || input.speech).then_some(input)
    }
}

/// `speechTimeout`: seconds of silence that end speech, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpeechTimeout {
    /// A whole number of seconds.
    Seconds(u32),
    /// `auto`: Twilio decides when the caller has finished.
    Auto,
}

impl SpeechTimeout {
    /// Parses the attribute value: a whole number of seconds, or `auto` (case-insensitive).
    /// Surrounding whitespace is ignored; anything else gives `None`.
    pub fn parse(s: &str) -> Option<SpeechTimeout> {
        let s = s.trim_matches([' ', '\t', '\n', '\r']);
        if s.eq_ignore_ascii_case("auto") {
            Some(SpeechTimeout::Auto)
        } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok().map(SpeechTimeout::Seconds)
        } else {
            None
        }
    }
}

impl fmt::Display for SpeechTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpeechTimeout::Seconds(n) => write!(f, "{n}"),
            SpeechTimeout::Auto => f.write_str("auto"),
        }
    }
}

/// A prompt nested inside `<Gather>`.
#[derive(Debug, Clone, PartialEq)]
pub enum GatherPrompt {
    /// `<Say>`
    Say(Say),
    /// `<Play>`
    Play(Play),
    /// `<Pause>`
    Pause(Pause),
}

/// `<Gather>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Gather {
    /// `input`.
    pub input: Option<GatherInput>,
    /// `action`: where the result is requested; default is the current document's URL.
    pub action: Option<String>,
    /// `method` for `action`.
    pub method: Option<Method>,
    /// `timeout`: seconds to wait for the first input (and between digits).
    pub timeout: Option<u32>,
    /// `speechTimeout`.
    pub speech_timeout: Option<SpeechTimeout>,
    /// `maxSpeechTime`: seconds.
    pub max_speech_time: Option<u32>,
    /// `numDigits`: stop after this many digits.
    pub num_digits: Option<u32>,
    /// `finishOnKey`: the key that ends DTMF entry; `Some("")` disables it.
    pub finish_on_key: Option<String>,
    /// `language` for speech recognition.
    pub language: Option<String>,
    /// `hints`: comma-separated phrases.
    pub hints: Option<String>,
    /// `actionOnEmptyResult`.
    pub action_on_empty_result: Option<bool>,
    /// `partialResultCallback`.
    pub partial_result_callback: Option<String>,
    /// `partialResultCallbackMethod`.
    pub partial_result_callback_method: Option<Method>,
    /// `speechModel`.
    pub speech_model: Option<String>,
    /// `enhanced`.
    pub enhanced: Option<bool>,
    /// `profanityFilter`.
    pub profanity_filter: Option<bool>,
    /// `bargeIn`: whether input interrupts the nested prompts.
    pub barge_in: Option<bool>,
    /// Nested `<Say>`, `<Play>` and `<Pause>`, played while listening.
    pub prompts: Vec<GatherPrompt>,
}

impl Gather {
    /// A `<Gather>` with every attribute absent.
    pub fn new() -> Self {
        Gather::default()
    }
    /// Sets `input`.
    pub fn with_input(mut self, input: GatherInput) -> Self {
        self.input = Some(input);
        self
    }
    /// Sets `action` (and optionally `method`).
    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }
    /// Sets `method`.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }
    /// Sets `timeout`.
    pub fn with_timeout(mut self, secs: u32) -> Self {
        self.timeout = Some(secs);
        self
    }
    /// Sets `speechTimeout`.
    pub fn with_speech_timeout(mut self, t: SpeechTimeout) -> Self {
        self.speech_timeout = Some(t);
        self
    }
    /// Sets `numDigits`.
    pub fn with_num_digits(mut self, n: u32) -> Self {
        self.num_digits = Some(n);
        self
    }
    /// Sets `finishOnKey`.
    pub fn with_finish_on_key(mut self, key: impl Into<String>) -> Self {
        self.finish_on_key = Some(key.into());
        self
    }
    /// Sets `language`.
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }
    /// Sets `hints`.
    pub fn with_hints(mut self, hints: impl Into<String>) -> Self {
        self.hints = Some(hints.into());
        self
    }
    /// Sets `actionOnEmptyResult`.
    pub fn with_action_on_empty_result(mut self, on: bool) -> Self {
        self.action_on_empty_result = Some(on);
        self
    }
    /// Sets `partialResultCallback`.
    pub fn with_partial_result_callback(mut self, url: impl Into<String>) -> Self {
        self.partial_result_callback = Some(url.into());
        self
    }
    /// Appends a nested `<Say>`.
    pub fn say(mut self, say: Say) -> Self {
        self.prompts.push(GatherPrompt::Say(say));
        self
    }
    /// Appends a nested `<Play>`.
    pub fn play(mut self, play: Play) -> Self {
        self.prompts.push(GatherPrompt::Play(play));
        self
    }
    /// Appends a nested `<Pause>`.
    pub fn pause(mut self, pause: Pause) -> Self {
        self.prompts.push(GatherPrompt::Pause(pause));
        self
    }

    /// Inputs listened for, default DTMF only.
    pub fn input_or_default(&self) -> GatherInput {
        self.input.unwrap_or(GatherInput::DTMF)
    }
    /// Method for `action`, default POST.
    pub fn method_or_default(&self) -> Method {
        self.method.unwrap_or_default()
    }
    /// `timeout` with Twilio's default of 5 seconds.
    pub fn timeout_secs(&self) -> u32 {
        self.timeout.unwrap_or(5)
    }
    /// `finishOnKey` with Twilio's default `#`; `None` when disabled (`finishOnKey=""`).
    pub fn finish_key(&self) -> Option<char> {
        match &self.finish_on_key {
            None => Some('#'),
            Some(k) => k.chars().next(),
        }
    }
    /// `actionOnEmptyResult`, default false.
    pub fn action_on_empty(&self) -> bool {
        self.action_on_empty_result.unwrap_or(false)
    }
    /// `language`, default `en-US`.
    pub fn language_or_default(&self) -> &str {
        self.language.as_deref().unwrap_or("en-US")
    }
}

/// `<Redirect>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Redirect {
    /// The URL to fetch (element text).
    pub url: String,
    /// `method`, default POST.
    pub method: Option<Method>,
}

impl Redirect {
    /// A `<Redirect>` to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Redirect {
            url: url.into(),
            method: None,
        }
    }
    /// Sets `method`.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }
}

/// `<Reject>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reject {
    /// `reason`: `rejected` (default) or `busy`.
    pub reason: Option<String>,
}

/// `<Dial>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dial {
    /// A plain number given as the element's text (`<Dial>+15551234567</Dial>`).
    pub number: Option<String>,
    /// Nested nouns.
    pub targets: Vec<DialTarget>,
    /// `action`: requested when the dialled call ends.
    pub action: Option<String>,
    /// `method` for `action`.
    pub method: Option<Method>,
    /// `timeout`: seconds to let it ring (default 30).
    pub timeout: Option<u32>,
    /// `callerId`.
    pub caller_id: Option<String>,
    /// `record`: `do-not-record`, `record-from-answer`, …
    pub record: Option<String>,
    /// `timeLimit`: maximum call length in seconds.
    pub time_limit: Option<u32>,
    /// `hangupOnStar`.
    pub hangup_on_star: Option<bool>,
}

impl Dial {
    /// A `<Dial>` of a plain number.
    pub fn number(number: impl Into<String>) -> Self {
        Dial {
            number: Some(number.into()),
            ..Dial::default()
        }
    }
    /// A `<Dial>` with one nested noun.
    pub fn to(target: DialTarget) -> Self {
        Dial {
            targets: vec![target],
            ..Dial::default()
        }
    }
    /// Sets `action`.
    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }
    /// Sets `timeout`.
    pub fn with_timeout(mut self, secs: u32) -> Self {
        self.timeout = Some(secs);
        self
    }
    /// Sets `callerId`.
    pub fn with_caller_id(mut self, caller_id: impl Into<String>) -> Self {
        self.caller_id = Some(caller_id.into());
        self
    }
    /// Sets `record`.
    pub fn with_record(mut self, record: impl Into<String>) -> Self {
        self.record = Some(record.into());
        self
    }
    /// Ring timeout, default 30 s.
    pub fn timeout_secs(&self) -> u32 {
        self.timeout.unwrap_or(30)
    }
}

/// A noun nested in `<Dial>`.
#[derive(Debug, Clone, PartialEq)]
pub enum DialTarget {
    /// `<Number sendDigits url>`
    Number {
        /// The E.164 number.
        number: String,
        /// `sendDigits`.
        send_digits: Option<String>,
        /// `url`: TwiML run for the called party before connecting.
        url: Option<String>,
    },
    /// `<Sip username password>`
    Sip {
        /// The SIP URI.
        uri: String,
        /// `username`.
        username: Option<String>,
        /// `password`.
        password: Option<String>,
    },
    /// `<Client>`
    Client {
        /// The client identity.
        identity: String,
    },
    /// `<Queue url>`
    Queue {
        /// The queue's name.
        name: String,
        /// `url`.
        url: Option<String>,
    },
    /// `<Conference>`
    Conference {
        /// The conference room's name.
        name: String,
        /// `startConferenceOnEnter`.
        start_conference_on_enter: Option<bool>,
        /// `endConferenceOnExit`.
        end_conference_on_exit: Option<bool>,
    },
}

impl DialTarget {
    /// A `<Number>` noun.
    pub fn number(number: impl Into<String>) -> Self {
        DialTarget::Number {
            number: number.into(),
            send_digits: None,
            url: None,
        }
    }
    /// A `<Sip>` noun.
    pub fn sip(uri: impl Into<String>) -> Self {
        DialTarget::Sip {
            uri: uri.into(),
            username: None,
            password: None,
        }
    }
    /// A human-readable description: `number +1555…`, `sip:…`, `client alice`, …
    pub fn describe(&self) -> String {
        match self {
            DialTarget::Number { number, .. } => format!("number {number}"),
            DialTarget::Sip { uri, .. } => format!("sip {uri}"),
            DialTarget::Client { identity } => format!("client {identity}"),
            DialTarget::Queue { name, .. } => format!("queue {name}"),
            DialTarget::Conference { name, .. } => format!("conference {name}"),
        }
    }
}

/// `<Enqueue>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Enqueue {
    /// The queue name (element text).
    pub name: String,
    /// `action`.
    pub action: Option<String>,
    /// `method`.
    pub method: Option<Method>,
    /// `waitUrl`: TwiML played while waiting.
    pub wait_url: Option<String>,
    /// `waitUrlMethod`.
    pub wait_url_method: Option<Method>,
    /// `workflowSid`.
    pub workflow_sid: Option<String>,
}

impl Enqueue {
    /// An `<Enqueue>` into `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Enqueue {
            name: name.into(),
            ..Enqueue::default()
        }
    }
}

/// `<Record>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// `action`.
    pub action: Option<String>,
    /// `method`.
    pub method: Option<Method>,
    /// `timeout`: seconds of silence that end the recording (default 5).
    pub timeout: Option<u32>,
    /// `maxLength`: seconds (default 3600).
    pub max_length: Option<u32>,
    /// `finishOnKey` (default `1234567890*#`).
    pub finish_on_key: Option<String>,
    /// `playBeep` (default true).
    pub play_beep: Option<bool>,
    /// `trim`: `trim-silence` or `do-not-trim`.
    pub trim: Option<String>,
    /// `transcribe`.
    pub transcribe: Option<bool>,
    /// `transcribeCallback`.
    pub transcribe_callback: Option<String>,
    /// `recordingStatusCallback`.
    pub recording_status_callback: Option<String>,
    /// `recordingStatusCallbackMethod`.
    pub recording_status_callback_method: Option<Method>,
}

impl Record {
    /// A `<Record>` with every attribute absent.
    pub fn new() -> Self {
        Record::default()
    }
    /// Sets `action`.
    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }
    /// Sets `maxLength`.
    pub fn with_max_length(mut self, secs: u32) -> Self {
        self.max_length = Some(secs);
        self
    }
    /// Sets `playBeep`.
    pub fn with_play_beep(mut self, on: bool) -> Self {
        self.play_beep = Some(on);
        self
    }
    /// `maxLength` with Twilio's default of 3600 s.
    pub fn max_length_secs(&self) -> u32 {
        self.max_length.unwrap_or(3600)
    }
    /// `timeout` with Twilio's default of 5 s.
    pub fn timeout_secs(&self) -> u32 {
        self.timeout.unwrap_or(5)
    }
    /// `playBeep`, default true.
    pub fn beep(&self) -> bool {
        self.play_beep.unwrap_or(true)
    }
}

/// `<Stream>`, nested in `<Start>` or `<Connect>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// `url`: a `wss://` URL with no query string.
    pub url: String,
    /// `name`: lets `<Stop><Stream name>` stop it.
    pub name: Option<String>,
    /// `track`: `inbound_track` (default), `outbound_track` or `both_tracks`.
    pub track: Option<String>,
    /// `statusCallback`.
    pub status_callback: Option<String>,
    /// `statusCallbackMethod`.
    pub status_callback_method: Option<Method>,
    /// Nested `<Parameter name value/>`, delivered as `start.customParameters`.
    pub parameters: Vec<Parameter>,
}

impl Stream {
    /// A `<Stream url="…">`.
    pub fn new(url: impl Into<String>) -> Self {
        Stream {
            url: url.into(),
            ..Stream::default()
        }
    }
    /// Sets `name`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Sets `track`.
    pub fn with_track(mut self, track: impl Into<String>) -> Self {
        self.track = Some(track.into());
        self
    }
    /// Sets `statusCallback`.
    pub fn with_status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }
    /// Appends a `<Parameter>`.
    pub fn with_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.push(Parameter {
            name: name.into(),
            value: value.into(),
        });
        self
    }
}

/// `<Parameter name value/>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parameter {
    /// `name`.
    pub name: String,
    /// `value`.
    pub value: String,
}

/// `<Start>`: starts streams that run beside the rest of the call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Start {
    /// `action`.
    pub action: Option<String>,
    /// `method`.
    pub method: Option<Method>,
    /// The streams to start.
    pub streams: Vec<Stream>,
}

impl Start {
    /// A `<Start>` of one stream.
    pub fn stream(stream: Stream) -> Self {
        Start {
            streams: vec![stream],
            ..Start::default()
        }
    }
}

/// `<Stop>`: stops streams started by `<Start>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stop {
    /// The streams to stop, identified by `name` (or `url`).
    pub streams: Vec<Stream>,
}

/// `<Connect>`: hands the call to a bidirectional stream; the next verb runs when it closes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Connect {
    /// `action`: requested when the connection ends.
    pub action: Option<String>,
    /// `method` for `action`.
    pub method: Option<Method>,
    /// The stream.
    pub stream: Stream,
}

impl Connect {
    /// A `<Connect>` to one stream.
    pub fn stream(stream: Stream) -> Self {
        Connect {
            stream,
            ..Connect::default()
        }
    }
}

impl Response {
    /// An empty `<Response/>`.
    pub fn new() -> Self {
        Response::default()
    }
    /// Appends any verb.
    pub fn push(mut self, verb: Verb) -> Self {
        self.verbs.push(verb);
        self
    }
    /// Appends `<Say>`.
    pub fn say(self, say: Say) -> Self {
        self.push(Verb::Say(say))
    }
    /// Appends `<Play>`.
    pub fn play(self, play: Play) -> Self {
        self.push(Verb::Play(play))
    }
    /// Appends `<Pause>`.
    pub fn pause(self, pause: Pause) -> Self {
        self.push(Verb::Pause(pause))
    }
    /// Appends `<Gather>`.
    pub fn gather(self, gather: Gather) -> Self {
        self.push(Verb::Gather(gather))
    }
    /// Appends `<Redirect>`.
    pub fn redirect(self, redirect: Redirect) -> Self {
        self.push(Verb::Redirect(redirect))
    }
    /// Appends `<Hangup/>`.
    pub fn hangup(self) -> Self {
        self.push(Verb::Hangup)
    }
    /// Appends `<Reject>`.
    pub fn reject(self, reject: Reject) -> Self {
        self.push(Verb::Reject(reject))
    }
    /// Appends `<Dial>`.
    pub fn dial(self, dial: Dial) -> Self {
        self.push(Verb::Dial(dial))
    }
    /// Appends `<Enqueue>`.
    pub fn enqueue(self, enqueue: Enqueue) -> Self {
        self.push(Verb::Enqueue(enqueue))
    }
    /// Appends `<Leave/>`.
    pub fn leave(self) -> Self {
        self.push(Verb::Leave)
    }
    /// Appends `<Record>`.
    pub fn record(self, record: Record) -> Self {
        self.push(Verb::Record(record))
    }
    /// Appends `<Start>`.
    pub fn start(self, start: Start) -> Self {
        self.push(Verb::Start(start))
    }
    /// Appends `<Stop>`.
    pub fn stop(self, stop: Stop) -> Self {
        self.push(Verb::Stop(stop))
    }
    /// Appends `<Connect>`.
    pub fn connect(self, connect: Connect) -> Self {
        self.push(Verb::Connect(connect))
    }
}
