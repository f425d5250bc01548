//! `bankflow`: the BankFlow server binary.

use bankflow_http::serve::{migrate, serve, Cli, Command};
use bankflow_http::telemetry::{self, LogFormat};
use clap::Parser;

fn main() -> std::process::ExitCode {
    // The configuration file becomes environment variables, so it is read before the
    // runtime starts any thread (see bankflow_http::config).
    let argv: Vec<String> = std::env::args().collect();
    if let Some(path) = bankflow_http::config::config_path(&argv) {
        if let Err(e) = bankflow_http::config::load(std::path::Path::new(&path)) {
            eprintln!("bankflow: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bankflow: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> std::process::ExitCode {
    let (format, otlp) = match &cli.command {
        Command::Serve(a) => (a.log_format, a.otlp_endpoint.clone()),
        Command::Doctor(a) => (a.log_format, None),
        Command::Migrate(_) => (LogFormat::Text, None),
    };
    let telemetry = match telemetry::init(format, otlp.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bankflow: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Doctor(args) => bankflow_http::doctor::run(&args).await,
    };
    telemetry.shutdown();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "bankflow failed");
            eprintln!("bankflow: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
