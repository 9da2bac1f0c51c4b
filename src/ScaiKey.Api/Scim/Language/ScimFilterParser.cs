using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScaiKey.Api.Scim.Language;

/// <summary>
/// Reads the filter grammar of RFC 7644 §3.4.2.2 (and the PATCH path of §3.5.2) into a <see cref="ScimFilter"/>.
/// Operators and keywords are case-insensitive (ABNF strings are); precedence is not &gt; and &gt; or; parentheses
/// group. Input is the client's, so every malformed filter is an error result, never an exception, and nesting is
/// bounded so a filter of ten thousand "(" cannot exhaust the stack.
/// </summary>
internal static class ScimFilterParser
{
    /// <summary>How deep parentheses, not(...) and [...] may nest; real clients use two or three levels.</summary>
    public const int MaxDepth = 32;

    /// <summary>How many comparisons one filter may hold (and/or chains are kept balanced, so depth stays low).</summary>
    public const int MaxClauses = 1000;

    /// <summary>Parses a filter; the error is invalidFilter with a detail naming the position and what was expected.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out ScimFilter? filter, [NotNullWhen(false)] out ScimError? error)
    {
        filter = null;
        var parser = new Parser(text ?? string.Empty, ScimError.InvalidFilter);
        if (!parser.Tokenize(out error))
        {
            return false;
        }

        if (parser.AtEnd)
        {
            error = ScimError.InvalidFilter("The filter is empty.");
            return false;
        }

        if (!parser.ParseOr(inValuePath: false, out filter, out error))
        {
            return false;
        }

        if (!parser.AtEnd)
        {
            filter = null;
            error = parser.Expected("and, or, or the end of the filter");
            return false;
        }

        return true;
    }

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

    private enum TokenKind { Word, String, Open, Close, OpenBracket, CloseBracket }

    private readonly record struct Token(TokenKind Kind, string Text, int Position, bool SpaceBefore);

    private sealed class Parser(string text, Func<string, ScimError> fail)
    {
        private readonly List<Token> _tokens = [];
        private int _next;
        private int _depth;
        private int _clauses;

        public bool AtEnd => _next >= _tokens.Count;

        private Token? Peek => AtEnd ? null : _tokens[_next];

        public ScimError Expected(string what)
        {
            if (Peek is not { } token)
            {
                return fail($"Expected {what} at the end, at position {text.Length}.");
            }

            var shown = token.Text.Length > 40 ? token.Text[..40] + "…" : token.Text;
            return fail($"Expected {what} at position {token.Position}, found '{shown}'.");
        }

        public bool Tokenize([NotNullWhen(false)] out ScimError? error)
        {
            error = null;
            var i = 0;
            var space = false;
            while (i < text.Length)
            {
                var c = text[i];
                if (c is ' ' or '\t' or '\r' or '\n')
                {
                    space = true;
                    i++;
                    continue;
                }

                var start = i;
                switch (c)
                {
                    case '(':
                        _tokens.Add(new Token(TokenKind.Open, "(", start, space));
                        i++;
                        break;
                    case ')':
                        _tokens.Add(new Token(TokenKind.Close, ")", start, space));
                        i++;
                        break;
                    case '[':
                        _tokens.Add(new Token(TokenKind.OpenBracket, "[", start, space));
                        i++;
                        break;
                    case ']':
                        _tokens.Add(new Token(TokenKind.CloseBracket, "]", start, space));
                        i++;
                        break;
                    case '"':
                        i++;
                        while (i < text.Length && text[i] != '"')
                        {
                            i += text[i] == '\\' ? 2 : 1;
                        }

                        if (i >= text.Length)
                        {
                            error = fail($"The string starting at position {start} is not closed.");
                            return false;
                        }

                        i++;
                        _tokens.Add(new Token(TokenKind.String, text[start..i], start, space));
                        break;
                    default:
                        if (!IsWordChar(c))
                        {
                            error = fail($"Unexpected character '{c}' at position {start}.");
                            return false;
                        }

                        while (i < text.Length && IsWordChar(text[i]))
                        {
                            i++;
                        }

                        _tokens.Add(new Token(TokenKind.Word, text[start..i], start, space));
                        break;
                }

                space = false;
            }

            return true;
        }

        private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is ':' or '.' or '_' or '-' or '$' or '+';

        private bool IsKeyword(string keyword) =>
            Peek is { Kind: TokenKind.Word } token && string.Equals(token.Text, keyword, StringComparison.OrdinalIgnoreCase);

        private bool Enter([NotNullWhen(false)] out ScimError? error)
        {
            error = null;
            if (++_depth > MaxDepth)
            {
                error = fail($"The expression nests deeper than {MaxDepth} levels at position {Peek?.Position ?? text.Length}.");
                return false;
            }

            return true;
        }

        // FILTER = conjunction *("or" conjunction), conjunction = unary *("and" unary). Each chain becomes a balanced
        // tree, so a long list of alternatives stays shallow.
        public bool ParseOr(bool inValuePath, [NotNullWhen(true)] out ScimFilter? filter, [NotNullWhen(false)] out ScimError? error) =>
            ParseChain("or", (out ScimFilter? term, out ScimError? e) => ParseChain("and",
                (out ScimFilter? unary, out ScimError? u) => ParseUnary(inValuePath, out unary, out u), (l, r) => new ScimAnd(l, r), out term, out e),
                (l, r) => new ScimOr(l, r), out filter, out error);

        private delegate bool TermParser(out ScimFilter? term, out ScimError? error);

