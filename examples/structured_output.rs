//! Run with `cargo run --example structured_output` (or `-- "a dish"`).
//!
//! Structured Outputs: the request carries a JSON Schema as its `response_format`, the model
//! answers with JSON that matches it, and serde parses the answer into a Rust struct.
//! Offline (without `OPENAI_API_KEY`) a mock that only answers requests with the schema plays
//! the model.

use std::io::Write;
use std::process::ExitCode;

use chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest, ResponseFormat,
};
use chat_examples::{connect, Env, Error};
use chat_mock::{Match, MockResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The dish asked for when none is given.
pub const DISH: &str = "pancakes";

/// A recipe, as the model must return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// The name of the dish.
    pub title: String,
    /// How many people it feeds.
    pub servings: u32,
    /// What goes in.
    pub ingredients: Vec<Ingredient>,
    /// What to do, in order.
    pub steps: Vec<String>,
}

/// One ingredient of a [`Recipe`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ingredient {
    /// The ingredient.
    pub name: String,
    /// How much, with its unit.
    pub quantity: String,
}

/// The JSON Schema of [`Recipe`], in the subset strict mode accepts: every property
/// required, no additional properties.
pub fn recipe_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "servings": {"type": "integer"},
            "ingredients": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "quantity": {"type": "string"}
                    },
                    "required": ["name", "quantity"],
                    "additionalProperties": false
                }
            },
            "steps": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["title", "servings", "ingredients", "steps"],
        "additionalProperties": false
    })
}

/// The recipe the mock answers with.
pub fn mock_recipe() -> Recipe {
    let ingredient = |name: &str, quantity: &str| Ingredient {
        name: name.to_owned(),
        quantity: quantity.to_owned(),
    };
    Recipe {
        title: "Simple pancakes".to_owned(),
        servings: 4,
        ingredients: vec![
            ingredient("flour", "200 g"),
            ingredient("milk", "300 ml"),
            ingredient("eggs", "2"),
            ingredient("butter", "1 tbsp, melted"),
        ],
        steps: vec![
            "Whisk the flour, milk and eggs into a smooth batter.".to_owned(),
            "Stir in the melted butter and rest the batter for 10 minutes.".to_owned(),
            "Cook ladlefuls in a hot pan, about a minute per side.".to_owned(),
        ],
    }
}

/// Asks for a recipe of `args[0]` (or [`DISH`]) as JSON, parses it and prints it to `out`.
pub async fn run(
    args: &[String],
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let dish = args.first().map_or(DISH, String::as_str);
    let request = CreateChatCompletionRequest::new(
        env.model(),
        [
            Message::system("You are a cook. Answer with a recipe."),
            Message::user(format!("A recipe for {dish}, please.")),
        ],
    )
    .response_format(
        ResponseFormat::json_schema("recipe", recipe_schema())
            .description("A recipe with ingredients and steps")
            .strict(true),
    );

    let connection = connect(env, err, |mock| {
        // The mock answers only requests that carry the schema, as the real model would
        // only be bound to it then.
        let recipe = serde_json::to_string(&mock_recipe()).unwrap_or_default();
        mock.on(Match::chat().body_json(json!({
            "response_format": {"type": "json_schema", "json_schema": {"name": "recipe", "strict": true}}
        })))
        .respond(MockResponse::text(recipe))
        .always();
    })?;
    let response = connection.client.create_chat_completion(&request).await?;

    // The JSON answer as a `Recipe`; a refusal, an answer cut short (max tokens, content
    // filter) or JSON of another shape is a `ContentError` saying which.
    let recipe: Recipe = response.parse_content()?;

    writeln!(out, "{} (serves {})", recipe.title, recipe.servings)?;
    writeln!(out, "ingredients:")?;
    for i in &recipe.ingredients {
        writeln!(out, "  - {}: {}", i.name, i.quantity)?;
    }
    writeln!(out, "steps:")?;
    for (n, step) in recipe.steps.iter().enumerate() {
        writeln!(out, "  {}. {step}", n + 1)?;
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
