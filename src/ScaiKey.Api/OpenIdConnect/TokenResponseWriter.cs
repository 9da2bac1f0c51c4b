using System.Buffers;
using Microsoft.AspNetCore;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace ScaiKey.Api.OpenIdConnect;

/// <summary>
/// Writes the token endpoint's JSON response as OpenIddict's <c>ProcessJsonResponse</c> does (same writer options,
/// headers and log line), into one buffer sized for a token response. OpenIddict's writes through a stream and the
/// writer's own buffer, both of which start small and grow several times for the ~1 KB of a token response: a
/// fifth of what a client-credential token request allocated (session 17). The other endpoints keep OpenIddict's.
/// </summary>
internal sealed class TokenResponseWriter(IOptionsMonitor<OpenIddictServerAspNetCoreOptions> options) : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    // An ES256 access token with ScaiKey's claims and an ID token fit; a larger response grows the buffer once or twice.
    private const int TypicalLength = 2048;

    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };
    private static readonly JsonWriterOptions Indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .AddFilter<OpenIddictServerAspNetCoreHandlerFilters.RequireHttpRequest>()
            .UseSingletonHandler<TokenResponseWriter>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<ApplyTokenResponseContext>.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.BuiltIn)
            .Build();

    public async ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Transaction.Response ?? throw new InvalidOperationException("The token response is missing.");
        var response = context.Transaction.GetHttpRequest()?.HttpContext.Response
            ?? throw new InvalidOperationException("The ASP.NET Core HTTP request cannot be resolved.");

        // OpenIddict's own line (its message masks tokens and secrets); OpenIddict logs at Warning by default.
        if (context.Logger.IsEnabled(LogLevel.Information))
        {
            context.Logger.LogInformation("The response was successfully returned as a JSON document: {Response}.", message);
        }

        var buffer = new ArrayBufferWriter<byte>(TypicalLength);
        using (var writer = new Utf8JsonWriter(buffer, options.CurrentValue.SuppressJsonResponseIndentation ? Compact : Indented))
        {
            message.WriteTo(writer);
        }

        response.ContentLength = buffer.WrittenCount;
        response.ContentType = "application/json;charset=UTF-8";
        await response.Body.WriteAsync(buffer.WrittenMemory, context.CancellationToken);
        context.HandleRequest();
    }
}
