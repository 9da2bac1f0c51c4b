using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using ScaiKey.Api.OpenIdConnect;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Two places where ScaiKey does once what OpenIddict does on every token request must give OpenIddict's own answers:
/// which endpoint a request address is for (<see cref="EndpointInference"/>), and the destinations property of a claim
/// (<see cref="ClaimDestinations"/>).
/// </summary>
public sealed class OpenIddictShortcutTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    public static TheoryData<string, string> Requests => new()
    {
        { "http://localhost/", "http://localhost/connect/token" },
        { "http://localhost/", "http://localhost/CONNECT/Token/" },
        { "http://localhost/", "http://localhost/connect/token//" },
        { "http://localhost/", "http://localhost/connect/tokens" },
        { "http://localhost/", "http://localhost/connect/authorize" },
        { "http://localhost/", "http://localhost/connect/logout" },
        { "http://localhost/", "http://localhost/connect/userinfo" },
        { "http://localhost/", "http://localhost/connect/introspect" },
        { "http://localhost/", "http://localhost/connect/revoke" },
        { "http://localhost/", "http://localhost/.well-known/openid-configuration" },
        { "http://localhost/", "http://localhost/.well-known/jwks" },
        { "http://localhost/", "http://localhost/.well-known/jwks/" },
        { "http://localhost/", "http://localhost/connect//token" },
        { "http://localhost/", "http://localhost/connect/%74oken" },
        { "http://localhost/", "http://localhost/x/connect/token" },
        { "http://localhost/", "http://localhost/" },
        { "http://localhost/", "http://localhost/api/v1/admin/tenants" },
        { "http://localhost/", "https://localhost/connect/token" },
        { "http://localhost/", "http://localhost:8080/connect/token" },
        { "http://localhost/", "http://other.example/connect/token" },
        { "http://localhost/auth", "http://localhost/auth/connect/token" },
        { "http://localhost/auth/", "http://localhost/AUTH/connect/token" },
        { "http://localhost/auth", "http://localhost/authconnect/token" },
        { "http://localhost/auth", "http://localhost/auth" },
        { "http://localhost/auth", "http://localhost/connect/token" },
        { "https://id.example:8443/", "https://ID.example:8443/connect/token" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task The_endpoint_found_for_an_address_is_the_one_openiddict_finds(string baseUri, string requestUri)
    {
        var options = app.Host.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        Assert.DoesNotContain(options.Handlers, d => d.ServiceDescriptor.ServiceType == typeof(OpenIddictServerHandlers.InferEndpointType));
        Assert.Contains(options.Handlers, d => d.ServiceDescriptor.ServiceType == typeof(EndpointInference));
        Assert.True(EndpointInference.Covers(options), "every endpoint address is found without OpenIddict's handler");
        await AssertSameAnswersAsync(options, baseUri, requestUri);
    }

    [Fact]
    public async Task Endpoint_addresses_that_are_not_plain_paths_are_left_to_openiddict()
    {
        var options = new OpenIddictServerOptions();
        options.TokenEndpointUris.Add(new Uri("connect/../token", UriKind.Relative));
        Assert.False(EndpointInference.Covers(options));
        options.AuthorizationEndpointUris.Add(new Uri("https://elsewhere.example/authorize"));
        await AssertSameAnswersAsync(options, "http://localhost/", "http://localhost/token", "https://elsewhere.example/authorize", "http://localhost/connect/token");

        // A leading '/' resolves from the host's root, outside a base path.
        var rooted = new OpenIddictServerOptions();
        rooted.TokenEndpointUris.Add(new Uri("/connect/token", UriKind.Relative));
        Assert.False(EndpointInference.Covers(rooted));
        await AssertSameAnswersAsync(rooted, "http://localhost/auth", "http://localhost/auth/connect/token", "http://localhost/connect/token");

        // Kinds of address the table does not list (pushed authorization requests) leave every request to OpenIddict.
        var pushed = new OpenIddictServerOptions();
        pushed.TokenEndpointUris.Add(new Uri("connect/token", UriKind.Relative));
        Assert.True(EndpointInference.Covers(pushed));
        pushed.PushedAuthorizationEndpointUris.Add(new Uri("connect/par", UriKind.Relative));
        Assert.False(EndpointInference.Covers(pushed));
        await AssertSameAnswersAsync(pushed, "http://localhost/", "http://localhost/connect/par", "http://localhost/connect/token");
    }

    private static async Task AssertSameAnswersAsync(OpenIddictServerOptions options, string baseUri, params string[] requests)
    {
        foreach (var request in requests)
        {
            var ours = Context(options, baseUri, request);
            await new EndpointInference().HandleAsync(ours);
            var theirs = Context(options, baseUri, request);
            await new OpenIddictServerHandlers.InferEndpointType().HandleAsync(theirs);
            Assert.Equal(theirs.EndpointType, ours.EndpointType);
        }
    }

    [Fact]
    public void No_scaikey_handler_shares_its_order_with_another_handler_of_its_event()
    {
        // Handlers of equal order run in whatever order OpenIddict's sort leaves them: the grant revocation handler,
        // once at the order of the handler that attaches the principal it reads, ran first after an unrelated change
        // to the handler list, and revoked nothing.
        var handlers = app.Host.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.Handlers;
        var ours = handlers.Where(d => d.ServiceDescriptor.ServiceType.Namespace?.StartsWith("ScaiKey", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(ours);
        foreach (var handler in ours)
        {
            Assert.DoesNotContain(handlers, other => other != handler && other.ContextType == handler.ContextType && other.Order == handler.Order);
        }

        var revocation = handlers.FindIndex(d => d.ServiceDescriptor.ServiceType == typeof(GrantRevocationHandler));
        Assert.True(revocation > handlers.FindIndex(d => d.ServiceDescriptor.ServiceType == typeof(OpenIddictServerHandlers.Revocation.AttachPrincipal)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_token_response_is_the_json_openiddict_would_write(bool rightSecret)
    {
        var handlers = app.Host.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.Handlers;
        Assert.Contains(handlers, d => d.ServiceDescriptor.ServiceType == typeof(TokenResponseWriter));
        Assert.DoesNotContain(handlers, d => d.ServiceDescriptor.ServiceType
            == typeof(OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<ApplyTokenResponseContext>));

        var (_, clientId, secret) = await app.CreateAdminClientAsync();
        using var client = app.Host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{clientId}:{(rightSecret ? secret : "wrong")}")));
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        var text = System.Text.Encoding.UTF8.GetString(body);
        Assert.True(rightSecret == response.IsSuccessStatusCode, text);
        Assert.Equal("application/json; charset=UTF-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());

        // Byte for byte what OpenIddict's own handler writes for the same message.
        var message = new OpenIddictResponse(System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>(text));
        Assert.Equal(text, await WriteAsync(new TokenResponseWriter(app.Host.Services.GetRequiredService<IOptionsMonitor<OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreOptions>>()), message));
        Assert.Equal(text, await WriteAsync(new OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<ApplyTokenResponseContext>(
            app.Host.Services.GetRequiredService<IOptionsMonitor<OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreOptions>>()), message));
    }

    private async Task<string> WriteAsync(IOpenIddictServerHandler<ApplyTokenResponseContext> handler, OpenIddictResponse message)
    {
        var http = new DefaultHttpContext();
        http.Response.Body = new MemoryStream();
        var transaction = new OpenIddictServerTransaction
        {
            Options = app.Host.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue,
            Logger = NullLogger.Instance,
            Response = message,
        };
        transaction.Properties[typeof(HttpRequest).FullName!] = new WeakReference<HttpRequest>(http.Request);
        await handler.HandleAsync(new ApplyTokenResponseContext(transaction));
        Assert.Equal(http.Response.Body.Length, http.Response.ContentLength);
        Assert.Equal("application/json;charset=UTF-8", http.Response.ContentType);
        return System.Text.Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());
    }

    public static TheoryData<string[]> DestinationSets => new()
    {
        Array.Empty<string>(),
        new[] { Destinations.AccessToken },
        new[] { Destinations.IdentityToken },
        new[] { Destinations.AccessToken, Destinations.IdentityToken },
    };

    [Theory]
    [MemberData(nameof(DestinationSets))]
    public void A_claim_gets_the_destinations_property_openiddict_would_write(string[] destinations)
    {
        var set = destinations switch
        {
            [] => ClaimDestinations.None,
            [Destinations.AccessToken] => ClaimDestinations.AccessToken,
            [Destinations.IdentityToken] => ClaimDestinations.IdentityToken,
            _ => ClaimDestinations.Both,
        };
        var ours = new Claim(Claims.Subject, "user");
        set.ApplyTo(ours);
        var theirs = new Claim(Claims.Subject, "user");
        theirs.SetDestinations(destinations);

        Assert.Equal(theirs.Properties, ours.Properties);
        Assert.Equal(destinations, ours.GetDestinations());

        // On a claim that had destinations, the set replaces them, as SetDestinations does.
        var reused = new Claim(Claims.Subject, "user");
        reused.SetDestinations(Destinations.AccessToken, Destinations.IdentityToken, "other");
        set.ApplyTo(reused);
        Assert.Equal(theirs.Properties, reused.Properties);
    }

    private static ProcessRequestContext Context(OpenIddictServerOptions options, string baseUri, string requestUri) =>
        new(new OpenIddictServerTransaction
        {
            Options = options,
            Logger = NullLogger.Instance,
            BaseUri = new Uri(baseUri),
            RequestUri = new Uri(requestUri),
        });
}
