namespace ScaiKey.Api.Tests;

/// <summary>Request ids, problem+json for framework errors, health endpoints.</summary>
public sealed class HttpConventionsTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task A_given_request_id_is_echoed_in_the_header_meta_and_audit()
    {
        using var admin = await app.AdminAsync();
        var tenant = await app.CreateTenantAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/tenants/{tenant}/users")
        {
            Content = HttpAssertions.Json(new { email = "req@example.com" }),
        };
        request.Headers.Add("X-Request-ID", "trace-abc-123");
        var response = await admin.SendAsync(request);
        var json = await response.ReadJsonAsync(201);
        Assert.Equal("trace-abc-123", response.Headers.GetValues("X-Request-ID").Single());
        Assert.Equal("trace-abc-123", json["meta"]!["request_id"]!.GetValue<string>());
        Assert.True(json["meta"]!["timestamp"]!.GetValue<DateTime>() > DateTime.UtcNow.AddMinutes(-1));
        var audit = await (await admin.GetAsync($"/api/v1/tenants/{tenant}/audit-events?action=user.created")).ReadJsonAsync(200);
        Assert.Equal("trace-abc-123", audit["data"]![0]!["request_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unusable_request_id_is_replaced_by_a_generated_one()
    {
        using var admin = await app.AdminAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/admin/tenants");
        request.Headers.TryAddWithoutValidation("X-Request-ID", new string('x', 129));
        var response = await admin.SendAsync(request);
        var json = await response.ReadJsonAsync(200);
        var id = response.Headers.GetValues("X-Request-ID").Single();
        Assert.NotEqual(new string('x', 129), id);
        Assert.Equal(id, json["meta"]!["request_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Errors_carry_the_request_id()
    {
        using var admin = await app.AdminAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/admin/tenants/{Guid.NewGuid()}");
        request.Headers.Add("X-Request-ID", "trace-404");
        var problem = await (await admin.SendAsync(request)).ReadProblemAsync(404);
        Assert.Equal("trace-404", problem["request_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_route_and_wrong_method_are_problem_json()
    {
        using var admin = await app.AdminAsync();
        await (await admin.GetAsync("/api/v1/nothing-here")).ReadProblemAsync(404);
        await (await admin.PutAsync("/api/v1/admin/tenants", HttpAssertions.Json(new { }))).ReadProblemAsync(405);
    }

    [Fact]
    public async Task Health_endpoints_need_no_token()
    {
        using var client = app.Anonymous();
        Assert.Equal("ok", (await (await client.GetAsync("/healthz")).ReadJsonAsync(200))["status"]!.GetValue<string>());
        Assert.Equal("ok", (await (await client.GetAsync("/readyz")).ReadJsonAsync(200))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Every_api_route_requires_a_token()
    {
        using var client = app.Anonymous();
        var tenant = Guid.NewGuid();
        foreach (var path in new[]
        {
            "/api/v1/admin/users/", "/api/v1/admin/partners", "/api/v1/admin/tenants", $"/api/v1/tenants/{tenant}/users",
            $"/api/v1/tenants/{tenant}/ous", $"/api/v1/tenants/{tenant}/groups", $"/api/v1/tenants/{tenant}/audit-events",
        })
        {
            await (await client.GetAsync(path)).ReadProblemAsync(401);
        }
    }
}
