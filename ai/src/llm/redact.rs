//! Redaction of personal data from text that leaves for an external language model: every
//! Chinese resident ID number, bank card number, mainland mobile number and email address the
//! screening detectors find ([`crate::sensitive`], on width-folded text, so full-width digits
//! count) is replaced by a placeholder naming what it was. Unlike masking, nothing of the
//! original is kept: not the first and last digits, not the email's domain.

use crate::sensitive::Detector;

/// The placeholder that replaces what `detector` finds.
pub fn placeholder(detector: Detector) -> &'static str {
    match detector {
        Detector::CnId => "[ID_NUMBER]",
        Detector::BankCard => "[CARD_NUMBER]",
        Detector::Mobile => "[PHONE]",
        Detector::Email => "[EMAIL]",
    }
}

/// `text` with every piece of personal data replaced by its [`placeholder`].
pub fn redact(text: &str) -> String {
    crate::sensitive::redact_with(text, placeholder)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn personal_data_becomes_placeholders() {
        let cases = [
            (
                "我的身份证是11010519491231002X，卡号4111 1111 1111 1111",
                "我的身份证是[ID_NUMBER]，卡号[CARD_NUMBER]",
            ),
            (
                "call me on 138-1234-5678 or write to li.lei@example.com",
                "call me on [PHONE] or write to [EMAIL]",
            ),
            // Full-width digits are personal data too.
            ("手机１３８１２３４５６７８", "手机[PHONE]"),
            // Order numbers and short numbers stay.
            ("order A1234 costs 99 yuan", "order A1234 costs 99 yuan"),
            ("", ""),
        ];
        for (text, want) in cases {
            assert_eq!(redact(text), want, "{text}");
        }
    }

    #[test]
    fn nothing_of_the_original_is_kept() {
        let out = redact("4111111111111111 / 11010519491231002X / 13812345678");
        for kept in ["411", "1111", "110", "002X", "138", "5678"] {
            assert!(!out.contains(kept), "{out} keeps {kept}");
        }
    }
}
