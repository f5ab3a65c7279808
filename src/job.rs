//! Job files: what a scheduler runs, written once instead of on every command line.
//!
//! A job file (TOML, see `jobs/monthly.toml`) names the ledger, the orders and claims paths
//! with a `{month}` placeholder, the policy file, the zone for timestamps written without one,
//! the first month of an empty ledger, and the run settings (`strict`, `csv_bom`). Relative
//! paths in a job file are relative to the job file's folder, so a scheduler may start the
//! job from any working directory. Flags given on the command line override the file.
//!
//! Everything wrong with a job (an unreadable file, an unknown setting, a placeholder other
//! than `{month}`, a path nobody gave) is a `UsageError`: the command was asked the wrong
//! thing, and nothing was read or written.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;

use crate::calendar::{Month, BUSINESS_ZONE};
use crate::model::InstantNs;
use crate::output::CsvStyle;
use crate::policy::Policy;
use crate::run::RunRequest;

/// The command was asked something it cannot do; the CLI exits with its usage code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// A job file as written. Every setting is optional: a flag may give it instead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFile {
    pub ledger: Option<PathBuf>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub orders: Option<Vec<String>>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub claims: Option<Vec<String>>,
    pub policy: Option<PathBuf>,
    /// Replaces the policy's `naive_timestamp_zone`.
    pub naive_timestamp_zone: Option<String>,
    /// The month a backfill starts from when the ledger is still empty.
    pub first_month: Option<Month>,
    #[serde(default)]
    pub strict: bool,
    #[serde(default)]
    pub csv_bom: bool,
}

/// `orders = "a/{month}.parquet"` and `orders = ["a", "b"]` both read.
fn one_or_many<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Some(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(path) => vec![path],
        OneOrMany::Many(paths) => paths,
    }))
}

/// A job file with the folder its relative paths start from.
#[derive(Debug, Clone)]
pub struct Job {
    pub path: PathBuf,
    pub file: JobFile,
}

impl Job {
    pub fn load(path: &Path) -> anyhow::Result<Job> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read job file {}: {e}", path.display())))?;
        let file: JobFile = toml::from_str(&text)
            .map_err(|e| usage(format!("job file {} is not valid: {e}", path.display())))?;
        Ok(Job {
            path: path.to_path_buf(),
            file,
        })
    }

    /// A path written in the job file, made relative to the job file's folder.
    fn resolve(&self, written: &Path) -> PathBuf {
        if written.is_absolute() {
            return written.to_path_buf();
        }
        let folder = self.path.parent().unwrap_or(Path::new(""));
        folder.join(written)
    }

    fn resolve_text(&self, written: &str) -> String {
        self.resolve(Path::new(written))
            .to_string_lossy()
            .into_owned()
    }
}

/// What the command line says, each setting overriding the job file's.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub ledger: Option<PathBuf>,
    pub orders: Vec<PathBuf>,
    pub claims: Vec<PathBuf>,
    pub policy: Option<PathBuf>,
    pub naive_timestamp_zone: Option<String>,
    pub strict: bool,
    pub csv_bom: bool,
}

/// A job with flags applied: everything a run of any month needs except the month.
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub ledger: PathBuf,
    pub orders: Vec<PathTemplate>,
    pub claims: Vec<PathTemplate>,
    pub policy: Policy,
    pub strict: bool,
    pub csv: CsvStyle,
    pub first_month: Option<Month>,
}

impl JobSettings {
    /// Applies `flags` over `job` (when there is one) and loads the policy.
    pub fn resolve(job: Option<&Job>, flags: Flags) -> anyhow::Result<JobSettings> {
        let empty = JobFile::default();
        let file = job.map_or(&empty, |job| &job.file);
        let from_job = |written: &Path| job.map_or(written.to_path_buf(), |j| j.resolve(written));
        let where_from = match job {
            Some(job) => format!("the job file {} names none", job.path.display()),
            None => "no --job file was given".to_string(),
        };

        let ledger = match (flags.ledger, &file.ledger) {
            (Some(flag), _) => flag,
            (None, Some(written)) => from_job(written),
            (None, None) => return Err(usage(format!("no ledger: pass --ledger ({where_from})"))),
        };
        let orders = templates("orders", flags.orders, &file.orders, job, &where_from)?;
        let claims = templates("claims", flags.claims, &file.claims, job, &where_from)?;
        let policy_path = flags
            .policy
            .or_else(|| file.policy.as_deref().map(from_job));
        let mut policy = match &policy_path {
            Some(path) => Policy::load(path)?,
            None => Policy::default(),
        };
        if let Some(zone) = flags
            .naive_timestamp_zone
            .or(file.naive_timestamp_zone.clone())
        {
            policy.naive_timestamp_zone = zone;
            policy
                .rules()
                .map_err(|e| usage(format!("naive_timestamp_zone: {e:#}")))?;
        }
        Ok(JobSettings {
            ledger,
            orders,
            claims,
            policy,
            strict: flags.strict || file.strict,
            csv: CsvStyle {
                bom: flags.csv_bom || file.csv_bom,
            },
            first_month: file.first_month,
        })
    }

