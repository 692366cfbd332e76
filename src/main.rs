use clap::Parser;

fn main() {
    // A panic inside one check becomes that check's `error` result (the engine catches
    // it); say so in one line instead of a backtrace that may echo request data.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("launchgate: internal error{at}; please report it");
    }));
    let cli = launchgate::cli::Cli::parse();
    std::process::exit(launchgate::app::run(cli));
}
