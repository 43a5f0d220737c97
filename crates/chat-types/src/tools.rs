//! Tools a model may call, how it must choose among them, and the deprecated `functions` /
//! `function_call` parameters.

use serde_json::Value;

use crate::ExtraFields;

/// Short name for [`ChatCompletionTools`].
pub type Tool = ChatCompletionTools;

tagged_union! {
    /// A tool the model may call: a function or a custom tool.
    ///
    /// ```
    /// use chat_types::Tool;
    /// use serde_json::json;
    ///
    /// let tool = Tool::function(
    ///     "get_weather",
    ///     "Current weather of a city",
    ///     json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    /// )
    /// .strict(true);
    /// assert_eq!(tool.name(), Some("get_weather"));
    /// ```
    pub enum ChatCompletionTools {
        tag: "type" [],
        /// A function tool.
        Function = "function" (ChatCompletionTool),
        /// A custom tool with free-form or grammar-constrained input.
        Custom = "custom" (CustomToolChatCompletions),
    }
}

impl ChatCompletionTools {
    /// A function tool with a description and a JSON Schema of its parameters.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: FunctionParameters,
    ) -> Self {
        ChatCompletionTools::Function(ChatCompletionTool::new(
            FunctionObject::new(name)
                .description(description)
                .parameters(parameters),
        ))
    }

    /// A custom tool with free-form text input.
    pub fn custom(name: impl Into<String>, description: impl Into<String>) -> Self {
        ChatCompletionTools::Custom(CustomToolChatCompletions {
            custom: CustomToolProperties {
                name: name.into(),
                description: Some(description.into()),
                format: None,
                extra: ExtraFields::new(),
            },
            extra: ExtraFields::new(),
        })
    }

    /// Sets `strict` of a function tool (no effect on other variants).
    pub fn strict(mut self, strict: bool) -> Self {
        if let ChatCompletionTools::Function(t) = &mut self {
            t.function.strict = Some(strict);
        }
        self
    }

    /// The name of the tool, if the variant is known.
    pub fn name(&self) -> Option<&str> {
        match self {
            ChatCompletionTools::Function(t) => Some(&t.function.name),
            ChatCompletionTools::Custom(t) => Some(&t.custom.name),
            ChatCompletionTools::Unknown(_) => None,
        }
    }
}

wire_object! {
    /// A function tool (the `type: "function"` variant of [`ChatCompletionTools`]).
    pub struct ChatCompletionTool {
        /// The function.
        req function: FunctionObject,
    }
}

impl ChatCompletionTool {
    /// A function tool.
    pub fn new(function: FunctionObject) -> Self {
        ChatCompletionTool {
            function,
            extra: ExtraFields::new(),
        }
    }
}

impl From<FunctionObject> for ChatCompletionTools {
    fn from(function: FunctionObject) -> Self {
        ChatCompletionTools::Function(ChatCompletionTool::new(function))
    }
}

/// The parameters of a function as a JSON Schema object; an absent schema means no parameters.
pub type FunctionParameters = Value;

wire_object! {
    /// A function the model may call.
    pub struct FunctionObject {
        /// What the function does; helps the model decide when and how to call it.
        opt description: Option<String>,
        /// The name (a-z, A-Z, 0-9, `_` and `-`, at most 64 characters).
        req name: String,
        /// The parameters as a JSON Schema object.
        opt parameters: Option<FunctionParameters>,
        /// Whether calls must follow the schema exactly (a subset of JSON Schema).
        opt strict: Option<bool>,
    }
}

