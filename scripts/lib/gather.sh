# The gather-callback load's server, shared by scripts/bench-gather.sh, bench-ab.sh,
# bench-vs-seed.sh and bench-warmup.sh (sourced, not run): the French triage flow, signatures
# checked, every step recorded in SQLite, memory sessions.
gather_token=bench-token

# start_gather_server BIN DB LOG: `hotline serve` in the background on 127.0.0.1:18181; the
# caller reads its pid from `$!`.
start_gather_server() {
  "$1" serve examples/flows/covid-triage-fr.yaml --listen 127.0.0.1:18181 \
    --auth-token "$gather_token" --records "sqlite:$2" >"$3" 2>&1 &
}
