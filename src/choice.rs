//! Named choices: the enums a setting names by a word (`--walk-plan chained`, `--fail-on
//! additive`, `--auth bearer`) derive clap's `ValueEnum`, and are parsed and listed from it
//! here, so a new variant is one line and every message lists it.

use clap::ValueEnum;

/// The variant `text` names (case and surrounding space ignored), or a message naming `what`
/// was asked for and the choices.
pub fn parse<T: ValueEnum>(text: &str, what: &str) -> Result<T, String> {
    let word = text.trim().to_ascii_lowercase();
    T::from_str(&word, true)
        .map_err(|_| format!("unknown {what} `{word}` (expected {})", listed::<T>(&[])))
}

/// The choices as a message lists them, `more` after the variants: "`a`, `b` or `c`".
pub fn listed<T: ValueEnum>(more: &[&str]) -> String {
    let mut names: Vec<String> = T::value_variants()
        .iter()
        .filter_map(ValueEnum::to_possible_value)
        .map(|v| v.get_name().to_owned())
        .collect();
    names.extend(more.iter().map(|m| (*m).to_owned()));
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum Fruit {
        Apple,
        BloodOrange,
    }

    #[test]
    fn choices_are_parsed_and_listed_from_the_derive() {
        assert_eq!(
            parse::<Fruit>(" Blood-Orange ", "fruit"),
            Ok(Fruit::BloodOrange)
        );
        assert_eq!(
            parse::<Fruit>("Pear", "fruit"),
            Err("unknown fruit `pear` (expected `apple` or `blood-orange`)".to_owned())
        );
        assert_eq!(
            listed::<Fruit>(&["none"]),
            "`apple`, `blood-orange` or `none`"
        );
    }
}