impl FunctionObject {
    /// A function with only a name.
    pub fn new(name: impl Into<String>) -> Self {
        FunctionObject {
            description: None,
            name: name.into(),
            parameters: None,
            strict: None,
            extra: ExtraFields::new(),
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the JSON Schema of the parameters.
    pub fn parameters(mut self, parameters: FunctionParameters) -> Self {
        self.parameters = Some(parameters);
        self
    }

    /// Sets strict schema adherence.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = Some(strict);
        self
    }
}

wire_object! {
    /// A custom tool (the `type: "custom"` variant of [`ChatCompletionTools`]).
    pub struct CustomToolChatCompletions {
        /// The custom tool.
        req custom: CustomToolProperties,
    }
}

wire_object! {
    /// The properties of a custom tool.
    pub struct CustomToolProperties {
        /// The name, used to identify the tool in tool calls.
        req name: String,
        /// What the tool does.
        opt description: Option<String>,
        /// The input format; unconstrained text if absent.
        opt format: Option<CustomToolFormat>,
    }
}

tagged_union! {
    /// The input format of a custom tool.
    pub enum CustomToolFormat {
        tag: "type" [],
        /// Unconstrained text.
        Text = "text" (CustomToolTextFormat),
        /// Text matching a grammar.
        Grammar = "grammar" (CustomToolGrammarFormat),
    }
}

wire_object! {
    /// Unconstrained text input of a custom tool.
    #[derive(Default)]
    pub struct CustomToolTextFormat {}
}

wire_object! {
    /// Grammar-constrained input of a custom tool.
    pub struct CustomToolGrammarFormat {
        /// The grammar.
        req grammar: CustomToolGrammar,
    }
}

wire_object! {
    /// A grammar that the input of a custom tool must match.
    pub struct CustomToolGrammar {
        /// The grammar definition.
        req definition: String,
        /// The syntax of the definition.
        req syntax: CustomToolGrammarSyntax,
    }
}

string_enum! {
    /// The syntax of a custom tool grammar.
    pub enum CustomToolGrammarSyntax {
        /// A Lark grammar.
        Lark = "lark",
        /// A regular expression.
        Regex = "regex",
    }
}

impl CustomToolFormat {
    /// A grammar format.
    pub fn grammar(
        syntax: impl Into<CustomToolGrammarSyntax>,
        definition: impl Into<String>,
    ) -> Self {
        CustomToolFormat::Grammar(CustomToolGrammarFormat {
            grammar: CustomToolGrammar {
                definition: definition.into(),
                syntax: syntax.into(),
                extra: ExtraFields::new(),
            },
            extra: ExtraFields::new(),
        })
    }
}

string_enum! {
    /// How the model chooses tools, as a bare string.
    pub enum ToolChoiceMode {
        /// Call no tool; answer with a message.
        None = "none",
        /// Answer or call tools, as the model sees fit.
        Auto = "auto",
        /// Call one or more tools.
        Required = "required",
    }
}

tagged_union! {
    /// Which tool, if any, the model must call (`tool_choice`).
    ///
    /// ```
    /// use chat_types::ChatCompletionToolChoiceOption as ToolChoice;
    /// use serde_json::json;
    ///
    /// assert_eq!(serde_json::to_value(ToolChoice::auto()).unwrap(), json!("auto"));
    /// assert_eq!(
    ///     serde_json::to_value(ToolChoice::function("get_weather")).unwrap(),
    ///     json!({"type": "function", "function": {"name": "get_weather"}})
    /// );
    /// ```
    pub enum ChatCompletionToolChoiceOption {
        tag: "type" [string: Mode(ToolChoiceMode)],
        /// Restrict the model to a subset of the tools.
        AllowedTools = "allowed_tools" (ChatCompletionAllowedToolsChoice),
        /// Call this function.
        Function = "function" (ChatCompletionNamedToolChoice),
        /// Call this custom tool.
        Custom = "custom" (ChatCompletionNamedToolChoiceCustom),
    }
}

impl ChatCompletionToolChoiceOption {
    /// `"none"`: call no tool.
    pub fn none() -> Self {
        ChatCompletionToolChoiceOption::Mode(ToolChoiceMode::None)
    }

    /// `"auto"`: answer or call tools.
    pub fn auto() -> Self {
        ChatCompletionToolChoiceOption::Mode(ToolChoiceMode::Auto)
    }

