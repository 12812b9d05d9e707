//! Fuzz target: `hotline bot import` reads a Lex V2 export zip, a file from anywhere. Any bytes
//! must import or be refused with an error, never a panic; an import that succeeds must have
//! written a bot file that loads. The zip reader and its inflater are the project's own code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hotline_fuzz::import_lex_checked(data);
});
