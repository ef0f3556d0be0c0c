//! Which passwords the console accepts (issue 26 §2.9: eight spaces and `12345678` were).
//!
//! At least eight characters, not only white space, not one of the common passwords that
//! guessers try first (`data/passwords/common.txt`, from SecLists, embedded), not the
//! user's name, and under twelve characters at least two kinds of character (lower case,
//! upper case, digits, others, Chinese included). Checked where a password is set (`yuqing
//! user add`, `yuqing user passwd`); the answer says what to change.

/// The shortest password accepted.
pub const MIN_LEN: usize = 8;

/// From this length on, one kind of character is enough (a passphrase).
const ONE_KIND_FROM: usize = 12;

const COMMON: &str = include_str!("../../data/passwords/common.txt");

/// Why `password` is refused for `name`, or `None` when it is accepted.
pub fn problem(password: &str, name: &str) -> Option<String> {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_LEN {
        return Some(format!(
            "the password must have at least {MIN_LEN} characters"
        ));
    }
    if chars.iter().all(|c| c.is_whitespace()) {
        return Some("the password is only white space".into());
    }
    let first = chars[0];
    if chars.iter().all(|c| *c == first) {
        return Some("the password repeats one character".into());
    }
    let lower = password.to_lowercase();
    if !name.trim().is_empty() && lower.contains(&name.trim().to_lowercase()) {
        return Some("the password contains the user's name".into());
    }
    if COMMON.lines().any(|common| common == lower) {
        return Some(
            "the password is one of the most common passwords, which guessers try first; \
             choose another"
                .into(),
        );
    }
    let kinds = [
        chars.iter().any(|c| c.is_lowercase()),
        chars.iter().any(|c| c.is_uppercase()),
        chars.iter().any(|c| c.is_ascii_digit()),
        chars
            .iter()
            .any(|c| !c.is_lowercase() && !c.is_uppercase() && !c.is_ascii_digit()),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    if kinds < 2 && chars.len() < ONE_KIND_FROM {
        return Some(format!(
            "a password under {ONE_KIND_FROM} characters needs two kinds of characters \
             (lower case, upper case, digits, others), or make it longer"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_short_single_kind_and_blank_passwords_are_refused() {
        for (password, why) in [
            ("1234567", "at least 8"),
            ("        ", "white space"),
            ("\t \u{3000}     ", "white space"),
            ("12345678", "most common"),
            ("Password", "most common"),
            ("woaini1314", "most common"),
            ("qwertyuiop", "most common"),
            ("zzzzzzzzzzzzzzzz", "repeats one"),
            ("98127364", "two kinds"),
            ("abcdxyzq", "two kinds"),
            ("值班员密码值班员", "two kinds"),
            ("zhangsan2026", "user's name"),
        ] {
            let got = problem(password, "zhangsan").unwrap_or_default();
            assert!(got.contains(why), "{password:?}: {got:?}");
        }
        for good in [
            "correct horse battery",
            "Tq7-sunrise",
            "景区值班2026",
            "abcdefghjkmnpq",
        ] {
            assert_eq!(problem(good, "zhangsan"), None, "{good}");
        }
        assert!(COMMON
            .lines()
            .all(|l| l.chars().count() >= MIN_LEN && l == l.to_lowercase()));
    }
}
