//! What several fuzz targets share.

use hotline_localbot::import::{ImportError, ImportOptions, import_lex_zip_bytes};

/// Imports a Lex V2 export zip as `hotline bot import` does and checks the outcome: a bot file
/// that loads, or an error about the export. An `Invalid` error means the importer wrote a bot
/// Hotline's own checks refuse: an importer bug, so a crash.
pub fn import_lex_checked(zip: &[u8]) {
    match import_lex_zip_bytes(zip, "fuzz.zip", &ImportOptions::default()) {
        Ok(imported) => {
            assert!(
                hotline_localbot::parse_bot(&imported.yaml, "imported.yaml").is_ok(),
                "an imported bot loads"
            );
        }
        Err(ImportError::Invalid(message)) => panic!("importer bug: {message}"),
        Err(_) => {}
    }
}
