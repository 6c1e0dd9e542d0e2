//! The `sunbridge` command line.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use crate::access::Role;
use crate::audit::Actor;
use crate::auth::{self, EmailAddress, NewAccount, Password, PasswordHasher, PersonName};
use crate::config::Settings;
use crate::startup::Application;

#[derive(Parser)]
#[command(name = "sunbridge", version, about = "The Sunbridge solar marketplace server")]
pub struct Cli {
    /// TOML configuration file (keys as in the README; SUNBRIDGE_* variables override it).
    #[arg(long, short, global = true, env = "SUNBRIDGE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (pages and JSON API).
    Serve {
        /// Address to listen on, overriding `listen` (port 0 picks a free port).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Fill an empty database with demo accounts first (development only).
        #[arg(long)]
        demo: bool,
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Fill the database with demo accounts for a first look (development only).
    SeedDemo,
    /// Check the configuration and list every problem, without starting.
    CheckConfig,
    /// Probe this machine's server (`GET /healthz` on the `listen` port): exit 0 when it
    /// answers. For container HEALTHCHECKs in images without a shell.
    Healthcheck,
    /// Measure one password hash (argon2id at the configured cost) on this machine, and the
    /// sign-in capacity it allows: cores ÷ hash time.
    HashCost,
    /// Print every route with the permission it declares and the roles that hold it (S-AC-1).
    Routes,
    /// Print the policy table: each role and its permissions (S-AC-2).
    Policy,
    /// Administration tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The audit trail's hash chain.
    #[command(subcommand, name = "audit-log")]
    AuditLog(AuditLogCommand),
    /// The data keys of encryption at rest.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Write the OWASP Top 10 (2021) security report of this configuration and database, as
    /// Markdown and JSON; exit 1 when a control fails.
    Audit {
        /// A running server to probe (TLS, HSTS, headers, errors, metrics exposure).
        #[arg(long, value_name = "URL")]
        url: Option<url::Url>,
        /// A RustSec advisory-db checkout to check this build's dependencies against.
        #[arg(long, value_name = "DIR")]
        advisory_db: Option<PathBuf>,
        /// The deployment files (Dockerfile, kubernetes/, prometheus/); `./deploy` when it exists.
        #[arg(long, value_name = "DIR")]
        deploy: Option<PathBuf>,
        /// Where to write `security-report.md` and `security-report.json`.
        #[arg(long, value_name = "DIR", default_value = "security-report")]
        out: PathBuf,
    },
    /// Estimate a system's AC energy from a TMY3 weather file with the PVWatts model: monthly
    /// and annual kWh.
    Simulate {
        /// TMY3 file (CSV).
        #[arg(long, value_name = "FILE")]
        tmy: PathBuf,
        /// DC nameplate, kW.
        #[arg(long, default_value_t = 1.0)]
        kw: f64,
        /// Tilt from horizontal, degrees.
        #[arg(long, default_value_t = 20.0)]
        tilt: f64,
        /// Azimuth, degrees clockwise from north (180 faces south).
        #[arg(long, default_value_t = 180.0)]
        azimuth: f64,
        /// Print {"monthly_kwh": [12 values], "annual_kwh": x}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List the data keys: id, provider, created, retired.
    List,
    /// Add a data key (it encrypts from now on), re-encrypt every sealed field and file under
    /// it in batches while the servers run, and retire keys nothing uses any more.
    Rotate {
        /// Seconds to wait after the new key exists, so writes in flight finish first.
        #[arg(long, default_value_t = 2)]
        settle_secs: u64,
    },
}

#[derive(Subcommand)]
enum AuditLogCommand {
    /// Walk the chain and its signed checkpoints; name the first row edited, deleted or
    /// inserted out of band, or a cut-off tail. Exits 1 when the trail was tampered with.
    Verify {
        /// A checkpoint kept elsewhere (the `audit checkpoint written` log line): the chain
        /// must reach this position…
        #[arg(long, value_name = "SEQ", requires = "expect_hash")]
        expect_seq: Option<i64>,
        /// …with this hash.
        #[arg(long, value_name = "HASH", requires = "expect_seq")]
        expect_hash: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account. The password is read from standard input (prompted on a terminal).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// customer, installer, support, sales, engineer or admin.
        #[arg(long)]
        role: Role,
    },
    /// Rebuild the words customers are searched by, for accounts written around the
    /// application (a bulk import, a restore from a dump taken before the index existed).
    /// Safe while servers run.
    ReindexSearch,
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { listen, demo } => {
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            crate::telemetry::init(&settings.log_level, std::io::stdout)?;
            let app = Application::build(settings).await?;
            if demo {
                crate::demo::seed(&app.state).await?;
            }
            let url = app.url();
            tracing::info!(url = %url, database = app.state.settings.database_backend_name(), "listening");
            // Humans and scripts read this line; logs go to stdout as JSON.
            eprintln!("Sunbridge is running at {url}  (Ctrl-C to stop)");
            app.run_until_stopped(crate::startup::shutdown_signal()).await
        }
        Command::Migrate => {
            let db = crate::db::connect(&settings.database_url(), 2).await?;
            crate::db::migrate(&db).await?;
            println!("The {} database is up to date.", settings.database_backend_name());
            Ok(())
        }
        Command::SeedDemo => {
            let app_state = build_state_for_cli(settings).await?;
            crate::demo::seed(&app_state).await
        }
        Command::Routes => {
            let limits = crate::access::routes::BodyLimits::from_settings(&settings);
            let (_, table) = crate::startup::routes(&settings).finish(limits);
            let mut routes = table.routes().to_vec();
            routes.sort_by_key(|r| (r.path, r.method.to_string()));
            for r in routes {
                let (permission, roles) = match r.access {
                    crate::access::Access::Public => ("public".to_owned(), "anyone".to_owned()),
                    crate::access::Access::Needs(p) => (
                        p.name().to_owned(),
                        crate::access::policy::roles_with(p)
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                };
                println!(
                    "{:<7} {:<48} {:<28} {}",
                    r.method.as_str(),
                    r.path,
                    permission,
                    roles
                );
            }
            Ok(())
        }
        Command::Policy => {
            for (role, permissions) in crate::access::policy::POLICY {
                let names: Vec<_> = permissions.iter().map(|p| p.name()).collect();
                println!("{:<10} {}", role.as_str(), names.join(", "));
            }
            Ok(())
        }
        Command::Healthcheck => healthcheck(&settings).await,
        Command::CheckConfig => {
            let problems = settings.problems();
            println!("{settings:#?}");
            if problems.is_empty() {
                println!("No problems found.");
                Ok(())
            } else {
                anyhow::bail!("{} problem(s):\n  - {}", problems.len(), problems.join("\n  - "))
            }
        }
        Command::HashCost => {
            let hasher = PasswordHasher::new(1)?;
            let password = Password::parse(SecretString::from(crate::crypto::random_token()), &[])?;
            let mut times = Vec::new();
            for _ in 0..7 {
                let started = std::time::Instant::now();
                hasher.hash_blocking(&password)?;
                times.push(started.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            println!(
                "argon2id m=19456 KiB t=2 p=1: {:.1} ms per hash (median of 7); {cores} cores: at most {:.0} sign-ins/s",
                median * 1000.0,
                cores as f64 / median
            );
            // The same hashes on every core at once: memory-hard hashing shares caches and
            // memory bandwidth, so this is what the machine really sustains.
            let started = std::time::Instant::now();
            let rounds = 10;
            std::thread::scope(|scope| {
                for _ in 0..cores {
                    scope.spawn(|| {
                        for _ in 0..rounds {
                            let _ = hasher.hash_blocking(&password);
                        }
                    });
                }
            });
            let rate = (cores * rounds) as f64 / started.elapsed().as_secs_f64();
            println!("all {cores} cores hashing at once: {rate:.0} hashes/s");
            Ok(())
        }
        Command::Keys(command) => keys(settings, command).await,
        Command::Audit {
            url,
            advisory_db,
            deploy,
            out,
        } => audit(settings, url, advisory_db, deploy, &out).await,
        Command::AuditLog(AuditLogCommand::Verify {
            expect_seq,
            expect_hash,
            json,
        }) => verify_audit_log(settings, expect_seq.zip(expect_hash), json).await,
        Command::Admin(AdminCommand::CreateUser { email, name, role }) => {
            create_user(settings, &email, &name, role).await
        }
        Command::Admin(AdminCommand::ReindexSearch) => {
            let db = crate::db::connect(&settings.database_url(), 2).await?;
            let accounts = crate::auth::search::rebuild(&db).await?;
            println!("search words rebuilt for {accounts} accounts");
            Ok(())
        }
        Command::Simulate {
            tmy,
            kw,
            tilt,
            azimuth,
            json,
        } => simulate(&tmy, kw, tilt, azimuth, json),
    }
}

fn simulate(path: &std::path::Path, kw: f64, tilt: f64, azimuth: f64, json: bool) -> anyhow::Result<()> {
    use crate::sizing::{pvwatts, tmy::Tmy};
    let file = std::fs::File::open(path).with_context(|| format!("Failed to open {}", path.display()))?;
    let tmy =
        Tmy::parse(std::io::BufReader::new(file)).with_context(|| format!("{} refused", path.display()))?;
    let spec = pvwatts::SystemSpec::new(kw, tilt, azimuth)?;
    let production = pvwatts::simulate(&tmy, &spec);
    if json {
        #[derive(serde::Serialize)]
        struct Totals {
            monthly_kwh: [f64; 12],
            annual_kwh: f64,
        }
        let totals = Totals {
            monthly_kwh: production.monthly_kwh,
            annual_kwh: production.annual_kwh,
        };
        println!("{}", serde_json::to_string(&totals)?);
        return Ok(());
    }
    let station = &tmy.station;
    println!(
        "{} {}, {}: {kw} kW DC, tilt {tilt}°, azimuth {azimuth}°",
        station.id, station.name, station.state
    );
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    for (month, kwh) in months.iter().zip(production.monthly_kwh) {
        println!("{month}  {kwh:8.1} kWh");
    }
    println!("Year {:8.1} kWh AC", production.annual_kwh);
    Ok(())
}

async fn healthcheck(settings: &Settings) -> anyhow::Result<()> {
    let scheme = if settings.tls_enabled() { "https" } else { "http" };
    let url = format!("{scheme}://127.0.0.1:{}/healthz", settings.listen.port());
    // Our own certificate is for the public name, not 127.0.0.1: this local probe does not check it.
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .danger_accept_invalid_certs(true)
        .no_proxy()
        .build()?;
    let status = client
        .get(&url)
        .send()
        .await
        .context("the server does not answer")?
        .status();
    anyhow::ensure!(status.is_success(), "the server answered {status}");
    Ok(())
}

async fn keys(settings: Settings, command: KeysCommand) -> anyhow::Result<()> {
    let db = crate::db::connect(&settings.database_url(), 2).await?;
    crate::crypto::keys::register(std::sync::Arc::new(
        crate::crypto::keys::LocalKeyProvider::from_encoded(settings.master_key_or_dev()?.expose_secret())?,
    ));
    match command {
        KeysCommand::List => {
            for k in crate::crypto::keys::list(&db).await? {
                let state = match k.retired_at {
                    Some(at) => format!("retired {}", at.format("%Y-%m-%d %H:%M")),
                    None => "in use".to_owned(),
                };
                println!(
                    "{}  {:<6} created {}  {state}",
                    k.id,
                    k.provider,
                    k.created_at.format("%Y-%m-%d %H:%M")
                );
            }
            Ok(())
        }
        KeysCommand::Rotate { settle_secs } => {
            let files = crate::files::FileStore::open(&settings, &db)?;
            let report =
                crate::crypto::rotation::rotate(&db, &files, std::time::Duration::from_secs(settle_secs))
                    .await?;
            println!("New data key {} encrypts from now on.", report.new_key);
            for (column, n) in &report.reencrypted {
                println!("  {column}: {n} re-encrypted");
            }
            println!("  files: {} re-encrypted", report.files);
            if report.retired.is_empty() {
                println!("No key retired.");
            } else {
                println!("Retired (nothing uses them): {}", report.retired.join(", "));
            }
            Ok(())
        }
    }
}

async fn audit(
    settings: Settings,
    url: Option<url::Url>,
    advisory_db: Option<PathBuf>,
    deploy: Option<PathBuf>,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let db = crate::db::connect(&settings.database_url(), 2).await?;
    crate::crypto::keys::register(std::sync::Arc::new(
        crate::crypto::keys::LocalKeyProvider::from_encoded(settings.master_key_or_dev()?.expose_secret())?,
    ));
    let secret_key = settings.secret_key_or_dev()?;
    let deploy = deploy.or_else(|| Some(PathBuf::from("deploy")).filter(|d| d.join("Dockerfile").is_file()));
    let throttle = crate::auth::throttle::Rules::default();
    let inputs = crate::security_report::Inputs {
        settings: &settings,
        db: &db,
        checkpoint_key: settings.audit_checkpoint_key_or_derived(&secret_key),
        throttle: &throttle,
        url,
        advisory_db,
        deploy_dir: deploy,
    };
    let report = crate::security_report::run(&inputs).await?;
    std::fs::create_dir_all(out).with_context(|| format!("Failed to create {}", out.display()))?;
    let md = out.join("security-report.md");
    let json = out.join("security-report.json");
    std::fs::write(&md, crate::security_report::render::markdown(&report))
        .with_context(|| format!("Failed to write {}", md.display()))?;
    std::fs::write(&json, crate::security_report::render::json(&report)?)
        .with_context(|| format!("Failed to write {}", json.display()))?;
    for c in &report.categories {
        println!("{} {:<45} {}", c.id, c.name, c.status.label());
        for k in c
            .controls
            .iter()
            .filter(|k| k.status == crate::security_report::Status::Fail)
        {
            println!("      FAIL {} {}", k.id, k.title);
        }
    }
    let (pass, warn, fail, unchecked) = report.counts();
    println!(
        "Overall {}: {pass} pass, {warn} warn, {fail} fail, {unchecked} not checked. Written to {} and {}.",
        report.status.label(),
        md.display(),
        json.display()
    );
    if report.failed() {
        // A distinct exit code for CI and scripts; the report says what failed.
        std::process::exit(1)
    }
    Ok(())
}

async fn verify_audit_log(
    settings: Settings,
    expect: Option<(i64, String)>,
    json: bool,
) -> anyhow::Result<()> {
    let db = crate::db::connect(&settings.database_url(), 2).await?;
    let secret_key = settings.secret_key_or_dev()?;
    let key = settings.audit_checkpoint_key_or_derived(&secret_key);
    let report =
        crate::audit::chain::verify(&db, &key, expect.as_ref().map(|(s, h)| (*s, h.as_str()))).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "Checked {} rows and {} signed checkpoints; the chain ends at position {} ({}).",
            report.checked, report.checkpoints, report.last_seq, report.last_hash
        );
        if let Some(problem) = &report.problem {
            println!("TAMPERED: {}", problem.message);
        } else {
            println!("The audit trail is intact.");
        }
    }
    if report.ok() {
        Ok(())
    } else {
        // A distinct exit code for scripts and alerts; the report says what was found.
        std::process::exit(1)
    }
}

async fn build_state_for_cli(mut settings: Settings) -> anyhow::Result<crate::state::AppState> {
    // Port 0: the CLI never serves, it only needs the state.
    settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    Ok(Application::build(settings).await?.state)
}

async fn create_user(settings: Settings, email: &str, name: &str, role: Role) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = PersonName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let raw = read_password()?;
    let password = Password::parse(raw, &[email.as_str(), name.as_str()])
        .map_err(|e| anyhow::anyhow!("password refused: {e}"))?;
    let hash = PasswordHasher::new(1)?.hash_blocking(&password)?;

    let db = crate::db::connect(&settings.database_url(), 2).await?;
    crate::db::migrate(&db).await?;
    let account = NewAccount {
        email,
        name,
        role,
        password_hash: Some(hash),
        email_verified: true,
    };
    let id = auth::create_account(&db, account, &Actor::cli())
        .await
        .context("Failed to create the account")?;
    println!("Created {role} account {id}.");
    if role.is_staff() {
        println!("At first sign-in the account must enrol a second factor before it can do anything else.");
    }
    Ok(())
}

/// On a terminal: prompt twice without echo. Otherwise: the first line of standard input,
/// without its line ending (the password is otherwise taken exactly as typed).
fn read_password() -> anyhow::Result<SecretString> {
    if std::io::stdin().is_terminal() {
        let first = SecretString::from(rpassword::prompt_password("Password: ")?);
        let second = SecretString::from(rpassword::prompt_password("Repeat password: ")?);
        anyhow::ensure!(
            first.expose_secret() == second.expose_secret(),
            "the passwords differ"
        );
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("Failed to read the password from standard input")?;
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    let password = SecretString::from(trimmed.to_owned());
    line.clear();
    anyhow::ensure!(
        !password.expose_secret().is_empty(),
        "no password on standard input"
    );
    Ok(password)
}
