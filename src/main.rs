// mimalloc returns freed memory to the system promptly and keeps per-thread caches small:
// with the system allocator, each thread that ever ran an argon2 hash kept a 19 MiB arena.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
