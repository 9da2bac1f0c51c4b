using Microsoft.Extensions.Primitives;

namespace ScaiKey.Api.Http;

/// <summary>
/// What a service needs to know of the HTTP request it serves, read once by the handler: the request id for the
/// envelope, the origin mailed links start from (when ScaiKey:Issuer is not set), and the If-Match header. Services
/// take this instead of <see cref="HttpContext"/>, so HTTP stays at the edge and a service can run without a request
/// (SCIM, jobs, tests).
/// </summary>
internal sealed record RequestInfo(string RequestId, string Origin, StringValues IfMatch)
{
    public static RequestInfo From(HttpContext http) => new(http.TraceIdentifier, OriginOf(http), http.Request.Headers.IfMatch);

    /// <summary>
    /// The request's scheme, host and path base: the base of the links and addresses the service builds when
    /// ScaiKey:Issuer is not set (mailed links, SCIM resource locations, the console's redirect URI).
    /// </summary>
    public static string OriginOf(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";

    /// <summary>Whether the request named a version it expects (then a concurrent change answers 412, not 409).</summary>
    public bool HasIfMatch => IfMatch.Count > 0;

    /// <summary>True when If-Match is absent, "*", or lists this version.</summary>
    public bool IfMatchAllows(int version) => ETags.IfMatchAllows(IfMatch, ETags.For(version));
}
