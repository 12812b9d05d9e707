#!/bin/sh
# Regenerates the demo caller's utterances: Debian's flite (its natural "slt" voice), converted by
# sox to what Twilio streams (8 kHz, mono, mu-law, in a WAV container). Small on purpose; the
# files are committed so the demo needs neither tool.
set -eu
cd "$(dirname "$0")"
say() {
    flite -voice slt -t "$2" -o /tmp/hotline-demo-caller.wav
    sox /tmp/hotline-demo-caller.wav -r 8000 -c 1 -e mu-law "$1"
    rm -f /tmp/hotline-demo-caller.wav
}
say 1-book.wav "Hi. I'd like to book a cleaning, please."
say 2-date.wav "Tomorrow."
say 3-time.wav "At three p.m."
say 4-name.wav "Sarah Johnson."
say 5-yes.wav "Yes, please."
