//! Fuzz target: every webhook body and query string is decoded by `Form::parse` and
//! `parse_form`, which promise to yield exactly what the `url` crate's
//! `form_urlencoded::parse(body).into_owned()` does. A differential target: any difference is
//! a crash. `Form::get` must return the first value of each name.
#![no_main]

use hotline_twilio::webhook::{Form, parse_form};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reference: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    let owned = parse_form(data);
    assert_eq!(owned, reference, "parse_form differs from the url crate");
    let form = Form::parse(data);
    let pairs: Vec<(String, String)> = form
        .pairs()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(pairs, reference, "Form::parse differs from the url crate");
    assert_eq!(form.len(), reference.len());
    for (name, _) in &reference {
        let first = reference
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        assert_eq!(form.get(name), first, "Form::get({name:?})");
    }
});