    /// `"required"`: call one or more tools.
    pub fn required() -> Self {
        ChatCompletionToolChoiceOption::Mode(ToolChoiceMode::Required)
    }

    /// Call the function `name`.
    pub fn function(name: impl Into<String>) -> Self {
        ChatCompletionToolChoiceOption::Function(ChatCompletionNamedToolChoice {
            function: ToolChoiceFunction {
                name: name.into(),
                extra: ExtraFields::new(),
            },
            extra: ExtraFields::new(),
        })
    }

    /// Call the custom tool `name`.
    pub fn custom(name: impl Into<String>) -> Self {
        ChatCompletionToolChoiceOption::Custom(ChatCompletionNamedToolChoiceCustom {
            custom: ToolChoiceCustom {
                name: name.into(),
                extra: ExtraFields::new(),
            },
            extra: ExtraFields::new(),
        })
    }

    /// Restrict the model to the functions named in `names`, with `mode` `auto` or `required`.
    pub fn allowed_functions<I, S>(
        mode: impl Into<ChatCompletionAllowedToolsMode>,
        names: I,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let tools = names
            .into_iter()
            .map(|n| {
                let mut function = serde_json::Map::new();
                function.insert("name".to_owned(), Value::String(n.into()));
                let mut tool = serde_json::Map::new();
                tool.insert("type".to_owned(), Value::from("function"));
                tool.insert("function".to_owned(), Value::Object(function));
                Value::Object(tool)
            })
            .collect();
        ChatCompletionToolChoiceOption::AllowedTools(ChatCompletionAllowedToolsChoice {
            allowed_tools: ChatCompletionAllowedTools {
                mode: mode.into(),
                tools,
                extra: ExtraFields::new(),
            },
            extra: ExtraFields::new(),
        })
    }
}

impl From<ToolChoiceMode> for ChatCompletionToolChoiceOption {
    fn from(mode: ToolChoiceMode) -> Self {
        ChatCompletionToolChoiceOption::Mode(mode)
    }
}

wire_object! {
    /// Restricts the model to a subset of the tools (`type: "allowed_tools"`).
    pub struct ChatCompletionAllowedToolsChoice {
        /// The allowed tools.
        req allowed_tools: ChatCompletionAllowedTools,
    }
}

string_enum! {
    /// Whether the model may or must call one of the allowed tools.
    pub enum ChatCompletionAllowedToolsMode {
        /// Answer or call one of the allowed tools.
        Auto = "auto",
        /// Call one or more of the allowed tools.
        Required = "required",
    }
}

wire_object! {
    /// A subset of the tools the model may call.
    pub struct ChatCompletionAllowedTools {
        /// Whether the model may or must call them.
        req mode: ChatCompletionAllowedToolsMode,
        /// Tool definitions, such as `{"type": "function", "function": {"name": "f"}}`.
        req tools: Vec<Value>,
    }
}

wire_object! {
    /// Forces a call of one function (`type: "function"`).
    pub struct ChatCompletionNamedToolChoice {
        /// The function.
        req function: ToolChoiceFunction,
    }
}

wire_object! {
    /// The function named by a tool choice.
    pub struct ToolChoiceFunction {
        /// The name of the function.
        req name: String,
    }
}

wire_object! {
    /// Forces a call of one custom tool (`type: "custom"`).
    pub struct ChatCompletionNamedToolChoiceCustom {
        /// The custom tool.
        req custom: ToolChoiceCustom,
    }
}

wire_object! {
    /// The custom tool named by a tool choice.
    pub struct ToolChoiceCustom {
        /// The name of the custom tool.
        req name: String,
    }
}

wire_object! {
    /// A function the model may call (deprecated: use [`ChatCompletionTools`]).
    pub struct ChatCompletionFunctions {
        /// What the function does.
        opt description: Option<String>,
        /// The name of the function.
        req name: String,
        /// The parameters as a JSON Schema object.
        opt parameters: Option<FunctionParameters>,
    }
}

impl ChatCompletionFunctions {
    /// A function with a description and parameters.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: FunctionParameters,
    ) -> Self {
        ChatCompletionFunctions {
            description: Some(description.into()),
            name: name.into(),
            parameters: Some(parameters),
            extra: ExtraFields::new(),
        }
    }
}

