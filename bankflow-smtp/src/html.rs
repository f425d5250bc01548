//! The HTML alternative of a notification: the same words as the template's rendered text
//! (the one source of wording), escaped and laid out for mail clients that prefer HTML.

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An HTML document for `subject` and the rendered text `body`: one paragraph per line, every
/// character escaped (a body may carry user-supplied text, e.g. an admin's direct message).
pub fn html_body(subject: &str, body: &str) -> String {
    let paragraphs: String = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("<p>{}</p>\n", escape(l)))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family:sans-serif;line-height:1.5;max-width:40em\">\n\
         <h1 style=\"font-size:1.2em\">{title}</h1>\n{paragraphs}\
         <p style=\"color:#666;font-size:0.9em\">BankFlow</p>\n</body></html>\n",
        title = escape(subject),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_into_paragraphs() {
        let h = html_body("Hi & <bye>", "line <b>one</b>\n\nline \"two\"");
        assert!(h.contains("<title>Hi &amp; &lt;bye&gt;</title>"));
        assert!(h.contains("<p>line &lt;b&gt;one&lt;/b&gt;</p>"));
        assert!(h.contains("<p>line &quot;two&quot;</p>"));
        assert!(!h.contains("<b>"));
    }
}
