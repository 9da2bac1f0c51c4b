using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

// The PATCH path, literals and attribute names of RFC 7644 §3.4.2.2 / §3.5.2 (the filter's structure is in
// ScimFilterParser.cs).
internal static partial class ScimFilterParser
{
    /// <summary>
    /// Parses a PATCH path (<c>PATH = attrPath / valuePath [subAttr]</c>); the error is invalidPath.
    /// </summary>
    public static bool TryParsePath(string text, [NotNullWhen(true)] out ScimPath? path, [NotNullWhen(false)] out ScimError? error)
    {
        path = null;
        var parser = new Parser(text ?? string.Empty, ScimError.InvalidPath);
        if (!parser.Tokenize(out error))
        {
            return false;
        }

        if (parser.AtEnd)
        {
            error = ScimError.InvalidPath("The path is empty.");
            return false;
        }

        if (!parser.ParsePath(out path, out error))
        {
            return false;
        }

        if (!parser.AtEnd)
        {
            path = null;
            error = parser.Expected("the end of the path");
            return false;
        }

        return true;
    }

    /// <summary>Splits <c>[urn:...:]name[.sub]</c>; false when it is not a well-formed attribute path.</summary>
    internal static bool SplitAttrPath(string text, [NotNullWhen(true)] out ScimAttrPath? path)
    {
        path = null;
        string? schema = null;
        var rest = text;
        var colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            schema = text[..colon];
            rest = text[(colon + 1)..];
            if (!schema.StartsWith("urn:", StringComparison.OrdinalIgnoreCase) || schema.Length <= 4)
            {
                return false;
            }
        }

        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        var name = dot < 0 ? rest : rest[..dot];
        var sub = dot < 0 ? null : rest[(dot + 1)..];
        if (!IsAttrName(name) || (sub is not null && !IsAttrName(sub)))
        {
            return false;
        }

        path = new ScimAttrPath(schema, name, sub);
        return true;
    }

    // ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA; "$ref" is the RFC's own exception.
    private static bool IsAttrName(string name) =>
        name == "$ref" || (name.Length > 0 && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    private sealed partial class Parser
    {
        // compValue = false / null / true / number / string (JSON's, escapes included).
        private bool ParseValue(out JsonValue? value, [NotNullWhen(false)] out ScimError? error)
        {
            value = null;
            error = null;
            const string What = "a value (a \"string\", a number, true, false or null)";
            if (Peek is not { } token || token.Kind is not (TokenKind.String or TokenKind.Word))
            {
                error = Expected(What);
                return false;
            }

            if (token.Kind == TokenKind.String)
            {
                try
                {
                    var text = JsonSerializer.Deserialize<string>(token.Text);
                    value = JsonValue.Create(text);
                }
                catch (JsonException)
                {
                    error = fail($"The string at position {token.Position} is not a valid JSON string.");
                    return false;
                }

                _next++;
                return true;
            }

            var word = token.Text.ToLowerInvariant();
            if (word is "true" or "false")
            {
                value = JsonValue.Create(word == "true");
            }
            else if (word == "null")
            {
                value = null;
            }
            else if (IsJsonNumber(token.Text) && decimal.TryParse(token.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                value = JsonValue.Create(number);
            }
            else if (IsJsonNumber(token.Text) && double.TryParse(token.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
            {
                value = JsonValue.Create(real);
            }
            else
            {
                error = Expected(What);
                return false;
            }

            _next++;
            return true;
        }

        private static bool IsJsonNumber(string s)
        {
            var i = 0;
            if (i < s.Length && s[i] == '-')
            {
                i++;
            }

            if (i >= s.Length || !char.IsAsciiDigit(s[i]))
            {
                return false;
            }

            if (s[i] == '0')
            {
                i++;
            }
            else
            {
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
            }

            if (i < s.Length && s[i] == '.')
            {
                i++;
                var digits = i;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }

                if (i == digits)
                {
                    return false;
                }
            }

            if (i < s.Length && s[i] is 'e' or 'E')
            {
                i++;
                if (i < s.Length && s[i] is '+' or '-')
                {
                    i++;
                }

                var digits = i;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }

                if (i == digits)
                {
                    return false;
                }
            }

            return i == s.Length;
        }

        /// <summary>PATH = attrPath / valuePath [subAttr] (RFC 7644 §3.5.2).</summary>
        public bool ParsePath([NotNullWhen(true)] out ScimPath? path, [NotNullWhen(false)] out ScimError? error)
        {
            path = null;
            if (!ParseAttrPath(out var attribute, out error))
            {
                return false;
            }

            if (Peek is not { Kind: TokenKind.OpenBracket, SpaceBefore: false })
            {
                path = new ScimPath(attribute, null, null);
                return true;
            }

            if (attribute.SubAttribute is not null)
            {
                error = Expected("the end of the path (a value filter follows the attribute, not its sub-attribute)");
                return false;
            }

            if (!ParseValueFilter(out var filter, out error))
            {
                return false;
            }

            string? sub = null;
            if (Peek is { Kind: TokenKind.Word, SpaceBefore: false } next && next.Text.StartsWith('.'))
            {
                if (!IsAttrName(next.Text[1..]))
                {
                    error = Expected("a sub-attribute name after ']'");
                    return false;
                }

                sub = next.Text[1..];
                _next++;
            }

            path = new ScimPath(attribute, filter, sub);
            return true;
        }
    }
}