wire_object! {
    /// Forces a call of one function, `{"name": "my_function"}` (deprecated).
    pub struct ChatCompletionFunctionCallOption {
        /// The name of the function.
        req name: String,
    }
}

string_enum! {
    /// How the model chooses functions, as a bare string (deprecated).
    pub enum FunctionCallMode {
        /// Call no function.
        None = "none",
        /// Answer or call a function.
        Auto = "auto",
    }
}

/// The deprecated `function_call` parameter: `"none"`, `"auto"` or `{"name": ..}`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CreateChatCompletionRequestFunctionCall {
    /// `"none"` or `"auto"`.
    Mode(FunctionCallMode),
    /// Call this function.
    Function(ChatCompletionFunctionCallOption),
    /// Any other JSON value, written as it is. Deserialization never produces it (other shapes
    /// are errors); it is there to send a shape this crate does not model.
    Unknown(Value),
}

impl CreateChatCompletionRequestFunctionCall {
    /// Call the function `name`.
    pub fn function(name: impl Into<String>) -> Self {
        CreateChatCompletionRequestFunctionCall::Function(ChatCompletionFunctionCallOption {
            name: name.into(),
            extra: ExtraFields::new(),
        })
    }
}

impl From<FunctionCallMode> for CreateChatCompletionRequestFunctionCall {
    fn from(mode: FunctionCallMode) -> Self {
        CreateChatCompletionRequestFunctionCall::Mode(mode)
    }
}

impl From<ChatCompletionFunctionCallOption> for CreateChatCompletionRequestFunctionCall {
    fn from(f: ChatCompletionFunctionCallOption) -> Self {
        CreateChatCompletionRequestFunctionCall::Function(f)
    }
}

