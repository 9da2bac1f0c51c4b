using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenIddict.Server;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Tests;

/// <summary>
/// <see cref="IndexedServerDispatcher"/> against OpenIddict's own dispatcher, over the same protocol requests: two
/// instances on one database, one with each dispatcher, must run the same handlers in the same order for every request
/// (both log each handler they run, and each stop, at Debug under OpenIddict's dispatcher category) and answer alike.
/// <see cref="ServerDispatcherTests"/> checks the index's tables; this checks what the dispatch does with them
/// (filters asked in turn, a handled, skipped or rejected request stopping its event), including on error paths.
/// </summary>
public sealed partial class ServerDispatcherDifferentialTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";
    private const string DispatcherCategory = "OpenIddict.Server.OpenIddictServerDispatcher";

    [Fact]
    public async Task OpenIddicts_dispatcher_and_the_indexed_one_run_the_same_handlers_and_answer_alike()
    {
        var tenant = await app.CreateTenantAsync();
        var email = $"dispatch-{Guid.NewGuid():N}@example.com";
        await app.CreateUserIdAsync(tenant, email, Password);
        using var admin = await app.AdminAsync();
        var web = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications", new
        {
            name = "Dispatch portal",
            type = "WEB",
            redirect_uris = new[] { "https://portal.example.com/callback" },
            grant_types = new[] { "authorization_code", "refresh_token", "password" },
        })).ReadJsonAsync(201))["data"]!;
        var service = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant}/applications",
            new { name = "Dispatch service", type = "SERVICE" })).ReadJsonAsync(201))["data"]!;
        var webClient = (web["client_id"]!.GetValue<string>(), web["client_secret"]!.GetValue<string>());
        var serviceClient = (service["client_id"]!.GetValue<string>(), service["client_secret"]!.GetValue<string>());

        var indexedLog = new DispatchLog();
        var indexed = app.StartHost(b => Capture(b, indexedLog));
        var referenceLog = new DispatchLog();
        var reference = app.StartHost(b =>
        {
            Capture(b, referenceLog);
            b.ConfigureTestServices(s => s.Replace(ServiceDescriptor.Scoped<IOpenIddictServerDispatcher, OpenIddictServerDispatcher>()));
        });
        using (var scope = reference.Services.CreateScope())
        {
            Assert.IsType<OpenIddictServerDispatcher>(scope.ServiceProvider.GetRequiredService<IOpenIddictServerDispatcher>());
        }

        // Each step may read what earlier steps of the same instance answered (its tokens).
        var steps = new (string Name, Func<Dictionary<string, string>, HttpRequestMessage> Request)[]
        {
            ("discovery", _ => new(HttpMethod.Get, "/.well-known/openid-configuration")),
            ("jwks", state => new(HttpMethod.Get, state["jwks"])),
            ("client credentials", _ => Token(serviceClient, new() { ["grant_type"] = "client_credentials" })),
            ("client credentials, wrong secret", _ => Token((serviceClient.Item1, "wrong-secret"), new() { ["grant_type"] = "client_credentials" })),
            ("unknown grant type", _ => Token(serviceClient, new() { ["grant_type"] = "urn:example:unknown" })),
            ("no grant type", _ => Token(serviceClient, [])),
            ("password", _ => Token(webClient, new()
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = Password, ["scope"] = "openid email offline_access",
            })),
            ("password, wrong password", _ => Token(webClient, new()
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = "Wrong-" + Password, ["scope"] = "openid",
            })),
            ("password grant to a service client", _ => Token(serviceClient, new()
            {
                ["grant_type"] = "password", ["username"] = email, ["password"] = Password,
            })),
            ("refresh", state => Token(webClient, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = state["refresh_token"] })),
            ("refresh, unknown token", _ => Token(webClient, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = "not-a-token" })),
            ("userinfo", state => Bearer("/connect/userinfo", state["access_token"])),
            ("userinfo, no token", _ => new(HttpMethod.Get, "/connect/userinfo")),
            ("introspection", state => Form("/connect/introspect", webClient, new() { ["token"] = state["access_token"] })),
            ("revocation", state => Form("/connect/revoke", webClient, new() { ["token"] = state["refresh_token"] })),
            ("refresh after revocation", state => Token(webClient, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = state["refresh_token"] })),
            ("authorize, no session", _ => new(HttpMethod.Get,
                $"/connect/authorize?client_id={webClient.Item1}&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fportal.example.com%2Fcallback&state=s1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")),
            ("authorize, unknown client", _ => new(HttpMethod.Get,
                "/connect/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fportal.example.com%2Fcallback")),
            ("logout without id_token_hint", _ => new(HttpMethod.Get, "/connect/logout")),
        };

        var indexedState = new Dictionary<string, string>();
        var referenceState = new Dictionary<string, string>();
        var indexedLines = new List<string>();
        foreach (var (name, request) in steps)
        {
            var (indexedStatus, indexedBody, indexedRan) = await RunAsync(indexed, indexedLog, indexedState, request);
            var (referenceStatus, referenceBody, referenceRan) = await RunAsync(reference, referenceLog, referenceState, request);

            Assert.True(referenceRan.Count > 0, $"{name}: OpenIddict's dispatcher logged no handler (is the capture on?)");
            Assert.True(referenceRan.SequenceEqual(indexedRan),
                $"{name}: the dispatchers ran different handlers.\n--- OpenIddict's ---\n{string.Join('\n', referenceRan)}\n--- indexed ---\n{string.Join('\n', indexedRan)}");
            Assert.True(referenceStatus == indexedStatus, $"{name}: {referenceStatus} from OpenIddict's dispatcher, {indexedStatus} from the indexed one: {indexedBody}");
            Assert.Equal(Shape(referenceBody), Shape(indexedBody));
            indexedLines.AddRange(indexedRan);
        }

        Assert.True(indexedLines.Count > 500, $"only {indexedLines.Count} dispatcher lines over {steps.Length} requests");
        Assert.Contains(indexedLines, line => line.Contains("was marked as rejected", StringComparison.Ordinal));
        Assert.Contains(indexedLines, line => line.Contains("was marked as handled", StringComparison.Ordinal));
    }

    private static async Task<(int Status, string Body, List<string> Ran)> RunAsync(
        ScaiKeyHost host, DispatchLog log, Dictionary<string, string> state, Func<Dictionary<string, string>, HttpRequestMessage> step)
    {
        using var client = host.CreateClient(new() { AllowAutoRedirect = false });
        using var request = step(state);
        log.Clear();
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var ran = log.Take();
        if (response.Content.Headers.ContentType?.MediaType == "application/json" && body.StartsWith('{'))
        {
            var json = JsonNode.Parse(body)!.AsObject();
            foreach (var key in new[] { "access_token", "refresh_token" })
            {
                if (json[key] is { } token)
                {
                    state[key] = token.GetValue<string>();
                }
            }

            if (json["jwks_uri"] is { } jwks)
            {
                state["jwks"] = new Uri(jwks.GetValue<string>()).PathAndQuery;
            }
        }

        return ((int)response.StatusCode, body, ran);
    }

    // What must agree between the two answers: an error body whole (its codes and descriptions), a success body's
    // field names (tokens, times and ids differ from one issuance to the next), and a page only by being a page.
    private static string Shape(string body)
    {
        if (!body.StartsWith('{'))
        {
            return body.Length == 0 ? "(empty)" : "(page)";
        }

        var json = JsonNode.Parse(body)!.AsObject();
        return json.ContainsKey("error") ? json.ToJsonString() : string.Join(',', json.Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    private static HttpRequestMessage Token((string Id, string Secret) client, Dictionary<string, string> form) =>
        Form("/connect/token", client, form);

    private static HttpRequestMessage Form(string path, (string Id, string Secret) client, Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{client.Id}:{client.Secret}")));
        return request;
    }

    private static HttpRequestMessage Bearer(string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    // Debug for the dispatcher's category in this provider only, so the console stays as it is.
    private static void Capture(IWebHostBuilder builder, DispatchLog log) => builder.ConfigureLogging(logging => logging
        .AddProvider(log)
        .AddFilter<DispatchLog>(DispatcherCategory, LogLevel.Debug));

    [GeneratedRegex(@"^(The event \S+ was (successfully processed|marked as (handled|skipped|rejected)) by \S+\.|An exception was thrown by \S+ while handling the \S+ event\.)$")]
    private static partial Regex DispatcherLine();

    /// <summary>The dispatcher's lines, in order: each handler that ran and each stop ("marked as handled", ...).</summary>
    private sealed class DispatchLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public void Clear() => _lines.Clear();

        public List<string> Take()
        {
            var lines = _lines.ToList();
            _lines.Clear();
            return lines;
        }

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName == DispatcherCategory ? this : null);

        public void Dispose()
        {
        }

        private sealed class Logger(DispatchLog? log) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => log is not null;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (log is null)
                {
                    return;
                }

                // Handlers log under the same category (the responses they return, with their tokens); only the
                // dispatcher's own lines are compared.
                var line = formatter(state, exception);
                if (!DispatcherLine().IsMatch(line))
                {
                    return;
                }

                log._lines.Enqueue(line);
            }
        }
    }
}
