//! Statement renderings: CSV (RFC 4180 quoting) and a small, valid PDF 1.4 written by hand
//! (Helvetica text, paged), both carrying the same data as the JSON statement.

use std::fmt::Write;

use crate::dto::StatementDto;

/// Lines per PDF page: A4 at 11 pt leading between 36 pt margins.
pub const PDF_LINES_PER_PAGE: usize = 68;

fn csv_field(s: &str) -> String {
    // Fields starting with a formula trigger are prefixed so spreadsheets show them as text
    // (CSV injection), then quoted when they contain a separator, quote or line break.
    let s = if s.starts_with(['=', '+', '@', '\t', '\r'])
        || (s.starts_with('-') && s.parse::<f64>().is_err())
    {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The statement as CSV: a header row, then one row per entry; opening and closing balances
/// as the first and last rows so the file stands on its own.
pub fn statement_csv(s: &StatementDto) -> String {
    let mut out = String::new();
    out.push_str("transaction_id,posted_at,description,amount,balance_after,currency\r\n");
    let _ = write!(
        out,
        ",{},{},,{},{}\r\n",
        s.from,
        csv_field("Opening balance"),
        s.opening_balance,
        s.currency
    );
    for e in &s.entries {
        let _ = write!(
            out,
            "{},{},{},{},{},{}\r\n",
            e.transaction_id,
            e.posted_at.to_rfc3339(),
            csv_field(e.description.as_deref().unwrap_or("")),
            e.amount,
            e.balance_after,
            s.currency
        );
    }
    let _ = write!(
        out,
        ",{},{},,{},{}\r\n",
        s.to,
        csv_field("Closing balance"),
        s.closing_balance,
        s.currency
    );
    out
}

fn pdf_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(3)).collect();
        t.push_str("...");
        t
    }
}

/// The statement as a PDF document.
pub fn statement_pdf(s: &StatementDto) -> Vec<u8> {
    let mut lines = vec![
        format!("BankFlow account statement - account {}", s.account_number),
        format!("Period {} to {} ({})", s.from, s.to, s.currency),
        format!("Opening balance: {} {}", s.opening_balance, s.currency),
        String::new(),
        format!(
            "{:<26} {:<40} {:>16} {:>16}",
            "Posted at (UTC)", "Description", "Amount", "Balance"
        ),
    ];
    for e in &s.entries {
        lines.push(format!(
            "{:<26} {:<40} {:>16} {:>16}",
            e.posted_at.format("%Y-%m-%d %H:%M:%S"),
            truncate(e.description.as_deref().unwrap_or(""), 40),
            e.amount,
            e.balance_after
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "Closing balance: {} {}",
        s.closing_balance, s.currency
    ));
    let pages: Vec<&[String]> = lines.chunks(PDF_LINES_PER_PAGE).collect();

    // Objects: 1 catalog, 2 pages, 3 font, then per page: page object + content stream.
    let mut objects: Vec<String> = Vec::new();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_string());
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 4 + 2 * i))
        .collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    ));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>".to_string());
    for (i, page) in pages.iter().enumerate() {
        let mut content = String::from("BT /F1 8 Tf 11 TL 36 806 Td\n");
        for l in page.iter() {
            let _ = writeln!(content, "({}) '", pdf_text(l));
        }
        content.push_str("ET");
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{}\nendstream",
            content.len(),
            content
        ));
    }
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{}\nendobj\n", i + 1, o);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        let _ = writeln!(out, "{off:010} 00000 n ");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{}\n%%EOF\n",
        objects.len() + 1,
        xref
    );
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::StatementLineDto;
    use chrono::{NaiveDate, Utc};
    use uuid::Uuid;

    fn stmt(n: usize) -> StatementDto {
        StatementDto {
            account_id: Uuid::nil(),
            account_number: "100000000008".into(),
            currency: "USD".into(),
            from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            opening_balance: "0.00".into(),
            closing_balance: "10.00".into(),
            entries: (0..n)
                .map(|i| StatementLineDto {
                    transaction_id: Uuid::nil(),
                    posted_at: Utc::now(),
                    description: Some(format!("rent, \"flat\" (#{i}) =SUM(A1)")),
                    amount: "10.00".into(),
                    balance_after: "10.00".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let csv = statement_csv(&stmt(1));
        assert!(
            csv.contains("\"rent, \"\"flat\"\" (#0) =SUM(A1)\""),
            "{csv}"
        );
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-10.00"), "-10.00");
        assert_eq!(csv.lines().count(), 4);
    }

    #[test]
    fn pdf_is_well_formed_and_paged() {
        let pdf = statement_pdf(&stmt(150));
        let text = String::from_utf8(pdf.clone()).unwrap();
        assert!(text.starts_with("%PDF-1.4") && text.ends_with("%%EOF\n"));
        assert!(text.contains("/Count 3"));
        assert!(text.contains("\\(#0\\)"));
        // The startxref offset points at the xref table.
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[start..].starts_with("xref"));
    }
}