    /// The run request for one month: every `{month}` replaced.
    pub fn request(&self, month: Month, correction: Option<String>) -> RunRequest {
        RunRequest {
            month,
            orders: self.orders.iter().map(|t| t.expand(month)).collect(),
            claims: self.claims.iter().map(|t| t.expand(month)).collect(),
            ledger: self.ledger.clone(),
            policy: self.policy.clone(),
            strict: self.strict,
            correction,
        }
    }
}

fn templates(
    what: &str,
    flags: Vec<PathBuf>,
    written: &Option<Vec<String>>,
    job: Option<&Job>,
    where_from: &str,
) -> anyhow::Result<Vec<PathTemplate>> {
    let texts: Vec<String> = if !flags.is_empty() {
        flags
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    } else {
        match (written, job) {
            (Some(paths), Some(job)) => paths.iter().map(|p| job.resolve_text(p)).collect(),
            (Some(paths), None) => paths.clone(),
            (None, _) => {
                return Err(usage(format!(
                    "no {what} paths: pass --{what} ({where_from})"
                )))
            }
        }
    };
    if texts.is_empty() {
        return Err(usage(format!("the {what} list is empty")));
    }
    texts.into_iter().map(|t| PathTemplate::parse(&t)).collect()
}

/// A path that may hold `{month}`, replaced by `YYYY-MM` for each month run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate(String);

impl PathTemplate {
    pub const PLACEHOLDER: &'static str = "{month}";

    /// Refuses any other `{word}`, which is far more likely a typo (`{Month}`, `{yyyy-mm}`)
    /// than a folder named with braces.
    pub fn parse(text: &str) -> anyhow::Result<PathTemplate> {
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                break;
            };
            let word = &after[..close];
            let is_word = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if is_word && word != "month" {
                return Err(usage(format!(
                    "path {text:?} holds {{{word}}}; the only placeholder is {{month}}"
                )));
            }
            rest = &after[close + 1..];
        }
        Ok(PathTemplate(text.to_string()))
    }

    pub fn expand(&self, month: Month) -> PathBuf {
        PathBuf::from(self.0.replace(Self::PLACEHOLDER, &month.to_string()))
    }

    pub fn has_placeholder(&self) -> bool {
        self.0.contains(Self::PLACEHOLDER)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A month as given on the command line: `YYYY-MM`, or `current` / `previous`, the Tokyo
/// month of the moment the command starts and the one before it. The words let a scheduler
/// name the month without `date`, whose result depends on the host's zone: at 00:30 JST on
/// the 1st, a host on UTC is still in the previous month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthArg {
    Month(Month),
    Current,
    Previous,
}

impl std::str::FromStr for MonthArg {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<MonthArg> {
        match text {
            "current" => Ok(MonthArg::Current),
            "previous" => Ok(MonthArg::Previous),
            _ if text.contains('-') => text.parse::<Month>().map(MonthArg::Month),
            _ => anyhow::bail!("month {text:?} is not YYYY-MM, `current` or `previous`"),
        }
    }
}

impl MonthArg {
    /// The month meant, with `now_ns` the instant the command started.
    pub fn resolve(self, now_ns: InstantNs) -> Month {
        match self {
            MonthArg::Month(month) => month,
            MonthArg::Current => month_containing(now_ns),
            MonthArg::Previous => month_containing(now_ns).previous(),
        }
    }
}

