using Microsoft.Net.Http.Headers;

namespace ScaiKey.Api.Http;

internal static class ETags
{
    public static string For(int version) => $"\"{version}\"";

    /// <summary>True when If-Match is absent, "*", or lists the current version.</summary>
    public static bool IfMatchAllows(HttpRequest request, int currentVersion)
    {
        var header = request.Headers.IfMatch;
        if (header.Count == 0)
        {
            return true;
        }

        if (!EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        var current = For(currentVersion);
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag.Value == current));
    }

    public static void Set(HttpResponse response, int version) => response.Headers.ETag = For(version);
}