string_or_named! {
    CreateChatCompletionRequestFunctionCall {
        string: Mode,
        named: Function(ChatCompletionFunctionCallOption { name }),
        expecting: "\"none\", \"auto\" or a {\"name\": ..} object",
        // The variant notation of the flat spec reference.
        notation: "<ChatCompletionFunctionCallOption>",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::UnknownFields;

    use crate::test_util::{round_trip, to_json};

    #[test]
    fn function_tool_constructor_writes_the_expected_json() {
        let tool = Tool::function("get_weather", "Weather", json!({"type": "object"})).strict(true);
        assert_eq!(
            to_json(&tool),
            json!({
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather",
                    "parameters": {"type": "object"},
                    "strict": true
                }
            })
        );
        assert_eq!(
            to_json(&ChatCompletionTools::from(FunctionObject::new("noop"))),
            json!({"type": "function", "function": {"name": "noop"}})
        );
        assert_eq!(
            to_json(&Tool::custom("sql", "Runs SQL")),
            json!({"type": "custom", "custom": {"name": "sql", "description": "Runs SQL"}})
        );
    }

    #[test]
    fn custom_tool_formats_round_trip() {
        let t: ChatCompletionTools = round_trip(json!({
            "type": "custom",
            "custom": {
                "name": "sql",
                "format": {"type": "grammar", "grammar": {"definition": "start: x", "syntax": "lark"}}
            }
        }));
        let ChatCompletionTools::Custom(c) = &t else {
            panic!("not custom: {t:?}")
        };
        assert_eq!(
            c.custom.format,
            Some(CustomToolFormat::grammar(
                CustomToolGrammarSyntax::Lark,
                "start: x"
            ))
        );
        assert!(t.unknown_fields().is_empty());
        let f: CustomToolFormat = round_trip(json!({"type": "text"}));
        assert_eq!(f, CustomToolFormat::Text(Default::default()));
        let f: CustomToolFormat = round_trip(json!({"type": "json", "schema": {}}));
        assert_eq!(f.unknown_fields(), vec!["<type=json>"]);
        let f: CustomToolFormat =
            round_trip(json!({"type": "grammar", "grammar": {"definition": "a", "syntax": "peg"}}));
        assert_eq!(
            f.unknown_fields(),
            vec![r#"<type=grammar>.grammar.syntax="peg""#]
        );
    }

    #[test]
    fn unknown_tool_type_is_kept_verbatim() {
        let v = json!({"type": "web_search", "search_context_size": "low"});
        let t: ChatCompletionTools = round_trip(v.clone());
        assert_eq!(t, ChatCompletionTools::Unknown(v));
        assert_eq!(t.name(), None);
        assert_eq!(t.unknown_fields(), vec!["<type=web_search>"]);
    }

    #[test]
    fn tool_choice_constructors_write_the_expected_json() {
        type C = ChatCompletionToolChoiceOption;
        assert_eq!(to_json(&C::none()), json!("none"));
        assert_eq!(to_json(&C::auto()), json!("auto"));
        assert_eq!(to_json(&C::required()), json!("required"));
        assert_eq!(
            to_json(&C::function("f")),
            json!({"type": "function", "function": {"name": "f"}})
        );
        assert_eq!(
            to_json(&C::custom("g")),
            json!({"type": "custom", "custom": {"name": "g"}})
        );
        assert_eq!(
            to_json(&C::allowed_functions(
                ChatCompletionAllowedToolsMode::Required,
                ["a", "b"]
            )),
            json!({
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [
                        {"type": "function", "function": {"name": "a"}},
                        {"type": "function", "function": {"name": "b"}}
                    ]
                }
            })
        );
    }

    #[test]
    fn tool_choice_round_trips_known_and_unknown_shapes() {
        type C = ChatCompletionToolChoiceOption;
        let c: C = round_trip(json!("auto"));
        assert_eq!(c, C::auto());
        // An unknown mode string stays a mode and is reported.
        let c: C = round_trip(json!("any"));
        assert_eq!(c, C::Mode(ToolChoiceMode::Unknown("any".into())));
        assert_eq!(c.unknown_fields(), vec![r#"="any""#]);
        // An unknown object type is kept verbatim.
        let v = json!({"type": "mcp", "server_label": "x"});
        let c: C = round_trip(v.clone());
        assert_eq!(c, C::Unknown(v));
        let c: C = round_trip(json!({"type": "function", "function": {"name": "f"}}));
        assert_eq!(c, C::function("f"));
    }

    #[test]
    fn function_call_option_round_trips_every_shape() {
        type F = CreateChatCompletionRequestFunctionCall;
        let f: F = round_trip(json!("auto"));
        assert_eq!(f, F::Mode(FunctionCallMode::Auto));
        let f: F = round_trip(json!({"name": "f"}));
        assert_eq!(f, F::function("f"));
        assert!(f.unknown_fields().is_empty());
        let f: F = round_trip(json!({"name": "f", "strict": true}));
        assert_eq!(
            f.unknown_fields(),
            vec!["<ChatCompletionFunctionCallOption>.strict"]
        );
        for v in [
            json!({"other": 1}),
            json!({"name": 5}),
            json!(3),
            json!([1]),
            json!(null),
        ] {
            assert!(serde_json::from_value::<F>(v.clone()).is_err(), "{v}");
        }
        let f: F = round_trip(json!("sometimes"));
        assert_eq!(f.unknown_fields(), vec![r#"="sometimes""#]);
    }

    #[test]
    fn deprecated_functions_round_trip() {
        let f: ChatCompletionFunctions = round_trip(json!({
            "name": "f", "description": "d", "parameters": {"type": "object"}
        }));
        assert_eq!(
            f,
            ChatCompletionFunctions::new("f", "d", json!({"type": "object"}))
        );
    }
}
