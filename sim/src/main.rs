//! `minknow-sim`: see `minknow-sim --help`.

use std::process::ExitCode;

use minknow_sim::cli::{self, Command};

fn main() -> ExitCode {
    let options = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("minknow-sim: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("minknow-sim: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(minknow_sim::run::run(*options));
    // Exit at once: a blocking stdin read would otherwise keep the runtime alive.
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("minknow-sim: {e}");
            1
        }
    };
    std::process::exit(code)
}
