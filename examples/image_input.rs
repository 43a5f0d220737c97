//! Run with `cargo run --example image_input` (or `-- path/to/picture.png`).
//!
//! Images in a user message: one by URL (the server downloads it) and one inline as a base64
//! `data:` URL (read from the given file, or a small built-in PNG). Offline (without
//! `OPENAI_API_KEY`) a mock answers with what it received, since it cannot see pictures.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use chat_core::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionRequestUserMessageContentPart as Part,
    CreateChatCompletionRequest, ImageDetail,
};
use chat_examples::{base64_encode, connect, Env, Error};
use chat_mock::{Match, MockResponse, RecordedRequest};
use serde_json::Value;

/// A picture on the web, sent by URL.
pub const IMAGE_URL: &str =
    "https://upload.wikimedia.org/wikipedia/commons/4/47/PNG_transparency_demonstration_1.png";

/// An 8x8 red PNG, sent inline when no file is given.
pub const RED_SQUARE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x08, 0x08, 0x02, 0x00, 0x00, 0x00, 0x4b, 0x6d, 0x29,
    0xdc, 0x00, 0x00, 0x00, 0x11, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x78, 0x60, 0x63, 0x88,
    0x15, 0x31, 0x0c, 0x2d, 0x09, 0x00, 0xb3, 0x68, 0x53, 0x41, 0x7a, 0x26, 0x74, 0x8c, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The media type of an image file, from its extension.
pub fn media_type(path: &Path) -> Result<&'static str, Error> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png") => Ok("image/png"),
        Some("jpg" | "jpeg") => Ok("image/jpeg"),
        Some("gif") => Ok("image/gif"),
        Some("webp") => Ok("image/webp"),
        _ => Err(format!("{}: use a .png, .jpg, .gif or .webp file", path.display()).into()),
    }
}

/// `data:<media type>;base64,<data>`.
pub fn data_url(media_type: &str, bytes: &[u8]) -> String {
    format!("data:{media_type};base64,{}", base64_encode(bytes))
}

/// Sends a question about two images (a URL and the file `args[0]`, or the built-in PNG,
/// inline) and prints what was sent and the answer to `out`.
pub async fn run(
    args: &[String],
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let (media, bytes) = match args.first() {
        Some(path) => {
            let path = Path::new(path);
            let media = media_type(path)?;
            let bytes =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            (media, bytes)
        }
        None => ("image/png", RED_SQUARE_PNG.to_vec()),
    };
    let inline = data_url(media, &bytes);

    let request = CreateChatCompletionRequest::new(
        env.model(),
        [Message::user(vec![
            Part::text("Describe each of these two images in one sentence."),
            // `low` detail: the model sees a 512x512 version, which costs fewer tokens.
            Part::image_url_with_detail(IMAGE_URL, ImageDetail::Low),
            Part::image_url(inline.as_str()),
        ])],
    );

    let connection = connect(env, err, |mock| {
        mock.on(Match::chat())
            .respond_with(|request| MockResponse::text(describe_images(request)).into())
            .always();
    })?;
    writeln!(out, "sending: text")?;
    writeln!(out, "sending: image by URL {IMAGE_URL}")?;
    writeln!(
        out,
        "sending: image inline, {media}, {} bytes as {} base64 characters",
        bytes.len(),
        inline.len() - inline.find(',').map_or(0, |i| i + 1)
    )?;
    let response = connection.client.create_chat_completion(&request).await?;
    writeln!(
        out,
        "answer: {}",
        response.first_content().unwrap_or("(no text)")
    )?;
    Ok(())
}

/// What the mock "sees": the image parts of the first message, by kind and size.
fn describe_images(request: &RecordedRequest) -> String {
    let parts = request
        .pointer("/messages/0/content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let images: Vec<String> = parts
        .iter()
        .filter_map(|p| p.pointer("/image_url/url").and_then(Value::as_str))
        .map(|url| match url.strip_prefix("data:") {
            Some(rest) => {
                let (media, data) = rest.split_once(";base64,").unwrap_or(("?", ""));
                let padding = data.bytes().rev().take_while(|&b| b == b'=').count();
                let size = (data.len() / 4 * 3).saturating_sub(padding);
                format!("an inline {media} of {size} bytes")
            }
            None => format!("an image at {url}"),
        })
        .collect();
    format!(
        "I received {} image(s): {}. (chat-mock cannot see pictures; a vision model would \
         describe them.)",
        images.len(),
        images.join(" and ")
    )
}

/// Runs the example with the process arguments and environment.
#[tokio::main]
pub async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    chat_examples::exit_code(run(&args, &Env::from_process(), &mut out, &mut err).await)
}