/// The Tokyo calendar month an instant lies in.
pub fn month_containing(instant_ns: InstantNs) -> Month {
    let tokyo = DateTime::<Utc>::from_timestamp_nanos(instant_ns).with_timezone(&BUSINESS_ZONE);
    Month::new(tokyo.year(), tokyo.month()).expect("an instant of years 1677-2262 is a month")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> InstantNs {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    }

    fn month(text: &str) -> Month {
        text.parse().unwrap()
    }

    #[test]
    fn current_and_previous_are_tokyo_months_whatever_the_host_zone() {
        // 2016-01-31T15:30Z is 2016-02-01 00:30 in Tokyo.
        let now = utc("2016-01-31T15:30:00Z");
        assert_eq!(MonthArg::Current.resolve(now), month("2016-02"));
        assert_eq!(MonthArg::Previous.resolve(now), month("2016-01"));
        let new_year = utc("2015-12-31T15:00:00Z");
        assert_eq!(MonthArg::Previous.resolve(new_year), month("2015-12"));
        assert_eq!(
            "2015-10".parse::<MonthArg>().unwrap().resolve(now),
            month("2015-10")
        );
        assert!("last".parse::<MonthArg>().is_err());
    }

    #[test]
    fn month_placeholders_expand_and_typos_are_refused() {
        let template = PathTemplate::parse("data/{month}/orders-{month}.parquet").unwrap();
        assert_eq!(
            template.expand(month("2015-11")),
            PathBuf::from("data/2015-11/orders-2015-11.parquet")
        );
        for typo in ["data/{Month}/o.parquet", "data/{yyyy-mm}/o.parquet"] {
            let error = PathTemplate::parse(typo).unwrap_err().to_string();
            assert!(error.contains("the only placeholder is {month}"), "{error}");
        }
        assert!(PathTemplate::parse("data/{}/x").is_ok());
    }

    #[test]
    fn flags_override_the_job_file_and_relative_paths_follow_the_file() {
        let job = Job {
            path: PathBuf::from("/etc/settle/monthly.toml"),
            file: toml::from_str(
                r#"
                ledger = "ledger"
                orders = "in/{month}/orders"
                claims = ["/claims/{month}.parquet"]
                naive_timestamp_zone = "UTC"
                csv_bom = true
                "#,
            )
            .unwrap(),
        };
        let from_file = JobSettings::resolve(Some(&job), Flags::default()).unwrap();
        assert_eq!(from_file.ledger, PathBuf::from("/etc/settle/ledger"));
        let request = from_file.request(month("2015-12"), None);
        assert_eq!(
            request.orders,
            [PathBuf::from("/etc/settle/in/2015-12/orders")]
        );
        assert_eq!(request.claims, [PathBuf::from("/claims/2015-12.parquet")]);
        assert_eq!(request.policy.naive_timestamp_zone, "UTC");
        assert!(from_file.csv.bom);

        let flags = Flags {
            ledger: Some(PathBuf::from("other")),
            orders: vec![PathBuf::from("o/{month}.parquet")],
            naive_timestamp_zone: Some("Asia/Tokyo".into()),
            ..Flags::default()
        };
        let overridden = JobSettings::resolve(Some(&job), flags).unwrap();
        assert_eq!(overridden.ledger, PathBuf::from("other"));
        let request = overridden.request(month("2016-01"), None);
        assert_eq!(request.orders, [PathBuf::from("o/2016-01.parquet")]);
        assert_eq!(request.policy.naive_timestamp_zone, "Asia/Tokyo");
    }

    #[test]
    fn a_setting_nobody_gave_is_a_usage_error_naming_the_flag() {
        let error = JobSettings::resolve(None, Flags::default()).unwrap_err();
        assert!(error.downcast_ref::<UsageError>().is_some());
        assert!(error.to_string().contains("--ledger"), "{error}");

        let unknown = toml::from_str::<JobFile>("ledgr = \"x\"").unwrap_err();
        assert!(unknown.to_string().contains("ledgr"), "{unknown}");
    }

    #[test]
    fn the_shipped_job_file_names_the_sample_months() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/monthly.toml");
        let job = Job::load(&path).unwrap();
        let settings = JobSettings::resolve(Some(&job), Flags::default()).unwrap();
        let request = settings.request(month("2015-10"), None);
        for file in request.orders.iter().chain(&request.claims) {
            assert!(file.is_file(), "{} is not a file", file.display());
        }
        assert_eq!(settings.first_month, Some(month("2015-10")));
    }
}
