#[tokio::main]
async fn main() -> std::process::ExitCode {
    match sunbridge::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the context chain; errors never carry secret values.
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
