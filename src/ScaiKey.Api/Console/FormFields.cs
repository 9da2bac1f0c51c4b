using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// Reading the application, identity-provider and credential forms, and placing the API's 422 errors on them. A loc
/// names the body field first (body.redirect_uris.2, body.config.bind_dn): the form field is that field, or for a
/// provider the config key, so an error about one redirect URI or one domain lands next to the box that holds it.
/// </summary>
internal static class FormFields
{
    /// <summary>The 422's messages by form field; errors naming no field (or another status's message) under "".</summary>
    public static Dictionary<string, string> Errors(ApiResult result)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (result.Status != 422 || result.Json?["detail"] is not JsonArray items)
        {
            errors[string.Empty] = result.Message;
            return errors;
        }

        foreach (var item in items)
        {
            var loc = (item?["loc"] as JsonArray ?? []).Select(p => p?.ToString() ?? string.Empty).ToList();
            var rest = loc.SkipWhile(p => p is "body" or "query").ToList();
            if (rest is ["config", _, ..])
            {
                rest.RemoveAt(0);
            }

            var field = rest.Count > 0 ? rest[0] : string.Empty;
            var message = item?["msg"]?.ToString() ?? "Invalid value.";

            // An item of a list: say which one, counted from 1 as the admin sees the lines.
            if (rest.Count > 1 && int.TryParse(rest[1], out var index))
            {
                message = $"Line {index + 1}: {message}";
            }

            errors[field] = errors.TryGetValue(field, out var earlier) ? earlier + " " + message : message;
        }

        return errors;
    }

    /// <summary>A textarea of one value per line (or separated by commas or spaces), without blanks.</summary>
    public static JsonArray Lines(string? text, bool splitOnSpaces = false)
    {
        char[] separators = splitOnSpaces ? ['\n', '\r', ',', ' ', '\t'] : ['\n', '\r'];
        return new JsonArray((text ?? string.Empty).Split(separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => (JsonNode?)JsonValue.Create(line)).ToArray());
    }

    /// <summary>A checkbox: present (any value) means ticked.</summary>
    public static bool Checked(IFormCollection form, string name) => form.ContainsKey(name);

    public static string Text(IFormCollection form, string name) => form[name].ToString().Trim();

    /// <summary>The posted values, to show the form again as it was sent (never used for secret fields).</summary>
    public static Dictionary<string, string?> Posted(IFormCollection form, IEnumerable<string> exceptSecrets) =>
        form.Keys.Except(exceptSecrets.Append("form_token"), StringComparer.Ordinal).ToDictionary(k => k, k => (string?)form[k].ToString(), StringComparer.Ordinal);

    public static string Escape(string value) => Uri.EscapeDataString(value);
}
