using Microsoft.Net.Http.Headers;

namespace ScaiKey.Api.Http;

internal static class ETags
{
    public static string For(int version) => $"\"{version}\"";

    /// <summary>True when If-Match is absent, "*", or lists the current version.</summary>
    public static bool IfMatchAllows(HttpRequest request, int currentVersion) => IfMatchAllows(request, For(currentVersion));

    /// <summary>True when If-Match is absent, "*", or lists <paramref name="currentTag"/> (quoted, strong).</summary>
    public static bool IfMatchAllows(HttpRequest request, string currentTag) => IfMatchAllows(request.Headers.IfMatch, currentTag);

    /// <summary>The same rule for a header already read (<see cref="RequestInfo"/>).</summary>
    public static bool IfMatchAllows(Microsoft.Extensions.Primitives.StringValues header, string currentTag)
    {
        if (header.Count == 0)
        {
            return true;
        }

        return EntityTagHeaderValue.TryParseList(header, out var tags)
            && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag.Value == currentTag));
    }

    public static void Set(HttpResponse response, int version) => response.Headers.ETag = For(version);
}
