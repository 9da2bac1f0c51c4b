using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using ScaiKey.Api.Security;
using ScaiKey.Api.Telemetry;
using ScaiKey.Api.Tests.Scim;

namespace ScaiKey.Api.Tests;

/// <summary>
/// The Prometheus endpoint (off by default, loopback only, forwarding headers honoured only as the trusted-proxy
/// setup resolves them) and each metric of docs/operations.md, read from /metrics after the action that moves it.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests(MetricsApp app) : IClassFixture<MetricsApp>
{
    private static Task<HttpResponseMessage> GetMetricsAsync(ScaiKeyHost host, string? address, params (string Name, string Value)[] headers) =>
        GetMetricsAsync(host, "/metrics", address, headers);

    private static Task<HttpResponseMessage> GetMetricsAsync(ScaiKeyHost host, string path, string? address, params (string Name, string Value)[] headers)
    {
        var client = host.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (address is not null)
        {
            request.Headers.Add(ClientAddress.Header, address);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return client.SendAsync(request);
    }

    [Fact]
    public async Task Metrics_endpoint_is_off_by_default()
    {
        var plain = app.StartHost(ClientAddress.Use);
        await (await GetMetricsAsync(plain, "127.0.0.1")).ShouldBeAsync(404);
        await (await GetMetricsAsync(app.Host, "127.0.0.1")).ShouldBeAsync(200); // control: switched on
        await app.StopHostAsync(plain);
    }

    [Fact]
    public async Task Metrics_answer_loopback_only_unless_addresses_are_configured()
    {
        await (await GetMetricsAsync(app.Host, "10.1.2.3")).ShouldBeAsync(404);
        await (await GetMetricsAsync(app.Host, "203.0.113.9")).ShouldBeAsync(404);
        await (await GetMetricsAsync(app.Host, null)).ShouldBeAsync(404); // no address at all
        await (await GetMetricsAsync(app.Host, "127.0.0.1")).ShouldBeAsync(200);
        await (await GetMetricsAsync(app.Host, "::1")).ShouldBeAsync(200);

        var configured = app.StartHost(b =>
        {
            MetricsApp.Configure(b);
            b.UseSetting("ScaiKey:Metrics:AllowedAddresses", "10.0.0.0/8, 192.0.2.7");
        });
        await (await GetMetricsAsync(configured, "10.1.2.3")).ShouldBeAsync(200);
        await (await GetMetricsAsync(configured, "192.0.2.7")).ShouldBeAsync(200);
        await (await GetMetricsAsync(configured, "127.0.0.1")).ShouldBeAsync(404); // the list replaces loopback
        await app.StopHostAsync(configured);
    }

    [Fact]
    public async Task Forwarding_headers_count_only_as_a_trusted_proxy_resolved_them()
    {
        // No proxy trusted: a forwarded request came through a proxy nobody configured (it would look like loopback).
        await (await GetMetricsAsync(app.Host, "127.0.0.1", ("X-Forwarded-For", "127.0.0.1"))).ShouldBeAsync(404);
        await (await GetMetricsAsync(app.Host, "127.0.0.1", ("Forwarded", "for=127.0.0.1"))).ShouldBeAsync(404);
        // Attacker's review: the trailing-slash route and X-Real-IP are forwarded requests too (control: /metrics/ itself answers).
        await (await GetMetricsAsync(app.Host, "/metrics/", "127.0.0.1", ("X-Forwarded-For", "127.0.0.1"))).ShouldBeAsync(404);
        await (await GetMetricsAsync(app.Host, "127.0.0.1", ("X-Real-IP", "127.0.0.1"))).ShouldBeAsync(404);
        await (await GetMetricsAsync(app.Host, "/metrics/", "127.0.0.1")).ShouldBeAsync(200);

        var proxied = app.StartHost(b =>
        {
            MetricsApp.Configure(b);
            b.UseSetting("ScaiKey:TrustedProxies", "127.0.0.1");
        });
        await (await GetMetricsAsync(proxied, "127.0.0.1", ("X-Forwarded-For", "203.0.113.9"))).ShouldBeAsync(404); // the client is 203.0.113.9
        await (await GetMetricsAsync(proxied, "127.0.0.1", ("X-Forwarded-For", "127.0.0.1, 203.0.113.9"))).ShouldBeAsync(404); // spoofed left of it
        await (await GetMetricsAsync(proxied, "10.9.9.9", ("X-Forwarded-For", "127.0.0.1"))).ShouldBeAsync(404); // from an untrusted peer
        await (await GetMetricsAsync(proxied, "127.0.0.1", ("X-Forwarded-For", "::1"))).ShouldBeAsync(200); // a loopback client behind it
        await app.StopHostAsync(proxied);
    }

    [Theory]
    [InlineData("10.0.0.1/8")]
    [InlineData("localhost")]
    [InlineData("10.0.0.0/8,nonsense")]
    public void A_wrong_allowed_address_stops_the_start_with_one_line_naming_the_key(string value)
    {
        // Checked whether or not the endpoint is on; off here, so the host that fails to start holds no meter provider.
        var error = Assert.ThrowsAny<Exception>(() => app.StartHost(b =>
        {
            MetricsApp.Configure(b);
            b.UseSetting("ScaiKey:Metrics:Enabled", "false");
            b.UseSetting("ScaiKey:Metrics:AllowedAddresses", value);
        }));
        var message = error is AggregateException { InnerException: { } inner } ? inner.Message : error.Message;
        Assert.Contains("ScaiKey:Metrics:AllowedAddresses", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message.Trim());
    }

    [Fact]
    public async Task Password_sign_ins_count_by_outcome_reason_and_channel_and_tokens_by_grant_type()
    {
        var client = await PasswordGrantApp.CreateAsync(app);
        var email = $"u{Guid.NewGuid():N}@example.com";
        await client.CreateUserAsync(app, email);
        using var http = app.Anonymous();
        var before = await MetricsScrape.ReadAsync(app.Host);

        var tokens = await client.SignInAsync(http, email);
        await (await client.RefreshAsync(http, tokens["refresh_token"]!.GetValue<string>())).ShouldBeAsync(200);
        await client.ClientTokenAsync(http);
        using (var wrong = client.Post("/connect/token", new() { ["grant_type"] = "password", ["username"] = email, ["password"] = "Not-The-Password-1!" }))
        {
            await (await http.SendAsync(wrong)).ShouldBeAsync(400);
        }

        using (var unknown = client.Post("/connect/token", new() { ["grant_type"] = "password", ["username"] = "nobody@example.com", ["password"] = "Not-The-Password-1!" }))
        {
            await (await http.SendAsync(unknown)).ShouldBeAsync(400);
        }

        var after = await MetricsScrape.ReadAsync(app.Host);
        double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.True(1 == Delta("scaikey_signins_total", ("outcome", "success"), ("channel", "password_grant")), after.Text);
        Assert.Equal(1, Delta("scaikey_signins_total", ("outcome", "failure"), ("reason", "wrong_password"), ("channel", "password_grant")));
        Assert.Equal(1, Delta("scaikey_signins_total", ("outcome", "failure"), ("reason", "unknown_email"), ("channel", "password_grant")));
        Assert.Equal(1, Delta("scaikey_tokens_issued_total", ("grant_type", "password")));
        Assert.Equal(1, Delta("scaikey_tokens_issued_total", ("grant_type", "refresh_token")));
        Assert.Equal(1, Delta("scaikey_tokens_issued_total", ("grant_type", "client_credentials")));
        Assert.Equal(0, Delta("scaikey_lockouts_total"));
    }

    [Fact]
    public async Task Hosted_login_sign_ins_count_under_the_hosted_channel_and_the_code_under_its_grant_type()
    {
        var client = await OidcTestClient.CreateAsync(app);
        var email = $"u{Guid.NewGuid():N}@example.com";
        await client.CreateUserAsync(app, email);
        using var browser = client.Browser(app);
        var html = await (await browser.GetAsync($"/t/{client.Slug}/login")).Content.ReadAsStringAsync();
        var before = await MetricsScrape.ReadAsync(app.Host);

        // The login form posted as a browser does: refused twice (the form again), then the code flow through it.
        foreach (var (who, password) in new[] { (email, "Not-The-Password-1!"), ("nobody@example.com", "Not-The-Password-1!") })
        {
            var refused = await browser.PostAsync($"/t/{client.Slug}/login", Forms.From(html, ("email", who), ("password", password)));
            await refused.ShouldBeAsync(200);
        }

        await client.SignInAsync(app, email, browser: browser);
        var after = await MetricsScrape.ReadAsync(app.Host);

        double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.True(1 == Delta("scaikey_signins_total", ("outcome", "success"), ("channel", "hosted")), after.Text);
        Assert.Equal(1, Delta("scaikey_signins_total", ("outcome", "failure"), ("reason", "wrong_password"), ("channel", "hosted")));
        Assert.Equal(1, Delta("scaikey_signins_total", ("outcome", "failure"), ("reason", "unknown_email"), ("channel", "hosted")));
        Assert.Equal(0, Delta("scaikey_signins_total", ("channel", "password_grant"))); // control: not the token endpoint's
        Assert.Equal(1, Delta("scaikey_tokens_issued_total", ("grant_type", "authorization_code")));
        Assert.Equal(0, Delta("scaikey_tokens_issued_total", ("grant_type", "password")));
    }

    [Fact]
    public async Task Request_duration_is_reported_by_route()
    {
        // ASP.NET Core's meter is its host's, and the provider takes the newest host's of the process: a fresh host.
        var host = app.StartHost(MetricsApp.Configure);
        for (var i = 0; i < 3; i++)
        {
            await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        }

        var scrape = await MetricsScrape.ReadAsync(host);
        Assert.True(scrape.Sum("http_server_request_duration_seconds_count", ("http_route", "/connect/token"), ("http_response_status_code", "200")) == 3,
            scrape.Text);
        Assert.Equal(0, scrape.Sum("http_server_request_duration_seconds_count", ("http_route", "/metrics"))); // the scrapes themselves are not
        await app.StopHostAsync(host);
    }

    [Fact]
    public async Task A_lockout_is_counted_once_and_the_locked_account_fails_with_reason_locked()
    {
        var client = await PasswordGrantApp.CreateAsync(app);
        using (var admin = await app.AdminAsync())
        {
            await (await admin.PatchAsync($"/api/v1/admin/tenants/{client.TenantId}",
                HttpAssertions.Json(new { settings = new { lockout_policy = new { max_failed_attempts = 2, lockout_duration_minutes = 30 } } }))).ShouldBeAsync(200);
        }

        var email = $"u{Guid.NewGuid():N}@example.com";
        await client.CreateUserAsync(app, email);
        using var http = app.Anonymous();
        var before = await MetricsScrape.ReadAsync(app.Host);
        for (var i = 0; i < 3; i++)
        {
            using var wrong = client.Post("/connect/token", new() { ["grant_type"] = "password", ["username"] = email, ["password"] = "Not-The-Password-1!" });
            await (await http.SendAsync(wrong)).ShouldBeAsync(400);
        }

        var after = await MetricsScrape.ReadAsync(app.Host);
        Assert.Equal(1, after.Sum("scaikey_lockouts_total") - before.Sum("scaikey_lockouts_total"));
        Assert.Equal(2, after.Sum("scaikey_signins_total", ("reason", "wrong_password")) - before.Sum("scaikey_signins_total", ("reason", "wrong_password")));
        Assert.Equal(1, after.Sum("scaikey_signins_total", ("reason", "locked"), ("channel", "password_grant"))
            - before.Sum("scaikey_signins_total", ("reason", "locked"), ("channel", "password_grant")));
    }

    [Fact]
    public async Task Hashing_queue_depth_and_wait_are_reported()
    {
        var gate = app.Host.Services.GetRequiredService<HashingGate>();
        var before = await MetricsScrape.ReadAsync(app.Host);
        using var release = new ManualResetEventSlim();

        // Every hashing thread held, then one more hash: it waits in the queue.
        var holding = Enumerable.Range(0, gate.Threads).Select(_ => gate.RunAsync(() => release.Wait(TimeSpan.FromMinutes(1)), CancellationToken.None)).ToList();
        var waiting = gate.RunAsync(() => true, CancellationToken.None);
        var during = await MetricsScrape.ReadAsync(app.Host);
        release.Set();
        await Task.WhenAll(holding);
        await waiting;
        var after = await MetricsScrape.ReadAsync(app.Host);

        Assert.True(during.Sum("scaikey_hashing_queue_depth") >= 1, during.Text);
        Assert.Equal(0, after.Sum("scaikey_hashing_queue_depth"));
        Assert.Equal(gate.Threads + 1, after.Sum("scaikey_hashing_queue_wait_seconds_count") - before.Sum("scaikey_hashing_queue_wait_seconds_count"));
        Assert.True(after.Sum("scaikey_hashing_queue_wait_seconds_sum") > before.Sum("scaikey_hashing_queue_wait_seconds_sum"));
    }

    [Fact]
    public async Task Outbox_backlog_and_oldest_age_are_the_undelivered_messages()
    {
        // Tests send no mail (no SMTP host): an invitation stays in the outbox.
        var tenant = await app.CreateTenantAsync();
        await app.CreateUserIdAsync(tenant);
        var (count, oldest) = await app.DbAsync(async db =>
        {
            var pending = db.EmailOutbox.Where(m => m.SentAt == null && m.FailedAt == null);
            return (pending.LongCount(), pending.Min(m => m.CreatedAt));
        });
        var earliest = (DateTime.UtcNow - oldest).TotalSeconds;
        var scrape = await MetricsScrape.ReadAsync(app.Host);
        var latest = (DateTime.UtcNow - oldest).TotalSeconds;

        Assert.True(count >= 1);
        Assert.Equal(count, scrape.Sum("scaikey_outbox_backlog"));
        var age = scrape.Sum("scaikey_outbox_oldest_age_seconds");
        Assert.InRange(age, earliest - 0.01, latest + 0.01);
    }

    [Fact]
    public async Task The_outbox_is_read_at_most_every_few_seconds_however_often_it_is_scraped()
    {
        var backlog = new OutboxBacklog(app.Host.Services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<OutboxBacklog>.Instance);
        var first = backlog.Read();
        await app.CreateUserIdAsync(await app.CreateTenantAsync()); // one more message
        Assert.Equal(first, backlog.Read()); // the cached reading
        Assert.Equal(first.Backlog + 1, new OutboxBacklog(app.Host.Services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<OutboxBacklog>.Instance).Read().Backlog); // control: a fresh read sees it
    }

    [Fact]
    public async Task Cache_look_ups_count_hits_and_misses_by_cache()
    {
        var client = await PasswordGrantApp.CreateAsync(app);
        var email = $"u{Guid.NewGuid():N}@example.com";
        await client.CreateUserAsync(app, email);
        using var http = app.Anonymous();
        var before = await MetricsScrape.ReadAsync(app.Host);
        await client.SignInAsync(http, email); // a new client: its application is read and cached
        var between = await MetricsScrape.ReadAsync(app.Host);
        await client.SignInAsync(http, email);
        var after = await MetricsScrape.ReadAsync(app.Host);

        static (string, string)[] Of(string cache, string result) => [("cache", cache), ("result", result)];
        Assert.True(between.Sum("scaikey_cache_requests_total", Of("client-application", "miss")) > before.Sum("scaikey_cache_requests_total", Of("client-application", "miss")), between.Text);
        Assert.True(after.Sum("scaikey_cache_requests_total", Of("client-application", "hit")) > between.Sum("scaikey_cache_requests_total", Of("client-application", "hit")), after.Text);

        // The bearer tokens' own cache: a second call with the same token is a hit.
        using var admin = await app.AdminAsync();
        await (await admin.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);
        var once = await MetricsScrape.ReadAsync(app.Host);
        await (await admin.GetAsync("/api/v1/admin/tenants")).ShouldBeAsync(200);
        var twice = await MetricsScrape.ReadAsync(app.Host);
        Assert.True(twice.Sum("scaikey_cache_requests_total", Of("validated-token", "hit")) > once.Sum("scaikey_cache_requests_total", Of("validated-token", "hit")));
    }

    [Fact]
    public async Task Scim_operations_count_each_change_by_resource_and_operation_in_bulk_too()
    {
        var (_, _, scim) = await ScimKit.TenantAsync(app);
        var before = await MetricsScrape.ReadAsync(app.Host);

        var user = await ScimKit.CreateUserAsync(scim);
        await (await scim.SendAsync(HttpMethod.Patch, "/scim/v2/Users/" + user["id"]!.GetValue<string>(), ScimKit.Patch(
            new JsonObject { ["op"] = "replace", ["path"] = "displayName", ["value"] = "Counted" }))).ShouldBeAsync(200);
        await (await scim.SendAsync(HttpMethod.Post, "/scim/v2/Bulk", new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:BulkRequest"),
            ["Operations"] = new JsonArray(new JsonObject
            {
                ["method"] = "POST", ["path"] = "/Groups", ["bulkId"] = "g1",
                ["data"] = new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"), ["displayName"] = "Counted group" },
            }),
        })).ShouldBeAsync(200);
        await (await scim.SendAsync(HttpMethod.Get, "/scim/v2/Users/" + user["id"]!.GetValue<string>())).ShouldBeAsync(200); // a read counts nothing
        var after = await MetricsScrape.ReadAsync(app.Host);

        double Delta(string resource, string operation) =>
            after.Sum("scaikey_scim_operations_total", ("resource", resource), ("operation", operation))
            - before.Sum("scaikey_scim_operations_total", ("resource", resource), ("operation", operation));
        Assert.Equal(1, Delta("User", "create"));
        Assert.Equal(1, Delta("User", "patch"));
        Assert.Equal(1, Delta("Group", "create"));
        Assert.Equal(0, Delta("User", "delete"));
    }
}

/// <summary>
/// The telemetry tests run alone, and a test reads /metrics only while its host is the only one with metrics on:
/// OpenTelemetry's meter provider matches instruments by meter name, so a second host in the process (a service
/// runs one) would mix its instruments into the first one's readings.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}
