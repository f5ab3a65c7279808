//! Amounts and counts as people read them: `¥1,234,567`, `+¥20`, `12,345`.
//!
//! Only for messages and reports; files keep plain integers of yen.

/// Yen as finance writes it: `¥1,234,567`, `-¥500`.
pub fn yen(jpy: i64) -> String {
    let sign = if jpy < 0 { "-" } else { "" };
    format!("{sign}¥{}", thousands(jpy.unsigned_abs()))
}

/// A difference in yen with its sign always shown: `+¥1,000`, `-¥20`, `¥0`.
pub fn yen_delta(jpy: i64) -> String {
    if jpy > 0 {
        format!("+{}", yen(jpy))
    } else {
        yen(jpy)
    }
}

/// A count with thousands separators: `12,345`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_reads_with_separators_and_sign() {
        for (jpy, expected) in [
            (0, "¥0"),
            (999, "¥999"),
            (1_000, "¥1,000"),
            (1_234_567, "¥1,234,567"),
            (-50, "-¥50"),
            (-1_000_000, "-¥1,000,000"),
            (i64::MIN, "-¥9,223,372,036,854,775,808"),
        ] {
            assert_eq!(yen(jpy), expected, "{jpy}");
        }
        assert_eq!(yen_delta(20_000), "+¥20,000");
        assert_eq!(yen_delta(-20), "-¥20");
        assert_eq!(yen_delta(0), "¥0");
        assert_eq!(thousands(1_234), "1,234");
    }
}
