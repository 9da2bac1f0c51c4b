using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using ScaiKey.Api.Scim.Language;

namespace ScaiKey.Api.Scim;

/// <summary>filter, sortBy, sortOrder, startIndex, count, attributes, excludedAttributes (RFC 7644 §3.4.2, §3.4.3).</summary>
internal static class ScimListParameters
{
    public static ScimListRequest? FromQuery(HttpContext http, ScimOptions options, out ScimError? error)
    {
        var q = http.Request.Query;
        return Build(Single(q["filter"]), Single(q["sortBy"]), Single(q["sortOrder"]), Single(q["startIndex"]), Single(q["count"]),
            Split(Single(q["attributes"])), Split(Single(q["excludedAttributes"])), options, out error);
    }

    /// <summary>POST /.search: the same parameters in a SearchRequest body.</summary>
    public static ScimListRequest? FromBody(JsonObject body, ScimOptions options, out ScimError? error)
    {
        error = null;
        string? Text(string name) => ScimJson.Get(body, name) is JsonValue v ? v.ToString() : null;
        IReadOnlyList<string>? List(string name) => ScimJson.Get(body, name) switch
        {
            JsonArray array => array.Select(a => a?.ToString() ?? string.Empty).Where(s => s.Length > 0).ToList(),
            JsonValue v => Split(v.ToString()),
            _ => null,
        };
        return Build(Text("filter"), Text("sortBy"), Text("sortOrder"), Text("startIndex"), Text("count"), List("attributes"), List("excludedAttributes"), options, out error);
    }

    public static IReadOnlyList<string>? Attributes(HttpContext http, string name) => Split(Single(http.Request.Query[name]));

    private static ScimListRequest? Build(string? filter, string? sortBy, string? sortOrder, string? startIndex, string? count,
        IReadOnlyList<string>? attributes, IReadOnlyList<string>? excluded, ScimOptions options, out ScimError? error)
    {
        error = null;
        var descending = false;
        if (sortOrder is not null)
        {
            if (string.Equals(sortOrder, "descending", StringComparison.OrdinalIgnoreCase))
            {
                descending = true;
            }
            else if (!string.Equals(sortOrder, "ascending", StringComparison.OrdinalIgnoreCase))
            {
                error = ScimError.InvalidValue("sortOrder must be ascending or descending.");
                return null;
            }
        }

        // RFC 7644 §3.4.2.4: a startIndex below 1 is 1, a negative count is 0; the service's maximum caps count.
        var start = 1;
        if (startIndex is not null)
        {
            if (!long.TryParse(startIndex, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                error = ScimError.InvalidValue("startIndex must be an integer.");
                return null;
            }

            start = (int)Math.Clamp(parsed, 1, int.MaxValue);
        }

        var take = options.MaxResults;
        if (count is not null)
        {
            if (!long.TryParse(count, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                error = ScimError.InvalidValue("count must be an integer.");
                return null;
            }

            take = (int)Math.Clamp(parsed, 0, options.MaxResults);
        }

        if (filter?.Length > 10_000)
        {
            error = ScimError.InvalidFilter("The filter is longer than 10000 characters.");
            return null;
        }

        return new ScimListRequest(string.IsNullOrWhiteSpace(filter) ? null : filter, string.IsNullOrWhiteSpace(sortBy) ? null : sortBy.Trim(),
            descending, start, take, attributes, excluded);
    }

    private static string? Single(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values[^1];

    private static IReadOnlyList<string>? Split(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