        private bool ParseChain(string keyword, TermParser parseTerm, Func<ScimFilter, ScimFilter, ScimFilter> join,
            [NotNullWhen(true)] out ScimFilter? filter, [NotNullWhen(false)] out ScimError? error)
        {
            filter = null;
            var terms = new List<ScimFilter>();
            do
            {
                if (terms.Count > 0)
                {
                    _next++;
                }

                if (!parseTerm(out var term, out var refused))
                {
                    error = refused!;
                    return false;
                }

                terms.Add(term!);
            }
            while (IsKeyword(keyword));

            filter = Balance(terms, 0, terms.Count, join);
            error = null;
            return true;
        }

        private static ScimFilter Balance(List<ScimFilter> terms, int from, int to, Func<ScimFilter, ScimFilter, ScimFilter> join)
        {
            if (to - from == 1)
            {
                return terms[from];
            }

            var middle = from + ((to - from) / 2);
            return join(Balance(terms, from, middle, join), Balance(terms, middle, to, join));
        }

        private bool ParseUnary(bool inValuePath, [NotNullWhen(true)] out ScimFilter? filter, [NotNullWhen(false)] out ScimError? error)
        {
            filter = null;
            var negate = IsKeyword("not") && _next + 1 < _tokens.Count && _tokens[_next + 1].Kind == TokenKind.Open;
            if (negate)
            {
                _next++;
            }

            if (Peek is { Kind: TokenKind.Open })
            {
                if (!Enter(out error))
                {
                    return false;
                }

                _next++;
                if (!ParseOr(inValuePath, out var inner, out error))
                {
                    return false;
                }

                if (Peek is not { Kind: TokenKind.Close })
                {
                    error = Expected("')'");
                    return false;
                }

                _next++;
                _depth--;
                filter = negate ? new ScimNot(inner) : inner;
                return true;
            }

            return ParseAttributeExpression(inValuePath, out filter, out error);
        }

        private bool ParseAttributeExpression(bool inValuePath, [NotNullWhen(true)] out ScimFilter? filter, [NotNullWhen(false)] out ScimError? error)
        {
            filter = null;
            if (!ParseAttrPath(out var path, out error))
            {
                return false;
            }

            if (Peek is { Kind: TokenKind.OpenBracket, SpaceBefore: false })
            {
                if (inValuePath || path.SubAttribute is not null)
                {
                    error = Expected(inValuePath ? "a comparison (value filters do not nest)" : "a comparison operator");
                    return false;
                }

                if (!ParseValueFilter(out var inner, out error))
                {
                    return false;
                }

                // An extension of the ABNF that clients use: emails[type eq "work"].value eq "x" means the element
                // that matches both, i.e. emails[type eq "work" and value eq "x"].
                if (Peek is { Kind: TokenKind.Word, SpaceBefore: false } sub && sub.Text.StartsWith('.'))
                {
                    _next++;
                    var name = sub.Text[1..];
                    if (!IsAttrName(name))
                    {
                        _next--;
                        error = Expected("a sub-attribute name after ']'");
                        return false;
                    }

                    if (!ParseComparison(new ScimAttrPath(null, name, null), out var compare, out error))
                    {
                        return false;
                    }

                    filter = new ScimValuePath(path, new ScimAnd(inner, compare));
                    return true;
                }

                filter = new ScimValuePath(path, inner);
                return true;
            }

            return ParseComparison(path, out filter, out error);
        }

        private bool ParseValueFilter([NotNullWhen(true)] out ScimFilter? inner, [NotNullWhen(false)] out ScimError? error)
        {
            inner = null;
            if (!Enter(out error))
            {
                return false;
            }

            _next++;
            if (!ParseOr(inValuePath: true, out inner, out error))
            {
                return false;
            }

            if (Peek is not { Kind: TokenKind.CloseBracket })
            {
                inner = null;
                error = Expected("']'");
                return false;
            }

            _next++;
            _depth--;
            return true;
        }

        private bool ParseComparison(ScimAttrPath path, [NotNullWhen(true)] out ScimFilter? filter, [NotNullWhen(false)] out ScimError? error)
        {
            filter = null;
            error = null;
            if (++_clauses > MaxClauses)
            {
                error = fail($"The filter has more than {MaxClauses} comparisons.");
                return false;
            }

            if (Peek is not { Kind: TokenKind.Word } opToken)
            {
                error = Expected("an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)");
                return false;
            }

            if (string.Equals(opToken.Text, "pr", StringComparison.OrdinalIgnoreCase))
            {
                _next++;
                filter = new ScimPresent(path);
                return true;
            }

            if (ParseOperator(opToken.Text) is not { } op)
            {
                error = Expected("an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)");
                return false;
            }

            _next++;
            if (!ParseValue(out var value, out error))
            {
                return false;
            }

            filter = new ScimCompare(path, op, value);
            return true;
        }

        private static ScimCompareOp? ParseOperator(string word) => word.ToLowerInvariant() switch
        {
            "eq" => ScimCompareOp.Eq,
            "ne" => ScimCompareOp.Ne,
            "co" => ScimCompareOp.Co,
            "sw" => ScimCompareOp.Sw,
            "ew" => ScimCompareOp.Ew,
            "gt" => ScimCompareOp.Gt,
            "ge" => ScimCompareOp.Ge,
            "lt" => ScimCompareOp.Lt,
            "le" => ScimCompareOp.Le,
            _ => null,
        };

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

        // attrPath = [URI ":"] ATTRNAME *1subAttr. The URI is everything before the last colon ("2.0" holds a dot).
        private bool ParseAttrPath([NotNullWhen(true)] out ScimAttrPath? path, [NotNullWhen(false)] out ScimError? error)
        {
            path = null;
            error = null;
            if (Peek is not { Kind: TokenKind.Word } token || !SplitAttrPath(token.Text, out path))
            {
                error = Expected("an attribute name");
                return false;
            }

            _next++;
            return true;
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
}
