//! Run with `cargo run --example typed_output` (or `-- "a city"`).
//!
//! Structured Outputs from a Rust type: `#[derive(JsonSchema)]` gives the strict schema,
//! `create_chat_completion_parsed_stream::<CityGuide>` sends it as the `response_format`,
//! shows the JSON as it grows, and parses the answer into the struct at the end. A refusal
//! is printed as such. Offline (without `OPENAI_API_KEY`) a mock that only answers requests
//! carrying the `CityGuide` schema plays the model.

use std::io::Write;
use std::process::ExitCode;

use chat_core::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use chat_core::ParsedEvent;
use chat_examples::{connect, Env, Error};
use chat_mock::{Match, MockResponse, MockStream};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The city asked about when none is given.
pub const CITY: &str = "Lisbon";

/// A short guide to a city, as the model must return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CityGuide {
    /// The city.
    pub city: String,
    /// The country it is in.
    pub country: String,
    /// Places to see, best first.
    pub sights: Vec<Sight>,
    /// The best month to visit, if there is one.
    pub best_month: Option<Month>,
}

/// One place to see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Sight {
    /// Its name.
    pub name: String,
    /// What kind of place it is.
    pub kind: SightKind,
}

/// What kind of place a [`Sight`] is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SightKind {
    /// A museum or gallery.
    Museum,
    /// A monument or building.
    Monument,
    /// A park, beach or view point.
    Outdoors,
    /// A district or street to walk.
    Neighbourhood,
}

/// A month of the year (the few the mock needs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub enum Month {
    April,
    May,
    June,
    September,
    October,
}

/// The guide the mock answers with.
pub fn mock_guide() -> CityGuide {
    let sight = |name: &str, kind| Sight {
        name: name.to_owned(),
        kind,
    };
    CityGuide {
        city: CITY.to_owned(),
        country: "Portugal".to_owned(),
        sights: vec![
            sight("Belém Tower", SightKind::Monument),
            sight("Alfama", SightKind::Neighbourhood),
            sight("Gulbenkian Museum", SightKind::Museum),
        ],
        best_month: Some(Month::May),
    }
}

/// Asks for a guide to `args[0]` (or [`CITY`]); prints the sights as they stream in, then
/// the parsed guide.
pub async fn run(
    args: &[String],
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let city = args.first().map_or(CITY, String::as_str);
    let request = CreateChatCompletionRequest::new(
        env.model(),
        [
            Message::system("You are a travel guide."),
            Message::user(format!("A short guide to {city}.")),
        ],
    );

    let connection = connect(env, err, |mock| {
        let guide = serde_json::to_string(&mock_guide()).unwrap_or_default();
        mock.on(Match::chat().body_json(json!({
            "response_format": {"type": "json_schema", "json_schema": {"name": "CityGuide", "strict": true}}
        })))
        .respond(MockResponse::stream(MockStream::text(guide).chunk_chars(12)))
        .always();
    })?;
    let mut stream = connection
        .client
        .create_chat_completion_parsed_stream::<CityGuide>(&request)
        .await?;

    // Each piece of text comes with the JSON so far: show each sight once its name is whole.
    let mut shown = 0;
    let mut guide = None;
    while let Some(event) = stream.next().await {
        match event? {
            ParsedEvent::ContentDelta {
                snapshot: Some(so_far),
                ..
            } => {
                let sights = so_far["sights"].as_array().cloned().unwrap_or_default();
                // The last sight may still be growing; the ones before it are complete.
                while shown + 1 < sights.len() {
                    let name = sights[shown]["name"].as_str().unwrap_or("?");
                    writeln!(out, "streaming   sight {}: {name}", shown + 1)?;
                    shown += 1;
                }
            }
            ParsedEvent::Completed(done) => guide = Some(done),
            _ => {}
        }
    }
    let Some(done) = guide else {
        return Err("the stream ended without an answer".into());
    };
    if let Some(refusal) = done.refusal() {
        writeln!(out, "the model refused: {refusal}")?;
        return Ok(());
    }
    let Some(guide) = done.parsed() else {
        return Err("the answer has no choice".into());
    };
    writeln!(out, "{}, {}", guide.city, guide.country)?;
    for (n, sight) in guide.sights.iter().enumerate() {
        writeln!(out, "  {}. {} ({:?})", n + 1, sight.name, sight.kind)?;
    }
    match guide.best_month {
        Some(month) => writeln!(out, "best month: {month:?}")?,
        None => writeln!(out, "any month is fine")?,
    }
    Ok(())
}

/// Runs the example with the process arguments and environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&args, &Env::from_process(), &mut out, &mut err).await)
}
