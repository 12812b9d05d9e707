# The media-stream load, shared by scripts/bench-streams.sh and scripts/bench-ab.sh (sourced,
# not run): one voice bot on the fake engine, the server that runs it, the generator that drives it.
stream_token=bench-token
stream_account=AC00000000000000000000000000000000

# write_stream_bot FILE: the bot (a greeting, and a reply to every utterance).
write_stream_bot() {
  printf 'greeting: ["Hello."]\naudio_transcript: "my account number"\nno_match: ["OK."]\n' >"$1"
}

# start_stream_server BIN VAD BOT DB LOG: `hotline serve` in the background on 127.0.0.1:18182
# (its REST API calls go to the generator on 18183); the caller reads its pid from `$!`.
start_stream_server() {
  "$1" serve --listen 127.0.0.1:18182 --auth-token "$stream_token" --records "sqlite:$4" \
    --bot "load=fake:$3,vad=$2" --account-sid "$stream_account" \
    --twilio-api-base http://127.0.0.1:18183 >"$5" 2>&1 &
}

# run_stream_bench BIN SERVER_PID LEVELS DURATION [EXTRA…]: `hotline bench streams` against it.
run_stream_bench() {
  local bin=$1 pid=$2 levels=$3 duration=$4
  shift 4
  "$bin" bench streams --addr 127.0.0.1:18182 --bot load --auth-token "$stream_token" \
    --rest-listen 127.0.0.1:18183 --audio crates/voice/tests/fixtures/account_8k_ulaw.wav \
    --streams "$levels" --duration "$duration" --server-pid "$pid" "$@"
}
