//! The settings as `check`'s flags: one clap argument per row of [`SETTINGS`], and the values
//! typed on the command line read back for [`Settings::resolve`].

use std::path::Path;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

use super::{Many, SETTINGS, SettingError, Settings};

/// `command` with a flag for every setting that has one. clap reads no variable itself (an
/// empty one would count as a flag given without a value): [`from_matches`] does. The key has
/// no flag: [`env_only_help`] says so.
pub fn with_setting_flags(mut command: Command) -> Command {
    for setting in SETTINGS {
        let Some(flag) = setting.flag else { continue };
        let id = flag.trim_start_matches('-');
        let help = format!(
            "{}\n[env: {}] [default: {}]",
            setting.help, setting.var, setting.default
        );
        let arg = Arg::new(id)
            .long(id)
            .value_name(setting.value_name)
            .help(help)
            .action(match setting.many {
                Many::One | Many::Switch => ArgAction::Set,
                Many::Commas | Many::Lines => ArgAction::Append,
            });
        let arg = match setting.many {
            // `--require-evidence` alone; `--require-evidence=false` to turn it off.
            Many::Switch => arg
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true"),
            _ => arg,
        };
        command = command.arg(arg);
    }
    command
}

/// The settings read from the environment only (the key), for `check`'s help.
pub fn env_only_help() -> String {
    SETTINGS
        .iter()
        .filter(|s| s.flag.is_none())
        .map(|s| {
            format!(
                "  {}\n          {} [default: {}]\n",
                s.var, s.help, s.default
            )
        })
        .collect()
}

/// The settings of a `check` run: each from its flag when one was typed, else from its
/// variable through `var`, else its default.
pub fn from_matches(
    root: &Path,
    var: &dyn Fn(&str) -> Option<String>,
    matches: &ArgMatches,
) -> Result<Settings, SettingError> {
    let flags = |flag: &'static str| -> Option<Vec<String>> {
        let id = flag.trim_start_matches('-');
        if matches.value_source(id) != Some(ValueSource::CommandLine) {
            return None;
        }
        Some(matches.get_many::<String>(id)?.cloned().collect())
    };
    Settings::resolve(root, var, &flags)
}
