//! Fuzz target: `hotline bot import` reads a Lex V2 export zip, a file from anywhere. Any bytes
//! must import or be refused with an error (never a panic, never past the size limits); an
//! import that succeeds must have written a bot file that loads. The zip reader and its inflater
//! are the project's own code.
#![no_main]

use hotline_localbot::import::{ImportError, ImportOptions, import_lex_zip_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match import_lex_zip_bytes(data, "fuzz.zip", &ImportOptions::default()) {
        Ok(imported) => {
            assert!(
                hotline_localbot::parse_bot(&imported.yaml, "imported.yaml").is_ok(),
                "an imported bot loads"
            );
        }
        Err(ImportError::Invalid(message)) => panic!("importer bug: {message}"),
        Err(_) => {}
    }
});
